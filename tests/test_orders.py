"""The shared order types: plain records with a few derived counts."""
import numpy as np
import pytest

from omsim.orders import COST_KEYS, DECISION_STATUSES, Decision, Order, Shipment


def test_records_and_derived_counts():
    o = Order(3, 1.5, 0, "express", np.array([4, 7]), np.array([2, 3]))
    assert o.units == 5 and o.channel == "web" and o.parent_id is None
    s = Shipment(1, np.array([4]), np.array([2]), "c", "g", "express", 120.0, 1.0, 18.0, 72.0, 48.0,
                 {"package": 6.0, "weight": 0.3, "distance": 0.0, "handling": 1.0})
    assert s.units == 2
    d = Decision(3, "partial", [s], np.array([0, 3]), 72.0, dict.fromkeys(COST_KEYS, 0.0), 0.0, "cheapest")
    assert d.packages == 1 and d.ships and d.alternatives == []
    assert d.status in DECISION_STATUSES
    with pytest.raises(AttributeError):  # slots: a typo cannot add a field silently
        o.regoin = 2
