"""The fluid LP: a hand-solved instance, bound property, duals as subgradients."""
import numpy as np
import pytest

from omsim.fulfilment.allocation import cheapest_assignment_sequential
from omsim.solvers.lp_fluid import solve_fluid_lp


def test_hand_computed_instance():
    # one region, one order type {item 0, item 1}, 10 orders.
    # node 0 holds 12 of item 0 and 4 of item 1, node 1 holds 10 of item 1.
    # Best fluid plan: item 0 all from node 0 (10 packages there), item 1: 4 from node 0 (inside
    # those packages), 6 from node 1 (6 more packages): 5*10 + 5*6 + 1*(10+4) + 2*6 = 106.
    res = solve_fluid_lp([0, 2], [0, 1], [[10.0]], [[12, 0], [4, 10]], [[5.0, 5.0]], [[1.0, 2.0]], [100.0])
    assert res.status == "OPTIMAL"
    assert res.objective == pytest.approx(106.0)
    assert res.packages == pytest.approx(16.0)
    assert res.units_lost == pytest.approx(0.0)
    # one more unit of item 1 at node 0 saves a package at node 1 and one unit of cost: 5 + 1
    assert res.shadow_price[1, 0] == pytest.approx(6.0)
    # item 0 at node 0 has slack: worth nothing; node 1 holds spare item 1
    assert res.shadow_price[0, 0] == pytest.approx(0.0)
    assert res.shadow_price[1, 1] == pytest.approx(0.0)


def test_dummy_package_lets_the_lp_drop_a_whole_order_rather_than_split():
    # item 1 only at a far node: splitting costs 10 + 10 + 1 + 9 = 30. The dummy node (package 15,
    # unit LU) can take the whole order: 15 + 2 LU, or item 1 alone: 10 + 1 + 15 + LU.
    args = ([0, 2], [0, 1], [[1.0]], [[5, 0], [0, 5]], [[10.0, 10.0]], [[1.0, 9.0]])
    res = solve_fluid_lp(*args, lost_unit_cost=[6.0], lost_package_cost=[15.0])
    assert res.objective == pytest.approx(27.0)  # 15 + 12 < 30 < 32
    assert res.units_lost == pytest.approx(2.0)
    assert res.lost_packages == pytest.approx(1.0)
    res = solve_fluid_lp(*args, lost_unit_cost=[8.0], lost_package_cost=[15.0])
    assert res.objective == pytest.approx(30.0)  # 15 + 16 > 30: split
    assert res.units_lost == pytest.approx(0.0)


def random_instance(rng, J=3, I=5, K=4, Q=6):
    sizes = rng.integers(1, 4, Q)
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    items = np.concatenate([rng.choice(I, s, replace=False) for s in sizes])
    rate = rng.integers(0, 4, (J, Q)).astype(float)
    stock = rng.integers(0, 6, (I, K)) * (rng.random((I, K)) < 0.7)
    P = rng.uniform(3, 8, (J, K))
    U = rng.uniform(0.5, 2.0, (J, K))
    return ptr, items, rate, stock, P, U, np.full(J, 12.0), np.full(J, 10.0)


@pytest.mark.parametrize("seed", range(8))
def test_bound_below_a_feasible_integral_plan(seed):
    # the LP relaxes integrality and splitting: any real sequence of exactly the expected
    # orders, sourced by any feasible policy, costs at least the LP optimum
    rng = np.random.default_rng(seed)
    ptr, items, rate, stock, P, U, LU, LPk = random_instance(rng)
    res = solve_fluid_lp(ptr, items, rate, stock, P, U, LU, LPk)
    assert res.status == "OPTIMAL"
    J, K = P.shape
    # orders as CSR over lines; the dummy node is an extra column with unlimited stock
    optr, sku, region = [0], [], []
    for j, q in zip(*np.nonzero(rate)):
        for _ in range(int(rate[j, q])):
            sku.extend(items[ptr[q]:ptr[q + 1]])
            optr.append(len(sku))
            region.append(j)
    sku, region = np.array(sku), np.array(region)
    order_of_line = np.repeat(np.arange(len(region)), np.diff(optr))
    big = 10 ** 6
    stock_d = np.hstack([stock, np.full((stock.shape[0], 1), big)])
    pkg = np.hstack([P[region], LPk[region][:, None]])
    unit = np.hstack([U[region[order_of_line]], LU[region[order_of_line]][:, None]])
    lost = np.full(len(sku), 1e6)
    _, totals, _ = cheapest_assignment_sequential(optr, sku, np.ones(len(sku), int), stock_d, pkg, unit, lost)
    assert res.objective <= totals.sum() + 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_shadow_prices_are_subgradients(seed):
    # the LP value is convex in the stock; minus the shadow prices is a subgradient:
    # f(S + d) >= f(S) - sum(pi * d) for every perturbation d
    rng = np.random.default_rng(100 + seed)
    ptr, items, rate, stock, P, U, LU, LPk = random_instance(rng)
    base = solve_fluid_lp(ptr, items, rate, stock, P, U, LU, LPk)
    assert np.all(base.shadow_price >= 0)
    assert np.any(base.shadow_price > 0)
    for _ in range(5):
        d = rng.integers(-2, 3, stock.shape) * (stock > 0)
        d = np.maximum(d, -stock)
        new = solve_fluid_lp(ptr, items, rate, stock + d, P, U, LU, LPk)
        assert new.objective >= base.objective - np.sum(base.shadow_price * d) - 1e-6
