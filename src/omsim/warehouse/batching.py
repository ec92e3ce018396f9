"""Order batching: group orders into picker tours under a cart capacity.

A batch is a set of orders picked in one tour; its travel is the route length
of all its picks together (any method of :data:`omsim.warehouse.routing.ROUTING_METHODS`,
evaluated with the batched :func:`~omsim.warehouse.routing.route_lengths`).
The size of an order (items or volume, the caller's unit) counts against the
cart ``capacity``; an order larger than the cart is picked alone (its own
tour) since it cannot share one.

Methods (De Koster, Van der Poort & Wolters 1999, "Efficient orderbatching
methods in warehouses", IJPR 37(7)):

``"fcfs"``
    First come, first served: fill a cart in order index order, start a new
    one when the next order does not fit.
``"seed"``
    Seed algorithm: the seed is the unbatched order with the longest tour of
    its own; then the order whose addition lengthens the batch's tour least
    (and fits) is added, until none fits. Then a new seed.
``"savings"``
    Clarke & Wright savings with recomputation (De Koster et al.'s C&W (ii)):
    start with one batch per order; repeatedly merge the two batches whose
    merge saves the most travel, ``L(A) + L(B) - L(A u B) >= 0``, among
    those that fit; after each merge the new batch's savings are recomputed.
    With ``neighbours=k`` (granular savings, as in granular tabu search for
    VRPs) an order is only joined to its ``k`` nearest orders (mean distance
    from each of its picks to the other's nearest pick on the aisle graph,
    both ways) and two batches are candidates for a merge only when some of
    their orders are joined; when no joined pair is left, the remaining
    batches may merge with any other (this fills the carts). Far fewer tours
    to route, slightly different batches. ``neighbours=None`` considers every
    pair (exact C&W).
``"local-search"``
    Savings, then iterated local search: best-improvement *relocate* (move an
    order to another batch) and *swap* (exchange two orders of different
    batches) until no move shortens the total; then a random perturbation
    and again, keeping the best solution, until ``time_limit_s`` or
    ``max_rounds`` perturbations. It never returns more travel than its start.

With exact routing (``"optimal"``, one or two blocks) savings runs in the
Cython kernel :mod:`omsim._kernels._batching`, which calls the routing DP
from C and routes a candidate only when an upper bound on its saving reaches
the top (same batches as :func:`_savings`, its reference). Otherwise all
candidate evaluations of one step go to the routing kernel in one batched
call. :class:`SavingsWaves` is the same kernel bound to one floor (layout and
slotting), for a simulator that batches wave after wave.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain

import numpy as np

from omsim._kernels import _batching
from omsim.errors import OmsimError
from omsim.warehouse import routing as _routing
from omsim.warehouse.layout import Layout, as_picks
from omsim.warehouse.routing import ROUTING_METHODS, route_lengths

__all__ = ["BatchResult", "BATCHING_METHODS", "SavingsWaves", "batch_orders", "batch_orders_flat", "batch_lengths"]

BATCHING_METHODS = ("fcfs", "seed", "savings", "local-search")

_EPS = 1e-9


@dataclass(frozen=True)
class BatchResult:
    """Batches of orders and their travel.

    Attributes
    ----------
    batches
        Order indices of each batch (each order in exactly one batch).
    lengths
        Route length of each batch in metres.
    total_m
        Sum of ``lengths``.
    method, routing
        How the batches were formed and routed.
    """

    batches: list[list[int]]
    lengths: np.ndarray
    total_m: float
    method: str = ""
    routing: str = ""
    info: dict = field(default_factory=dict)

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class _Evaluator:
    """Tour lengths of candidate batches: one batched routing call per list of candidates.

    The picks of all orders are kept in one flat array; a list of candidate
    batches becomes one gather of that array (the picks of each batch's
    orders, in order) and one call of the routing method's batched kernel.
    The picks were validated once by :func:`batch_orders`, so the kernel is
    called without :func:`route_lengths`' checks.
    """

    def __init__(self, layout: Layout, picks: list[np.ndarray] | None, routing: str, *,
                 flat: np.ndarray | None = None, offsets: np.ndarray | None = None):
        self.layout = layout
        self.routing = routing
        self.calls = 0
        self.routes = 0
        if picks is not None:
            self.count = np.array([p.shape[0] for p in picks], dtype=np.int64)
            self.flat = (np.ascontiguousarray(np.concatenate(picks), dtype=np.int64) if picks
                         else np.zeros((0, 2), np.int64))
        else:  # already flat: orders' picks are flat[offsets[o]:offsets[o + 1]]
            self.count = np.diff(offsets)
            self.flat = flat
        self.start = np.zeros(self.count.size, dtype=np.int64)
        if self.count.size > 1:
            np.cumsum(self.count[:-1], out=self.start[1:])
        method = ROUTING_METHODS.get(routing)
        self._kernel = method.lengths if method is not None else None
        # A batched lengths function may offer prepare(layout, flat) -> f(idx, offsets), equal to
        # lengths(layout, flat[idx], offsets) with its per-pick work done once (the heuristics do).
        # Prepared on the first call (fcfs routes once, at the end).
        self._prepare = getattr(self._kernel, "prepare", None)
        self._gathered = None

    def lengths(self, batches: list) -> np.ndarray:
        if not batches:
            return np.zeros(0)
        per = [len(b) for b in batches]
        seq = np.fromiter(chain.from_iterable(batches), dtype=np.int64, count=sum(per))
        return self.lengths_of(seq, np.asarray(per, dtype=np.int64))

    def lengths_of(self, seq: np.ndarray, per: np.ndarray) -> np.ndarray:
        """Lengths of the batches ``seq[0:per[0]]``, ``seq[per[0]:per[0] + per[1]]``, ... (order indices)."""
        ln = self.count[seq]
        ends = np.cumsum(ln)
        total = int(ends[-1]) if ends.size else 0
        # Picks of order seq[q] land at ends[q] - ln[q] ..; gather them from their place in self.flat.
        idx = np.arange(total, dtype=np.int64) - np.repeat(ends - ln - self.start[seq], ln)
        off = np.zeros(per.size + 1, dtype=np.int64)
        last = np.cumsum(per)
        nz = last > 0
        off[1:][nz] = ends[last[nz] - 1]
        self.calls += 1
        self.routes += int(per.size)
        if self._prepare is not None:
            if self._gathered is None:
                self._gathered = self._prepare(self.layout, self.flat)
            return self._gathered(idx, off)
        flat = self.flat[idx]
        if self._kernel is not None:
            return np.asarray(self._kernel(self.layout, flat, off), dtype=np.float64)
        return np.asarray(route_lengths(self.layout, flat, self.routing, offsets=off), dtype=np.float64)


def batch_lengths(layout: Layout, orders_picks, batches, routing: str = "optimal") -> np.ndarray:
    """Route length (m) of each batch: all its orders' picks in one tour."""
    picks = [as_picks(layout, p, name=f"orders_picks[{i}]") for i, p in enumerate(orders_picks)]
    return _Evaluator(layout, picks, routing).lengths([list(b) for b in batches])


# ----------------------------------------------------------------- construction
def _fcfs(sizes: np.ndarray, capacity: float) -> list[list[int]]:
    batches: list[list[int]] = []
    load = np.inf
    for o, s in enumerate(sizes):
        if batches and load + s <= capacity + _EPS:
            batches[-1].append(o)
            load += s
        else:
            batches.append([o])
            load = s
    return batches


def _seed(ev: _Evaluator, sizes: np.ndarray, capacity: float) -> list[list[int]]:
    n = sizes.size
    solo = ev.lengths([[o] for o in range(n)])
    free = np.ones(n, dtype=bool)
    batches = []
    while free.any():
        cand = np.flatnonzero(free)
        seed = int(cand[np.argmax(solo[cand])])  # first of the longest
        batch, load, length = [seed], sizes[seed], solo[seed]
        free[seed] = False
        while True:
            fit = [int(o) for o in np.flatnonzero(free) if load + sizes[o] <= capacity + _EPS]
            if not fit:
                break
            added = ev.lengths([batch + [o] for o in fit]) - length
            k = int(np.argmin(added))
            batch.append(fit[k])
            load += sizes[fit[k]]
            length += added[k]
            free[fit[k]] = False
        batches.append(batch)
    return batches


def _savings(ev: _Evaluator, sizes: np.ndarray, capacity: float, adj: np.ndarray | None = None) -> list[list[int]]:
    """C&W savings with recomputation (reference of the kernel); ``adj``: granular neighbour graph.

    With ``adj``, merges are first restricted to joined batches; when none is
    left, any two remaining batches may merge.
    """
    n = sizes.size
    batches: list[list[int] | None] = [[o] for o in range(n)]
    load = sizes.astype(np.float64).copy()
    length = ev.lengths_of(np.arange(n, dtype=np.int64), np.ones(n, dtype=np.int64))
    granular = adj is not None
    adj = np.ones((n, n), dtype=bool) if adj is None else np.array(adj, dtype=bool)
    np.fill_diagonal(adj, False)
    sav = np.full((n, n), -np.inf)
    iu, ju = np.triu_indices(n, 1)
    ok = (load[iu] + load[ju] <= capacity + _EPS) & adj[iu, ju]
    iu, ju = iu[ok], ju[ok]
    if iu.size:
        merged = ev.lengths_of(np.column_stack([iu, ju]).ravel(), np.full(iu.size, 2, dtype=np.int64))
        sav[iu, ju] = length[iu] + length[ju] - merged
    alive = np.ones(n, dtype=bool)
    while True:
        flat = int(np.argmax(sav))
        i, j = divmod(flat, n)
        if not np.isfinite(sav[i, j]) or sav[i, j] < -_EPS:
            if not granular:
                break
            # Granular phase over: the batches left may merge with any other (fills the carts).
            granular = False
            live = np.flatnonzero(alive)
            a, b = np.triu_indices(live.size, 1)
            a, b = live[a], live[b]
            new = ~adj[a, b] & (load[a] + load[b] <= capacity + _EPS)
            a, b = a[new], b[new]
            adj[a, b] = adj[b, a] = True
            if a.size:
                seq: list[int] = []
                for p, q in zip(a.tolist(), b.tolist()):
                    seq += batches[p]
                    seq += batches[q]
                per = np.array([len(batches[p]) + len(batches[q]) for p, q in zip(a.tolist(), b.tolist())],
                               dtype=np.int64)
                sav[a, b] = length[a] + length[b] - ev.lengths_of(np.array(seq, dtype=np.int64), per)
            continue
        # Merge j into i; j's row and column die; i inherits j's neighbours.
        batches[i] = batches[i] + batches[j]
        batches[j] = None
        alive[j] = False
        load[i] += load[j]
        length[i] = length[i] + length[j] - sav[i, j]
        adj[i, :] |= adj[j, :]
        adj[:, i] |= adj[:, j]
        adj[j, :] = False
        adj[:, j] = False
        adj[i, i] = False
        sav[j, :] = -np.inf
        sav[:, j] = -np.inf
        sav[i, :] = -np.inf
        sav[:, i] = -np.inf
        fit = alive & (load[i] + load <= capacity + _EPS) & adj[i]
        fit[i] = False
        others = np.flatnonzero(fit)
        if others.size:
            bi = batches[i]
            seq: list[int] = []
            per = np.empty(others.size, dtype=np.int64)
            for q, k in enumerate(others.tolist()):
                seq += bi
                seq += batches[k]
                per[q] = len(bi) + len(batches[k])
            merged = ev.lengths_of(np.array(seq, dtype=np.int64), per)
            s_ = length[i] + length[others] - merged
            sav[np.minimum(others, i), np.maximum(others, i)] = s_
    return [b for b in batches if b is not None]


def _kernel_applies(layout: Layout, routing: str) -> bool:
    """Whether the savings kernel routes exactly as ``routing`` would (exact DP, one or two blocks)."""
    if routing != "optimal":
        return False
    m = ROUTING_METHODS.get("optimal")
    if m is None or m.lengths is not _routing._optimal_lengths:
        return False
    return layout.blocks <= 2 or _routing._general_hook() is None


def _neighbour_graph(layout: Layout, flat: np.ndarray, offsets: np.ndarray, neighbours: int | None) -> np.ndarray | None:
    """Granular neighbour graph (kernel), or None when every pair is a candidate."""
    n = offsets.size - 1
    if neighbours is None or neighbours >= n - 1:
        return None
    adj = np.zeros((n, n), dtype=np.uint8)
    _batching.neighbour_graph(np.ascontiguousarray(flat[:, 0]), np.ascontiguousarray(flat[:, 1]), offsets,
                              int(neighbours), layout.blocks, np.ascontiguousarray(layout.cell_y),
                              np.ascontiguousarray(layout.cross_aisle_y), float(layout.aisle_pitch_m), adj)
    return adj.astype(bool)


def _savings_kernel(layout: Layout, flat: np.ndarray, offsets: np.ndarray, sizes: np.ndarray, capacity: float,
                    neighbours: int | None, lazy: bool = True) -> tuple[list[list[int]], np.ndarray, int]:
    """Savings in the C kernel: (batches in order of their smallest order, sorted; lengths; tours routed)."""
    n = offsets.size - 1
    label = np.empty(n, dtype=np.int64)
    length = np.empty(n, dtype=np.float64)
    routes = _batching.savings_batches(np.ascontiguousarray(flat[:, 0]), np.ascontiguousarray(flat[:, 1]),
                                       offsets, np.ascontiguousarray(sizes, dtype=np.float64), float(capacity),
                                       int(neighbours or 0), bool(lazy), *_geometry(layout), label, length)
    # A batch's label is its smallest order: in order of first appearance, batches come by leader and
    # their orders ascending (a few dozen orders: plain Python beats NumPy's grouping here).
    groups: dict[int, list[int]] = {}
    for o, b in enumerate(label.tolist()):
        groups.setdefault(b, []).append(o)
    return list(groups.values()), length[list(groups)], int(routes)


@lru_cache(maxsize=32)
def _geometry(layout: Layout) -> tuple:
    """The exact routing kernel's layout arguments (cached: one per floor)."""
    return _routing._kernel_args(layout)[1]


class SavingsWaves:
    """Exact savings batching of many waves on one floor (the simulator's hot path).

    The same batches and lengths as :func:`batch_orders_flat` with
    ``method="savings"``, ``routing="optimal"`` (inputs already validated),
    from a wave as a simulator holds it: lines of SKUs and the packages as
    offsets into them. The layout's kernel arguments and the SKUs' slots are
    prepared once, and the kernel hands the tours back in CSR form, so a
    wave of a few dozen packages costs no per-package Python.

    Parameters
    ----------
    layout
        The warehouse (one or two blocks, or more without the OR-Tools hook).
    sku_loc
        ``(n_skus, 2)`` int64 (aisle, cell) slot of every SKU, inside the layout.
    """

    def __init__(self, layout: Layout, sku_loc: np.ndarray):
        if not _kernel_applies(layout, "optimal"):
            raise ValueError("SavingsWaves: exact routing of this layout is not the kernel's DP")
        sku_loc = np.asarray(sku_loc, dtype=np.int64)
        self.layout = layout
        self.sku_loc = sku_loc
        self.routes = 0  # tours routed so far (all waves)
        self._kernel = _batching.Waves(np.ascontiguousarray(sku_loc[:, 0]), np.ascontiguousarray(sku_loc[:, 1]),
                                       *_geometry(layout))

    def __reduce__(self):
        # The kernel object holds C buffers: a copy (pickle, deepcopy) prepares its own.
        return (SavingsWaves, (self.layout, self.sku_loc))

    @staticmethod
    def applies(layout: Layout, method: str, routing: str) -> bool:
        """Whether :meth:`tours` batches as ``method`` with ``routing`` would on ``layout``."""
        return method == "savings" and _kernel_applies(layout, routing)

    def tours(self, line_ptr: np.ndarray, line_sku: np.ndarray, sizes: np.ndarray, capacity: float,
              neighbours: int | None = None) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Batch one wave into picker tours.

        Parameters
        ----------
        line_ptr
            ``(n + 1,)`` int64: package ``p`` has lines ``line_ptr[p]:line_ptr[p + 1]``.
        line_sku
            int64 SKU of every line (indices into ``sku_loc``).
        sizes
            ``(n,)`` sizes of the packages against ``capacity`` (finite, >= 0).
        capacity
            Cart capacity (> 0).
        neighbours
            Granular savings (see :func:`batch_orders`); ``None``: every pair.

        Returns
        -------
        tours : list of numpy.ndarray
            Package indices of each tour (ascending), tours in order of their smallest package.
        length_m : numpy.ndarray
            Optimal route length of each tour (metres).
        picks : numpy.ndarray
            Lines picked on each tour.
        """
        n = line_ptr.shape[0] - 1
        if n <= 0:
            return [], np.zeros(0), np.zeros(0, np.int64)
        order = np.empty(n, dtype=np.int64)
        ptr = np.empty(n + 1, dtype=np.int64)
        length = np.empty(n, dtype=np.float64)
        picks = np.empty(n, dtype=np.int64)
        nb, routes = self._kernel.batch(np.ascontiguousarray(line_sku, dtype=np.int64),
                                        np.ascontiguousarray(line_ptr, dtype=np.int64),
                                        np.ascontiguousarray(sizes, dtype=np.float64), float(capacity),
                                        int(neighbours or 0), order, ptr, length, picks)
        self.routes += routes
        bounds = ptr[:nb + 1].tolist()
        return [order[a:b] for a, b in zip(bounds, bounds[1:])], length[:nb], picks[:nb]


# ------------------------------------------------------------------ local search
def _descent(ev: _Evaluator, batches: list[list[int]], lengths: list[float], loads: list[float],
             sizes: np.ndarray, capacity: float, deadline: float) -> None:
    """Best-improvement relocate/swap until no move shortens the total (in place)."""
    where = {o: b for b, orders in enumerate(batches) for o in orders}
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        best = (-_EPS, None)
        for o in range(sizes.size):
            a = where[o]
            rest = [x for x in batches[a] if x != o]
            # Relocate o to every batch it fits in.
            targets = [b for b in range(len(batches)) if b != a and batches[b]
                       and loads[b] + sizes[o] <= capacity + _EPS]
            cands = [rest] + [batches[b] + [o] for b in targets]
            # Swap o with every order p of another batch when both fit.
            swaps = []
            for b in range(len(batches)):
                if b == a:
                    continue
                for p in batches[b]:
                    if p < o:
                        continue  # each unordered pair once
                    if (loads[a] - sizes[o] + sizes[p] <= capacity + _EPS
                            and loads[b] - sizes[p] + sizes[o] <= capacity + _EPS):
                        swaps.append((b, p))
            for b, p in swaps:
                cands.append(rest + [p])
                cands.append([x for x in batches[b] if x != p] + [o])
            if len(cands) == 1:
                continue
            ln = ev.lengths(cands)
            rest_len = ln[0] if rest else 0.0
            for k, b in enumerate(targets):
                delta = rest_len + ln[1 + k] - lengths[a] - lengths[b]
                if delta < best[0]:
                    best = (delta, ("move", o, a, b, rest_len, ln[1 + k]))
            base = 1 + len(targets)
            for k, (b, p) in enumerate(swaps):
                la, lb = ln[base + 2 * k], ln[base + 2 * k + 1]
                delta = la + lb - lengths[a] - lengths[b]
                if delta < best[0]:
                    best = (delta, ("swap", o, a, b, la, lb, p))
            if time.perf_counter() >= deadline:
                break
        if best[1] is not None:
            kind, o, a, b, la, lb = best[1][:6]
            if kind == "move":
                batches[a].remove(o)
                batches[b].append(o)
                loads[a] -= sizes[o]
                loads[b] += sizes[o]
                where[o] = b
            else:
                p = best[1][6]
                batches[a].remove(o)
                batches[b].remove(p)
                batches[a].append(p)
                batches[b].append(o)
                loads[a] += sizes[p] - sizes[o]
                loads[b] += sizes[o] - sizes[p]
                where[o], where[p] = b, a
            lengths[a], lengths[b] = la, lb
            improved = True


def _local_search(ev: _Evaluator, start: list[list[int]], sizes: np.ndarray, capacity: float,
                  time_limit_s: float, max_rounds: int, rng: np.random.Generator) -> tuple[list[list[int]], int]:
    """Iterated local search from ``start``; returns the best batches seen and the rounds run."""
    deadline = time.perf_counter() + time_limit_s

    def polish(batches):
        batches = [list(b) for b in batches if b]
        lengths = list(ev.lengths(batches))
        loads = [float(sizes[b].sum()) for b in batches]
        _descent(ev, batches, lengths, loads, sizes, capacity, deadline)
        keep = [i for i, b in enumerate(batches) if b]
        return [batches[i] for i in keep], float(sum(lengths[i] for i in keep))

    best = [list(b) for b in start]
    best_total = float(ev.lengths(best).sum())
    cur, total = polish(best)
    if total < best_total - _EPS:
        best, best_total = cur, total
    rounds = 0
    while rounds < max_rounds and time.perf_counter() < deadline and len(best) >= 2:
        rounds += 1
        # Perturb the best solution with a few random feasible relocations.
        batches = [list(b) for b in best]
        loads = [float(sizes[b].sum()) for b in batches]
        for _ in range(max(1, sizes.size // 10)):
            o = int(rng.integers(sizes.size))
            a = next(i for i, b in enumerate(batches) if o in b)
            fits = [i for i in range(len(batches)) if i != a and loads[i] + sizes[o] <= capacity + _EPS]
            if fits:
                b = fits[int(rng.integers(len(fits)))]
                batches[a].remove(o)
                batches[b].append(o)
                loads[a] -= sizes[o]
                loads[b] += sizes[o]
        cur, total = polish(batches)
        if total < best_total - _EPS:
            best, best_total = cur, total
    return best, rounds


# ----------------------------------------------------------------------- public
def _check_neighbours(neighbours) -> int | None:
    if neighbours is None:
        return None
    if isinstance(neighbours, bool) or not isinstance(neighbours, (int, np.integer)) or neighbours < 1:
        raise OmsimError(f"neighbours: must be None (every pair) or an integer >= 1, got {neighbours!r}")
    return int(neighbours)


def batch_orders(layout: Layout, orders_picks, sizes=None, capacity=None, method: str = "fcfs",
                 routing: str = "optimal", time_limit_s: float = 1.0, rng=None, *,
                 units=None, max_rounds: int = 100, neighbours: int | None = None) -> BatchResult:
    """Group orders into picker tours under a cart capacity.

    Parameters
    ----------
    layout
        The warehouse.
    orders_picks
        One pick list per order: ``(k, 2)`` array-like of (aisle, cell).
    sizes
        ``(n,)`` size of each order against the capacity (items or volume);
        default: its number of picks. ``units`` is an alias.
    capacity
        Cart capacity in the unit of ``sizes`` (> 0).
    method
        ``"fcfs"``, ``"seed"``, ``"savings"`` or ``"local-search"``.
    routing
        Routing method used to evaluate batches (a key of ``ROUTING_METHODS``).
    time_limit_s
        Time budget of ``"local-search"`` (seconds).
    rng
        ``numpy.random.Generator`` (or seed) for the local-search perturbations.
    max_rounds
        Perturbation rounds of ``"local-search"`` (it also stops at the time limit).
    neighbours
        Granular savings (``"savings"`` and the start of ``"local-search"``):
        join each order to its ``neighbours`` nearest orders only; ``None``
        (default) considers every pair (exact Clarke & Wright).

    Returns
    -------
    BatchResult
        Batches (order indices, ascending; batches in order of their smallest
        order), their route lengths and the total travel.

    Raises
    ------
    OmsimError
        Unknown method or routing, a non-positive capacity, negative or
        mismatched sizes, ``neighbours`` < 1, or a pick outside the layout.
    """
    if method not in BATCHING_METHODS:
        raise OmsimError(f"batching method {method!r} is unknown; choose one of: {', '.join(BATCHING_METHODS)}")
    _routing._method(routing)
    neighbours = _check_neighbours(neighbours)
    picks = [as_picks(layout, p, name=f"orders_picks[{i}]") for i, p in enumerate(orders_picks)]
    n = len(picks)
    if sizes is None:
        sizes = units
    sizes = (np.array([p.shape[0] for p in picks], dtype=np.float64) if sizes is None
             else np.asarray(sizes, dtype=np.float64).reshape(-1))
    if sizes.size != n:
        raise OmsimError(f"sizes: expected {n} values (one per order), got {sizes.size}")
    if np.any(~np.isfinite(sizes)) or np.any(sizes < 0):
        raise OmsimError("sizes: every order size must be a finite number >= 0")
    if capacity is None or not np.isfinite(float(capacity)) or float(capacity) <= 0:
        raise OmsimError(f"capacity: must be a positive number, got {capacity!r}")
    offsets = np.zeros(n + 1, dtype=np.int64)
    if n:
        np.cumsum([p.shape[0] for p in picks], out=offsets[1:])
    flat = np.ascontiguousarray(np.concatenate(picks), dtype=np.int64) if n else np.zeros((0, 2), np.int64)
    return batch_orders_flat(layout, flat, offsets, sizes, float(capacity), method, routing,
                             time_limit_s=time_limit_s, rng=rng, max_rounds=max_rounds, neighbours=neighbours)


def batch_orders_flat(layout: Layout, picks: np.ndarray, offsets: np.ndarray, sizes: np.ndarray, capacity: float,
                      method: str = "savings", routing: str = "optimal", *, time_limit_s: float = 1.0, rng=None,
                      max_rounds: int = 100, neighbours: int | None = None) -> BatchResult:
    """:func:`batch_orders` on flat data, for callers whose inputs are already validated.

    Parameters
    ----------
    layout
        The warehouse.
    picks
        ``(N, 2)`` C-contiguous int64 (aisle, cell) of all orders, inside the layout.
    offsets
        ``(n + 1,)`` int64 CSR offsets: order ``o`` has ``picks[offsets[o]:offsets[o + 1]]``.
    sizes
        ``(n,)`` finite sizes >= 0.
    capacity
        Cart capacity (> 0).
    method, routing, time_limit_s, rng, max_rounds, neighbours
        As for :func:`batch_orders` (valid values).

    Returns
    -------
    BatchResult
    """
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    sizes = np.ascontiguousarray(sizes, dtype=np.float64)
    n = offsets.size - 1
    if method == "local-search" and not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)  # only local search draws (a fresh Generator costs ~30 us)
    info: dict = {}
    lengths = None
    kernel_routes = 0
    if method == "savings" and n and _kernel_applies(layout, routing):
        batches, lengths, kernel_routes = _savings_kernel(layout, picks, offsets, sizes, capacity, neighbours)
        info.update(routing_calls=1, routes_evaluated=kernel_routes)
        return BatchResult(batches, lengths, float(lengths.sum()), method, routing, info)
    ev = _Evaluator(layout, None, routing, flat=picks, offsets=offsets)
    if n == 0:
        batches: list[list[int]] = []
    elif method == "fcfs":
        batches = _fcfs(sizes, capacity)
    elif method == "seed":
        batches = _seed(ev, sizes, capacity)
    else:
        if _kernel_applies(layout, routing):
            batches, lengths, kernel_routes = _savings_kernel(layout, picks, offsets, sizes, capacity, neighbours)
        else:
            batches = _savings(ev, sizes, capacity, _neighbour_graph(layout, picks, offsets, neighbours))
        if method == "local-search":
            start_total = float(lengths.sum()) if lengths is not None else float(ev.lengths(batches).sum())
            batches, rounds = _local_search(ev, batches, sizes, capacity, time_limit_s, max_rounds, rng)
            info.update(start_total_m=start_total, rounds=rounds)
            lengths = None
    if lengths is None:
        batches = [sorted(b) for b in batches]
        lengths = ev.lengths(batches)
    info.update(routing_calls=ev.calls + (1 if kernel_routes else 0), routes_evaluated=ev.routes + kernel_routes)
    return BatchResult(batches, lengths, float(lengths.sum()), method, routing, info)
