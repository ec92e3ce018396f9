"""Deterministic (fluid) LP of multi-item fulfilment, solved with GLOP.

The LP replaces random arrivals by their expected counts and lets every order
be split fractionally; its optimum is a lower bound on the expected cost of
any fulfilment policy when initial stock is fixed (Jasin & Sinha 2015, W. Ma
2023), and the dual prices of its stock constraints are the shadow prices of
the ``lookahead`` policy (Acimovic & Graves 2015).

Formulation (the per-item formulation of those papers). Regions ``j``,
order types ``q`` (a set of items, one unit each), items ``i``, nodes ``k``,
expected count ``R[j, q]`` of orders of type q from region j, stock
``S[i, k]``. The unfulfilled option is a dummy node with unlimited stock and
its own package and unit cost::

    x[j,q,i,k] >= 0  units of item i of (j,q)-orders shipped from node k   (only where S[i,k] > 0)
    z[j,q,i]   >= 0  units of item i of (j,q)-orders left unfilled (the dummy node)
    y[j,q,k]   >= 0  packages node k sends to (j,q)-orders
    w[j,q]     >= 0  dummy packages of (j,q)-orders (only if the dummy has a package cost)

    min  sum P[j,k] y + sum U[j,k] x + sum LP[j] w + sum LU[j] z
    s.t. sum_k x[j,q,i,k] + z[j,q,i] = R[j,q]              every item of every order is served  (cover)
         x[j,q,i,k] <= y[j,q,k],   z[j,q,i] <= w[j,q]      a package per node used              (package)
         sum_{j, q containing i} x[j,q,i,k] <= S[i,k]       stock                                (stock)

Shadow price of a unit of item i at node k = minus the dual of its stock row
(>= 0). The number of variables is about (regions x sum of type sizes x
carrying nodes): several hundred thousand for the large US setting, so the
model is loaded through the low-level builder (no per-term Python objects).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver.python import model_builder as mb
from ortools.linear_solver.python import model_builder_helper as mbh

__all__ = ["FluidLPResult", "solve_fluid_lp"]


@dataclass
class FluidLPResult:
    """Outcome of :func:`solve_fluid_lp`.

    Attributes
    ----------
    status : str
        Solver status (``OPTIMAL``, ``FEASIBLE``, ``INFEASIBLE``, ...).
    objective : float
        LP optimum: the fluid lower bound on total expected cost.
    shadow_price : (I, K) numpy.ndarray
        Value of one more unit of item i at node k (>= 0; 0 where not stocked).
    units_lost : float
        Units left unfilled (sent to the dummy node) in the LP solution.
    packages : float
        Real packages (excluding dummy ones) in the LP solution.
    lost_packages : float
        Dummy packages in the LP solution.
    orders : float
        Expected number of non-empty orders (sum of R).
    n_variables, n_constraints : int
    build_time_s, solve_time_s : float
    solver : str
        Backend used (``GLOP`` by default).
    """

    status: str
    objective: float
    shadow_price: np.ndarray
    units_lost: float
    packages: float
    lost_packages: float
    orders: float
    n_variables: int
    n_constraints: int
    build_time_s: float
    solve_time_s: float
    solver: str


def fluid_arrays(type_ptr, type_items, rate, stock, package_cost, unit_cost, lost_unit_cost, lost_package_cost):
    """The fluid LPs' inputs as typed arrays (a missing lost-package cost is zero); shared by both formulations."""
    R = np.asarray(rate, dtype=np.float64)
    return (np.asarray(type_ptr, dtype=np.int64), np.asarray(type_items, dtype=np.int64), R,
            np.asarray(stock, dtype=np.float64), np.asarray(package_cost, dtype=np.float64),
            np.asarray(unit_cost, dtype=np.float64), np.asarray(lost_unit_cost, dtype=np.float64),
            np.zeros(R.shape[0]) if lost_package_cost is None else np.asarray(lost_package_cost, dtype=np.float64))


def solve_fluid_lp(type_ptr, type_items, rate, stock, package_cost, unit_cost, lost_unit_cost,
                   lost_package_cost=None, time_limit_s: float = 600.0, solver: str = "GLOP") -> FluidLPResult:
    """Solve the fluid LP and return the bound and the stock shadow prices.

    Parameters
    ----------
    type_ptr : (Q+1,) int
        CSR offsets: order type q holds items ``type_items[type_ptr[q]:type_ptr[q+1]]``
        (distinct, one unit each).
    type_items : (sum of sizes,) int
        Item indices (rows of ``stock``).
    rate : (J, Q) float
        Expected number of orders of each type from each region over the horizon.
    stock : (I, K) float
        Units of each item at each node at the start of the horizon.
    package_cost : (J, K) float
        Per package from node k to region j.
    unit_cost : (J, K) float
        Per unit from node k to region j.
    lost_unit_cost : (J,) float
        Per unit left unfilled (the dummy node's unit cost).
    lost_package_cost : (J,) float, optional
        Once per order with any unit left unfilled (the dummy node's package
        cost); default 0 (pure per-unit penalty).
    time_limit_s : float
        Solver time limit.
    solver : str
        ``"GLOP"`` (primal/dual simplex, default) or ``"PDLP"`` (first-order,
        for very large instances, less precise).

    Returns
    -------
    FluidLPResult

    Notes
    -----
    Inputs already validated by the caller; types with zero rate are skipped.
    """
    t0 = time.perf_counter()
    ptr, items, R, S, P, U, LU, LP = fluid_arrays(type_ptr, type_items, rate, stock, package_cost, unit_cost,
                                                  lost_unit_cost, lost_package_cost)
    J, Q = R.shape
    I, K = S.shape
    sizes = np.diff(ptr)
    carry = S > 0

    # (j, q) pairs with positive rate and a non-empty type
    jj, qq = np.nonzero((R > 0) & (sizes[None, :] > 0))
    npair = jj.size
    # lines: one per item of each pair
    line_pair = np.repeat(np.arange(npair), sizes[qq])
    line_item = np.concatenate([items[ptr[q]:ptr[q + 1]] for q in qq]) if npair else np.zeros(0, np.int64)
    nline = line_pair.size
    # x variables: (line, k) where the item is stocked at k
    x_line, x_k = np.nonzero(carry[line_item])
    nx = x_line.size
    # y variables: (pair, k) where some item of the type is stocked at k
    type_carry = np.zeros((Q, K), dtype=bool)
    for q in range(Q):
        if sizes[q]:
            type_carry[q] = carry[items[ptr[q]:ptr[q + 1]]].any(axis=0)
    y_pair, y_k = np.nonzero(type_carry[qq])
    ny = y_pair.size
    y_index = np.full((npair, K), -1, dtype=np.int64)
    y_index[y_pair, y_k] = nx + np.arange(ny)
    z0 = nx + ny
    use_w = bool(np.any(LP[jj] > 0)) if npair else False
    w0 = z0 + nline
    nvar = w0 + (npair if use_w else 0)

    # data -> model: variables with objective coefficients
    m = mbh.ModelBuilderHelper()
    m.add_var_array_with_bounds(np.zeros(nvar), np.full(nvar, np.inf), np.zeros(nvar, dtype=bool), "v")
    obj = np.concatenate([
        U[jj[line_pair[x_line]], x_k],
        P[jj[y_pair], y_k],
        LU[jj[line_pair]],
        LP[jj] if use_w else np.zeros(0),
    ])
    m.set_objective_coefficients(list(range(nvar)), obj.tolist())

    # constraints
    add, coef, lb, ub = m.add_linear_constraint, m.set_constraint_coefficient, \
        m.set_constraint_lower_bound, m.set_constraint_upper_bound
    # cover rows, one per line: x over its nodes + z = R
    cover0 = m.num_constraints()
    for line in range(nline):
        c = add()
        rhs = float(R[jj[line_pair[line]], qq[line_pair[line]]])
        lb(c, rhs)
        ub(c, rhs)
        coef(c, z0 + line, 1.0)
    x_cover = (cover0 + x_line).tolist()
    for v, c in enumerate(x_cover):
        coef(c, v, 1.0)
    # package rows: x - y <= 0
    y_of_x = y_index[line_pair[x_line], x_k].tolist()
    for v in range(nx):
        c = add()
        coef(c, v, 1.0)
        coef(c, y_of_x[v], -1.0)
        lb(c, -np.inf)
        ub(c, 0.0)
    if use_w:
        for line in range(nline):
            c = add()
            coef(c, z0 + line, 1.0)
            coef(c, w0 + int(line_pair[line]), -1.0)
            lb(c, -np.inf)
            ub(c, 0.0)
    # stock rows: one per stocked (item, node)
    stock_rows = np.full((I, K), -1, dtype=np.int64)
    for i, k in zip(*np.nonzero(carry)):
        c = add()
        stock_rows[i, k] = c
        lb(c, -np.inf)
        ub(c, float(S[i, k]))
    x_stock = stock_rows[line_item[x_line], x_k].tolist()
    for v, c in enumerate(x_stock):
        coef(c, v, 1.0)
    ncons = m.num_constraints()
    build_s = time.perf_counter() - t0

    # parameters with a time limit -> solve
    s = mbh.ModelSolverHelper(solver.lower())
    if not s.solver_is_supported():
        raise RuntimeError(f"LP solver {solver!r} is not available in this OR-Tools build")
    s.set_time_limit_in_seconds(float(time_limit_s))
    t1 = time.perf_counter()
    s.solve(m)
    solve_s = time.perf_counter() - t1
    status = mb.SolveStatus(s.status()).name

    # convert back
    shadow = np.zeros((I, K))
    if s.has_solution():
        val = np.asarray(s.variable_values())
        duals = np.asarray(s.dual_values())
        rows = stock_rows >= 0
        shadow[rows] = np.maximum(0.0, -duals[stock_rows[rows]])
        objective = float(s.objective_value())
        units_lost = float(val[z0:z0 + nline].sum())
        packages = float(val[nx:nx + ny].sum())
        lost_packages = float(val[w0:].sum()) if use_w else float("nan")
    else:
        objective = units_lost = packages = lost_packages = float("nan")
    return FluidLPResult(status, objective, shadow, units_lost, packages, lost_packages,
                         float(R[jj, qq].sum()), nvar, ncons, build_s, solve_s, solver.upper())
