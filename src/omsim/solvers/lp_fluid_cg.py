"""Fluid LP over fulfilment *methods*, by column generation (GLOP master, exact pricing).

Same data as :func:`omsim.solvers.lp_fluid.solve_fluid_lp`, stronger
formulation: instead of splitting each item of an order independently
(``x <= y`` per item and node), an order of type q from region j is served by
a *method* m — an integral assignment of each of its items to one node or to
the dummy (unfulfilled) node — with cost ``c_m`` (its packages and units) and
stock use ``a_m[i, k]``::

    v[j,q,m] >= 0   orders of (j,q) served by method m
    min  sum c_m v[j,q,m]
    s.t. sum_m v[j,q,m] = R[j,q]                       (convexity; dual mu[j,q], free)
         sum_{j,q,m} a_m[i,k] v[j,q,m] <= S[i,k]       (stock; dual -pi[i,k] <= 0)

Every policy's expected method frequencies satisfy these constraints in
expectation, so the optimum is a lower bound on any policy's expected cost,
and it is at least the per-item LP bound (each method is a feasible integral
point of the per-item LP of one order). There are exponentially many methods,
so they are generated: the master LP (GLOP, incremental: columns are added
and the solver restarts from its previous basis) gives ``pi`` and ``mu``; the
cheapest method of every (j,q) under unit costs ``u + pi`` is exactly the
``cheapest`` allocation problem, solved for all (j,q) at once by the
batched Cython kernel; columns with negative reduced cost are added.

Lagrangian bound: for any ``pi >= 0``, ``sum R[j,q] * min_m (c_m + pi . a_m)
- pi . S`` is a valid lower bound; the best one seen is reported, so a run
stopped by the time limit still returns a proven bound (``bound``) beside
the master objective (``objective``), and their relative ``gap``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from omsim._kernels._alloc import cheapest_batch
from omsim.solvers.lp_fluid import fluid_arrays

__all__ = ["MethodLPResult", "solve_fluid_lp_methods"]

_STATUS = {
    pywraplp.Solver.OPTIMAL: "OPTIMAL",
    pywraplp.Solver.FEASIBLE: "FEASIBLE",
    pywraplp.Solver.INFEASIBLE: "INFEASIBLE",
    pywraplp.Solver.UNBOUNDED: "UNBOUNDED",
    pywraplp.Solver.ABNORMAL: "ABNORMAL",
    pywraplp.Solver.NOT_SOLVED: "NOT_SOLVED",
}


@dataclass
class MethodLPResult:
    """Outcome of :func:`solve_fluid_lp_methods`.

    Attributes
    ----------
    status : str
        ``OPTIMAL`` when no column prices out (objective == bound within
        ``tol``), ``TIME_LIMIT`` or ``ITERATION_LIMIT`` otherwise,
        ``BOUND_ONLY`` when no master was asked for (``max_iterations=0``); a
        master failure is reported by its GLOP status.
    objective : float
        Final master LP objective (an upper estimate of the LP optimum).
    bound : float
        Best Lagrangian lower bound found (a valid lower bound on any policy).
    gap : float
        ``(objective - bound) / objective``.
    shadow_price : (I, K) numpy.ndarray
        The prices ``pi`` (>= 0) that gave the best bound: the master's
        stock duals at optimality.
    units_lost, packages, lost_packages, orders : float
        In the final master solution (NaN when no master solve finished).
    iterations, columns : int
    master_time_s, pricing_time_s : float
    solver : str
    """

    status: str
    objective: float
    bound: float
    gap: float
    shadow_price: np.ndarray
    units_lost: float
    packages: float
    lost_packages: float
    orders: float
    iterations: int
    columns: int
    master_time_s: float
    pricing_time_s: float
    solver: str = "GLOP master (column generation), Cython pricing"


def solve_fluid_lp_methods(type_ptr, type_items, rate, stock, package_cost, unit_cost, lost_unit_cost,
                           lost_package_cost=None, time_limit_s: float = 300.0, tol: float = 1e-5,
                           max_iterations: int = 200, master: str = "GLOP",
                           subgradient_iterations: int = 0, initial_prices=None) -> MethodLPResult:
    """Solve the method (per-order-assignment) fluid LP by column generation.

    Parameters
    ----------
    type_ptr, type_items, rate, stock, package_cost, unit_cost, lost_unit_cost, lost_package_cost
        As in :func:`omsim.solvers.lp_fluid.solve_fluid_lp`.
    time_limit_s : float
        Wall-clock limit over all master solves and pricing rounds.
    tol : float
        Stop when ``(objective - bound) / objective <= tol``.
    max_iterations : int
        Pricing rounds at most.
    master : str
        LP solver of the master: ``"GLOP"`` (simplex, exact duals, default) or
        ``"PDLP"`` (first-order, approximate duals: the reported ``bound``
        stays valid because it is the Lagrangian value of whatever prices the
        master returns).
    subgradient_iterations : int
        Before column generation, improve the prices by this many Polyak
        subgradient steps on the Lagrangian dual (each one pricing round of
        the kernel, no LP). On large instances this reaches a near-optimal
        bound far sooner than the master LP; the master then starts from the
        columns priced at the best prices found.
    initial_prices : (I, K) float, optional
        Start the subgradient steps from these prices (e.g. those of a
        previous solve over a longer horizon) instead of zero.

    Returns
    -------
    MethodLPResult

    Notes
    -----
    Inputs already validated by the caller.
    """
    t_start = time.perf_counter()
    ptr, items, R, S, P, U, LU, LPk = fluid_arrays(type_ptr, type_items, rate, stock, package_cost, unit_cost,
                                                   lost_unit_cost, lost_package_cost)
    J, Q = R.shape
    I, K = S.shape
    sizes = np.diff(ptr)

    # pricing problems: one "order" per (j, q); the dummy node is column K
    jj, qq = np.nonzero((R > 0) & (sizes[None, :] > 0))
    B = jj.size
    rates = R[jj, qq]
    line_ptr = np.concatenate([[0], np.cumsum(sizes[qq])]).astype(np.int64)
    line_item = np.concatenate([items[ptr[q]:ptr[q + 1]] for q in qq]).astype(np.int64) if B else np.zeros(0, np.int64)
    line_order = np.repeat(np.arange(B), sizes[qq])
    M = line_item.size
    demand = np.ones(M, dtype=np.int64)
    avail = np.ones((M, K + 1), dtype=np.int64)
    avail[:, :K] = S[line_item] > 0
    pkg = np.ascontiguousarray(np.hstack([P[jj], LPk[jj][:, None]]))
    base_unit = np.ascontiguousarray(np.hstack([U[jj[line_order]], LU[jj[line_order]][:, None]]))
    lost = np.full(M, 1e12)  # never: the dummy node is the unfulfilled option
    assign = np.zeros((M, K + 1), dtype=np.int64)
    totals = np.zeros(B)

    # data -> master model
    solver = pywraplp.Solver.CreateSolver(master.upper())
    if master.upper() == "GLOP":
        # column generation only adds columns: the previous basis stays primal feasible, so
        # primal simplex without presolve restarts from it instead of from scratch
        solver.SetSolverSpecificParametersAsString("use_preprocessing: false use_dual_simplex: false")
    conv = [solver.Constraint(float(r), float(r)) for r in rates]
    stock_ct = {}
    for i, k in zip(*np.nonzero(S > 0)):
        stock_ct[i, k] = solver.Constraint(-solver.infinity(), float(S[i, k]))
    objective = solver.Objective()
    columns = []  # (order b, cost, packages, lost units, stock use [(i, k), ...])

    def add_column(b, a_rows):
        """Add the method given by assignment rows a_rows (lines of order b x K+1)."""
        lo = line_ptr[b]
        used = a_rows.sum(axis=0) > 0
        cost = float(pkg[b][used].sum() + (a_rows * base_unit[lo:lo + a_rows.shape[0]]).sum())
        var = solver.NumVar(0.0, solver.infinity(), "")
        conv[b].SetCoefficient(var, 1.0)
        objective.SetCoefficient(var, cost)
        use = []
        for t, k in zip(*np.nonzero(a_rows[:, :K])):
            i = int(line_item[lo + t])
            stock_ct[i, k].SetCoefficient(var, 1.0)
            use.append((i, k))
        columns.append((var, b, cost, int(used[:K].sum()), int(a_rows[:, K].sum()), use))

    # initial columns: everything to the dummy node (stock-free, so the master is feasible)
    for b in range(B):
        rows = np.zeros((sizes[qq[b]], K + 1), dtype=np.int64)
        rows[:, K] = 1
        add_column(b, rows)

    pi = np.zeros((I, K)) if initial_prices is None else np.maximum(0.0, np.array(initial_prices, dtype=float))
    best_bound, obj = -np.inf, np.inf
    best_pi = pi.copy()
    status, it = "ITERATION_LIMIT", 0
    master_s = pricing_s = 0.0
    have_solution = last_ok = False
    weight = rates[line_order]
    stocked = S > 0

    def lagrangian(prices):
        """L(prices) and its subgradient (expected stock use minus stock)."""
        unit = base_unit.copy()
        unit[:, :K] += prices[line_item]
        cheapest_batch(line_ptr, demand, avail, pkg, unit, lost, K + 1, assign, totals)
        use = np.zeros((I, K))
        np.add.at(use, line_item, assign[:, :K] * weight[:, None])
        return float(rates @ totals - (prices * S).sum()), use - S

    if subgradient_iterations > 0 and B:
        # Polyak steps towards a target level that is lowered when progress stalls
        t0 = time.perf_counter()
        target, stall = None, 0
        for _ in range(subgradient_iterations):
            val, g = lagrangian(pi)
            if val > best_bound:
                best_bound, best_pi, stall = val, pi.copy(), 0
            else:
                stall += 1
            if target is None:
                target = val + 0.05 * abs(val)
            if stall >= 5:
                target, stall = best_bound + 0.5 * (target - best_bound), 0
            if target <= best_bound:
                target = best_bound + 0.01 * abs(best_bound)
            g = np.where(stocked & ~((pi <= 0) & (g < 0)), g, 0.0)
            norm2 = float((g * g).sum())
            if norm2 == 0.0 or time.perf_counter() - t_start > time_limit_s:
                break
            pi = np.maximum(0.0, pi + (target - val) / norm2 * g)
        pi = best_pi.copy()
        pricing_s += time.perf_counter() - t0

    while it < max_iterations:
        it += 1
        # pricing: cheapest method of every (j, q) under unit costs u + pi
        t0 = time.perf_counter()
        val, _ = lagrangian(pi)
        pricing_s += time.perf_counter() - t0
        if val > best_bound:
            best_bound, best_pi = val, pi.copy()
        if have_solution:
            mu = np.array([c.dual_value() for c in conv])
            improving = np.nonzero(totals - mu < -1e-9 * np.maximum(1.0, np.abs(mu)))[0]
            if obj - best_bound <= tol * abs(obj) or improving.size == 0:
                status = "OPTIMAL"
                break
        else:
            improving = np.arange(B)
        if time.perf_counter() - t_start > time_limit_s:
            status = "TIME_LIMIT"
            break
        for b in improving:
            add_column(b, assign[line_ptr[b]:line_ptr[b + 1]])
        # solve the master with the time left
        solver.SetTimeLimit(int(max(1.0, time_limit_s - (time.perf_counter() - t_start)) * 1000))
        objective.SetMinimization()
        t0 = time.perf_counter()
        st = solver.Solve()
        master_s += time.perf_counter() - t0
        last_ok = st == pywraplp.Solver.OPTIMAL
        if not last_ok:
            status = "TIME_LIMIT" if time.perf_counter() - t_start >= time_limit_s else _STATUS.get(st, str(st))
            break
        have_solution = True
        obj = objective.Value()
        for (i, k), ct in stock_ct.items():
            pi[i, k] = max(0.0, -ct.dual_value())

    if last_ok:
        val = np.array([c[0].solution_value() for c in columns])
        packages = float(sum(v * c[3] for v, c in zip(val, columns)))
        lost_units = float(sum(v * c[4] for v, c in zip(val, columns)))
        lost_pk = float(sum(v for v, c in zip(val, columns) if c[4] > 0))
    else:  # no master solution to read (the bound and prices are still valid)
        packages = lost_units = lost_pk = float("nan")
    if max_iterations == 0:
        status = "BOUND_ONLY"  # subgradient steps only: a valid bound, no master LP
    gap = (obj - best_bound) / abs(obj) if np.isfinite(obj) and obj != 0 else float("nan")
    return MethodLPResult(status, float(obj), float(best_bound), float(gap), best_pi, lost_units, packages, lost_pk,
                          float(rates.sum()), it, len(columns), master_s, pricing_s,
                          f"{master.upper()} master (column generation), Cython pricing")
