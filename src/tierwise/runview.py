"""One read model of a run: every public figure of a snapshot, defined once.

The CLI (``tierwise run``, ``runs``, ``pyramid``), the reports (:mod:`tierwise.reports.builders`)
and the web (:mod:`tierwise.web.queries`) read a run's headline figures here, so a figure cannot
mean one thing on the dashboard and another in the report:

- **summary**: ``customers``, ``repeat_customers`` (bought on two days or more), ``revenue`` (net
  of refunds, ``total_amount``), ``active_30d`` (a visit in the 30 days before the as-of date),
  ``key_tier`` (tier ``key``), ``key_accounts``, ``dormant_or_worse`` (state at or after
  ``dormant`` in :data:`~tierwise.lifecycle.policies.ACTIVITY_STATES`: 2.5 expected gaps or more
  behind their own rhythm, :data:`~tierwise.lifecycle.policies.DORMANT_OR_WORSE`), one
  ``policy_<code>`` count per policy and ``clv_predicted_total``;
- **pyramid**: customers and **value** per tier, value being the tier's net revenue
  (``total_amount``), the same value the run's ``pyramid`` table holds;
- **pareto**: the share of value (``total_amount``, negatives as 0) held by the top share of
  customers, and its curve (:func:`tierwise.models.pareto.top_share`);
- **backtest**: the run's stored backtest and its headline (whole business only);
- **cohorts** and **retention**: the run's cohort table (first-purchase month x months since)
  and its repeat-purchase and churn rates by tier, segment and store
  (:mod:`tierwise.lifecycle.retention`; whole business only, like the backtest);
- **feedback**: the run's satisfaction and feedback tables (:mod:`tierwise.feedback`): CSAT,
  NPS and response rate by tier, segment, store and manager, their trend, complaints by category
  and tier, open complaints, comment keywords (whole business only, except the open complaints,
  which follow the scope);
- **contracts**, **renewal_rates**, **segment_cost_pnl** and **key_account_margins**: the run's
  renewals and cost to serve (:mod:`tierwise.lifecycle.renewals`,
  :mod:`tierwise.segments.cost_to_serve`; rates and the P&L for the whole business only);
- **inputs**: the latest read-in of each input before the run (its data quality);
- **outlook**: per customer, what every sales list carries (:data:`OUTLOOK_COLUMNS`): the
  purchase likelihood in the run's horizon (:meth:`RunView.purchase_horizon_days`), the expected
  date of the next purchase (:mod:`tierwise.lifecycle.next_purchase`), the Chinese 8-class RFM
  class, the problem group, the cluster profile and the key-account type, as stored codes;
- **items**: per customer, what to talk about from the order lines (:data:`ITEM_COLUMNS`): the
  favourite products and the cross-sell hints (what the tier buys and the customer never did).

A :class:`Scope` narrows every figure to the customers a viewer may see (the web passes its
viewer's); the default is every customer.

Examples
--------
>>> from tierwise.store import Store                                   # doctest: +SKIP
>>> with Store("tierwise.duckdb", read_only=True) as store:            # doctest: +SKIP
...     view = RunView(store.con, store.run_info("latest")["run_id"])
...     view.summary()["dormant_or_worse"], view.pyramid()[0]["value"]
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd

from .backtest import stored_backtest
from .config import PYRAMID_TIERS
from .lifecycle.next_purchase import NEXT_PURCHASE_SQL
from .lifecycle.policies import DORMANT_OR_WORSE, POLICY_CODES

if TYPE_CHECKING:
    from .config import KeyAccountsConfig

#: The summary's figures, in the order they are shown.
SUMMARY_FIGURES: tuple[str, ...] = (
    "customers", "repeat_customers", "revenue", "active_30d", "key_tier", "key_accounts",
    "dormant_or_worse", *(f"policy_{p}" for p in POLICY_CODES), "clv_predicted_total")
#: The snapshot columns the summary reads (a frame without one counts it as empty).
SUMMARY_COLUMNS: tuple[str, ...] = ("frequency", "total_amount", "visits_30d", "tier",
                                    "key_account", "activity_state", "activity_policy",
                                    "clv_predicted")
_STATES = ", ".join(f"'{s}'" for s in DORMANT_OR_WORSE)
_SUMMARY_SQL = ", ".join([
    "count(*) AS customers",
    "count(*) FILTER (WHERE frequency > 0) AS repeat_customers",
    "round(coalesce(sum(total_amount), 0), 2) AS revenue",
    "count(*) FILTER (WHERE visits_30d > 0) AS active_30d",
    "count(*) FILTER (WHERE tier = 'key') AS key_tier",
    "count(*) FILTER (WHERE key_account) AS key_accounts",
    f"count(*) FILTER (WHERE activity_state IN ({_STATES})) AS dormant_or_worse",
    *(f"count(*) FILTER (WHERE activity_policy = '{p}') AS policy_{p}" for p in POLICY_CODES),
    "round(sum(clv_predicted), 2) AS clv_predicted_total"])
#: Per customer, what every sales list carries (codes; words at render time).
OUTLOOK_COLUMNS: tuple[str, ...] = (
    "purchase_likelihood", "next_purchase_expected", "rfm_class_cn", "problem_group",
    "cluster_profile", "key_account_type")
#: Per customer, what to talk about from the order lines (NULL without lines).
ITEM_COLUMNS: tuple[str, ...] = ("favourite_products", "cross_sell")
#: The SQL of each outlook column over ``snapshot_customers`` (NULL when the run lacks it).
_OUTLOOK_SQL = {"next_purchase_expected": NEXT_PURCHASE_SQL}
#: Steps of the Pareto curve the read model gives (5 % of customers each).
PARETO_POINTS = 20


@dataclass(frozen=True)
class Scope:
    """Which customers of a run the figures cover: a SQL condition over ``snapshot_customers``
    columns and its parameters. ``whole`` says it is every customer (then business-wide
    figures, such as the backtest, are shown)."""

    sql: str = "TRUE"
    params: tuple[Any, ...] = field(default=())
    whole: bool = True


#: Every customer of the run.
EVERYONE = Scope()


class RunView:
    """The public figures of one run, over the customers of ``scope``.

    Parameters
    ----------
    con
        A DuckDB connection holding the store's tables (``Store.con``, or the web server's copy).
    run_id
        The run.
    scope
        The customers the figures cover (default: all).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: int,
                 scope: Scope = EVERYONE) -> None:
        self.con, self.run_id, self.scope = con, int(run_id), scope

    def _where(self) -> tuple[str, list[Any]]:
        return f"run_id = ? AND {self.scope.sql}", [self.run_id, *self.scope.params]

    def summary(self) -> dict[str, Any]:
        """The headline counts and sums (see the module docstring), JSON-ready."""
        where, args = self._where()
        return summary_of(self.con, where, args)

    def pyramid(self) -> list[dict[str, Any]]:
        """One row per tier in pyramid order: ``tier``, ``customers``, ``customer_share`` (of
        every customer in scope), ``value`` (the tier's net revenue) and ``value_share``."""
        where, args = self._where()
        rows = self.con.execute(
            f"SELECT tier, count(*), coalesce(sum(total_amount), 0) FROM snapshot_customers "
            f"WHERE {where} AND tier IS NOT NULL GROUP BY tier", args).fetchall()
        total = self.con.execute(f"SELECT count(*) FROM snapshot_customers WHERE {where}",
                                 args).fetchall()[0][0]
        return pyramid_rows({t: (int(n), float(v)) for t, n, v in rows}, int(total))

    def values(self) -> np.ndarray:
        """Every in-scope customer's net revenue (``total_amount``), the Pareto's values."""
        where, args = self._where()
        return self.con.execute(f"SELECT total_amount FROM snapshot_customers WHERE {where}",
                                args).df()["total_amount"].to_numpy(dtype="float64",
                                                                    na_value=np.nan)

    def margin_share(self, top: float = 0.2) -> float | None:
        """The share of margin (profit) earned from the top ``top`` of customers by margin, the
        seeds' "80 % of profit from 20 % of customers"; None when no customer has a margin (no
        ``cost`` or ``margin`` column in the orders)."""
        from .models.pareto import top_share

        where, args = self._where()
        margins = self.con.execute(
            f"SELECT margin_total FROM snapshot_customers WHERE {where} "
            f"AND margin_total IS NOT NULL", args).df()["margin_total"]
        if margins.empty:
            return None
        return _plain(top_share(margins.to_numpy(dtype="float64"), top))

    def pareto(self, top: float = 0.2, points: int = PARETO_POINTS) -> dict[str, Any]:
        """The share of value held by the top ``top`` of customers, and the curve in ``points``
        steps: ``{"top", "top_share", "points": [{"customer_share", "value_share"}...]}``."""
        return pareto_of(self.values(), top, points)

    def meta(self) -> dict[str, Any]:
        rows = self.con.execute("SELECT meta FROM runs WHERE run_id = ?",
                                [self.run_id]).fetchall()
        return json.loads(rows[0][0]) if rows and rows[0][0] else {}

    def backtest(self) -> dict[str, Any] | None:
        """The run's stored backtest (:func:`tierwise.backtest.stored_backtest`); None when the
        scope is not the whole business (its figures cover every customer)."""

        if not self.scope.whole:
            return None
        return stored_backtest(self.meta().get("backtest"), self._table("backtest"),
                               self._table("backtest_calibration"))

    def backtest_headline(self) -> str | None:
        """The backtest's one-line headline (English), or None."""
        view = self.backtest()
        return None if view is None else view.get("headline_en")

    def cohorts(self) -> pd.DataFrame | None:
        """The run's cohort table (:func:`tierwise.lifecycle.retention.cohort_table`): None when
        the scope is not the whole business (a cohort counts every customer) or the run was made
        before cohorts were computed."""
        return self._table("cohorts") if self.scope.whole else None

    def retention(self) -> pd.DataFrame | None:
        """Repeat-purchase and churn rates overall and by tier, segment and store
        (:func:`tierwise.lifecycle.retention.retention_table`); None as for :meth:`cohorts`."""
        return self._table("retention") if self.scope.whole else None

    def feedback(self) -> dict[str, pd.DataFrame]:
        """The run's satisfaction and feedback tables by name
        (:data:`tierwise.feedback.FEEDBACK_TABLES`; those the run has). A scope that is not the
        whole business gets only its own customers' open complaints (the other tables count
        every customer)."""
        from .feedback import FEEDBACK_TABLES

        names = FEEDBACK_TABLES if self.scope.whole else ("open_complaints",)
        tables = {n: t for n in names if (t := self._table(n)) is not None}
        if not self.scope.whole and "open_complaints" in tables:
            where, args = self._where()
            keys = {int(k) for (k,) in self.con.execute(
                f"SELECT customer_key FROM snapshot_customers WHERE {where}", args).fetchall()}
            frame = tables["open_complaints"]
            tables["open_complaints"] = frame[frame["customer_key"].isin(keys)] \
                .reset_index(drop=True)
        return tables
    def contracts(self, statuses: tuple[str, ...] | None = None) -> pd.DataFrame | None:
        """The run's contracts of the in-scope customers (:mod:`tierwise.lifecycle.renewals`),
        with each customer's ``name``, ``account_manager``, ``tier`` and ``key_account_type``;
        only those of ``statuses`` when given. None when the run has no contracts."""
        table = self._table("contracts")
        if table is None:
            return None
        if statuses is not None:
            table = table[table["status"].isin(list(statuses))]
        return table.merge(self._who(), on="customer_key", how="inner")

    def renewal_rates(self) -> pd.DataFrame | None:
        """The renewal rate overall and by tier; None when the scope is not the whole business
        (the rates count every customer) or the run has no contracts."""
        return self._table("renewal_rates") if self.scope.whole else None

    def segment_cost_pnl(self) -> pd.DataFrame | None:
        """Each segment's P&L (:func:`tierwise.segments.cost_to_serve.segment_cost_pnl`); None as
        for :meth:`renewal_rates`, or when the run has no costs."""
        return self._table("segment_cost_pnl") if self.scope.whole else None

    def key_account_margins(self) -> pd.DataFrame | None:
        """The in-scope key accounts' margin after cost to serve against their pricing guidance
        (:func:`tierwise.segments.cost_to_serve.key_account_margins`); None without costs."""
        table = self._table("key_account_margins")
        if table is None or not len(table):
            return table
        keys = self._who()["customer_key"]
        return table[table["customer_key"].isin(keys)].reset_index(drop=True)

    def _who(self) -> pd.DataFrame:
        where, args = self._where()
        return self.con.execute(
            "SELECT customer_key, name, account_manager, tier, key_account_type "
            f"FROM snapshot_customers WHERE {where}", args).df()

    def inputs(self) -> pd.DataFrame:
        """The data the run was made from: the latest read-in of each input before the run
        (``source, kind, rows_in, accepted, rejected, ingested_at``); empty in a store without
        an ``ingests`` table."""
        columns = ["source", "kind", "rows_in", "accepted", "rejected", "ingested_at"]
        try:
            return self.con.execute(f"""
                SELECT {', '.join(columns)} FROM ingests
                WHERE ingested_at <= (SELECT created_at FROM runs WHERE run_id = ?)
                QUALIFY row_number() OVER (PARTITION BY source, kind
                                           ORDER BY ingested_at DESC, ingest_id DESC) = 1
                ORDER BY ingest_id""", [self.run_id]).df()[columns]
        except duckdb.CatalogException:
            return pd.DataFrame(columns=columns)

    def purchase_horizon_days(self) -> int | None:
        """N of the run's purchase likelihood (the chance of a purchase in the next N days)."""
        settings = (self.meta().get("value_model") or {}).get("settings") or {}
        n = settings.get("purchase_horizon_days")
        return int(n) if n is not None else None

    def outlook(self, customer_ids: list[str] | None = None) -> pd.DataFrame:
        """``customer_id`` and :data:`OUTLOOK_COLUMNS` of the in-scope customers (of
        ``customer_ids`` only, when given), in customer-id order; a column the run's snapshot
        lacks is NULL."""
        frame = self._per_customer(OUTLOOK_COLUMNS, customer_ids)
        frame["next_purchase_expected"] = pd.to_datetime(frame["next_purchase_expected"])
        return frame

    def items(self, customer_ids: list[str] | None = None) -> pd.DataFrame:
        """``customer_id`` and :data:`ITEM_COLUMNS` (favourite products, cross-sell hints) of
        the in-scope customers (of ``customer_ids`` only), in customer-id order; NULL where the
        run has none (no order lines, or a run made before the hints existed)."""
        return self._per_customer(ITEM_COLUMNS, customer_ids)

    def _per_customer(self, columns: tuple[str, ...], customer_ids: list[str] | None
                      ) -> pd.DataFrame:
        where, args = self._where()
        have = {r[0] for r in self.con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'snapshot_customers'").fetchall()}
        needs = {"next_purchase_expected": {"last_purchase", "expected_gap_days"}}
        parts = [f"{_OUTLOOK_SQL.get(c, c) if needs.get(c, {c}) <= have else 'NULL'} AS {c}"
                 for c in columns]
        if customer_ids is not None and len(customer_ids) == 1:  # one customer: by its index
            where += " AND customer_id = ?"
            args.append(str(customer_ids[0]))
        elif customer_ids is not None:
            where += " AND list_contains(?, customer_id)"
            args.append([str(i) for i in customer_ids])
        return self.con.execute(
            f"SELECT customer_id, {', '.join(parts)} FROM snapshot_customers WHERE {where} "
            "ORDER BY customer_id", args).df()

    def key_accounts_config(self) -> KeyAccountsConfig:
        """The run's ``[key_accounts]`` settings (its pricing guidance, say), as the run was
        made; the defaults for a run whose stored config no longer validates."""
        from .config import KeyAccountsConfig

        try:
            return KeyAccountsConfig(**((self.meta().get("config") or {}).get("key_accounts")
                                        or {}))
        except ValueError:
            return KeyAccountsConfig()

    def _table(self, name: str) -> pd.DataFrame | None:
        rows = self.con.execute("SELECT data FROM run_tables WHERE run_id = ? AND name = ?",
                                [self.run_id, name]).fetchall()
        if not rows:
            return None
        data = json.loads(rows[0][0])
        return pd.DataFrame(data["data"], columns=data["columns"])


def summary_of(con: duckdb.DuckDBPyConnection, where: str = "TRUE",
               args: list[Any] | None = None) -> dict[str, Any]:
    """The summary over the rows of ``snapshot_customers`` (a table or a view) matching ``where``."""
    cursor = con.execute(f"SELECT {_SUMMARY_SQL} FROM snapshot_customers WHERE {where}",
                         args or [])
    names = [d[0] for d in cursor.description]
    row = cursor.fetchall()[0]
    return {n: _plain(v) for n, v in zip(names, row, strict=True)}


def frame_summary(results: pd.DataFrame) -> dict[str, Any]:
    """The summary of a run's per-customer results before they are stored (the same SQL as
    :meth:`RunView.summary`, run over the frame)."""
    frame = results.reindex(columns=[c for c in SUMMARY_COLUMNS])
    with duckdb.connect() as con:
        con.register("snapshot_customers", frame)
        return summary_of(con)


def pyramid_rows(by_tier: dict[str, tuple[int, float]], total: int) -> list[dict[str, Any]]:
    """Pyramid rows from ``{tier: (customers, value)}`` and the customer count in scope."""
    rows = [{"tier": t, "customers": by_tier.get(t, (0, 0.0))[0],
             "value": round(by_tier.get(t, (0, 0.0))[1], 2)} for t in PYRAMID_TIERS]
    value = sum(r["value"] for r in rows)
    for r in rows:
        r["customer_share"] = r["customers"] / total if total else None
        r["value_share"] = r["value"] / value if value else None
    return rows


def pareto_of(values: Any, top: float = 0.2, points: int = PARETO_POINTS) -> dict[str, Any]:
    """The Pareto figures of per-customer values (:mod:`tierwise.models.pareto`)."""
    from .models.pareto import pareto_curve, top_share

    values = np.asarray(values, dtype="float64")
    if not values.size:
        return {"top": top, "top_share": None, "points": []}
    curve = pareto_curve(values, points=points)
    return {"top": top, "top_share": _plain(top_share(values, top)),
            "points": [{"customer_share": float(r.customer_share),
                        "value_share": _plain(r.value_share)} for r in curve.itertuples()]}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


__all__ = ["EVERYONE", "ITEM_COLUMNS", "OUTLOOK_COLUMNS", "PARETO_POINTS", "SUMMARY_COLUMNS", "SUMMARY_FIGURES", "RunView", "Scope",
           "frame_summary", "pareto_of", "pyramid_rows", "summary_of"]
