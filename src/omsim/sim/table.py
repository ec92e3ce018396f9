"""The simulator's order rows as NumPy columns (:class:`OrderTable`)."""
from __future__ import annotations

import numpy as np


class OrderTable:
    """Orders as columns; grows (doubling) when exchanges add orders."""

    _F8 = ("created_h", "paid_h", "promised_h", "delivered_h", "returned_h", "satisfaction", "last_delivery_h")
    _F8_ZERO = ("ship_cost", "handling_cost")
    _I8 = ("units", "units_first", "units_shipped", "parent", "lines_short", "lines", "pkg0", "units_cancelled")
    # region and level are int64: the engine takes them as such, without a conversion per call.
    _SMALL = (("region", np.int64), ("level", np.int64), ("channel", np.int8), ("state", np.int8), ("kind", np.int8),
              ("packages", np.int32), ("pending", np.int32), ("wrong", np.bool_), ("was_backordered", np.bool_))

    def __init__(self, capacity: int):
        self.n = 0
        self.cap = max(int(capacity), 16)
        for f in self._F8:
            setattr(self, f, np.full(self.cap, np.nan))
        for f in self._F8_ZERO:
            setattr(self, f, np.zeros(self.cap))
        for f in self._I8:
            setattr(self, f, np.zeros(self.cap, dtype=np.int64))
        for f, dt in self._SMALL:
            setattr(self, f, np.zeros(self.cap, dtype=dt))
        self.parent[:] = -1
        self.units_first[:] = -1
        self.pkg0[:] = -1

    def _fields(self):
        return list(self._F8) + list(self._F8_ZERO) + list(self._I8) + [f for f, _ in self._SMALL]

    def grow(self, need: int) -> None:
        """Make room for ``need`` rows."""
        if need <= self.cap:
            return
        new = max(need, 2 * self.cap)
        for f in self._fields():
            old = getattr(self, f)
            arr = np.empty(new, dtype=old.dtype)
            arr[: self.cap] = old
            fill = np.nan if f in self._F8 else (-1 if f in ("parent", "units_first", "pkg0") else 0)
            arr[self.cap:] = fill
            setattr(self, f, arr)
        self.cap = new
