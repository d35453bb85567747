"""The library calls behind ``tierwise ingest`` and ``tierwise run`` (which backtests too).

Front doors (CLI, web) call these and only present what they return.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import gc
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .config import Config, SourcesConfig
from .errors import ConfigError
from .io import (
    BATCH_ROWS,
    IntakeReport,
    IntakeResult,
    read_source,
    read_source_batches,
    reconcile_customers,
    reject_unknown_customers,
)
from .io.intake import CREATED_NOTE, created_note
from .backtest import Backtest, backtest_in_store
from .backtest import headline as backtest_headline
from .i18n.render import WORD_COLUMNS
from .runview import frame_summary
from .store import Store

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass
class IngestResult:
    """What one ``ingest`` did: a report per input and the store's totals after it."""

    reports: list[IntakeReport]
    stored: dict[str, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    def to_dicts(self) -> list[dict[str, Any]]:
        out = []
        for report in self.reports:
            item = report.to_dict()
            item.update(self.stored.get(f"{report.kind}:{report.source}", {}))
            out.append(item)
        return out


#: Order columns a run reads from the store (the big-account analyses need channel and agent).
RUN_ORDER_COLUMNS = ("customer_key", "ordered_at", "amount", "is_refund", "cost", "margin",
                     "channel", "agent")


def ingest(cfg: Config, *, today: dt.date | None = None, progress: Progress = _quiet,
           sources: SourcesConfig | None = None, batch_rows: int = BATCH_ROWS) -> IngestResult:
    """Read the configured sources, write rejects files, and upsert accepted rows into the store.

    ``today`` is the day of ingest: rows dated after it (plus ``intake.future_tolerance_days``)
    are rejected. The library reads no clock: without ``today`` there is no such check (the CLI
    passes the calendar date).

    The optional survey (``[sources.survey]``), feedback (``[sources.feedback]``), contracts and
    costs (``[sources.contracts]``, ``[sources.costs]``) are read with the same rules; their rows
    whose customer is not known (stored, in the customers source, or created from orders) are
    rejected.
    The whole ingest is one transaction: either every input lands or none does.

    ``sources`` reads these inputs instead of the configured ones (``tierwise watch`` passes
    one file dropped into the inbox, read with its kind's settings); then orders may be absent.

    Orders are read, checked and stored ``batch_rows`` rows at a time (bounded memory), with
    the same rows accepted and rejected as reading them whole
    (:func:`tierwise.io.read_source_batches`).
    """
    if sources is None and cfg.sources.orders is None:
        raise ConfigError(f"{cfg.config_file or 'config'}: no [sources.orders] section",
                          "add [sources.orders] with path = 'orders.csv' (see 'tierwise init')")
    sources = sources or cfg.sources
    customers, survey, leads, feedback = (
        _read(cfg, kind, progress, today, sources)
        for kind in ("customers", "survey", "leads", "feedback"))
    with Store(cfg.store_path) as store:
        known = set(store.customer_frame()["customer_id"])
        if customers is not None:
            known |= set(customers.frame["customer_id"])
        with store.transaction():
            if customers is not None:
                customer_counts = store.upsert_customers(customers.frame,
                                                         source=customers.report.source)
                store.record_ingest(customers.report.to_dict(), customer_counts)
            orders = None
            if sources.orders is not None:
                orders = _ingest_orders(cfg, store, sources, known, today, progress, batch_rows)
            if survey is not None:
                survey = reject_unknown_customers(survey, known, rejects_dir=cfg.rejects_dir)
            if feedback is not None:
                feedback = reject_unknown_customers(feedback, known, rejects_dir=cfg.rejects_dir)
            extra = _read_b2b(cfg, progress, today, sources, known)
            result = IngestResult(reports=[r.report for r in (customers, orders, survey, leads,
                                                              feedback, *extra.values())
                                           if r is not None])
            progress("writing to the store")
            if customers is not None:
                result.stored[f"customers:{customers.report.source}"] = customer_counts
            if orders is not None:
                result.stored[f"orders:{orders.report.source}"] = orders.counts
            if survey is not None:
                _store_survey(store, survey, result)
            if leads is not None:
                _store_leads(store, leads, result)
            if feedback is not None:
                counts = store.upsert_feedback(feedback.frame, source=feedback.report.source)
                store.record_ingest(feedback.report.to_dict(), counts)
                result.stored[f"feedback:{feedback.report.source}"] = counts
            _store_b2b(store, extra, result)
        result.totals = store.counts()
    return result


@dataclass
class _OrdersIngested:
    """The orders input's report over all its batches, and the store's counts."""

    report: IntakeReport
    counts: dict[str, int]


def _ingest_orders(cfg: Config, store: Store, sources: SourcesConfig, known: set[str],
                   today: dt.date | None, progress: Progress, batch_rows: int
                   ) -> _OrdersIngested:
    """Read, check and store the orders a batch at a time (bounded memory), inside the
    ingest's transaction; customers they name that are not ``known`` are created (or their
    orders rejected, ``on_missing_customer``) and added to ``known``; refunds are linked once
    every batch is stored."""
    report: IntakeReport | None = None
    counts: dict[str, int] = {}
    batches = read_source_batches(sources.orders, kind="orders", intake=cfg.intake,
                                  timezone=cfg.timezone, as_of=cfg.as_of,
                                  base_dir=cfg.base_dir, rejects_dir=cfg.rejects_dir, today=today,
                                  batch_rows=batch_rows)
    incoming = None
    try:
        for i, batch in enumerate(batches):
            progress("reading orders" if i == 0 else f"reading orders (batch {i + 1})")
            created, batch = reconcile_customers(
                None, batch, policy=cfg.intake.on_missing_customer, rejects_dir=cfg.rejects_dir,
                missing=store.unknown_customers(batch.frame["customer_id"]))
            new = created[created["created_from_orders"].fillna(False).astype(bool)]
            known.update(new["customer_id"].tolist())
            if len(new):
                store.upsert_customers(new, source=batch.report.source)
            counts["customers_created"] = counts.get("customers_created", 0) + len(new)
            incoming = incoming or store.incoming_orders(source=batch.report.source)
            incoming.add(batch.frame)
            report = batch.report if report is None else _add_batch(report, batch.report, i)
            del batch, created, new  # not held while the next batch is read
        assert report is not None and incoming is not None  # a source yields a batch
        if i:  # one note with the input's total, not one per batch
            report.warnings = [w for w in report.warnings if CREATED_NOTE not in w]
            if counts["customers_created"]:
                report.warnings.append(created_note(report.source, counts["customers_created"]))
        progress("writing orders to the store")
        counts = {**incoming.write(), "customers_created": counts["customers_created"]}
    finally:
        if incoming is not None:
            incoming.close()
    counts.update(store.link_refunds(cfg.intake.cancel_prefixes))
    _note_overlap(report, counts)
    store.record_ingest(report.to_dict(), counts)
    return _OrdersIngested(report, counts)


def _add_batch(report: IntakeReport, more: IntakeReport, index: int) -> IntakeReport:
    """One report for two batches of an input: counts added, warnings not repeated; a later
    batch's warning with its own figures says which batch (``index`` from 0) it is about."""
    warnings = [*report.warnings,
                *(w if CREATED_NOTE in w else f"{w} (batch {index + 1})"
                  for w in more.warnings if w not in report.warnings)]
    return IntakeReport(source=report.source, kind=report.kind,
                        rows_in=report.rows_in + more.rows_in,
                        accepted=report.accepted + more.accepted,
                        rejected=report.rejected + more.rejected,
                        rejects_file=more.rejects_file or report.rejects_file,
                        encoding=report.encoding, columns=report.columns, warnings=warnings)


def _note_overlap(report: IntakeReport, counts: dict[str, int]) -> None:
    """Warn when orders of this input were already stored from another source."""
    if counts.get("overlap"):
        report.warnings.append(
            f"{report.source}: {counts['overlap']} order(s) were already in the store from "
            "another source (the same orders, recognised by their ids or content); they were "
            "replaced, not added again")
    if counts.get("legacy_replaced"):
        report.warnings.append(
            f"{report.source}: {counts['legacy_replaced']} order(s) stored by an older tierwise "
            "under ids made from the file name and line were replaced by the same orders under "
            "ids made from their content (re-ingesting now recognises them under any file name)")


def _read(cfg: Config, kind: str, progress: Progress, today: dt.date | None = None,
          sources: SourcesConfig | None = None) -> IntakeResult | None:
    """One configured input read at the door (None when the config has no such source)."""
    source = getattr(sources or cfg.sources, kind)
    if source is None:
        return None
    progress(f"reading {'the ' + kind if kind in ('survey', 'feedback', 'costs') else kind}")
    return read_source(source, kind=kind, intake=cfg.intake, timezone=cfg.timezone,
                       as_of=cfg.as_of, base_dir=cfg.base_dir, rejects_dir=cfg.rejects_dir,
                       today=today)


def _store_survey(store: Store, survey: IntakeResult, result: IngestResult) -> None:
    counts = store.upsert_surveys(survey.frame, source=survey.report.source)
    store.record_ingest(survey.report.to_dict(), counts)
    result.stored[f"survey:{survey.report.source}"] = counts


def _store_leads(store: Store, leads: IntakeResult, result: IngestResult) -> None:
    counts = store.upsert_leads(leads.frame, source=leads.report.source)
    store.record_ingest(leads.report.to_dict(), counts)
    result.stored[f"leads:{leads.report.source}"] = counts


def _read_b2b(cfg: Config, progress: Progress, today: dt.date | None,
              sources: SourcesConfig | None, known: set[str]) -> dict[str, IntakeResult]:
    """Contracts and costs (``[sources.contracts]``, ``[sources.costs]``), their rows of unknown
    customers rejected (a cost booked to a segment names no customer: it passes)."""
    out = {}
    for kind in ("contracts", "costs"):
        read = _read(cfg, kind, progress, today, sources)
        if read is not None:
            out[kind] = reject_unknown_customers(read, known, rejects_dir=cfg.rejects_dir,
                                                 optional=kind == "costs")
    return out


def _store_b2b(store: Store, extra: dict[str, IntakeResult], result: IngestResult) -> None:
    from .store.contracts import write_contracts, write_costs

    for kind, read in extra.items():
        write = write_contracts if kind == "contracts" else write_costs
        counts = write(store.con, read.frame, source=read.report.source)
        store.record_ingest(read.report.to_dict(), counts)
        result.stored[f"{kind}:{read.report.source}"] = counts


def period_label(as_of: dt.date, period: str) -> str:
    """``2026-10`` for a month, ``2026-Q4`` for a quarter."""
    if period == "quarter":
        return f"{as_of.year}-Q{(as_of.month - 1) // 3 + 1}"
    return f"{as_of.year}-{as_of.month:02d}"


@dataclass
class RunResult:
    run_id: int
    period: str
    as_of: dt.date
    n_customers: int
    engine: str
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def compute_snapshot(cfg: Config, store: Store, as_of: dt.date, *,
                     previous: pd.DataFrame | None, progress: Progress = _quiet,
                     keep_features: bool = True, outcomes: pd.DataFrame | None = None,
                     replay: bool = False, engine: Any = None) -> Any:
    """Features on the configured engine, then every result as of ``as_of`` (nothing stored).

    The backtest (:mod:`tierwise.backtest`) calls this with an earlier date: what the product
    would have said then, from the orders up to that date alone; it passes
    ``keep_features=False`` so that a warehouse's results table keeps the run's own features,
    not the replay's, and ``replay=True``: only what the backtest reads is computed
    (:func:`tierwise.snapshot.build_snapshot`; no survey answers, and the relationship's
    breadth only when the config names one of its metrics). ``outcomes``: customers staff
    recorded as lost or moved away, archived in the snapshot (the run passes them; a replay
    does not: it sees the orders alone). ``engine``: an open engine to use (the run's,
    :func:`run_engine`) instead of connecting one.
    """
    from .engine import connect_engine
    from .engine.orders import OrderTable
    from .features.breadth import add_breadth, relationship_breadth
    from .snapshot import build_snapshot

    progress(f"computing features as of {as_of} on {cfg.engine.backend}")
    back = as_of - dt.timedelta(days=cfg.activity.policy_horizon_days)
    with (contextlib.nullcontext(engine) if engine is not None else
          connect_engine(cfg.engine, store.con, push=cfg.engine.push_orders,
                         orders_source=_orders_source(cfg, store))) as engine, \
            _orders_engine(engine, store) as orders_engine:
        expr = engine.features(as_of, period=cfg.period)
        if keep_features and cfg.engine.backend in ("postgres", "mysql"):
            progress(f"keeping the features in {cfg.engine.results_table}")
            engine.materialize(expr)  # results stay in the warehouse too
        features = engine.to_pandas(expr)
        orders = OrderTable.of(orders_engine, as_of)
        # products, categories and channels bought: metrics a scorecard criterion may name
        if not replay or _names_breadth(cfg):
            features = add_breadth(features, relationship_breadth(store, orders, as_of))
        # one policy horizon back: what the rhythm's curve learns from (snapshot.add_activity)
        history = engine.to_pandas(engine.rfm(back))
        # no reference to the features kept here: build_snapshot drops them once they are
        # joined to the customers (not held to the end of the run beside the results)
        held, features = [features], None
        # every later step over orders runs its aggregates where the features ran
        return build_snapshot(cfg, features=held.pop(), customers=store.customer_frame(),
                              orders=orders,
                              as_of=as_of, previous=previous,
                              overrides=store.key_account_overrides(), progress=progress,
                              surveys=None if replay else store.surveys_frame(as_of),
                              headers=store.source_headers(), history=history,
                              outcomes=outcomes, replay=replay)


def _names_breadth(cfg: Config) -> bool:
    """True when some setting names a breadth metric (a criterion's source, a gate, a rule):
    then a replay computes them too, as the run does (it reads no other way)."""
    from .features.breadth import BREADTH_COLUMNS

    text = json.dumps(cfg.model_dump(mode="json"), ensure_ascii=False)
    return any(column in text for column in BREADTH_COLUMNS)


def _orders_source(cfg: Config, store: Store) -> Any:
    """``[engine] orders_path``: the orders Spark reads where they live (None: the store's)."""
    if cfg.engine.orders_path is None:
        return None
    from .engine.spark_source import SparkOrdersSource

    return SparkOrdersSource.from_config(cfg, store.customer_frame())


def _orders_engine(engine: Any, store: Store) -> contextlib.AbstractContextManager[Any]:
    """The engine the run's order aggregates run on (:class:`~tierwise.engine.orders.OrderTable`).

    The configured engine when its orders table carries every column a run reads: the store's
    own table, the Spark staging export and a pushed warehouse table all do
    (``engine.EXPORT_COLUMNS``). Only a warehouse table the user keeps (``push_orders =
    false``) without ``channel`` / ``agent`` falls back to the store's table through DuckDB.
    """
    from .engine import DuckDBEngine

    if all(c in engine.orders().columns for c in RUN_ORDER_COLUMNS):
        return contextlib.nullcontext(engine)
    return DuckDBEngine(store.con)


def run_engine(cfg: Config, store: Store) -> Any:
    """The configured engine over the run's orders (close it, or use it as a context manager):
    the run's snapshot, its replay and every step over orders besides run on it."""
    from .engine import connect_engine

    return connect_engine(cfg.engine, store.con, push=cfg.engine.push_orders,
                          orders_source=_orders_source(cfg, store))


def run(cfg: Config, *, as_of: dt.date | None = None, progress: Progress = _quiet,
        before_commit: Callable[[], None] | None = None) -> RunResult:
    """Compute every per-customer result as of a date, backtest it, commit it as one snapshot.

    ``before_commit`` is called inside the snapshot's transaction just before it commits, while
    the run holds the store's write lock (tests use it to stop a run there).

    The run is also the people loop's step (:mod:`tierwise.tasks.loop`): outcomes staff
    recorded feed the snapshot (lost or moved away: archived), and the advice becomes tasks,
    written in the same transaction as the snapshot.

    Without ``as_of`` (argument or config) the date is the last order date of the bulk of the
    data: a few orders far beyond it do not move it, and ``warnings`` names them
    (:func:`tierwise.features.as_of.default_as_of`).
    """
    from .features.as_of import default_as_of
    from .tasks.loop import archived_by_outcome, prepare_tasks

    from .engine.orders import OrderTable

    warnings: list[str] = []
    with Store(cfg.store_path) as store, contextlib.ExitStack() as on_engine:
        engine = on_engine.enter_context(run_engine(cfg, store))
        orders = OrderTable.of(engine)  # no step below reads the store's own orders table
        as_of = as_of or cfg.as_of
        if as_of is None:
            choice = default_as_of(*orders.order_days())
            as_of = choice.as_of
            warnings += [choice.warning] if choice.warning else []
        if as_of is None:
            raise ConfigError(f"store {cfg.store_path} has no orders",
                              "run 'tierwise ingest' first (or 'tierwise demo')")
        period = period_label(as_of, cfg.period)
        # the backtest first: its replay reads the orders up to an earlier date alone, never
        # this run's snapshot, so its customer frame is freed before the run's own is built
        # (the two side by side were the run's peak memory); only its small tables are kept
        bt = backtest_in_store(cfg, store, as_of, snapshot_at=_replay(store, engine),
                               progress=progress, orders=orders)
        _release_memory()
        before = store.previous_run(as_of, cfg.config_hash())
        # codes are all a run compares with (tiers, states, segments): no words to build
        previous = store.snapshot(before["run_id"], words=False) if before else None
        snap = compute_snapshot(cfg, store, as_of, previous=previous, progress=progress,
                                outcomes=archived_by_outcome(store, as_of), engine=engine)
        del previous
        _add_items(store, snap, as_of)
        _add_retention(orders, snap, as_of)
        _add_loyalty(cfg, orders, snap, as_of)
        _add_prospects(cfg, store, snap, as_of, orders)
        _add_feedback(cfg, store, snap, as_of)
        _add_contracts(cfg, store, snap, as_of)
        snap.tables.update(bt.tables())
        on_engine.close()  # before the snapshot's transaction (a DuckDB engine reads committed)
        # the run's own names (cluster profiles, configured segments) go with the codes: the
        # store keeps them in the run's ``names`` table (tierwise.i18n.render.strip_words)
        keep = dict.fromkeys([*store.snapshot_columns(), *WORD_COLUMNS])
        results = snap.customers[[c for c in keep if c in snap.customers and c != "run_id"]]
        progress("tasks from the advice")
        tasks = prepare_tasks(cfg, store, snap.customers, snap.tables.get("warnings"), as_of,
                              prospects=snap.tables.get("prospects"),
                              complaints=snap.tables.get("open_complaints"),
                              renewals=snap.tables.get("contracts"))
        # past the tasks only the stored columns are read: the working ones are freed before
        # the snapshot's write
        snap.customers = results
        summary = {**frame_summary(results), **_advice_summary(snap.meta),
                   "tasks_created": tasks.summary().get("created")}
        progress(f"writing snapshot {period} ({len(results)} customers)")
        run_id = store.commit_run(
            period=period, as_of=as_of, config_hash=cfg.config_hash(), engine=cfg.engine.backend,
            results=results, tables=snap.tables,
            meta={"summary": summary, **snap.meta, "backtest": bt.meta,
                  "previous_run": before and before["run_id"], "tasks": tasks.summary(),
                  "config": cfg.model_dump(mode="json")},
            before_commit=before_commit, also=tasks.write)
    # the backtest's headline is worded for the caller, not stored (the store keeps its figures)
    summary["backtest"] = backtest_headline(bt.meta, snap.meta.get("language") or "en")
    return RunResult(run_id, period, as_of, len(results), cfg.engine.backend, summary, warnings)


def _release_memory() -> None:
    """Free what is no longer referenced (the replay's frames) and hand the freed heap pages
    back to the system (glibc's ``malloc_trim``; elsewhere only the collection): the run's
    own frames are then not counted on top of the replay's freed but still resident memory."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the allocator keeps its own pages
        pass


def _replay(store: Store, engine: Any = None) -> Callable[[Config, dt.date], Any]:
    """What the product says at an earlier date, for the backtest: the snapshot from the orders
    up to it, without keeping its features (a warehouse's results table keeps the run's own),
    computing only what the backtest reads of it; on ``engine`` when given (the run's)."""
    def snapshot_at(cfg: Config, date: dt.date) -> Any:
        return compute_snapshot(cfg, store, date, previous=None, keep_features=False,
                                replay=True, engine=engine)
    return snapshot_at


def backtest(cfg: Config, *, as_of: dt.date | None = None, horizon_days: int | None = None,
             progress: Any = lambda _: None) -> Backtest:
    """The backtest of the store's orders as of a date (default: the last order date).

    This is what ``tierwise backtest`` prints; ``tierwise run`` stores the same with the run.
    """
    from .engine.orders import OrderTable

    with Store(cfg.store_path) as store, run_engine(cfg, store) as engine:
        orders = OrderTable.of(engine)
        days, _ = orders.order_days()
        as_of = as_of or cfg.as_of or (days[-1] if days else None)
        if as_of is None:
            raise ConfigError(f"store {cfg.store_path} has no orders",
                              "run 'tierwise ingest' first (or 'tierwise demo')")
        return backtest_in_store(cfg, store, as_of, snapshot_at=_replay(store, engine),
                                 horizon_days=horizon_days, progress=progress, force=True,
                                 orders=orders)


#: Per-customer groupings the run's ``top_products`` table ranks products in.
TOP_PRODUCT_GROUPS = ("tier", "segment", "activity_state")
#: The per-customer grouping whose common products are a customer's cross-sell hints.
CROSS_SELL_GROUP = "tier"


def _add_items(store: Store, snap: Any, as_of: dt.date) -> None:
    """Favourite products and cross-sell hints per customer and top products per tier /
    segment, from order lines."""
    if not store.has_order_lines():
        return
    fav = store.favourite_products(as_of)
    snap.customers = snap.customers.merge(fav, on="customer_key", how="left")
    # what the customer's tier commonly buys and they never did: the call's cross-sell hint
    hints = store.cross_sell_hints(as_of, snap.customers, by=CROSS_SELL_GROUP)
    snap.customers = snap.customers.merge(hints, on="customer_key", how="left")
    snap.tables["top_products"] = store.top_products(as_of, snap.customers,
                                                     by=TOP_PRODUCT_GROUPS)


def _add_retention(orders: Any, snap: Any, as_of: dt.date) -> None:
    """Cohorts and repeat / churn rates from the orders (:mod:`tierwise.lifecycle.retention`)."""
    from .lifecycle.retention import retention_tables

    snap.tables.update(retention_tables(orders, as_of, snap.customers))


def _add_loyalty(cfg: Config, orders: Any, snap: Any, as_of: dt.date) -> None:
    """Loyalty levels from the orders (:mod:`tierwise.loyalty.levels`), when configured."""
    if not cfg.loyalty.level:
        return
    from .loyalty.levels import compute_levels, level_counts, window_spend

    levels = compute_levels(window_spend(orders, as_of, cfg.loyalty.window), as_of,
                            cfg.loyalty)
    snap.customers = snap.customers.merge(levels, on="customer_key", how="left")
    snap.tables["loyalty_levels"] = level_counts(levels, cfg.loyalty)
def _add_feedback(cfg: Config, store: Store, snap: Any, as_of: dt.date) -> None:
    """Satisfaction and feedback by value (:mod:`tierwise.feedback`), when there are answers
    or feedback rows."""
    from .feedback import feedback_tables

    snap.tables.update(feedback_tables(store.con, as_of, snap.customers, cfg.feedback))


def _add_prospects(cfg: Config, store: Store, snap: Any, as_of: dt.date, orders: Any) -> None:
    """Prospects graded apart, conversions and the grades' check
    (:mod:`tierwise.tiering.prospects`); nothing when there is no prospect and no lead."""
    from .tiering.prospects import prospect_tables

    if not cfg.prospects.enabled:
        return
    leads = store.leads_frame(as_of)
    if not len(leads) and not snap.customers["frequency"].isna().any():
        return
    tables, info = prospect_tables(snap.customers, leads, orders.first_orders(as_of),
                                   cfg.prospects, as_of)
    snap.tables.update(tables)
    snap.meta["prospects"] = info
def _add_contracts(cfg: Config, store: Store, snap: Any, as_of: dt.date) -> None:
    """Renewals (:mod:`tierwise.lifecycle.renewals`) and cost to serve
    (:mod:`tierwise.segments.cost_to_serve`), when the store holds contracts or costs."""
    from .lifecycle.renewals import renewal_step
    from .segments.cost_to_serve import cost_to_serve_step

    renewal_step(store.con, snap, as_of, cfg.contracts)
    cost_to_serve_step(store.con, snap, as_of, cfg.cost_to_serve)


def _advice_summary(meta: dict[str, Any]) -> dict[str, Any]:
    """The activity mode with its reason, for the run's summary."""
    activity = meta.get("activity") or {}
    return {"activity_mode": activity.get("mode"),
            "activity_mode_reason": activity.get("reason"),
            "policy_basis": activity.get("policy_basis")}
