"""The simulator's order rows as NumPy columns (:class:`OrderTable`)."""
from __future__ import annotations

import numpy as np

#: Rows initialised at a time when a table fills lazily.
_BLOCK = 1 << 16


class OrderTable:
    """Orders as columns; grows (doubling) when exchanges add orders.

    ``lazy_rows``: the columns are mapped, not written; rows below it take their initial
    values (NaN, -1, 0) when the caller says (:meth:`init_rows`: a streamed run's demand,
    day by day), rows from it on as the table fills (:meth:`grow`), so a table sized for
    the whole run costs memory for the rows written only (see :mod:`omsim.sim.release`).
    """

    _F8 = ("created_h", "paid_h", "promised_h", "delivered_h", "returned_h", "satisfaction", "last_delivery_h")
    _F8_ZERO = ("ship_cost", "handling_cost")
    _I8 = ("units", "units_first", "units_shipped", "parent", "lines_short", "lines", "pkg0", "units_cancelled")
    _MINUS_ONE = ("parent", "units_first", "pkg0")
    # region and level are int64: the engine takes them as such, without a conversion per call.
    _SMALL = (("region", np.int64), ("level", np.int64), ("channel", np.int8), ("state", np.int8), ("kind", np.int8),
              ("packages", np.int32), ("pending", np.int32), ("wrong", np.bool_), ("was_backordered", np.bool_))

    def __init__(self, capacity: int, lazy_rows: int | None = None):
        self.n = 0
        self.cap = max(int(capacity), 16)
        #: Rows below ``lo`` were released (never read again); rows from ``lazy_rows`` to ``inited`` hold
        #: their initial values (or more).
        self.lo = 0
        self.inited = 0 if lazy_rows is None else int(lazy_rows)
        for f in self._F8 + self._F8_ZERO + self._I8:
            setattr(self, f, np.zeros(self.cap, dtype=np.float64 if f in self._F8 + self._F8_ZERO else np.int64))
        for f, dt in self._SMALL:
            setattr(self, f, np.zeros(self.cap, dtype=dt))
        if lazy_rows is None:
            self.ready(self.cap)

    def _fields(self):
        return list(self._F8) + list(self._F8_ZERO) + list(self._I8) + [f for f, _ in self._SMALL]

    def init_rows(self, a: int, b: int) -> None:
        """Rows ``a:b`` take their initial values."""
        for f in self._F8:
            getattr(self, f)[a:b] = np.nan
        for f in self._MINUS_ONE:
            getattr(self, f)[a:b] = -1

    def ready(self, need: int) -> None:
        """Rows up to ``need`` (within the capacity) hold their initial values."""
        a = self.inited
        if need > a:
            b = min(self.cap, max(need, a + _BLOCK))
            self.init_rows(a, b)
            self.inited = b

    def grow(self, need: int) -> None:
        """Make room for ``need`` rows (initialised)."""
        if need > self.cap:
            new = max(need, 2 * self.cap)
            lo, hi = self.lo, self.inited
            for f in self._fields():
                old = getattr(self, f)
                arr = np.zeros(new, dtype=old.dtype)
                arr[lo:hi] = old[lo:hi]          # released rows are never read: not copied
                setattr(self, f, arr)
            self.cap = new
        self.ready(need)
