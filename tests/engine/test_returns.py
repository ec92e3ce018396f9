"""omsim.engine.returns: restock and scrap."""
import numpy as np
import pandas as pd
import pytest

from omsim.errors import OmsimError
from omsim.scenario import scenario_from_dict
from engine_helpers import engine_with_stock, small_scenario_dict


def test_restock_many_equals_restock_line_by_line():
    sc = scenario_from_dict(small_scenario_dict(2, 1, 3))
    a, b = engine_with_stock(sc, [[1, 2, 3], [0, 0, 4]]), engine_with_stock(sc, [[1, 2, 3], [0, 0, 4]])
    lines = [(1, 0, 2, 7), (0, 2, 1, 7), (1, 0, 1, 9), (0, 1, 0, 9)]     # a repeated (node, SKU), zero units
    for n, s, q, o in lines:
        a.restock(n, s, q, o, 5.0)
    b.restock_many(*(np.array([ln[i] for ln in lines]) for i in range(3)), [ln[3] for ln in lines], 5.0)
    assert np.array_equal(a.inventory.on_hand, b.inventory.on_hand)
    assert a.inventory.on_hand[1, 0] == 3
    pd.testing.assert_frame_equal(a.returns_frame(), b.returns_frame())
    pd.testing.assert_frame_equal(a.ledger_frame(), b.ledger_frame())
    before = b.inventory.on_hand.copy()
    with pytest.raises(OmsimError, match="sku position out of range"):
        b.restock_many([0, 0], [0, 3], [1, 1], [1, 1], 6.0)
    assert np.array_equal(before, b.inventory.on_hand) and len(b.returns_frame()) == len(lines)
