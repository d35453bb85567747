"""Campaign message text (issue 19: 1.52, 1.55, 1.63): the template parser, the merge per target,
and ``tierwise campaign create --message`` / ``export`` end to end on the restaurant demo."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_campaigns_flow import campaign_cli
from tierwise.campaigns.messages import (
    PLACEHOLDERS,
    SMS_SEGMENT_CHARS,
    Slot,
    parse_template,
    render_messages,
)
from tierwise.errors import ConfigError
from tierwise.store import Store

# ---- the parser ---------------------------------------------------------------------------------

_plain = st.text(alphabet=st.characters(blacklist_characters="{}|", blacklist_categories=("Cs",)),
                 max_size=12)
_part = st.one_of(_plain.map(lambda s: ("text", s)),
                  st.tuples(st.just("slot"), st.sampled_from(sorted(PLACEHOLDERS)),
                            st.one_of(st.none(), _plain)))


def _write(parts: list[tuple]) -> str:
    out = []
    for part in parts:
        if part[0] == "text":
            out.append(part[1].replace("{", "{{").replace("}", "}}"))
        else:
            out.append("{" + part[1] + ("" if part[2] is None else "|" + part[2]) + "}")
    return "".join(out)


@given(st.lists(_part, max_size=8))
def test_a_written_template_parses_back_to_its_parts(parts: list[tuple]) -> None:
    template = parse_template(_write(parts))
    literal = "".join(p[1] for p in parts if p[0] == "text")
    assert "".join(p for p in template.parts if isinstance(p, str)) == literal
    assert [p for p in template.parts if isinstance(p, Slot)] == [
        Slot(p[1], p[2]) for p in parts if p[0] == "slot"]
    # merging with every value present gives the literal text with the values in place
    values = {name: f"<{name}>" for name in PLACEHOLDERS}
    text, empty = template.render(values)
    assert text == "".join(p[1] if p[0] == "text" else f"<{p[1]}>" for p in parts)
    assert empty == []
    # with no value: the default, else an empty text reported by field
    text, empty = template.render({})
    assert text == "".join(p[1] if p[0] == "text" else (p[2] or "") for p in parts)
    assert empty == [p[1] for p in parts if p[0] == "slot" and p[2] is None]


@given(st.text(alphabet="{}|ab名", max_size=10))
def test_any_text_parses_or_fails_with_a_clear_message(text: str) -> None:
    try:
        parse_template(text, where="message")
    except ConfigError as exc:
        assert str(exc).startswith("message: ")
        assert "name, city" in str(exc)  # the valid placeholders are named


@given(st.text(alphabet=st.characters(blacklist_characters="{}|"), min_size=1, max_size=8))
def test_an_unknown_placeholder_is_named(word: str) -> None:
    word = word.strip() or "x"
    if word in PLACEHOLDERS:
        return
    with pytest.raises(ConfigError, match="unknown placeholder") as err:
        parse_template("您好 {" + word + "}", where="message")
    assert "{" + word + "}" in str(err.value)
    assert "favourite_product" in str(err.value)


@pytest.mark.parametrize("text", ["{name", "name}", "{}", "{ {name}", "{name|a}{"])
def test_broken_templates_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_template(text)


def test_merge_counts_gaps_and_long_messages() -> None:
    template = parse_template("{name}您好，{favourite_product|招牌菜}等您回来，{city}见" + "。" * 60)
    rows = pd.DataFrame({"name": ["李雷", None, "韩梅梅"], "favourite_product": ["红烧肉", None, ""],
                         "city": ["上海", "苏州", float("nan")]})
    merged = render_messages(template, rows)
    assert merged.texts[0].startswith("李雷您好，红烧肉等您回来，上海见")
    assert merged.texts[1].startswith("您好，招牌菜等您回来，苏州见")
    assert merged.texts[2].startswith("韩梅梅您好，招牌菜等您回来，见")
    assert merged.empty == {"name": 1, "city": 1}
    assert merged.over_one_sms == sum(len(t) > SMS_SEGMENT_CHARS for t in merged.texts) == 3
    assert merged.to_dict()["messages"] == 3


def test_config_refuses_an_unknown_placeholder() -> None:
    from tierwise.campaigns import campaign_settings

    with pytest.raises(ConfigError, match=r"message.*unknown placeholder \{phone\}"):
        campaign_settings(message="{phone} 您好")
    assert campaign_settings(message="{name}您好").message == "{name}您好"


# ---- end to end on the restaurant demo -----------------------------------------------------------

TEMPLATE = "{name}您好，好久不见！{favourite_product|招牌菜}想您了，{face_value}元券{valid_until}前有效"


@pytest.fixture(scope="module")
def restaurant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    done = campaign_cli("demo", "--dir", str(root), "--members", "300", "--accounts", "30",
                        "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "restaurant"


@pytest.mark.slow
def test_message_create_and_export_on_the_demo(restaurant: Path) -> None:
    bad = campaign_cli("campaign", "create", "--min-days-since-last", "40", "--face-value", "48",
                       "--message", "{nmae}您好", cwd=restaurant)
    assert bad.returncode == 2
    assert "unknown placeholder {nmae}" in bad.stderr and "favourite_product" in bad.stderr
    assert "Traceback" not in bad.stderr

    made = campaign_cli("campaign", "create", "--min-days-since-last", "40", "--face-value", "48",
                        "--control-share", "0.2", "--message", TEMPLATE, "--json", cwd=restaurant)
    assert made.returncode == 0, made.stderr
    c = json.loads(made.stdout)
    assert c["meta"]["message"] == TEMPLATE and c["n_control"] > 0

    shown = campaign_cli("campaign", "export", str(c["campaign_id"]), "-o", "t.csv", "--json",
                         cwd=restaurant)
    assert shown.returncode == 0, shown.stderr
    summary = json.loads(shown.stdout)
    exported = pd.read_csv(restaurant / "t.csv", dtype=str, encoding="utf-8-sig",
                           keep_default_na=False)
    with Store(restaurant / "tierwise.duckdb", read_only=True) as store:
        groups = store.con.execute('SELECT customer_id, "group" FROM campaign_members '
                                   "WHERE campaign_id = ?", [c["campaign_id"]]).df()
        names = dict(store.con.execute("SELECT customer_id, name FROM customers").fetchall())
    control = set(groups.loc[groups["group"] == "control", "customer_id"])
    # the control group is not in the list, so gets no message; the summary says so
    assert not control & set(exported["customer_id"])
    assert summary["control_not_listed"] == len(control) == c["n_control"]
    assert len(exported) == c["n_target"] == summary["messages"]["messages"]
    # each target's text: their own name, the default dish (the restaurant demo has no order
    # lines, so no favourite product), the face value and the window end
    for row in exported.itertuples():
        name = names[row.customer_id] or ""
        assert row.message == (f"{name}您好，好久不见！招牌菜想您了，48元券{c['window_end']}前有效")
    lengths = exported["message"].str.len()
    assert summary["messages"]["longest"] == lengths.max()
    assert summary["messages"]["over_one_sms"] == int((lengths > SMS_SEGMENT_CHARS).sum())

    words = campaign_cli("campaign", "export", str(c["campaign_id"]), "-o", "t.xlsx",
                         "-f", "xlsx", "--lang", "en", cwd=restaurant)
    assert words.returncode == 0, words.stderr
    assert f"control group: {len(control)} customers, not in the list, no message" in words.stdout + words.stderr
    sheet = pd.read_excel(restaurant / "t.xlsx", dtype=str)
    assert list(sheet["message"]) == list(exported["message"])
    zh = campaign_cli("campaign", "export", str(c["campaign_id"]), "-o", "t.csv",
                      cwd=restaurant)
    assert "对照组" in zh.stderr + zh.stdout and "短信文案" in zh.stderr + zh.stdout


@pytest.mark.slow
def test_long_messages_and_playbook_messages_on_the_demo(restaurant: Path) -> None:
    long_text = "{name}您好，" + "本店新推出秋冬季节限定菜品，" * 5 + "{city|本地}门店期待您的光临"
    made = campaign_cli("campaign", "create", "--min-days-since-last", "40", "--face-value", "0",
                        "--cooldown-days", "0", "--message", long_text, "--json", cwd=restaurant)
    assert made.returncode == 0, made.stderr
    cid = json.loads(made.stdout)["campaign_id"]
    shown = campaign_cli("campaign", "export", str(cid), "-o", "long.csv", "--lang", "en",
                         cwd=restaurant)
    assert shown.returncode == 0, shown.stderr
    exported = pd.read_csv(restaurant / "long.csv", dtype=str, encoding="utf-8-sig")
    over = int((exported["message"].str.len() > SMS_SEGMENT_CHARS).sum())
    assert over == len(exported) > 0
    assert f"{over} longer than 70 characters" in shown.stdout + shown.stderr

    made = campaign_cli("campaign", "create", "--min-days-since-last", "40", "--face-value", "48",
                        "--cooldown-days", "0", "--message", "playbook", "--json", cwd=restaurant)
    assert made.returncode == 0, made.stderr
    c = json.loads(made.stdout)
    by_segment = c["meta"]["message_by_segment"]
    assert by_segment["Everyone else"] == "会员日专享优惠券已到账。"
    shown = campaign_cli("campaign", "export", str(c["campaign_id"]), "-o", "pb.csv",
                         cwd=restaurant)
    assert shown.returncode == 0, shown.stderr
    exported = pd.read_csv(restaurant / "pb.csv", dtype=str, encoding="utf-8-sig")
    with Store(restaurant / "tierwise.duckdb", read_only=True) as store:
        snap = store.snapshot(c["run_id"])
    segment = dict(zip(snap["customer_id"].astype(str), snap["segment"], strict=True))
    for row in exported.itertuples():
        assert row.message == by_segment[segment[row.customer_id]]



@pytest.mark.slow
def test_web_target_list_carries_the_message(restaurant: Path) -> None:
    pytest.importorskip("fastapi")
    from _web_store import PASSWORD, client
    from tierwise import load_config
    from tierwise.web import create_app
    from tierwise.web.accounts import add_user

    made = campaign_cli("campaign", "create", "--min-days-since-last", "40", "--face-value", "30",
                        "--cooldown-days", "0", "--message", "{name|会员}您好，{city}店送您{face_value}元券",
                        "--json", cwd=restaurant)
    assert made.returncode == 0, made.stderr
    c = json.loads(made.stdout)
    cfg = load_config(restaurant / "tierwise.toml")
    with Store(cfg.store_path) as store:
        add_user(store, "msgadmin", "admin", PASSWORD)
        control = set(store.con.execute(
            "SELECT customer_id FROM campaign_members WHERE campaign_id = ? AND \"group\" = "
            "'control'", [c["campaign_id"]]).df()["customer_id"])
        snap = store.snapshot(c["run_id"])
    city = dict(zip(snap["customer_id"].astype(str), snap["city"].fillna(""), strict=True))
    browser = client(create_app(cfg), "msgadmin")
    with browser:
        answer = browser.get(f"/campaigns/{c['campaign_id']}/targets.csv")
        api = browser.get(f"/api/campaigns/{c['campaign_id']}/targets")
        bad = browser.post("/api/campaigns", json={"min_days_since_last": 40, "face_value": 30,
                                                   "message": "{store}您好"})
        good = browser.post("/api/campaigns", json={"max_days_since_last": 39, "face_value": 30,
                                                    "message": "{name}您好"})
    assert 400 <= bad.status_code < 500 and "unknown placeholder {store}" in bad.text, bad.text
    assert good.status_code == 201, good.text
    assert good.json()["meta"]["message"] == "{name}您好"
    assert answer.status_code == 200, answer.text
    rows = pd.read_csv(io.StringIO(answer.content.decode("utf-8-sig")), dtype=str)
    assert len(rows) == c["n_target"] and not control & set(rows["customer_id"])
    for row in rows.itertuples():
        assert row.message.endswith(f"您好，{city[row.customer_id]}店送您30元券")  # no city: ""
    assert api.status_code == 200, api.text
    assert [i["message"] for i in api.json()["items"]] == list(rows["message"])


@pytest.mark.slow
def test_a_follow_up_step_keeps_the_message(restaurant: Path) -> None:
    made = campaign_cli("campaign", "create", "--as-of", "2026-08-31", "--min-days-since-last",
                        "40", "--face-value", "20",
                        "--cooldown-days", "0", "--message", "{name|会员}，再送您{face_value}元",
                        "--json", cwd=restaurant)
    assert made.returncode == 0, made.stderr
    step = campaign_cli("campaign", "follow-up", str(json.loads(made.stdout)["campaign_id"]),
                        "--face-value", "10", "--json", cwd=restaurant)
    assert step.returncode == 0, step.stderr
    s = json.loads(step.stdout)
    shown = campaign_cli("campaign", "export", str(s["campaign_id"]), "-o", "step.csv",
                         cwd=restaurant)
    assert shown.returncode == 0, shown.stderr
    exported = pd.read_csv(restaurant / "step.csv", dtype=str, encoding="utf-8-sig")
    assert len(exported) == s["n_target"]
    assert exported["message"].str.endswith("，再送您10元").all()
