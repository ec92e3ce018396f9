"""The live engine's snapshot format: versioned and explicit; another version or a damaged one is refused."""
import io
import json

import numpy as np
import pytest

import omsim
from omsim.engine import DecisionEngine
from omsim.engine.journal import MemoryJournal
from omsim.engine.live import LiveEngine
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
    assert back.digest() == live.digest() and back.seq == live.seq == 10
    assert back.orders["A"].history == live.orders["A"].history and back.holds == live.holds
    o1 = live.order("P", [("SKU00001", 3)], "atlanta", "standard", 8.0)
    o2 = back.order("P", [("SKU00001", 3)], "atlanta", "standard", 8.0)
    assert live.engine.decide(o1, 8.0) == back.engine.decide(o2, 8.0)
    # and it goes on: the same commands after the restore give the same state
    for lv in (live, back):
        lv.ship("B", 0, at=9.0)
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
    other = SC.model_copy(update={"catalogue": SC.catalogue.model_copy(update={"skus": SC.catalogue.skus[:10]})})
    with pytest.raises(SnapshotError, match="nodes and SKUs"):
        load(data, other)
