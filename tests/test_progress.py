"""Progress (omsim.progress): plain periodic lines off a terminal, advancing within a simulated day."""
import io
import re

from click.testing import CliRunner

import omsim
from omsim.cli import main
from omsim.progress import Progress
from omsim.sim.model import Simulation
from omsim.sim.result import kpis_json


def test_off_a_terminal_progress_is_plain_lines_that_advance_within_a_day():
    sc = omsim.load_scenario()
    buf = io.StringIO()
    with Progress("orders", file=buf, interval=0.0) as p:
        sim = Simulation(sc, 1, 1, on_orders=p)
        sim.max_run_orders = 200       # as a day of 100,000 orders is cut into runs of 20,000
        res = sim.run()
    # Cutting the engine's runs short changes nothing (as if an event had stopped them).
    whole = Simulation(sc, 1, 1).run()
    assert kpis_json(res.kpis) == kpis_json(whole.kpis)
    assert res.orders.equals(whole.orders) and res.events.equals(whole.events)
    text = buf.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    counts = [int(re.search(r"(\d+)/(\d+)", ln).group(1)) for ln in lines]
    total = int(re.search(r"(\d+)/(\d+)", lines[-1]).group(2))
    # Many lines during the one simulated day, counting orders up to all of them, with a rate and an ETA.
    assert len(lines) > 5 and counts == sorted(counts) and counts[0] < total // 2 and counts[-1] == total
    assert "orders/s" in lines[-1] and re.search(r"\d\d:\d\d<\d\d:\d\d", lines[0])


def test_interval_throttles_plain_lines():
    buf = io.StringIO()
    p = Progress("runs", file=buf, interval=3600.0)
    for k in range(1, 101):
        p(k, 100)
    p.close()
    assert len(buf.getvalue().splitlines()) == 2      # the first and the last


def test_cli_progress_in_a_log_has_no_carriage_returns(tmp_path):
    r = CliRunner().invoke(main, ["simulate", "--days", "1", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "\r" not in r.output and "orders/s" in r.output
