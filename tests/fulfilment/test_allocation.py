"""cheapest_assignment against brute force and CP-SAT; nearest and lookahead policies."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.errors import OmsimError
from omsim.fulfilment import cheapest_assignment
from omsim.fulfilment.allocation import (
    assignment_cost,
    cheapest_assignment_batch,
    cheapest_assignment_reference,
    cheapest_assignment_sequential,
    lookahead_assignment,
    nearest_assignment,
)
from omsim.solvers.cpsat_assignment import solve_assignment


@st.composite
def orders(draw, max_lines=3, max_nodes=4, max_qty=3, integer_costs=False):
    L = draw(st.integers(1, max_lines))
    N = draw(st.integers(1, max_nodes))
    qty = st.integers(0, max_qty)
    if integer_costs:  # exact in CP-SAT's integer objective
        cost = st.integers(0, 30).map(float)
    else:
        cost = st.floats(0, 30, allow_nan=False, allow_infinity=False)
    demand = np.array(draw(st.lists(qty, min_size=L, max_size=L)), dtype=np.int64)
    available = np.array(draw(st.lists(qty, min_size=L * N, max_size=L * N)), dtype=np.int64).reshape(L, N)
    package = np.array(draw(st.lists(cost, min_size=N, max_size=N)))
    unit = np.array(draw(st.lists(cost, min_size=L * N, max_size=L * N))).reshape(L, N)
    lost = np.array(draw(st.lists(cost, min_size=L, max_size=L)))
    k = draw(st.integers(0, N))
    return demand, available, package, unit, lost, k


def check_feasible(assign, demand, available, k):
    assert assign.dtype == np.int64
    assert np.all(assign >= 0)
    assert np.all(assign <= available)
    assert np.all(assign.sum(axis=1) <= demand)
    assert np.count_nonzero(assign.sum(axis=0)) <= k


@given(orders())
@settings(max_examples=300, deadline=None)
def test_equals_brute_force(order):
    demand, available, package, unit, lost, k = order
    assign, total = cheapest_assignment(demand, available, package, unit, lost, max_packages=k)
    _, ref_total = cheapest_assignment_reference(demand, available, package, unit, lost, max_packages=k)
    check_feasible(assign, demand, available, k)
    assert total == pytest.approx(ref_total, rel=1e-9, abs=1e-9)
    # the reported total is the cost of the returned assignment
    assert assignment_cost(assign, package, unit, lost, demand) == pytest.approx(total, rel=1e-9, abs=1e-9)


@given(orders(max_lines=4, max_nodes=5, max_qty=4, integer_costs=True))
@settings(max_examples=60, deadline=None)
def test_equals_cpsat(order):
    demand, available, package, unit, lost, k = order
    assign, total = cheapest_assignment(demand, available, package, unit, lost, max_packages=k)
    L = demand.shape[0]
    res = solve_assignment([0, L], np.arange(L), demand, available, package[None, :], unit, lost,
                           max_packages=k, scale=1.0, time_limit_s=10.0)
    assert res.status == "OPTIMAL"
    assert total == pytest.approx(res.objective, abs=1e-9)
    check_feasible(assign, demand, available, k)


def test_larger_orders_against_cpsat():
    # beyond brute force: 6 lines x 10 nodes, k = 3, several units per line
    rng = np.random.default_rng(7)
    for _ in range(15):
        L, N, k = 6, 10, 3
        demand = rng.integers(1, 5, L)
        available = rng.integers(0, 4, (L, N)) * (rng.random((L, N)) < 0.6)
        package = rng.integers(5, 15, N).astype(float)
        unit = rng.integers(1, 10, (L, N)).astype(float)
        lost = rng.integers(10, 40, L).astype(float)
        assign, total = cheapest_assignment(demand, available, package, unit, lost, max_packages=k)
        res = solve_assignment([0, L], np.arange(L), demand, available, package, unit, lost,
                               max_packages=k, scale=1.0, time_limit_s=20.0)
        assert res.status == "OPTIMAL"
        assert total == pytest.approx(res.objective, abs=1e-9)
        check_feasible(assign, demand, available, k)


@given(st.lists(orders(), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_batch_equals_single(batch):
    # same N for every order in a batch: pad the node axis
    N = max(o[1].shape[1] for o in batch)
    k = min(o[5] for o in batch)
    rows = []
    for demand, available, package, unit, lost, _ in batch:
        pad = N - available.shape[1]
        rows.append((demand, np.pad(available, ((0, 0), (0, pad))), np.pad(package, (0, pad)),
                     np.pad(unit, ((0, 0), (0, pad))), lost))
    ptr = np.cumsum([0] + [r[0].shape[0] for r in rows])
    assign, totals = cheapest_assignment_batch(
        ptr, np.concatenate([r[0] for r in rows]), np.vstack([r[1] for r in rows]),
        np.vstack([r[2] for r in rows]), np.vstack([r[3] for r in rows]),
        np.concatenate([r[4] for r in rows]), max_packages=k)
    for b, r in enumerate(rows):
        a1, t1 = cheapest_assignment(*r, max_packages=k)
        assert totals[b] == t1
        np.testing.assert_array_equal(assign[ptr[b]:ptr[b + 1]], a1)


def test_sequential_consumes_stock_in_order():
    rng = np.random.default_rng(3)
    S, N, B = 5, 4, 30
    stock = rng.integers(0, 4, (S, N))
    ptr, skus = [0], []
    for _ in range(B):
        s = rng.choice(S, size=rng.integers(1, 4), replace=False)
        skus.extend(s)
        ptr.append(len(skus))
    skus = np.array(skus)
    M = len(skus)
    demand = rng.integers(1, 3, M)
    package = rng.uniform(1, 5, N)
    unit = rng.uniform(0, 3, (M, N))
    lost = rng.uniform(5, 10, M)
    assign, totals, remaining = cheapest_assignment_sequential(ptr, skus, demand, stock, package, unit, lost, 2)
    left = stock.copy()
    for b in range(B):
        rows = slice(ptr[b], ptr[b + 1])
        a1, t1 = cheapest_assignment(demand[rows], left[skus[rows]], package, unit[rows], lost[rows], 2)
        np.testing.assert_array_equal(assign[rows], a1)
        assert totals[b] == t1
        left[skus[rows]] -= a1
    np.testing.assert_array_equal(remaining, left)
    assert np.all(remaining >= 0)


def test_edge_cases():
    unit = np.array([[1.0, 2.0], [3.0, 1.0]])
    # zero demand: nothing shipped, nothing paid
    a, t = cheapest_assignment([0, 0], [[5, 5], [5, 5]], [4.0, 4.0], unit, [9.0, 9.0], max_packages=2)
    assert t == 0.0 and not a.any()
    # no stock anywhere: everything lost
    a, t = cheapest_assignment([2, 1], [[0, 0], [0, 0]], [4.0, 4.0], unit, [9.0, 7.0], max_packages=2)
    assert t == 25.0 and not a.any()
    # k = 1: one node for both lines (node 0: 4 + 1 + 3 = 8 < node 1: 4 + 2 + 1 = 7? no: node 1 is cheaper)
    a, t = cheapest_assignment([1, 1], [[1, 1], [1, 1]], [4.0, 4.0], unit, [90.0, 90.0], max_packages=1)
    assert t == 7.0 and a.tolist() == [[0, 1], [0, 1]]
    # with two packages allowed, splitting does not pay here (4 + 4 + 1 + 1 = 10 > 7)
    a, t = cheapest_assignment([1, 1], [[1, 1], [1, 1]], [4.0, 4.0], unit, [90.0, 90.0], max_packages=2)
    assert t == 7.0
    # free packages: split to the cheapest unit cost per line
    a, t = cheapest_assignment([1, 1], [[1, 1], [1, 1]], [0.0, 0.0], unit, [90.0, 90.0], max_packages=2)
    assert t == 2.0 and a.tolist() == [[1, 0], [0, 1]]
    # tie between two identical nodes: the lower index wins
    a, t = cheapest_assignment([1], [[1, 1]], [1.0, 1.0], [[1.0, 1.0]], [9.0], max_packages=1)
    assert a.tolist() == [[1, 0]]
    # k = 0: everything lost
    a, t = cheapest_assignment([1], [[1]], [0.0], [[0.0]], [3.0], max_packages=0)
    assert t == 3.0 and not a.any()
    # a line split over two nodes when one lacks stock
    a, t = cheapest_assignment([3], [[2, 5]], [1.0, 1.0], [[1.0, 2.0]], [10.0], max_packages=2)
    assert a.tolist() == [[2, 1]] and t == pytest.approx(1 + 1 + 2 + 2)


def test_rejects_bad_input():
    ok = dict(demand=[1], available=[[1]], package_cost=[1.0], unit_cost=[[1.0]], lost_cost=[2.0])
    with pytest.raises(OmsimError, match="demand"):
        cheapest_assignment(**{**ok, "demand": [-1]})
    with pytest.raises(OmsimError, match="available"):
        cheapest_assignment(**{**ok, "available": [[0.5]]})
    with pytest.raises(OmsimError, match="package_cost"):
        cheapest_assignment(**{**ok, "package_cost": [-1.0]})
    with pytest.raises(OmsimError, match="unit_cost"):
        cheapest_assignment(**{**ok, "unit_cost": [[1.0, 2.0]]})
    with pytest.raises(OmsimError, match="lost_cost"):
        cheapest_assignment(**{**ok, "lost_cost": [np.nan]})
    with pytest.raises(OmsimError, match="max_packages"):
        cheapest_assignment(**ok, max_packages=-1)


def test_nearest_with_and_without_fallback():
    demand = [3, 1]
    available = [[1, 5, 5], [0, 0, 4]]
    carried = [[True, True, True], [True, False, True]]
    dist = [10.0, 20.0, 5.0]
    # with fall-back: nearest is node 2 for both lines
    assert nearest_assignment(demand, available, dist).tolist() == [[0, 0, 3], [0, 0, 1]]
    dist = [1.0, 2.0, 3.0]
    assert nearest_assignment(demand, available, dist).tolist() == [[1, 2, 0], [0, 0, 1]]
    # published myopic: nearest carrying node only; line 1's nearest carrier (node 0) is out
    assert nearest_assignment(demand, available, dist, carried=carried, fallback=False).tolist() == [
        [1, 0, 0], [0, 0, 0]]


def test_lookahead_shadow_price_moves_the_source():
    demand, available = [1], [[1, 1]]
    package, unit, lost = [1.0, 1.0], [[1.0, 2.0]], [10.0]
    a, t = lookahead_assignment(demand, available, package, unit, lost, [[0.0, 0.0]])
    assert a.tolist() == [[1, 0]] and t == 2.0
    # node 0's last unit is worth 5 to future orders: ship from node 1 and report the true cost
    a, t = lookahead_assignment(demand, available, package, unit, lost, [[5.0, 0.0]])
    assert a.tolist() == [[0, 1]] and t == 3.0
