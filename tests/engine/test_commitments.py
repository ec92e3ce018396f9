"""omsim.engine.commitments: commit, cancel and ship keep the books (stock, capacity, carriers)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from omsim.engine import DECISION_STATUSES
from omsim.errors import OmsimError
from omsim.orders import Order
from omsim.scenario import scenario_from_dict
from engine_helpers import (_decide_both, _engine, _order, _pair, assert_same_state, decision_key, default_scenario, engine_with, engine_with_stock, same_state, small_scenario_dict, state, worlds)


def test_commit_cancel_restores_state_exactly(default_scenario):
    engine = _engine(default_scenario)
    a0 = engine.inventory.available().copy()
    b0 = engine.node_backlog_units.copy()
    d = engine.decide(_order(7, [0, 1, 2], [3, 2, 1], region=4), 1.0)
    assert d.shipments
    engine.commit(d, 1.0)
    a1 = engine.inventory.available()
    assert a1.sum() == a0.sum() - 6
    assert engine.node_backlog_units.sum() == 6
    with pytest.raises(OmsimError, match="already committed"):
        engine.commit(d, 1.0)
    assert engine.cancel(7, 2.0) == 6
    assert np.array_equal(engine.inventory.available(), a0)
    assert np.array_equal(engine.node_backlog_units, b0)
    assert all(o.sum() == 0 for o, _ in engine.capacity_taken().values())
    for day in range(10):
        assert np.array_equal(engine.carriers.remaining_all(day), engine.carriers.capacity)
    with pytest.raises(OmsimError, match="not committed"):
        engine.cancel(7, 2.0)


def test_ship_consumes_reserved_and_keeps_the_ledger(default_scenario):
    engine = _engine(default_scenario)
    inv = engine.inventory
    oh0 = inv.on_hand.copy()
    rows0 = len(inv)
    d = engine.decide(_order(9, [3, 4], [2, 1], region=1), 5.0)
    engine.commit(d, 5.0)
    s = d.shipments[0]
    res_before = inv.reserved.copy()
    assert engine.ship(9, 0, 20.0) is s
    for j, q in zip(s.skus, s.qty):
        assert inv.on_hand[s.node, j] == oh0[s.node, j] - q
        assert inv.reserved[s.node, j] == res_before[s.node, j] - q
    assert len(inv) == rows0 + len(s.skus)
    led = engine.ledger_frame()
    tail = led.iloc[rows0:]
    assert list(tail["reason"]) == ["ship"] * len(s.skus)
    assert list(tail["node"]) == [default_scenario.node_ids[s.node]] * len(s.skus)
    assert np.array_equal(inv.ledger_on_hand(), inv.on_hand)
    with pytest.raises(OmsimError):
        engine.ship(9, 0, 21.0)  # already shipped (or the order is done)


@given(ops=st.lists(st.tuples(st.sampled_from(["order", "ship", "cancel", "restock", "scrap"]),
                              st.integers(0, 10**6)), min_size=1, max_size=40))
@settings(max_examples=60, deadline=None)
def test_random_operation_sequences_keep_the_books(ops):
    sc = scenario_from_dict(small_scenario_dict(3, 2, 4, policies={"max_packages": 2}))
    rng = np.random.default_rng(len(ops))
    engine = engine_with_stock(sc, rng.integers(0, 4, size=(3, 4)))
    inv = engine.inventory
    t = 0.0
    next_id = 0
    for op, r in ops:
        t += 0.5
        open_ids = sorted(engine.open_order_ids())
        if op == "order":
            L = 1 + r % 3
            skus = np.random.default_rng(r).choice(4, L, replace=False)
            o = _order(next_id, skus, 1 + (r % 2) * np.ones(L, dtype=np.int64), region=r % 2, t=t)
            next_id += 1
            engine.commit(engine.decide(o, t), t)
        elif op == "ship" and open_ids:
            oid = open_ids[r % len(open_ids)]
            b = engine.open_order(oid)
            idx = [i for i, ok in enumerate(b.unshipped) if ok]
            if idx:
                engine.ship(oid, idx[r % len(idx)], t)
        elif op == "cancel" and open_ids:
            engine.cancel(open_ids[r % len(open_ids)], t)
        elif op == "restock":
            engine.restock(r % 3, r % 4, 1 + r % 2, "ret", t)
        elif op == "scrap":
            engine.scrap(r % 3, r % 4, 1, "ret", t)
        # the books: ledger sums to on hand; reserved and backlog are exactly the open packages
        assert np.array_equal(inv.ledger_on_hand(), inv.on_hand)
        reserved = np.zeros_like(inv.reserved)
        backlog = np.zeros(3, dtype=np.int64)
        for b in map(engine.open_order, engine.open_order_ids()):
            for s, ok in zip(b.decision.shipments, b.unshipped):
                if ok:
                    reserved[s.node, s.skus] += s.qty
                    backlog[s.node] += s.qty.sum()
        assert np.array_equal(inv.reserved, reserved)
        assert np.array_equal(engine.node_backlog_units, backlog)
        assert np.all(inv.on_hand >= inv.reserved)
    rf = engine.returns_frame()
    assert set(rf["disposition"]) <= {"restock", "scrap"}


def test_stale_decision_is_refused_and_changes_nothing():
    sc = scenario_from_dict(small_scenario_dict(1, 1, 1))
    engine = engine_with_stock(sc, [[2]])
    d1 = engine.decide(_order(1, [0], [2]), 0.0)
    d2 = engine.decide(_order(2, [0], [2]), 0.0)
    engine.commit(d1, 0.0)
    before = state(engine)
    with pytest.raises(OmsimError, match="decide again"):
        engine.commit(d2, 0.0)
    same_state(before, state(engine))


def test_multi_package_decision_always_fits_the_carriers_last_slots():
    # Two nodes, one service with room for max_packages = 2 packages a day: an order split over both
    # nodes takes the service's last two slots; after it the day counts as full (not one slot left
    # over that a second split order could overbook), and every commit succeeds.
    services = [{"id": "only", "level": "standard", "per_package": 1.0, "daily_capacity": 3}]
    sc = scenario_from_dict(small_scenario_dict(2, 1, 2, services=services,
                                                policies={"max_packages": 2, "split_penalty": 0.0}))
    engine = engine_with_stock(sc, [[0, 0], [0, 0]])
    for i in range(4):
        engine.inventory.receive(0, 0, 1, t=0.0)
        engine.inventory.receive(1, 1, 1, t=0.0)
        d = engine.decide(_order(i, [0, 1], [1, 1]), 1.0)
        engine.commit(d, 1.0)     # never "full": decide already saw the held-back slots
    booked = [engine.carriers.capacity[0] - engine.carriers.remaining(0, day) for day in range(4)]
    assert all(b <= 3 for b in booked) and sum(booked) == sum(len(engine.committed(i).shipments) for i in range(4))


@given(world=worlds(), data=st.data())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_ship_many_and_cancel_equal_the_one_by_one_calls(world, data):
    # Orders committed as columns on one engine and one by one on the other; then the same random
    # lots of packages ship (ship_many against a loop of ship) and the same orders are cancelled.
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap)
    _decide_both(a, b, orders, times, False)
    t = times[-1]
    for _ in range(data.draw(st.integers(1, 4))):
        t += data.draw(st.sampled_from([0.0, 1.0]))
        opened = sorted(a.open_order_ids())
        pairs = [(o, k) for o in opened for k, ok in enumerate(a.open_order(o).unshipped) if ok]
        if not pairs:
            break
        lot = data.draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
        for o, k in lot:
            a.ship(o, k, t)
        b.ship_many([o for o, _ in lot], np.array([k for _, k in lot], dtype=np.int64), t)
        assert_same_state(a, b)
        if data.draw(st.booleans()) and a.open_orders:
            o = data.draw(st.sampled_from(sorted(a.open_order_ids())))
            assert b.cancel(o, t) == a.cancel(o, t)
            assert_same_state(a, b)


def test_orders_decided_as_columns_are_committed_orders_for_the_rest_of_the_api():
    sc = scenario_from_dict(small_scenario_dict(2, 1, 3, policies={"max_packages": 2, "split_penalty": 0.0}))
    a = engine_with(sc, [[2, 0, 1], [0, 2, 1]])
    b = engine_with(sc, [[2, 0, 1], [0, 2, 1]])
    orders = [Order(7, 1.0, 0, "standard", np.array([0, 1]), np.array([1, 1])),
              Order(8, 2.0, 0, "express", np.array([2]), np.array([1])),
              Order(9, 3.0, 0, "standard", np.array([0, 1]), np.array([5, 5]))]
    want, da = _decide_both(a, b, orders, [1.0, 2.0, 3.0], False)
    assert b.open_orders == a.open_orders == 3
    d7 = b.committed(7)
    assert d7 is b.committed(7) and decision_key(d7) == decision_key(want[0]) and len(d7.shipments) == 2
    s = b.ship(7, 1, 4.0)
    assert decision_key(want[0])[2][1][0] == s.node and b.open_order(7).unshipped == [True, False]
    a.ship(7, 1, 4.0)
    assert b.cancel(7, 5.0) == a.cancel(7, 5.0) and b.committed(7) is None
    with pytest.raises(OmsimError, match="order 8: no shipment 3"):
        b.ship_many([8, 8], [0, 3], 6.0)
    with pytest.raises(OmsimError, match="order 8: shipment 0 already shipped"):
        b.ship_many([8, 8], [0, 0], 6.0)
    with pytest.raises(OmsimError, match="order 70: not committed"):
        b.ship_many([70], [0], 6.0)
    assert_same_state(a, b)
    b.ship_many([8, 9, 9], [0, 1, 0], 6.0)
    for o, k in ((8, 0), (9, 1), (9, 0)):
        a.ship(o, k, 6.0)
    assert_same_state(a, b)
    assert b.open_orders == 0


def test_register_backorders_refuses_what_commit_refuses_and_registers_nothing_then():
    sc = scenario_from_dict(small_scenario_dict(1, 1, 2, policies={"no_stock": "hold"}))
    e = engine_with(sc, [[0, 0]])
    bo, hold, cancel = (DECISION_STATUSES.index(s) for s in ("backorder", "hold", "cancel"))
    cols = dict(order_ids=[1, 2], t_h=[0.0, 30.0], region=[0, 0], level=[0, 0], line_ptr=[0, 1, 2],
                line_sku=[0, 1], line_qty=[2, 1], reasons=[1, 1])
    with pytest.raises(OmsimError, match="order 2: status code 0"):
        e.register_backorders(**cols, statuses=[bo, 0])
    with pytest.raises(OmsimError, match="order 1: SKU index"):
        e.register_backorders(**dict(cols, line_sku=[5, 1]), statuses=[bo, bo])
    with pytest.raises(OmsimError, match="twice"):
        e.register_backorders(**dict(cols, order_ids=[3, 3]), statuses=[bo, bo])
    with pytest.raises(OmsimError, match="2 lines but reasons"):
        e.register_backorders(**dict(cols, reasons=[1, 0]), statuses=[bo, bo])
    assert e.open_orders == 0
    e.register_backorders(**cols, statuses=[hold, cancel])
    assert e.open_orders == 1 and e.committed(2) is None
    d = e.committed(1)
    e._dry_kernel = False
    ref = e.decide(Order(1, 0.0, 0, "standard", np.array([0]), np.array([2])), 0.0)
    assert d.status == ref.status == "hold" and decision_key(d) == decision_key(ref) and not ref.shipments
    with pytest.raises(OmsimError, match="order 1: already committed"):
        e.register_backorders(**cols, statuses=[bo, bo])
    with pytest.raises(OmsimError, match="no shipment 0"):
        e.ship(1, 0, 1.0)
    assert e.cancel(1, 1.0) == 0 and e.open_orders == 0


@pytest.mark.parametrize("columns", [False, True])
def test_cancel_a_cut_releases_those_units_and_an_emptied_package_gives_capacity_back(columns):
    sc = scenario_from_dict(small_scenario_dict(2, 1, 3, policies={"max_packages": 2, "split_penalty": 0.0}))
    eng = engine_with(sc, [[4, 0, 3], [0, 4, 0]])
    order = Order(7, 1.0, 0, "standard", np.array([0, 1, 2]), np.array([2, 3, 1]))
    if columns:
        _decide_both(engine_with(sc, [[4, 0, 3], [0, 4, 0]]), eng, [order], [1.0], False)
    else:
        eng.commit(eng.decide(order, 1.0), 1.0)
    d = eng.committed(7)
    assert len(d.shipments) == 2
    by_node = {s.node: (i, s) for i, s in enumerate(d.shipments)}
    i0, s0 = by_node[0]                          # node 0 ships SKUs 0 and 2
    i1, s1 = by_node[1]                          # node 1 ships SKU 1
    reserved0 = eng.inventory.reserved.copy()
    backlog0 = eng.node_backlog_units.copy()
    rem0 = eng.carriers.remaining_all(0).copy()
    cut0 = np.where(s0.skus == 0, 1, 0)          # one unit of SKU 0 off node 0's package
    q0, q1 = s0.qty.copy(), s1.qty.copy()
    assert eng.cancel(7, 2.0, {i0: cut0}) == 1
    assert d.shipments[i0].qty.tolist() == q0.tolist()             # the Decision handed out is not changed
    assert eng.inventory.reserved[0, 0] == reserved0[0, 0] - 1
    assert eng.node_backlog_units[0] == backlog0[0] - 1
    assert np.array_equal(eng.carriers.remaining_all(0), rem0)      # both packages still go
    assert eng.committed(7).shipments[i0].qty.tolist() == (q0 - cut0).tolist()
    with pytest.raises(OmsimError, match="cannot cancel"):
        eng.cancel(7, 2.0, {i1: np.array([4])})
    assert eng.cancel(7, 2.5, {i1: q1}) == 3                            # node 1's package emptied: closed
    assert eng.inventory.reserved[1].sum() == reserved0[1].sum() - 3
    assert eng.carriers.remaining_all(0).sum() == rem0.sum() + 1
    with pytest.raises(OmsimError, match="no open shipment"):
        eng.cancel(7, 2.6, {i1: np.array([0])})
    eng.ship(7, i0, 3.0)                                                 # the rest ships
    assert eng.committed(7) is None
    led = eng.ledger_frame()
    assert -led.loc[led["reason"] == "ship", "delta"].sum() == 2


def test_every_open_order_is_a_row_of_the_column_store_however_it_was_committed():
    """One open-order type: orders committed one at a time (with and without an explanation), decided in
    a run (the kernel and its Python fallback), registered as backorders, or restored from a snapshot are
    all order rows of the engine's store, and the same order reads the same whichever way it came."""
    from omsim.engine.live import LiveEngine
    from omsim.engine.snapshot import load

    sc = scenario_from_dict(small_scenario_dict(2, 1, 3, policies={"max_packages": 2, "split_penalty": 0.0,
                                                                    "no_stock": "backorder"}))
    stock = [[2, 0, 1], [0, 2, 1]]
    orders = [Order(7, 1.0, 0, "standard", np.array([0, 1]), np.array([1, 1])),
              Order(8, 2.0, 0, "express", np.array([2]), np.array([1])),
              Order(9, 3.0, 0, "standard", np.array([0, 1]), np.array([9, 9]))]   # nothing left: a backorder
    one, run, explained = engine_with(sc, stock), engine_with(sc, stock), engine_with(sc, stock)
    for o in orders:
        one.commit(one.decide(o, o.created_h), o.created_h)
        explained.commit(explained.decide(o, o.created_h, explain=True), o.created_h)
    _decide_both(engine_with(sc, stock), run, orders, [o.created_h for o in orders], False)
    from omsim.engine.reasons import reason_code
    empty, waiting = engine_with(sc, [[0, 0, 0], [0, 0, 0]]), engine_with(sc, [[0, 0, 0], [0, 0, 0]])
    ref = empty.decide(orders[2], 3.0)
    empty.commit(ref, 3.0)
    assert ref.status == "backorder"
    waiting.register_backorders([9], [3.0], [0], [0], [0, 2], [0, 1], [9, 9], [DECISION_STATUSES.index("backorder")],
                                [reason_code(r) for r in ref.unfilled_reason])
    for e in (one, run, explained, waiting, empty):
        assert all(type(v) is int for v in e._open.values())
        assert len(set(e._open.values())) == e.open_orders
    for oid in (7, 8, 9):
        a, b = one.open_order(oid), run.open_order(oid)
        assert decision_key(a.decision) == decision_key(b.decision)
        assert (a.unshipped, a.day, a.open_packages) == (b.unshipped, b.day, b.open_packages)
        assert explained.committed(oid).alternatives                    # kept with the row
    w = waiting.open_order(9)
    assert decision_key(w.decision) == decision_key(empty.committed(9)) and w.open_packages == 0

    live = LiveEngine(engine_with(sc, stock))
    live.place("A", [(sc.sku_ids[0], 1), (sc.sku_ids[1], 1)], sc.demand.regions[0].id, at=1.0)
    back = load(live.snapshot(), sc)
    key = live.orders["A"].key
    assert type(back.engine._open[key]) is int
    assert decision_key(back.engine.committed(key)) == decision_key(live.engine.committed(key))
    assert back.digest() == live.digest()
