"""A streamed run in bounded memory: demand made day by day, and the order rows whose life is over retired.

Mixed into :class:`omsim.sim.model.Simulation`. An in-memory run makes every
order at the start and keeps every row; a streamed run (a sink, and demand
that is not a replay, nor after a live snapshot, nor with customer
cancellations) makes each day's orders when the dispatcher reaches the
day (:class:`omsim.sim.demand.DemandFeed`: the same draws, so the same
orders), and at each day's end:

- order rows whose life is over (payment failed, cancelled, or complete: every
  package on its way, delivery, feedback and any return request known) are
  *final*; the run of final rows from the first not yet retired is retired:
  its KPI counts and float values (:func:`omsim.sim.result.kpi_part`) and its
  orders per day are kept, its rows written to the sink's ``orders`` table, in
  order id order (so the file is the in-memory run's, row for row);
- what the returns desk needs later of a complete order (the lines that come
  back, the region, level and channel of an exchange) was copied when its
  return was requested (:mod:`omsim.sim.carriers`), so nothing reads a final
  row again;
- the pages of retired rows (order table, demand columns) and of the packages
  of complete orders are released (:mod:`omsim.sim.release`), keeping two days
  of rows behind the event log's flush for the rows it adds from demand
  (:func:`omsim.sim.stream._prelogged`).

Memory then holds the live orders (in flight, backordered: bounded by the
backlog, not by the horizon), a day or two of finished ones, the KPI values of
the finished ones (32 bytes an order) and the rows added during the run
(exchanges, remainders), which are written at the end.
"""
from __future__ import annotations

import numpy as np

from omsim.sim.release import release
from omsim.sim.states import CANCELLED, DONE, PAY_FAILED

#: Rows kept behind the event log's flush time (hours) for the pre-logged demand rows.
_KEEP_H = 48.0


class Retirement:
    """Demand day by day and retired rows of a streamed run (see the module docstring)."""

    def _make_day(self) -> tuple[int, int]:
        """The next day's orders into the order table; returns their rows (a, b)."""
        a, b = self.feed.next_day()
        ot, dem = self.ot, self.dem
        ot.init_rows(a, b)
        ot.created_h[a:b] = dem.created_h[a:b]
        ot.paid_h[a:b] = dem.paid_h[a:b]
        ot.region[a:b] = dem.region[a:b]
        ot.level[a:b] = dem.level[a:b]
        ot.channel[a:b] = dem.channel[a:b]
        ptr = dem.line_ptr[a:b + 1]
        ot.lines[a:b] = np.diff(ptr)
        ot.units[a:b] = np.add.reduceat(dem.line_qty[ptr[0]:ptr[-1]], ptr[:-1] - ptr[0]) if b > a else 0
        ot.state[a:b][~np.isfinite(dem.paid_h[a:b])] = PAY_FAILED
        self.generated_rows = b
        return a, b

    def _retire(self, flushed_h: float) -> None:
        """Retire the final rows from the first one not retired, and release what no one reads again."""
        from omsim.sim.result import created_per_day, kpi_part, orders_frame

        ot, P = self.ot, self.P
        a, n = self.retired_rows, self.generated_rows
        st = ot.state[a:n]
        live = np.flatnonzero((st != DONE) & (st != CANCELLED) & (st != PAY_FAILED))
        b = a + (int(live[0]) if live.size else st.size)
        if b > a:
            self.kpi_parts.append(kpi_part(self, a, b))
            self.retired_created += created_per_day(self, a, b)
            self.sink.write_orders(self, orders_frame, b)
            self.retired_rows = b
        # Order and demand rows: retired, and created two days before the log's flush.
        r = min(b, a + int(np.searchsorted(ot.created_h[a:b], flushed_h - _KEEP_H, side="left")))
        if r > ot.lo:
            for f in ot._fields():
                release(getattr(ot, f), ot.lo, r)
            dem = self.dem
            l0, l1 = int(dem.line_ptr[ot.lo]), int(dem.line_ptr[r])
            for col in (dem.created_h, dem.paid_h, dem.region, dem.level, dem.channel, dem.payment_attempts,
                        dem.line_ptr):
                release(col, ot.lo, r)
            release(dem.line_sku, l0, l1)
            release(dem.line_qty, l0, l1)
            ot.lo = r
        # Packages of complete orders (closed), from the first one not released.
        closed = P.closed[P.lo:P.n]
        open_ = np.flatnonzero(~closed)
        p = P.lo + (int(open_[0]) if open_.size else closed.size)
        if p > P.lo:
            lp = int(P.line_a[p]) if p < P.n else P.nl
            for f in P._I8 + P._F8 + ("closed",):
                release(getattr(P, f), P.lo, p)
            release(P.sku, P.llo, lp)
            release(P.qty, P.llo, lp)
            P.lo, P.llo = p, lp
