"""Where the data comes from and how it is read: ``[sources]``, ``[intake]``, ``[store]``, ``[engine]``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ._base import _Section


CANONICAL_CUSTOMER_COLUMNS = (
    "customer_id", "name", "kind", "region", "city", "industry", "size", "age", "gender", "tags",
    "credit_rating", "account_manager", "phone", "email", "joined_at", "birthday",
)
CANONICAL_ORDER_COLUMNS = (
    "order_id", "customer_id", "ordered_at", "amount", "cost", "margin", "channel", "agent",
    "store", "status", "quantity", "unit_price", "line_amount", "product_id", "product_name",
    "category",
)
#: Lead columns (a lead's id is the id it buys under once it converts).
CANONICAL_LEAD_COLUMNS = (
    "customer_id", "captured_at", "name", "lead_source", "fit", "engagement", "industry", "size",
    "region", "city", "account_manager", "phone", "email",
)
#: Order columns that make a file line-level (one row per product line of an order).
LINE_COLUMNS = ("quantity", "unit_price", "line_amount", "product_id", "product_name", "category")


class SourceConfig(_Section):
    """Where one input comes from: a file (``path``) or a database (``url`` + ``table``/``query``)."""

    path: Path | None = Field(None, description="CSV, .xlsx or .parquet file, relative to the config file")
    url: str | None = Field(None, description="database URL: postgresql://, mysql://, duckdb:///file.duckdb")
    table: str | None = Field(None, description="table to read from the database")
    query: str | None = Field(None, description="SELECT statement to read from the database")
    format: Literal["auto", "csv", "xlsx", "parquet"] = Field(
        "auto", description="file format; auto: from the file name's extension")
    encoding: str = Field("auto", description="auto | utf-8 | utf-8-sig | gbk | gb18030 | ...")
    sheet: str | int = Field(0, description="Excel sheet by name or 0-based index")
    delimiter: str | None = Field(None, description="CSV delimiter; detected when not set")
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="canonical name -> header in this file, e.g. customer_id = '会员卡号'",
    )

    @model_validator(mode="after")
    def _one_origin(self) -> SourceConfig:
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of 'path' (a file) or 'url' (a database)")
        if self.url is not None and (self.table is None) == (self.query is None):
            raise ValueError("with 'url', give exactly one of 'table' or 'query'")
        return self


class SourcesConfig(_Section):
    """The inputs: orders (required by ingest); customers, a survey, leads, feedback, contracts
    and costs (optional)."""

    orders: SourceConfig | None = Field(
        None, description="orders: customer_id, ordered_at, amount (+ cost, channel, agent ...)")
    customers: SourceConfig | None = Field(
        None, description="customers: customer_id and attributes (name, account_manager ...)")
    survey: SourceConfig | None = Field(
        None, description="optional survey answers: customer_id, answered_at, score (CSAT 1-5 "
                          "or NPS 0-10), comment, aspect scores taste, service, setting (1-5); "
                          "read with the same [intake] rules as orders")
    leads: SourceConfig | None = Field(
        None, description="optional leads (prospects without purchases): customer_id, "
                          "captured_at, and lead_source, fit (1-5), engagement, size, industry "
                          "...; graded by [prospects], followed when they buy")
    feedback: SourceConfig | None = Field(
        None, description="optional complaints and comments: customer_id, received_at, channel, "
                          "category, text, resolved; read with the same [intake] rules")
    contracts: SourceConfig | None = Field(
        None, description="optional B2B contracts: customer_id, starts_at, ends_at, value "
                          "(+ contract_id, product); see docs/contracts.md")
    costs: SourceConfig | None = Field(
        None, description="optional cost to serve: customer_id or segment, period, cost_type "
                          "(visits, discounts, service, logistics, other), amount")


class IntakeConfig(_Section):
    """Rules applied to every input row at the door."""

    decimal: Literal[".", ","] = Field(".", description="decimal mark in amounts")
    date_format: str | None = Field(
        None, description="strftime format that settles day/month ambiguity, e.g. '%d/%m/%Y'")
    on_missing_customer: Literal["create", "reject"] = Field(
        "create", description="orders whose customer is not in the customers file")
    refund_statuses: list[str] = Field(
        default_factory=lambda: ["refunded", "refund", "returned", "已退款", "退款", "退货"],
        description="status values that mark a refund (case-insensitive)")
    cancel_prefixes: list[str] = Field(
        default_factory=lambda: ["C"],
        description="order id prefixes that mark a cancellation (a refund), e.g. 'C536379' in "
                    "the UCI Online Retail export; only read so when followed by a digit and "
                    "when fewer than half of the rows carry the prefix; [] turns it off")
    future_tolerance_days: int = Field(
        0, ge=0, description="allowed days after as_of and after the day of ingest")
    earliest_date: dt.date = Field(
        dt.date(1980, 1, 1), description="rows dated before this day are rejected (a typo such as "
                                         "1920 for 2020, or a placeholder date)")
    max_amount: float = Field(
        1e10, gt=0, description="amounts (and costs, margins) larger than this in absolute value "
                                "are rejected: no real order is that big, a typo or 1e308 is")
    rejects_dir: Path = Field(Path("rejects"), description="folder for rejects files")
    aliases: dict[str, list[str]] = Field(
        default_factory=dict, description="extra header aliases: canonical = ['header', ...]")


class StoreConfig(_Section):
    path: Path = Field(Path("tierwise.duckdb"), description="the DuckDB store file")


class EngineConfig(_Section):
    """Where per-customer features are computed."""

    backend: Literal["duckdb", "spark", "postgres", "mysql"] = Field(
        "duckdb", description="duckdb (embedded, default), spark, or a postgres / mysql warehouse")
    url: str | None = Field(
        None, description="spark master (e.g. 'local[2]') or warehouse URL (postgresql://, mysql://)")
    orders_table: str = Field("tierwise_orders", description="warehouse table holding the orders")
    push_orders: bool = Field(
        True, description="postgres / mysql: load the store's orders into orders_table before "
                          "each run (false: the table is kept up to date by you)")
    staging_dir: Path | None = Field(
        None, description="spark: folder the store's orders are exported to as Parquet; must be "
                          "readable by every executor on a cluster (default: a local temp folder)")
    orders_path: str | None = Field(
        None, description="spark: read the orders from this Parquet file or (partitioned) folder, "
                          "relative to the config file or a URL Spark reads (hdfs://, s3a://), "
                          "mapped as [sources.orders] maps headers and checked row by row, "
                          "instead of exporting the store's orders (docs/engines.md)")
    results_table: str = Field("tierwise_features", description="warehouse table for results")

    @model_validator(mode="after")
    def _orders_path_on_spark(self) -> EngineConfig:
        if self.orders_path is not None and self.backend != "spark":
            raise ValueError(f"orders_path is read by the Spark engine only; backend is "
                             f"{self.backend!r}: set backend = 'spark' or remove orders_path")
        return self
