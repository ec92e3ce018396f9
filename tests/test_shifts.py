"""The one shift calendar against brute force on a quarter-hour grid."""
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.errors import OmsimError
from omsim.shifts import Calendar

Q = 0.25   # every shift boundary below is on the quarter hour, so the grid is exact


@st.composite
def calendars(draw):
    n = draw(st.integers(1, 3))
    shifts = []
    for _ in range(n):
        a = draw(st.integers(0, 95)) * Q
        length = draw(st.integers(1, 4 * 14)) * Q
        days = draw(st.sets(st.integers(0, 6), min_size=0, max_size=7))
        shifts.append((a, a + length, tuple(sorted(days))))
    return Calendar(shifts, draw(st.integers(0, 6)))


def open_at(cal: Calendar, t: float) -> bool:
    """Brute force: is any shift (of any day that can reach t) running at t?"""
    day = math.floor(t / 24)
    for d in range(day - 2, day + 1):
        wd = (cal.start_weekday + d) % 7
        for a, b, wds in cal.shifts:
            if wd in wds and d * 24 + a <= t < d * 24 + b:
                return True
    return False


def grid(t0, t1):
    return np.arange(t0, t1, Q) + Q / 2   # midpoints of quarter hours


@settings(max_examples=150, deadline=None)
@given(calendars(), st.integers(0, 4 * 24 * 20), st.integers(1, 4 * 24 * 9))
def test_windows_and_open_hours_match_brute_force(cal, q0, span):
    t0, t1 = q0 * Q, (q0 + span) * Q
    mids = grid(t0, t1)
    want = [open_at(cal, t) for t in mids]
    got = [any(a <= t < b for a, b in cal.windows(t0, t1)) for t in mids]
    assert got == want
    assert cal.open_hours(t0, t1) == pytest.approx(Q * sum(want))
    w = cal.windows(t0, t1)
    assert all(t0 <= a < b <= t1 for a, b in w) and all(b1 < a2 for (_, b1), (a2, _) in zip(w, w[1:]))


@settings(max_examples=200, deadline=None)
@given(calendars(), st.floats(-2000.0, 20000.0), st.floats(1e-6, 30.0))
def test_open_hours_of_a_short_span_are_the_sum_of_its_windows_to_the_bit(cal, t0, span):
    # open_hours answers spans inside one window or gap from the week's windows: the same float.
    t1 = t0 + span
    assert cal.open_hours(t0, t1) == sum(b - a for a, b in cal.windows(t0, t1))


@settings(max_examples=150, deadline=None)
@given(calendars(), st.integers(0, 4 * 24 * 20))
def test_next_open_is_the_first_open_quarter(cal, q0):
    t = q0 * Q
    got = cal.next_open(t)
    mids = grid(t, t + 24 * 16)
    first = next((m for m in mids if open_at(cal, m)), None)
    if first is None:
        assert got == math.inf
    else:
        assert got == pytest.approx(max(t, first - Q / 2))
    # A remembered window never changes an answer: a fresh calendar agrees.
    assert Calendar(cal.shifts, cal.start_weekday).next_open(t) == got


@settings(max_examples=150, deadline=None)
@given(calendars(), st.integers(0, 4 * 24 * 10), st.integers(0, 4 * 24 * 30))
def test_work_is_done_after_exactly_that_many_open_hours(cal, q0, work_q):
    t, need = q0 * Q, work_q * Q
    if cal.open_hours(0, 168) == 0:
        if need > 0:
            with pytest.raises(OmsimError, match="no working hours in a week"):
                cal.work_done_at(t, need)
        return
    done = cal.work_done_at(t, need)
    assert done >= t
    assert cal.open_hours(t, done) == pytest.approx(need, abs=1e-6)
    if need > 0:
        assert open_at(cal, done - 1e-6)   # it ends inside (or at the end of) a shift


def test_night_shifts_normalise_and_pickle():
    cal = Calendar([(22, 6)], start_weekday=4)
    assert cal.windows_spec == [(22.0, 30.0, (0, 1, 2, 3, 4, 5, 6))]
    assert cal.windows(0, 48) == [(0.0, 6.0), (22.0, 30.0), (46.0, 48.0)]
    back = pickle.loads(pickle.dumps(cal))
    assert back.windows(0, 100) == cal.windows(0, 100) and back.start_weekday == 4
    with pytest.raises(OmsimError, match="start must be in"):
        Calendar([(25, 30)])
    with pytest.raises(OmsimError, match="at least one shift"):
        Calendar([])
