"""Promise dates: when a node finishes an order, when the carrier picks it up, when it arrives.

Time is hours since the scenario start; day ``d`` covers ``[24 d, 24 d + 24)``
and is weekday ``(start_weekday + d) % 7`` (0 = Monday).

A promise is built in three steps:

1. :func:`ready_time_h` — the node works through its backlog and then the
   order at ``capacity_units_per_h``, but only inside its shifts;
2. :func:`next_cutoff_h` — the parcel leaves at the first carrier pickup
   (cut-off) at or after it is ready, on a pickup day;
3. :func:`promise_h` — plus the service's transit time; by default the
   promise is rounded up to the end of the arrival day (midnight), the way
   carriers promise "delivered by end of day"; ``delivery="exact"`` keeps the
   exact hour. Transit days are calendar days (carriers deliver every day).

Shifts and working hours are those of :class:`omsim.shifts.Calendar`, the
one calendar the simulator's stations use too. Inputs are assumed validated
except where noted.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Sequence

from omsim.shifts import ALL_DAYS, Calendar, merge_intervals, normalise_shifts
from omsim.errors import OmsimError

_EPS = 1e-9  # hours; below a microsecond floating noise is not a missed pickup

__all__ = ["ALL_DAYS", "Promise", "merge_intervals", "next_cutoff_h", "normalise_shifts", "ready_time_h", "promise",
           "promise_h", "shift_windows"]


class Promise(NamedTuple):
    """The three times of a promise (hours since the scenario start)."""

    ready_h: float      # the node has packed the order
    pickup_h: float     # the carrier collects it (a cut-off)
    delivery_h: float   # the promised delivery


def next_cutoff_h(t_h: float, cutoff_hour: float, days_of_week: Sequence[int] | None = None,
                  start_weekday: int = 0) -> float:
    """The first carrier pickup at or after ``t_h``.

    Parameters
    ----------
    t_h
        When the parcel is ready, hours since the scenario start.
    cutoff_hour
        Daily pickup time, hours after midnight (0 <= h < 24).
    days_of_week
        Weekdays with a pickup (0 = Monday); every day by default.
    start_weekday
        Weekday of day 0.

    Returns
    -------
    float
        ``24 d + cutoff_hour`` for the first pickup day ``d`` with that time
        ``>= t_h`` (a parcel ready exactly at the cut-off makes it).

    Examples
    --------
    >>> next_cutoff_h(10.0, 17.0), next_cutoff_h(17.0, 17.0), next_cutoff_h(17.5, 17.0)
    (17.0, 17.0, 41.0)
    >>> next_cutoff_h(17.5, 17.0, days_of_week=[0, 1, 2, 3, 4], start_weekday=4)  # Friday evening
    89.0
    """
    if not 0.0 <= cutoff_hour < 24.0:
        raise OmsimError(f"cutoff hour must be in [0, 24), got {cutoff_hour}")
    days = ALL_DAYS if days_of_week is None else {int(d) % 7 for d in days_of_week}
    if not days:
        raise OmsimError("a carrier pickup needs at least one weekday")
    day = math.floor(t_h / 24.0)
    if day * 24.0 + cutoff_hour < t_h - _EPS:
        day += 1
    for _ in range(7):
        if (start_weekday + day) % 7 in days:
            return day * 24.0 + cutoff_hour
        day += 1
    raise AssertionError("unreachable: some weekday is a pickup day")  # pragma: no cover


def shift_windows(shifts, t0_h: float, t1_h: float, start_weekday: int = 0) -> list[tuple[float, float]]:
    """Merged working intervals (absolute hours) that overlap ``[t0_h, t1_h)``, clipped to it.

    Examples
    --------
    >>> shift_windows([(22, 6)], 0.0, 48.0)  # a night shift across midnight
    [(0.0, 6.0), (22.0, 30.0), (46.0, 48.0)]
    """
    return Calendar(shifts, start_weekday).windows(t0_h, t1_h)


def ready_time_h(t_h: float, backlog_units: float, capacity_units_per_h: float, shifts=None,
                 start_weekday: int = 0, order_units: float = 0.0) -> float:
    """When a node has worked off its backlog and this order, working only inside its shifts.

    Parameters
    ----------
    t_h
        Now, hours since the scenario start.
    backlog_units
        Units already waiting at the node (worked first, FIFO).
    capacity_units_per_h
        Units the node's labour completes per working hour (> 0; ``inf``
        means instantaneous).
    shifts
        Working windows (see the module notes); always open by default.
    start_weekday
        Weekday of day 0.
    order_units
        Units of this order, worked after the backlog.

    Returns
    -------
    float
        ``t_h`` when there is nothing to do; else the moment the last unit is
        done (which is inside or at the end of a shift).

    Examples
    --------
    Two 8-hour shifts (06-14, 14-22) at 100 units/h; 1000 units at 20:00
    take 2 h today (200 units) and 8 h from 06:00 tomorrow:

    >>> ready_time_h(20.0, 1000, 100.0, [(6, 14), (14, 22)])
    38.0
    """
    if not capacity_units_per_h > 0:
        raise OmsimError(f"labour capacity must be > 0 units per hour, got {capacity_units_per_h}")
    work = float(backlog_units) + float(order_units)
    if work < 0:
        raise OmsimError(f"backlog and order units must be >= 0, got {work}")
    need = work / capacity_units_per_h
    if need <= 0.0:
        return float(t_h)
    if shifts is None:
        return float(t_h) + need
    return Calendar(shifts, start_weekday).work_done_at(t_h, need)


def promise(t_h: float, transit_h: float, cutoff_hour: float, *, backlog_units: float = 0.0,
            order_units: float = 0.0, capacity_units_per_h: float = math.inf, shifts=None,
            pickup_days: Sequence[int] | None = None, start_weekday: int = 0,
            delivery: str = "end_of_day") -> Promise:
    """Ready, pickup and delivery times of an order placed at ``t_h``.

    Parameters
    ----------
    t_h
        When the order is accepted.
    transit_h
        The carrier service's transit time (hours; e.g. 24 x transit days).
    cutoff_hour
        The node's pickup hour for that service.
    backlog_units, order_units, capacity_units_per_h, shifts
        See :func:`ready_time_h`.
    pickup_days
        Weekdays the carrier collects (0 = Monday); every day by default.
    start_weekday
        Weekday of day 0.
    delivery
        ``"end_of_day"`` (promise the midnight ending the arrival day) or
        ``"exact"`` (pickup + transit).

    Returns
    -------
    Promise
    """
    ready = ready_time_h(t_h, backlog_units, capacity_units_per_h, shifts, start_weekday, order_units)
    pickup = next_cutoff_h(ready, cutoff_hour, pickup_days, start_weekday)
    arrive = pickup + float(transit_h)
    if delivery == "end_of_day":
        due = math.ceil(arrive / 24.0 - _EPS / 24.0) * 24.0
        due = max(due, arrive)
    elif delivery == "exact":
        due = arrive
    else:
        raise OmsimError(f"delivery must be 'end_of_day' or 'exact', got {delivery!r}")
    return Promise(ready, pickup, due)


def promise_h(t_h: float, transit_h: float, cutoff_hour: float, **kwargs) -> float:
    """The promised delivery time (hours since the scenario start); see :func:`promise`.

    Examples
    --------
    Ordered Monday 15:00 at an idle node, pickup 17:00, two-day transit,
    delivered by the end of Wednesday (day 2 ends at hour 72):

    >>> promise_h(15.0, 48.0, 17.0)
    72.0
    """
    return promise(t_h, transit_h, cutoff_hour, **kwargs).delivery_h
