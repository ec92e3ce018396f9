"""The CP-SAT sourcing model: shared stock across a batch, status and gap."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.fulfilment.allocation import cheapest_assignment_reference
from omsim.solvers.cpsat_assignment import solve_assignment


def brute_force_two_orders(stock, orders, k):
    """Try every split of the shared stock between two orders; each then is independent."""
    S, N = stock.shape
    best = float("inf")
    cells = [range(int(v) + 1) for v in stock.ravel()]
    for share in itertools.product(*cells):
        s0 = np.array(share).reshape(S, N)
        total = 0.0
        for o, part in zip(orders, (s0, stock - s0)):
            sku, demand, package, unit, lost = o
            total += cheapest_assignment_reference(demand, part[sku], package, unit, lost, k)[1]
        best = min(best, total)
    return best


@st.composite
def two_orders(draw):
    S, N = 2, 2
    stock = np.array(draw(st.lists(st.integers(0, 2), min_size=S * N, max_size=S * N))).reshape(S, N)
    orders = []
    for _ in range(2):
        L = draw(st.integers(1, 2))
        sku = np.array(draw(st.permutations(range(S)))[:L])
        demand = np.array(draw(st.lists(st.integers(0, 2), min_size=L, max_size=L)))
        c = st.integers(0, 20).map(float)
        package = np.array(draw(st.lists(c, min_size=N, max_size=N)))
        unit = np.array(draw(st.lists(c, min_size=L * N, max_size=L * N))).reshape(L, N)
        lost = np.array(draw(st.lists(c, min_size=L, max_size=L)))
        orders.append((sku, demand, package, unit, lost))
    return stock, orders, draw(st.integers(1, 2))


@given(two_orders())
@settings(max_examples=40, deadline=None)
def test_batch_of_two_equals_brute_force_over_stock_splits(case):
    stock, orders, k = case
    ptr = [0, len(orders[0][0]), len(orders[0][0]) + len(orders[1][0])]
    res = solve_assignment(ptr, np.concatenate([o[0] for o in orders]), np.concatenate([o[1] for o in orders]),
                           stock, np.vstack([o[2] for o in orders]), np.vstack([o[3] for o in orders]),
                           np.concatenate([o[4] for o in orders]), max_packages=k, scale=1.0, time_limit_s=10)
    assert res.status == "OPTIMAL" and res.gap == 0.0
    assert res.objective == pytest.approx(brute_force_two_orders(stock, orders, k))
    assert res.cost == pytest.approx(res.objective)
    # shared stock is respected
    sku = np.concatenate([o[0] for o in orders])
    used = np.zeros_like(stock)
    np.add.at(used, sku, res.assign)
    assert np.all(used <= stock)


def test_scale_rounds_costs_and_reports_exact_cost():
    # at scale 100 the unit costs 1.234 and 1.236 become 123 and 124: the objective is in scaled
    # units divided back, while ``cost`` is the exact float cost of the assignment
    res = solve_assignment([0, 1], [0], [1], [[1, 1]], [[0.0, 0.0]], [[1.234, 1.236]], [10.0], scale=100.0)
    assert res.status == "OPTIMAL"
    assert res.assign.tolist() == [[1, 0]]
    assert res.cost == pytest.approx(1.234)
    assert res.objective == pytest.approx(1.23)


def test_time_limit_reports_status_and_gap():
    # a larger batch: 40 orders competing for scarce stock, tiny time limit
    rng = np.random.default_rng(0)
    B, S, N = 40, 8, 10
    ptr, skus = [0], []
    for _ in range(B):
        skus.extend(rng.choice(S, size=3, replace=False))
        ptr.append(len(skus))
    M = len(skus)
    res = solve_assignment(ptr, skus, np.ones(M, int), rng.integers(0, 6, (S, N)), rng.uniform(5, 10, (B, N)),
                           rng.uniform(0, 3, (M, N)), np.full(M, 30.0), max_packages=2, time_limit_s=0.05)
    assert res.status in ("OPTIMAL", "FEASIBLE", "UNKNOWN")
    if res.status in ("OPTIMAL", "FEASIBLE"):
        assert res.bound <= res.objective + 1e-9
        assert res.gap >= 0.0
    assert res.wall_time_s < 5.0


def brute_force_with_split(stock, demand, package, unit, lost, split, k):
    """Every integer assignment of one order: packages, split penalty beyond the first, units, lost units."""
    L, N = unit.shape
    best = float("inf")
    per_line = [[x for x in itertools.product(*[range(min(int(demand[l]), int(stock[l, n])) + 1) for n in range(N)])
                 if sum(x) <= demand[l]] for l in range(L)]
    for choice in itertools.product(*per_line):
        x = np.array(choice).reshape(L, N)
        used = x.sum(axis=0) > 0
        if used.sum() > k:
            continue
        cost = (package[used].sum() + split * max(int(used.sum()) - 1, 0) + (x * unit).sum()
                + ((demand - x.sum(axis=1)) * lost).sum())
        best = min(best, cost)
    return best


@given(st.data())
@settings(max_examples=40, deadline=None)
def test_split_penalty_is_paid_only_beyond_the_first_package(data):
    L, N = data.draw(st.integers(1, 2)), 3
    c = st.integers(0, 12).map(float)
    stock = np.array(data.draw(st.lists(st.integers(0, 2), min_size=L * N, max_size=L * N))).reshape(L, N)
    demand = np.array(data.draw(st.lists(st.integers(1, 2), min_size=L, max_size=L)))
    package = np.array(data.draw(st.lists(c, min_size=N, max_size=N)))
    unit = np.array(data.draw(st.lists(c, min_size=L * N, max_size=L * N))).reshape(L, N)
    lost = np.array(data.draw(st.lists(c, min_size=L, max_size=L)))
    split, k = data.draw(c), data.draw(st.integers(1, 3))
    res = solve_assignment([0, L], np.arange(L), demand, stock, package[None, :], unit, lost,
                           max_packages=k, scale=1.0, split_penalty=split, time_limit_s=10)
    assert res.status == "OPTIMAL"
    want = brute_force_with_split(stock, demand, package, unit, lost, split, k)
    assert res.objective == pytest.approx(want) and res.cost == pytest.approx(want)
