"""Value parsing at the door: text, ids, amounts and dates, vectorised (Arrow compute + numpy).

Every parser takes a pandas Series as a reader gives it (text, or natively numeric / datetime) and
returns arrays aligned with it, plus masks for empty and invalid values; nothing loops over rows in
Python, so 10M rows are fine. A common shape takes a fast path (a plain number, an ISO date); the
rest goes through the full rules.

Result types (what the store ingests without conversion):

- amounts: ``float64`` numpy arrays;
- dates (``ordered_at``, ``joined_at``): a pandas ``ArrowDtype(pa.date32())`` column, i.e. a real
  DATE: DuckDB reads it as DATE with no cast, and elements are ``datetime.date``;
- text: pandas' string dtype with missing values as NaN.

Amounts accept ``¥ ￥ 元 RMB CNY $``, spaces, thousands separators in groups of three, ``(12.50)``
and ``12.50-`` as negatives, full-width digits, and ``decimal = ","`` (then ``.`` groups
thousands). A separator that is not a thousands group (``12,5`` with ``decimal = "."``) makes the
value invalid, never a silently different number.

Dates accept ISO (``2026-10-03``, ``2026-10-03 19:42:11``, ``T``, fractions, offsets ``+08:00`` /
``+0800`` / ``+08`` / ``Z``), ``2026/10/3``, ``2026.10.03``, ``20261003`` (``20261003194211``),
``2026年10月3日`` (with an optional time) and native datetimes. A weekday written next to the date
(``2018-01-01 星期一``, ``周一``, ``(一)``, ``Mon``, ``Monday``, ``Fri, 2018-01-05``) is set aside: the date
is trusted, and when some weekdays do not match their dates one warning says so. Excel serial numbers
(``45568`` = 2024-10-03) are read only from numeric cells (an Excel number, not text) and only when
they fall in 1950-2100; a 5-digit number in a text column is invalid, with a hint. Years outside
1900-2199 are invalid, and so is a day that does not exist (``2018-02-29``: the reason says February
2018 has 28 days). UTC offsets must lie between -12:00 and +14:00 (``+25:00`` is invalid). A value
with an offset is converted to the business time zone before its date is taken; a value without one
is already local business time.
Day/month forms (``03/04/2026``) follow ``date_format`` when it is set; otherwise the column
settles it when some value can only be day/month (``25/04/2026``) and none only month/day, or the
reverse; when every such value reads both ways the parser refuses to guess
(:class:`~tierwise.errors.DataContractError`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataContractError

# Trimmed from both ends of every text value: Unicode spaces (NBSP, full-width space ...) and
# invisible characters (zero-width space, BOM). Inside a value they are left alone.
_TRIM = (" \t\n\r\v\f\x1c\x1d\x1e\x1f\x85\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
         "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
         "\u200b\u200c\u200d\u2060\ufeff")
DATE_DTYPE = pd.ArrowDtype(pa.date32())


# ---------------------------------------------------------------------------------------- text


def is_datetime(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype)


def is_numeric(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
            and not isinstance(s.dtype, pd.StringDtype))


def raw_text(s: pd.Series) -> pa.Array:
    """The values as text exactly as read (``''`` for empty): Arrow large_string, no nulls."""
    if is_datetime(s):
        ts = pa.array(s)
        fmt = "%Y-%m-%d %H:%M:%S"
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            fmt += "%z"
        txt = pc.strftime(ts, format=fmt)
        txt = pc.replace_substring_regex(txt, r" 00:00:00$", "")
    elif is_numeric(s):
        arr = pa.array(s, from_pandas=True)
        if pa.types.is_floating(arr.type):
            arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, arr.type), arr)
            whole = pc.and_(pc.equal(pc.floor(arr), arr), pc.less(pc.abs(arr), 2.0 ** 53))
            as_int = pc.cast(pc.if_else(whole, arr, 0.0), pa.int64()).cast(pa.string())
            txt = pc.if_else(whole, as_int, pc.cast(arr, pa.string()))
        else:
            txt = pc.cast(arr, pa.string())
    elif isinstance(s.dtype, pd.StringDtype) or s.dtype == object:
        if s.dtype == object:
            s = s.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v))
                      else str(v))
        txt = pa.array(s, type=pa.large_string(), from_pandas=True)
    else:
        txt = pa.array(s.astype(str), type=pa.large_string())
    txt = pc.fill_null(txt.cast(pa.large_string()), "")
    return txt.combine_chunks() if isinstance(txt, pa.ChunkedArray) else txt


def _non_ascii(arr: pa.Array) -> bool:
    return len(arr) > 0 and not pc.all(pc.string_is_ascii(arr)).as_py()


def clean(arr: pa.Array) -> pa.Array:
    """Trim spaces (also NBSP, full-width) and invisible characters (ZWSP, BOM) at both ends."""
    if _non_ascii(arr):
        return pc.utf8_trim(arr, characters=_TRIM)
    return pc.ascii_trim_whitespace(arr)


def clean_text(s: pd.Series) -> pa.Array:
    return clean(raw_text(s))


def clean_id(s: pd.Series) -> pa.Array:
    """Ids as text: cleaned, leading zeros kept, Excel's ``1001.0`` -> ``1001``."""
    text = clean_text(s)
    if len(text) and pc.any(pc.match_substring(text, ".0")).as_py():
        text = pc.replace_substring_regex(text, r"^(\d+)\.0+$", r"\1")
    return text


def to_series(arr: pa.Array, index: pd.Index, *, empty_as_na: bool = True) -> pd.Series:
    """Arrow text -> pandas string Series (``''`` -> NaN unless told otherwise)."""
    if empty_as_na:
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)
    return pd.Series(arr.to_pandas(), index=index).astype("str")


# ------------------------------------------------------------------------------------- amounts


@dataclass
class Parsed:
    """Values plus per-row masks; ``hint`` names a fix for some invalid rows."""

    values: np.ndarray
    empty: np.ndarray
    invalid: np.ndarray
    text: pa.Array
    hint: np.ndarray | None = None  # per row: '' or a fix
    warnings: list[str] = field(default_factory=list)
    day_first: bool | None = None  # the day/month order the dates settled, if they had to


_PLAIN = {".": r"^[+-]?(\d+(\.\d*)?|\.\d+)$", ",": r"^[+-]?(\d+(,\d*)?|,\d+)$"}
_GROUPED = {
    ".": r"^[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d*)?$|^[+-]?\.\d+$|^[+-]?\d+(\.\d*)?[eE][+-]?\d+$",
    ",": r"^[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d*)?$|^[+-]?,\d+$|^[+-]?\d+(,\d*)?[eE][+-]?\d+$",
}
_CURRENCY = r"(?i)(rmb|cny|usd|元|¥|￥|\$|€|£|\s)"


def _to_float(arr: pa.Array) -> np.ndarray:
    try:
        out = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out = pd.to_numeric(pd.Series(arr.to_pandas()), errors="coerce").to_numpy(np.float64)
    return np.asarray(out, dtype=np.float64)


def _normalise_numbers(arr: pa.Array, decimal: str) -> pa.Array:
    """Machine form of numbers written with ``decimal``: grouping removed, ``.`` as decimal."""
    group = "," if decimal == "." else "."
    arr = pc.replace_substring(arr, group, "")
    return pc.replace_substring(arr, ",", ".") if decimal == "," else arr


def parse_amount(s: pd.Series, *, decimal: str = ".", machine: bool = False) -> Parsed:
    """Parse money amounts.

    Parameters
    ----------
    s
        The column as read (text, or numeric).
    decimal
        ``"."`` or ``","``: the decimal mark of text values.
    machine
        Text written by a program (database output): ``.`` decimal whatever ``decimal`` says.

    Returns
    -------
    Parsed
        ``values`` float64 (NaN where empty or invalid), masks ``empty`` / ``invalid`` and a
        ``hint`` per invalid row (``set decimal = ',' in [intake]`` when that would read it).
    """
    n = len(s)
    if is_numeric(s):
        vals = s.to_numpy(dtype=np.float64, na_value=np.nan)
        empty = np.isnan(vals)
        invalid = ~empty & ~np.isfinite(vals)
        return Parsed(np.where(invalid, np.nan, vals), empty, invalid, _invalid_text(s, invalid),
                      np.full(n, "", dtype=object))
    decimal = "." if machine else decimal
    text = clean_text(s)
    empty = pc.equal(text, "").to_numpy(zero_copy_only=False)
    vals = np.full(n, np.nan)
    plain = pc.match_substring_regex(text, _PLAIN[decimal]).to_numpy(zero_copy_only=False)
    if plain.any():
        sub = pc.filter(text, pa.array(plain))
        if decimal == ",":
            sub = pc.replace_substring(sub, ",", ".")
        vals[plain] = _to_float(sub)
    rest = ~plain & ~empty
    hint = np.full(n, "", dtype=object)
    if rest.any():
        idx = np.flatnonzero(rest)
        vals[idx], hint[idx] = _messy_amounts(pc.take(text, pa.array(idx)), decimal)
    invalid = ~empty & ~np.isfinite(vals)
    vals[invalid] = np.nan
    return Parsed(vals, empty, invalid, text, hint)


def _has(arr: pa.Array, needle: str) -> bool:
    return bool(pc.any(pc.match_substring(arr, needle)).as_py())


def _messy_amounts(sub: pa.Array, decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """Amounts that are not plain numbers: currency marks, grouping, (negatives), full-width.

    Each rewrite runs only when some value needs it (a cheap substring test first).
    """
    sub = pc.replace_substring_regex(sub, _CURRENCY, "")
    if _non_ascii(sub):
        sub = pc.replace_substring(pc.utf8_normalize(sub, "NFKC"), "\u2212", "-")
        sub = pc.replace_substring_regex(sub, _CURRENCY, "")
    paren = np.zeros(len(sub), dtype=bool)
    if _has(sub, "("):
        paren = pc.match_substring_regex(sub, r"^\(.*\)$").to_numpy(zero_copy_only=False)
        sub = pc.replace_substring_regex(sub, r"^\((.*)\)$", r"\1")
    if pc.any(pc.ends_with(sub, "-")).as_py():
        sub = pc.replace_substring_regex(sub, r"^([0-9.,]*[0-9][0-9.,]*)-$", r"-\1")
    ok = pc.match_substring_regex(sub, _GROUPED[decimal]).to_numpy(zero_copy_only=False)
    got = np.full(len(sub), np.nan)
    if ok.any():
        got[ok] = _to_float(_normalise_numbers(pc.filter(sub, pa.array(ok)), decimal))
    got = np.where(paren, -np.abs(got), got)
    hint = np.full(len(sub), "", dtype=object)
    bad = np.flatnonzero(~ok)
    if len(bad):
        other = "," if decimal == "." else "."
        could = pc.match_substring_regex(sub.take(pa.array(bad)), _GROUPED[other])
        hint[bad[could.to_numpy(zero_copy_only=False)]] = f"set decimal = '{other}' in [intake]"
    return got, hint


_NUMBER = {".": r"^[+-]?(0|[1-9]\d*)(\.\d+)?$|^[+-]?0?\.\d+$",
           ",": r"^[+-]?(0|[1-9]\d*)(,\d+)?$|^[+-]?0?,\d+$"}


def numeric_or_none(s: pd.Series, *, decimal: str = ".", machine: bool = False
                    ) -> np.ndarray | None:
    """float64 values when every non-empty value is a plain number (no leading zeros), else None.

    Used for extra customer attributes: ``'0123'`` stays text (a code), ``'4.5'`` becomes 4.5.
    """
    if is_numeric(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    if is_datetime(s):
        return None
    decimal = "." if machine else decimal
    text = clean_text(s)
    empty = pc.equal(text, "")
    ok = pc.or_(empty, pc.match_substring_regex(text, _NUMBER[decimal]))
    if len(text) == 0 or not pc.all(ok).as_py() or pc.all(empty).as_py():
        return None
    vals = _to_float(pc.if_else(empty, pa.scalar(None, pa.large_string()),
                                _normalise_numbers(text, decimal)))
    return vals


# --------------------------------------------------------------------------------------- dates

_TIME = r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{1,2})(?::(?P<S>\d{1,2})(?:[.,]\d+)?)?)?"
_FAMILIES = (
    ("iso", r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})" + _TIME
     + r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"),
    ("compact", r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:[ T]?(?P<H>\d{2})(?P<M>\d{2})"
                + r"(?P<S>\d{2})?)?$"),
    ("zh", r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"
           + r"(?:\s*(?P<H>\d{1,2})\s*[:时]\s*(?P<M>\d{1,2})"
           + r"(?:\s*[:分]\s*(?P<S>\d{1,2})\s*秒?)?\s*分?)?$"),
)
_SERIAL = r"^(?P<n>\d{5})(?:\.(?P<f>\d+))?$"
#: Excel serials read from numeric cells: 1950-01-01 .. 2100-12-31.
SERIAL_RANGE = (18264, 73415)
_SERIAL_HINT = ("a number in a text column is not read as an Excel date serial: format the column "
                "as a date in Excel, or write dates as 2026-10-03")
_WEEKDAY = (r"(?i)[(\[]?\s*(?:(?:星期|周|礼拜)(?P<zh>[一二三四五六日天])|\b(?P<en>monday|tuesday|"
            r"wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|fri|sat|"
            r"sun)\b\.?)\s*[)\]]?,?|\((?P<zp>[一二三四五六日天])\)")
_WEEKDAY_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY_EN = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_LOOSE_YMD = r"^(?P<y>\d{4})\D{1,3}(?P<m>\d{1,2})\D{1,3}(?P<d>\d{1,2})"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DMY = (r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4})" + _TIME + r"$")
_EXCEL_EPOCH = -25569  # 1899-12-30 as days since 1970-01-01
_EPOCH_DATE = dt.date(1970, 1, 1)
_GENERIC_HINT = "write dates as 2026-10-03 (or set date_format in [intake])"


def _ints(col: pa.Array, default: int = 0) -> np.ndarray:
    filled = pc.if_else(pc.equal(pc.fill_null(col, ""), ""), pa.scalar(str(default)), col)
    return pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False)


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(days since 1970-01-01, valid) for civil dates, pure integer arithmetic
    (H. Hinnant's days_from_civil); valid means 1900 <= y <= 2199 and a real day of the month."""
    y, m, d = (np.asarray(a, dtype=np.int64) for a in (y, m, d))
    ok = (y >= 1900) & (y <= 2199) & (m >= 1) & (m <= 12) & (d >= 1)
    mm = np.where(ok, m, 1)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    ok &= d <= _MONTH_DAYS[mm] + (leap & (mm == 2))
    yy = y - (mm <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * (mm + np.where(mm > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return np.where(ok, era * 146097 + doe - 719468, 0), ok


def _time_ok(h, mi, se) -> np.ndarray:
    return (h < 24) & (mi < 60) & (se < 60)


def _offset_minutes(tz: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(has offset, minutes east of UTC, real offset) from 'Z', 'UTC', '+08', '+0800', '+08:00'.

    A real offset lies between -12:00 and +14:00 with minutes below 60."""
    t = pc.fill_null(tz, "")
    has = pc.not_equal(t, "").to_numpy(zero_copy_only=False)
    digits = pc.replace_substring_regex(t, r"[^0-9]", "")
    hh = _ints(pc.utf8_slice_codeunits(digits, 0, 2))
    mm = _ints(pc.utf8_slice_codeunits(digits, 2, 4))
    sign = np.where(pc.starts_with(t, "-").to_numpy(zero_copy_only=False), -1, 1)
    minutes = sign * (hh * 60 + mm)
    real = (mm < 60) & (minutes <= 14 * 60) & (minutes >= -12 * 60)
    return has, minutes, real


def _local_days_from_utc(utc_seconds: np.ndarray, timezone: str) -> np.ndarray:
    idx = pd.to_datetime(utc_seconds, unit="s", utc=True).tz_convert(timezone).tz_localize(None)
    return idx.to_numpy().astype("datetime64[D]").astype(np.int64)


def _family_days(kind: str, sub: pa.Array, pattern: str, timezone: str, hint: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(matched, days, valid) for the values in ``sub`` against one family; ``hint`` (aligned
    with ``sub``) receives the reason for a bad UTC offset."""
    st = pc.extract_regex(sub, pattern)
    matched = pc.is_valid(st).to_numpy(zero_copy_only=False)
    if not matched.any():
        zero = np.zeros(len(sub), np.int64)
        return matched, zero, np.zeros(len(sub), bool)
    st = pc.fill_null(st, pa.scalar({f.name: "" for f in st.type}, st.type))
    if kind == "serial":
        n = _ints(st.field("n"))
        days = n + _EXCEL_EPOCH
        return matched, days, matched & (n >= SERIAL_RANGE[0]) & (n <= SERIAL_RANGE[1])
    y, m, d = (_ints(st.field(k)) for k in ("y", "m", "d"))
    h, mi, se = (_ints(st.field(k)) for k in ("H", "M", "S"))
    days, ok = _days(y, m, d)
    ok &= _time_ok(h, mi, se) & matched
    if kind == "iso":
        has, off, real = _offset_minutes(st.field("tz"))
        unreal = has & ok & ~real
        if unreal.any():
            tz = st.field("tz").to_pylist()
            for i in np.flatnonzero(unreal):
                hint[i] = (f"the UTC offset {tz[i]} does not exist (offsets lie between -12:00 "
                           "and +14:00): fix the value")
            ok &= ~unreal
        has &= ok
        if has.any():
            secs = days[has] * 86400 + h[has] * 3600 + mi[has] * 60 + se[has] - off[has] * 60
            days = days.copy()
            days[has] = _local_days_from_utc(secs, timezone)
    return matched, days, ok


_FIXED_SEPS = {4: b"-", 7: b"-", 10: b" T", 13: b":", 16: b":"}


def _fixed_bytes(sub: pa.Array, width: int) -> np.ndarray:
    """The strings of ``sub`` (all ``width`` bytes long) as an (n, width) uint8 matrix."""
    sub = sub.cast(pa.large_string())
    offsets = np.frombuffer(sub.buffers()[1], dtype=np.int64)
    first = int(offsets[sub.offset])
    data = np.frombuffer(sub.buffers()[2], dtype=np.uint8)
    return data[first:first + width * len(sub)].reshape(len(sub), width)


def _digits_reader(m: np.ndarray):
    """``num(a, b)``: the integer written in columns a..b-1 of the byte matrix ``m``."""
    def num(a: int, b: int) -> np.ndarray:
        return sum((m[:, i].astype(np.int32) - 48) * 10 ** (b - 1 - i) for i in range(a, b))
    return num


def _fast_iso(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM`` and ``YYYY-MM-DD HH:MM:SS`` (or ``T``) read with
    numpy from the fixed byte positions: no regex, no per-value work."""
    n = len(text)
    fast, days, ok = np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(n, bool)
    lengths = pc.binary_length(text).to_numpy(zero_copy_only=False)
    for width in (10, 16, 19):
        sel = lengths == width
        if not sel.any():
            continue
        m = _fixed_bytes(text.filter(pa.array(sel)), width)
        shape = np.ones(len(m), bool)
        digit_cols = [i for i in range(width) if i not in _FIXED_SEPS]
        shape &= ((m[:, digit_cols] >= 48) & (m[:, digit_cols] <= 57)).all(axis=1)
        for pos, allowed in _FIXED_SEPS.items():
            if pos < width:
                shape &= np.isin(m[:, pos], np.frombuffer(allowed, np.uint8))
        num = _digits_reader(m)
        dd, good = _days(num(0, 4), num(5, 7), num(8, 10))
        if width > 10:
            good &= _time_ok(num(11, 13), num(14, 16), num(17, 19) if width == 19 else 0)
        idx = np.flatnonzero(sel)[shape]
        fast[idx], days[idx], ok[idx] = True, dd[shape], good[shape]
    return fast, days, ok


def _settle_dmy(a, b, y, *, label: str, text: pa.Array, lines: np.ndarray | None,
                settled: bool | None = None) -> bool:
    """True for day/month, False for month/day; DataContractError when the column cannot tell.

    ``settled``: the order earlier rows of the column settled (a file read in batches).
    """
    _, dm = _days(y, b, a)
    _, md = _days(y, a, b)
    only_dm, only_md = dm & ~md, md & ~dm

    def example(mask) -> str:
        i = int(np.flatnonzero(mask)[0])
        where = f" on line {lines[i]}" if lines is not None else ""
        return f"{text[i].as_py()!r}{where}"

    fix = "set date_format = '%d/%m/%Y' or '%m/%d/%Y' in [intake]"
    if only_dm.any() and only_md.any():
        raise DataContractError(
            f"{label}: dates mix day/month ({example(only_dm)}) and month/day "
            f"({example(only_md)}) order", fix + "; rows that do not match it are then rejected")
    if settled is not None:
        against = only_md if settled else only_dm
        if against.any():
            raise DataContractError(
                f"{label}: dates mix {'day/month' if settled else 'month/day'} (earlier rows) "
                f"and {'month/day' if settled else 'day/month'} ({example(against)}) order",
                fix + "; rows that do not match it are then rejected")
        return settled
    if only_dm.any():
        return True
    if only_md.any():
        return False
    both = dm & md & (a != b)
    if both.any():
        i = int(np.flatnonzero(both)[0])
        v = text[i].as_py()
        raise DataContractError(
            f"{label}: both readings of {v!r} are valid ({a[i]:02d}/{b[i]:02d} as day/month or "
            f"month/day), and no date in the column settles it", fix)
    return True


def parse_date(s: pd.Series, *, timezone: str, date_format: str | None = None,
               label: str = "date column", lines: np.ndarray | None = None,
               day_first: bool | None = None) -> Parsed:
    """Parse dates / timestamps to local business dates.

    Returns
    -------
    Parsed
        ``values`` int64 days since 1970-01-01 (valid where not ``empty | invalid``); use
        :func:`to_date_series` for the frame column. ``warnings`` says how day/month order was
        settled, and whether written weekdays disagree with their dates.

    ``day_first``: the day/month order earlier rows of the column settled (a file read in
    batches); ``Parsed.day_first`` says the order these rows settled, if any.

    Raises
    ------
    DataContractError
        When day/month order cannot be told (see the module docstring).
    """
    n = len(s)
    if is_datetime(s):
        empty = s.isna().to_numpy()
        ts = s.dt.tz_convert(timezone).dt.tz_localize(None) if isinstance(
            s.dtype, pd.DatetimeTZDtype) else s
        days = ts.to_numpy().astype("datetime64[D]").astype(np.int64)
        y = ts.dt.year.to_numpy(dtype=np.float64, na_value=np.nan)
        invalid = ~empty & ((y < 1900) | (y > 2199))
        return Parsed(np.where(empty | invalid, 0, days), empty, invalid,
                      _invalid_text(s, invalid), np.full(n, "", dtype=object))
    numeric = is_numeric(s)
    shown = clean_text(s)
    text = pc.utf8_normalize(shown, "NFKC") if _non_ascii(shown) else shown
    text, weekday = _set_weekdays_aside(text)
    empty = pc.equal(text, "").to_numpy(zero_copy_only=False)
    days, ok = np.zeros(n, np.int64), np.zeros(n, bool)
    todo = ~empty
    hint = np.full(n, "", dtype=object)
    warnings: list[str] = []
    if date_format and todo.any():
        idx = np.flatnonzero(todo)
        got = _with_format(pc.take(text, pa.array(idx)), date_format, label)
        if isinstance(got.dtype, pd.DatetimeTZDtype):
            got = got.dt.tz_convert(timezone).dt.tz_localize(None)
        good = got.notna().to_numpy() & got.dt.year.between(1900, 2199).to_numpy()
        days[idx[good]] = got[good].to_numpy(dtype="datetime64[ns]").astype(
            "datetime64[D]").astype(np.int64)
        ok[idx[good]] = True
        todo &= ~ok
    if todo.any():
        fast, fdays, fok = _fast_iso(text)
        take = todo & fast
        days[take], ok[take] = fdays[take], fok[take]
        todo &= ~fast
    families = (*_FAMILIES, ("serial", _SERIAL)) if numeric else _FAMILIES
    for kind, pattern in families:
        if not todo.any():
            break
        idx = np.flatnonzero(todo)
        sub_hint = np.full(len(idx), "", dtype=object)
        matched, fdays, fok = _family_days(kind, pc.take(text, pa.array(idx)), pattern, timezone,
                                           sub_hint)
        days[idx[matched]], ok[idx[matched]] = fdays[matched], fok[matched]
        hint[idx] = np.where(sub_hint != "", sub_hint, hint[idx])
        todo[idx[matched]] = False
    if todo.any():
        day_first = _dmy(text, todo, days, ok, hint, date_format=date_format, label=label,
                         lines=lines, warnings=warnings, settled=day_first)
    invalid = ~empty & ~ok
    if invalid.any():
        _explain_invalid(text, invalid, hint, numeric)
    hint[invalid & (hint == "")] = _GENERIC_HINT
    if weekday is not None:
        _check_weekdays(weekday, days, ok, shown, label, lines, warnings)
    return Parsed(np.where(ok, days, 0), empty, invalid, shown, hint, warnings, day_first)


def _invalid_text(s: pd.Series, invalid: np.ndarray) -> pa.Array:
    """``Parsed.text`` of typed values (numbers, dates): the text as read of the ``invalid``
    rows, ``''`` elsewhere.

    Only invalid rows are ever shown (a reason, a hint); writing every timestamp as text costs
    seconds at millions of rows.
    """
    text = pa.repeat(pa.scalar("", pa.large_string()), len(s))
    if not invalid.any():
        return text
    shown = raw_text(s.iloc[np.flatnonzero(invalid)])
    return pc.replace_with_mask(text, pa.array(invalid), shown)


def _set_weekdays_aside(text: pa.Array) -> tuple[pa.Array, np.ndarray | None]:
    """The text without written weekdays, and each value's weekday (0 = Monday, -1 = none);
    ``None`` when no value carries one (the common case costs one regex test)."""
    if not len(text) or not pc.any(pc.match_substring_regex(text, _WEEKDAY)).as_py():
        return text, None
    st = pc.extract_regex(text, _WEEKDAY)
    zh = [a or b for a, b in zip(st.field("zh").to_pylist(), st.field("zp").to_pylist())]
    en = pc.utf8_lower(pc.fill_null(st.field("en"), "")).to_pylist()
    weekday = np.array([_WEEKDAY_ZH.get(z or "", _WEEKDAY_EN.get(e[:3], -1)) for z, e in zip(zh, en)],
                       dtype=np.int64)
    stripped = pc.replace_substring_regex(text, _WEEKDAY, " ")
    stripped = pc.utf8_trim_whitespace(pc.replace_substring_regex(stripped, r"\s+", " "))
    return stripped, weekday


def _check_weekdays(weekday: np.ndarray, days: np.ndarray, ok: np.ndarray, shown: pa.Array,
                    label: str, lines: np.ndarray | None, warnings: list[str]) -> None:
    """One warning when written weekdays disagree with their dates (the date is trusted)."""
    actual = (days + 3) % 7  # 1970-01-01 was a Thursday
    wrong = ok & (weekday >= 0) & (weekday != actual)
    if not wrong.any():
        return
    i = int(np.flatnonzero(wrong)[0])
    where = f" on line {lines[i]}" if lines is not None else ""
    day = _EPOCH_DATE + dt.timedelta(days=int(days[i]))
    warnings.append(f"{label}: {int(wrong.sum())} of {int((ok & (weekday >= 0)).sum())} dates "
                    f"carry a weekday that does not match the date (first: {shown[i].as_py()!r}"
                    f"{where}: {day.isoformat()} is a {_WEEKDAY_NAMES[int(actual[i])]}); the "
                    "date is used and the weekday ignored")


def _explain_invalid(text: pa.Array, invalid: np.ndarray, hint: np.ndarray, numeric: bool
                     ) -> None:
    """Specific reasons for some invalid dates: a day that does not exist, a serial in text."""
    idx = np.flatnonzero(invalid & (hint == ""))
    if not len(idx):
        return
    sub = pc.take(text, pa.array(idx))
    if not numeric:
        serial = pc.match_substring_regex(sub, _SERIAL).to_numpy(zero_copy_only=False)
        hint[idx[serial]] = _SERIAL_HINT
    else:
        hint[idx] = (f"the number is not a plausible Excel date serial "
                     f"({SERIAL_RANGE[0]}-{SERIAL_RANGE[1]}: 1950-2100)")
    st = pc.extract_regex(sub, _LOOSE_YMD)
    found = pc.is_valid(st).to_numpy(zero_copy_only=False)
    if not found.any():
        return
    st = pc.fill_null(st, pa.scalar({f.name: "" for f in st.type}, st.type))
    y, m, d = (_ints(st.field(k)) for k in ("y", "m", "d"))
    for j in np.flatnonzero(found & (m >= 1) & (m <= 12) & (d >= 1) & (y >= 1900) & (y <= 2199)):
        leap = y[j] % 4 == 0 and (y[j] % 100 != 0 or y[j] % 400 == 0)
        last = int(_MONTH_DAYS[m[j]]) + int(leap and m[j] == 2)
        if d[j] > last:
            hint[idx[j]] = (f"there is no such day: {_MONTHS[m[j] - 1]} {y[j]} has {last} days; "
                            "fix the date in the source")


def _with_format(text: pa.Array, date_format: str, label: str) -> pd.Series:
    utc = "%z" in date_format or "%Z" in date_format
    try:
        return pd.to_datetime(pd.Series(text.to_pandas()), format=date_format, errors="coerce",
                              utc=utc)
    except (ValueError, TypeError) as exc:
        raise DataContractError(f"{label}: date_format = {date_format!r} cannot be used ({exc})",
                                "set date_format in [intake] to a strftime pattern such as "
                                "'%d/%m/%Y'") from None


def _dmy(text, todo, days, ok, hint, *, date_format, label, lines, warnings,
         settled: bool | None = None) -> bool | None:
    """Read the day/month dates; returns the order they settled (``settled``, if given)."""
    idx = np.flatnonzero(todo)
    st = pc.extract_regex(pc.take(text, pa.array(idx)), _DMY)
    matched = pc.is_valid(st).to_numpy(zero_copy_only=False)
    if not matched.any():
        return settled
    mi = idx[matched]
    st = pc.filter(st, pa.array(matched))
    st = pc.fill_null(st, pa.scalar({f.name: "" for f in st.type}, st.type))
    if date_format:
        hint[mi] = f"it does not match date_format = '{date_format}' in [intake]"
        return settled
    a, b, y = (_ints(st.field(k)) for k in ("a", "b", "y"))
    sub_lines = None if lines is None else np.asarray(lines)[mi]
    day_first = _settle_dmy(a, b, y, label=label, text=pc.take(text, pa.array(mi)),
                            lines=sub_lines, settled=settled)
    d, m = (a, b) if day_first else (b, a)
    dd, good = _days(y, m, d)
    good &= _time_ok(*(_ints(st.field(k)) for k in ("H", "M", "S")))
    days[mi], ok[mi] = dd, good
    if ((a != b) & (a <= 12) & (b <= 12)).any():
        order = "day/month" if day_first else "month/day"
        warnings.append(f"{label}: dates like {text[int(mi[0])].as_py()!r} read as {order} "
                        "(other dates in the column are only valid that way); set date_format "
                        "in [intake] to make it explicit")
    return day_first


def to_date_series(parsed: Parsed, index: pd.Index) -> pd.Series:
    """``ArrowDtype(date32)`` column; NA where empty or invalid."""
    valid = ~(parsed.empty | parsed.invalid)
    arr = pa.array(parsed.values.astype(np.int32), type=pa.date32(), mask=~valid)
    return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=index)


__all__ = [
    "DATE_DTYPE",
    "SERIAL_RANGE",
    "Parsed",
    "clean_id",
    "clean_text",
    "is_datetime",
    "is_numeric",
    "numeric_or_none",
    "parse_amount",
    "parse_date",
    "raw_text",
    "to_date_series",
    "to_series",
]
