"""Behavioural clusters: planted clusters recovered, k by silhouette, words, estimator contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from tierwise.config import ClusteringConfig, parse_config
from tierwise.errors import ConfigError, DataContractError, FitError, NotFittedError
from tierwise.segments import BehaviourClusters, describe_profile

FEATURES = ["frequency", "total_amount", "days_since_last", "mean_amount"]


@pytest.fixture(autouse=True)
def one_thread():
    # two shared cores: OpenMP/BLAS threads fighting other test runs are far slower than one
    with threadpool_limits(limits=1):
        yield


def planted(seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Three well-separated groups (in log space): lapsed small, regular, VIP big spenders."""
    rng = np.random.default_rng(seed)
    groups = [  # n, frequency, total_amount, days_since_last, mean_amount (typical values)
        (240, 1, 80, 300, 40),
        (160, 10, 2_000, 40, 200),
        (100, 60, 60_000, 3, 1_000),
    ]
    parts, truth = [], []
    for label, (n, freq, total, days, mean) in enumerate(groups):
        jitter = lambda centre, n=n: centre * np.exp(rng.normal(0, 0.15, n))  # noqa: E731
        parts.append(pd.DataFrame({"frequency": jitter(freq), "total_amount": jitter(total),
                                   "days_since_last": jitter(days), "mean_amount": jitter(mean)}))
        truth += [label] * n
    frame = pd.concat(parts, ignore_index=True)
    order = rng.permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True), np.asarray(truth)[order]


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    return planted()


@pytest.fixture(scope="module")
def fitted(data) -> BehaviourClusters:
    with threadpool_limits(limits=1):
        return BehaviourClusters(k_range=(2, 6), n_init=4).fit(data[0])


def test_planted_clusters_recovered_and_k_by_silhouette(data, fitted):
    frame, truth = data
    assert fitted.n_clusters_ == 3
    assert set(fitted.silhouette_) == {2, 3, 4, 5, 6}
    assert max(fitted.silhouette_, key=fitted.silhouette_.get) == 3
    assert adjusted_rand_score(truth, fitted.labels_) == pytest.approx(1.0)


def test_gmm_recovers_them_too(data):
    frame, truth = data
    model = BehaviourClusters(k_range=(2, 4), method="gmm", n_init=1).fit(frame)
    assert model.n_clusters_ == 3
    assert adjusted_rand_score(truth, model.labels_) > 0.95


def test_clusters_are_numbered_by_size(fitted):
    assert fitted.profiles_["customers"].tolist() == [240, 160, 100]
    assert fitted.profiles_["share"].sum() == pytest.approx(1.0)


def test_descriptions_point_the_right_way(data, fitted):
    frame, truth = data
    profiles = fitted.profiles_
    vip = pd.Series(fitted.labels_[truth == 2]).mode()[0]
    lapsed = pd.Series(fitted.labels_[truth == 0]).mode()[0]
    assert "big spenders" in profiles.loc[vip, "description"]
    assert "frequent" in profiles.loc[vip, "description"]
    assert "recent" in profiles.loc[vip, "description"]
    assert "高消费" in profiles.loc[vip, "description_zh"]
    assert "近期活跃" in profiles.loc[vip, "description_zh"]
    assert "small spenders" in profiles.loc[lapsed, "description"]
    assert "lapsed" in profiles.loc[lapsed, "description"]
    assert "低消费" in profiles.loc[lapsed, "description_zh"]
    assert profiles.loc[vip, "total_amount_z"] > 1
    assert profiles.loc[lapsed, "total_amount_z"] < -0.5
    assert profiles.loc[vip, "total_amount_median"] > 30_000


def test_deterministic_for_a_seed(data):
    frame = data[0]
    a = BehaviourClusters(k_range=(2, 4), n_init=2, random_state=3).fit(frame)
    b = BehaviourClusters(k_range=(2, 4), n_init=2, random_state=3).fit(frame)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    pd.testing.assert_frame_equal(a.profiles_, b.profiles_)
    assert a.silhouette_ == b.silhouette_


def test_silhouette_uses_a_sample_but_labels_everyone(data):
    frame, truth = data
    model = BehaviourClusters(k_range=(2, 4), n_init=2, sample_size=120).fit(frame)
    assert len(model.labels_) == len(frame)
    assert adjusted_rand_score(truth, model.labels_) == pytest.approx(1.0)


def test_estimator_contract(data, fitted):
    frame = data[0]
    model = BehaviourClusters(k_range=(2, 3), n_init=1)
    assert model.fit(frame) is model
    np.testing.assert_array_equal(fitted.predict(frame), fitted.labels_)
    with pytest.raises(NotFittedError, match="not fitted"):
        BehaviourClusters().predict(frame)
    with pytest.raises(NotFittedError):
        BehaviourClusters().assign(frame)


def test_predict_new_customers(fitted):
    new = pd.DataFrame({"frequency": [55.0, 1.0], "total_amount": [70_000.0, 60.0],
                        "days_since_last": [2.0, 320.0], "mean_amount": [1_100.0, 35.0]})
    labels = fitted.predict(new)
    assert "big spenders" in fitted.profiles_.loc[labels[0], "description"]
    assert "small spenders" in fitted.profiles_.loc[labels[1], "description"]


def test_assign_adds_cluster_columns(data, fitted):
    out = fitted.assign(data[0].assign(customer_key=range(len(data[0]))))
    assert {"cluster", "cluster_profile", "cluster_profile_zh"} <= set(out.columns)
    assert out["cluster"].tolist() == fitted.labels_.tolist()
    first = out.iloc[0]
    assert first["cluster_profile"] == fitted.profiles_.loc[first["cluster"], "description"]


def test_missing_values_are_filled_with_the_median(data):
    frame, truth = data[0].copy(), data[1]
    frame.loc[:9, "days_since_last"] = np.nan
    model = BehaviourClusters(k_range=(2, 4), n_init=2).fit(frame)
    assert model.n_clusters_ == 3
    assert adjusted_rand_score(truth, model.labels_) > 0.9


def test_negative_totals_from_refunds_do_not_break_it(data):
    frame = data[0].copy()
    frame.loc[10:14, "total_amount"] = -50.0          # net refunds
    model = BehaviourClusters(k_range=(2, 4), n_init=2).fit(frame)
    assert np.isfinite(list(model.silhouette_.values())).all()
    assert np.isfinite(model.profiles_["total_amount_z"]).all()


def test_data_contract_errors(data):
    frame = data[0]
    with pytest.raises(DataContractError, match="mean_amount"):
        BehaviourClusters().fit(frame.drop(columns=["mean_amount"]))
    with pytest.raises(DataContractError, match="must be numbers"):
        BehaviourClusters().fit(frame.assign(frequency="x"))


def test_too_few_distinct_customers():
    frame = pd.DataFrame({f: [1.0, 1.0, 1.0] for f in FEATURES})
    with pytest.raises(FitError, match="distinct"):
        BehaviourClusters().fit(frame)


@pytest.mark.parametrize("kwargs", [{"method": "dbscan"}, {"k_range": (1, 3)}, {"k_range": (5, 3)},
                                    {"features": []}])
def test_invalid_parameters(data, kwargs):
    with pytest.raises(ConfigError):
        BehaviourClusters(**kwargs).fit(data[0])


def test_from_config_and_defaults():
    cfg = parse_config({"clustering": {"method": "gmm", "k_range": [3, 5]}}).clustering
    model = BehaviourClusters.from_config(cfg)
    assert (model.method, tuple(model.k_range)) == ("gmm", (3, 5))
    default = BehaviourClusters()
    assert tuple(default.k_range) == ClusteringConfig().k_range == (2, 8)
    assert list(default.features) == FEATURES and default.random_state == 0
    with pytest.raises(ConfigError, match="k_range"):
        parse_config({"clustering": {"k_range": [1, 4]}})


def test_describe_profile_words():
    en, zh = describe_profile({"frequency": 1.2, "days_since_last": -0.9, "total_amount": 1.5})
    assert en == "big spenders, frequent, recent"
    assert zh == "高消费、高频、近期活跃"
    assert describe_profile({"frequency": 0.1, "total_amount": -0.2}) == ("typical", "中等、接近平均")
    assert describe_profile({"growth": -2.0}) == ("low growth", "growth低")
    assert describe_profile({"mean_amount": 0.6}, threshold=1.0)[0] == "typical"
