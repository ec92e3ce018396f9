"""The binding of the compiled decision loop (:mod:`omsim._kernels._decide`): the engine's
arrays bound to the Kernel object, the carrier-booking window it works on, and the dry run
``decide`` uses for one order."""
from __future__ import annotations

import math

import numpy as np

from omsim._kernels import _decide
from omsim._kernels._decide import CTL_DAY, CTL_DAY_USED, CTL_LOGGED, CTL_WHY
from omsim.fulfilment.promise import normalise_shifts
from omsim.orders import Decision, Order
from omsim.scenario import SERVICE_LEVELS
from .constants import _LEVEL_RANK, _MAX_PICKUP_DAYS, _NO_STOCK_STATUS, _STATUS_CODE


class _CarrierWindow:
    """The compiled loop's window of carrier bookings (rows shared with the CarrierBook) and full
    service-days for days day0..day0+D-1."""

    __slots__ = ("day0", "D", "K", "booked", "booked0", "full", "tmark", "tlog", "ver", "book")

    def __init__(self, day0: int, D: int, K: int):
        self.day0, self.D, self.K = day0, D, K
        self.booked = np.zeros((D, K), dtype=np.int64)      # packages booked: its rows ARE the CarrierBook's rows
        self.booked0 = np.zeros((D, K), dtype=np.int64)     # ... as last drained
        self.full = np.zeros((D, K), dtype=np.uint8)
        self.tmark = np.zeros((D, K), dtype=np.uint8)       # pair already logged in tlog
        self.tlog = np.zeros(D * K, dtype=np.int64)         # pairs booked since the last drain
        self.ver = None                                     # engine._full_ver it mirrors
        self.book = None                                    # the CarrierBook whose rows it shares


#: Attributes of the engine the kernel's static arrays and parameters (``_kernel_static``) and
#: ``_kernel_covers``' network check are made of. Replacing one (``engine.max_packages = 1``) drops those
#: caches (see :class:`_Static`), so the next call sees it.
STATIC_ATTRS = ("split_penalty", "lost_sale_penalty", "max_packages", "no_stock", "_any_per_unit", "_node_capped",
                "_unit_capped", "start_weekday", "sku_weight_kg", "labour_units_per_h", "handling_order",
                "handling_line", "_pkg_extra", "capacity_orders", "capacity_units", "services", "_shifts")


class _Static:
    """An engine attribute of STATIC_ATTRS: setting it drops the caches made of it (``_kstatic``,
    ``_kernel_network_ok``).

    Only ``__set__``: a read finds the value in the instance dict as for a plain attribute, so the
    compiled path's per-call check that the caches are fresh costs nothing (comparing the 17 attributes by
    identity on every call cost ~3 µs, a quarter of a one-order call).
    """

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __set__(self, obj, value):
        d = obj.__dict__
        d[self.name] = value
        d["_kstatic"] = None
        d["_kernel_network_ok"] = None


class KernelBinding:
    """Part of :class:`~omsim.engine.DecisionEngine`: what the compiled loop is bound to."""

    def _kernel_covers(self, policy: str) -> bool:
        """Whether the compiled loop can decide for this engine and policy without explanations (else the Python
        path)."""
        if policy not in ("cheapest", "batch") or self.carrier_selection == "fastest" \
                or self.no_stock not in _NO_STOCK_STATUS:
            return False
        ok = self._kernel_network_ok
        if ok is None:
            # Every-day pickups at valid hours and positive labour rates: what the kernel's calendar covers.
            st = self.services
            lab = self.labour_units_per_h
            ok = self._kernel_network_ok = bool(
                st.every_day and np.all((st.pickup_h >= 0.0) & (st.pickup_h < 24.0))
                and np.all(np.isfinite(lab) & (lab > 0)))
        return ok

    def _kernel_static(self):
        """The engine's constant arrays and parameters as the kernel takes them (cached: the same tuple
        while the engine's parameters are unchanged)."""
        got = self._kstatic          # dropped when an attribute it is made of is set (_Static)
        if got is not None:
            return got
        st = self.services
        N = self.n_nodes
        elig_ptr = np.cumsum([0] + [len(e) for e in st.eligible]).astype(np.int64)
        elig = np.concatenate(st.eligible).astype(np.int64)
        lp = self.max_packages
        params = dict(split_penalty=float(self.split_penalty), lost_sale_penalty=float(self.lost_sale_penalty),
                      any_per_unit=bool(self._any_per_unit), node_capped=bool(self._node_capped),
                      unit_capped=bool(self._unit_capped), k_max=int(min(lp, N)), max_packages=int(lp),
                      no_stock=_STATUS_CODE[_NO_STOCK_STATUS[self.no_stock]], start_weekday=int(self.start_weekday))
        # The shifts as promise.ready_time_h reads them (normalised: end after start, weekday sets).
        norm = [normalise_shifts(sh) for sh in self._shifts]
        sh_ptr = np.cumsum([0] + [len(x) for x in norm]).astype(np.int64)
        sh_start = np.array([a for x in norm for a, _, _ in x] + [0.0])
        sh_end = np.array([b for x in norm for _, b, _ in x] + [0.0])
        sh_days = np.array([sum(1 << d for d in wds) for x in norm for _, _, wds in x] + [0], dtype=np.int64)
        c64 = np.ascontiguousarray
        static = (c64(self.sku_weight_kg, dtype=np.float64), c64(st.fixed), c64(st.dist), c64(st.transit_h),
                  c64(st.per_kg, dtype=np.float64), c64(st.per_unit, dtype=np.float64), c64(st.pickup_h),
                  c64(st.capacity, dtype=np.float64), elig_ptr, elig, c64(self.labour_units_per_h, dtype=np.float64),
                  c64(self.handling_order), c64(self.handling_line), c64(self._pkg_extra),
                  c64(self.capacity_orders, dtype=np.int64), c64(self.capacity_units, dtype=np.int64), params,
                  sh_ptr, sh_start, sh_end, sh_days)
        self._kstatic = static
        return static

    def _kernel_windows(self):
        """Every node's cached shift windows packed as the kernel takes them (cached while unchanged)."""
        got = getattr(self, "_kwin", None)
        if got is not None and got[0] == self._win_ver:
            return got[1]
        wins = self._windows
        lo = np.array([w[0] if w is not None else np.inf for w in wins])
        hi = np.array([w[1] - 168.0 if w is not None else -np.inf for w in wins])
        sizes = [len(w[2]) if w is not None else 0 for w in wins]
        ptr = np.cumsum([0] + sizes).astype(np.int64)
        ws = np.array([a for w in wins if w is not None for a in w[2]] + [0.0])
        we = np.array([b for w in wins if w is not None for b in w[3]] + [0.0])
        packed = (lo, hi, ptr, ws, we)
        self._kwin = (self._win_ver, packed)
        return packed

    def _kernel(self):
        """The compiled loop's Kernel with the engine's arrays bound (rebound where one was replaced).

        Bindings are checked by identity (or version), so a call costs a few comparisons; the carrier window
        and the day's node counters are bound by _carrier_window and _kernel_day.
        """
        k = self._kern
        kb = self._kbound
        if k is None:
            k = self._kern = _decide.Kernel()
        static = self._kernel_static()
        if kb.get("static") is not static:
            k.set_static(*static)
            kb["static"] = static
        inv = self.inventory
        stock = kb.get("stock")
        if stock is None or stock[0] is not inv.on_hand or stock[1] is not inv.reserved \
                or stock[2] is not inv.safety or stock[3] is not self.node_backlog_units:
            stock = kb["stock"] = (inv.on_hand, inv.reserved, inv.safety, self.node_backlog_units)
            k.set_stock(*stock)
        self._kernel_bind_out(k)
        win = self._kernel_windows()
        if kb.get("win") is not win:
            k.set_windows(*win)
            kb["win"] = win
        return k

    def _kernel_bind_out(self, k) -> None:
        """Bind the store's output columns to kernel ``k`` unless bound already (a compaction or growth
        replaces them: ``store.gen``)."""
        store = self._store
        key = (id(store), store.gen)
        if self._kbound.get("out") != key:
            cols = store.out_columns()
            k.set_out(*cols)
            k.set_out_arrays(cols)
            self._kbound["out"] = key

    def _kernel_day(self, day: int, ctl: np.ndarray) -> bool:
        """Bind the node counters of ``day`` (ctl[CTL_DAY]); True when the day has none yet (zero scratch arrays,
        stored by _kernel_store_day once used)."""
        o = self._orders_taken.get(day)
        new = o is None
        if new:
            sc = self._kscratch
            if sc is None:
                sc = self._kscratch = (np.zeros(self.n_nodes, dtype=np.int64), np.zeros(self.n_nodes, dtype=np.int64))
            o, u = sc
        else:
            u = self._units_taken[day]
        kb = self._kbound
        if kb.get("day") is not o or kb.get("uday") is not u:
            self._kern.set_day(o, u)
            kb["day"], kb["uday"] = o, u
        ctl[CTL_DAY], ctl[CTL_DAY_USED] = day, 0
        return new

    def _kernel_store_day(self, new: bool) -> None:
        """After a kernel call: a new day's counters, once used, become the engine's (then the prune)."""
        ctl = self._kctl
        if new and ctl[CTL_DAY_USED]:
            day = int(ctl[CTL_DAY])
            self._orders_taken[day], self._units_taken[day] = self._kscratch
            self._kscratch = None
            self._prune(day)

    def _carrier_window(self, first_day: int, last_day: int, min_days: int = 0):
        """The window of carrier bookings and full service-days of days first_day.. on, bound to the kernel.

        Its booking rows are the CarrierBook's own rows for those days (the book's dict points at them), so
        what the kernel books is booked, and what ``book``/``unbook`` change the kernel sees; the full
        service-days are a mirror of ``_full``, refreshed when ``_full`` changed behind it. Rebuilt when the
        days fall outside it (or the book was replaced).
        """
        cw = self._cw
        book = self.carriers
        span = last_day - first_day + 4 * _MAX_PICKUP_DAYS + 8
        if cw is not None and cw.book is book and first_day >= cw.day0 \
                and first_day + span <= cw.day0 + cw.D and cw.D >= min_days:
            if cw.ver != self._full_ver:
                self._carrier_full(cw)
            return cw
        D = max(64, span, min_days)
        K = len(self.services.carrier)
        cw = self._cw = _CarrierWindow(first_day, D, K)
        booked_all = book._booked
        rows = cw.booked
        for d in range(D):
            day = first_day + d
            row = booked_all.get(day)
            if row is not None:
                rows[d] = row
            booked_all[day] = rows[d]       # from now on the book's row of that day is the window's
        cw.book = book
        self._carrier_full(cw)
        cw.booked0[:] = rows
        self._kern.set_carrier(cw.booked, cw.full, cw.tmark, cw.tlog, cw.booked0)
        self._kctl[CTL_LOGGED] = 0
        return cw

    def _carrier_full(self, cw: _CarrierWindow) -> None:
        """The window's full service-days from ``_full``."""
        cw.full[:] = 0
        if self._full:
            dk = np.array(list(self._full), dtype=np.int64)
            dk = dk[(dk[:, 0] >= cw.day0) & (dk[:, 0] < cw.day0 + cw.D)]
            cw.full[dk[:, 0] - cw.day0, dk[:, 1]] = 1
        cw.ver = self._full_ver

    def _carrier_flush(self) -> None:
        """After a kernel call that booked: the service-days it found full join ``_full``, O(pairs booked).
        (The bookings themselves are in the book already: the window shares its rows.)"""
        if not self._kctl[CTL_LOGGED]:
            return
        cw = self._cw
        pairs = self._kern.drain(self._kctl)
        day0 = cw.day0
        full = self._full
        for d, k, c, f in pairs:
            if f:
                full.add((day0 + d, k))     # the window has it: _full_ver unchanged
        self.carriers.version += 1

    def _decide_compiled(self, order: Order, t_h: float, policy: str, basis: bool = False) -> Decision | None:
        """decide() of one order by the compiled kernel without committing (a dry run of the loop of
        decide_commit_arrays): the same Decision as the Python path (with ``basis``, the same basis), or None
        where the kernel hands the order to Python (the caller then takes the Python path)."""
        skus, qty, _, _ = self._check_order(order)      # raises as the Python path does
        t = float(t_h)
        if not math.isfinite(t):
            return None
        L = skus.size
        store = self._store
        store.reserve(1, L, max(1, min(self.max_packages, self.n_nodes)))
        k = self._kernel()
        kb = self._kbound
        cols = self._dry_cols
        if cols is None or cols[4].size < L:
            size = max(8, 2 * L)
            cols = self._dry_cols = (np.zeros(1), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64),
                                     np.zeros(2, dtype=np.int64), np.zeros(size, dtype=np.int64),
                                     np.zeros(size, dtype=np.int64))
        tt, rr, vv, pp, ss, qq = cols
        tt[0], rr[0], vv[0], pp[1] = t, order.region, _LEVEL_RANK[order.level], L
        ss[:L] = skus
        qq[:L] = qty
        kb["run"] = None               # a run in progress binds its columns again
        i, code = k.set_run(tt, rr, vv, pp, ss, qq, self.n_regions, len(SERVICE_LEVELS), self.n_skus)
        if code:
            return None
        o0, l0 = store.O, store.L      # the free rows after the cursor: written, not taken
        store.optr[o0], store.optr[o0 + 1] = l0, l0 + L
        ctl = self._kctl_dry
        day = int(t // 24.0)
        min_days = 0
        N = self.n_nodes
        b = (np.empty(N, dtype=np.int64), np.empty(N, dtype=np.uint8), np.empty(L * N, dtype=np.int64)) \
            if basis else ()
        for _ in range(4):
            k = self._kernel()
            self._kernel_day(day, ctl)
            cw = self._carrier_window(day, day, min_days)
            k.set_basis(*b)
            try:
                rc = k.run(ctl, 0, 1, store.P, store.PL, cw.day0, o0, l0, 1)
            finally:
                k.set_basis()
            if rc == _decide.DONE or rc == _decide.STOP_PARTIAL:
                d = store.build(o0, order.order_id, int(order.region), policy, l0, l0 + L)
                if basis:
                    d.basis = {"t_h": t, "svc": b[0], "closed": b[1].view(bool), "avail": b[2].reshape(L, N),
                               "shadow": None}
                return d
            if rc == _decide.STALE_WINDOWS:
                for nn in range(self.n_nodes):
                    self._window(nn, t)
            elif rc == _decide.FALLBACK and int(ctl[CTL_WHY]) == _decide.WHY_PICKUP_WINDOW and cw.D < 1 << 16:
                min_days = 4 * cw.D
            else:
                return None
        return None


for _name in STATIC_ATTRS:
    setattr(KernelBinding, _name, _Static(_name))
del _name
