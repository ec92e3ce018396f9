"""Long runs: the engine's column store is compacted (memory follows the open orders), and the state
stays what decide + commit, ship and cancel one by one give.

The reference is the engine's Python path (as in test_engine_arrays.py). The
store starts tiny here so that compaction happens every few runs: open
orders' rows are renumbered, closed ones dropped, and views handed out before
must keep their values.
"""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omsim.engine import DecisionEngine
from omsim.engine.store import _Store
from omsim.rng import Streams

from test_engine_arrays import _default_scenario, _pair, assert_columns, assert_same_state, columns_of, decision_key, random_lines, worlds
from test_engine_probe import columnar, reference


COMPACTIONS = []


def tiny_store(engine):
    engine._store = _Store(engine, orders=2, lines=2, pkgs=2, pkg_lines=2)


@given(world=worlds(), data=st.data())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_runs_ships_and_cancels_over_a_compacting_store_equal_the_one_by_one_path(world, data):
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap)
    tiny_store(b)
    handed = []      # (DecisionArrays, their values when handed out)
    i = 0
    while i < len(orders):
        m = data.draw(st.integers(1, 4))
        part, pt = orders[i:i + m], times[i:i + m]
        want, rem, _ = reference(a, part, pt, rem0=100_000 + i)
        da = columnar(b, part, pt, rem0=100_000 + i)
        assert da.rem_status.tolist() == rem.tolist()
        cols = columns_of(want, a)
        assert_columns(da, cols)
        handed.append((da, cols))
        i += m
        # ship some open packages (orders close: their rows become garbage), sometimes cancel one
        t = pt[-1]
        pairs = [(o, k) for o in sorted(a._open) for k, ok in enumerate(a._open[o].open) if ok]
        if pairs:
            lot = data.draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
            for o, k in lot:
                a.ship(o, k, t)
            b.ship_many([o for o, _ in lot], [k for _, k in lot], t)
        if a._open and data.draw(st.booleans()):
            o = data.draw(st.sampled_from(sorted(a._open)))
            assert b.cancel(o, t) == a.cancel(o, t)
        assert_same_state(a, b)
        for o in a._open:
            assert decision_key(b.committed(o)) == decision_key(a.committed(o))
    # every DecisionArrays handed out still holds what it held (compaction never rewrites a column)
    for da, cols in handed:
        assert_columns(da, cols)
    COMPACTIONS.append(b._store.compactions)


def test_the_store_stays_bounded_over_a_long_stream_of_shipped_orders():
    # 30 days of ~600 orders a day on the default scenario, each day's packages shipped the next day:
    # the store holds the open orders (about two days' worth), not the 18,000 decided.
    sc = _default_scenario()
    rng = np.random.default_rng(4)
    e = DecisionEngine.from_scenario(sc, Streams(sc.seed), explain=False)
    oid = 0
    pending = []
    sizes = []
    for day in range(30):
        n = 600
        t = np.sort(rng.uniform(day * 24.0, day * 24.0 + 23.0, n))
        ptr, sku = random_lines(rng, n, len(sc.sku_ids))
        qty = np.ones(int(ptr[-1]), dtype=np.int64)
        ids = np.arange(oid, oid + n, dtype=np.int64)
        oid += n
        for s in range(0, n, 25):
            da = e.decide_commit_arrays(ids[s:s + 25], t[s:s + 25], rng.integers(0, len(sc.demand.regions), 25)[:len(ids[s:s + 25])],
                                        np.zeros(len(ids[s:s + 25]), dtype=np.int64), ptr[s:s + 26] - ptr[s], sku[ptr[s]:],
                                        qty[ptr[s]:])
            npk = np.diff(da.pkg_ptr)
            pending.append((np.repeat(ids[s:s + da.n], npk), np.concatenate([np.arange(k) for k in npk]).astype(np.int64)))
        # ship yesterday's packages
        keep = []
        for po, pk in pending:
            if po.size and po[0] < oid - n:
                e.ship_many(po, pk, day * 24.0 + 23.5)
            elif po.size:
                keep.append((po, pk))
        pending = keep
        # restock what was shipped so stock lasts
        short = e.inventory.on_hand < 50
        e.inventory.on_hand[short] += 200
        sizes.append((len(e._open), e._store.O, len(e._store.status)))
    opened, rows, cap = sizes[-1]
    assert e._store.compactions > 0
    assert rows <= 4 * max(opened, 1) + 256 and cap <= 8 * max(opened, 1) + 1024, sizes[-5:]
