"""Initial stock: expected demand per SKU and the on hand, safety stock and assortment at start."""
from __future__ import annotations

import math

import numpy as np

from omsim.catalogue import popularity
from omsim.rng import Streams
from omsim.scenario import Scenario, stock_table


def _count_mean(dist) -> float:
    """Mean of ``min(1 + Poisson(mean - 1), max)`` (or of its table), the scenario's CountDist as the simulator draws it."""
    if dist.table is not None:
        return dist.expected()
    lam = dist.mean - 1.0
    if lam <= 0:
        return 1.0
    k = np.arange(0, dist.max - 1)                 # values 1..max-1 <-> k = 0..max-2
    logp = k * math.log(lam) - lam - np.array([math.lgamma(x + 1) for x in k])
    p = np.exp(logp)
    return float(((1 + k) * p).sum() + dist.max * max(0.0, 1.0 - p.sum()))


def expected_daily_units(scenario: Scenario) -> np.ndarray:
    """Expected units sold per day of each SKU (all regions and channels together).

    ``orders_per_day x mean lines x mean units per line x popularity``, with the
    means of the (truncated) count distributions of the scenario.

    Returns
    -------
    numpy.ndarray
        (S,) float, in SKU order.
    """
    dem = scenario.demand
    per_order = _count_mean(dem.lines_per_order) * _count_mean(dem.units_per_line)
    return dem.orders_per_day * per_order * popularity(scenario.catalogue.skus)


def initial_stock(scenario: Scenario, streams: Streams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial on hand and safety stock per node and SKU, and the assortment.

    From a node's stock CSV when it has one (SKUs not listed carry none);
    otherwise ``round(days_cover x expected daily units / carrying nodes)``
    for the SKUs the node carries. A node carries a ``carry_share`` of the
    SKUs, drawn from the ``allocation`` stream (so the same seed gives the
    same assortment); the expected demand of a SKU is shared equally among
    the nodes carrying it (a neutral prior).

    Returns
    -------
    on_hand, safety : (N, S) int64
    carried : (N, S) bool
    """
    sc = scenario
    skus = sc.sku_ids
    S, N = len(skus), len(sc.network.warehouses)
    rng = streams["allocation"]
    daily = expected_daily_units(sc)
    carried = np.zeros((N, S), dtype=bool)
    for n, wh in enumerate(sc.network.warehouses):
        # Draw for every node, CSV or not, so adding a CSV to one node does not change the others' assortment.
        k = int(round(wh.stock.carry_share * S))
        pick = rng.permutation(S)[:k]
        if stock_table(wh) is None:
            carried[n, pick] = True
    on_hand = np.zeros((N, S), dtype=np.int64)
    safety = np.zeros((N, S), dtype=np.int64)
    sku_pos = {s: i for i, s in enumerate(skus)}
    generated = [n for n, wh in enumerate(sc.network.warehouses) if stock_table(wh) is None]
    n_carry = np.maximum(carried[generated].sum(axis=0), 1) if generated else np.ones(S)
    for n, wh in enumerate(sc.network.warehouses):
        table = stock_table(wh)
        if table is not None:
            for sku, rec in table.items():
                j = sku_pos[sku]
                on_hand[n, j] = rec["on_hand"]
                safety[n, j] = rec.get("safety", 0)
                carried[n, j] = True
            continue
        share = daily / n_carry
        on_hand[n] = np.where(carried[n], np.round(wh.stock.days_cover * share), 0).astype(np.int64)
        safety[n] = np.where(carried[n], np.round(wh.stock.safety_days * share), 0).astype(np.int64)
    return on_hand, safety, carried
