"""The model against queueing and inventory theory."""
import numpy as np
import pytest

from omsim.sim.model import Simulation

from conftest import small_scenario


def test_littles_law_holds_for_the_picking_queue():
    # Busy pickers (one per node, slow walking) so that tours queue.
    sc = small_scenario(**{"network.warehouses.0.pickers": 1, "network.warehouses.0.walk_speed_m_per_s": 0.15,
                           "network.warehouses.0.stock.days_cover": 30})
    sim = Simulation(sc, 21, days=4)
    st = sim.pickers[0]
    samples, dt = [], 0.0137  # incommensurate with the hourly waves

    def monitor():
        while True:
            yield sim.env.timeout(dt)
            samples.append(st.queue_length)

    sim.env.process(monitor())
    sim.run()
    T = len(samples) * dt
    waits = st.waits_until(T)
    lam = waits.size / T
    L_sampled = float(np.mean(samples))
    assert waits.size > 100 and L_sampled > 0.5  # the queue is not trivially empty
    assert L_sampled == pytest.approx(lam * waits.mean(), rel=0.05)


def test_utilisation_is_busy_over_shift_hours():
    sim = Simulation(small_scenario(), 2, days=3)
    res = sim.run()
    busy = sum(s.busy_h for s in sim.pickers)
    shift = sum(s.servers * c.open_hours(0, 72.0) for s, c in zip(sim.pickers, sim.calendars))
    assert res.kpis["picker_utilisation"] == pytest.approx(busy / shift)
    # Every recorded tour took exactly its service time and started inside a shift.
    for st, cal in zip(sim.pickers, sim.calendars):
        s = np.asarray(st.start_h)
        s = s[np.isfinite(s)]
        assert all(cal.next_open(x) == x for x in s)
