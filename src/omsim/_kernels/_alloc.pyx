"""Exact cheapest multi-line sourcing of one order (and of many, batched).

The problem, for one order of ``L`` lines over ``N`` nodes::

    min  sum_n P[n] * [node n ships >= 1 unit]
       + sum_{l,n} C[l, n] * x[l, n] + sum_l LOST[l] * (D[l] - sum_n x[l, n])
    s.t. 0 <= x[l, n] <= A[l, n] integer,  sum_n x[l, n] <= D[l],
         at most K nodes ship.

Why enumeration over node subsets is exact: once the set S of nodes allowed
to ship is fixed (and its package costs paid), lines no longer interact, and
each line is a fractional-knapsack-like fill with unit weights: take units
from the members of S in increasing unit cost while that cost is below the
line's lost cost. Paying P for a member of S that ships nothing only
over-estimates the cost of S, so (with P >= 0) the minimum over all S with
|S| <= K is the optimum.

Pruning (all keep exactness):

* only *eligible* nodes are candidates: those holding stock of some line with
  positive demand at a unit cost below that line's lost cost;
* bound: no superset of S can cost less than ``P(S) + LB`` with ``LB`` the line
  cost when every candidate may ship (line cost only falls as S grows);
* dominance: if a member j of S ships nothing under the greedy fill, j ships
  nothing in any superset either (nodes added later only take demand away), so
  S and all its supersets are beaten (or tied) by the same sets without j.

Tie-breaking (deterministic): within a line, equal unit costs fill the lowest
node index first. Single nodes are tried first (in index order), then all
subsets in lexicographic order of their sorted node indices; a subset
replaces the incumbent only if strictly cheaper. So an optimal single node
wins ties (the lowest index), otherwise the lexicographically first
non-dominated optimal subset does.

Inputs are already validated by :mod:`omsim.fulfilment.allocation` (shapes,
non-negative quantities, ``P >= 0``, finite costs, distinct SKUs per order in
the sequential entry point).
"""
from libc.stdlib cimport malloc, free
from libc.string cimport memset
from libc.stdint cimport int64_t


cdef struct Work:
    # problem (one order), borrowed pointers into the caller's arrays
    Py_ssize_t L
    Py_ssize_t N
    Py_ssize_t K
    const int64_t* dem      # (L,)
    const int64_t* avail    # (L, N) row stride N
    const double* pcost     # (N,)
    const double* ucost     # (L, N)
    const double* lost      # (L,)
    # scratch, sized for the largest order of the call
    Py_ssize_t* cand        # (N,) eligible nodes, ascending index
    Py_ssize_t ncand
    Py_ssize_t* lord        # (L, N) per line eligible nodes by (unit cost, index)
    Py_ssize_t* llen        # (L,)
    char* ins               # (N,) membership of the current subset
    int64_t* ship           # (N,) units shipped per node in the last evaluation
    Py_ssize_t* cur         # (N,) current subset (DFS stack)
    Py_ssize_t* best        # (N,) incumbent subset
    int64_t* rest           # (L,) out: units of each line the assignment leaves unfilled
    Py_ssize_t nbest
    double best_cost
    double lb_lines


cdef double _fill(Work* w, int64_t* out, double cost) noexcept nogil:
    """``cost`` plus the line cost (no package costs) of filling each line from the nodes in ``w.ins``,
    cheapest first (summed in this order: the incumbent's cost keeps its bits).

    Adds each node's units to ``w.ship`` (the caller zeroes it) and, unless ``out`` is NULL, writes
    them to ``out`` (L, N); each line's unfilled units go to ``w.rest``."""
    cdef Py_ssize_t l, t, n, N = w.N
    cdef int64_t r, q
    for l in range(w.L):
        r = w.dem[l]
        if r > 0:
            for t in range(w.llen[l]):
                n = w.lord[l * N + t]
                if w.ins[n]:
                    q = w.avail[l * N + n]
                    if q > r:
                        q = r
                    if out != NULL:
                        out[l * N + n] = q
                    cost += q * w.ucost[l * N + n]
                    w.ship[n] += q
                    r -= q
                    if r == 0:
                        break
            cost += r * w.lost[l]
        w.rest[l] = r
    return cost


cdef double _evaluate(Work* w, Py_ssize_t m, bint* unused) noexcept nogil:
    """Line cost (no package costs) of the greedy fill from the m nodes in w.cur; ``unused``: one of them
    ships nothing."""
    cdef Py_ssize_t t
    cdef double cost
    for t in range(m):
        w.ship[w.cur[t]] = 0
    cost = _fill(w, NULL, 0.0)
    unused[0] = False
    for t in range(m):
        if w.ship[w.cur[t]] == 0:
            unused[0] = True
    return cost


cdef void _dfs(Work* w, Py_ssize_t start, Py_ssize_t depth, double psum) noexcept nogil:
    """Extend the subset w.cur[:depth] by candidates from position ``start`` on."""
    cdef Py_ssize_t idx, n, t
    cdef double p, cost
    cdef bint unused
    for idx in range(start, w.ncand):
        n = w.cand[idx]
        p = psum + w.pcost[n]
        if p + w.lb_lines >= w.best_cost:
            continue  # this child and all its supersets are no better
        w.ins[n] = 1
        w.cur[depth] = n
        cost = p + _evaluate(w, depth + 1, &unused)
        if not unused:
            if cost < w.best_cost:
                w.best_cost = cost
                w.nbest = depth + 1
                for t in range(depth + 1):
                    w.best[t] = w.cur[t]
            if depth + 1 < w.K:
                _dfs(w, idx + 1, depth + 1, p)
        w.ins[n] = 0


cdef double _solve(Work* w, int64_t* out) noexcept nogil:
    """Solve the order in ``w``; write the assignment to ``out`` (L, N) and what it leaves of each line to
    ``w.rest`` (L,): dem[l] - sum(out[l, :]); return its cost."""
    cdef Py_ssize_t L = w.L, N = w.N
    cdef Py_ssize_t l, n, t, s, m
    cdef double c, all_lost = 0.0, cost
    cdef bint unused
    cdef int64_t r, q
    memset(w.ins, 0, N * sizeof(char))
    memset(out, 0, L * N * sizeof(int64_t))
    # eligible nodes per line, sorted by (unit cost, node index): insertion sort
    for l in range(L):
        w.llen[l] = 0
        if w.dem[l] <= 0:
            continue
        all_lost += w.dem[l] * w.lost[l]
        for n in range(N):
            c = w.ucost[l * N + n]
            if w.avail[l * N + n] > 0 and c < w.lost[l]:
                t = w.llen[l]
                while t > 0 and w.ucost[l * N + w.lord[l * N + t - 1]] > c:
                    w.lord[l * N + t] = w.lord[l * N + t - 1]
                    t -= 1
                w.lord[l * N + t] = n
                w.llen[l] += 1
                w.ins[n] = 1
    w.ncand = 0
    for n in range(N):
        if w.ins[n]:
            w.cand[w.ncand] = n
            w.ncand += 1
    # line cost with every candidate allowed: a lower bound for every subset
    for t in range(w.ncand):
        w.cur[t] = w.cand[t]
    w.lb_lines = _evaluate(w, w.ncand, &unused)
    memset(w.ins, 0, N * sizeof(char))
    w.best_cost = all_lost  # the empty subset: everything lost
    w.nbest = 0
    if w.K > 0 and w.ncand > 0:
        # single nodes first: a good incumbent early makes the bound prune most
        # multi-node subsets (the DFS below meets pairs before most singles)
        for t in range(w.ncand):
            n = w.cand[t]
            w.ins[n] = 1
            w.cur[0] = n
            cost = w.pcost[n] + _evaluate(w, 1, &unused)
            if not unused and cost < w.best_cost:
                w.best_cost = cost
                w.nbest = 1
                w.best[0] = n
            w.ins[n] = 0
        if w.K > 1:
            _dfs(w, 0, 0, 0.0)
    # rebuild the incumbent's assignment
    cost = 0.0
    for t in range(w.nbest):
        w.ins[w.best[t]] = 1
        cost += w.pcost[w.best[t]]
    cost = _fill(w, out, cost)
    for t in range(w.nbest):
        w.ins[w.best[t]] = 0
    return cost


cdef int _alloc_work(Work* w, Py_ssize_t maxL, Py_ssize_t N) noexcept nogil:
    """Allocate scratch for orders of up to maxL lines over N nodes; 0 on success."""
    cdef Py_ssize_t a = maxL if maxL > 0 else 1
    cdef Py_ssize_t b = N if N > 0 else 1
    w.cand = <Py_ssize_t*> malloc(b * sizeof(Py_ssize_t))
    w.lord = <Py_ssize_t*> malloc(a * b * sizeof(Py_ssize_t))
    w.llen = <Py_ssize_t*> malloc(a * sizeof(Py_ssize_t))
    w.ins = <char*> malloc(b * sizeof(char))
    w.ship = <int64_t*> malloc(b * sizeof(int64_t))
    w.cur = <Py_ssize_t*> malloc(b * sizeof(Py_ssize_t))
    w.best = <Py_ssize_t*> malloc(b * sizeof(Py_ssize_t))
    w.rest = <int64_t*> malloc(a * sizeof(int64_t))
    if (w.cand == NULL or w.lord == NULL or w.llen == NULL or w.ins == NULL
            or w.ship == NULL or w.cur == NULL or w.best == NULL or w.rest == NULL):
        return -1
    return 0


cdef void _free_work(Work* w) noexcept nogil:
    free(w.cand)
    free(w.lord)
    free(w.llen)
    free(w.ins)
    free(w.ship)
    free(w.cur)
    free(w.best)
    free(w.rest)


def cheapest_one(const int64_t[::1] demand,          # IN  (L,) units wanted per line
                 const int64_t[:, ::1] available,    # IN  (L, N) units available per line and node
                 const double[::1] package_cost,     # IN  (N,) paid once per shipping node, >= 0
                 const double[:, ::1] unit_cost,     # IN  (L, N) per unit shipped
                 const double[::1] lost_cost,        # IN  (L,) per unit left unfilled
                 Py_ssize_t max_packages,            # IN  at most this many shipping nodes
                 int64_t[:, ::1] assign):            # OUT (L, N) units shipped
    """Cheapest assignment of one order; returns its total cost."""
    cdef Work w
    cdef double total
    cdef Py_ssize_t L = demand.shape[0], N = package_cost.shape[0]
    cdef int rc
    if L == 0 or N == 0:
        total = 0.0
        for l in range(L):
            total += demand[l] * lost_cost[l]
        return total
    with nogil:
        rc = _alloc_work(&w, L, N)
        if rc == 0:
            w.L = L
            w.N = N
            w.K = max_packages if max_packages < N else N
            w.dem = &demand[0]
            w.avail = &available[0, 0]
            w.pcost = &package_cost[0]
            w.ucost = &unit_cost[0, 0]
            w.lost = &lost_cost[0]
            total = _solve(&w, &assign[0, 0])
        _free_work(&w)
    if rc != 0:
        raise MemoryError()
    return total


def cheapest_batch(const int64_t[::1] line_ptr,       # IN  (B+1,) order b owns lines line_ptr[b]:line_ptr[b+1]
                   const int64_t[::1] demand,         # IN  (M,) units wanted per line
                   const int64_t[:, ::1] available,   # IN  (M, N) units available per line and node
                   const double[:, ::1] package_cost, # IN  (B, N) per shipping node of each order, >= 0
                   const double[:, ::1] unit_cost,    # IN  (M, N) per unit shipped
                   const double[::1] lost_cost,       # IN  (M,) per unit left unfilled
                   Py_ssize_t max_packages,           # IN  at most this many shipping nodes per order
                   int64_t[:, ::1] assign,            # OUT (M, N) units shipped
                   double[::1] total):                # OUT (B,) cost of each order
    """Cheapest assignment of many independent orders (no shared stock), one nogil loop."""
    cdef Work w
    cdef Py_ssize_t B = line_ptr.shape[0] - 1, N = package_cost.shape[1]
    cdef Py_ssize_t b, l, lo, hi, maxL = 0
    cdef int rc
    for b in range(B):
        if line_ptr[b + 1] - line_ptr[b] > maxL:
            maxL = line_ptr[b + 1] - line_ptr[b]
    with nogil:
        rc = _alloc_work(&w, maxL, N)
        if rc == 0:
            w.N = N
            w.K = max_packages if max_packages < N else N
            for b in range(B):
                lo = line_ptr[b]
                hi = line_ptr[b + 1]
                w.L = hi - lo
                if w.L == 0 or N == 0:
                    total[b] = 0.0
                    for l in range(lo, hi):
                        total[b] += demand[l] * lost_cost[l]
                    continue
                w.dem = &demand[lo]
                w.avail = &available[lo, 0]
                w.pcost = &package_cost[b, 0]
                w.ucost = &unit_cost[lo, 0]
                w.lost = &lost_cost[lo]
                total[b] = _solve(&w, &assign[lo, 0])
        _free_work(&w)
    if rc != 0:
        raise MemoryError()


def cheapest_sequential(const int64_t[::1] line_ptr,       # IN    (B+1,) order b owns lines line_ptr[b]:line_ptr[b+1]
                        const int64_t[::1] line_sku,       # IN    (M,) SKU row of each line; distinct within an order
                        const int64_t[::1] demand,         # IN    (M,) units wanted per line
                        int64_t[:, ::1] stock,             # INOUT (S, N) stock per SKU and node, consumed in order
                        const double[:, ::1] package_cost, # IN    (B, N) per shipping node of each order, >= 0
                        const double[:, ::1] unit_cost,    # IN    (M, N) per unit shipped
                        const double[::1] lost_cost,       # IN    (M,) per unit left unfilled
                        Py_ssize_t max_packages,           # IN    at most this many shipping nodes per order
                        int64_t[:, ::1] assign,            # OUT   (M, N) units shipped
                        double[::1] total):                # OUT   (B,) cost of each order
    """Orders in arrival sequence against shared stock: each takes the cheapest assignment
    of what is left, then its units are removed from ``stock``."""
    cdef Work w
    cdef Py_ssize_t B = line_ptr.shape[0] - 1, N = package_cost.shape[1]
    cdef Py_ssize_t b, l, n, lo, hi, maxL = 0
    cdef int64_t* avail = NULL
    cdef int rc
    for b in range(B):
        if line_ptr[b + 1] - line_ptr[b] > maxL:
            maxL = line_ptr[b + 1] - line_ptr[b]
    with nogil:
        rc = _alloc_work(&w, maxL, N)
        avail = <int64_t*> malloc((maxL if maxL > 0 else 1) * (N if N > 0 else 1) * sizeof(int64_t))
        if avail == NULL:
            rc = -1
        if rc == 0:
            w.N = N
            w.K = max_packages if max_packages < N else N
            for b in range(B):
                lo = line_ptr[b]
                hi = line_ptr[b + 1]
                w.L = hi - lo
                if w.L == 0 or N == 0:
                    total[b] = 0.0
                    for l in range(lo, hi):
                        total[b] += demand[l] * lost_cost[l]
                    continue
                for l in range(lo, hi):
                    for n in range(N):
                        avail[(l - lo) * N + n] = stock[line_sku[l], n]
                w.dem = &demand[lo]
                w.avail = avail
                w.pcost = &package_cost[b, 0]
                w.ucost = &unit_cost[lo, 0]
                w.lost = &lost_cost[lo]
                total[b] = _solve(&w, &assign[lo, 0])
                for l in range(lo, hi):
                    for n in range(N):
                        stock[line_sku[l], n] -= assign[l, n]
        _free_work(&w)
        free(avail)
    if rc != 0:
        raise MemoryError()
