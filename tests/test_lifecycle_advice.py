"""Rhythm states, probability policies and the backtest, at their edges.

Each rule is checked where it could break (one purchase, all customers tied, a 20-customer shop,
the floor itself), and the backtest is checked to fail when the advice is wrong.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierwise.backtest import checks, compare, outcomes
from tierwise.config import ActivityConfig, Config
from tierwise.i18n.render import add_words
from tierwise.lifecycle import (
    Rhythm,
    activity_mode,
    assign_policies,
    call_on_warnings,
    classify_activity,
    policy_basis,
    protect_accounts,
    rhythm_probability,
)


def _frame(freq, rec, silence, T=None) -> pd.DataFrame:
    n = len(freq)
    return pd.DataFrame({"customer_key": np.arange(1, n + 1), "frequency": freq,
                         "recency": rec, "days_since_last": silence,
                         "T": T if T is not None else np.asarray(rec) + np.asarray(silence)})


def test_one_purchase_customers_get_the_population_gap():
    f = _frame([0, 4, 4], [0, 40, 80], [30, 5, 5])
    gaps = Rhythm().fit(f).transform(f)
    population = Rhythm().fit(f).params_["population_gap_days"]
    assert gaps["expected_gap_days"].iloc[0] == pytest.approx(population)
    assert gaps["gap_weight"].iloc[0] == 0


def test_nobody_bought_twice_still_gives_a_rhythm_and_states():
    f = _frame([0, 0, 0], [0, 0, 0], [10, 50, 300])
    out = classify_activity(f, ActivityConfig(mode="rhythm"))
    assert out["expected_gap_days"].notna().all()
    assert out["activity_state"].tolist()[0] == "normal"   # 10 days of a median silence of 50
    assert out["gaps_missed"].is_monotonic_increasing


def test_all_customers_tied_share_one_gap_and_one_state():
    f = _frame([3] * 30, [60] * 30, [25] * 30)
    out = classify_activity(f, ActivityConfig(mode="rhythm"))
    assert out["expected_gap_days"].nunique() == 1
    assert out["activity_state"].nunique() == 1


def test_few_purchases_shrink_toward_the_population_many_keep_their_own():
    spread = np.geomspace(10, 200, 50)              # regulars whose own gaps differ a lot
    freq = [1] * 50 + [20] * 50 + [1, 20]
    rec = [30] * 50 + list(20 * spread) + [300, 6000]   # last two: a 300-day gap, once / 20 times
    f = _frame(freq, rec, [10] * 102)
    gaps = Rhythm().fit(f).transform(f)
    once, often = gaps["expected_gap_days"].iloc[-2], gaps["expected_gap_days"].iloc[-1]
    assert once < often            # one long gap is pulled toward the population's
    assert often == pytest.approx(300, rel=0.25)


def test_a_twenty_customer_shop_uses_the_rhythm_and_says_why():
    f = _frame([0] * 15 + [3] * 5, [0] * 15 + [12] * 5, [3] * 20)   # 5 regulars, every 4 days
    _, choice = activity_mode(f, ActivityConfig())
    assert choice.requested == "auto" and choice.mode == "rhythm"
    assert "too few regulars" in choice.reason
    out = classify_activity(f, ActivityConfig())
    assert out["activity_state"].notna().all()


def test_auto_picks_the_visit_bands_only_where_regulars_visit_often():
    frequent = _frame([40] * 60, [160] * 60, [2] * 60)     # a visit every 4 days
    slow = _frame([4] * 60, [360] * 60, [2] * 60)           # every 90 days
    assert activity_mode(frequent, ActivityConfig())[1].mode == "absolute"
    assert activity_mode(slow, ActivityConfig())[1].mode == "rhythm"
    assert activity_mode(slow, ActivityConfig(mode="absolute"))[1].mode == "absolute"


def test_policy_floor_is_a_strict_lower_bound():
    cfg = ActivityConfig(policy_floor=0.1)
    f = pd.DataFrame({"activity_state": ["dead", "dead", "buried", "normal", "shock"],
                      "policy_probability": [0.1, 0.0999, 0.01, 0.01, 0.5]})
    out = assign_policies(f, cfg)
    assert out["activity_policy"].tolist() == ["wake_up", "do_not_contact", "archive",
                                               "maintain", "wake_up"]
    assert out["policy_basis"].eq("model").all()
    worded = add_words(out)
    assert worded["policy_reason"].str.contains("floor 10 %").all()
    assert worded["policy_reason_zh"].str.contains("底线 10 %").all()
    assert out["policy_reason_code"].eq("chance").all()
    assert [c for c in out.columns if c.endswith(("_zh", "_en"))] == []


def test_rhythm_basis_when_no_model_can_be_trusted():
    assert policy_basis({"method": "historical-rate", "model": None})[0] == "rhythm"
    assert policy_basis({"method": "bgnbd+gg", "model": "bgnbd", "confidence": "low"})[0] \
        == "rhythm"
    assert policy_basis({"method": "bgnbd+gg", "model": "bgnbd", "confidence": "high"})[0] \
        == "model"
    f = pd.DataFrame({"activity_state": ["normal", "dead"], "days_since_last": [5, 400],
                      "expected_gap_days": [30.0, 30.0]})
    out = assign_policies(f, basis="rhythm")
    assert out["activity_policy"].tolist() == ["maintain", "do_not_contact"]
    p = rhythm_probability(pd.Series([0.0]), pd.Series([30.0]), 90)
    assert p.iloc[0] == pytest.approx(1 - np.exp(-3))


def test_key_and_major_accounts_are_never_silenced():
    f = pd.DataFrame({"customer_key": [1, 2, 3], "tier": ["key", "major", "ordinary"],
                      "activity_state": ["dead", "buried", "dead"],
                      "policy_probability": [0.01, 0.01, 0.01]})
    out = protect_accounts(assign_policies(f), Config())
    assert out["activity_policy"].tolist() == ["call", "call", "do_not_contact"]
    assert add_words(out)["policy_reason"].iloc[0].startswith("key or major account: never")
    warnings = pd.DataFrame({"customer_key": [2], "kind": ["silence"], "period": ["2026-Q1"],
                             "current": [90.0], "reference": [20.0], "change_pct": [350.0],
                             "window": [None]})
    normal = out.assign(activity_policy=["maintain", "maintain", "maintain"])
    called = call_on_warnings(normal, warnings, Config())
    assert called["activity_policy"].tolist() == ["maintain", "call", "maintain"]
    assert called["policy_reason_code"].tolist() == ["protected", "warning", "chance"]
    worded = add_words(called)
    assert worded["policy_reason"].iloc[1].startswith("early warning: no order for 90 days, "
                                                      "usually one every 20 days (4.5 x")
    assert worded["policy_reason_zh"].iloc[1].startswith("预警：已 90 天未下单")


def _replayed(n: int, silenced_buy: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A planted population: half told to be left alone, half to be kept, and who bought."""
    keys = np.arange(1, n + 1)
    policy = np.where(keys % 2 == 0, "do_not_contact", "maintain")
    likelihood = np.where(policy == "do_not_contact", 0.05, 0.8)
    replayed = pd.DataFrame({"customer_key": keys, "activity_policy": policy,
                             "activity_state": np.where(policy == "maintain", "normal", "dead"),
                             "purchase_likelihood": likelihood})
    buyers = keys[(policy == "do_not_contact") == silenced_buy]
    orders = pd.DataFrame({"customer_key": buyers, "ordered_at": pd.Timestamp("2024-02-01"),
                           "amount": 10.0, "is_refund": False})
    return replayed, outcomes(orders, pd.Timestamp("2024-01-01").date(),
                              pd.Timestamp("2024-03-31").date())


def test_the_backtest_shows_advice_that_held():
    replayed, after = _replayed(200, silenced_buy=False)
    groups, calibration = compare(replayed, after)
    c = checks(groups, calibration)
    assert c["silenced_share"] == 0 and c["policies_ordered"] is True
    assert c["calibration_max_gap"] == pytest.approx(0.2)


def test_the_backtest_fails_when_the_advice_is_wrong():
    replayed, after = _replayed(200, silenced_buy=True)
    groups, calibration = compare(replayed, after)
    c = checks(groups, calibration)
    assert c["silenced_share"] == 1.0
    assert c["policies_ordered"] is False
    assert c["calibration_max_gap"] == pytest.approx(0.95)
    row = groups[(groups["dimension"] == "activity_policy") & (groups["group"] == "maintain")]
    assert row["bought_again"].item() == 0 and row["revenue"].item() == 0


def test_refunds_in_the_horizon_are_not_a_purchase():
    orders = pd.DataFrame({"customer_key": [1, 2], "ordered_at": pd.to_datetime(
        ["2024-02-01", "2024-02-01"]), "amount": [-5.0, 7.0], "is_refund": [True, False]})
    got = outcomes(orders, pd.Timestamp("2024-01-31").date(), pd.Timestamp("2024-02-01").date())
    assert got["bought"].to_dict() == {1: False, 2: True}
    assert got["revenue"].to_dict() == {1: -5.0, 2: 7.0}


def _reasons_per_row(frame, policy, prob, basis, cfg):
    """The policy reasons' JSON as the per-row loop wrote it (the reference for the column
    form, issue 16)."""
    import json

    from tierwise._json import json_figures
    from tierwise.lifecycle._frames import _num

    h, floor = cfg.policy_horizon_days, cfg.policy_floor
    nan = pd.Series(np.nan, index=frame.index)
    missed = _num(frame, "gaps_missed") if "gaps_missed" in frame else nan
    gap = _num(frame, "expected_gap_days") if "expected_gap_days" in frame else nan
    alive = _num(frame, "p_alive") if "p_alive" in frame else nan
    chance = (f', "horizon": {json.dumps(h)}, "basis": {json.dumps(basis)}, '
              f'"floor": {json.dumps(floor)}}}]')
    p_txt, m_txt, g_txt, a_txt = (json_figures(np.asarray(v, dtype=float), nonfinite="null")
                                  for v in (prob, missed, gap, alive))
    has_m = np.isfinite(missed.to_numpy(dtype=float))
    has_a = np.isfinite(alive.to_numpy(dtype=float))
    out = []
    for i, pol in enumerate(policy):
        if pol is None:
            out.append(None)
            continue
        text = f'[["reason.chance", {{"p": {p_txt[i]}{chance}'
        if has_m[i]:
            text += f', ["reason.rhythm", {{"missed": {m_txt[i]}, "gap": {g_txt[i]}}}]'
        if has_a[i]:
            text += f', ["reason.alive", {{"p": {a_txt[i]}}}]'
        out.append(text + "]")
    return out


@pytest.mark.parametrize("seed", range(4))
def test_the_column_policy_reasons_are_the_per_row_ones(seed):
    import json

    from tierwise.config import ActivityConfig
    from tierwise.lifecycle.advice import _reasons

    rng = np.random.default_rng(seed)
    n = [0, 1, 50, 5000][seed]
    frame = pd.DataFrame({"gaps_missed": rng.choice([0.5, 3.25, np.nan, np.inf], n),
                          "expected_gap_days": rng.lognormal(3, 1, n),
                          "p_alive": rng.choice([0.1234567, 1e-9, np.nan, 1.0], n)},
                         index=rng.permutation(n) + 7)
    if seed == 2:
        frame = frame.drop(columns=["gaps_missed", "p_alive"])
    prob = pd.Series(rng.choice([0.5, np.nan, 1e-12, 0.33333333], n), index=frame.index)
    policy = np.array(rng.choice(["maintain", "wake_up", None], n), dtype=object)
    for basis, cfg in (("model", ActivityConfig()),
                       ("rhythm", ActivityConfig(policy_horizon_days=30, policy_floor=0.25))):
        got = _reasons(frame, policy, prob, basis, cfg)
        assert got == _reasons_per_row(frame, policy, prob, basis, cfg)
        assert all(json.loads(g) for g in got if g is not None)
