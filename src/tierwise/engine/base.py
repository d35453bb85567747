"""The engine seam: where per-customer computation runs.

An :class:`Engine` hands out the orders as an Ibis table, runs an expression built on it and
either returns the result to Python (:meth:`Engine.to_pandas`) or keeps it in the backend
(:meth:`Engine.materialize`). The feature expressions of :mod:`tierwise.features` are written
once against that table; the engines differ only in where the table lives.
"""

from __future__ import annotations

import abc
import datetime as dt
import re
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Self

from ..errors import ConfigError
from ..features.behaviour import feature_expr, rfm_expr
from ..features.periods import PeriodKind

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def split_table_name(name: str, *, key: str = "table name") -> tuple[str | None, str]:
    """``"schema.table"`` -> ``("schema", "table")``; ``"table"`` -> ``(None, "table")``.

    Raises
    ------
    ConfigError
        When the name is not one or two plain SQL identifiers.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"{key} {name!r} is not a plain SQL table name",
            "use letters, digits and '_' (optionally 'schema.table'), e.g. 'tierwise_features'",
        )
    schema, _, table = name.rpartition(".")
    return (schema or None), table


class Engine(abc.ABC):
    """Where per-customer features are computed.

    Subclasses set :attr:`name` and implement :meth:`orders`, :meth:`to_pandas` and
    :meth:`materialize`; :meth:`close` releases what the engine opened (never what it was
    given). Engines are context managers.

    Examples
    --------
    >>> import datetime as dt, duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE orders AS SELECT 1::BIGINT AS customer_key, "
    ...     "DATE '2024-01-05' AS ordered_at, 20.0 AS amount, NULL::DOUBLE AS cost, "
    ...     "NULL::DOUBLE AS margin, false AS is_refund")
    >>> from tierwise.engine import DuckDBEngine
    >>> with DuckDBEngine(con) as engine:
    ...     engine.to_pandas(engine.rfm(dt.date(2024, 1, 31)))[["frequency", "T"]].values.tolist()
    [[0, 26]]
    """

    name: ClassVar[str]
    results_table: str = "tierwise_features"

    @abc.abstractmethod
    def orders(self) -> ir.Table:
        """The orders as an Ibis table with the store's columns (see ``ORDER_COLUMNS``)."""

    @abc.abstractmethod
    def to_pandas(self, expr: ir.Table) -> pd.DataFrame:
        """Run ``expr`` in the backend and return the result as a pandas DataFrame."""

    @abc.abstractmethod
    def materialize(self, expr: ir.Table, table_name: str | None = None) -> None:
        """Run ``expr`` and keep the result in the backend as ``table_name``.

        ``table_name`` defaults to :attr:`results_table`; an existing table of that name is
        replaced.
        """

    def close(self) -> None:  # noqa: B027 - optional hook: most engines own nothing to release
        """Release the connections and sessions this engine opened itself."""

    def purchase_days(self) -> ir.Table | None:
        """The orders summed per customer and day (the store's ``purchase_days`` table,
        ``PURCHASE_DAY_COLUMNS``) where this engine has them in step with its orders, else None.

        Engines that read orders pushed or exported elsewhere (Spark, warehouses) have none:
        their features read the orders.
        """
        return None

    def features(self, as_of: dt.date, *, period: PeriodKind = "month") -> ir.Table:
        """:func:`~tierwise.features.feature_expr` over this engine's orders (their purchase-day
        totals where the engine has them: the same result from far fewer rows)."""
        days = self.purchase_days()
        if days is not None:
            return feature_expr(None, as_of, period=period, purchase_days=days)
        return feature_expr(self.orders(), as_of, period=period)

    def rfm(self, as_of: dt.date) -> ir.Table:
        """:func:`~tierwise.features.rfm_expr` over this engine's orders (their purchase-day
        totals where the engine has them)."""
        days = self.purchase_days()
        if days is not None:
            return rfm_expr(None, as_of, purchase_days=days)
        return rfm_expr(self.orders(), as_of)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


__all__ = ["Engine", "split_table_name"]
