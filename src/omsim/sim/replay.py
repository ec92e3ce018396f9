"""Replay: the arrivals of a run taken from a real order history (``demand.history``).

When a scenario names a history, the simulator's orders are the history's
orders, exactly: the same lines (an order's lines with the same SKU are
merged, units summed), the same quantities, in the history's order of
arrival, each at its own timestamp. The generator's fields
(``orders_per_day``, the profiles, ``lines_per_order``, ...) are not used
for arrivals.

Time. Timestamps are read on the scenario's clock (``horizon.start`` and
``horizon.timezone``, see :mod:`omsim.clock`): converted to its zone and
taken as wall-clock hours since midnight of the start date. When the
horizon overlaps the history (some order falls in
``[start, start + days)``) the orders in the horizon are replayed at their
own times. When it does not, the history is shifted by whole days so that
the first day of the history with the start date's weekday becomes day 0
(a Monday stays a Monday, so closed days and weekly patterns line up), and
the orders from then on that fit in the horizon are replayed.

Ship-to. A ``region`` column must name the scenario's demand regions;
``lat, lon`` go to the nearest region; a ``country`` ships to one of the
regions whose ``country`` matches it (case-insensitive), drawn by their
``weight`` (each order with probability weight / sum of the weights of that
country's regions), and, for a country no region names, to one of all the
regions by weight. With none of these, regions are drawn by weight as the
generator does. ``service_level`` comes from the file when it has one (it
must be one of ``standard``, ``express``, ``next_day``), else from
``service_mix``; channels and payment follow the scenario. The draws use the
``customers`` and ``payments`` streams, so a seed gives the same replay.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from omsim.clock import Clock
from omsim.errors import OmsimError


def replay_window(scenario, days: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The history's kept lines that fall in the horizon and their engine hours.

    Returns the lines (in arrival order) and ``created_h`` per line, after
    the weekday-aligned shift described in the module docstring.
    """
    lines = scenario.demand._history.lines
    h = replay_hours(scenario, days)
    keep = (h >= 0) & (h < 24.0 * days)
    return lines[keep], h[keep]


def replay_hours(scenario, days: int, created_at: pd.Series | None = None) -> np.ndarray:
    """Engine hours of timestamps ``created_at`` (default: the kept lines') on the replay's clock, with the
    history's shift (see the module docstring): the same for its cancellations as for its orders."""
    lines = scenario.demand._history.lines
    clock = Clock.from_scenario(scenario)
    hour = pd.Timedelta(hours=1)

    def local(t: pd.Series) -> pd.Series:
        return t.dt.tz_convert(clock.tz.key).dt.tz_localize(None)

    kept = local(lines["created_at"])
    h = ((kept - pd.Timestamp(clock._origin)) / hour).to_numpy(np.float64)
    origin = pd.Timestamp(clock._origin)
    if not ((h >= 0) & (h < 24.0 * days)).any() and len(h):
        first = kept.min().normalize()
        lag = (clock.start.weekday() - first.weekday()) % 7      # first day with the start's weekday
        origin = first + pd.Timedelta(days=lag)
        if created_at is None:
            return ((kept - origin) / hour).to_numpy(np.float64)
    if created_at is None:
        return h
    return ((local(created_at) - origin) / hour).to_numpy(np.float64)


def _regions_of(scenario, sel: pd.DataFrame, first: np.ndarray, u: np.ndarray, path: str) -> np.ndarray:
    """Region code per order from the history's ship-to columns (see the module docstring)."""
    regions = scenario.demand.regions
    w = np.array([r.weight for r in regions], dtype=np.float64)
    ids = [r.id for r in regions]

    def draw(cands: np.ndarray, uu: np.ndarray) -> np.ndarray:
        c = np.cumsum(w[cands] / w[cands].sum())
        return cands[np.minimum(np.searchsorted(c, uu, side="right"), cands.size - 1)]

    n = first.size
    out = draw(np.arange(len(regions)), u)
    if "region" in sel:
        col = sel["region"].to_numpy(dtype=object)[first]
        code = {r: i for i, r in enumerate(ids)}
        given = col != ""
        unknown = [r for r in col[given] if r not in code]
        if unknown:
            raise OmsimError(f"{path}: column region: {unknown[0]!r} is not a region of the scenario "
                             f"(known: {', '.join(ids)})", file=path)
        out[given] = [code[r] for r in col[given]]
        return out
    if "lat" in sel:
        from omsim.geo import distance_matrix_km
        lat = sel["lat"].to_numpy(np.float64)[first]
        lon = sel["lon"].to_numpy(np.float64)[first]
        ok = ~(np.isnan(lat) | np.isnan(lon))
        if ok.any():
            km = distance_matrix_km(np.column_stack([lat[ok], lon[ok]]), [[r.lat, r.lon] for r in regions])
            out[ok] = np.argmin(km, axis=1)
        return out
    if "country" in sel:
        country = sel["country"].str.casefold().to_numpy(dtype=object)[first]
        by_country: dict[str, list[int]] = {}
        for i, r in enumerate(regions):
            if r.country:
                by_country.setdefault(r.country.casefold(), []).append(i)
        for c, cands in by_country.items():
            m = country == c
            if m.any():
                out[m] = draw(np.asarray(cands), u[m])
    assert out.shape == (n,)
    return out


def replay_demand(scenario, streams, days: int) -> dict:
    """Columns of :class:`omsim.sim.demand.DemandArrays` replaying the history (inputs validated).

    Also returns ``order_ids`` (the history's ids, object array).
    """
    from omsim.sim.demand import LEVELS, payments

    d = scenario.demand
    path = d.history
    sel, line_h = replay_window(scenario, days)
    oid = sel["order_id"].to_numpy(dtype=object)
    # Orders in arrival order: by their first line (lines are sorted by time, stably).
    codes, uniq = pd.factorize(oid, sort=False)
    n = uniq.size
    sku_code = pd.Index(scenario.sku_ids).get_indexer(sel["sku"])
    # Merge repeated SKUs within an order, keep first-appearance order of the lines.
    key = pd.DataFrame({"o": codes, "s": sku_code, "q": sel["qty"].to_numpy(np.int64),
                        "pos": np.arange(codes.size)})
    g = key.groupby(["o", "s"], sort=False).agg(q=("q", "sum"), pos=("pos", "min"))
    g = g.sort_values("pos", kind="stable")
    line_o = g.index.get_level_values("o").to_numpy(np.int64)
    order = np.argsort(line_o, kind="stable")
    line_o = line_o[order]
    line_sku = g.index.get_level_values("s").to_numpy(np.int64)[order]
    line_qty = g["q"].to_numpy(np.int64)[order]
    counts = np.bincount(line_o, minlength=n)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=ptr[1:])
    first = np.full(n, -1, np.int64)
    first[codes[::-1]] = np.arange(codes.size)[::-1]             # first line of each order
    created = line_h[first]

    rng_c = streams["customers"]
    u = rng_c.random((n, 3))
    region = _regions_of(scenario, sel, first, u[:, 0], path)
    if "service_level" in sel:
        lv = sel["service_level"].to_numpy(dtype=object)[first]
        bad = [x for x in lv if x not in LEVELS]
        if bad:
            raise OmsimError(f"{path}: column service_level: {bad[0]!r} is not one of {', '.join(LEVELS)}",
                             file=path)
        level = pd.Index(LEVELS).get_indexer(lv)
    else:
        level_cdf = np.cumsum([d.service_mix.get(x, 0.0) for x in LEVELS])
        level_cdf /= level_cdf[-1]
        level = np.minimum(np.searchsorted(level_cdf, u[:, 1], side="right"), len(LEVELS) - 1)
    channels = tuple(d.channels)
    ch_w = np.array([d.channels[c] for c in channels], dtype=np.float64)
    ch_w = ch_w if ch_w.sum() > 0 else np.ones(len(channels))
    ch_cdf = np.cumsum(ch_w / ch_w.sum())
    channel = np.minimum(np.searchsorted(ch_cdf, u[:, 2], side="right"), len(channels) - 1)
    paid, attempts = payments(d.payment, created, streams["payments"])
    return dict(created_h=created, region=region.astype(np.int32), level=level.astype(np.int8),
                channel=channel.astype(np.int8), line_ptr=ptr, line_sku=line_sku, line_qty=line_qty,
                paid_h=paid, payment_attempts=attempts, channels=channels,
                order_ids=np.asarray(uniq, dtype=object))
