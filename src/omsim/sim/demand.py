"""Demand: order arrivals, lines, ship-to regions, service levels, payment.

Everything is generated vectorised, one day at a time, before the event loop
runs, from its own named streams (``arrivals``, ``order_lines``,
``customers``, ``payments``). What a scenario variant changes downstream
(pickers, policies, stock) therefore never shifts the demand it sees: two
variants run with one seed get the same orders, line for line (common random
numbers).

Arrivals are a non-homogeneous Poisson process with a rate that is piecewise
constant per hour: ``orders_per_day`` x the normalised weekday factor x the
normalised month-of-year factor x the trend x the hour-of-day share (of that
weekday's profile) x any promotion multiplier, and zero on closed weekdays and
dates. Per hour the count is Poisson
and, given the count, the times are sorted uniforms in the hour (the
order-statistics property of the Poisson process), which is exact for a
piecewise-constant rate.

Orders are held as columns (NumPy arrays) with their lines in CSR form
(``line_ptr``), never as one Python object per order.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

from omsim.catalogue import popularity as _popularity
from omsim.ranges import spans
from omsim.rng import Streams
from omsim.scenario import SERVICE_LEVELS
from omsim.scenario_demand import WEEKDAYS

#: Service levels in code order (the code is the index): the scenario's one list.
LEVELS: tuple[str, ...] = SERVICE_LEVELS


@dataclass
class DemandArrays:
    """Generated orders as columns; order ``i``'s lines are ``line_ptr[i]:line_ptr[i + 1]``.

    Attributes
    ----------
    created_h
        (n,) float64 order times, non-decreasing.
    region, level, channel
        (n,) int codes (``LEVELS`` for level; ``channels`` names the channel codes).
    line_ptr
        (n + 1,) int64 offsets into the line arrays.
    line_sku, line_qty
        (L,) int64 SKU index and units per line; SKUs are distinct within an order.
    paid_h
        (n,) float64 time payment was authorised (after retries), NaN when it failed.
    payment_attempts
        (n,) int8 authorisation attempts made (1 + retries used).
    channels
        Channel names in code order.
    order_ids
        (n,) the history's order ids when the orders are a replay (``demand.history``), else None.
    customer
        (n,) int64 customer number (0, 1, ... in order of first order), -1 for a guest order;
        None when the scenario has no ``demand.customers``.
    """

    created_h: np.ndarray
    region: np.ndarray
    level: np.ndarray
    channel: np.ndarray
    line_ptr: np.ndarray
    line_sku: np.ndarray
    line_qty: np.ndarray
    paid_h: np.ndarray
    payment_attempts: np.ndarray
    channels: tuple[str, ...]
    order_ids: np.ndarray | None = None
    customer: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of orders."""
        return int(self.created_h.shape[0])

    def units(self) -> np.ndarray:
        """(n,) units per order."""
        return np.add.reduceat(self.line_qty, self.line_ptr[:-1]) if self.n else np.zeros(0, np.int64)


def hourly_rates(scenario, days: int) -> np.ndarray:
    """Expected orders in each hour of the horizon, shape (days * 24,).

    The weekday profile is normalised to mean 1, the month profile to mean 1
    and each hour profile to sum 1, so without promotions, trend and closed days
    a day carries ``orders_per_day`` x its weekday factor x its month factor.
    """
    d = scenario.demand
    hp = np.asarray(d.hour_profile, dtype=np.float64)
    hp = hp / hp.sum()
    wp = np.asarray(d.weekday_profile, dtype=np.float64)
    wp = wp / wp.mean()
    start = scenario.horizon.start
    dow = (start.weekday() + np.arange(days)) % 7
    day_factor = wp[dow]
    if d.month_profile is not None or d.closed_dates:
        dates = [start + _dt.timedelta(days=k) for k in range(days)]
    if d.month_profile is not None:
        mp = np.asarray(d.month_profile, dtype=np.float64)
        day_factor = day_factor * (mp / mp.mean())[[x.month - 1 for x in dates]]
    if d.trend_per_year:
        day_factor = day_factor * (1.0 + d.trend_per_year) ** (np.arange(days) / 365.25)
    closed = np.isin(dow, [WEEKDAYS.index(w) for w in d.closed_weekdays])
    if d.closed_dates:
        shut = set(d.closed_dates)
        closed |= np.array([x.strftime("%m-%d") in shut for x in dates])
    day_factor = np.where(closed, 0.0, day_factor)
    for promo in d.promotions:
        lo, hi = promo.start_day, min(promo.start_day + promo.days, days)
        if lo < hi:
            day_factor[lo:hi] *= promo.multiplier
    hours = np.broadcast_to(hp, (days, 24))
    if d.hour_profile_by_weekday:
        hours = hours.copy()
        for name, prof in d.hour_profile_by_weekday.items():
            p = np.asarray(prof, dtype=np.float64)
            hours[dow == WEEKDAYS.index(name)] = p / p.sum()
    return (d.orders_per_day * day_factor[:, None] * hours).ravel()


def _counts(mean: float, mx: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """1 + Poisson(mean - 1), truncated at ``mx`` (the schema's CountDist)."""
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.minimum(1 + rng.poisson(mean - 1.0, size), mx).astype(np.int64)


def draw_count(dist, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` draws of a :class:`omsim.scenario.CountDist`: from its table when it has one."""
    if dist.table is None:
        return _counts(dist.mean, dist.max, size, rng)
    values = np.array([v for v, _ in dist.table], dtype=np.int64)
    cdf = _cdf([w for _, w in dist.table])
    pick = np.searchsorted(cdf, rng.random(size), side="right")
    return values[np.minimum(pick, values.size - 1)]


def _distinct_skus(owner: np.ndarray, ptr: np.ndarray, n_skus: int, cdf: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """Draw one SKU per line by popularity, redrawing repeats within an order.

    Lines are grouped by order (``ptr``: order i's lines are ``ptr[i]:ptr[i+1]``). A repeat is
    a line whose SKU an earlier line of its order has; repeats are redrawn together, in line
    order, until none is left. Each round looks only at the orders that had a repeat in the
    round before (the others cannot have one): the draws of :func:`_distinct_skus_reference`.
    """
    sku = np.searchsorted(cdf, rng.random(owner.size), side="right").astype(np.int64)
    np.minimum(sku, n_skus - 1, out=sku)
    cand = np.flatnonzero(np.diff(ptr) >= 2)            # orders that may hold a repeat
    for _ in range(1000):
        if cand.size == 0:
            return sku
        _, pos = spans(ptr[cand], ptr[cand + 1])
        key = owner[pos] * n_skus + sku[pos]
        order = np.argsort(key, kind="stable")
        ks = key[order]
        dup = np.sort(pos[order[1:][ks[1:] == ks[:-1]]])
        if dup.size == 0:
            return sku
        new = np.searchsorted(cdf, rng.random(dup.size), side="right")
        sku[dup] = np.minimum(new, n_skus - 1)
        cand = np.unique(owner[dup])
    # Popularity so skewed that redraws do not converge: fall back to a uniform pick.
    raise RuntimeError("could not draw distinct SKUs per order")  # pragma: no cover


def _distinct_skus_reference(owner: np.ndarray, n_skus: int, cdf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:func:`_distinct_skus` looking at every line each round."""
    sku = np.searchsorted(cdf, rng.random(owner.size), side="right").astype(np.int64)
    np.minimum(sku, n_skus - 1, out=sku)
    for _ in range(1000):
        key = owner * n_skus + sku
        order = np.argsort(key, kind="stable")
        ks = key[order]
        dup = np.zeros(owner.size, dtype=bool)
        dup[order[1:][ks[1:] == ks[:-1]]] = True
        k = int(dup.sum())
        if k == 0:
            return sku
        new = np.searchsorted(cdf, rng.random(k), side="right")
        sku[dup] = np.minimum(new, n_skus - 1)
    # Popularity so skewed that redraws do not converge: fall back to a uniform pick.
    raise RuntimeError("could not draw distinct SKUs per order")  # pragma: no cover


def generate_day_orders(scenario, streams: Streams, day: int, rates: np.ndarray, pop_cdf: np.ndarray,
                        region_cdf: np.ndarray, level_cdf: np.ndarray, channel_cdf: np.ndarray) -> dict:
    """One day's orders (inputs already validated); columns as in :class:`DemandArrays`."""
    d = scenario.demand
    rng_a, rng_l, rng_c, rng_p = (streams["arrivals"], streams["order_lines"], streams["customers"],
                                  streams["payments"])
    lam = rates[day * 24:(day + 1) * 24]
    per_hour = rng_a.poisson(lam)
    n = int(per_hour.sum())
    hour = np.repeat(np.arange(24, dtype=np.float64), per_hour)
    # Sorted uniforms within each hour: hour index dominates, so sort once.
    created = np.sort(day * 24.0 + hour + rng_a.random(n))

    n_skus = pop_cdf.size
    lines = np.minimum(draw_count(d.lines_per_order, n, rng_l), n_skus)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lines, out=ptr[1:])
    owner = np.repeat(np.arange(n, dtype=np.int64), lines)
    sku = _distinct_skus(owner, ptr, n_skus, pop_cdf, rng_l)
    qty = draw_count(d.units_per_line, owner.size, rng_l)

    u = rng_c.random((n, 3))
    region = np.minimum(np.searchsorted(region_cdf, u[:, 0], side="right"), region_cdf.size - 1)
    level = np.minimum(np.searchsorted(level_cdf, u[:, 1], side="right"), level_cdf.size - 1)
    channel = np.minimum(np.searchsorted(channel_cdf, u[:, 2], side="right"), channel_cdf.size - 1)

    paid, attempts = payments(d.payment, created, rng_p)
    return dict(created_h=created, region=region.astype(np.int32), level=level.astype(np.int8),
                channel=channel.astype(np.int8), lines=lines, line_sku=sku, line_qty=qty, paid_h=paid,
                payment_attempts=attempts)


def payments(pay, created: np.ndarray, rng_p: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(paid_h, attempts) per order: a first attempt, then up to ``retries`` retries, each after retry_delay_h."""
    n = created.size
    first_ok = rng_p.random(n) >= pay.failure_rate
    retry_ok = rng_p.random((n, max(pay.retries, 1))) < pay.retry_success
    attempts = np.ones(n, dtype=np.int8)
    ok = first_ok.copy()
    paid = np.where(first_ok, created, np.nan)
    for k in range(pay.retries):
        trying = ~ok
        succ = trying & retry_ok[:, k]
        attempts[trying] += 1
        paid[succ] = created[succ] + (k + 1) * pay.retry_delay_h
        ok |= succ
    return paid, attempts


def _cdf(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0
    return c


def generate_demand(scenario, streams: Streams, days: int) -> DemandArrays:
    """Generate every order of ``days`` days (inputs already validated).

    Parameters
    ----------
    scenario
        A validated :class:`omsim.scenario.Scenario`.
    streams
        The run's random streams; uses ``arrivals``, ``order_lines``,
        ``customers`` and ``payments`` only.
    days
        Horizon in days.

    Returns
    -------
    DemandArrays
        Orders sorted by creation time; ``order_id`` is the row number. A scenario
        with ``demand.history`` replays it instead (:mod:`omsim.sim.replay`).
    """
    d = scenario.demand
    if d.history is not None:
        from omsim.sim.replay import replay_demand
        return DemandArrays(**replay_demand(scenario, streams, days))
    rates = hourly_rates(scenario, days)
    cdfs, channels = _cdfs(scenario)
    parts = [generate_day_orders(scenario, streams, day, rates, *cdfs) for day in range(days)]
    cat = lambda key, dt: (np.concatenate([p[key] for p in parts]).astype(dt, copy=False)  # noqa: E731
                           if parts else np.zeros(0, dt))
    lines = cat("lines", np.int64)
    ptr = np.zeros(lines.size + 1, dtype=np.int64)
    np.cumsum(lines, out=ptr[1:])
    customer = (customer_ids(d.customers, lines.size, streams["repeat_customers"])
                if d.customers is not None else None)
    return DemandArrays(created_h=cat("created_h", np.float64), region=cat("region", np.int32),
                        level=cat("level", np.int8), channel=cat("channel", np.int8), line_ptr=ptr,
                        line_sku=cat("line_sku", np.int64), line_qty=cat("line_qty", np.int64),
                        paid_h=cat("paid_h", np.float64), payment_attempts=cat("payment_attempts", np.int8),
                        channels=channels, customer=customer)


def _cdfs(scenario) -> tuple[tuple[np.ndarray, ...], tuple[str, ...]]:
    """The popularity, region, level and channel CDFs of :func:`generate_day_orders`, and the channel names."""
    d = scenario.demand
    pop_cdf = _cdf(_popularity(scenario.catalogue.skus))
    region_cdf = _cdf([r.weight for r in d.regions])
    level_cdf = _cdf([d.service_mix.get(lv, 0.0) for lv in LEVELS])
    channels = tuple(d.channels)
    ch_w = [d.channels[c] for c in channels]
    channel_cdf = _cdf(ch_w) if sum(ch_w) > 0 else _cdf([1.0] * len(channels))
    return (pop_cdf, region_cdf, level_cdf, channel_cdf), channels


class DemandFeed:
    """The orders of :func:`generate_demand` made one day at a time, for a streamed run (bounded memory).

    The same draws from the same streams in the same order, so the same orders
    (the customers of ``demand.customers`` are not drawn: the simulator does not
    read them). The columns of :attr:`dem` are sized for the whole run at the
    start (the order count is the arrivals stream's draws replayed on a copy of
    it; lines are bounded by ``lines_per_order``'s maximum) and filled by
    :meth:`next_day`; their pages cost memory once written (:mod:`omsim.sim.release`).
    Not for a replay (``demand.history``): that is read whole.
    """

    def __init__(self, scenario, streams: Streams, days: int):
        import copy

        self.sc, self.streams, self.days = scenario, streams, int(days)
        self.rates = hourly_rates(scenario, self.days)
        self.cdfs, channels = _cdfs(scenario)
        rng = copy.deepcopy(streams["arrivals"])
        n = 0
        for day in range(self.days):      # generate_day_orders's draws from the arrivals stream
            k = int(rng.poisson(self.rates[day * 24:(day + 1) * 24]).sum())
            rng.random(k)
            n += k
        lpo = scenario.demand.lines_per_order
        most = lpo.max if lpo.table is None else max(v for v, _ in lpo.table)
        L = n * min(int(most), self.cdfs[0].size)
        self.dem = DemandArrays(created_h=np.zeros(n), region=np.zeros(n, np.int32), level=np.zeros(n, np.int8),
                                channel=np.zeros(n, np.int8), line_ptr=np.zeros(n + 1, np.int64),
                                line_sku=np.zeros(L, np.int64), line_qty=np.zeros(L, np.int64), paid_h=np.zeros(n),
                                payment_attempts=np.zeros(n, np.int8), channels=channels)
        #: Days made so far and the rows they fill.
        self.day = self.rows = self.lines = 0

    def next_day(self) -> tuple[int, int]:
        """Make the next day's orders into rows ``a:b`` of :attr:`dem`; returns ``(a, b)``."""
        p = generate_day_orders(self.sc, self.streams, self.day, self.rates, *self.cdfs)
        dem, a = self.dem, self.rows
        b = a + p["created_h"].size
        for key in ("created_h", "region", "level", "channel", "paid_h", "payment_attempts"):
            getattr(dem, key)[a:b] = p[key]
        l0 = self.lines
        l1 = l0 + p["line_sku"].size
        np.cumsum(p["lines"], out=dem.line_ptr[a + 1:b + 1])
        dem.line_ptr[a + 1:b + 1] += l0
        dem.line_sku[l0:l1] = p["line_sku"]
        dem.line_qty[l0:l1] = p["line_qty"]
        self.day, self.rows, self.lines = self.day + 1, b, l1
        return a, b


def customer_ids(cust, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) customer numbers of ``n`` orders in arrival order under :class:`omsim.scenario.Customers`.

    New customers are numbered 0, 1, ... in order of their first order; guests are -1.
    A preferential pick copies the customer of an earlier identified order; those
    copies are resolved by pointer jumping (each round halves the chains).
    """
    u = rng.random((n, 4))
    out = np.full(n, -1, dtype=np.int64)
    ident = np.flatnonzero(u[:, 0] >= cust.guest_share)
    m = ident.size
    if m == 0:
        return out
    new = u[ident, 1] >= cust.returning_share
    new[0] = True
    seen = np.cumsum(new) - new                          # customers known before each order
    new_id = np.where(new, seen, 0)
    pref = ~new & (u[ident, 2] < cust.preferential)
    flat = ~new & ~pref
    new_id[flat] = np.minimum((u[ident[flat], 3] * seen[flat]).astype(np.int64), seen[flat] - 1)
    k = np.arange(m)
    ptr = k.copy()
    ptr[pref] = np.minimum((u[ident[pref], 3] * k[pref]).astype(np.int64), k[pref] - 1)
    while True:
        nxt = ptr[ptr]
        if np.array_equal(nxt, ptr):
            break
        ptr = nxt
    out[ident] = new_id[ptr]
    return out
