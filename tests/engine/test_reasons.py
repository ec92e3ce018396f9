"""omsim.engine.reasons: the reason the decision records for each unfilled line, the same from the compiled
kernel and the Python path."""
import numpy as np
import pytest

from omsim.engine.reasons import UNFILLED_REASONS, reason_text, unfilled_reasons
from omsim.scenario import scenario_from_dict
from engine_helpers import _order, engine_with, small_scenario_dict

SERVICES = [{"id": "g", "per_package": 5.0, "per_km": 0.002}]


def _both(sc, stock, order, **kw):
    """decide() through the compiled kernel and through the Python path (the reference), same state."""
    fast, slow = engine_with(sc, stock, **kw), engine_with(sc, stock, **kw)
    slow._dry_kernel = False
    a, b = fast.decide(order, 1.0), slow.decide(order, 1.0)
    assert a.unfilled_reason == b.unfilled_reason and a.unfilled.tolist() == b.unfilled.tolist()
    return a


def test_each_reason_the_kernel_and_the_python_path_give():
    sc = scenario_from_dict(small_scenario_dict(2, 1, 3, services=SERVICES, policies={"max_packages": 1}))
    # S0 nowhere; 1 of 3 units of S1 at W0; the order's one package comes from W0 (S2 there too)
    d = _both(sc, [[0, 1, 2], [0, 0, 0]], _order(1, [0, 1, 2], [1, 3, 1]))
    assert d.unfilled_reason == ["no_stock", "short", ""]
    # S2 only at W0, S1 only at W1: one package allowed, the other line is beyond the limit
    d = _both(sc, [[0, 0, 2], [0, 2, 0]], _order(2, [2, 1], [1, 1]))
    assert sorted(d.unfilled_reason) == ["", "package_limit"] and d.packages == 1
    # W0 may take no more units today: its stock cannot ship
    d = _both(sc, [[0, 0, 2], [0, 0, 0]], _order(3, [2], [1]), capacity_units_per_day=[0, 5])
    assert d.unfilled_reason == ["cannot_ship"] and d.status == "backorder"
    # the lost sale is cheaper than any package
    cheap = scenario_from_dict(small_scenario_dict(2, 1, 3, services=SERVICES,
                                                   policies={"lost_sale_penalty": 0.5, "split_penalty": 0.0}))
    d = _both(cheap, [[0, 0, 2], [0, 0, 0]], _order(4, [2], [1]))
    assert d.unfilled_reason == ["cost"]
    # a filled order: every line ""
    assert _both(sc, [[0, 0, 2], [0, 0, 0]], _order(5, [2], [2])).unfilled_reason == [""]


def test_a_batch_window_keeps_the_unit_for_the_order_it_plans_it_for():
    # One unit of S0, two orders of the window for it: the plan gives it to one; the other's line says
    # batch_window when its turn comes first (the unit is still there, kept for the other), else no_stock.
    sc = scenario_from_dict(small_scenario_dict(1, 2, 1, services=SERVICES, policies={"allocation": "batch"}))
    # W0 is nearer region 1 than region 0: the plan gives the unit to the region-1 order
    e = engine_with(sc, [[1]])
    ds = e.decide_batch([_order(0, [0], [1], region=0), _order(1, [0], [1], region=1)], 0.0)
    assert [d.unfilled_reason for d in ds] == [["batch_window"], [""]]
    e = engine_with(sc, [[1]])
    ds = e.decide_batch([_order(0, [0], [1], region=1), _order(1, [0], [1], region=0)], 0.0)
    assert [d.unfilled_reason for d in ds] == [[""], ["no_stock"]]


def test_lookahead_reads_cost_as_held_back_and_the_rule_order():
    x = np.array([[0, 0]])
    usable = np.array([[2, 0]])
    qty = np.array([1])
    assert unfilled_reasons(qty, x, usable, np.array([True]), 2, "lookahead") == [UNFILLED_REASONS.index("held_back")]
    assert unfilled_reasons(qty, x, usable, np.array([True]), 2, "cheapest") == [UNFILLED_REASONS.index("cost")]
    # no stock anywhere comes before everything else
    assert unfilled_reasons(qty, x, usable * 0, np.array([False]), 2, "cheapest") == [1]


def test_the_planners_sentence_names_the_sku_and_the_numbers():
    assert reason_text("no_stock", "SKU9", 3, 3, 2) == "no stock of SKU9 at any node"
    assert reason_text("short", "SKU9", 3, 2, 2) == "only 1 of 3 units of SKU9 available in the network"
    assert "2 packages" in reason_text("package_limit", "SKU9", 3, 3, 2)
    assert reason_text("", "SKU9", 3, 0, 2) == ""
    with pytest.raises(KeyError):
        reason_text("because", "SKU9", 3, 3, 2)


def test_the_live_engine_journals_the_reasons_and_replays_them():
    from omsim.engine.journal import MemoryJournal
    from omsim.engine.live import LiveEngine

    sc = scenario_from_dict(small_scenario_dict(2, 1, 3, services=SERVICES))
    live = LiveEngine(engine_with(sc, [[0, 1, 0], [0, 0, 0]]), MemoryJournal())
    d, ev = live.place("A1", [("S0", 1), ("S1", 3)], "R0", at=2.0)
    assert d.unfilled_reason == ["no_stock", "short"]
    assert ev.data["decision"]["unfilled_reason"] == ["no_stock", "short"]
    again = LiveEngine.replay(engine_with(sc, [[0, 1, 0], [0, 0, 0]]), live.journal)
    assert again.engine.committed(again.order_state("A1").key).unfilled_reason == ["no_stock", "short"]
    assert again.digest() == live.digest()
