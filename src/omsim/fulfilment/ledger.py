"""The inventory's append-only ledger of on-hand movements.

One row per change of on hand, ``(time_h, node, sku, delta, reason,
order_id)``, kept in columnar NumPy buffers; the on hand of any node and SKU
at any time is the running sum of its rows. :class:`~omsim.fulfilment.inventory.Inventory`
owns one and is its only writer.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

#: Ledger reasons, in code order (the code is the index).
REASONS: tuple[str, ...] = ("initial", "ship", "receipt", "restock", "scrap", "adjust")
CODE = {name: i for i, name in enumerate(REASONS)}

LEDGER_COLUMNS: tuple[str, ...] = ("time_h", "node", "sku", "delta", "reason", "order_id")


class Ledger:
    """Columnar, append-only buffers that grow by doubling (amortised O(1) append)."""

    def __init__(self, capacity: int = 1024):
        capacity = max(int(capacity), 16)
        self.n = 0
        self.time_h = np.empty(capacity, dtype=np.float64)
        self.node = np.empty(capacity, dtype=np.int32)
        self.sku = np.empty(capacity, dtype=np.int32)
        self.delta = np.empty(capacity, dtype=np.int64)
        self.reason = np.empty(capacity, dtype=np.int8)
        self.order_id = np.empty(capacity, dtype=object)

    _COLS = ("time_h", "node", "sku", "delta", "reason", "order_id")

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        cap = self.time_h.shape[0]
        if need <= cap:
            return
        new_cap = max(need, 2 * cap)
        for name in self._COLS:
            old = getattr(self, name)
            new = np.empty(new_cap, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def append(self, t: float, node: int, sku: int, delta: int, reason: int, order_id) -> None:
        """Append one row."""
        if self.n == self.time_h.shape[0]:
            self._reserve(1)
        i = self.n
        self.time_h[i] = t
        self.node[i] = node
        self.sku[i] = sku
        self.delta[i] = delta
        self.reason[i] = reason
        self.order_id[i] = order_id
        self.n = i + 1

    def extend(self, t, node, sku, delta, reason: int, order_id) -> None:
        """Append many rows at once (arrays of equal length, scalars broadcast)."""
        m = int(np.broadcast(np.asarray(node), np.asarray(sku), np.asarray(delta)).size)
        self._reserve(m)
        sl = slice(self.n, self.n + m)
        self.time_h[sl] = t
        self.node[sl] = node
        self.sku[sl] = sku
        self.delta[sl] = delta
        self.reason[sl] = reason
        self.order_id[sl] = order_id
        self.n += m

    def view(self, name: str) -> np.ndarray:
        return getattr(self, name)[: self.n]

    def copy(self) -> "Ledger":
        other = Ledger(self.n + 16)
        for name in self._COLS:
            getattr(other, name)[: self.n] = self.view(name)
        other.n = self.n
        return other

    def columns(self, node_ids: Sequence | None, sku_ids: Sequence | None) -> dict:
        """The rows as columns of :data:`LEDGER_COLUMNS`: node, SKU (when their ids are given) and reason as
        ``(codes, names)`` pairs with ``names[codes]`` the values, ``order_id`` an object array."""
        node = self.view("node").astype(np.int64)
        sku = self.view("sku").astype(np.int64)
        return {
            "time_h": self.view("time_h").copy(),
            "node": node if node_ids is None else (node, np.asarray(node_ids, dtype=object)),
            "sku": sku if sku_ids is None else (sku, np.asarray(sku_ids, dtype=object)),
            "delta": self.view("delta").copy(),
            "reason": (self.view("reason").astype(np.intp), np.asarray(REASONS, dtype=object)),
            "order_id": self.view("order_id").copy(),
        }

    def frame(self, node_ids: Sequence | None, sku_ids: Sequence | None) -> pd.DataFrame:
        """The rows as a DataFrame with :data:`LEDGER_COLUMNS`, nodes and SKUs named by their ids when given."""
        cols = {k: (v[1][v[0]] if isinstance(v, tuple) else v) for k, v in self.columns(node_ids, sku_ids).items()}
        # object dtype keeps None as None (pandas would turn it into NaN).
        cols["order_id"] = pd.Series(cols["order_id"], dtype=object)
        return pd.DataFrame(cols, columns=list(LEDGER_COLUMNS))

    def on_hand_at(self, node: int, sku: int, t: float) -> int:
        """Running sum of one node and SKU's deltas up to time ``t`` (inclusive)."""
        mask = (self.view("node") == node) & (self.view("sku") == sku) & (self.view("time_h") <= t)
        return int(self.view("delta")[mask].sum())

    def on_hand(self, shape: tuple[int, int]) -> np.ndarray:
        """Sum of all deltas per ``[node, sku]`` of a matrix of ``shape``."""
        out = np.zeros(shape[0] * shape[1], dtype=np.int64)
        np.add.at(out, self.view("node").astype(np.int64) * shape[1] + self.view("sku"), self.view("delta"))
        return out.reshape(shape)
