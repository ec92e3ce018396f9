"""Runs of orders as columns: ``decide_commit_arrays`` and the loop that hands a run to the
compiled kernel, stepping out to the Python path where the kernel asks."""
from __future__ import annotations

import math

import numpy as np

from omsim._kernels import _decide
from omsim._kernels._decide import CTL_LOGGED, CTL_WHY
from omsim.errors import OmsimError
from omsim.orders import Decision, Order
from omsim.scenario import SERVICE_LEVELS
from .constants import _CANCEL, _F64, _I64, _LEVEL_RANK, _MAX_PICKUP_DAYS, _N_LEVELS, _POLICY_CODE, _STATUS_CODE
from .reasons import reason_code
from .store import DecisionArrays


def _ints(x, what):
    """A 1-d int64 C-contiguous array of x, or OmsimError (decide_commit_arrays' columns)."""
    if type(x) is np.ndarray and x.dtype == _I64 and x.ndim == 1 and x.flags.c_contiguous:
        return x
    a = np.asarray(x)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
        raise OmsimError(f"decide_commit_arrays: {what} must be a 1-d integer array")
    return a if a.dtype == np.int64 and a.flags.c_contiguous else np.ascontiguousarray(a, dtype=np.int64)


class _Run:
    """One call's run of orders: its (validated) columns and where its rows start in the engine's _Store."""

    __slots__ = ("store", "oids", "t", "region", "level", "ptr", "sku", "qty", "policy", "o0", "l0", "done",
                 "stopped")

    def __init__(self, engine, oid_keys: list, t, region, level, ptr, sku, qty, policy):
        store = engine._store
        n, M = len(oid_keys), ptr.item(len(oid_keys))
        kmax = engine.max_packages if engine.max_packages < engine.n_nodes else engine.n_nodes
        store.reserve(n, M, kmax if kmax > 1 else 1)
        self.store = store
        self.oids = oid_keys                  # order ids as the caller gave them (dict keys of engine._open)
        self.t, self.region, self.level = t, region, level
        self.ptr, self.sku, self.qty = ptr, sku, qty
        self.policy = policy
        o0, l0 = self.o0, self.l0 = store.O, store.L
        store.optr[o0] = l0                     # the kernel writes the rest of each order's row
        store.pkg_ptr[o0] = store.P
        store.pkg_line_ptr[store.P] = store.PL
        store.O, store.L = o0 + n, l0 + M       # taken back by close() to the orders decided
        store.busy = True                         # no compaction until close()
        self.done = 0                             # orders decided
        self.stopped = False                      # the run ended early (stop_on_partial or stop)

    def close(self) -> None:
        """Give back the rows of the orders not decided (a run stopped early)."""
        store = self.store
        store.busy = False
        o = self.o0 + self.done
        if o != store.O:
            store.O, store.L = o, store.optr.item(o)

    def write(self, i: int, d: Decision) -> None:
        """Record order i decided by the Python path (the columns the kernel writes for its orders too)."""
        s, row = self.store, self.o0 + i
        s.optr[row], s.optr[row + 1] = self.l0 + self.ptr.item(i), self.l0 + self.ptr.item(i + 1)
        s.oreg[row] = self.region.item(i)
        s.opol[row] = _POLICY_CODE.get(self.policy, 0)
        s.write(row, d, int(self.t.item(i) // 24))

    def decision(self, i: int) -> Decision:
        return self.store.decision(self.o0 + i, self.oids[i])

    def arrays(self, m: int, kern=None) -> DecisionArrays:
        """The first m orders as DecisionArrays (views of the store; the pointers rebased to 0); made by the
        kernel ``kern`` when given (its output columns must be the store's current ones)."""
        s = self.store
        if kern is not None:
            da = _new_arrays(DecisionArrays)
            da.__dict__ = kern.arrays(self.o0, m, self.l0, self.ptr.item(m))
            return da
        o0 = self.o0
        ptr = s.pkg_ptr
        P0, P1 = ptr.item(o0), ptr.item(o0 + m)
        lp = s.pkg_line_ptr
        PL0, PL1 = lp.item(P0), lp.item(P1)
        pp = ptr[o0:o0 + m + 1] - P0
        lp = lp[P0:P1 + 1] - PL0
        l0 = self.l0
        o1 = o0 + m
        da = _new_arrays(DecisionArrays)      # the fields set directly (what the dataclass __init__ does)
        da.__dict__ = {
            "n": m, "status": s.status[o0:o1], "promised_h": s.promised[o0:o1], "total": s.total[o0:o1],
            "pkg_ptr": pp, "unfilled": s.unfilled[l0:l0 + self.ptr.item(m)], "pkg_node": s.pkg_node[P0:P1],
            "pkg_service": s.pkg_service[P0:P1], "pkg_ship_by_h": s.pkg_ship_by[P0:P1],
            "pkg_promised_h": s.pkg_promised[P0:P1], "pkg_transit_h": s.pkg_transit[P0:P1], "pkg_kg": s.pkg_kg[P0:P1],
            "pkg_cost_package": s.pkg_c_package[P0:P1], "pkg_cost_weight": s.pkg_c_weight[P0:P1],
            "pkg_cost_distance": s.pkg_c_distance[P0:P1], "pkg_cost_handling": s.pkg_c_handling[P0:P1],
            "pkg_line_ptr": lp, "pkg_sku": s.pkg_sku[PL0:PL1], "pkg_qty": s.pkg_qty[PL0:PL1],
            "rem_status": s.rem[o0:o1], "unfilled_reason": s.why[l0:l0 + self.ptr.item(m)],
            "rem_reason": s.rem_why[l0:l0 + self.ptr.item(m)]}
        return da


_new_arrays = object.__new__


class Runs:
    """Part of :class:`~omsim.engine.DecisionEngine`: runs of orders as columns."""

    def decide_commit_arrays(self, order_ids, t_h, region, level, line_ptr, line_sku, line_qty, *,
                             stop_on_partial: bool = False, probe_remainder: bool = False) -> DecisionArrays:
        """Decide and commit a run of orders given as columns; :meth:`decide_commit_many` without objects.

        Exactly ``decide(o, t)`` then ``commit(d, t)`` for each order in turn
        with the engine's policy: the same decisions, the same state after.
        Columns keep no explanations (``explain=False``). With policy
        ``cheapest`` or ``batch`` the whole run is decided in a compiled loop
        over the engine's state (:mod:`omsim._kernels._decide`); the rare steps it does not cover (a
        ready time past the cached shift windows, the split-penalty re-solve,
        ...) go through the Python path for that order only. Other policies
        loop through the Python path.

        Parameters
        ----------
        order_ids
            (n,) int, distinct and not open.
        t_h
            (n,) float decision times (or one float for all).
        region
            (n,) int region index per order.
        level
            (n,) int service level code, index into ``omsim.scenario.SERVICE_LEVELS``.
        line_ptr
            (n+1,) int: the lines of order i are ``line_sku[line_ptr[i]:line_ptr[i+1]]`` (at least one).
        line_sku, line_qty
            int SKU index (distinct within an order) and units (>= 1) per line.
        stop_on_partial
            Stop after the first order whose status is ``partial`` (it is
            committed and included), so that the caller can act on it first.
        probe_remainder
            For every order decided ``partial``, right after it is committed
            and before the next order, decide its remainder — its lines with
            units left unfilled, for those units, same time, region, level
            and policy — as a dry run, exactly as ``decide(Order(...), t)``
            would against the state that order left (nothing committed), and
            report it in ``rem_status`` (-2: it would ship something; else
            the status of a decision that ships nothing, ``backorder``,
            ``hold`` or ``cancel``). The run goes on (unless
            ``stop_on_partial``). Remainders to be backordered are then
            registered with :meth:`register_backorders` (equivalent to
            committing those decisions right after their order: a decision
            that ships nothing changes no state a later decision reads).

        Returns
        -------
        DecisionArrays
            The first ``n`` orders' decisions (all unless stopped);
            ``rem_status`` is -1 everywhere unless ``probe_remainder``.

        Raises
        ------
        OmsimError
            Malformed input (nothing is committed then), or a decision the
            state refuses at commit (the orders before it stay committed, as
            with a loop of decide and commit).
        """
        oids, t, reg, lev, ptr, sku, qty = self._check_columns(order_ids, t_h, region, level, line_ptr, line_sku,
                                                                line_qty)
        keys = oids.tolist()
        policy = self.policy
        run = _Run(self, keys, t, reg, lev, ptr, sku, qty, policy)
        self._kbound["run"] = run       # the columns just bound are this run's (the same lines)
        try:
            n = len(keys)
            if n and self._kernel_covers(policy) and self._open.keys().isdisjoint(keys) \
                    and (n == 1 or len(set(keys)) == n):
                self._decide_run_compiled(run, stop_on_partial, None, probe_remainder)
            else:
                self._decide_run(run, stop_on_partial, probe=probe_remainder)
        finally:
            run.close()
        store = run.store
        return run.arrays(run.done, self._kern if self._kbound.get("out") == (id(store), store.gen) else None)

    _COLUMN_ERRORS = {1: "decision time must be finite", 2: "region is not a region index",
                      3: "unknown service level code (expected an index into SERVICE_LEVELS)",
                      4: "an order needs at least one line, within line_sku", 5: "SKU index out of range",
                      6: "every line needs a quantity >= 1", 7: "a SKU appears on two lines; merge them"}

    def _check_columns(self, order_ids, t_h, region, level, line_ptr, line_sku, line_qty):
        """Validate decide_commit_arrays' columns; int64/float64 contiguous arrays, line_ptr from 0.

        The check binds the columns to the kernel as well (Kernel.set_run), ready for the compiled loop.
        """
        ints = _ints
        k = self._kernel()
        self._kbound["run"] = None
        if type(order_ids) is np.ndarray and type(t_h) is np.ndarray:
            # Columns already as the kernel takes them (the simulator's): bind and check in one step
            # (the kernel checks dtypes, layout and lengths).
            try:
                i, code = k.bind_run(order_ids, t_h, region, level, line_ptr, line_sku, line_qty, self.n_regions,
                                     _N_LEVELS, self.n_skus)
            except (TypeError, ValueError, BufferError):
                code = 8    # another dtype or layout: converted below
            if code != 8:
                if code:
                    raise OmsimError(f"order {int(order_ids[i])}: {self._COLUMN_ERRORS[code]}")
                n = order_ids.size
                ptr, sku, qty = line_ptr, line_sku, line_qty
                if n == 0:
                    ptr = np.zeros(1, dtype=np.int64)
                else:
                    base = ptr.item(0)
                    if base:
                        end = ptr.item(n)
                        sku, qty, ptr = sku[base:end], qty[base:end], ptr - base
                return order_ids, t_h, region, level, ptr, sku, qty
        oids = ints(order_ids, "order_ids")
        n = oids.size
        if type(t_h) is np.ndarray and t_h.dtype == _F64 and t_h.ndim == 1 and t_h.flags.c_contiguous:
            t = t_h
        else:
            t = np.asarray(t_h, dtype=np.float64)
            t = np.full(n, float(t)) if t.ndim == 0 else np.ascontiguousarray(t.reshape(-1))
        reg, lev = ints(region, "region"), ints(level, "level")
        ptr = ints(line_ptr, "line_ptr")
        sku, qty = ints(line_sku, "line_sku"), ints(line_qty, "line_qty")
        if not (t.size == reg.size == lev.size == n) or ptr.size != n + 1 or sku.size != qty.size:
            raise OmsimError(f"decide_commit_arrays: {n} order ids, {t.size} times, {reg.size} regions, "
                             f"{lev.size} levels, {ptr.size} line pointers (expected n, n, n, n, n + 1) and "
                             f"{sku.size} SKUs for {qty.size} quantities")
        self._kbound["run"] = None
        i, code = k.set_run(t, reg, lev, ptr, sku, qty, self.n_regions, len(SERVICE_LEVELS),
                                         self.n_skus)
        if code:
            raise OmsimError(f"order {int(oids[i])}: {self._COLUMN_ERRORS[code]}")
        if n == 0:
            ptr = np.zeros(1, dtype=np.int64)
        elif ptr[0] != 0:
            base = int(ptr[0])
            sku, qty, ptr = sku[base:int(ptr[-1])], qty[base:int(ptr[-1])], ptr - base
        return oids, t, reg, lev, ptr, sku, qty

    def _decide_run(self, run: _Run, stop_on_partial: bool, stop=None, probe: bool = False) -> None:
        """Decide and commit the orders of ``run`` in turn (sets ``run.done``, the orders decided); with
        ``probe``, the remainder of each partial order is probed right after it (``_Store.rem``).

        The run's columns must be bound to the kernel (``_check_columns``) for the compiled loop.
        """
        n = len(run.oids)
        run.done = 0
        run.stopped = False
        if n == 0:
            return
        keys = run.oids
        opened = self._open
        fresh = opened.keys().isdisjoint(keys) and (n == 1 or len(set(keys)) == n)
        if self._kernel_covers(run.policy) and fresh:
            self._decide_run_compiled(run, stop_on_partial, stop, probe)
            return
        # The Python path (also where an id repeats or is open: commit then raises at the right order).
        for i in range(n):
            d = self._decide_one(run, i)
            run.done = i + 1
            if probe and d.status == "partial":
                self._probe_remainder(run, i)
            if (stop_on_partial and d.status == "partial") or (stop is not None and stop(d)):
                run.stopped = True
                break

    def _order_of(self, run: _Run, i: int) -> Order:
        a, b = int(run.ptr[i]), int(run.ptr[i + 1])
        return Order(run.oids[i], float(run.t[i]), int(run.region[i]), SERVICE_LEVELS[int(run.level[i])],
                     run.sku[a:b].copy(), run.qty[a:b].copy())

    def _probe_remainder(self, run: _Run, i: int) -> None:
        """The remainder probe of row i (committed, partial) through ``decide``: its rem_status."""
        store = run.store
        a, b = int(run.ptr[i]), int(run.ptr[i + 1])
        u = store.unfilled[run.l0 + a:run.l0 + b]
        short = u > 0
        t = float(run.t[i])
        o = Order(run.oids[i], t, int(run.region[i]), SERVICE_LEVELS[int(run.level[i])], run.sku[a:b][short].copy(),
                  u[short].copy())
        d = self.decide(o, t, run.policy)
        store.rem[run.o0 + i] = -2 if d.shipments else _STATUS_CODE[d.status]
        lines = np.flatnonzero(short) + run.l0 + a
        store.rem_why[lines] = [reason_code(r) for r in d.unfilled_reason]

    def _decide_one(self, run: _Run, i: int) -> Decision:
        """decide + commit of row i through the Python path: the decision taken, written as the run's row i
        and, unless it is a cancel, opened."""
        o = self._order_of(run, i)
        t = float(run.t[i])
        if run.policy in ("cheapest", "batch"):
            prep = self._prepare(o, t)
            d = self._decision(prep, self._cheapest(prep), run.policy, [], None)
        else:
            d = self.decide(o, t, run.policy)
        self._take(d, t)
        run.write(i, d)
        if d.shipments or d.status != "cancel":
            self._open[o.order_id] = run.o0 + i
        return d

    def _decide_run_compiled(self, run: _Run, stop_on_partial: bool, stop, probe: bool = False) -> None:
        """The compiled loop over ``run``, stepping out to Python where the kernel asks (see _decide).

        The kernel works on the inventory and backlog arrays in place, on the
        node counters of one day (the engine's own arrays when that day has
        them) and on the carrier bookings of a window of days (the book's own
        rows) with a mirror of its full service-days; the service-days it
        found full join ``_full`` after each call (O(pairs booked)).
        """
        n = len(run.oids)
        ctl = self._kctl
        store = self._store
        kb = self._kbound
        mode = (int(bool(stop_on_partial)), int(bool(probe)), _POLICY_CODE.get(run.policy, 0))
        stop_on_partial, probe = mode[0], mode[1]
        tt = run.t
        taken = self._orders_taken
        lo_day = hi_day = None
        min_days = 0
        i = 0
        first = True
        while i < n:
            # (Re)bind what a Python step may have replaced; identity checks when nothing did (and only the
            # output columns right after _check_columns bound everything else).
            if first and kb.get("run") is run:
                k = self._kern
                self._kernel_bind_out(k)
            else:
                k = self._kernel()
            k.set_mode(*mode)
            if kb.get("run") is not run:
                k.set_run(run.t, run.region, run.level, run.ptr, run.sku, run.qty, self.n_regions,
                          _N_LEVELS, self.n_skus)
                kb["run"] = run
            if lo_day is None:
                lo_day, hi_day = k.day_lo, k.day_hi        # of the run's columns, set by set_run
            day = int(tt.item(i) // 24.0)
            o = taken.get(day)
            if o is not None and kb.get("day") is o:
                new = False             # the day's counters are bound already
            else:
                new = self._kernel_day(day, ctl)
            cw = self._cw
            if cw is None or cw.ver != self._full_ver or lo_day < cw.day0 or min_days \
                    or hi_day + 4 * _MAX_PICKUP_DAYS + 8 > cw.day0 + cw.D or cw.book is not self.carriers:
                cw = self._carrier_window(lo_day, hi_day, min_days)
            first = False
            try:
                rc, j, store.P, store.PL, logged, used = k.step(ctl, i, n if stop is None else i + 1, store.P,
                                                                store.PL, cw.day0, run.o0, run.l0, day)
            except BaseException:
                if ctl[CTL_LOGGED]:
                    self._carrier_flush()
                if new:
                    self._kernel_store_day(new)
                raise
            if logged:
                self._carrier_flush()
            if new and used:
                self._kernel_store_day(new)
            i0 = i
            if j > i:
                self._register(run, i, j)
            i = run.done = j
            if stop is not None and j > i0 and stop(run.decision(j - 1)):
                run.stopped = True
                break
            if rc == _decide.DONE or rc == _decide.NEW_DAY:
                continue
            if rc == _decide.STOP_PARTIAL:
                run.stopped = True
                break
            if rc == _decide.PROBE:
                # order j - 1 is committed (partial); its remainder needs the Python path
                self._probe_remainder(run, j - 1)
                if stop_on_partial:
                    run.stopped = True
                    break
                continue
            if rc == _decide.STALE_WINDOWS:
                t = tt.item(i)
                for nn in range(self.n_nodes):
                    self._window(nn, t)
            elif int(ctl[CTL_WHY]) == _decide.WHY_PICKUP_WINDOW and cw.D < 1 << 16:
                # A pickup beyond the carrier window (a long backlog): widen it, go on in C.
                min_days = 4 * cw.D
            else:   # FALLBACK: this order through the Python path, against the state written back
                d = self._decide_one(run, i)
                i = run.done = i + 1
                if probe and d.status == "partial":
                    self._probe_remainder(run, i - 1)
                if (stop_on_partial and d.status == "partial") or (stop is not None and stop(d)):
                    run.stopped = True
                    break

    def _decide_commit_many_compiled(self, orders: list, times: list, policy: str, stop) -> list[Decision]:
        """decide_commit_many through the compiled loop: the orders as columns, Decisions built from them.

        The orders up to the first malformed one (or one with a non-integer
        id or a non-finite time) are decided; then the Python path decides
        that one, which raises as the reference loop would.
        """
        good = len(orders)
        for j, (o, t) in enumerate(zip(orders, times)):
            try:
                self._check_order(o)
            except OmsimError:
                good = j
                break
            if not isinstance(o.order_id, (int, np.integer)) or not math.isfinite(t):
                good = j
                break
        out: list[Decision] = []
        if good:
            head = orders[:good]
            lens = [len(o.skus) for o in head]
            ptr = np.zeros(good + 1, dtype=np.int64)
            np.cumsum(lens, out=ptr[1:])
            sku = np.concatenate([o.skus for o in head]).astype(np.int64, copy=False)
            qty = np.concatenate([o.qty for o in head]).astype(np.int64, copy=False)
            keys = [o.order_id for o in head]
            run = _Run(self, keys, np.array(times[:good], dtype=np.float64),
                       np.array([o.region for o in head], dtype=np.int64),
                       np.array([_LEVEL_RANK[o.level] for o in head], dtype=np.int64), ptr, sku, qty, policy)
            try:
                self._decide_run(run, False, stop)
            finally:
                run.close()
            out = [run.decision(i) for i in range(run.done)]
            if run.stopped:
                return out
        if good < len(orders):
            o, t = orders[good], times[good]
            d = self.decide(o, t, policy)       # raises: malformed order or time
            self.commit(d, t)
            out.append(d)
            rest = self.decide_commit_many(orders[good + 1:], times[good + 1:], policy, stop=stop) \
                if not (stop is not None and stop(d)) else []
            out.extend(rest)
        return out

    def _register(self, run: _Run, a: int, b: int) -> None:
        """Open orders a..b-1 of the run, decided by the kernel: ``_open[oid]`` = the order row (a cancel
        decision leaves no trace)."""
        o0 = run.o0
        if self.no_stock != "cancel":       # no decision of the kernel is a cancel
            self._open.update(zip(run.oids[a:b], range(o0 + a, o0 + b)))
            return
        store = run.store
        st = store.status[o0 + a:o0 + b].tolist()
        cnt = store.ocnt[o0 + a:o0 + b].tolist()
        keys = run.oids
        opened = self._open
        for j in range(b - a):
            if cnt[j] or st[j] != _CANCEL:
                opened[keys[a + j]] = o0 + a + j
