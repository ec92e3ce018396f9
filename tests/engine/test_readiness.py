"""omsim.engine.readiness: ready times against the promise module's calendar walk."""
import pytest
from hypothesis import given, settings, strategies as st

from omsim.scenario import scenario_from_dict
from engine_helpers import _order, engine_with_stock, small_scenario_dict


def test_backlog_and_labour_push_the_pickup():
    from omsim.engine import labour_units_per_h
    from omsim.fulfilment.promise import next_cutoff_h, ready_time_h

    raw = small_scenario_dict(1, 1, 1, nodes={0: {"pickers": 1, "packers": 1, "pickup_hour": 18.0}})
    sc = scenario_from_dict(raw)
    engine = engine_with_stock(sc, [[10_000]])
    rate = labour_units_per_h(sc.network.warehouses[0], sc)
    assert engine.labour_units_per_h[0] == rate and 10 < rate < 1000
    # a first order of 10 working hours' units at 10:00: the node is busy until the evening shift ends
    big = int(10 * rate)
    d1 = engine.decide(_order(1, [0], [big], t=10.0), 10.0)
    shifts = sc.network.warehouses[0].shifts
    ready1 = ready_time_h(10.0, 0, rate, shifts, engine.start_weekday, big)
    assert d1.shipments[0].ship_by_h == next_cutoff_h(ready1, 18.0)
    assert 19.9 < ready1 <= 20.0 and d1.shipments[0].ship_by_h == 42.0
    engine.commit(d1, 10.0)
    assert engine.node_backlog_units[0] == big
    # the next order waits behind it: ready after today's pickup, so on tomorrow's
    d2 = engine.decide(_order(2, [0], [1], t=10.5), 10.5)
    ready2 = ready_time_h(10.5, big, rate, shifts, engine.start_weekday, 1)
    assert ready2 > 18.0 and d2.shipments[0].ship_by_h == next_cutoff_h(ready2, 18.0) == 42.0
    # shipping the first one clears the backlog: a new order makes today's pickup again
    engine.ship(1, 0, 11.0)
    d3 = engine.decide(_order(3, [0], [1], t=11.0), 11.0)
    assert d3.shipments[0].ship_by_h == 18.0


@given(t=st.floats(0, 400), backlog=st.integers(0, 40_000), units=st.integers(1, 50),
       shifts=st.sampled_from([None, [{"start": 6, "end": 14}, {"start": 14, "end": 22}],
                               [{"start": 22, "end": 30, "weekdays": [0, 1, 2, 3, 4]}],
                               [{"start": 8, "end": 12}, {"start": 13, "end": 17, "weekdays": [0, 2, 4]}]]))
@settings(max_examples=200, deadline=None)
def test_cached_ready_time_equals_the_promise_module(t, backlog, units, shifts):
    from omsim.fulfilment.promise import ready_time_h

    nodes = {} if shifts is None else {0: {"shifts": shifts}}
    sc = scenario_from_dict(small_scenario_dict(1, 1, 1, nodes=nodes))
    engine = engine_with_stock(sc, [[1]])
    engine.node_backlog_units[0] = backlog
    wh = sc.network.warehouses[0]
    for tt in (t, t + 0.25, t + 200.0):   # also after the cached fortnight has moved on
        want = ready_time_h(tt, backlog, engine.labour_units_per_h[0], wh.shifts, engine.start_weekday, units)
        assert engine._ready_h(tt, float(units))[0] == pytest.approx(want, abs=1e-9)
