"""The method fluid LP (column generation): a hand-solved gap case, sandwich between bounds."""
import numpy as np
import pytest

from omsim.fulfilment.allocation import cheapest_assignment_sequential
from omsim.solvers.lp_fluid import solve_fluid_lp
from omsim.solvers.lp_fluid_cg import solve_fluid_lp_methods

from test_lp_fluid import random_instance


def test_triangle_order_where_per_item_lp_is_weaker():
    # one order type {a, b, c}; node 0 stocks a, b; node 1 b, c; node 2 a, c; packages cost 1,
    # units are free. Any integral method needs two packages (cost 2). The per-item LP ships every
    # item half from each of its two nodes with y = 1/2 at every node: cost 1.5.
    stock = np.array([[9, 0, 9], [9, 9, 0], [0, 9, 9]])
    args = ([0, 3], [0, 1, 2], [[1.0]], stock, [[1.0, 1.0, 1.0]], [[0.0, 0.0, 0.0]], [50.0])
    assert solve_fluid_lp(*args).objective == pytest.approx(1.5)
    res = solve_fluid_lp_methods(*args)
    assert res.status == "OPTIMAL"
    assert res.objective == pytest.approx(2.0)
    assert res.bound == pytest.approx(2.0)
    assert res.packages == pytest.approx(2.0)


@pytest.mark.parametrize("seed", range(8))
def test_between_per_item_lp_and_a_feasible_plan(seed):
    rng = np.random.default_rng(seed)
    ptr, items, rate, stock, P, U, LU, LPk = random_instance(rng)
    per_item = solve_fluid_lp(ptr, items, rate, stock, P, U, LU, LPk)
    res = solve_fluid_lp_methods(ptr, items, rate, stock, P, U, LU, LPk)
    assert res.status == "OPTIMAL"
    assert res.bound <= res.objective + 1e-6
    assert res.objective == pytest.approx(res.bound, rel=1e-4)
    assert res.bound >= per_item.objective - 1e-6
    # a real sequence of exactly the expected orders, sourced by cheapest, costs at least the bound
    optr, sku, region = [0], [], []
    for j, q in zip(*np.nonzero(rate)):
        for _ in range(int(rate[j, q])):
            sku.extend(items[ptr[q]:ptr[q + 1]])
            optr.append(len(sku))
            region.append(j)
    sku, region = np.array(sku), np.array(region)
    line_order = np.repeat(np.arange(len(region)), np.diff(optr))
    stock_d = np.hstack([stock, np.full((stock.shape[0], 1), 10 ** 6)])
    pkg = np.hstack([P[region], LPk[region][:, None]])
    unit = np.hstack([U[region[line_order]], LU[region[line_order]][:, None]])
    _, totals, _ = cheapest_assignment_sequential(optr, sku, np.ones(len(sku), int), stock_d, pkg, unit,
                                                  np.full(len(sku), 1e6))
    assert res.bound <= totals.sum() + 1e-6
    assert np.all(res.shadow_price >= 0)


@pytest.mark.parametrize("seed", range(4))
def test_subgradient_warm_start_reaches_the_same_optimum(seed):
    rng = np.random.default_rng(50 + seed)
    args = random_instance(rng)
    plain = solve_fluid_lp_methods(*args)
    warm = solve_fluid_lp_methods(*args, subgradient_iterations=30)
    assert warm.status == "OPTIMAL"
    assert warm.bound == pytest.approx(plain.bound, rel=1e-4)
    # bound-only run (no master): still a valid bound, below the optimum
    only = solve_fluid_lp_methods(*args, subgradient_iterations=30, max_iterations=0)
    assert only.bound <= plain.objective + 1e-6
    assert only.bound > 0
