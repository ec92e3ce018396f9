"""Stations against queueing theory: Erlang C (M/M/c), Little's law, shifts."""
import math

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.sim.queueing import Calendar, Station


def erlang_c(c: int, lam: float, mu: float) -> tuple[float, float]:
    """Probability of waiting and mean wait in queue of M/M/c (closed form)."""
    a = lam / mu
    rho = a / c
    top = a ** c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)
    return p_wait, p_wait / (c * mu - lam)


def run_mmc(c, lam, mu, horizon, seed, monitor_dt=None):
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    st = Station(env, c, record=True)
    samples = []

    def arrivals():
        while True:
            yield env.timeout(rng.exponential(1 / lam))
            st.submit(rng.exponential(1 / mu))  # test-only exponential service sampler

    def monitor():
        while True:
            yield env.timeout(monitor_dt)
            samples.append(st.queue_length)

    env.process(arrivals())
    if monitor_dt:
        env.process(monitor())
    env.run(until=horizon)
    return st, np.asarray(samples)


@pytest.mark.parametrize("c,rho", [(1, 0.5), (3, 0.7), (8, 0.6)])
def test_erlang_c_wait_probability_and_mean_wait(c, rho):
    mu = 2.0
    lam = rho * c * mu
    p_theory, wq_theory = erlang_c(c, lam, mu)
    # Independent replications give a CI that does not assume independent waits.
    p_hat, w_hat = [], []
    for rep in range(12):
        st, _ = run_mmc(c, lam, mu, horizon=4000.0 / lam, seed=100 + rep)
        w = st.waits()[200:]  # drop the warm-up (starts empty)
        p_hat.append(np.mean(w > 1e-12))
        w_hat.append(w.mean())
    for est, theory in ((p_hat, p_theory), (w_hat, wq_theory)):
        m, se = np.mean(est), np.std(est, ddof=1) / np.sqrt(len(est))
        assert abs(m - theory) < 4 * se + 0.03 * theory, (m, theory, se)


def test_littles_law_sampled_queue_length():
    c, mu, lam = 2, 1.5, 2.1
    st, samples = run_mmc(c, lam, mu, horizon=20000.0, seed=5, monitor_dt=0.25)
    lam_hat = len(st.arrive_h) / 20000.0
    lq_sampled = samples.mean()
    lq_little = lam_hat * st.waits().mean()
    assert lq_sampled == pytest.approx(lq_little, rel=0.05)
    assert lq_sampled == pytest.approx(erlang_c(c, lam, mu)[1] * lam, rel=0.15)


def test_infinite_servers_never_wait():
    st, _ = run_mmc(500, 3.0, 1.0, horizon=500.0, seed=1)
    assert np.all(st.waits() == 0)


def test_calendar_next_open_and_hours():
    cal = Calendar([(6.0, 14.0, (0, 1, 2, 3, 4)), (14.0, 22.0, (0, 1, 2, 3, 4))], start_weekday=0)
    assert cal.next_open(0.0) == 6.0
    assert cal.next_open(13.0) == 13.0
    assert cal.next_open(22.5) == 30.0
    # Friday 22:00 -> Monday 06:00 (day 7)
    assert cal.next_open(4 * 24 + 22.0) == 7 * 24 + 6.0
    assert cal.open_hours(0.0, 7 * 24.0) == pytest.approx(5 * 16.0)
    night = Calendar([(22.0, 30.0, (0, 1, 2, 3, 4, 5, 6))])
    assert night.next_open(3.0) == 3.0  # inside the previous night's shift
    assert night.open_hours(0.0, 48.0) == pytest.approx(6 + 8 + 2)


def test_jobs_wait_for_the_shift_and_keep_fifo_order():
    env = simpy.Environment()
    st = Station(env, 1, Calendar([(8.0, 10.0, tuple(range(7)))]), record=True)
    done = []
    for k, s in enumerate([1.5, 1.0, 1.0]):
        st.submit(s, lambda a, b, k=k: done.append((k, a, b)))
    env.run(until=48)
    # Job 0 8:00-9:30; job 1 starts 9:30 (open) and runs over to 10:30; job 2 waits for next day.
    assert done == [(0, 8.0, 9.5), (1, 9.5, 10.5), (2, 32.0, 33.0)]
    assert st.busy_h == pytest.approx(3.5)


def test_unfinished_jobs_are_recorded():
    env = simpy.Environment()
    st = Station(env, 1, record=True)
    for _ in range(3):
        st.submit(2.0)
    env.run(until=3.0)
    assert st.jobs == 1
    assert list(st.waits_until(3.0)) == [0.0, 2.0, 3.0]
    assert list(st.waits()) == [0.0, 2.0]


def test_queue_length_and_in_service_follow_the_jobs():
    # Two servers open 8:00-10:00; jobs of 1.5 h, 1 h, 1 h, 0.5 h all arrive at 0:00:
    # job 0 runs 8:00-9:30, job 1 8:00-9:00, job 2 9:00-10:00 (job 1's server), job 3 9:30-10:00.
    env = simpy.Environment()
    st = Station(env, 2, Calendar([(8.0, 10.0, tuple(range(7)))]), record=True)
    for s in (1.5, 1.0, 1.0, 0.5):
        st.submit(s)
    seen = {}

    def monitor():
        for t in (7.0, 8.5, 9.25, 9.75, 10.5):
            yield env.timeout(t - env.now)
            seen[t] = (st.queue_length, st.in_service)

    env.process(monitor())
    env.run(until=12)
    assert seen == {7.0: (4, 0), 8.5: (2, 2), 9.25: (1, 2), 9.75: (0, 2), 10.5: (0, 0)}
    assert st.jobs == 4 and st.busy_h == pytest.approx(4.0)


def test_a_booked_job_is_timed_and_counted_as_a_submitted_one():
    # The same jobs submitted to one station and booked on another: the same starts and ends, and
    # busy hours and job counts that grow only as jobs end.
    cal = Calendar([(8.0, 10.0, tuple(range(7))), (13.0, 15.0, tuple(range(7)))])
    env = simpy.Environment()
    sub, bk = Station(env, 2, cal, record=True), Station(env, 2, cal, record=True)
    booked = []

    def arrivals():
        for t, s in ((0.0, 1.5), (0.0, 1.0), (8.5, 1.0), (9.0, 2.0), (12.0, 0.5), (14.9, 0.25)):
            yield env.timeout(t - env.now)
            sub.submit(s)
            booked.append(bk.book(s))

    env.process(arrivals())
    counts = []
    for until in (9.1, 11.9, 13.6, 30.0):
        env.run(until=until)
        counts.append((bk.jobs, bk.busy_h, sub.jobs, sub.busy_h))
    assert booked == list(zip(sub._start, sub._end))
    assert booked[3] == (9.5, 11.5)      # behind job 0 (8:00-9:30), started before closing: overtime
    for jobs_b, busy_b, jobs_s, busy_s in counts:
        assert jobs_b == jobs_s and busy_b == pytest.approx(busy_s)
    assert [c[0] for c in counts] == [1, 4, 5, 6]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 400.0), min_size=1, max_size=40))
def test_calendar_remembers_its_last_window_without_changing_an_answer(times):
    # Queries in any order (a calendar is shared by a warehouse's pickers and packers) give what a
    # calendar asked only once gives.
    windows = [(6.0, 14.0, (0, 1, 2, 3, 4)), (22.0, 30.0, (0, 2, 4)), (9.0, 11.0, (5,))]
    used = Calendar(windows, start_weekday=3)
    for t in times:
        assert used.next_open(t) == Calendar(windows, start_weekday=3).next_open(t)
