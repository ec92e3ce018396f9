"""omsim.engine.store: DecisionArrays' layout and the column store's compaction over long runs."""
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from omsim.engine import DecisionEngine, decision_arrays
from omsim.rng import Streams
from engine_helpers import (COMPACTIONS, _decide_both, _default_scenario, _pair, assert_columns, assert_same_state, columnar, columns_of, decision_key, random_lines, reference, tiny_store, worlds)


@given(world=worlds())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_decision_arrays_lays_out_decisions_as_the_compiled_run_does(world):
    # Decisions taken one at a time (the batch policy's windows in the simulator) laid out as
    # columns: the same columns the compiled run hands over for the same orders.
    sc, on_hand, safety, units_cap, orders, times = world
    a, b = _pair(sc, on_hand, safety, units_cap)
    want, da = _decide_both(a, b, orders, times, False)
    got = decision_arrays(want, a)
    assert got.n == da.n == len(want)
    assert_columns(got, columns_of(want, a))
    for f in ("status", "promised_h", "total", "pkg_ptr", "unfilled", "pkg_node", "pkg_service", "pkg_ship_by_h",
              "pkg_promised_h", "pkg_transit_h", "pkg_kg", "pkg_line_ptr", "pkg_sku", "pkg_qty"):
        np.testing.assert_array_equal(getattr(got, f), getattr(da, f), err_msg=f)


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
        pairs = [(o, k) for o in sorted(a.open_order_ids()) for k, ok in enumerate(a.open_order(o).unshipped) if ok]
        if pairs:
            lot = data.draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
            for o, k in lot:
                a.ship(o, k, t)
            b.ship_many([o for o, _ in lot], [k for _, k in lot], t)
        if a.open_orders and data.draw(st.booleans()):
            o = data.draw(st.sampled_from(sorted(a.open_order_ids())))
            assert b.cancel(o, t) == a.cancel(o, t)
        assert_same_state(a, b)
        for o in a.open_order_ids():
            assert decision_key(b.committed(o)) == decision_key(a.committed(o))
    # every DecisionArrays handed out still holds what it held (compaction never rewrites a column)
    for da, cols in handed:
        assert_columns(da, cols)
    COMPACTIONS.append(b.store_stats()['compactions'])


def test_the_store_stays_bounded_over_a_long_stream_of_shipped_orders():
    # 30 days of ~600 orders a day on the default scenario, each day's packages shipped the next day:
    # the store holds the open orders (about two days' worth), not the 18,000 decided.
    sc = _default_scenario()
    rng = np.random.default_rng(4)
    e = DecisionEngine.from_scenario(sc, Streams(sc.seed))
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
        sizes.append((e.open_orders, e.store_stats()['rows'], e.store_stats()['capacity']))
    opened, rows, cap = sizes[-1]
    assert e.store_stats()['compactions'] > 0
    assert rows <= 4 * max(opened, 1) + 256 and cap <= 8 * max(opened, 1) + 1024, sizes[-5:]
