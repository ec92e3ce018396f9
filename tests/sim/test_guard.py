"""Run guards (omsim.sim.guard): the order estimate, and refusing runs that cannot fit in memory."""
import math

import pytest
from click.testing import CliRunner

import omsim
from omsim.cli import main
from omsim.sim.demand import generate_demand
from omsim.rng import Streams
from omsim.sim.guard import check_run, estimate_bytes, expected_orders


def test_expected_orders_is_the_mean_of_the_generated_demand():
    """Poisson arrivals: the generated count is within 5 standard deviations of the estimate."""
    sc = omsim.load_scenario("scenarios/peak-season.yaml")
    est = expected_orders(sc, 14)
    n = generate_demand(sc, Streams(7), 14).n
    assert abs(n - est) < 5 * math.sqrt(est)
    # Promotions count: the peak fortnight carries more than 14 ordinary days.
    assert est > 14 * sc.demand.orders_per_day * 1.1


def test_a_run_larger_than_memory_is_refused_naming_the_fix():
    sc = omsim.load_scenario()
    need = estimate_bytes(expected_orders(sc, 7), streamed=False)
    assert check_run(sc, 7, available=2 * need)["orders"] == pytest.approx(expected_orders(sc, 7))
    with pytest.raises(omsim.OmsimError, match=r"--format parquet.*fewer --days"):
        check_run(sc, 7, available=need / 2)
    # Streamed runs need less: the same machine takes what it refused in memory.
    assert estimate_bytes(1e6, streamed=True) < estimate_bytes(1e6, streamed=False) / 2
    with pytest.raises(omsim.OmsimError, match="fewer --days"):
        check_run(sc, 7, streamed=True, available=1.0)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_cli_refuses_a_billion_orders_a_day_before_starting(tmp_path, fmt):
    sc = tmp_path / "absurd.yaml"
    sc.write_text("extends: " + str(omsim.scenario.default_scenario_path()) +
                  "\nname: absurd\ndemand:\n  orders_per_day: 1000000000\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["simulate", str(sc), "--out", str(out), "--format", fmt])
    assert r.exit_code == 2, r.output
    assert "orders" in r.output and "GB" in r.output and "fewer --days" in r.output
    assert "Traceback" not in r.output
    assert not out.exists()                       # nothing started, nothing written


def test_api_refuses_too_large_a_run():
    sc = omsim.load_scenario()
    big = sc.model_copy(update={"demand": sc.demand.model_copy(update={"orders_per_day": 1e9})})
    with pytest.raises(omsim.OmsimError, match="memory"):
        omsim.simulate(big, days=1)
    with pytest.raises(omsim.OmsimError, match="memory"):
        omsim.replicate(big, 2, days=1)
