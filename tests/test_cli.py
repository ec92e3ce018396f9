"""The CLI through click's CliRunner: exit codes, messages, no tracebacks."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from omsim import __version__
from omsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_help_and_version():
    r = run("--help")
    assert r.exit_code == 0 and "validate" in r.output and "simulate" in r.output
    assert "omsim COMMAND --help" in r.output
    r = run("--version")
    assert r.exit_code == 0 and __version__ in r.output


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_validate_ok_on_every_bundled_scenario(path):
    r = run("validate", path)
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"{path}: OK")


BAD = {
    "missing-field": ("network:\n  warehouses:\n    - {id: W, lat: 1, lon: 1}\n", "demand"),
    "wrong-type": ("demand: {orders_per_day: many, regions: [{id: r, lat: 1, lon: 1}]}\n"
                   "network: {warehouses: [{id: W, lat: 1, lon: 1}]}\n", "demand.orders_per_day"),
    "negative-pickers": ("demand: {regions: [{id: r, lat: 1, lon: 1}]}\n"
                         "network: {warehouses: [{id: W, lat: 1, lon: 1}, {id: V, lat: 1, lon: 1, pickers: -2}]}\n",
                         "network.warehouses[1].pickers"),
    "unknown-key": ("demand: {regions: [{id: r, lat: 1, lon: 1}], order_per_day: 5}\n"
                    "network: {warehouses: [{id: W, lat: 1, lon: 1}]}\n", "demand.order_per_day"),
    "bad-yaml": ("demand: {regions: [\n", "not valid YAML"),
    "empty": ("", "empty"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_validate_bad_input_exit_2_names_file_and_field(tmp_path, case):
    text, field = BAD[case]
    p = tmp_path / f"{case}.yaml"
    p.write_text(text)
    r = run("validate", p)
    assert r.exit_code == 2
    assert str(p) in r.output and field in r.output
    assert "Traceback" not in r.output
    assert isinstance(r.exception, SystemExit)  # a clean exit, not an uncaught exception


def test_validate_reports_each_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: -1\n")
    r = run("validate", SCENARIOS[0], bad)
    assert r.exit_code == 2
    assert f"{SCENARIOS[0]}: OK" in r.output and f"{bad}: seed" in r.output


def test_validate_missing_csv_column(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "catalogue: {file: skus.csv}\ndemand: {regions: [{id: r, lat: 1, lon: 1}]}\n"
        "network: {warehouses: [{id: W, lat: 1, lon: 1, stock: {file: stock.csv}}]}\n")
    (tmp_path / "skus.csv").write_text("id\nA\n")
    (tmp_path / "stock.csv").write_text("sku,qty\nA,1\n")
    r = run("validate", tmp_path / "s.yaml")
    assert r.exit_code == 2
    assert "stock.csv: (referenced by network.warehouses[0].stock.file) missing column(s) on_hand" in r.output
    assert "unknown column(s) qty" not in r.output  # the first problem with a table is enough


def test_schema_prints_json_schema():
    r = run("schema")
    assert r.exit_code == 0
    schema = json.loads(r.output)
    assert schema["title"] == "omsim scenario" and "network" in schema["then"]["required"]


def test_simulate_missing_file_is_exit_2_without_traceback(tmp_path):
    r = run("simulate", tmp_path / "nope.yaml")
    assert r.exit_code == 2
    assert "no such file" in r.output and "Traceback" not in r.output


def test_bad_option_is_exit_2():
    r = run("simulate", "--days", "0")
    assert r.exit_code == 2 and "--days" in r.output


SMALL = ROOT / "scenarios" / "small-business.yaml"


def test_simulate_writes_results_and_prints_kpis(tmp_path):
    out = tmp_path / "run"
    r = run("simulate", SMALL, "--days", "2", "--seed", "3", "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    for name in ("kpis.json", "orders.csv", "events.csv", "ledger.csv", "daily.csv"):
        assert (out / name).stat().st_size > 0, name
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["orders"] > 0 and kpis["days"] == 2 and kpis["seed"] == 3
    assert "On-time delivery" in r.output and "Cost per order" in r.output
    table = r.output.split("run: seed 3, 2 day(s)")[1]
    assert " USD" in table.split("Cost per order")[1].splitlines()[0]
    assert not any(line.startswith(("Seed", "Days", "seed ", "days ")) for line in table.splitlines())


def test_kpis_prints_the_glossary():
    r = run("kpis", "--currency", "EUR")
    assert r.exit_code == 0
    assert "satisfaction_mean" in r.output and "1-5 scale" in r.output and "annualised" in r.output
    assert "EUR" in r.output and "Orders shipped" in r.output


def test_simulate_same_seed_byte_identical(tmp_path):
    for name in ("a", "b"):
        assert run("simulate", SMALL, "--days", "2", "--out", tmp_path / name, "-q").exit_code == 0
    for f in ("kpis.json", "orders.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_simulate_replications_report_confidence_intervals(tmp_path):
    out = tmp_path / "reps"
    r = run("simulate", SMALL, "--days", "1", "-r", "3", "--out", out, "-q")
    assert r.exit_code == 0, r.output
    assert "mean ± 95% CI" in r.output and " ± " in r.output.split("Fill rate")[1].splitlines()[0]
    import pandas as pd
    reps = pd.read_csv(out / "replications.csv")
    assert list(reps["replication"]) == [0, 1, 2]
    assert reps["orders"].nunique() > 1  # independent streams, not one run thrice


def test_simulate_with_report(tmp_path):
    out = tmp_path / "run"
    r = run("simulate", SMALL, "--days", "1", "--out", out, "--report", "-q")
    assert r.exit_code == 0, r.output
    assert (out / "report.html").exists() and any((out / "figures").glob("*.png"))


def test_simulate_bad_scenario_exit_2(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("demand: {regions: []}\nnetwork: {warehouses: []}\n")
    r = run("simulate", p, "--days", "1", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "network.warehouses" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", [None, "validate", "schema", "simulate", "sweep", "compare", "plan", "report"])
def test_help_shows_no_rst_markup(command):
    r = run(*([command] if command else []), "--help")
    assert r.exit_code == 0, r.output
    assert "``" not in r.output and ":func:" not in r.output and ":class:" not in r.output


def test_progress_off_a_terminal_is_plain_lines(tmp_path):
    """Logs (stderr not a terminal) get whole lines, never carriage returns."""
    import subprocess
    import sys

    import os
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    for args in (["simulate", SMALL, "--days", "2", "--out", tmp_path / "s"],
                 ["sweep", SMALL, "--set", "network.warehouses[0].pickers=2,3", "-r", "1", "--days", "1",
                  "-w", "1", "--out", tmp_path / "w"]):
        p = subprocess.run([sys.executable, "-m", "omsim.cli", *map(str, args)], capture_output=True, text=True,
                           env=env, timeout=300)
        assert p.returncode == 0, p.stderr
        assert "\r" not in p.stderr and "\r" not in p.stdout
        assert "wrote" in p.stderr + p.stdout
