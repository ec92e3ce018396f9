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
    assert 0 < res.kpis["packer_utilisation"] < 1
    assert res.kpis["pick_wait_mean_h"] >= 0
    # Every recorded tour took exactly its service time and started inside a shift.
    for st, cal in zip(sim.pickers, sim.calendars):
        s = np.asarray(st.start_h)
        s = s[np.isfinite(s)]
        assert all(cal.next_open(x) == x for x in s)


def _poisson_pmf(mean: float, kmax: int) -> np.ndarray:
    k = np.arange(kmax + 1)
    logp = k * np.log(mean) - mean - np.cumsum(np.log(np.maximum(k, 1)))
    return np.exp(logp)


def _expected_excess(mean: float, S: int) -> float:
    """E[(X - S)^+] for X ~ Poisson(mean)."""
    k = np.arange(int(mean * 4 + 50))
    return float(np.sum(np.maximum(k - S, 0) * _poisson_pmf(mean, k[-1])))


def base_stock_fill_rate(lam: float, R: float, L: float, S: int) -> float:
    """Fill rate of periodic review order-up-to S with backorders, Poisson demand (Hadley-Whitin)."""
    return 1.0 - (_expected_excess(lam * (L + R), S) - _expected_excess(lam * L, S)) / (lam * R)


def rq_fill_rate(lam: float, R: float, L: float, r: int, Q: int) -> float:
    """Fill rate of periodic review (R, r, nQ) with backorders, Poisson demand: the inventory
    position after a review is uniform on r+1..r+Q (Hadley-Whitin), so average the base-stock value."""
    return float(np.mean([base_stock_fill_rate(lam, R, L, y) for y in range(r + 1, r + Q + 1)]))


def one_sku_scenario(lam: float, L_days: float, base_days: float, days: int, warmup: int, **repl):
    from omsim.scenario import scenario_from_dict
    return scenario_from_dict({
        "horizon": {"days": days, "warmup_days": warmup},
        "catalogue": {"skus": [{"id": "A", "returnable": False}]},
        "demand": {"orders_per_day": lam, "hour_profile": [1] * 24, "weekday_profile": [1] * 7,
                   "lines_per_order": {"mean": 1, "max": 1}, "units_per_line": {"mean": 1, "max": 1},
                   "payment": {"failure_rate": 0.0},
                   "regions": [{"id": "r", "lat": 40.0, "lon": -75.0}]},
        "network": {"warehouses": [{
            "id": "W", "lat": 40.1, "lon": -75.1, "pickers": 20, "packers": 20,
            "stock": {"days_cover": base_days},
            "replenishment": {"policy": "base_stock", "base_days": base_days, "review_h": 24,
                              "lead_time_days": L_days, "lead_time_sd_days": 0, **repl}}]},
        "policies": {"no_stock": "backorder", "max_backorder_wait_h": 10000, "pick_error_rate": 0.0,
                     "routing": "s-shape", "batching": "fcfs"},
        "post_sales": {"return_probability": 0.0},
    })


@pytest.mark.slow
def test_base_stock_fill_rate_matches_the_analytic_value():
    lam, L, base_days = 20.0, 2.0, 3.1
    S = round(base_days * lam)
    theory = base_stock_fill_rate(lam, 1.0, L, S)
    assert 0.6 < theory < 0.95  # a regime where the test can tell policies apart
    rates = []
    for seed in range(3):
        sim = Simulation(one_sku_scenario(lam, L, base_days, days=90, warmup=5), seed)
        rates.append(sim.run().kpis["fill_rate"])
    m, se = np.mean(rates), np.std(rates, ddof=1) / np.sqrt(len(rates))
    assert abs(m - theory) < 4 * se + 0.01, (m, theory, rates)


@pytest.mark.slow
def test_rq_fill_rate_matches_the_analytic_value():
    lam, L, r_days, Q_days = 20.0, 2.0, 2.0, 1.5
    r, Q = round(r_days * lam), round(Q_days * lam)
    theory = rq_fill_rate(lam, 1.0, L, r, Q)
    assert 0.6 < theory < 0.95
    assert abs(theory - base_stock_fill_rate(lam, 1.0, L, r + 1)) > 0.05  # Q matters here
    rates = []
    for seed in range(3):
        sc = one_sku_scenario(lam, L, (r + Q) / lam, days=90, warmup=5, policy="rQ", r_days=r_days, Q_days=Q_days)
        rates.append(Simulation(sc, 100 + seed).run().kpis["fill_rate"])
    m, se = np.mean(rates), np.std(rates, ddof=1) / np.sqrt(len(rates))
    assert abs(m - theory) < 4 * se + 0.01, (m, theory, rates)
