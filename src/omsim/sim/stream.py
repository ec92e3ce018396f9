"""Streamed run outputs: orders, events and ledger written in chunks as a run goes.

A :class:`Sink` given to :class:`omsim.sim.model.Simulation` takes, at each
simulated day's end, the rows that can no longer change and appends them to
``events`` and ``ledger`` files (CSV, or Parquet through pyarrow), so the
event log and the inventory ledger held in memory stay about one day deep
whatever the horizon. The order rows are written at the end, in chunks of
``chunk_rows`` (one order row changes until its return is inspected).

The files hold exactly the rows of the in-memory run in the same order:

- events: the in-memory log is every row in stable time order (rows at equal
  times keep their logging order), with the rows that demand generation
  already decided (created, payment retries, failures, paid) logged first.
  A flush at time ``T`` takes the rows with ``time_h <= T - 24 h`` (a state
  change is logged when it becomes known, never a day late: checked at each
  flush), merges in the pre-decided rows of the same window in their logging
  order ahead of the others, and sorts the window stably by time;
- ledger: its rows are already in time order and final: each flush takes them all;
- CSV text is written with the float format of :meth:`Result.write`, so a
  streamed CSV file is byte for byte the in-memory run's.

In Parquet, the ledger's ``order_id`` (an order number, a purchase order's
``PO…`` id, or empty) is stored as text; :func:`read_table` turns the all-digit
ones back into integers.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from omsim.errors import OmsimError
from omsim.fulfilment.ledger import CODE
from omsim.sim.events import decoded

#: Output formats of a streamed run.
FORMATS = ("csv", "parquet")
TABLES = ("orders", "events", "ledger")
CSV_FLOAT = "%.6f"


def table_path(out_dir, table: str, fmt: str) -> Path:
    """The file of ``table`` (orders, events, ledger, daily) in a run directory."""
    return Path(out_dir) / f"{table}.{fmt}"


class TableWriter:
    """Appends DataFrame chunks with the same columns to one CSV or Parquet file."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt = Path(path), fmt
        self.rows = 0
        self._pq = None
        self._schema = None
        self._started = False

    def write(self, frame) -> None:
        """Append the rows of ``frame``: a DataFrame, or a dict of columns (arrays, or ``(codes, names)``
        pairs standing for ``names[codes]``) in the file's column order."""
        if isinstance(frame, dict) and (self.fmt == "csv" or self._schema is None):
            frame = decoded(frame)      # the first Parquet chunk fixes the schema, through pandas as before
        if self.fmt == "csv":
            frame.to_csv(self.path, mode="a" if self._started else "w", header=not self._started, index=False,
                         float_format=CSV_FLOAT)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if isinstance(frame, dict):
                table = _arrow_table(frame, self._schema)
            else:
                frame = _parquet_ready(frame)
                if self._schema is None:
                    # Text columns as strings (pyarrow converts the object columns in C++ when told the type).
                    sch = pa.Schema.from_pandas(frame, preserve_index=False)
                    for i, name in enumerate(sch.names):
                        if frame[name].dtype == object:
                            sch = sch.set(i, pa.field(name, pa.string()))
                    self._schema = sch
                table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.path, self._schema)
            self._pq.write_table(table)
        self._started = True
        self.rows += len(frame) if isinstance(frame, pd.DataFrame) else len(frame["time_h"])

    def close(self, empty: pd.DataFrame) -> None:
        """Finish the file (``empty``: the columns, written when no chunk came)."""
        if not self._started:
            self.write(empty)
        if self._pq is not None:
            self._pq.close()
            self._pq = None


def _parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed Python objects (the ledger's order_id) as text, None kept."""
    if "order_id" in frame.columns and frame["order_id"].dtype == object:
        frame = frame.copy()
        ids = frame["order_id"]
        frame["order_id"] = pd.Series([None if v is None else str(v) for v in ids.tolist()], dtype=object)
    return frame


def _arrow_table(columns: dict, schema):
    """The Arrow table of a dict of columns, as :meth:`pyarrow.Table.from_pandas` makes it from their
    decoded frame under ``schema`` (same types, values and metadata), text columns gathered in C++ from
    their names rather than converted from one Python string per row."""
    import pyarrow as pa

    arrays = []
    for field in schema:
        v = columns[field.name]
        if isinstance(v, tuple):
            arrays.append(pa.array(v[1], type=field.type).take(pa.array(v[0])))
        elif v.dtype == object:     # the ledger's order_id: numbers, PO ids or None, as text
            arrays.append(pa.array([None if x is None else str(x) for x in v.tolist()], type=field.type))
        else:
            arrays.append(pa.array(v, type=field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def read_table(path) -> pd.DataFrame:
    """Read a table a run wrote (CSV or Parquet, by its suffix)."""
    path = Path(path)
    if not path.is_file():
        raise OmsimError(f"{path}: no such file (was the run directory moved or damaged?)")
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        if path.stem == "ledger" and "order_id" in frame.columns:
            frame["order_id"] = pd.Series([(int(v) if v.isdigit() else v) if isinstance(v, str) else None
                                           for v in frame["order_id"].tolist()], dtype=object)
        return frame
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


class Sink:
    """Where a streamed run writes its tables, and what it has written.

    Parameters
    ----------
    out_dir
        Directory (created) for ``orders``, ``events`` and ``ledger``.
    fmt
        ``csv`` or ``parquet``.
    chunk_rows
        Order rows per written chunk at the end of the run.

    Attributes
    ----------
    max_rows_held
        The most event-log plus ledger rows held in memory at a flush (the
        memory the run's outputs take stays bounded by a day or two of them).
    rows
        Rows written per table.
    """

    def __init__(self, out_dir, fmt: str = "parquet", chunk_rows: int = 500_000):
        if fmt not in FORMATS:
            raise OmsimError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        self.out = Path(out_dir)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OmsimError(f"--out {self.out}: cannot create the directory ({exc})") from None
        self.fmt = fmt
        self.chunk_rows = max(int(chunk_rows), 1)
        self.writers = {t: TableWriter(table_path(self.out, t, fmt), fmt) for t in TABLES}
        self.max_rows_held = 0
        self._flushed_t = -np.inf
        #: Units shipped per SKU so far, from the ledger rows taken (the inventory turnover KPI).
        self.shipped_units: np.ndarray | None = None
        self._sku_pos: np.ndarray | None = None

    @property
    def rows(self) -> dict:
        return {t: w.rows for t, w in self.writers.items()}

    def paths(self) -> dict:
        return {t: w.path for t, w in self.writers.items()}

    # ----------------------------------------------------------------- flushes
    def flush(self, sim, upto_h: float) -> None:
        """Write the events up to ``upto_h`` and every ledger row so far."""
        log, inv = sim.log, sim.engine.inventory
        self.max_rows_held = max(self.max_rows_held, log.n + inv.ledger_rows_held())
        t = log.t
        done = t <= upto_h
        if t[done].size and float(t[done].min()) <= self._flushed_t:
            raise RuntimeError(f"event logged at {float(t[done].min())} h after the log was written up to "
                               f"{self._flushed_t} h")   # a broken invariant of the model, not a user error
        pre = _prelogged(sim, self._flushed_t, upto_h)
        frame = log.take(done, pre, coded=True)
        if len(frame["time_h"]):
            self.writers["events"].write(frame)
        self._flushed_t = upto_h
        self._flush_ledger(sim)

    def _flush_ledger(self, sim) -> None:
        inv = sim.engine.inventory
        led = inv.take_ledger_columns()
        if self.shipped_units is None:
            self.shipped_units = np.zeros(len(sim.sc.sku_ids), dtype=np.int64)
        if self._sku_pos is None and isinstance(led["sku"], tuple):
            # Position in the scenario's SKUs of each of the inventory's, looked up once.
            self._sku_pos = pd.Series(np.arange(len(sim.sc.sku_ids)),
                                      index=list(sim.sc.sku_ids)).reindex(led["sku"][1]).to_numpy()
        if isinstance(led["sku"], tuple):
            ship = led["reason"][0] == CODE["ship"]
            j = self._sku_pos[led["sku"][0][ship]]
            self.shipped_units += np.bincount(j.astype(np.int64), weights=-led["delta"][ship],
                                              minlength=len(sim.sc.sku_ids)).astype(np.int64)
        else:
            self.shipped_units += shipped_units(decoded(led), sim.sc.sku_ids)
        if len(led["time_h"]):
            self.writers["ledger"].write(led)

    def write_orders(self, sim, orders_frame, upto: int) -> None:
        """Write the order rows from the last one written up to row ``upto`` (final rows), in chunks."""
        w = self.writers["orders"]
        for a in range(w.rows, upto, self.chunk_rows):
            w.write(orders_frame(sim, a, min(a + self.chunk_rows, upto)))

    def finish(self, sim, orders_frame) -> None:
        """The last events and ledger rows, then the order rows in chunks; close the files."""
        self.flush(sim, sim.end_h)
        self.write_orders(sim, orders_frame, sim.ot.n)
        self.writers["orders"].close(orders_frame(sim, 0, 0))
        self.writers["events"].close(sim.log.frame(-np.inf))
        self.writers["ledger"].close(sim.engine.inventory.ledger_frame())


def shipped_units(ledger: pd.DataFrame, sku_ids) -> np.ndarray:
    """Units shipped per SKU (in ``sku_ids`` order) by the ``ship`` rows of a ledger frame."""
    ship = ledger["reason"].to_numpy() == "ship"
    pos = pd.Series(np.arange(len(sku_ids)), index=list(sku_ids))
    j = pos.reindex(ledger["sku"].to_numpy()[ship]).to_numpy()
    return np.bincount(j.astype(np.int64), weights=-ledger["delta"].to_numpy()[ship],
                       minlength=len(sku_ids)).astype(np.int64)


def _prelogged(sim, lo: float, hi: float) -> tuple:
    """Columns (t, oid, ev) of the rows demand generation decided (see Simulation.run), ``lo < t <= hi``,
    in the order the in-memory run logs them."""
    from omsim.sim.events import EV

    # Rows made so far (a streamed run makes its demand day by day), from the first one not released.
    n, r0 = getattr(sim, "generated_rows", sim.dem.n), sim.ot.lo
    created_all = sim.ot.created_h[r0:n]
    delay = sim.sc.demand.payment.retry_delay_h
    att_all = sim.dem.payment_attempts[r0:n]
    # Creation times do not decrease, and every row of an order comes at most `lag` after its creation
    # (its last payment retry): only the orders created in (lo - lag, hi] can have a row in the window.
    lag = getattr(sim, "_prelog_lag", None)
    if lag is None:
        paid_all = sim.dem.paid_h[r0:n]
        ok_all = np.isfinite(paid_all)
        lag = max(float(np.max(paid_all[ok_all] - created_all[ok_all], initial=0.0)),
                  float(max(int(att_all.max(initial=1)) - 1, 0) * delay),
                  float(sim.sc.demand.payment.retries * delay)) + 1e-9
        sim._prelog_lag = lag
    a = int(np.searchsorted(created_all, lo - lag, side="right")) if np.isfinite(lo) else 0
    b = int(np.searchsorted(created_all, hi, side="right"))
    created, paid, att = created_all[a:b], sim.dem.paid_h[r0 + a:r0 + b], att_all[a:b]
    a, b = a + r0, b + r0
    ok = np.isfinite(paid)
    oids = np.arange(a, b, dtype=np.int64)
    parts = []

    def window(t, ids, ev):
        w = (t > lo) & (t <= hi)
        parts.append((t[w], ids[w], np.full(int(w.sum()), ev, dtype=np.int8)))

    window(created, oids, EV["created"])
    for k in range(1, int(att.max(initial=1))):
        sel = att > k
        window(created[sel] + k * delay, oids[sel], EV["payment_retry"])
    window(created[~ok] + (att[~ok] - 1) * delay, oids[~ok], EV["payment_failed"])
    window(paid[ok], oids[ok], EV["paid"])
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))
