"""omsim.engine.replenishment: review places the reorder policy's POs, receive books them."""
import numpy as np

from omsim.scenario import scenario_from_dict
from engine_helpers import _order, engine_with_stock, small_scenario_dict


def test_review_orders_up_to_S_and_receipt_books_it():
    # One node, one SKU: expected demand 10 orders/day x 1 line x 1 unit = 10 units/day.
    raw = small_scenario_dict(1, 1, 2)
    raw["demand"].update(orders_per_day=10, lines_per_order={"mean": 1, "max": 1}, units_per_line={"mean": 1, "max": 1})
    raw["catalogue"]["skus"][0]["popularity"] = 1.0
    raw["catalogue"]["skus"][1]["popularity"] = 1.0
    raw["network"]["warehouses"][0]["replenishment"] = {"policy": "sS", "s_days": 2, "S_days": 6, "lead_time_days": 3,
                                                        "by_class": {"C": {"policy": "rQ", "r_days": 1, "Q_days": 4}}}
    sc = scenario_from_dict(raw)
    engine = engine_with_stock(sc, [[25, 20]])
    assert list(engine.abc) == ["A", "C"]
    # daily units per SKU = 5: SKU 0 (class A, sS): s = 10, S = 30; SKU 1 (class C, rQ): r = 5, Q = 20
    assert engine.review(0, 0.0) == []
    engine.commit(engine.decide(_order(1, [0, 1], [16, 15]), 1.0), 1.0)   # positions 9 and 5
    pos = engine.review(0, 24.0)
    got = {(p.sku, p.qty, p.eta_h) for p in pos}
    assert got == {(0, 30 - 9, 24.0 + 72.0), (1, 20, 24.0 + 72.0)}
    assert engine.inventory.inbound.tolist() == [[21, 20]]
    # backorders lower the position: with 2 units waiting SKU 0 is at 9 + 21 - 2 = 28 > s, no order
    assert engine.review(0, 25.0, np.array([2, 0])) == []
    # receipt: on hand up, inbound down, a ledger row
    po = next(p for p in pos if p.sku == 0)
    before = int(engine.inventory.on_hand[0, 0])
    engine.receive(po, 96.0)
    led = engine.ledger_frame()
    assert led.iloc[-1]["reason"] == "receipt" and led.iloc[-1]["delta"] == 21 and led.iloc[-1]["sku"] == "S0"
    assert engine.inventory.on_hand[0, 0] == before + 21 and engine.inventory.inbound.tolist() == [[0, 20]]
    assert np.array_equal(engine.inventory.ledger_on_hand(), engine.inventory.on_hand)


def test_review_lead_time_noise_is_reproducible():
    raw = small_scenario_dict(1, 1, 1)
    raw["network"]["warehouses"][0]["replenishment"] = {"policy": "base_stock", "base_days": 30,
                                                        "lead_time_days": 4, "lead_time_sd_days": 1}
    sc = scenario_from_dict(raw)
    etas = []
    for _ in range(2):
        engine = engine_with_stock(sc, [[0]], carried=np.ones((1, 1), dtype=bool))
        etas.append([p.eta_h for p in engine.review(0, 0.0)])
    assert etas[0] == etas[1] and len(etas[0]) == 1 and etas[0][0] != 96.0 and etas[0][0] >= 0
