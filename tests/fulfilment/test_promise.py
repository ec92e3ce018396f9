"""Promise dates: hand-worked calendars, a brute-force hour-by-hour reference, and properties."""
import math

import pytest
from hypothesis import given, settings, strategies as st

from omsim.errors import OmsimError
from omsim.fulfilment.promise import next_cutoff_h, promise, promise_h, ready_time_h, shift_windows

WEEKDAYS = [0, 1, 2, 3, 4]


# ---------------------------------------------------------------- references
def _open_at(h, shifts, start_weekday):
    """Is the node working during the hour starting at integer hour h? (shifts as (a, b, weekdays))."""
    for d in (h // 24, h // 24 - 1):
        wd = (start_weekday + d) % 7
        for a, b, wds in shifts:
            b = b if b > a else b + 24
            if wd in wds and d * 24 + a <= h < d * 24 + b:
                return True
    return False


def ready_reference(t, work_h, shifts, start_weekday):
    """Walk the clock one hour at a time (integer t and shift bounds)."""
    if work_h == 0:
        return float(t)
    h = t
    while True:
        if _open_at(h, shifts, start_weekday):
            if work_h <= 1:
                return h + work_h
            work_h -= 1
        h += 1


def cutoff_reference(t, cutoff, days, start_weekday):
    cands = [d * 24 + cutoff for d in range(int(t // 24) - 1, int(t // 24) + 9)
             if d * 24 + cutoff >= t - 1e-9 and (start_weekday + d) % 7 in days]
    return min(cands)


# ---------------------------------------------------------------- worked examples
def test_cutoff_same_day_next_day_and_exactly_at():
    assert next_cutoff_h(0.0, 17.0) == 17.0
    assert next_cutoff_h(16.99, 17.0) == 17.0
    assert next_cutoff_h(17.0, 17.0) == 17.0           # ready at the cut-off: makes it
    assert next_cutoff_h(17.01, 17.0) == 41.0
    assert next_cutoff_h(23.5, 0.5) == 24.5            # across midnight


def test_cutoff_skips_the_weekend():
    # Day 0 is a Wednesday (weekday 2); days 3 and 4 are Saturday and Sunday.
    assert next_cutoff_h(2 * 24 + 18.0, 17.0, WEEKDAYS, start_weekday=2) == 5 * 24 + 17.0  # Fri late -> Mon
    assert next_cutoff_h(3 * 24 + 9.0, 17.0, WEEKDAYS, start_weekday=2) == 5 * 24 + 17.0   # Sat -> Mon
    assert next_cutoff_h(2 * 24 + 9.0, 17.0, WEEKDAYS, start_weekday=2) == 2 * 24 + 17.0   # Fri morning
    with pytest.raises(OmsimError):
        next_cutoff_h(0.0, 17.0, [])
    with pytest.raises(OmsimError):
        next_cutoff_h(0.0, 24.0)


def test_ready_within_one_shift_and_across_shifts():
    shifts = [(8, 16)]
    assert ready_time_h(9.0, 200, 100.0, shifts) == 11.0          # 2 h of work
    assert ready_time_h(15.0, 300, 100.0, shifts) == 24 + 10.0   # 1 h today, 2 h tomorrow from 08:00
    assert ready_time_h(2.0, 100, 100.0, shifts) == 9.0          # before the shift: starts at 08:00
    assert ready_time_h(9.0, 0, 100.0, shifts) == 9.0            # nothing to do
    assert ready_time_h(20.0, 0, 100.0, shifts) == 20.0          # ... even out of hours
    assert ready_time_h(9.0, 150, 100.0, shifts, order_units=50) == 11.0  # backlog then the order


def test_ready_with_night_shift_across_midnight():
    shifts = [(22, 6)]  # 22:00 to 06:00
    assert ready_time_h(23.0, 400, 100.0, shifts) == 27.0        # 23:00 + 4 h = 03:00 next day
    assert ready_time_h(3.0, 400, 100.0, shifts) == 22.0 + 1.0   # 3 h until 06:00, 1 h from 22:00
    assert shift_windows(shifts, 0.0, 30.0) == [(0.0, 6.0), (22.0, 30.0)]
    # A 24-hour shift from 20:00 on Mondays only (day 0 Monday): open Mon 20:00 - Tue 20:00.
    long = [(20, 44, [0])]
    assert shift_windows(long, 24.0, 48.0) == [(24.0, 44.0)]
    assert ready_time_h(25.0, 100, 10.0, long) == 35.0            # inside Monday's shift, on Tuesday
    assert ready_time_h(25.0, 300, 10.0, long) == 7 * 24 + 20.0 + 11.0  # 19 h left, 11 h next Monday


def test_ready_skips_non_working_days():
    # Monday-Friday 09-17, 80 units/h; day 0 Friday (weekday 4).
    shifts = [(9, 17, WEEKDAYS)]
    # Friday 16:00, 160 units = 2 h: 1 h on Friday, then Monday (day 3) 09:00 + 1 h.
    assert ready_time_h(16.0, 160, 80.0, shifts, start_weekday=4) == 3 * 24 + 10.0


def test_long_backlog_skips_whole_weeks_exactly():
    shifts = [(9, 17, WEEKDAYS)]  # 40 working hours a week
    # 10 weeks + 3 h of work from Monday 09:00 ends on Monday 12:00, ten weeks later.
    assert ready_time_h(9.0, (400 + 3) * 10, 10.0, shifts) == 10 * 168 + 12.0
    # Exactly 10 weeks of work ends at Friday 17:00 of the tenth week.
    assert ready_time_h(9.0, 400 * 10, 10.0, shifts) == 9 * 168 + 4 * 24 + 17.0


def test_ready_bad_inputs():
    with pytest.raises(OmsimError):
        ready_time_h(0.0, 10, 0.0)
    with pytest.raises(OmsimError):
        ready_time_h(0.0, 10, 5.0, [])
    with pytest.raises(OmsimError):
        ready_time_h(0.0, 10, 5.0, [(9, 17, [])])  # no working day at all


def test_promise_worked_example():
    # Monday (day 0) 15:00, 300 units of backlog, 100 units/h, shifts 08-16, pickup 17:00,
    # two-day service: ready 16:00?  No: 1 h left today (15-16) -> 100 units; 200 more from
    # Tuesday 08:00 -> ready Tuesday 10:00, pickup Tuesday 17:00 (hour 41), arrives Thursday 17:00
    # (hour 89), promised by the end of Thursday (hour 96).
    p = promise(15.0, 48.0, 17.0, backlog_units=300, capacity_units_per_h=100.0, shifts=[(8, 16)])
    assert p == (24 + 10.0, 24 + 17.0, 96.0)
    assert promise_h(15.0, 48.0, 17.0, backlog_units=300, capacity_units_per_h=100.0, shifts=[(8, 16)],
                     delivery="exact") == 89.0
    with pytest.raises(OmsimError):
        promise_h(15.0, 48.0, 17.0, delivery="tomorrow")


def test_scenario_shift_objects_are_accepted():
    from omsim.scenario import Shift
    shifts = [Shift(start=6, end=14, weekdays=WEEKDAYS), Shift(start=14, end=22, weekdays=WEEKDAYS)]
    # Saturday (day 5 from a Monday start) 10:00: next working time Monday 06:00 (day 7).
    assert ready_time_h(5 * 24 + 10.0, 100, 100.0, shifts) == 7 * 24 + 7.0


# ---------------------------------------------------------------- against references
shift_st = st.tuples(st.integers(0, 23), st.integers(1, 16), st.sets(st.integers(0, 6), min_size=1)).map(
    lambda x: (x[0], (x[0] + x[1]) % 24 if (x[0] + x[1]) % 24 != x[0] else x[0] + x[1], x[2]))


@settings(max_examples=200, deadline=None)
@given(t=st.integers(0, 400), units=st.integers(0, 3000), cap=st.sampled_from([25, 50, 100, 400]),
       shifts=st.lists(shift_st, min_size=1, max_size=3), wd0=st.integers(0, 6))
def test_ready_matches_hour_by_hour_walk(t, units, cap, shifts, wd0):
    got = ready_time_h(float(t), units, float(cap), shifts, start_weekday=wd0)
    want = ready_reference(t, units / cap, shifts, wd0)
    assert got == pytest.approx(want, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(t=st.floats(0, 1000), c=st.floats(0, 23.99), days=st.sets(st.integers(0, 6), min_size=1),
       wd0=st.integers(0, 6))
def test_cutoff_matches_brute_force(t, c, days, wd0):
    got = next_cutoff_h(t, c, days, wd0)
    assert got == pytest.approx(cutoff_reference(t, c, days, wd0))
    assert got >= t - 1e-9 and got - t < 7 * 24 + 1e-9


# ---------------------------------------------------------------- properties
args = dict(
    t=st.floats(0, 500), dt=st.floats(0, 100), backlog=st.integers(0, 5000), extra=st.integers(0, 2000),
    cap=st.floats(1, 500), transit=st.sampled_from([0.0, 24.0, 48.0, 36.5, 120.0]), cutoff=st.floats(0, 23.5),
    shifts=st.lists(shift_st, min_size=1, max_size=3), pickup=st.sets(st.integers(0, 6), min_size=1),
    wd0=st.integers(0, 6), delivery=st.sampled_from(["end_of_day", "exact"]),
)


@settings(max_examples=200, deadline=None)
@given(**args)
def test_promise_is_monotone_and_never_before_t_plus_transit(t, dt, backlog, extra, cap, transit, cutoff, shifts,
                                                             pickup, wd0, delivery):
    kw = dict(capacity_units_per_h=cap, shifts=shifts, pickup_days=pickup, start_weekday=wd0, delivery=delivery)
    p = promise(t, transit, cutoff, backlog_units=backlog, **kw)
    assert p.ready_h >= t and p.pickup_h >= p.ready_h - 1e-9 and p.delivery_h >= p.pickup_h + transit - 1e-9
    assert p.delivery_h >= t + transit - 1e-9
    # The pickup is a cut-off on a pickup day.
    k = (p.pickup_h - cutoff) / 24.0
    assert abs(k - round(k)) < 1e-9
    assert (wd0 + math.floor(p.pickup_h / 24.0 + 1e-12)) % 7 in pickup
    if delivery == "end_of_day":
        assert p.delivery_h % 24.0 == pytest.approx(0.0, abs=1e-6) or p.delivery_h % 24.0 == pytest.approx(24.0)
        assert p.delivery_h - (p.pickup_h + transit) < 24.0
    later = promise(t + dt, transit, cutoff, backlog_units=backlog, **kw)
    more = promise(t, transit, cutoff, backlog_units=backlog + extra, **kw)
    for a, b in ((p, later), (p, more)):
        assert b.ready_h >= a.ready_h - 1e-9 and b.pickup_h >= a.pickup_h - 1e-9
        assert b.delivery_h >= a.delivery_h - 1e-9


def test_merge_intervals_unions_overlapping_and_touching():
    from omsim.fulfilment.promise import merge_intervals

    assert merge_intervals([(14, 22), (6, 14), (30, 31), (20, 23)]) == [(6, 23), (30, 31)]
    assert merge_intervals([]) == []
