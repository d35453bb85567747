"""Reading customers, orders and survey answers into canonical columns; every bad row is rejected.

Public entry points:

- :func:`read_source` -> :class:`IntakeResult` (``frame`` + :class:`IntakeReport`): one file
  (CSV in UTF-8 / GBK / GB18030 ..., Excel .xlsx, Parquet) or one database table / query
  (PostgreSQL, MySQL/MariaDB, DuckDB). :func:`read_source_batches`: the same a batch of rows at
  a time, for large orders files (bounded memory).
- :func:`reconcile_customers`: orders whose customer is missing either create flagged customers or
  are rejected (``intake.on_missing_customer``).
- :func:`reject_unknown_customers`: rows of other inputs (the optional survey) whose customer is
  unknown are rejected with their line and reason.
- :func:`inspect_source` / :func:`check_source`: every problem with a source, without writing
  anything (``tierwise validate``); ``check_source`` keeps problems that stop an ingest apart from
  rows an ingest would reject.

Modules, left to right: ``encoding`` (detect + decode), ``readers`` / ``databases`` (raw rows and
line numbers), ``headers`` (aliases -> canonical names), ``values`` (amounts, dates, text),
``contracts`` (row checks and reasons), ``rejects`` (the rejects file), ``intake`` (the flow).
"""

from .headers import BUILTIN_ALIASES, normalize_header
from .intake import (
    BATCH_ROWS,
    IntakeReport,
    IntakeResult,
    SourceCheck,
    check_source,
    inspect_source,
    read_source,
    read_source_batches,
    reconcile_customers,
    reject_unknown_customers,
)
from .rejects import read_rejects, rejects_path
from .values import parse_amount, parse_date

__all__ = [
    "BATCH_ROWS",
    "BUILTIN_ALIASES",
    "IntakeReport",
    "IntakeResult",
    "SourceCheck",
    "check_source",
    "inspect_source",
    "normalize_header",
    "parse_amount",
    "parse_date",
    "read_rejects",
    "read_source",
    "read_source_batches",
    "reconcile_customers",
    "reject_unknown_customers",
    "rejects_path",
]
