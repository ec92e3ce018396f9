"""CP-SAT model of sourcing: one order, or a window of orders sharing stock.

Model (orders ``b``, lines ``l`` of order ``b(l)``, nodes ``n``, SKUs ``s(l)``)::

    x[l, n]  integer units of line l from node n, 0 <= x <= min(D[l], stock[s(l), n])
    y[b, n]  1 if node n ships a package for order b
    u[l]     units of line l left unfilled, u = D[l] - sum_n x[l, n] >= 0

    min   sum P[b, n] y[b, n] + sum C[l, n] x[l, n] + sum LOST[l] u[l]     (costs x scale, rounded)
    s.t.  x[l, n] <= ub[l, n] * y[b(l), n]                 (a package opens before it ships)
          sum_{l : s(l) = s} x[l, n] <= stock[s, n]        (shared stock, the reason to batch)
          sum_n y[b, n] <= max_packages                   (per order)

With one order and one SKU per line this is exactly the problem solved by
:func:`omsim.fulfilment.cheapest_assignment`, which the tests use to check
the two against each other; with many orders it is the ``batch`` policy
(the Xu, Allgor & Graves 2009 idea: re-optimise the orders waiting in a
window together).

Costs are made integer by multiplying by ``scale`` and rounding; the returned
objective and bound are divided back, and the returned ``cost`` is the exact
float cost of the assignment found.

Inputs already validated by the caller (the allocation layer or the engine).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

__all__ = ["AssignmentResult", "solve_assignment"]

_STATUS = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
    cp_model.UNKNOWN: "UNKNOWN",
}


@dataclass
class AssignmentResult:
    """What the CP-SAT sourcing model returns.

    Attributes
    ----------
    assign : (M, N) numpy.ndarray of int64
        Units per line and node (zeros when no solution was found).
    cost : float
        Exact float cost of ``assign`` (packages + units + lost units).
    objective : float
        Solver objective (scaled integer costs, divided back by ``scale``).
    bound : float
        Best proven lower bound on the scaled objective, divided back.
    gap : float
        ``(objective - bound) / max(|objective|, 1e-9)``; 0 when optimal.
    status : str
        ``OPTIMAL``, ``FEASIBLE``, ``INFEASIBLE``, ``MODEL_INVALID`` or ``UNKNOWN``.
    wall_time_s : float
    """

    assign: np.ndarray
    cost: float
    objective: float
    bound: float
    gap: float
    status: str
    wall_time_s: float


def solve_assignment(line_ptr, line_sku, demand, stock, package_cost, unit_cost, lost_cost,
                     max_packages=None, scale: float = 1000.0, time_limit_s: float = 10.0,
                     num_workers: int = 1, seed: int = 0, split_penalty=None) -> AssignmentResult:
    """Jointly source one or more orders that share stock, with CP-SAT.

    Parameters
    ----------
    line_ptr : (B+1,) int
        CSR offsets: order ``b`` owns lines ``line_ptr[b]:line_ptr[b+1]``.
    line_sku : (M,) int
        Row of ``stock`` used by each line.
    demand : (M,) int
        Units wanted per line.
    stock : (S, N) int
        Units of each SKU at each node, shared by all orders.
    package_cost : (B, N) float
        Paid once per order for every node shipping to it (>= 0).
    unit_cost : (M, N) float
        Per unit shipped.
    lost_cost : (M,) float
        Per unit left unfilled.
    max_packages : int, optional
        Per order; default no limit.
    split_penalty : float or (B,) float, optional
        Paid per package beyond an order's first: ``split * max(packages - 1, 0)``,
        modelled exactly (not folded into the package cost, which would charge
        the first package too and make shipping nothing look cheaper).
    scale : float
        Costs are multiplied by this and rounded to integers (CP-SAT needs
        integer objectives); choose it so that ``cost * scale`` is exact or
        the rounding error acceptable.
    time_limit_s : float
        Wall-clock limit of the search.
    num_workers : int
        CP-SAT search workers (1 keeps it deterministic and polite on shared cores).
    seed : int
        CP-SAT random seed.

    Returns
    -------
    AssignmentResult
    """
    ptr = np.asarray(line_ptr, dtype=np.int64)
    sku = np.asarray(line_sku, dtype=np.int64)
    dem = np.asarray(demand, dtype=np.int64)
    stk = np.asarray(stock, dtype=np.int64)
    P = np.asarray(package_cost, dtype=np.float64)
    C = np.asarray(unit_cost, dtype=np.float64)
    lam = np.asarray(lost_cost, dtype=np.float64)
    B, M, N = ptr.shape[0] - 1, dem.shape[0], stk.shape[1]
    if P.ndim == 1:
        P = np.broadcast_to(P, (B, N))
    k = N if max_packages is None else min(int(max_packages), N)
    split = np.zeros(B) if split_penalty is None else np.broadcast_to(np.asarray(split_penalty, dtype=np.float64), (B,))

    def iscale(v: float) -> int:
        return int(round(float(v) * scale))

    # data -> model
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    y: dict[tuple[int, int], cp_model.IntVar] = {}
    u: list[cp_model.IntVar] = []
    objective = []
    constant = 0
    for b in range(B):
        for n in range(N):
            lines = range(ptr[b], ptr[b + 1])
            if any(min(dem[l], stk[sku[l], n]) > 0 for l in lines):
                y[b, n] = model.new_bool_var(f"y[{b},{n}]")
                objective.append(iscale(P[b, n]) * y[b, n])
        for l in range(ptr[b], ptr[b + 1]):
            for n in range(N):
                ub = int(min(dem[l], stk[sku[l], n]))
                if ub > 0:
                    x[l, n] = model.new_int_var(0, ub, f"x[{l},{n}]")
                    # constraints: a package opens before it ships
                    model.add(x[l, n] <= ub * y[b, n])
                    objective.append(iscale(C[l, n]) * x[l, n])
            u_l = model.new_int_var(0, int(dem[l]), f"u[{l}]")
            model.add(u_l + sum(x[l, n] for n in range(N) if (l, n) in x) == int(dem[l]))
            u.append(u_l)
            objective.append(iscale(lam[l]) * u_l)
        opened = [y[b, n] for n in range(N) if (b, n) in y]
        if len(opened) > k:
            model.add(sum(opened) <= k)
        if split[b] > 0 and len(opened) > 1:
            extra = model.new_int_var(0, len(opened) - 1, f"split[{b}]")   # packages beyond the first
            model.add(extra >= sum(opened) - 1)
            objective.append(iscale(split[b]) * extra)
    for s in np.unique(sku):
        for n in range(N):
            users = [x[l, n] for l in np.nonzero(sku == s)[0] if (l, n) in x]
            if len(users) > 1:
                model.add(sum(users) <= int(stk[s, n]))
    model.minimize(sum(objective) + constant)

    # parameters with a time limit -> solve
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(num_workers)
    solver.parameters.random_seed = int(seed)
    # the package links x <= ub * y are weak at the default level: with one worker the
    # bound stalls far from the optimum; the full linear relaxation closes it quickly
    solver.parameters.linearization_level = 2
    status = solver.solve(model)

    # convert back
    assign = np.zeros((M, N), dtype=np.int64)
    name = _STATUS.get(status, str(status))
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for (l, n), var in x.items():
            assign[l, n] = solver.value(var)
        obj = solver.objective_value / scale
        bound = solver.best_objective_bound / scale
    else:
        obj, bound = float("nan"), float("nan")
    cost = 0.0
    for b in range(B):
        rows = slice(ptr[b], ptr[b + 1])
        used = assign[rows].sum(axis=0) > 0
        cost += float(P[b][used].sum() + split[b] * max(int(used.sum()) - 1, 0) + (assign[rows] * C[rows]).sum()
                      + ((dem[rows] - assign[rows].sum(axis=1)) * lam[rows]).sum())
    gap = 0.0 if name == "OPTIMAL" else (obj - bound) / max(abs(obj), 1e-9)
    return AssignmentResult(assign, cost, obj, bound, gap, name, solver.wall_time)
