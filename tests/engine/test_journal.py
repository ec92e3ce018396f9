"""The journal's contract, one test case run against every store (memory, SQLite file and memory, PostgreSQL)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.errors import OmsimError
from omsim.engine.journal import Event, JournalConflict, MemoryJournal, SqlJournal, digest, open_journal

STORES = ["memory", "sqlite-file", "sqlite-memory", "postgresql"]


def make(kind, tmp_path, request=None):
    if kind == "memory":
        return MemoryJournal()
    if kind == "sqlite-file":
        return SqlJournal(f"sqlite:///{tmp_path / 'j.db'}")
    if kind == "postgresql":
        return SqlJournal(request.getfixturevalue("pg_url"))
    return SqlJournal("sqlite://")


events = st.lists(st.builds(Event, type=st.sampled_from(["order.committed", "order.cancelled", "stock.received"]),
                            data=st.dictionaries(st.text(min_size=1, max_size=5), st.integers() | st.text(max_size=5),
                                                 max_size=3),
                            at_h=st.floats(0, 1e4)), max_size=6)


@pytest.mark.parametrize("kind", STORES)
def test_appends_are_numbered_stamped_and_read_back_in_order(kind, tmp_path, request):
    j = make(kind, tmp_path, request)
    assert j.last_seq() == 0 and j.read() == []
    a = j.append([Event("order.committed", {"order_id": "W1", "lines": [["SKU1", "MEM", 2]]}, at_h=8.5)])
    b = j.append([Event("order.shipped", {"order_id": "W1", "shipment": 0}, at_h=9.0),
                  Event("stock.received", {"node": "MEM", "sku": "SKU1", "qty": 10}, at_h=9.0, version=2)])
    assert [e.seq for e in a + b] == [1, 2, 3]
    assert all(e.recorded_at.endswith("+00:00") for e in a + b)      # UTC, set by the journal
    assert j.read() == a + b
    assert j.read(after=1, limit=1) == b[:1]
    assert j.read(after=3) == []
    assert j.read()[2].version == 2 and j.read()[0].data["lines"] == [["SKU1", "MEM", 2]]


@pytest.mark.parametrize("kind", STORES)
def test_append_out_of_sequence_fails_and_writes_nothing(kind, tmp_path, request):
    j = make(kind, tmp_path, request)
    j.append([Event("a"), Event("b")])
    for wrong in (1, 2, 4):
        with pytest.raises(JournalConflict, match=f"append at sequence {wrong}, but the next is 3"):
            j.append_at(wrong, [Event("c")])
    assert [e.type for e in j.read()] == ["a", "b"]
    assert j.append_at(3, [Event("c")])[0].seq == 3


@pytest.mark.parametrize("kind", ["sqlite-file", "postgresql"])
def test_a_second_writer_on_the_same_database_cannot_fork_it(kind, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'j.db'}" if kind == "sqlite-file" else request.getfixturevalue("pg_url")
    one, two = SqlJournal(url), SqlJournal(url)
    one.append([Event("a")])
    assert two.last_seq() == 1                      # the second sees the first's commit
    # A writer that checked before the other wrote is stopped by the primary key itself.
    two._write([Event("b").numbered(2, "x")])
    with pytest.raises(JournalConflict, match="sequence 2 was written by another writer"):
        one._write([Event("c").numbered(2, "y")])
    assert [e.type for e in SqlJournal(url).read()] == ["a", "b"]


@settings(max_examples=40, deadline=None)
@given(st.lists(events, max_size=5), st.integers(0, 12), st.integers(0, 5) | st.none())
def test_any_appends_read_back_as_a_list_would(batches, after, limit):
    j = SqlJournal("sqlite://")
    model = []
    for batch in batches:
        model.extend(e.type for e in j.append(batch))
    got = j.read(after, limit)
    want = model[after:] if limit is None else model[after:after + limit]
    assert [e.type for e in got] == want
    assert [e.seq for e in got] == list(range(after + 1, after + 1 + len(want)))


def test_events_and_stores_refuse_bad_input():
    with pytest.raises(OmsimError, match="type must be a non-empty string"):
        Event("")
    with pytest.raises(OmsimError, match="at_h must be finite"):
        Event("a", at_h=float("nan"))
    with pytest.raises(OmsimError, match="limit must be >= 0"):
        MemoryJournal().read(limit=-1)
    with pytest.raises(OmsimError, match="cannot use database 'nosuch://x'"):
        open_journal("nosuch://x")
    assert isinstance(open_journal(None), MemoryJournal)


def test_digest_is_canonical_and_sensitive():
    a = {"stock": np.arange(6, dtype=np.int64).reshape(2, 3), "open": {"W1": [1, 2]}, "seq": 3}
    b = {"seq": 3, "open": {"W1": [1, 2]}, "stock": np.arange(6, dtype=np.int64).reshape(2, 3)}
    assert digest(a) == digest(b)
    c = dict(b, stock=b["stock"].copy())
    c["stock"][1, 2] += 1
    assert digest(c) != digest(a)
    assert digest(dict(a, stock=a["stock"].astype(np.int32))) != digest(a)   # dtype counts
    assert digest(dict(a, stock=a["stock"].reshape(3, 2))) != digest(a)      # shape counts


def test_event_data_with_numpy_values_is_stored_as_plain_json(tmp_path):
    """Event text goes to the C encoder when the data is plain JSON, else through the NumPy-aware canonical
    form: the same values read back either way."""
    j = SqlJournal(f"sqlite:///{tmp_path / 'j.db'}")
    j.append([Event("stock.received", {"node": "MEM", "sku": "SKU1", "qty": np.int64(4), "w": np.float64(0.5)}),
              Event("stock.received", {"node": "MEM", "sku": "SKU1", "qty": 4, "w": 0.5})])
    a, b = j.read()
    assert a.data == b.data == {"node": "MEM", "sku": "SKU1", "qty": 4, "w": 0.5}
    assert type(a.data["qty"]) is int
