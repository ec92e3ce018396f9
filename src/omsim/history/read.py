"""Reading a real order history: one row per kept order line.

A history is a CSV file (optionally gzipped, ``.gz``) or a Parquet file of
order lines in one of two forms, told apart by the header:

**generic** (the form ``omsim demand`` writes)
    ``order_id, created_at, sku, qty`` and optionally ``customer_id``,
    ``price``, ``service_level`` and a ship-to: ``region`` and/or
    ``lat, lon`` (both or neither) and/or ``country``.
**UCI Online Retail** (Online Retail / Online Retail II)
    ``Invoice, StockCode, Quantity, InvoiceDate, Price, Customer ID, Country``
    (``Description`` and other columns are ignored). ``Invoice`` becomes
    ``order_id``, ``StockCode`` ``sku``, ``Quantity`` ``qty``,
    ``InvoiceDate`` ``created_at``, ``Customer ID`` ``customer_id``.

What an order is. Every data line is either kept or dropped by the first
of these rules it meets, in this order; the counts per rule are in the
:class:`HistoryReadReport`:

``cancellation``
    UCI form only: the invoice number starts with ``C`` (a cancellation of
    an earlier sale, negative quantities). These lines are not demand; they
    are returned separately by :func:`load_history` (``cancellations``,
    with ``qty`` the positive number of units cancelled) so that a replay can
    turn them into post-order cancellations.
``adjustment``
    UCI form only: the invoice number starts with ``A`` (bad-debt adjustments).
``non_product``
    UCI form only: a stock code that is not a product: ``POST`` (postage),
    ``DOT`` (dotcom postage), ``M``/``m`` (manual), ``C2``/``C3`` (carriage),
    ``D`` (discount), ``S`` (samples), ``B`` (bad debt), ``BANK CHARGES``,
    ``AMAZONFEE``, ``PADS``, ``GIFT``, ``CRUK``, ``ADJUST...``,
    ``TEST...``, ``gift_0001_...`` (gift vouchers). See :data:`NON_PRODUCT_CODES`
    and :data:`NON_PRODUCT_PREFIXES`.
``non_positive_qty``
    a quantity of zero or less (in the UCI form these are stock write-offs
    and corrections, with price 0).
``non_positive_price``
    a price of zero or less, when the file has a price (free items and
    corrections).

The generic form is taken to be orders already: only the last two rules
apply to it, so an order id ``C17`` is an order like any other.

Timestamps. ``created_at`` is a timezone-aware ``pandas.Timestamp``. Values
written with an offset (``2024-03-01T09:30:00+01:00``) are exact; naive ones
are read in the file's time zone: ``Europe/London`` for the UCI form (its
timestamps are UK local time), ``UTC`` for the generic form, unless
``tz=`` says otherwise. The column is returned in that zone (so hours of the
day stay local). Local times that do not exist (spring forward) are shifted
forward, ambiguous ones (autumn back) are read as standard time.

Bad rows. A missing order id, SKU, quantity or timestamp, a quantity that
is not a whole number, a timestamp, price or coordinate that cannot be
read, or ``lat`` without ``lon`` raise one :class:`omsim.errors.OmsimError`
naming the file, the data row (1-based, the header not counted; in a CSV
file this is line ``row + 1``) and the column. Nothing is returned.

Lines are returned sorted by ``created_at`` (stable, so file order within a
timestamp), which is the order of arrival a replay uses. The whole reading is
vectorised: the 525,461 lines of Online Retail II read in a few seconds.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from omsim.errors import OmsimError

#: Stock codes of the UCI form that are not products (matched exactly).
NON_PRODUCT_CODES: frozenset[str] = frozenset({
    "POST", "DOT", "M", "m", "C2", "C3", "D", "S", "B", "BANK CHARGES",
    "AMAZONFEE", "PADS", "GIFT", "CRUK",
})
#: Stock-code prefixes of the UCI form that are not products.
NON_PRODUCT_PREFIXES: tuple[str, ...] = ("ADJUST", "TEST", "gift_0001_")

#: Drop rules, in the order they are applied.
RULES: tuple[str, ...] = ("cancellation", "adjustment", "non_product",
                          "non_positive_qty", "non_positive_price")

_UCI = {"Invoice": "order_id", "StockCode": "sku", "Quantity": "qty",
        "InvoiceDate": "created_at", "Price": "price", "Customer ID": "customer_id",
        "Country": "country"}
_UCI_REQUIRED = ("Invoice", "StockCode", "Quantity", "InvoiceDate")
_GENERIC_REQUIRED = ("order_id", "created_at", "sku", "qty")
_GENERIC_OPTIONAL = ("customer_id", "price", "country", "region", "lat", "lon", "service_level")
_TEXT = ("order_id", "sku", "customer_id", "country", "region", "service_level")


@dataclass(frozen=True)
class HistoryReadReport:
    """What :func:`load_history` read, kept and dropped.

    Attributes
    ----------
    file
        The file read.
    form
        ``"generic"`` or ``"uci"``.
    rows
        Data rows in the file.
    kept
        Order lines kept.
    orders
        Distinct orders among the kept lines.
    dropped
        Lines dropped per rule (every rule of :data:`RULES` is a key).
    cancellations
        Cancellation lines returned separately (UCI form; 0 otherwise).
    """

    file: str
    form: str
    rows: int
    kept: int
    orders: int
    dropped: dict[str, int] = field(default_factory=dict)
    cancellations: int = 0

    def summary(self) -> str:
        """One line for people: kept lines and orders, then drops per rule."""
        drops = ", ".join(f"{k} {v}" for k, v in self.dropped.items() if v)
        return (f"{self.file}: {self.form} form, {self.rows} lines: kept {self.kept} lines "
                f"in {self.orders} orders; dropped {drops or 'none'}")


@dataclass(frozen=True)
class History:
    """An order history: the kept lines, the cancellation lines and the report."""

    lines: pd.DataFrame
    cancellations: pd.DataFrame
    report: HistoryReadReport


def read_history(path: str | Path, *, keep_cancellations: bool = False,
                 tz: str | None = None) -> pd.DataFrame:
    """Read an order history file into one row per kept order line.

    Parameters
    ----------
    path
        A ``.csv``, ``.csv.gz`` or ``.parquet`` file in the generic or UCI form
        (see the module docstring for the rules).
    keep_cancellations
        Also return the cancellation lines (UCI ``C`` invoices), with a boolean
        column ``cancelled`` (True on them) and ``qty`` the units cancelled.
    tz
        Time zone for naive timestamps (default ``Europe/London`` for the UCI
        form, ``UTC`` for the generic form).

    Returns
    -------
    pandas.DataFrame
        Columns ``order_id`` (str), ``created_at`` (tz-aware), ``sku`` (str),
        ``qty`` (int64 > 0) and those of ``customer_id``, ``price``,
        ``country``, ``region``, ``lat``, ``lon``, ``service_level`` the file
        has; sorted by ``created_at``. ``attrs["report"]`` is the
        :class:`HistoryReadReport`.

    Raises
    ------
    OmsimError
        Missing file, unknown header, or a bad row (naming row and column).
    """
    h = load_history(path, tz=tz)
    df = h.lines
    if keep_cancellations:
        df = pd.concat([df.assign(cancelled=False), h.cancellations.assign(cancelled=True)],
                       ignore_index=True)
        df = df.sort_values("created_at", kind="stable", ignore_index=True)
    df.attrs["report"] = h.report
    return df


def load_history(path: str | Path, *, tz: str | None = None) -> History:
    """Read a history file: kept lines, cancellation lines and the report.

    Same rules and arguments as :func:`read_history`; ``cancellations`` has the
    columns of ``lines`` with ``qty`` the positive units cancelled (empty in
    the generic form).
    """
    p = Path(path)
    raw = _read_raw(p)
    cols = set(raw.columns)
    if set(_UCI_REQUIRED) <= cols:
        form = "uci"
        raw = raw[[c for c in _UCI if c in cols]].rename(columns=_UCI)
    elif set(_GENERIC_REQUIRED) <= cols:
        form = "generic"
        raw = raw[[c for c in _GENERIC_REQUIRED + _GENERIC_OPTIONAL if c in cols]]
    else:
        raise OmsimError(
            f"{p}: header: expected the generic columns {', '.join(_GENERIC_REQUIRED)} or the UCI "
            f"Online Retail columns {', '.join(_UCI_REQUIRED)}; found {', '.join(map(str, raw.columns))}",
            file=str(p))
    df = _typed(raw, p, form, tz)
    keep, cancel, dropped = _rules(df, form)
    lines = df[keep].reset_index(drop=True)
    canc = df[cancel].reset_index(drop=True)
    canc["qty"] = -canc["qty"]
    canc = canc[canc["qty"] > 0].reset_index(drop=True)
    lines = lines.sort_values("created_at", kind="stable", ignore_index=True)
    canc = canc.sort_values("created_at", kind="stable", ignore_index=True)
    report = HistoryReadReport(file=str(p), form=form, rows=len(df), kept=len(lines),
                               orders=int(lines["order_id"].nunique()), dropped=dropped,
                               cancellations=len(canc))
    return History(lines=lines, cancellations=canc, report=report)


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int, size: int) -> History:
    return load_history(path)


def load_history_cached(path: str | Path) -> History:
    """:func:`load_history`, remembered per file (path, modification time and size).

    Scenarios that name a history (and their variants) read it once per
    process. The frames are shared: do not modify them.
    """
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError:
        return load_history(p)  # raises the missing-file error
    return _cached(str(p), st.st_mtime_ns, st.st_size)


def _read_raw(p: Path) -> pd.DataFrame:
    """Every column as text (empty string where blank)."""
    if not p.is_file():
        raise OmsimError(f"{p}: no such history file", file=str(p))
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(p)
            return pd.DataFrame({c: _as_text(df[c]) for c in df.columns})
        return pd.read_csv(p, dtype=str, keep_default_na=False, na_filter=False,
                           compression="infer", skipinitialspace=True)
    except OmsimError:
        raise
    except Exception as exc:  # parser errors of pandas / pyarrow / gzip
        raise OmsimError(f"{p}: cannot read as {'Parquet' if p.suffix == '.parquet' else 'CSV'}: {exc}",
                         file=str(p)) from None


def _as_text(s: pd.Series) -> pd.Series:
    """A Parquet column as text: integers without '.0', blanks for nulls."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.astype("string").fillna("").astype(object)
    if pd.api.types.is_float_dtype(s) and s.notna().all() and (s == np.floor(s)).all():
        s = s.astype(np.int64)
    return s.astype("string").fillna("").astype(object)


def _bad(p: Path, mask: np.ndarray, col: str, what: str, values: pd.Series) -> None:
    """Raise for the first row where ``mask`` holds."""
    i = int(np.flatnonzero(mask)[0])
    n = int(mask.sum())
    more = f" ({n - 1} more rows like it)" if n > 1 else ""
    raise OmsimError(f"{p}: data row {i + 1} (line {i + 2}): column {col}: {what}, got "
                     f"{values.iloc[i]!r}{more}", file=str(p))


def _typed(raw: pd.DataFrame, p: Path, form: str, tz: str | None) -> pd.DataFrame:
    """Validate and convert the text columns; raise on the first bad row."""
    src = {v: k for k, v in _UCI.items()} if form == "uci" else {}
    name = lambda c: src.get(c, c)  # noqa: E731 - the file's own column name
    out = {}
    for c in raw.columns:
        raw[c] = raw[c].str.strip()
    for c in _GENERIC_REQUIRED:
        empty = (raw[c] == "").to_numpy()
        if empty.any():
            _bad(p, empty, name(c), "a value is required", raw[c])
    for c in _TEXT:
        if c in raw.columns:
            s = raw[c]
            out[c] = s.where(s != "", pd.NA).astype("string") if c in ("customer_id",) else s
    if "customer_id" in out and form == "uci":  # "13085.0" from spreadsheets -> "13085"
        out["customer_id"] = out["customer_id"].str.replace(r"\.0$", "", regex=True)
    q = pd.to_numeric(raw["qty"], errors="coerce")
    badq = (q.isna() | (q != np.floor(q))).to_numpy()
    if badq.any():
        _bad(p, badq, name("qty"), "expected a whole number", raw["qty"])
    out["qty"] = q.astype(np.int64)
    for c in ("price", "lat", "lon"):
        if c in raw.columns:
            v = pd.to_numeric(raw[c].where(raw[c] != "", "nan"), errors="coerce")
            badv = (v.isna() & (raw[c] != "")).to_numpy()
            if badv.any():
                _bad(p, badv, name(c), "expected a number", raw[c])
            out[c] = v.astype(np.float64)
    if ("lat" in raw.columns) != ("lon" in raw.columns):
        raise OmsimError(f"{p}: header: lat and lon come together; found only "
                         f"{'lat' if 'lat' in raw.columns else 'lon'}", file=str(p))
    out["created_at"] = _timestamps(raw["created_at"], p, name("created_at"),
                                    tz or ("Europe/London" if form == "uci" else "UTC"))
    order = ["order_id", "created_at", "sku", "qty"] + [c for c in _GENERIC_OPTIONAL if c in out]
    return pd.DataFrame({c: out[c] for c in order})


def _timestamps(s: pd.Series, p: Path, col: str, tz: str) -> pd.Series:
    """Parse timestamps vectorised; naive ones in ``tz``, aware ones converted to ``tz``."""
    has_offset = s.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    out = pd.Series(pd.NaT, index=s.index, dtype=f"datetime64[ns, {tz}]")
    try:
        if (~has_offset).any():
            naive = pd.to_datetime(s[~has_offset], errors="coerce", format="mixed")
            out[~has_offset] = naive.dt.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
        if has_offset.any():
            aware = pd.to_datetime(s[has_offset], errors="coerce", utc=True, format="mixed")
            out[has_offset] = aware.dt.tz_convert(tz)
    except Exception as exc:  # unknown time zone names
        raise OmsimError(f"{p}: column {col}: cannot read timestamps in time zone {tz!r}: {exc}",
                         file=str(p)) from None
    bad = out.isna().to_numpy()
    if bad.any():
        _bad(p, bad, col, "expected a timestamp such as 2010-12-01 08:26:00", s)
    return out


def _rules(df: pd.DataFrame, form: str) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """(kept mask, cancellation mask, drops per rule), each line counted under its first rule."""
    n = len(df)
    remaining = np.ones(n, bool)
    dropped = {}
    masks = {}
    if form == "uci":
        oid = df["order_id"]
        sku = df["sku"]
        masks["cancellation"] = oid.str.startswith("C").to_numpy()
        masks["adjustment"] = oid.str.startswith("A").to_numpy()
        masks["non_product"] = (sku.isin(NON_PRODUCT_CODES) | sku.str.startswith(NON_PRODUCT_PREFIXES)).to_numpy()
    masks["non_positive_qty"] = (df["qty"] <= 0).to_numpy()
    if "price" in df.columns:
        masks["non_positive_price"] = (df["price"] <= 0).fillna(False).to_numpy(dtype=bool)
    cancel = np.zeros(n, bool)
    for rule in RULES:
        m = masks.get(rule)
        if m is None:
            dropped[rule] = 0
            continue
        hit = m & remaining
        dropped[rule] = int(hit.sum())
        if rule == "cancellation":
            # a cancellation of a non-product code is not a product cancellation
            cancel = hit & ~masks["non_product"]
        remaining &= ~hit
    return remaining, cancel, dropped
