"""Allocation (sourcing): which nodes ship which units of an order.

Policies, all on plain arrays (the engine turns orders and the inventory
ledger into them):

``nearest``
    myopic: each line from the nearest node that has it
    (:func:`nearest_assignment`);
``cheapest``
    the minimum total cost now — package cost per shipping node, unit cost,
    lost-sale cost, at most ``max_packages`` nodes — exact, by the Cython
    kernel :mod:`omsim._kernels._alloc` (:func:`cheapest_assignment`);
``lookahead``
    ``cheapest`` with each unit's cost raised by the shadow price of the stock
    it uses (Acimovic & Graves 2015), prices from the fluid LP
    :mod:`omsim.solvers.lp_fluid` (:func:`lookahead_assignment`);
``batch``
    orders of a time window re-optimised together with shared stock
    (:mod:`omsim.solvers.cpsat_assignment`).

A split penalty is part of ``package_cost``: the cost of each extra package
is the price of a split. Tie-breaking of the kernel: within a line, equal
unit costs fill the lowest node index first; among equally cheap node sets a
single node wins (the lowest index), else the lexicographically first (by
sorted node indices).
"""
from __future__ import annotations

import itertools

import numpy as np

from omsim._kernels import _alloc
from omsim.errors import OmsimError

__all__ = [
    "cheapest_assignment",
    "cheapest_assignment_batch",
    "cheapest_assignment_sequential",
    "cheapest_assignment_reference",
    "nearest_assignment",
    "lookahead_assignment",
    "assignment_cost",
]


# --------------------------------------------------------------------------- validation
def _quantities(x, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != ndim:
        raise OmsimError(f"{name}: expected a {ndim}-d array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise OmsimError(f"{name}: quantities must be whole numbers of units")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if np.any(arr < 0):
        raise OmsimError(f"{name}: quantities must be >= 0")
    return arr


def _costs(x, name: str, ndim: int, nonneg: bool = False) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    if arr.ndim != ndim:
        raise OmsimError(f"{name}: expected a {ndim}-d array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise OmsimError(f"{name}: costs must be finite")
    if nonneg and np.any(arr < 0):
        raise OmsimError(f"{name}: costs must be >= 0")
    return arr


def _max_packages(max_packages, n_nodes: int) -> int:
    if max_packages is None:
        return n_nodes
    k = int(max_packages)
    if k != max_packages or k < 0:
        raise OmsimError(f"max_packages: expected a whole number >= 0, got {max_packages!r}")
    return min(k, n_nodes)


def _check_order(demand, available, package_cost, unit_cost, lost_cost):
    d = _quantities(demand, "demand", 1)
    a = _quantities(available, "available", 2)
    p = _costs(package_cost, "package_cost", 1, nonneg=True)
    c = _costs(unit_cost, "unit_cost", 2)
    lam = _costs(lost_cost, "lost_cost", 1)
    L, N = d.shape[0], p.shape[0]
    for name, arr, shape in (("available", a, (L, N)), ("unit_cost", c, (L, N)), ("lost_cost", lam, (L,))):
        if arr.shape != shape:
            raise OmsimError(f"{name}: expected shape {shape} (lines, nodes), got {arr.shape}")
    return d, a, p, c, lam


def assignment_cost(assign, package_cost, unit_cost, lost_cost, demand) -> float:
    """Cost of a given assignment under the allocation cost model.

    Parameters
    ----------
    assign : (L, N) int
        Units of each line shipped from each node.
    package_cost : (N,) float
        Paid once for every node shipping at least one unit.
    unit_cost : (L, N) float
        Per unit of line ``l`` shipped from node ``n``.
    lost_cost : (L,) float
        Per unit of line ``l`` left unfilled.
    demand : (L,) int
        Units wanted per line.

    Returns
    -------
    float
    """
    x = np.asarray(assign, dtype=np.int64)
    used = x.sum(axis=0) > 0
    lost = np.asarray(demand, dtype=np.int64) - x.sum(axis=1)
    return float(np.sum(np.asarray(package_cost, float)[used]) + np.sum(x * np.asarray(unit_cost, float))
                 + np.sum(lost * np.asarray(lost_cost, float)))


# --------------------------------------------------------------------------- cheapest
def cheapest_assignment(demand, available, package_cost, unit_cost, lost_cost, max_packages=None):
    """Exact minimum-cost sourcing of one order (the ``cheapest`` policy).

    Parameters
    ----------
    demand : (L,) int
        Units wanted per line.
    available : (L, N) int
        Units of each line available at each node.
    package_cost : (N,) float
        Paid once for every node that ships at least one unit (>= 0); a split
        penalty belongs here.
    unit_cost : (L, N) float
        Per unit of line ``l`` shipped from node ``n``.
    lost_cost : (L,) float
        Per unit of line ``l`` left unfilled.
    max_packages : int, optional
        At most this many nodes ship (default: no limit).

    Returns
    -------
    assign : (L, N) numpy.ndarray of int64
        Units shipped; never more than ``available`` nor ``demand``.
    total : float
        Its cost (packages + units + lost units), the minimum over all
        integer assignments using at most ``max_packages`` nodes.

    Raises
    ------
    OmsimError
        On negative or fractional quantities, negative package costs,
        non-finite costs or mismatched shapes.

    Examples
    --------
    >>> assign, total = cheapest_assignment([1, 1], [[1, 1], [0, 1]], [5.0, 5.0],
    ...                                     [[1.0, 2.0], [1.0, 2.0]], [100.0, 100.0], max_packages=2)
    >>> assign.tolist(), total
    ([[0, 1], [0, 1]], 9.0)
    """
    d, a, p, c, lam = _check_order(demand, available, package_cost, unit_cost, lost_cost)
    k = _max_packages(max_packages, p.shape[0])
    assign = np.zeros(a.shape, dtype=np.int64)
    total = _alloc.cheapest_one(d, a, p, c, lam, k, assign)
    return assign, float(total)


def _check_batch(line_ptr, demand, package_cost, unit_cost, lost_cost, max_packages):
    ptr = _quantities(line_ptr, "line_ptr", 1)
    if ptr.shape[0] < 1 or ptr[0] != 0 or np.any(np.diff(ptr) < 0):
        raise OmsimError("line_ptr: expected a non-decreasing array starting at 0 (CSR offsets)")
    d = _quantities(demand, "demand", 1)
    M, B = d.shape[0], ptr.shape[0] - 1
    if ptr[-1] != M:
        raise OmsimError(f"line_ptr: last offset {ptr[-1]} != number of lines {M}")
    p = _costs(package_cost, "package_cost", np.ndim(package_cost), nonneg=True)
    if p.ndim == 1:
        p = np.ascontiguousarray(np.broadcast_to(p, (B, p.shape[0])))
    if p.ndim != 2 or p.shape[0] != B:
        raise OmsimError(f"package_cost: expected shape (nodes,) or ({B}, nodes), got {p.shape}")
    N = p.shape[1]
    c = _costs(unit_cost, "unit_cost", 2)
    lam = _costs(lost_cost, "lost_cost", 1)
    if c.shape != (M, N):
        raise OmsimError(f"unit_cost: expected shape {(M, N)}, got {c.shape}")
    if lam.shape != (M,):
        raise OmsimError(f"lost_cost: expected shape {(M,)}, got {lam.shape}")
    return ptr, d, p, c, lam, _max_packages(max_packages, N)


def cheapest_assignment_batch(line_ptr, demand, available, package_cost, unit_cost, lost_cost, max_packages=None):
    """:func:`cheapest_assignment` for many independent orders in one compiled loop.

    Orders are stored CSR-style: order ``b`` owns lines ``line_ptr[b]:line_ptr[b+1]``.

    Parameters
    ----------
    line_ptr : (B+1,) int
        Offsets of each order's lines, ``line_ptr[0] == 0``, ``line_ptr[-1] == M``.
    demand : (M,) int
    available : (M, N) int
        Stock seen by each line (orders do not share it here).
    package_cost : (N,) or (B, N) float
    unit_cost : (M, N) float
    lost_cost : (M,) float
    max_packages : int, optional

    Returns
    -------
    assign : (M, N) numpy.ndarray of int64
    totals : (B,) numpy.ndarray of float64
    """
    ptr, d, p, c, lam, k = _check_batch(line_ptr, demand, package_cost, unit_cost, lost_cost, max_packages)
    a = _quantities(available, "available", 2)
    if a.shape != c.shape:
        raise OmsimError(f"available: expected shape {c.shape}, got {a.shape}")
    assign = np.zeros(a.shape, dtype=np.int64)
    totals = np.zeros(ptr.shape[0] - 1, dtype=np.float64)
    _alloc.cheapest_batch(ptr, d, a, p, c, lam, k, assign, totals)
    return assign, totals


def cheapest_assignment_sequential(line_ptr, line_sku, demand, stock, package_cost, unit_cost, lost_cost,
                                   max_packages=None):
    """Orders in arrival sequence against shared stock, each sourced by ``cheapest``.

    Order ``b`` sees the stock left by orders ``0..b-1``. ``stock`` is not
    modified; the remaining stock is returned.

    Parameters
    ----------
    line_ptr : (B+1,) int
        CSR offsets of each order's lines.
    line_sku : (M,) int
        Row of ``stock`` for each line; SKUs must be distinct within an order.
    demand : (M,) int
    stock : (S, N) int
        Stock per SKU and node before the first order.
    package_cost : (N,) or (B, N) float
    unit_cost : (M, N) float
    lost_cost : (M,) float
    max_packages : int, optional

    Returns
    -------
    assign : (M, N) numpy.ndarray of int64
    totals : (B,) numpy.ndarray of float64
    remaining : (S, N) numpy.ndarray of int64
    """
    ptr, d, p, c, lam, k = _check_batch(line_ptr, demand, package_cost, unit_cost, lost_cost, max_packages)
    s = _quantities(stock, "stock", 2).copy()
    sku = _quantities(line_sku, "line_sku", 1)
    if s.shape[1] != p.shape[1]:
        raise OmsimError(f"stock: expected {p.shape[1]} node columns, got {s.shape[1]}")
    if sku.shape != d.shape or (sku.size and sku.max() >= s.shape[0]):
        raise OmsimError("line_sku: expected one SKU row index per line, each < number of stock rows")
    if sku.size:
        order_of_line = np.repeat(np.arange(ptr.shape[0] - 1), np.diff(ptr))
        key = order_of_line * s.shape[0] + sku
        if np.unique(key).size != key.size:
            raise OmsimError("line_sku: an order lists the same SKU on two lines; merge them first")
    assign = np.zeros(c.shape, dtype=np.int64)
    totals = np.zeros(ptr.shape[0] - 1, dtype=np.float64)
    _alloc.cheapest_sequential(ptr, sku, d, s, p, c, lam, k, assign, totals)
    return assign, totals, s


def cheapest_assignment_reference(demand, available, package_cost, unit_cost, lost_cost, max_packages=None):
    """Brute-force reference of :func:`cheapest_assignment` (slow; tests only).

    Tries every node subset S with ``|S| <= max_packages``, pays the package
    cost of all of S, and for each line independently tries every integer
    vector of units from the members of S (within stock and demand). The
    minimum over S is the optimum because paying for an idle member of S only
    over-estimates. No ordering or greedy argument is used.

    Returns
    -------
    assign : (L, N) numpy.ndarray of int64
    total : float
    """
    d, a, p, c, lam = _check_order(demand, available, package_cost, unit_cost, lost_cost)
    L, N = a.shape
    k = _max_packages(max_packages, N)
    best_total, best_assign = float("inf"), None
    for size in range(k + 1):
        for subset in itertools.combinations(range(N), size):
            total = float(sum(p[n] for n in subset))
            assign = np.zeros((L, N), dtype=np.int64)
            for l in range(L):
                best_line, best_x = float("inf"), None
                ranges = [range(min(a[l, n], d[l]) + 1) for n in subset]
                for x in itertools.product(*ranges):
                    if sum(x) > d[l]:
                        continue
                    cost = sum(x[t] * c[l, n] for t, n in enumerate(subset)) + (d[l] - sum(x)) * lam[l]
                    if cost < best_line:
                        best_line, best_x = cost, x
                total += best_line
                for t, n in enumerate(subset):
                    assign[l, n] = best_x[t]
            if total < best_total:
                best_total, best_assign = total, assign
    return best_assign, best_total


# --------------------------------------------------------------------------- nearest
def nearest_assignment(demand, available, distance, carried=None, fallback=True):
    """Myopic sourcing: each line from the nearest node that has it.

    Parameters
    ----------
    demand : (L,) int
        Units wanted per line.
    available : (L, N) int
        Units of each line available at each node now.
    distance : (N,) or (L, N) float
        Distance (or any ranking key) from each node to the order's
        destination; ties go to the lower node index.
    carried : (L, N) bool, optional
        Which nodes stock the line at all (the assortment). Default: nodes
        with ``available > 0``.
    fallback : bool
        ``True``: fill the line from its carrying nodes in increasing
        distance, splitting when the nearest runs short. ``False``: the
        published myopic policy (Jasin & Sinha 2015) — only the nearest
        carrying node is tried; whatever it lacks is left unfilled.

    Returns
    -------
    assign : (L, N) numpy.ndarray of int64
    """
    d = _quantities(demand, "demand", 1)
    a = _quantities(available, "available", 2)
    dist = _costs(distance, "distance", np.ndim(distance))
    if dist.ndim == 1:
        dist = np.broadcast_to(dist, a.shape)
    if dist.shape != a.shape or a.shape[0] != d.shape[0]:
        raise OmsimError(f"distance/available: shapes {dist.shape} and {a.shape} do not match demand {d.shape}")
    carry = a > 0 if carried is None else np.asarray(carried, dtype=bool)
    if carry.shape != a.shape:
        raise OmsimError(f"carried: expected shape {a.shape}, got {carry.shape}")
    assign = np.zeros(a.shape, dtype=np.int64)
    # Python lists: a handful of lines and nodes, where NumPy scalar indexing costs most of the time.
    # Stable sort: equal distances keep ascending node index (one sort when every line has the same distances).
    ranks = ([np.argsort(dist[0], kind="stable").tolist()] * len(d) if dist.strides[0] == 0 and len(d)
             else np.argsort(dist, axis=1, kind="stable").tolist())
    carry_l, a_l, d_l = carry.tolist(), a.tolist(), d.tolist()
    for l, rank in enumerate(ranks):
        rest = d_l[l]
        for n in rank:
            if rest == 0:
                break
            if not carry_l[l][n]:
                continue
            q = min(rest, a_l[l][n])
            assign[l, n] = q
            rest -= q
            if not fallback:
                break
    return assign


# --------------------------------------------------------------------------- lookahead
def lookahead_assignment(demand, available, package_cost, unit_cost, lost_cost, shadow_price, max_packages=None):
    """``cheapest`` with each unit's cost raised by the shadow price of its stock.

    The Acimovic & Graves (2015) idea: a unit taken from a node now is not
    there for later orders; the dual price of that node's stock constraint in
    the fluid LP over expected future demand (:func:`omsim.solvers.lp_fluid.solve_fluid_lp`)
    values that loss. Leaving a unit unfilled uses no stock, so it is not
    surcharged.

    Parameters
    ----------
    demand, available, package_cost, unit_cost, lost_cost, max_packages
        As in :func:`cheapest_assignment`.
    shadow_price : (L, N) float
        Price per unit of line ``l``'s SKU at node ``n`` (>= 0).

    Returns
    -------
    assign : (L, N) numpy.ndarray of int64
    total : float
        The true cost of ``assign`` (without shadow prices).
    """
    d, a, p, c, lam = _check_order(demand, available, package_cost, unit_cost, lost_cost)
    pi = _costs(shadow_price, "shadow_price", 2)
    if pi.shape != c.shape:
        raise OmsimError(f"shadow_price: expected shape {c.shape}, got {pi.shape}")
    assign, _ = cheapest_assignment(d, a, p, c + pi, lam, max_packages)
    return assign, assignment_cost(assign, p, c, lam, d)
