"""The HTML report of a run directory: files written, figures referenced relatively, errors named."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omsim.errors import OmsimError
from omsim.report import FIGURES, load_run, write_report


@pytest.fixture
def run_dir(tmp_path):
    """A small run directory in the layout ``Result.write`` produces."""
    rng = np.random.default_rng(7)
    n = 60
    created = rng.uniform(0, 48, n)
    delivered = created + rng.uniform(12, 80, n)
    pd.DataFrame({"order_id": np.arange(n), "created_h": created, "status": "delivered",
                  "promised_h": created + 48, "delivered_h": delivered, "units": 2, "units_shipped": 2,
                  "packages": 1, "cost": 10.0}).to_csv(tmp_path / "orders.csv", index=False)
    pd.DataFrame({"time_h": created + 3, "order_id": np.arange(n), "event": "shipped", "node": "N1",
                  "detail": np.where(np.arange(n) % 2, "parcel/ground", "parcel/express")}
                 ).to_csv(tmp_path / "events.csv", index=False)
    pd.DataFrame({"time_h": [0, 0, 5, 9], "node": ["N1", "N1", "N1", "N1"], "sku": ["a", "b", "a", "a"],
                  "delta": [3, 4, -1, -2], "reason": ["initial", "initial", "ship", "ship"],
                  "order_id": [None, None, 1, 2]}).to_csv(tmp_path / "ledger.csv", index=False)
    pd.DataFrame({"day": [0, 1], "orders": [30, 30], "shipments": [25, 35], "backlog": [5, 0],
                  "utilisation_N1": [0.4, 0.8]}).to_csv(tmp_path / "daily.csv", index=False)
    (tmp_path / "kpis.json").write_text(json.dumps({
        "scenario": "tiny <test>", "orders": n, "fill_rate": 0.99, "on_time_rate": 0.8,
        "cost_per_order_shipping": 7.5, "cost_per_order_labour": 2.5}))
    return tmp_path


def test_report_writes_html_and_every_png_it_references(run_dir):
    out = write_report(run_dir)
    assert out == run_dir / "report.html"
    text = out.read_text()
    srcs = re.findall(r"<img src='([^']+)'", text)
    assert srcs == [f"figures/{name}.png" for name in FIGURES]
    for s in srcs:
        png = (out.parent / s)
        assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 2000
    # KPIs in the table, escaped
    assert "tiny &lt;test&gt;" in text and "<th>Fill rate</th><td class='num'>99.0 %</td><td class='key'>fill_rate</td>" in text
    assert "<h2 id='glossary'>KPI glossary</h2>" in text and "1-5 scale" in text
    assert not list(run_dir.glob(".report-*"))  # no temp file left behind


def test_adapters_read_the_run(run_dir):
    run = load_run(run_dir)
    util = run.utilisation()
    assert list(util["node"]) == ["N1", "N1"] and list(util["utilisation"]) == [0.4, 0.8]
    dl = run.deliveries()
    assert sorted(dl["service"].unique()) == ["parcel/express", "parcel/ground"]
    assert len(dl) == 60
    assert run.cost_breakdown() == {"shipping": 7.5, "labour": 2.5}


def test_missing_tables_give_notes_not_errors(run_dir):
    (run_dir / "ledger.csv").unlink()
    (run_dir / "daily.csv").unlink()
    text = write_report(run_dir, run_dir / "sub" / "r.html").read_text()
    assert "ledger.csv not found" in text and "daily.csv not found" in text
    assert (run_dir / "sub" / "figures" / "inventory.png").exists()


def test_not_a_run_directory(tmp_path):
    with pytest.raises(OmsimError, match="no such run directory"):
        write_report(tmp_path / "nope")
    with pytest.raises(OmsimError, match=r"kpis\.json: missing"):
        write_report(tmp_path)


def test_bad_kpis_json_names_the_file(run_dir):
    (run_dir / "kpis.json").write_text("{not json")
    with pytest.raises(OmsimError) as exc:
        write_report(run_dir)
    assert str(run_dir / "kpis.json") in exc.value.message and "not valid JSON" in exc.value.message


# ------------------------------------------------------------------ end to end, on a real simulation
@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    import omsim

    sc = omsim.load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "small-business.yaml")
    res = omsim.simulate(sc, seed=3, days=2)
    out = tmp_path_factory.mktemp("run")
    res.write(out)
    return out, res


def test_report_of_a_real_run_through_the_cli(real_run):
    from click.testing import CliRunner

    from omsim.cli import main
    from omsim.report import build_figures

    out, res = real_run
    r = CliRunner().invoke(main, ["report", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "report.html" in r.output
    text = (out / "report.html").read_text()
    for name in FIGURES:
        assert f"figures/{name}.png" in text and (out / "figures" / f"{name}.png").stat().st_size > 5000
    figs = build_figures(load_run(out))
    nodes = res.scenario.node_ids
    util_lines = [ln for ln in figs["utilisation"].axes[0].get_lines() if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in util_lines] == sorted(nodes)
    daily = figs["daily"].axes[0]
    np.testing.assert_array_equal(
        {ln.get_label(): ln.get_ydata() for ln in daily.get_lines()}["orders"], res.daily["orders"].to_numpy())
    # the cost bars are the simulator's per-order components
    widths = sorted(p.get_width() for p in figs["cost_per_order"].axes[0].patches)
    want = sorted(v for k, v in res.kpis.items() if k.startswith("cost_per_order_") and v)
    assert widths == pytest.approx(want)
    inv = {ln.get_label(): ln for ln in figs["inventory"].axes[0].get_lines()}
    assert inv[nodes[0]].get_ydata()[0] == res.ledger[res.ledger["reason"] == "initial"]["delta"].sum()


def test_report_cli_bad_run_dir_exits_2(tmp_path):
    from click.testing import CliRunner

    from omsim.cli import main

    r = CliRunner().invoke(main, ["report", str(tmp_path / "missing")], catch_exceptions=False)
    assert r.exit_code == 2 and "no such run directory" in r.output and "Traceback" not in r.output
    from omsim.rundir import run_directory

    with run_directory(tmp_path / "bad") as rd:
        (rd.path / "kpis.json").write_text("[1, 2]")
    r = CliRunner().invoke(main, ["report", str(tmp_path / "bad")], catch_exceptions=False)
    assert r.exit_code == 2 and "kpis.json: expected a JSON object" in r.output
    assert not (tmp_path / "bad" / "report.html").exists() and not list(tmp_path.glob(".*"))


def test_a_multi_replication_directory_reports_the_means(tmp_path):
    pd.DataFrame({"replication": [0, 1, 2], "seed": [5, 5, 5], "on_time_rate": [0.9, 0.8, 0.7],
                  "cost_per_order": [10.0, 12.0, 14.0]}).to_csv(tmp_path / "replications.csv", index=False)
    run = load_run(tmp_path)
    assert run.kpis == pytest.approx({"on_time_rate": 0.8, "cost_per_order": 12.0})
    text = write_report(tmp_path).read_text()
    assert "means over 3 replications" in text and "Across replications" in text
    assert "<th>Cost per order</th><td class='num'>12.00</td><td class='num'>2.00</td>" in text
    assert "<th>On-time delivery</th><td class='num'>80.0 %</td><td class='num'>10.0 %</td>" in text
