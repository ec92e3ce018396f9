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

from typing import Callable

import heapq
import math
from collections import deque

import numpy as np
import simpy

from omsim.shifts import Calendar


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
    ``busy_h`` accumulates service hours and ``jobs`` counts jobs, both when
    a job ends.

    A job's start is known the moment it is submitted: jobs are served in
    arrival order, each by the server that frees up first, so its start is
    the later of its arrival and that server's free time, moved to the next
    opening when the station is closed then (the server is held meanwhile,
    which keeps the FIFO order), and starts never decrease. So a job is one
    SimPy event, at its end, instead of a process with a resource request
    and timeouts; the times are those of that process (the queueing tests
    hold it to Erlang C and Little's law).
    """

    def __init__(self, env: simpy.Environment, servers: int, calendar: Calendar | None = None,
                 *, record: bool = False, name: str = ""):
        if servers < 1:
            raise ValueError("a station needs at least one server")
        self.env = env
        self.servers = int(servers)
        self.calendar = calendar
        self.name = name
        self._busy_h = 0.0
        self._jobs = 0
        self._booked: list[tuple[float, float]] = []   # heap of (end, service) of booked jobs not yet counted
        self._free = [0.0] * self.servers     # heap: when each server is free of the jobs given to it
        self._starts: deque[float] = deque()  # starts of jobs that have not started (non-decreasing)
        self._spans: list[tuple[float, float]] = []   # heap of (end, start) of jobs not yet ended
        self.record = record
        self.arrive_h: list[float] = []
        self._start: list[float] = []
        self._end: list[float] = []

    @property
    def busy_h(self) -> float:
        """Service hours of the jobs ended by now."""
        self._count_booked()
        return self._busy_h

    @property
    def jobs(self) -> int:
        """Jobs ended by now."""
        self._count_booked()
        return self._jobs

    def _count_booked(self) -> None:
        h, now = self._booked, self.env.now
        while h and h[0][0] <= now:
            self._busy_h += heapq.heappop(h)[1]
            self._jobs += 1

    def submit(self, service_h: float, on_done: Callable | None = None, *args) -> simpy.Event:
        """Queue a job of ``service_h`` hours; ``on_done(start_h, end_h, *args)`` runs when it ends.

        Returns the SimPy event of its end.
        """
        service_h = float(service_h)
        start, end = self._schedule(service_h)
        ev = self.env.timeout(end - self.env.now)
        ev.callbacks.append(lambda _e: self._done(service_h, start, end, on_done, args))
        return ev

    def book(self, service_h: float) -> tuple[float, float]:
        """Queue a job of ``service_h`` hours whose end nobody waits for: its ``(start_h, end_h)``, no event.

        It counts in ``busy_h`` and ``jobs`` once ended, like a submitted job.
        """
        service_h = float(service_h)
        start, end = self._schedule(service_h)
        heapq.heappush(self._booked, (end, service_h))
        return start, end

    def _schedule(self, service_h: float) -> tuple[float, float]:
        """A new job's start and end (FIFO, earliest-free server, working hours)."""
        env = self.env
        now = env.now
        free = heapq.heappop(self._free)
        start = free if free > now else now
        if self.calendar is not None:
            start = self.calendar.next_open(start)
        end = start + service_h
        heapq.heappush(self._free, end)
        self._prune(now)             # keep only the jobs still in the system: O(jobs waiting or in service)
        if start > now:
            self._starts.append(start)
        heapq.heappush(self._spans, (end, start))
        if self.record:
            self.arrive_h.append(now)
            self._start.append(start)
            self._end.append(end)
        return start, end

    def _done(self, service_h, start, end, on_done, args) -> None:
        self._busy_h += service_h
        self._jobs += 1
        if on_done is not None:
            on_done(start, end, *args)

    def _prune(self, now: float) -> None:
        """Forget jobs that have started (waiting list) or ended (span heap) by ``now``."""
        q, h = self._starts, self._spans
        while q and q[0] <= now:
            q.popleft()
        while h and h[0][0] <= now:
            heapq.heappop(h)

    @property
    def queue_length(self) -> int:
        """Jobs waiting to start now (for a server, or holding one until the station opens)."""
        self._prune(self.env.now)
        return len(self._starts)

    @property
    def in_service(self) -> int:
        """Jobs in service now."""
        now = self.env.now
        self._prune(now)
        return sum(1 for _e, s in self._spans if s <= now)

    @property
    def start_h(self) -> list[float]:
        """Start of each recorded job, NaN while it has not started."""
        now = self.env.now
        return [s if s <= now else math.nan for s in self._start]

    @property
    def end_h(self) -> list[float]:
        """End of each recorded job, NaN while it has not ended."""
        now = self.env.now
        return [e if e <= now else math.nan for e in self._end]

    def waits(self) -> np.ndarray:
        """Waiting times of recorded jobs that started (hours)."""
        s = np.asarray(self._start, dtype=np.float64)
        w = s - np.asarray(self.arrive_h, dtype=np.float64)
        return w[s <= self.env.now]

    def waits_until(self, t: float) -> np.ndarray:
        """Time each recorded job arrived by ``t`` spent waiting before ``t`` (hours)."""
        a = np.asarray(self.arrive_h, dtype=np.float64)
        s = np.minimum(np.asarray(self._start, dtype=np.float64), t)
        keep = a <= t
        return (s - a)[keep]
