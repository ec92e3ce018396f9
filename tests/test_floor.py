"""One floor for every clock: the planner's floor gives the simulator's waves, batches, routes and pick hours."""
import numpy as np
import pandas as pd
import pytest

import omsim
from omsim.engine import floor as floor_mod
from omsim.engine.floor import floors
from omsim.plan import make_plan
from omsim.rng import Streams
from omsim.sim.model import Simulation

SEED = 3


def _record(scenario, days):
    """Every ``Floor.tours`` call of a simulation, with what it answered."""
    calls = []
    original = floor_mod.Floor.tours

    def record(self, line_ptr, line_sku, units):
        out = original(self, line_ptr, line_sku, units)
        calls.append((self, np.array(line_ptr), np.array(line_sku), np.array(units), out))
        return out

    floor_mod.Floor.tours = record
    try:
        sim = Simulation(scenario, SEED, days)
        sim.run()
    finally:
        floor_mod.Floor.tours = original
    return sim, calls


@pytest.mark.parametrize("variant", [{}, {"policies": {"batching": "seed", "routing": "s-shape"}}])
def test_plan_floors_answer_the_simulators_released_waves_exactly(variant):
    sc = omsim.load_scenario()
    if variant:
        sc = sc.model_copy(update={"policies": sc.policies.model_copy(update=variant["policies"])})
    sim, calls = _record(sc, days=1)
    assert len(calls) > 20
    # The floors omsim plan builds (same streams, same seed), asked the same waves in the same order.
    planner = floors(sc, Streams(SEED))
    node_of = {id(f): n for n, f in enumerate(sim.floors)}
    for fl, ptr, sku, units, (tours, lengths, picks) in calls:
        n = node_of[id(fl)]
        p_tours, p_lengths, p_picks = planner[n].tours(ptr, sku, units)
        assert [t.tolist() for t in p_tours] == [t.tolist() for t in tours]
        np.testing.assert_array_equal(p_lengths, lengths)
        np.testing.assert_array_equal(p_picks, picks)
        assert planner[n].pick_hours_list(p_lengths, p_picks) == fl.pick_hours_list(lengths, picks)
        # Each tour's stop-by-stop route is as long as the tour the batching reported.
        for t, length in zip(p_tours[:3], p_lengths[:3]):
            lines = np.concatenate([sku[ptr[i]:ptr[i + 1]] for i in t])
            _, cum, full = planner[n].tour_stops(lines)
            assert full == pytest.approx(length, abs=1e-6)
            assert np.all(np.diff(cum) >= -1e-9) and cum[-1] <= full + 1e-9


def test_plan_waves_are_the_floors_batches_and_pick_hours(tmp_path):
    sc = omsim.load_scenario("scenarios/default.yaml")
    plan = make_plan(sc, "scenarios/plan/open_orders.csv", "scenarios/plan/stock.csv", at="2026-12-01 08:00")
    fl = floors(sc, Streams(sc.seed))
    lines = plan.lines[plan.lines["package"] > 0]
    for (node, wave), w in plan.waves.set_index(["node", "wave"]).iterrows():
        r = plan.routes[(plan.routes["node"] == node) & (plan.routes["wave"] == wave)]
        assert r["batch"].nunique() == w["batches"]
        ends = r[r["location"] == "depot"].groupby("batch")["cum_length_m"].max()
        assert ends.sum() == pytest.approx(w["length_m"], abs=1e-3)
        # Pick hours per line, as the simulator charges a tour (PickTimeModel), not per unit.
        n = sc.node_ids.index(node)
        picks = r[r["location"] == "pick"].groupby("batch").size().reindex(ends.index)
        want = fl[n].pick_hours(ends.to_numpy(), picks.to_numpy()).sum()
        assert w["picker_h"] == pytest.approx(want, abs=1e-3)
    assert plan.waves["packages"].sum() == lines.groupby(["order_id", "package"]).ngroups


def test_a_registered_routing_method_is_selectable_in_a_scenario(tmp_path):
    from omsim.errors import OmsimError
    from omsim.warehouse import ROUTING_METHODS, register_method

    s_shape = ROUTING_METHODS["s-shape"]
    register_method("test-s-shape", s_shape.route, s_shape.lengths, description="s-shape under another name (test)")
    try:
        p = tmp_path / "s.yaml"
        p.write_text("extends: " + str(__import__("pathlib").Path("scenarios/default.yaml").resolve()) +
                     "\nname: r\nset: {policies.routing: test-s-shape, policies.batching: fcfs}\n")
        sc = omsim.load_scenario(p)
        res = omsim.simulate(sc, seed=1, days=1)
        base = omsim.simulate(omsim.load_scenario(p).model_copy(update={"policies": sc.policies.model_copy(
            update={"routing": "s-shape"})}), seed=1, days=1)
        pd.testing.assert_frame_equal(res.orders, base.orders)   # the same method under its new name
        p.write_text(p.read_text().replace("test-s-shape", "no-such-route"))
        with pytest.raises(OmsimError, match="policies.routing.*unknown routing method 'no-such-route'.*test-s-shape"):
            omsim.load_scenario(p)
    finally:
        ROUTING_METHODS.pop("test-s-shape", None)
