"""Readiness: when each node would have packed an order after its backlog, inside its shifts."""
from __future__ import annotations

import bisect
import math

import numpy as np

from omsim.fulfilment.promise import ready_time_h, shift_windows


class Readiness:
    """Part of :class:`~omsim.engine.DecisionEngine`: ready times over cached shift windows."""

    def _ready_h(self, t_h: float, order_units: float) -> np.ndarray:
        """When each node would have packed this order after its backlog (promise.ready_time_h).

        Fast path: the node's working windows for two weeks are cached (from
        :func:`omsim.fulfilment.promise.shift_windows`) and walked from ``t_h``;
        work that runs past them goes to the promise module, which walks the
        calendar itself.
        """
        out = np.empty(self.n_nodes)
        back = self.node_backlog_units
        for n in range(self.n_nodes):
            need = (float(back[n]) + order_units) / self.labour_units_per_h[n]
            w = self._window(n, t_h)
            starts, ends = w[2], w[3]
            i = bisect.bisect_right(starts, t_h) - 1
            if need <= 0.0:
                out[n] = t_h
                continue
            if i < 0 or t_h >= ends[i]:
                i += 1                      # between windows: work starts with the next one
                at = starts[i] if i < len(starts) else math.inf
            else:
                at = t_h
            done = math.nan
            while i < len(starts):
                span = ends[i] - at
                if need <= span:
                    done = at + need
                    break
                need -= span
                i += 1
                if i < len(starts):
                    at = starts[i]
            if done == done:                # found inside the cached windows
                out[n] = done
            else:
                out[n] = ready_time_h(t_h, float(back[n]), self.labour_units_per_h[n], self._shifts[n],
                                      self.start_weekday, order_units)
        return out

    def _window(self, n: int, t_h: float):
        """Node n's cached working windows (t0, t1, starts, ends), refreshed when not valid at ``t_h``."""
        w = self._windows[n]
        if w is None or not (w[0] <= t_h < w[1] - 168.0):
            t0 = math.floor(t_h / 24.0) * 24.0
            wins = shift_windows(self._shifts[n], t0, t0 + 336.0, self.start_weekday)
            w = self._windows[n] = (t0, t0 + 336.0, [a for a, _ in wins], [b for _, b in wins])
            self._win_ver += 1
        return w
