"""Orders read by Spark where they live: a Parquet file or a partitioned Parquet folder.

With ``[engine] orders_path`` (``backend = "spark"``) the Spark engine reads the orders from that
file or folder instead of a staging export of the store's orders. The headers are mapped as
``[sources.orders]`` maps them (``columns``, ``[intake] aliases``, the built-in Chinese and English
aliases), every row is checked in Spark, and a row that fails a check is not used but written to
the rejects file ``<rejects_dir>/<folder or file name>.orders.rejects.csv`` with its file, its row
number in that file (1-based) and the reason. Customers are the store's: an order of a customer
the store does not know is rejected (ingest the customers first).

Checks (the intake's, where Spark can make them row by row): customer_id present and known;
ordered_at a date (a DATE or TIMESTAMP column, or ISO text ``YYYY-MM-DD``), not before
``[intake] earliest_date`` nor after the config's ``as_of`` (+ ``future_tolerance_days``);
amount a number, its absolute value at most ``[intake] max_amount``; cost and margin numbers
when present. A refund is a negative amount or a status listed in
``[intake] refund_statuses``. Not done here (ingest the file to get them): order lines
(``quantity`` / ``unit_price`` columns are refused), cancellation prefixes, and the intake's
de-duplication of repeated orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..config.sources import LINE_COLUMNS
from ..errors import ConfigError, DataContractError
from ..io.headers import map_headers, raise_problems
from ..io.rejects import FIXED, rejects_path, write_rejects

if TYPE_CHECKING:
    import datetime as dt

    from ..config import Config

_SECTION = "sources.orders"


def _days(n: int) -> dt.timedelta:
    import datetime

    return datetime.timedelta(days=n)


@dataclass
class SparkOrdersSource:
    """Where Spark reads the orders and how (see the module's notes).

    Parameters
    ----------
    path
        A Parquet file, a folder of Parquet files (partitioned ``key=value`` sub-folders
        allowed) or a URL Spark reads (``hdfs://``, ``s3a://``).
    customers
        The store's customers: ``customer_id``, ``customer_key``.
    columns, aliases
        ``[sources.orders] columns`` and ``[intake] aliases``.
    refund_statuses, earliest_date, max_amount, decimal
        From ``[intake]``.
    rejects_dir
        Where the rejects file is written (replaced on each read, removed when nothing is
        rejected).
    """

    path: str
    customers: pd.DataFrame
    columns: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    refund_statuses: tuple[str, ...] = ()
    earliest_date: dt.date | None = None
    #: Rows dated after this day are rejected (the config's ``as_of`` plus
    #: ``[intake] future_tolerance_days``; None: no such check).
    latest_date: dt.date | None = None
    max_amount: float = 1e10
    decimal: str = "."
    timezone: str = "UTC"
    rejects_dir: Path = Path("rejects")
    #: Filled by :meth:`read`: rejected rows per reason, and the rejects file (None: none).
    rejected: dict[str, int] = field(default_factory=dict)
    rejects_file: Path | None = None

    @classmethod
    def from_config(cls, cfg: Config, customers: pd.DataFrame) -> SparkOrdersSource | None:
        """The source ``cfg.engine.orders_path`` names (None when it is not set)."""
        raw = cfg.engine.orders_path
        if raw is None:
            return None
        path = raw if "://" in raw else str(cfg.resolve(raw))
        source = cfg.sources.orders
        return cls(path=path, customers=customers,
                   columns=dict(source.columns) if source is not None else {},
                   aliases=dict(cfg.intake.aliases),
                   refund_statuses=tuple(s.strip().lower() for s in cfg.intake.refund_statuses),
                   earliest_date=cfg.intake.earliest_date, max_amount=cfg.intake.max_amount,
                   latest_date=None if cfg.as_of is None else cfg.as_of + _days(
                       cfg.intake.future_tolerance_days),
                   decimal=cfg.intake.decimal, timezone=cfg.timezone,
                   rejects_dir=cfg.rejects_dir)

    @property
    def stem(self) -> str:
        return Path(self.path.rstrip("/")).name or "orders"

    def read(self, session: Any) -> Any:
        """The accepted orders as a Spark DataFrame in the store's layout (``EXPORT_COLUMNS``);
        writes the rejects file."""
        from pyspark.sql import functions as F

        raw = _load(session, self.path)
        mapped = self._mapping(raw.columns)
        checked = _checked(raw, mapped, self, F)
        known = session.createDataFrame(
            self.customers[["customer_id", "customer_key"]].astype(
                {"customer_id": "string", "customer_key": "int64"}).rename(
                columns={"customer_id": "_cid", "customer_key": "_key"}))
        joined = checked.join(F.broadcast(known), on="_cid", how="left")
        reason = F.coalesce(F.col("_reason"), F.when(
            F.col("_key").isNull(),
            F.concat(F.lit("customer_id "), F.col("_cid"),
                     F.lit(" is not in the store: ingest the customers first"))))
        joined = joined.withColumn("_reason", reason)
        self._write_rejects(joined, mapped, F)
        return joined.filter(F.col("_reason").isNull()).select(
            F.col("_order_id").alias("order_id"), F.col("_key").alias("customer_key"),
            F.col("_date").alias("ordered_at"), F.col("_amount").alias("amount"),
            F.col("_cost").alias("cost"), F.col("_margin").alias("margin"),
            F.col("_refund").alias("is_refund"), F.col("_channel").alias("channel"),
            F.col("_agent").alias("agent"), F.col("_store").alias("store"))

    def _mapping(self, headers: list[str]) -> dict[str, str]:
        """Canonical name -> the Parquet column, as ``[sources.orders]`` maps headers."""
        hm = map_headers(list(headers), kind="orders", explicit=self.columns,
                         aliases=self.aliases, label=self.path, section=_SECTION)
        raise_problems(hm, label=self.path, section=_SECTION)
        lines = [c for c in LINE_COLUMNS if c in hm.canonical and c != "category"]
        if lines:
            raise ConfigError(
                f"{self.path}: order lines ({', '.join(hm.header_of(c) for c in lines)}) "
                "cannot be read by Spark from [engine] orders_path",
                "ingest the file (tierwise ingest) and leave orders_path unset")
        return {name: hm.header_of(name) for name in hm.canonical}

    def _write_rejects(self, joined: Any, mapped: dict[str, str], F: Any) -> None:  # noqa: N803
        bad = joined.filter(F.col("_reason").isNotNull())
        counts = bad.groupBy("_reason").count().collect()
        self.rejected = {str(r["_reason"]): int(r["count"]) for r in counts}
        target = rejects_path(self.rejects_dir, self.stem, "orders")
        if not self.rejected:
            self.rejects_file = write_rejects(pd.DataFrame(columns=list(FIXED)), target)
            return
        originals = list(dict.fromkeys(mapped.values()))
        rows = bad.select(F.col("_file").alias("source"), (F.col("_row") + 1).alias("line"),
                          F.col("_reason").alias("reason"),
                          *[F.col(f"`{c}`").cast("string").alias(c) for c in originals])
        frame = rows.orderBy("source", "line").toPandas()
        self.rejects_file = write_rejects(frame, target)


def _load(session: Any, path: str) -> Any:
    """The Parquet file or folder with each row's file and row number in it."""
    from pyspark.sql import functions as F

    if "://" not in path and not Path(path).exists():
        raise DataContractError(f"[engine] orders_path {path} not found",
                                "point orders_path at a Parquet file or folder of Parquet files")
    try:
        frame = session.read.parquet(path)
    except Exception as exc:  # AnalysisException: no Parquet files, unreadable schema
        raise DataContractError(f"Spark cannot read {path} as Parquet: "
                                f"{str(exc).strip().splitlines()[0]}",
                                "orders_path must be a Parquet file or a folder of them") from exc
    return frame.select("*", F.col("_metadata.file_path").alias("_file"),
                        F.col("_metadata.row_index").alias("_row"))


def _number(column: Any, decimal: str, F: Any) -> Any:  # noqa: N803
    """A column as a double: numbers as they are, text through a try-cast (NULL when bad)."""
    text = F.trim(column.cast("string"))
    if decimal == ",":
        text = F.regexp_replace(F.regexp_replace(text, r"\.", ""), ",", ".")
    return F.when(text == "", None).otherwise(text.try_cast("double"))


def _checked(raw: Any, mapped: dict[str, str], source: SparkOrdersSource, F: Any) -> Any:  # noqa: N803
    """The raw rows with the store's columns (``_cid``, ``_date``, ``_amount`` ...) and the first
    failed check's reason (``_reason``, NULL when the row passes)."""
    def col(name: str) -> Any:
        return F.col(f"`{mapped[name]}`") if name in mapped else F.lit(None)

    def text(name: str) -> Any:
        value = F.trim(col(name).cast("string"))
        return F.when(value == "", None).otherwise(value)

    kind = dict(raw.dtypes).get(mapped["ordered_at"], "string")
    day = col("ordered_at")
    if kind == "timestamp":  # an instant: its day where the business is ([timezone])
        date = F.to_date(F.from_utc_timestamp(day, source.timezone))
    elif kind in ("date", "timestamp_ntz"):
        date = day.cast("date")
    else:
        date = F.trim(day.cast("string")).try_cast("date")
    amount = _number(col("amount"), source.decimal, F)
    cost, margin = (_number(col(c), source.decimal, F) for c in ("cost", "margin"))
    status = F.lower(text("status"))
    refund = (amount < 0) | (status.isin(list(source.refund_statuses))
                             if source.refund_statuses and "status" in mapped else F.lit(False))
    checks = [
        (text("customer_id").isNull(), F.lit("customer_id is missing")),
        (day.isNull(), F.lit("ordered_at is missing")),
        (date.isNull(), F.concat(F.lit("ordered_at "), day.cast("string"),
                                 F.lit(" is not a date (use a DATE column or YYYY-MM-DD)"))),
        (col("amount").isNull() | (F.trim(col("amount").cast("string")) == ""),
         F.lit("amount is missing")),
        (amount.isNull(), F.concat(F.lit("amount "), col("amount").cast("string"),
                                   F.lit(" is not a number"))),
        (F.abs(amount) > source.max_amount,
         F.lit(f"amount is larger than [intake] max_amount = {source.max_amount:g}")),
    ]
    for name, value in (("cost", cost), ("margin", margin)):
        if name in mapped:
            checks.append((text(name).isNotNull() & value.isNull(),
                           F.concat(F.lit(f"{name} "), col(name).cast("string"),
                                    F.lit(" is not a number"))))
    if source.earliest_date is not None:
        checks.append((date < F.lit(source.earliest_date),
                       F.lit(f"ordered_at is before [intake] earliest_date = "
                             f"{source.earliest_date}")))
    if source.latest_date is not None:
        checks.append((date > F.lit(source.latest_date),
                       F.concat(F.lit("ordered_at "), date.cast("string"),
                                F.lit(f" is after as_of (+ [intake] future_tolerance_days) = "
                                      f"{source.latest_date}"))))
    reason = None
    for failed, why in reversed(checks):
        reason = F.when(failed, why) if reason is None else F.when(failed, why).otherwise(reason)
    return raw.select(
        "*", text("customer_id").alias("_cid"), text("order_id").alias("_order_id"),
        date.alias("_date"), amount.alias("_amount"), cost.alias("_cost"),
        margin.alias("_margin"), F.coalesce(refund, F.lit(False)).alias("_refund"),
        col("channel").cast("string").alias("_channel"),
        col("agent").cast("string").alias("_agent"), text("store").alias("_store"),
        reason.alias("_reason"))


__all__ = ["SparkOrdersSource"]
