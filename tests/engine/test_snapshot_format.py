"""The live engine's snapshot format: versioned and explicit; another version or a damaged one is refused."""
import io
import json

import numpy as np
import pytest

import omsim
from omsim.engine import DecisionEngine
from omsim.errors import OmsimError
from omsim.engine.journal import MemoryJournal
from omsim.engine.live import LiveEngine, decision_to_json
from omsim.engine.snapshot import FORMAT_VERSION, SnapshotError, load

SC = omsim.load_scenario()


def busy() -> LiveEngine:
    live = LiveEngine(DecisionEngine.from_scenario(SC))
    live.place("A", [("SKU00001", 2), ("SKU00002", 1)], "new-york", at=1.0)
    live.place("B", [("SKU00003", 4)], "chicago", at=2.0)
    live.place("C", [("SKU00004", 1)], "dallas", "express", at=2.5)
    live.ship("A", 0, at=3.0)
    live.cancel("C", at=3.5)
    live.hold("H", [("SKU00005", 1)], "chicago", at=4.0)
    live.receive("RNO", "SKU00001", 7, at=5.0)
    live.restock("MEM", "SKU00002", 1, order_id="A", at=6.0)
    live.scrap("MEM", "SKU00002", 1, order_id="A", at=6.5)
    live.count("ABE", "SKU00006", 3, at=7.0)
    prices = np.zeros((len(SC.sku_ids), len(SC.node_ids)))
    prices[:3] = [[0.5, 3.25, 0.0], [1.0, 0.0, 7.5], [0.125, 0.25, 2.0]]
    live.set_prices(prices, live.last_h, live.seq)                           # lookahead prices, version 1
    live.place("L", [("SKU00001", 1), ("SKU00002", 1)], "dallas", at=8.0, policy="lookahead")
    return live


def rewrite(data: bytes, **change) -> bytes:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    state = json.loads(arrays.pop("state_json").tobytes())
    state.update(change)
    buf = io.BytesIO()
    np.savez(buf, state_json=np.frombuffer(json.dumps(state).encode(), dtype=np.uint8), **arrays)
    return buf.getvalue()


def test_a_snapshot_restores_the_same_state_and_the_same_next_decision():
    live = busy()
    journal = MemoryJournal()
    journal.append_at(1, live.journal.read(after=0))            # a copy of the journal, for the commands after
    back = load(live.snapshot(), SC, journal)
    assert back.digest() == live.digest() and back.seq == live.seq == 12
    assert back.price_version == 1 and (back.engine.shadow_prices(8.0) == live.engine.shadow_prices(8.0)).all()
    assert back.orders["A"].history == live.orders["A"].history and back.holds == live.holds
    for policy in ("cheapest", "lookahead"):
        o1 = live.order("P", [("SKU00001", 3), ("SKU00003", 1)], "atlanta", "standard", 8.0)
        o2 = back.order("P", [("SKU00001", 3), ("SKU00003", 1)], "atlanta", "standard", 8.0)
        d1, d2 = live.engine.decide(o1, 8.0, policy, explain=True), back.engine.decide(o2, 8.0, policy, explain=True)
        assert decision_to_json(d1, SC.sku_ids, SC.node_ids) == decision_to_json(d2, SC.sku_ids, SC.node_ids)
    # and it goes on: the same commands after the restore give the same state
    for lv in (live, back):
        lv.ship("B", 0, at=9.0)
        lv.place("M", [("SKU00002", 2)], "atlanta", at=9.25, policy="lookahead")
        lv.release("H", at=9.5)
    assert back.digest() == live.digest()
    assert b"pickle" not in live.snapshot()


def test_another_version_or_damage_is_refused():
    data = busy().snapshot()
    with pytest.raises(SnapshotError, match=f"format_version 99, this omsim reads {FORMAT_VERSION}"):
        load(rewrite(data, format_version=99), SC)
    with pytest.raises(SnapshotError, match="not an omsim.live-state snapshot"):
        load(rewrite(data, format="something.else"), SC)
    with pytest.raises(SnapshotError, match="not readable"):
        load(data[: len(data) // 2], SC)
    with pytest.raises(SnapshotError, match="damaged"):
        load(rewrite(data, open=[["x"]]), SC)
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        opened = json.loads(z["state_json"].tobytes())["open"]
    oid, dj, day, service, pdays, is_open, count = opened[0]        # an open order, one package too few recorded
    short = [[oid, dj, day, service, pdays, is_open[:-1], count]] + opened[1:]
    with pytest.raises(SnapshotError, match=f"damaged .*order {oid}: {len(is_open)} packages but "
                                            f"{len(is_open) - 1} recorded"):
        load(rewrite(data, open=short), SC)
    other = SC.model_copy(update={"catalogue": SC.catalogue.model_copy(update={"skus": SC.catalogue.skus[:10]})})
    with pytest.raises(SnapshotError, match="nodes and SKUs"):
        load(data, other)


def test_state_made_outside_the_live_commands_is_refused_and_left_alone():
    """A snapshot holds what the journal can rebuild: replenishment POs (``review``) and bookings made by the
    simulator's column path (``decide_commit_arrays``) are not journal events, so ``snapshot`` refuses them,
    naming which, and changes nothing."""
    live = LiveEngine(DecisionEngine.from_scenario(SC))
    live.count(SC.node_ids[0], "SKU00001", 0, at=1.0)
    assert len(live.engine.review(0, 1.0)) == 1          # one purchase order for the SKU counted out
    before = live.digest()
    with pytest.raises(OmsimError, match="open purchase orders are not part of the live state"):
        live.snapshot()
    assert live.digest() == before

    live = LiveEngine(DecisionEngine.from_scenario(SC))
    live.place("A", [("SKU00002", 1)], "chicago", at=1.0)
    one = np.array([0])
    live.engine.decide_commit_arrays(np.array([900]), np.array([1.5]), one, one, np.array([0, 1]), one, np.array([1]))
    before = live.digest()
    with pytest.raises(OmsimError, match="order 900 was not committed through the live engine"):
        live.snapshot()
    assert live.digest() == before
