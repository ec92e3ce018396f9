"""The accept kernel (omsim._kernels._simbook) against its one-at-a-time reference, and the wave queues."""
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.orders import DECISION_STATUSES
from omsim.sim import book
from omsim.sim.book import WaveQueues
from omsim.sim.events import EV, EventLog
from omsim.sim.states import ACTIVE
from omsim.sim.table import OrderTable
from omsim.sim.packages import PackageTable

PARTIAL = DECISION_STATUSES.index("partial")
N_NODES = 3


def _run(rng, m, o0, max_pk):
    """Random committed decisions of orders o0..o0+m-1 as engine columns (packages not rebased to 0)."""
    npk = rng.integers(0, max_pk + 1, m)
    off = int(rng.integers(0, 3))                       # columns may start past row 0 (views of a store)
    pkg_ptr = np.concatenate([[0], np.cumsum(npk)]).astype(np.int64) + off
    P = int(pkg_ptr[-1]) + 2
    nl = rng.integers(1, 4, P)
    pkg_line_ptr = np.concatenate([[0], np.cumsum(nl)]).astype(np.int64)
    L = int(pkg_line_ptr[-1])
    lines = rng.integers(1, 5, m)
    lp = np.concatenate([[0], np.cumsum(lines)]).astype(np.int64)
    status = np.where(npk == 0, rng.choice([2, 3, 4], m), rng.choice([0, PARTIAL], m)).astype(np.int8)
    unfilled = rng.integers(0, 3, int(lp[-1])).astype(np.int64)
    da = SimpleNamespace(
        n=m, status=status, promised_h=np.where(npk > 0, rng.uniform(0, 100, m), np.nan), pkg_ptr=pkg_ptr,
        unfilled=unfilled, pkg_node=rng.integers(0, N_NODES, P).astype(np.int64),
        pkg_service=rng.integers(0, 4, P).astype(np.int64), pkg_ship_by_h=rng.uniform(0, 50, P),
        pkg_transit_h=rng.uniform(0, 50, P), pkg_cost_package=rng.uniform(0, 5, P),
        pkg_cost_weight=rng.uniform(0, 5, P), pkg_cost_distance=rng.uniform(0, 5, P),
        pkg_cost_handling=rng.uniform(0, 5, P), pkg_line_ptr=pkg_line_ptr,
        pkg_sku=rng.integers(0, 50, L).astype(np.int64), pkg_qty=rng.integers(1, 4, L).astype(np.int64))
    oids = np.arange(o0, o0 + m, dtype=np.int64)
    return da, oids, lp


def _state(capacity):
    ot = OrderTable(200)
    ot.n = 200
    ot.units[:] = 20
    return ot, PackageTable(capacity=capacity, line_capacity=capacity), EventLog(["a", "b", "c"], capacity=capacity), \
        WaveQueues(N_NODES, capacity=capacity)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.tuples(st.integers(1, 12), st.booleans(), st.booleans()),
                                             min_size=1, max_size=6), st.integers(16, 40))
def test_accept_kernel_books_exactly_as_the_reference(seed, runs, capacity):
    rng = np.random.default_rng(seed)
    fast, ref = _state(capacity), _state(capacity)
    detail = np.array([0, 7, 8, 9], dtype=np.int32)
    booking = book.Booking(*fast, PARTIAL, EV["allocated"], EV["partial"], detail, ACTIVE)
    o0, t = 0, 0.0
    for m, first, take in runs:
        da, oids, lp = _run(rng, m, o0, 3)
        times = t + np.sort(rng.uniform(0, 2, m))
        t = float(times[-1])
        o0 += m
        got = booking.accept(da, oids, times, first, lp if first else None)
        want = book.accept_reference(da, oids, times, first, lp if first else None, *ref, PARTIAL, EV["allocated"],
                                     EV["partial"], detail, ACTIVE)
        assert list(got) == want.tolist()
        if take:   # a wave in between: both queues give the same rows
            cut = float(rng.uniform(t - 2, t + 1))
            for n in range(N_NODES):
                np.testing.assert_array_equal(fast[3].take(n, cut), ref[3].take(n, cut))
    (ot, P, log, q), (ot2, P2, log2, q2) = fast, ref
    for f in OrderTable._F8 + OrderTable._I8 + tuple(f for f, _ in OrderTable._SMALL):
        np.testing.assert_array_equal(getattr(ot, f), getattr(ot2, f), err_msg=f)
    assert (P.n, P.nl) == (P2.n, P2.nl)
    for f in PackageTable._I8 + PackageTable._F8:
        np.testing.assert_array_equal(getattr(P, f)[: P.n], getattr(P2, f)[: P.n], err_msg=f)
    np.testing.assert_array_equal(P.sku[: P.nl], P2.sku[: P.nl])
    np.testing.assert_array_equal(P.qty[: P.nl], P2.qty[: P.nl])
    assert log.n == log2.n
    for f in ("_t", "_oid", "_ev", "_node", "_detail"):
        np.testing.assert_array_equal(getattr(log, f)[: log.n], getattr(log2, f)[: log.n], err_msg=f)
    for n in range(N_NODES):
        np.testing.assert_array_equal(q.take(n, np.inf), q2.take(n, np.inf))


def test_accept_reference_books_each_package_once_in_its_nodes_queue():
    # The reference itself, by hand: two orders, the first with two packages at nodes 2 and 0, the
    # second with none (a backorder).
    da = SimpleNamespace(
        status=np.array([PARTIAL, 2], dtype=np.int8), promised_h=np.array([30.0, np.nan]),
        pkg_ptr=np.array([0, 2, 2]), unfilled=np.array([0, 1, 2]), pkg_node=np.array([2, 0]),
        pkg_service=np.array([1, 1]), pkg_ship_by_h=np.array([5.0, 6.0]), pkg_transit_h=np.array([24.0, 24.0]),
        pkg_cost_package=np.array([1.0, 2.0]), pkg_cost_weight=np.array([0.5, 0.5]),
        pkg_cost_distance=np.array([0.25, 0.25]), pkg_cost_handling=np.array([3.0, 3.0]),
        pkg_line_ptr=np.array([0, 1, 3]), pkg_sku=np.array([4, 5, 6]), pkg_qty=np.array([2, 1, 1]))
    ot, P, log, q = _state(16)
    counts = book.accept_reference(da, np.array([10, 11]), np.array([1.0, 1.5]), True, np.array([0, 2, 3]), ot, P,
                                   log, q, PARTIAL, EV["allocated"], EV["partial"], np.array([0, 1, 2], np.int32),
                                   ACTIVE)
    assert counts.tolist() == [2, 3, 1, 1, 1, 1]
    assert (ot.lines_short[10], ot.units_first[10], ot.lines_short[11], ot.units_first[11]) == (1, 19, 1, 0)
    assert (ot.pkg0[10], ot.packages[10], ot.state[10]) == (0, 2, ACTIVE)
    assert P.units[:2].tolist() == [2, 2] and P.cost_ship[:2].tolist() == [1.75, 2.75]
    assert log._ev[0] == EV["partial"] and log._detail[0] == 2
    assert q.take(2, 1.0).tolist() == [0] and q.take(0, 0.5).tolist() == [] and q.take(0, 1.0).tolist() == [1]


def test_wave_queues_take_only_what_was_decided_by_then_and_survive_compaction():
    q = WaveQueues(2, capacity=16)
    rng = np.random.default_rng(1)
    want = [[], []]
    t = 0.0
    for step in range(200):
        n = int(rng.integers(0, 2))
        k = int(rng.integers(1, 6))
        times = t + np.sort(rng.uniform(0, 1, k))
        rows = np.arange(step * 10, step * 10 + k)
        q.push(n, rows, times)
        want[n] += list(zip(rows.tolist(), times.tolist()))
        t = float(times[-1])
        if step % 7 == 0:
            cut = t - 0.5
            for m in range(2):
                got = q.take(m, cut).tolist()
                assert got == [r for r, tt in want[m] if tt <= cut]
                want[m] = [(r, tt) for r, tt in want[m] if tt > cut]
                assert q.waiting(m) == len(want[m])
    assert len(q) == len(want[0]) + len(want[1])


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 15), st.booleans())
def test_tote_kernels_log_pack_and_stage_as_the_reference(seed, m, scan):
    rng = np.random.default_rng(seed)
    fast, ref = _state(16), _state(16)
    da, oids, lp = _run(rng, 20, 0, 2)
    booking = book.Booking(*fast, PARTIAL, EV["allocated"], EV["partial"], np.array([0, 1], np.int32), ACTIVE)
    booking.accept(da, oids, np.arange(20.0), True, lp)
    book.accept_reference(da, oids, np.arange(20.0), True, lp, *ref, PARTIAL, EV["allocated"], EV["partial"],
                          np.array([0, 1], np.int32), ACTIVE)
    P, log = fast[1], fast[2]
    pk = rng.choice(P.n, size=min(m, P.n), replace=False).astype(np.int64)
    errs = (rng.random(pk.size) < 0.3) * rng.integers(1, 3, pk.size)
    end = float(rng.uniform(0, 60))
    args = (pk, errs, 1, end, EV["picked"], 30.0, 5.0, 40.0 if scan else 0.0)
    cum, total, bad = booking.picked(*args)
    cum2, total2, bad2 = book.picked_reference(ref[1], ref[2], *args)
    np.testing.assert_allclose(cum, cum2, rtol=1e-12)
    assert total == pytest.approx(total2, rel=1e-12) and bad == bad2 == int((errs > 0).sum())
    # packing starts now or later (queued), and ends after the last package
    start = end + float(rng.choice([0.0, rng.uniform(0, 30)]))
    args = (pk, cum2, 1, start, start + total2, EV["packed"], EV["missed_cutoff"], 5)
    T, same = booking.packed(*args)
    T2, same2 = book.packed_reference(ref[1], ref[2], *args)
    np.testing.assert_array_equal(T, T2)
    assert same == same2
    sb = P.ship_by[pk]
    assert (T >= sb).all() and np.allclose((T - sb) / 24.0, np.rint((T - sb) / 24.0))
    assert log.n == ref[2].n
    for f in ("_t", "_oid", "_ev", "_node", "_detail"):
        np.testing.assert_allclose(getattr(log, f)[: log.n], getattr(ref[2], f)[: log.n], rtol=1e-12, err_msg=f)
