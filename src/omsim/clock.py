"""The absolute clock: timezone-aware datetimes at the public edge, engine hours inside.

The engine, the simulator and the planner count time in **engine hours**: hours
of local civil time since midnight of the scenario's start date
(``horizon.start``) in the scenario's time zone (``horizon.timezone``, an IANA
name; UTC by default). Day ``d`` is ``[24 d, 24 (d + 1))`` and its weekday is
``(start weekday + d) % 7``, so shift calendars, carrier cut-offs and capacity
days are plain arithmetic on engine hours, as the compiled kernels need.

Engine hours follow the wall clock, not the stop-watch: a day on which the
clocks change still has 24 engine hours, so 06:00 local is always
``24 d + 6``.  A duration that spans a change of the clocks is therefore one
hour longer or shorter in real elapsed time than in engine hours (a night
shift across the autumn change works one hour more than its engine length);
the model accepts that, as most shift plans and carrier timetables do.

A datetime at the public edge must carry a time zone; it is converted to the
scenario's zone first.  Engine time never runs backwards as real time runs
forwards: the local hour the clocks skip in spring simply has no engine hours,
and the hour they repeat in autumn is counted once, so instants in its second
occurrence are held at its end (for Europe/London, everything from 01:00 GMT
to 02:00 GMT on that day is engine hour ``24 d + 2``).  Back from engine
hours, :meth:`Clock.to_datetime` gives the first occurrence of a repeated
wall time and moves a wall time in the spring gap forward by the gap.
"""
from __future__ import annotations

import datetime as _dt
import math
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from omsim.errors import OmsimError

__all__ = ["Clock", "parse_local", "zone"]

_HOUR = _dt.timedelta(hours=1)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or an OmsimError naming it."""
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise OmsimError(f"unknown time zone {name!r} (expected an IANA name such as 'Europe/London')") from None


def parse_local(text: str, what: str = "time") -> _dt.datetime:
    """Parse ``2026-12-01 08:00`` (ISO 8601, ``T`` or space, seconds optional; a date alone is midnight).

    A trailing offset or ``Z`` is kept (an aware datetime); without one the
    result is naive, meaning local time in the scenario's zone.

    Raises
    ------
    OmsimError
        If ``text`` is not such a date and time; the message names ``what``.
    """
    s = str(text).strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    try:
        return _dt.datetime.fromisoformat(s)
    except ValueError:
        raise OmsimError(f"{what}: expected a date and time like '2026-12-01 08:00', got {text!r}") from None


class Clock:
    """Maps timezone-aware datetimes to engine hours and back.

    Parameters
    ----------
    start
        The calendar date of engine hour 0 (its local midnight).
    tz
        IANA time zone name (or a :class:`zoneinfo.ZoneInfo`) of the
        scenario: day boundaries, shifts and cut-offs are in this zone.

    Examples
    --------
    >>> import datetime as dt
    >>> c = Clock(dt.date(2026, 3, 28), "Europe/London")   # a Saturday; clocks go forward on the 29th
    >>> c.to_hours(dt.datetime(2026, 3, 30, 6, tzinfo=c.tz))
    54.0
    >>> c.weekday(54.0), c.to_datetime(54.0).isoformat()
    (0, '2026-03-30T06:00:00+01:00')
    """

    __slots__ = ("start", "tz", "_origin", "_iso")

    def __init__(self, start: _dt.date, tz: str | ZoneInfo = "UTC"):
        if isinstance(start, _dt.datetime):
            start = start.date()
        self.start: _dt.date = start
        self.tz: ZoneInfo = tz if isinstance(tz, ZoneInfo) else zone(tz)
        self._origin = _dt.datetime.combine(start, _dt.time())  # naive local midnight
        self._iso: dict[float, str] = {}                         # isoformat(h), remembered

    @classmethod
    def from_scenario(cls, scenario) -> "Clock":
        """The clock of a scenario: its ``horizon.start`` and ``horizon.timezone``."""
        h = scenario.horizon
        return cls(h.start, getattr(h, "timezone", "UTC"))

    def __repr__(self) -> str:
        return f"Clock(start={self.start.isoformat()}, tz={self.tz.key!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Clock) and (self.start, self.tz.key) == (other.start, other.tz.key)

    def __hash__(self) -> int:
        return hash((self.start, self.tz.key))

    def __reduce__(self):
        return (Clock, (self.start, self.tz.key))

    # ------------------------------------------------------------ conversions
    @property
    def start_weekday(self) -> int:
        """Weekday of day 0 (0 = Monday)."""
        return self.start.weekday()

    def local(self, t: _dt.datetime, what: str = "time") -> _dt.datetime:
        """``t`` (aware) as a naive local wall time in the clock's zone."""
        if not isinstance(t, _dt.datetime):
            raise OmsimError(f"{what}: expected a datetime, got {type(t).__name__} {t!r}")
        if t.tzinfo is None or t.tzinfo.utcoffset(t) is None:
            raise OmsimError(f"{what}: {t.isoformat()} has no time zone; give an aware datetime "
                             f"(e.g. with tzinfo=ZoneInfo({self.tz.key!r}))")
        lt = t.astimezone(self.tz)
        if lt.fold and lt.replace(fold=0).utcoffset() != lt.utcoffset():
            return self._end_of_repeat(lt)
        return lt.replace(tzinfo=None, fold=0)

    def _end_of_repeat(self, lt: _dt.datetime) -> _dt.datetime:
        """Naive wall time at which the repeated (autumn) hour holding ``lt`` ends."""
        gap = lt.replace(fold=0).utcoffset() - lt.utcoffset()
        hi = lt.astimezone(_dt.timezone.utc).replace(microsecond=0)  # in the repeat: the change is in (lo, hi]
        lo = hi - gap
        while hi - lo > _dt.timedelta(seconds=1):     # bisect, in whole seconds, the instant the offset changed
            mid = lo + _dt.timedelta(seconds=(hi - lo).total_seconds() // 2)
            if mid.astimezone(self.tz).utcoffset() == lt.utcoffset():
                hi = mid
            else:
                lo = mid
        return (hi.astimezone(self.tz) + gap).replace(tzinfo=None, fold=0)

    def to_hours(self, t: _dt.datetime, what: str = "time") -> float:
        """Engine hours of the aware datetime ``t``."""
        return (self.local(t, what) - self._origin) / _HOUR

    def local_hours(self, t: _dt.datetime) -> float:
        """Engine hours of a naive datetime read as local wall time in the clock's zone."""
        if t.tzinfo is not None:
            return self.to_hours(t)
        return (t - self._origin) / _HOUR

    def to_datetime(self, h: float) -> _dt.datetime:
        """The aware datetime (in the clock's zone) at engine hour ``h``."""
        h = float(h)
        if not math.isfinite(h):
            raise OmsimError(f"engine hour {h} is not a finite time")
        wall = self._origin + _dt.timedelta(hours=h)
        aware = wall.replace(tzinfo=self.tz)
        # A wall time in the spring-forward gap does not exist: move it forward by the gap.
        back = aware.astimezone(_dt.timezone.utc).astimezone(self.tz)
        if back.replace(tzinfo=None) != wall:
            return back
        return aware

    def isoformat(self, h: float) -> str:
        """``to_datetime(h).isoformat()``, remembered (a service renders the same few pickup and delivery hours
        for many orders)."""
        got = self._iso.get(h)
        if got is None:
            got = self.to_datetime(h).isoformat()
            if len(self._iso) > 50_000:
                self._iso.clear()
            self._iso[h] = got
        return got

    def format(self, h: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """Engine hour ``h`` as local wall time text (empty for None or NaN)."""
        if h is None or not math.isfinite(float(h)):
            return ""
        return (self._origin + _dt.timedelta(hours=float(h))).strftime(fmt)

    def parse(self, text: str, what: str = "time") -> float:
        """Engine hours of ``text`` (see :func:`parse_local`; no offset means local time)."""
        return self.local_hours(parse_local(text, what))

    def hours_of(self, values) -> np.ndarray:
        """Engine hours of many datetimes (a pandas Series, Index or array-like), vectorised.

        Aware values are converted to the clock's zone; naive values are read
        as local wall time.
        """
        s = pd.to_datetime(pd.Series(values), errors="raise")
        if s.dt.tz is not None:
            s = s.dt.tz_convert(self.tz.key).dt.tz_localize(None)
        return ((s - pd.Timestamp(self._origin)) / pd.Timedelta(hours=1)).to_numpy(dtype=np.float64)

    # ------------------------------------------------------------ calendar
    @staticmethod
    def day(h: float) -> int:
        """The day index of engine hour ``h`` (day 0 starts at hour 0)."""
        return int(math.floor(h / 24.0))

    def weekday(self, h: float) -> int:
        """Weekday (0 = Monday) of engine hour ``h``."""
        return (self.start_weekday + self.day(h)) % 7

    def date(self, day: int) -> _dt.date:
        """The calendar date of day index ``day``."""
        return self.start + _dt.timedelta(days=int(day))

    def day_start(self, day: int) -> _dt.datetime:
        """The aware datetime of local midnight starting day index ``day``."""
        return self.to_datetime(24.0 * int(day))
