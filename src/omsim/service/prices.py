"""Lookahead prices refreshed in the background, never solved while holding the writer.

Under ``policies.allocation: lookahead`` the engine prices each unit by its
stock's shadow price from a fluid LP (GLOP, with a time limit): far too slow
for the request path. :class:`PriceRefresher` runs on a thread of its own:
it copies what the LP needs under the state lock (the available stock, at a
sequence number: :meth:`~omsim.engine.live.LiveEngine.price_basis`, a copy of
one array), releases it, solves, and hands the writer one command that swaps
the prices in (:meth:`~omsim.engine.live.LiveEngine.set_prices`: the journaled
``prices.updated``). Orders keep being decided while it solves, with the
prices in use; each lookahead decision records the ``price_version`` it used,
and a replay sets the same prices at the same point of the journal, so a
rebuilt state is exact. It refreshes once at start and then every
``Settings.price_refresh_s`` (default: the scenario's
``policies.lookahead_refresh_h``).
"""
from __future__ import annotations

import logging
import threading

from omsim.service.writer import Command

__all__ = ["PriceRefresher"]

log = logging.getLogger("omsim.service")


class PriceRefresher:
    """The background thread of the module docstring, for service ``svc`` (with a writer)."""

    def __init__(self, svc, every_s: float):
        self.svc = svc
        self.every_s = float(every_s)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="omsim-prices", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=30)

    def refresh(self):
        """Solve prices for the current state off the lock and queue their swap on the writer (its future)."""
        svc = self.svc
        with svc.lock:
            live = svc.live
            at_h, seq, available = live.price_basis()
        prices = live.engine.solve_shadow_prices(at_h, available)      # the slow part: holding nothing
        return svc.writer.submit(Command(None, "", lambda lv: (200, {"seq": lv.set_prices(prices, at_h, seq).seq})))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception as exc:   # keep the prices in use; try again next period
                log.warning("lookahead price refresh failed (%s: %s)", type(exc).__name__, exc)
            if self._stop.wait(self.every_s):
                return
