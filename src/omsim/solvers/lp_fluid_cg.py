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
    pricing = _Pricing(ptr, items, R, S, P, U, LU, LPk)
    lp = _Master(master, pricing)
    pi = np.zeros(S.shape) if initial_prices is None else np.maximum(0.0, np.array(initial_prices, dtype=float))
    best_bound, pricing_s = -np.inf, 0.0
    if subgradient_iterations > 0 and pricing.B:
        t0 = time.perf_counter()
        pi, best_bound = _subgradient(pricing, pi, subgradient_iterations, t_start + time_limit_s)
        pricing_s += time.perf_counter() - t0
    best_pi = pi.copy()
    obj, status, it, master_s, pricing_s, best_bound, best_pi, last_ok = _column_generation(
        pricing, lp, pi, best_bound, best_pi, pricing_s, t_start, time_limit_s, tol, max_iterations)
    if last_ok:
        packages, lost_units, lost_pk = lp.solution_totals()
    else:  # no master solution to read (the bound and prices are still valid)
        packages = lost_units = lost_pk = float("nan")
    if max_iterations == 0:
        status = "BOUND_ONLY"  # subgradient steps only: a valid bound, no master LP
    gap = (obj - best_bound) / abs(obj) if np.isfinite(obj) and obj != 0 else float("nan")
    return MethodLPResult(status, float(obj), float(best_bound), float(gap), best_pi, lost_units, packages, lost_pk,
                          float(pricing.rates.sum()), it, len(lp.columns), master_s, pricing_s,
                          f"{master.upper()} master (column generation), Cython pricing")


class _Pricing:
    """The pricing problems: one "order" per (j, q) with positive rate; the dummy node is column K."""

    def __init__(self, ptr, items, R, S, P, U, LU, LPk):
        sizes = np.diff(ptr)
        self.S = S
        self.I, self.K = I, K = S.shape
        jj, qq = np.nonzero((R > 0) & (sizes[None, :] > 0))
        self.B = B = jj.size
        self.sizes_b = sizes[qq]
        self.rates = R[jj, qq]
        self.line_ptr = np.concatenate([[0], np.cumsum(sizes[qq])]).astype(np.int64)
        self.line_item = (np.concatenate([items[ptr[q]:ptr[q + 1]] for q in qq]).astype(np.int64) if B
                          else np.zeros(0, np.int64))
        line_order = np.repeat(np.arange(B), sizes[qq])
        M = self.line_item.size
        self.demand = np.ones(M, dtype=np.int64)
        self.avail = np.ones((M, K + 1), dtype=np.int64)
        self.avail[:, :K] = S[self.line_item] > 0
        self.pkg = np.ascontiguousarray(np.hstack([P[jj], LPk[jj][:, None]]))
        self.base_unit = np.ascontiguousarray(np.hstack([U[jj[line_order]], LU[jj[line_order]][:, None]]))
        self.lost = np.full(M, 1e12)  # never: the dummy node is the unfulfilled option
        self.assign = np.zeros((M, K + 1), dtype=np.int64)
        self.totals = np.zeros(B)
        self.weight = self.rates[line_order]

    def lagrangian(self, prices):
        """L(prices) and its subgradient (expected stock use minus stock); leaves the methods in ``assign``."""
        K = self.K
        unit = self.base_unit.copy()
        unit[:, :K] += prices[self.line_item]
        cheapest_batch(self.line_ptr, self.demand, self.avail, self.pkg, unit, self.lost, K + 1,
                       self.assign, self.totals)
        use = np.zeros((self.I, K))
        np.add.at(use, self.line_item, self.assign[:, :K] * self.weight[:, None])
        return float(self.rates @ self.totals - (prices * self.S).sum()), use - self.S

    def method(self, b):
        """The assignment rows (lines of order b x K+1) of the last pricing round."""
        return self.assign[self.line_ptr[b]:self.line_ptr[b + 1]]


class _Master:
    """The master LP: one convexity row per pricing order, one stock row per stocked (i, k)."""

    def __init__(self, master: str, pricing: _Pricing):
        self.pricing = pr = pricing
        self.solver = solver = pywraplp.Solver.CreateSolver(master.upper())
        if master.upper() == "GLOP":
            # column generation only adds columns: the previous basis stays primal feasible, so
            # primal simplex without presolve restarts from it instead of from scratch
            solver.SetSolverSpecificParametersAsString("use_preprocessing: false use_dual_simplex: false")
        self.conv = [solver.Constraint(float(r), float(r)) for r in pr.rates]
        self.stock_ct = {}
        for i, k in zip(*np.nonzero(pr.S > 0)):
            self.stock_ct[i, k] = solver.Constraint(-solver.infinity(), float(pr.S[i, k]))
        self.objective = solver.Objective()
        self.columns = []  # (var, order b, cost, packages, lost units, stock use [(i, k), ...])
        # initial columns: everything to the dummy node (stock-free, so the master is feasible)
        for b in range(pr.B):
            rows = np.zeros((pr.sizes_b[b], pr.K + 1), dtype=np.int64)
            rows[:, pr.K] = 1
            self.add_column(b, rows)

    def add_column(self, b, a_rows):
        """Add the method given by assignment rows a_rows (lines of order b x K+1)."""
        pr, K, solver = self.pricing, self.pricing.K, self.solver
        lo = pr.line_ptr[b]
        used = a_rows.sum(axis=0) > 0
        cost = float(pr.pkg[b][used].sum() + (a_rows * pr.base_unit[lo:lo + a_rows.shape[0]]).sum())
        var = solver.NumVar(0.0, solver.infinity(), "")
        self.conv[b].SetCoefficient(var, 1.0)
        self.objective.SetCoefficient(var, cost)
        use = []
        for t, k in zip(*np.nonzero(a_rows[:, :K])):
            i = int(pr.line_item[lo + t])
            self.stock_ct[i, k].SetCoefficient(var, 1.0)
            use.append((i, k))
        self.columns.append((var, b, cost, int(used[:K].sum()), int(a_rows[:, K].sum()), use))

    def solution_totals(self):
        """Expected packages, lost units and lost (partly unfulfilled) orders of the master's solution."""
        val = np.array([c[0].solution_value() for c in self.columns])
        packages = float(sum(v * c[3] for v, c in zip(val, self.columns)))
        lost_units = float(sum(v * c[4] for v, c in zip(val, self.columns)))
        lost_pk = float(sum(v for v, c in zip(val, self.columns) if c[4] > 0))
        return packages, lost_units, lost_pk


def _subgradient(pricing: _Pricing, pi, iterations: int, deadline: float):
    """Polyak steps towards a target level that is lowered when progress stalls; (best prices, best bound)."""
    stocked = pricing.S > 0
    best_bound, best_pi = -np.inf, pi.copy()
    target, stall = None, 0
    for _ in range(iterations):
        val, g = pricing.lagrangian(pi)
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
        if norm2 == 0.0 or time.perf_counter() > deadline:
            break
        pi = np.maximum(0.0, pi + (target - val) / norm2 * g)
    return best_pi.copy(), best_bound


def _column_generation(pricing: _Pricing, lp: _Master, pi, best_bound, best_pi, pricing_s, t_start,
                       time_limit_s, tol, max_iterations):
    """Price and re-solve the master until no column prices out, or a limit."""
    obj = np.inf
    status, it = "ITERATION_LIMIT", 0
    master_s = 0.0
    have_solution = last_ok = False
    while it < max_iterations:
        it += 1
        # pricing: cheapest method of every (j, q) under unit costs u + pi
        t0 = time.perf_counter()
        val, _ = pricing.lagrangian(pi)
        pricing_s += time.perf_counter() - t0
        if val > best_bound:
            best_bound, best_pi = val, pi.copy()
        if have_solution:
            mu = np.array([c.dual_value() for c in lp.conv])
            improving = np.nonzero(pricing.totals - mu < -1e-9 * np.maximum(1.0, np.abs(mu)))[0]
            if obj - best_bound <= tol * abs(obj) or improving.size == 0:
                status = "OPTIMAL"
                break
        else:
            improving = np.arange(pricing.B)
        if time.perf_counter() - t_start > time_limit_s:
            status = "TIME_LIMIT"
            break
        for b in improving:
            lp.add_column(b, pricing.method(b))
        # solve the master with the time left
        lp.solver.SetTimeLimit(int(max(1.0, time_limit_s - (time.perf_counter() - t_start)) * 1000))
        lp.objective.SetMinimization()
        t0 = time.perf_counter()
        st = lp.solver.Solve()
        master_s += time.perf_counter() - t0
        last_ok = st == pywraplp.Solver.OPTIMAL
        if not last_ok:
            status = "TIME_LIMIT" if time.perf_counter() - t_start >= time_limit_s else _STATUS.get(st, str(st))
            break
        have_solution = True
        obj = lp.objective.Value()
        for (i, k), ct in lp.stock_ct.items():
            pi[i, k] = max(0.0, -ct.dual_value())
    return obj, status, it, master_s, pricing_s, best_bound, best_pi, last_ok
