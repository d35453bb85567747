"""The config file (``tierwise.toml``), modelled with pydantic.

Every default of tierwise lives here and only here. :func:`load_config` reads a file, validates it
and reports every problem at once in a :class:`~tierwise.errors.ConfigError`, each problem naming
the file, the key, the bad value and the fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError

CANONICAL_CUSTOMER_COLUMNS = (
    "customer_id", "name", "kind", "region", "city", "industry", "size", "age", "gender", "tags",
    "credit_rating", "account_manager", "phone", "email", "joined_at",
)
CANONICAL_ORDER_COLUMNS = (
    "order_id", "customer_id", "ordered_at", "amount", "cost", "margin", "channel", "agent",
    "store", "status",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SourceConfig(_Section):
    """Where one input comes from: a file (``path``) or a database (``url`` + ``table``/``query``)."""

    path: Path | None = Field(None, description="CSV, .xlsx or .parquet file, relative to the config file")
    url: str | None = Field(None, description="database URL: postgresql://, mysql://, duckdb:///file.duckdb")
    table: str | None = Field(None, description="table to read from the database")
    query: str | None = Field(None, description="SELECT statement to read from the database")
    format: Literal["auto", "csv", "xlsx", "parquet"] = "auto"
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
    orders: SourceConfig | None = None
    customers: SourceConfig | None = None


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
    future_tolerance_days: int = Field(0, ge=0, description="allowed days after as_of")
    rejects_dir: Path = Field(Path("rejects"), description="folder for rejects files")
    aliases: dict[str, list[str]] = Field(
        default_factory=dict, description="extra header aliases: canonical = ['header', ...]")


class StoreConfig(_Section):
    path: Path = Field(Path("tierwise.duckdb"), description="the DuckDB store file")


class EngineConfig(_Section):
    """Where per-customer features are computed."""

    backend: Literal["duckdb", "spark", "postgres", "mysql"] = "duckdb"
    url: str | None = Field(
        None, description="spark master (e.g. 'local[2]') or warehouse URL (postgresql://, mysql://)")
    orders_table: str = Field("tierwise_orders", description="warehouse table holding the orders")
    results_table: str = Field("tierwise_features", description="warehouse table for results")


# ---- value models (issue: customer value) ----
# <models-sections>

# ---- pyramid, scorecard, key accounts ----
# <tiering-sections>

# ---- activity states, attendance, monitoring ----
# <lifecycle-sections>

# ---- segment schemes and clustering ----
# <segments-sections>


class Config(_Section):
    """The whole ``tierwise.toml``."""

    name: str = Field("tierwise", description="a label for reports")
    currency: str = Field("CNY", description="ISO 4217 code used in reports")
    timezone: str = Field("Asia/Shanghai", description="IANA time zone of the business")
    as_of: dt.date | None = Field(None, description="as-of date; default: the last order date")
    period: Literal["month", "quarter"] = Field("month", description="snapshot period")
    language: Literal["auto", "zh", "en"] = "auto"
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    intake: IntakeConfig = Field(default_factory=IntakeConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    # <models-fields>
    # <tiering-fields>
    # <lifecycle-fields>
    # <segments-fields>

    # Set by load_config: the folder relative paths are resolved against, and the file itself.
    base_dir: Annotated[Path, Field(exclude=True)] = Path(".")
    config_file: Annotated[Path | None, Field(exclude=True)] = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; use an IANA name such as 'Asia/Shanghai'") from None
        return value

    def resolve(self, path: Path | str) -> Path:
        """A path from the config, made absolute against the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def store_path(self) -> Path:
        return self.resolve(self.store.path)

    @property
    def rejects_dir(self) -> Path:
        return self.resolve(self.intake.rejects_dir)

    def config_hash(self) -> str:
        """A short, stable hash of the settings that change results (not of paths)."""
        data = self.model_dump(mode="json", exclude={"sources", "store", "language", "as_of"})
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if not str(p).startswith("function-")) or "(top level)"


def _describe(err: dict[str, Any]) -> str:
    key = _location(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"key '{key}' is not a tierwise setting (remove it or check its spelling)"
    if err["type"] == "missing":
        return f"key '{key}' is required"
    value = err.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    return f"key '{key}'{shown}: {msg}"


def parse_config(data: dict[str, Any], *, source: str = "<config>", base_dir: Path | None = None
                 ) -> Config:
    """Validate a config mapping; raise one ConfigError listing every problem."""
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        problems = [f"{source}: {_describe(e)}" for e in exc.errors()]
        raise ConfigError(
            f"{source} has {len(problems)} problem(s):\n  " + "\n  ".join(problems),
            problems=problems,
        ) from None
    cfg.base_dir = (base_dir or Path(".")).resolve()
    return cfg


def load_config(path: Path | str) -> Config:
    """Read and validate ``tierwise.toml``.

    Raises
    ------
    ConfigError
        When the file is missing, is not valid TOML, or has invalid settings (all listed).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found",
                          "create one with 'tierwise init' or pass --config PATH")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text", "save the config file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}",
                          "check quotes and brackets on that line") from None
    cfg = parse_config(data, source=str(path), base_dir=path.resolve().parent)
    cfg.config_file = path.resolve()
    return cfg


__all__ = [
    "Config", "SourceConfig", "SourcesConfig", "IntakeConfig", "StoreConfig", "EngineConfig",
    "load_config", "parse_config", "CANONICAL_CUSTOMER_COLUMNS", "CANONICAL_ORDER_COLUMNS",
]
