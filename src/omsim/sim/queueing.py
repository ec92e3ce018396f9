"""Reusable SimPy stations: servers, a FIFO queue and working hours.

The warehouse model runs its pickers and packers as :class:`Station` objects,
and the queueing-theory tests (Erlang C, Little's law) run the very same class
with Poisson arrivals and exponential service, so the theory validates the code
the model runs.

A station has ``servers`` identical servers and one FIFO queue. With a
:class:`Calendar` it only *starts* jobs inside working hours: a job that reaches
a server while the station is closed holds it and waits for the next opening
(so the FIFO order is kept); a job started before closing finishes (overtime).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import math

import numpy as np
import simpy

from omsim.fulfilment.promise import merge_intervals


@dataclass
class Calendar:
    """Daily working windows, hours after midnight, on given weekdays.

    Parameters
    ----------
    windows
        ``(start, end, weekdays)`` per shift; ``end`` may pass 24 (a night
        shift); ``weekdays`` are 0 = Monday.
    start_weekday
        Weekday of simulated day 0.

    Examples
    --------
    >>> cal = Calendar([(8.0, 16.0, (0, 1, 2, 3, 4, 5, 6))])
    >>> cal.next_open(3.0), cal.next_open(9.5), cal.next_open(17.0)
    (8.0, 9.5, 32.0)
    """

    windows: list[tuple[float, float, tuple[int, ...]]]
    start_weekday: int = 0
    _cache: dict[int, list[tuple[float, float]]] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def always_open(cls) -> "Calendar":
        """A station that never closes."""
        return cls([(0.0, 24.0, tuple(range(7)))])

    @classmethod
    def from_shifts(cls, shifts, start_weekday: int = 0) -> "Calendar":
        """From the scenario's ``Shift`` records."""
        return cls([(float(s.start), float(s.end), tuple(s.weekdays)) for s in shifts], start_weekday)

    def day_intervals(self, day: int) -> list[tuple[float, float]]:
        """Merged open intervals (absolute hours) of shifts starting on ``day``."""
        got = self._cache.get(day)
        if got is not None:
            return got
        wd = (self.start_weekday + day) % 7
        merged = merge_intervals((day * 24.0 + a, day * 24.0 + b) for a, b, wds in self.windows if wd in wds)
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[day] = merged
        return merged

    def next_open(self, t: float) -> float:
        """The first time >= ``t`` at which the station is open."""
        day = int(t // 24.0)
        for d in range(day - 2, day + 15):  # night shifts reach into the next day
            for a, b in self.day_intervals(d):
                if b > t:
                    return max(a, t)
        return float("inf")

    def open_hours(self, t0: float, t1: float) -> float:
        """Open hours within ``[t0, t1)``."""
        if t1 <= t0:
            return 0.0
        total = 0.0
        for d in range(int(t0 // 24.0) - 2, int(t1 // 24.0) + 1):
            for a, b in self.day_intervals(d):
                total += max(0.0, min(b, t1) - max(a, t0))
        return total


class Station:
    """``servers`` identical servers with a FIFO queue and optional working hours.

    Parameters
    ----------
    env
        The SimPy environment.
    servers
        Number of servers (>= 1).
    calendar
        Working hours; ``None`` = always open.
    record
        Keep every job's arrival, start and end (for tests and queue KPIs).

    Notes
    -----
    ``busy_h`` accumulates service hours; ``jobs`` counts finished jobs.
    """

    def __init__(self, env: simpy.Environment, servers: int, calendar: Calendar | None = None,
                 *, record: bool = False, name: str = ""):
        if servers < 1:
            raise ValueError("a station needs at least one server")
        self.env = env
        self.servers = int(servers)
        self.resource = simpy.Resource(env, capacity=self.servers)
        self.calendar = calendar
        self.name = name
        self.busy_h = 0.0
        self.jobs = 0
        self._holding = 0  # jobs holding a server until the station opens
        self.record = record
        self.arrive_h: list[float] = []
        self.start_h: list[float] = []
        self.end_h: list[float] = []

    def submit(self, service_h: float, on_done: Callable | None = None, *args) -> simpy.Process:
        """Queue a job of ``service_h`` hours; ``on_done(start_h, end_h, *args)`` runs when it ends."""
        return self.env.process(self._job(float(service_h), on_done, args))

    def _job(self, service_h: float, on_done, args):
        env = self.env
        k = -1
        if self.record:
            # Recorded on arrival so that jobs still waiting at the end are counted too.
            k = len(self.arrive_h)
            self.arrive_h.append(env.now)
            self.start_h.append(math.nan)
            self.end_h.append(math.nan)
        req = self.resource.request()
        yield req
        try:
            if self.calendar is not None:
                t_open = self.calendar.next_open(env.now)
                if t_open > env.now:
                    self._holding += 1
                    yield env.timeout(t_open - env.now)
                    self._holding -= 1
            start = env.now
            if k >= 0:
                self.start_h[k] = start
            yield env.timeout(service_h)
        finally:
            self.resource.release(req)
        self.busy_h += service_h
        self.jobs += 1
        if k >= 0:
            self.end_h[k] = env.now
        if on_done is not None:
            on_done(start, env.now, *args)

    @property
    def queue_length(self) -> int:
        """Jobs waiting to start now (for a server, or holding one until the station opens)."""
        return len(self.resource.queue) + self._holding

    @property
    def in_service(self) -> int:
        """Jobs in service now."""
        return self.resource.count - self._holding

    def waits(self) -> np.ndarray:
        """Waiting times of recorded jobs that started (hours)."""
        s = np.asarray(self.start_h, dtype=np.float64)
        w = s - np.asarray(self.arrive_h, dtype=np.float64)
        return w[np.isfinite(s)]

    def waits_until(self, t: float) -> np.ndarray:
        """Time each recorded job arrived by ``t`` spent waiting before ``t`` (hours)."""
        a = np.asarray(self.arrive_h, dtype=np.float64)
        s = np.asarray(self.start_h, dtype=np.float64)
        s = np.where(np.isfinite(s), np.minimum(s, t), t)
        keep = a <= t
        return (s - a)[keep]
