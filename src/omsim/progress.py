"""Progress of long runs on stderr, through tqdm: a bar on a terminal, plain periodic lines elsewhere.

A :class:`Progress` is a ``callable(done, total)`` (the simulator's ``on_orders``,
the sweep's and compare's run counter): on a terminal it drives a tqdm bar
(rate and ETA); when the stream is not a terminal (a log file, CI) it prints
one plain line every ``interval`` seconds, and the last one, with tqdm's
meter text and no carriage return.
"""
from __future__ import annotations

import sys
import time

from tqdm import tqdm


class Progress:
    """Report ``done`` of ``total`` units (e.g. orders) as they advance.

    Parameters
    ----------
    unit
        What is counted (``orders``, ``runs``).
    file
        Stream (stderr when None).
    interval
        Seconds between plain lines off a terminal.
    disable
        Report nothing.
    """

    def __init__(self, unit: str = "orders", file=None, interval: float = 10.0, disable: bool = False):
        self.unit, self.file, self.interval, self.disable = unit, file or sys.stderr, float(interval), disable
        isatty = getattr(self.file, "isatty", None)
        self.tty = bool(isatty and isatty())
        self._bar = None
        self._t0 = time.monotonic()
        self._last = -float("inf")
        self._done = 0
        self._total = None

    def __call__(self, done: int, total: int) -> None:
        if self.disable:
            return
        self._done, self._total = int(done), int(total)
        if self.tty:
            if self._bar is None:
                self._bar = tqdm(total=total, unit=self.unit, unit_scale=True, file=self.file, dynamic_ncols=True)
            if self._bar.total != total:
                self._bar.total = total
            self._bar.update(done - self._bar.n)
            return
        now = time.monotonic()
        if now - self._last >= self.interval or done >= total:
            self._last = now
            self._line(now)

    def _line(self, now: float) -> None:
        meter = tqdm.format_meter(self._done, self._total, now - self._t0, unit=self.unit, unit_scale=False,
                                  ncols=0)
        self.file.write(meter.replace("\r", "") + "\n")
        self.file.flush()

    def close(self) -> None:
        """End the bar (or print the last plain line if it was not printed)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif not self.disable and not self.tty and self._total is not None and self._done < self._total:
            self._line(time.monotonic())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
