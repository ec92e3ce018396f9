"""The journaled engine: any sequence of commands, replayed from the journal (or a snapshot), gives the same state."""
import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

import omsim
from omsim.engine import DecisionEngine, initial_stock
from omsim.errors import OmsimError
from omsim.fulfilment.inventory import Inventory
from omsim.engine.journal import Event, SqlJournal
from omsim.engine.live import LiveEngine, decision_to_json
from omsim.rng import Streams

SC = omsim.load_scenario()
SKUS = SC.sku_ids[:6]                      # few SKUs: stock runs short, orders split and backorder
REGIONS = [r.id for r in SC.demand.regions]


def fresh(stock_units: int = 8) -> DecisionEngine:
    """An engine whose first six SKUs are scarce (so orders split, backorder and run out)."""
    streams = Streams(5)
    on_hand, safety, carried = initial_stock(SC, streams)
    on_hand[:, :6] = np.minimum(on_hand[:, :6], stock_units)
    safety[:, :6] = 0
    inv = Inventory(on_hand, safety, node_ids=SC.node_ids, sku_ids=SC.sku_ids)
    return DecisionEngine(SC, inv, streams, carried=carried)


class Commands(RuleBasedStateMachine):
    """Random commands on a live engine; the rebuilt state must always equal the live one."""

    orders = Bundle("orders")

    @initialize()
    def start(self):
        self.live = LiveEngine(fresh())
        self.snaps = []          # (seq, snapshot bytes)
        self.why = []            # (order.committed data, the alternatives decide(explain=True) listed then)
        self.t = 0.0

    def _at(self, dt_h):
        self.t += dt_h
        return self.t

    @rule(target=orders, lines=st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 6)), min_size=1, max_size=4),
          region=st.sampled_from(REGIONS), level=st.sampled_from(["standard", "express", "next_day"]),
          dt_h=st.floats(0, 10))
    def place(self, lines, region, level, dt_h):
        oid = f"W{len(self.live.orders) + 1}"
        at = self._at(dt_h)
        o = self.live.order(oid, lines, region, level, at)
        explained = self.live.engine.decide(o, o.created_h, explain=True)     # what "why" must say later
        d, ev = self.live.place(oid, lines, region, level, at=at)
        assert ev.type == "order.committed" and ev.seq == self.live.seq and ev.version == 2
        self.why.append((ev.data, explained.alternatives))
        return oid

    @rule(oid=orders, dt_h=st.floats(0, 5))
    def cancel(self, oid, dt_h):
        try:
            self.live.cancel(oid, at=self._at(dt_h))
        except OmsimError as exc:
            assert "already cancelled" in str(exc) or "has shipped" in str(exc)

    @rule(oid=orders, k=st.integers(0, 2), dt_h=st.floats(0, 5))
    def ship(self, oid, k, dt_h):
        seq = self.live.seq
        try:
            self.live.ship(oid, k, at=self._at(dt_h))
        except OmsimError as exc:
            assert self.live.seq == seq                          # a refused command writes nothing
            assert any(w in str(exc) for w in ("no shipment", "shipped already", "cancelled"))

    @rule(node=st.sampled_from(SC.node_ids), sku=st.sampled_from(SKUS), qty=st.integers(1, 20),
          kind=st.sampled_from(["receive", "restock", "scrap"]))
    def stock(self, node, sku, qty, kind):
        seq = self.live.seq
        try:
            getattr(self.live, kind)(node, sku, qty, at=self._at(0.5))
        except OmsimError as exc:                                # scrapping more than is unreserved
            assert kind == "scrap" and "cannot scrap" in str(exc) and self.live.seq == seq

    @rule(node=st.sampled_from(SC.node_ids), sku=st.sampled_from(SKUS), on_hand=st.integers(0, 30))
    def count(self, node, sku, on_hand):
        try:
            self.live.count(node, sku, on_hand, at=self._at(0.1))
        except OmsimError as exc:
            assert "below the" in str(exc)

    @rule(lines=st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 6)), min_size=1, max_size=3),
          region=st.sampled_from(REGIONS), hold_h=st.floats(0.1, 4), dt_h=st.floats(0, 2))
    def hold_and_expire(self, lines, region, hold_h, dt_h):
        """A held promise reserves like an order; the holds whose time is up are released."""
        before = self.live.engine.inventory.reserved.sum()
        d, _ev = self.live.hold(f"H{self.live.seq}", lines, region, at=self._at(dt_h), hold_h=hold_h)
        held = sum(int(q) for s in d.shipments for q in s.qty)
        assert self.live.engine.inventory.reserved.sum() == before + held
        for hid in self.live.expired_holds(self._at(1.0)):
            self.live.release(hid, at=self.t, expired=True)
        assert all(exp > self.t for _k, exp in self.live.holds.values())

    @rule()
    def snapshot(self):
        self.snaps.append((self.live.seq, self.live.snapshot()))

    @invariant()
    def stock_is_consistent(self):
        inv = self.live.engine.inventory
        assert (inv.on_hand >= 0).all() and (inv.reserved >= 0).all() and (inv.reserved <= inv.on_hand).all()
        # Every unit accounted for: the ledger's running sum is the stock.
        np.testing.assert_array_equal(inv.ledger_on_hand(), inv.on_hand)
        # Every order in exactly one state.
        for s in self.live.orders.values():
            assert s.status in ("allocated", "partial", "backorder", "hold", "cancel", "cancelled", "shipped")

    @precondition(lambda self: self.live.seq > 0)
    @rule()
    def replay_gives_the_same_state(self):
        want = self.live.digest()
        again = LiveEngine.replay(fresh(), self.live.journal)
        assert again.digest() == want
        rebuilt = [again]
        for seq, snap in self.snaps[-2:]:
            rebuilt.append(LiveEngine.replay(None, self.live.journal, snapshot=snap, scenario=SC))
            assert rebuilt[-1].digest() == want
        # ... and the next decision is the same.
        probe = [(SKUS[0], 2), (SKUS[3], 1)]
        o1 = self.live.order("probe", probe, REGIONS[0], "standard", self.t + 1)
        d1 = self.live.engine.decide(o1, o1.created_h)
        for other in rebuilt:
            o2 = other.order("probe", probe, REGIONS[0], "standard", self.t + 1)
            d2 = other.engine.decide(o2, o2.created_h)
            assert decision_to_json(d1, SC.sku_ids, SC.node_ids) == decision_to_json(d2, SC.sku_ids, SC.node_ids)
        # Every order's "why" (its alternatives, worked out from the basis its event keeps) is what the engine
        # would have listed when it decided, though the state has moved on since (and on a rebuilt engine).
        stored = {ev.seq: json.loads(json.dumps(ev.data)) for ev in self.live.journal.read()}   # as a database has it
        for data, want in self.why:
            assert self.live.alternatives(data) == want
            assert rebuilt[-1].alternatives(stored[self.live.orders[data["order_id"]].history[0][0]]) == want

    def teardown(self):
        if self.live.seq:
            self.replay_gives_the_same_state()


Commands.TestCase.settings = settings(max_examples=20, stateful_step_count=25, deadline=None)
test_replayed_journal_gives_the_same_state = Commands.TestCase


def test_datetimes_across_a_dst_change_decide_as_engine_hours():
    """The same orders driven by aware datetimes (London, over the autumn change and a weekend) and by hours."""
    sc = SC.model_copy(update={"horizon": SC.horizon.model_copy(update={"start": dt.date(2026, 10, 23),
                                                                         "timezone": "Europe/London"})})
    a = LiveEngine(DecisionEngine.from_scenario(sc, Streams(2)))
    b = LiveEngine(DecisionEngine.from_scenario(sc, Streams(2)))
    utc = dt.timezone.utc
    stamps = [dt.datetime(2026, 10, 23, 16, 30, tzinfo=utc),   # Friday 17:30 BST
              dt.datetime(2026, 10, 24, 23, 50, tzinfo=utc),   # Sunday 00:50 BST
              dt.datetime(2026, 10, 25, 1, 10, tzinfo=utc),    # Sunday 01:10 GMT, after the change
              dt.datetime(2026, 10, 26, 7, 0, tzinfo=utc)]     # Monday 07:00 GMT
    hours = [17.5, 48 + 0.5 + 1/3, 48 + 2.0, 72 + 7.0]          # local wall time since Friday midnight
    for i, (t, h) in enumerate(zip(stamps, hours)):
        lines = [(SC.sku_ids[i], 1 + i), (SC.sku_ids[i + 10], 2)]
        da, _ = a.place(f"O{i}", lines, REGIONS[i % len(REGIONS)], "express", at=t)
        db, _ = b.place(f"O{i}", lines, REGIONS[i % len(REGIONS)], "express", at=h)
        assert a.last_h == pytest.approx(h)
        assert decision_to_json(da, SC.sku_ids, SC.node_ids) == decision_to_json(db, SC.sku_ids, SC.node_ids)
        assert a.clock.weekday(a.last_h) == [4, 6, 6, 0][i]
    assert a.digest() != LiveEngine(DecisionEngine.from_scenario(sc, Streams(2))).digest()


def test_commands_name_what_is_wrong_and_write_nothing(tmp_path):
    live = LiveEngine(fresh(), SqlJournal(f"sqlite:///{tmp_path / 'j.db'}"))
    live.place("A", [(SKUS[0], 1)], REGIONS[0])
    cases = [
        (lambda: live.place("A", [(SKUS[0], 1)], REGIONS[0]), "order 'A' exists already"),
        (lambda: live.place("B", [("NOPE", 1)], REGIONS[0]), "unknown SKU 'NOPE'"),
        (lambda: live.place("B", [(SKUS[0], 0)], REGIONS[0]), "quantity must be a whole number >= 1"),
        (lambda: live.place("B", [(SKUS[0], 1.5)], REGIONS[0]), "quantity must be a whole number"),
        (lambda: live.place("B", [], REGIONS[0]), "no lines"),
        (lambda: live.place("B", [(SKUS[0], 1)], "atlantis"), "unknown region 'atlantis'"),
        (lambda: live.place("B", [(SKUS[0], 1)], REGIONS[0], "tomorrow"), "unknown service level"),
        (lambda: live.place("B", [(SKUS[0], 1)], REGIONS[0], at=dt.datetime(2026, 12, 1)), "no time zone"),
        (lambda: live.cancel("ZZ"), "unknown order 'ZZ'"),
        (lambda: live.ship("A", 5), "has no shipment 5"),
        (lambda: live.receive("XXX", SKUS[0], 1), "unknown node 'XXX'"),
        (lambda: live.count(SC.node_ids[0], SKUS[0], 3, expected=-1), "expected on hand -1"),
    ]
    for call, msg in cases:
        with pytest.raises(OmsimError, match=msg):
            call()
    assert live.seq == 1 and live.journal.last_seq() == 1
    live.ship("A", 0)
    with pytest.raises(OmsimError, match="has shipped"):
        live.cancel("A")
    # Events apply only in sequence.
    with pytest.raises(OmsimError, match="applied after 2; expected 3"):
        live.apply(Event("stock.received", {"node": SC.node_ids[0], "sku": SKUS[0], "qty": 1}, seq=5))
    # A restart on the same database is the same engine.
    back = LiveEngine.replay(fresh(), SqlJournal(f"sqlite:///{tmp_path / 'j.db'}"))
    assert back.digest() == live.digest() and back.orders["A"].status == "shipped"
