"""Column buffers for the event log: every state change of every order.

Rows are appended to typed NumPy columns growing by doubling (8 + 8 + 1 + 2 + 4
bytes a row), never as Python objects, so a run of a million orders keeps its log in a few hundred
megabytes. Event names and details are interned as small integer codes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: Event names, in code order.
EVENTS: tuple[str, ...] = (
    "created", "payment_retry", "payment_failed", "paid", "allocated", "partial", "backordered", "held",
    "cancelled", "released", "picked", "pick_error", "packed", "missed_cutoff", "shipped", "delivered",
    "feedback", "return_requested", "return_received", "restocked", "scrapped", "refunded", "exchanged",
    "customer_cancel",
)
EV = {name: i for i, name in enumerate(EVENTS)}


class EventLog:
    """Append-only event log in columns ``time_h, order_id, event, node, detail``."""

    _COLS = (("t", np.float64), ("oid", np.int64), ("ev", np.int8), ("node", np.int16), ("detail", np.int32))

    def __init__(self, node_ids: list[str], capacity: int = 1024):
        self.node_ids = list(node_ids)
        self.n = 0
        self.cap = max(int(capacity), 16)
        for f, dt in self._COLS:
            setattr(self, f"_{f}", np.zeros(self.cap, dtype=dt))
        self.details: list[str] = [""]
        self._detail_code: dict[str, int] = {"": 0}

    def code(self, detail: str) -> int:
        """Intern a detail string."""
        c = self._detail_code.get(detail)
        if c is None:
            c = self._detail_code[detail] = len(self.details)
            self.details.append(detail)
        return c

    def _grow(self, need: int) -> None:
        new = max(need, 2 * self.cap)
        for f, dt in self._COLS:
            old = getattr(self, f"_{f}")
            arr = np.zeros(new, dtype=dt)
            arr[: self.n] = old[: self.n]
            setattr(self, f"_{f}", arr)
        self.cap = new

    def reserve(self, k: int) -> None:
        """Room for ``k`` more rows (callers writing the columns directly)."""
        if self.n + k > self.cap:
            self._grow(self.n + k)

    def add(self, t: float, oid: int, ev: int, node: int = -1, detail: int = 0) -> None:
        """One row (``ev`` and ``detail`` as codes)."""
        i = self.n
        if i >= self.cap:
            self._grow(i + 1)
        self._t[i] = t
        self._oid[i] = oid
        self._ev[i] = ev
        self._node[i] = node
        self._detail[i] = detail
        self.n = i + 1

    def add_many(self, t, oid, ev: int, node=-1, detail=0) -> None:
        """Many rows at once (arrays; scalars broadcast)."""
        m = len(oid)
        if m == 0:
            return
        a = self.n
        b = a + m
        if b > self.cap:
            self._grow(b)
        self._t[a:b] = t
        self._oid[a:b] = oid
        self._ev[a:b] = ev
        self._node[a:b] = node
        self._detail[a:b] = detail
        self.n = b

    @property
    def t(self) -> np.ndarray:
        """Times of the rows logged so far (a view)."""
        return self._t[: self.n]

    def __len__(self) -> int:
        return self.n

    def frame(self, end_h: float | None = None, *, in_time_order: bool = True) -> pd.DataFrame:
        """The log, in time order (stable: rows at equal times keep their logging order) or as logged."""
        t = self._t[: self.n]
        keep = np.ones(t.size, dtype=bool) if end_h is None else t <= end_h
        order = np.argsort(t[keep], kind="stable") if in_time_order else np.arange(int(keep.sum()))
        sel = np.flatnonzero(keep)[order]
        return self._frame(t[sel], self._oid[sel], self._ev[sel], self._node[sel], self._detail[sel])

    def take(self, rows: np.ndarray, before=None, *, coded: bool = False):
        """Remove the rows where the mask ``rows`` is set and return them in stable time order.

        ``before``: columns ``(t, oid, ev)`` of rows (no node, no detail) to place
        ahead of them, as if they had been logged first. ``coded``: a dict of the
        columns instead of a frame, the text ones as ``(codes, names)`` pairs (a
        streamed run writes them without making a Python string per row).
        """
        n = self.n
        sel = np.flatnonzero(rows)
        cols = [self._t[sel], self._oid[sel], self._ev[sel], self._node[sel], self._detail[sel]]
        if before is not None and before[0].size:
            m = before[0].size
            extra = (before[0], before[1], before[2], np.full(m, -1, dtype=np.int16), np.zeros(m, dtype=np.int32))
            cols = [np.concatenate([e, c]) for e, c in zip(extra, cols)]
        order = np.argsort(cols[0], kind="stable")
        frame = (self._columns if coded else self._frame)(*(c[order] for c in cols))
        keep = np.flatnonzero(~rows[:n])
        k = keep.size
        for f, _ in self._COLS:
            col = getattr(self, f"_{f}")
            col[:k] = col[keep]
        self.n = k
        return frame

    def _columns(self, t, oid, ev, node, detail) -> dict:
        """The columns of the rows given, text ones as ``(codes, names)`` with ``names[codes]`` the values."""
        names = np.asarray(self.node_ids + [""], dtype=object)
        node = node.astype(np.int64)
        node[node < 0] = len(names) - 1   # -1: the trailing ""
        return {
            "time_h": t,
            "order_id": oid,
            "event": (ev, np.asarray(EVENTS, dtype=object)),
            "node": (node, names),
            "detail": (detail, np.asarray(self.details, dtype=object)),
        }

    def _frame(self, t, oid, ev, node, detail) -> pd.DataFrame:
        return decoded(self._columns(t, oid, ev, node, detail))


def decoded(columns: dict) -> pd.DataFrame:
    """A frame of ``columns`` (arrays, or ``(codes, names)`` pairs turned into their values)."""
    return pd.DataFrame({k: (v[1][v[0]] if isinstance(v, tuple) else v) for k, v in columns.items()})
