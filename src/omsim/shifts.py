"""Working hours: the one shift calendar of every clock.

Time is engine hours (:mod:`omsim.clock`): day ``d`` covers ``[24 d, 24 d + 24)``
and is weekday ``(start_weekday + d) % 7`` (0 = Monday). A shift is
``(start, end)`` or ``(start, end, weekdays)`` in hours after midnight of the
day it starts (``end`` may pass 24 for a night shift, up to 48; an end at or
before the start means the next morning), or an object with ``start``,
``end`` and ``weekdays`` (the scenario's ``Shift``).

:class:`Calendar` answers every question the model asks of working hours:
the open windows of a day or of a span (:meth:`~Calendar.windows`), the next
opening (:meth:`~Calendar.next_open`, used by the simulator's stations), open
hours in a span, and when a given amount of work is done working only inside
the shifts (:meth:`~Calendar.work_done_at`, used by promise dates).
"""
from __future__ import annotations

import math
from bisect import bisect_right

from omsim.errors import OmsimError

__all__ = ["ALL_DAYS", "Calendar", "merge_intervals", "normalise_shifts"]

ALL_DAYS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)


def normalise_shifts(shifts) -> list[tuple[float, float, frozenset[int]]]:
    """Shifts as ``(start, end, weekdays)`` with the end after the start (hours after midnight).

    Returns
    -------
    list of (float, float, frozenset of int)
        Start in [0, 24), end after it and at most 48, weekdays 0 (Monday) .. 6.

    Raises
    ------
    OmsimError
        A start outside [0, 24), an end past 48, or no shift at all.
    """
    out = []
    for s in shifts:
        if hasattr(s, "start"):
            a, b, wds = float(s.start), float(s.end), getattr(s, "weekdays", ALL_DAYS)
        elif len(s) == 2:
            (a, b), wds = s, ALL_DAYS
        else:
            a, b, wds = s
        a, b = float(a), float(b)
        if b <= a:
            b += 24.0          # (22, 6) means 22:00 to 06:00 the next morning
        if not (0.0 <= a < 24.0 and b <= 48.0):
            raise OmsimError(f"shift ({a}, {b}): start must be in [0, 24) and the end at most 48 (next day)")
        out.append((a, b, frozenset(int(d) % 7 for d in wds)))
    if not out:
        raise OmsimError("a node needs at least one shift")
    return out


def merge_intervals(intervals) -> list[tuple[float, float]]:
    """Sorted union of ``(start, end)`` intervals; touching ones merge."""
    merged: list[tuple[float, float]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


class Calendar:
    """Daily working windows on given weekdays.

    Parameters
    ----------
    shifts
        See the module notes.
    start_weekday
        Weekday of day 0.

    Examples
    --------
    >>> cal = Calendar([(8.0, 16.0, (0, 1, 2, 3, 4, 5, 6))])
    >>> cal.next_open(3.0), cal.next_open(9.5), cal.next_open(17.0)
    (8.0, 9.5, 32.0)
    >>> Calendar([(22, 6)]).windows(0.0, 48.0)   # a night shift across midnight
    [(0.0, 6.0), (22.0, 30.0), (46.0, 48.0)]
    """

    __slots__ = ("shifts", "start_weekday", "_cache", "_open", "_week")

    def __init__(self, shifts, start_weekday: int = 0):
        self.shifts = normalise_shifts(shifts)
        self.start_weekday = int(start_weekday)
        self._cache: dict[int, list[tuple[float, float]]] = {}
        self._open = (math.inf, -math.inf)   # the last window next_open found
        self._week = None                     # (starts, ends) of the merged windows of weeks -1 .. 1

    @classmethod
    def always_open(cls) -> "Calendar":
        """A calendar that never closes."""
        return cls([(0.0, 24.0, ALL_DAYS)])

    @classmethod
    def from_shifts(cls, shifts, start_weekday: int = 0) -> "Calendar":
        """From the scenario's ``Shift`` records (or any shifts, see the module notes)."""
        return cls(shifts, start_weekday)

    @property
    def windows_spec(self) -> list[tuple[float, float, tuple[int, ...]]]:
        """The shifts as ``(start, end, sorted weekdays)``."""
        return [(a, b, tuple(sorted(w))) for a, b, w in self.shifts]

    def __repr__(self) -> str:
        return f"Calendar({self.windows_spec!r}, start_weekday={self.start_weekday})"

    def __getstate__(self):
        return (self.shifts, self.start_weekday)

    def __setstate__(self, state):
        self.shifts, self.start_weekday = state
        self._cache, self._open, self._week = {}, (math.inf, -math.inf), None

    # ------------------------------------------------------------ windows
    def day_intervals(self, day: int) -> list[tuple[float, float]]:
        """Merged open intervals (absolute hours) of the shifts starting on ``day``."""
        got = self._cache.get(day)
        if got is not None:
            return got
        merged = merge_intervals(self._shifts_of(day))
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[day] = merged
        return merged

    def windows(self, t0: float, t1: float) -> list[tuple[float, float]]:
        """Merged open intervals overlapping ``[t0, t1)``, clipped to it.

        The shifts are clipped and merged once over the span, not day by day through
        :meth:`day_intervals` (the same union: a fresh calendar, as promise dates build, costs
        half as much)."""
        iv = []
        # A shift starting up to two days before (end <= 48 h) may still run at t0.
        for d in range(math.floor(t0 / 24.0) - 2, math.floor(t1 / 24.0) + 1):
            for a, b in self._shifts_of(d):
                lo, hi = max(a, t0), min(b, t1)
                if hi > lo:
                    iv.append((lo, hi))
        return merge_intervals(iv)

    def _shifts_of(self, day: int):
        """The shifts starting on ``day`` as (start, end) in absolute hours, unmerged."""
        wd = (self.start_weekday + day) % 7
        return [(day * 24.0 + a, day * 24.0 + b) for a, b, wds in self.shifts if wd in wds]

    def open_hours(self, t0: float, t1: float) -> float:
        """Open hours within ``[t0, t1)``.

        A span inside one open window (``t1 - t0``) or one closed gap (0) is answered from the
        week's windows (the calendar repeats every 168 hours) without building the span's windows:
        a picker's tour is that, and the simulator asks for every tour."""
        if t1 <= t0:
            return 0.0
        week = self._week
        if week is None:
            iv = self.windows(-168.0, 336.0)
            week = self._week = ([a for a, _ in iv], [b for _, b in iv])
        k = 168.0 * math.floor(t0 / 168.0)
        r0, r1 = t0 - k, t1 - k          # exact: k is a whole number of hours below t0
        starts, ends = week
        i = bisect_right(starts, r0) - 1
        if i >= 0 and r1 <= ends[i]:                        # inside window i
            return t1 - t0
        if (i < 0 or ends[i] <= r0) and i + 1 < len(starts) and r1 <= starts[i + 1]:   # inside the gap after it
            return 0.0
        return sum(b - a for a, b in self.windows(t0, t1))

    def next_open(self, t: float) -> float:
        """The first time >= ``t`` at which the calendar is open (``inf`` if never)."""
        a, b = self._open
        if a <= t < b:          # inside the last window found (queries mostly come in time order)
            return t
        day = int(t // 24.0)
        for d in range(day - 2, day + 15):  # night shifts reach into the next day
            for a, b in self.day_intervals(d):
                if b > t:
                    # Windows come in order of their start: t inside any window finds it here.
                    self._open = (a, b)
                    return max(a, t)
        return math.inf

    def work_done_at(self, t: float, hours: float) -> float:
        """When ``hours`` of work started at ``t`` are done, working only inside the shifts.

        Raises
        ------
        OmsimError
            If the shifts have no working hours in a week.
        """
        need = float(hours)
        t = float(t)
        if need <= 0.0:
            return t
        # Summed from t, window by window (the compiled kernel sums the same way: the same bits).
        week = sum(b - a for a, b in self.windows(t, t + 168.0))
        if week <= 0.0:
            raise OmsimError("the node's shifts have no working hours in a week")
        # The calendar repeats every week: skip whole weeks so a long backlog costs no more than a short one.
        k = math.floor(need / week) - 1
        if k > 0:
            t += 168.0 * k
            need -= week * k
        while True:
            for a, b in self.windows(t, t + 168.0):
                if need <= b - a:
                    return a + need
                need -= b - a
            t += 168.0
