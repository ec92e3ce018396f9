"""omsim.engine.stock: the initial stock against its contract."""
import numpy as np

from omsim.engine import expected_daily_units, initial_stock
from omsim.rng import Streams
from engine_helpers import default_scenario


def test_default_stock_follows_the_contract(default_scenario):
    sc = default_scenario
    on_hand, safety, carried = initial_stock(sc, Streams(sc.seed))
    daily = expected_daily_units(sc)
    # every node carries its share of the SKUs, and stock is days of cover of the shared demand
    for n, wh in enumerate(sc.network.warehouses):
        assert carried[n].sum() == round(wh.stock.carry_share * len(sc.sku_ids))
        assert np.all(on_hand[n][~carried[n]] == 0)
    share = daily / np.maximum(carried.sum(axis=0), 1)
    for n, wh in enumerate(sc.network.warehouses):
        expect = np.where(carried[n], np.round(wh.stock.days_cover * share), 0)
        assert np.array_equal(on_hand[n], expect)
    # expected daily units add up to orders x lines x units (truncation makes it a little less)
    assert 0.9 * 2000 * 1.7 * 1.2 < daily.sum() <= 2000 * 1.7 * 1.2
    # same seed, same assortment; another seed, another one
    assert np.array_equal(initial_stock(sc, Streams(sc.seed))[2], carried)
    assert not np.array_equal(initial_stock(sc, Streams(sc.seed + 1))[2], carried)
