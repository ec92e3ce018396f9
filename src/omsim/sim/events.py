"""Column buffers for the event log: every state change of every order.

Rows are appended to typed arrays (8 + 8 + 1 + 2 + 4 bytes a row), never as
Python objects, so a run of a million orders keeps its log in a few hundred
megabytes. Event names and details are interned as small integer codes.
"""
from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

#: Event names, in code order.
EVENTS: tuple[str, ...] = (
    "created", "payment_retry", "payment_failed", "paid", "allocated", "partial", "backordered", "held",
    "cancelled", "released", "picked", "pick_error", "packed", "missed_cutoff", "shipped", "delivered",
    "feedback", "return_requested", "return_received", "restocked", "scrapped", "refunded", "exchanged",
)
EV = {name: i for i, name in enumerate(EVENTS)}


class EventLog:
    """Append-only event log in columns ``time_h, order_id, event, node, detail``."""

    def __init__(self, node_ids: list[str]):
        self.node_ids = list(node_ids)
        self.t = array("d")
        self.oid = array("q")
        self.ev = array("b")
        self.node = array("h")  # -1 = no node
        self.detail = array("i")  # index into self.details
        self.details: list[str] = [""]
        self._detail_code: dict[str, int] = {"": 0}

    def code(self, detail: str) -> int:
        """Intern a detail string."""
        c = self._detail_code.get(detail)
        if c is None:
            c = self._detail_code[detail] = len(self.details)
            self.details.append(detail)
        return c

    def add(self, t: float, oid: int, ev: int, node: int = -1, detail: int = 0) -> None:
        """One row (``ev`` and ``detail`` as codes)."""
        self.t.append(t)
        self.oid.append(oid)
        self.ev.append(ev)
        self.node.append(node)
        self.detail.append(detail)

    def add_many(self, t, oid, ev: int, node=-1, detail=0) -> None:
        """Many rows at once (arrays; scalars broadcast)."""
        oid = np.asarray(oid, dtype=np.int64)
        m = oid.size
        if m == 0:
            return
        self.t.frombytes(np.broadcast_to(np.asarray(t, dtype=np.float64), (m,)).tobytes())
        self.oid.frombytes(oid.tobytes())
        self.ev.frombytes(np.full(m, ev, dtype=np.int8).tobytes())
        self.node.frombytes(np.broadcast_to(np.asarray(node, dtype=np.int16), (m,)).tobytes())
        self.detail.frombytes(np.broadcast_to(np.asarray(detail, dtype=np.int32), (m,)).tobytes())

    def __len__(self) -> int:
        return len(self.t)

    def frame(self, end_h: float | None = None, *, in_time_order: bool = True) -> pd.DataFrame:
        """The log, in time order (stable: rows at equal times keep their logging order) or as logged."""
        t = np.frombuffer(self.t, dtype=np.float64)
        keep = np.ones(t.size, dtype=bool) if end_h is None else t <= end_h
        order = np.argsort(t[keep], kind="stable") if in_time_order else np.arange(int(keep.sum()))
        sel = np.flatnonzero(keep)[order]
        node = np.frombuffer(self.node, dtype=np.int16)[sel].astype(np.int64)
        names = np.asarray(self.node_ids + [""], dtype=object)
        return pd.DataFrame({
            "time_h": t[sel],
            "order_id": np.frombuffer(self.oid, dtype=np.int64)[sel],
            "event": pd.Categorical.from_codes(np.frombuffer(self.ev, dtype=np.int8)[sel].astype(np.int64),
                                               categories=list(EVENTS)).astype(object),
            "node": names[node],  # -1 picks the trailing ""
            "detail": np.asarray(self.details, dtype=object)[np.frombuffer(self.detail, dtype=np.int32)[sel]],
        })
