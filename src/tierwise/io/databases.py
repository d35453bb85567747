"""Reading a table or a query from PostgreSQL, MySQL/MariaDB or a DuckDB file.

URLs: ``postgresql://user:pass@host:5432/db``, ``mysql://user:pass@host:3306/db`` and
``duckdb:///relative/file.duckdb`` (relative to the config file) or ``duckdb:////abs/file.duckdb``.

- PostgreSQL (psycopg 3, extra ``postgres``): ``COPY (SELECT ...) TO STDOUT (FORMAT csv)`` streamed
  into memory and parsed by the CSV reader: 1M rows in about a second, where fetching rows through
  a cursor or Ibis takes tens of seconds. The session is read-only, in UTC, with ISO dates.
- MySQL / MariaDB (pymysql, extra ``mysql``): an unbuffered server-side cursor read with
  ``fetchmany`` in chunks.
- DuckDB: opened read-only, fetched as Arrow.

A table name is validated against ``name`` or ``schema.name`` (letters, digits, underscores) and
quoted as an identifier; SQL is never built from values. A ``query`` comes from the config file and
is run as written (in a read-only transaction for PostgreSQL).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pandas as pd

from ..errors import DataContractError, MissingDependencyError
from .readers import RawTable, arrow_to_raw, column_names, read_csv_bytes

_IDENT = re.compile(r"^[^\W\d]\w*(\.[^\W\d]\w*)?$")
_PG_NUMERIC = {20, 21, 23, 26, 700, 701, 1700}  # int8 int2 int4 oid float4 float8 numeric
_MY_FLOAT = {4, 5}
_MY_NUMERIC_TEXT = {0, 1, 2, 3, 8, 9, 13, 246}
_CHUNK = 50_000


def redact(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages and ``_source``)."""
    return re.sub(r"^([a-zA-Z0-9+.-]+://[^:/@]*):[^@]*@", r"\1:***@", url)


def scheme_of(url: str) -> str:
    return url.split(":", 1)[0].lower()


def source_label(url: str, table: str | None) -> str:
    return f"{redact(url)} {'table ' + table if table else '(query)'}"


def table_parts(table: str, *, label: str, section: str) -> list[str]:
    """``schema.table`` split and validated, or a DataContractError."""
    if not _IDENT.match(table):
        raise DataContractError(
            f"{label}: table name {table!r} is not a plain name or schema.name",
            f"set table under [{section}] to letters, digits and underscores "
            "(e.g. 'public.orders'), or use query = 'SELECT ...' instead",
        )
    return table.split(".")


def read_database(url: str, *, table: str | None, query: str | None, base_dir: Path,
                  section: str = "sources") -> RawTable:
    """Read ``table`` or ``query`` from the database at ``url`` into a :class:`RawTable`.

    Raises
    ------
    MissingDependencyError
        When the driver (psycopg, pymysql) is not installed.
    DataContractError
        When the URL scheme is unknown, the server cannot be reached, or the read fails.
    """
    label = source_label(url, table)
    stem = table.split(".")[-1] if table else "query"
    parts = table_parts(table, label=label, section=section) if table else None
    sql_text = (query or "").strip().rstrip(";").strip()
    scheme = scheme_of(url)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        raw = _read_postgres(url, parts, sql_text, label, stem, section)
    elif scheme in ("mysql", "mariadb", "mysql+pymysql"):
        raw = _read_mysql(url, parts, sql_text, label, stem, section)
    elif scheme == "duckdb":
        raw = _read_duckdb(url, parts, sql_text, label, stem, base_dir, section)
    else:
        raise DataContractError(f"{label}: unsupported database URL scheme {scheme!r}",
                                f"use postgresql://, mysql:// or duckdb:/// under [{section}]")
    return raw


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------------------------- PostgreSQL


def _read_postgres(url, parts, query, label, stem, section) -> RawTable:
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        raise MissingDependencyError("psycopg", "postgres", "reading from PostgreSQL") from None
    conninfo = re.sub(r"^[a-zA-Z0-9+.-]+://", "postgresql://", url)
    try:
        conn = psycopg.connect(conninfo, connect_timeout=10, client_encoding="utf8")
    except psycopg.Error as exc:
        raise DataContractError(f"{label}: cannot connect ({_first_line(exc)})",
                                f"check url under [{section}] and that the server is running"
                                ) from None
    inner = (sql.SQL("SELECT * FROM {}").format(sql.Identifier(*parts)) if parts
             else sql.SQL(query))
    buf = bytearray()
    try:
        with conn:
            conn.read_only = True
            conn.execute("SET TIME ZONE 'UTC'")
            conn.execute("SET DateStyle TO ISO, YMD")
            with conn.cursor() as cur:
                cur.execute(sql.SQL("SELECT * FROM ({}) AS q LIMIT 0").format(inner))
                types = [d.type_code for d in (cur.description or [])]
                copy_sql = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER true)"
                                   ).format(inner)
                with cur.copy(copy_sql) as copy:
                    for chunk in copy:
                        buf += chunk
    except psycopg.Error as exc:
        raise DataContractError(f"{label}: the read failed ({_first_line(exc)})",
                                f"check table / query under [{section}]") from None
    if not buf:
        raise DataContractError(f"{label}: the query returned no columns",
                                f"check table / query under [{section}]")
    raw = read_csv_bytes(buf, label=label, stem=stem, delimiter=",", encoding=None,
                         section=section, record_numbers=True)
    raw.machine = {i for i, t in enumerate(types) if t in _PG_NUMERIC}
    return raw


# ------------------------------------------------------------------------------ MySQL / MariaDB


def _mysql_params(url: str) -> dict:
    u = urlsplit(url)
    params = {"host": u.hostname or "localhost", "port": u.port or 3306,
              "user": unquote(u.username) if u.username else "root",
              "password": unquote(u.password) if u.password else "",
              "database": unquote(u.path.lstrip("/")) or None}
    for item in filter(None, u.query.split("&")):
        key, _, value = item.partition("=")
        if key == "unix_socket":
            params["unix_socket"] = unquote(value)
    return params


def _mysql_column(values: list, type_code: int) -> tuple[pd.Series, bool]:
    import datetime as dt

    if type_code in _MY_FLOAT:
        floats = [np.nan if v is None else float(v) for v in values]
        return pd.Series(floats, dtype="float64"), False
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, (dt.datetime, dt.date)) for v in present):
        return pd.Series(pd.to_datetime([pd.NaT if v is None else pd.Timestamp(v) for v in values])
                         ).astype("datetime64[us]"), False
    out = []
    for v in values:
        if v is None:
            out.append("")
        elif isinstance(v, (bytes, bytearray)):
            out.append(bytes(v).decode("utf-8", errors="replace"))
        elif isinstance(v, dt.datetime):
            out.append(v.isoformat(sep=" "))
        else:
            out.append(str(v))
    return pd.Series(out, dtype="str"), type_code in _MY_NUMERIC_TEXT


def _read_mysql(url, parts, query, label, stem, section) -> RawTable:
    try:
        import pymysql
        import pymysql.cursors
    except ImportError:
        raise MissingDependencyError("pymysql", "mysql", "reading from MySQL/MariaDB") from None
    try:
        conn = pymysql.connect(**_mysql_params(url), charset="utf8mb4", connect_timeout=10,
                               cursorclass=pymysql.cursors.SSCursor)
    except pymysql.MySQLError as exc:
        raise DataContractError(f"{label}: cannot connect ({_first_line(exc)})",
                                f"check url under [{section}] and that the server is running"
                                ) from None
    statement = ("SELECT * FROM " + ".".join(f"`{p}`" for p in parts)) if parts else query
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            desc = cur.description or ()
            cols: list[list] = [[] for _ in desc]
            while True:
                rows = cur.fetchmany(_CHUNK)
                if not rows:
                    break
                for col, vals in zip(cols, zip(*rows)):
                    col.extend(vals)
    except pymysql.MySQLError as exc:
        raise DataContractError(f"{label}: the read failed ({_first_line(exc)})",
                                f"check table / query under [{section}]") from None
    finally:
        conn.close()
    headers = [str(d[0]) for d in desc]
    series, machine = {}, set()
    for i, (name, col) in enumerate(zip(column_names(len(headers)), cols)):
        s, is_machine = _mysql_column(col, desc[i][1])
        series[name] = s
        if is_machine:
            machine.add(i)
    n = len(cols[0]) if cols else 0
    frame = pd.DataFrame(series, index=pd.RangeIndex(n))
    return RawTable(headers=headers, frame=frame, lines=np.arange(1, n + 1, dtype=np.int64),
                    label=label, stem=stem, machine=machine)


# -------------------------------------------------------------------------------------- DuckDB


def duckdb_path(url: str, base_dir: Path) -> Path:
    """``duckdb:///rel.duckdb`` -> base_dir/rel.duckdb; ``duckdb:////abs.duckdb`` -> /abs.duckdb.

    ``duckdb:///abs/file.duckdb`` is taken as absolute when that file exists.
    """
    rest = re.sub(r"^duckdb://", "", url, flags=re.IGNORECASE)
    rest = rest.split("?", 1)[0]
    if rest.startswith("//"):
        return Path(rest[1:])
    if rest.startswith("/"):
        if Path(rest).exists():
            return Path(rest)
        rest = rest[1:]
    p = Path(rest).expanduser()
    return p if p.is_absolute() else base_dir / p


def _read_duckdb(url, parts, query, label, stem, base_dir, section) -> RawTable:
    import duckdb

    path = duckdb_path(url, base_dir)
    if not path.is_file():
        raise DataContractError(f"{label}: DuckDB file not found ({path})",
                                f"check url under [{section}] (duckdb:///relative/path.duckdb)")
    statement = ("SELECT * FROM " + ".".join(f'"{p}"' for p in parts)) if parts else query
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise DataContractError(f"{label}: cannot open ({_first_line(exc)})",
                                "close other programs writing to it, or check the file") from None
    try:
        rel = con.sql(statement)
        if rel is None:
            raise DataContractError(f"{label}: the query returned no rows or columns",
                                    f"use a SELECT statement as query under [{section}]")
        fetch = getattr(rel, "to_arrow_table", None) or rel.fetch_arrow_table
        table = fetch()
    except duckdb.Error as exc:
        raise DataContractError(f"{label}: the read failed ({_first_line(exc)})",
                                f"check table / query under [{section}]") from None
    finally:
        con.close()
    return arrow_to_raw(table, label=label, stem=stem)


__all__ = ["duckdb_path", "read_database", "redact", "source_label", "table_parts"]
