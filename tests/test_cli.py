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
    assert schema["title"] == "omsim scenario" and "network" in schema["required"]


def test_simulate_missing_file_is_exit_2_without_traceback(tmp_path):
    r = run("simulate", tmp_path / "nope.yaml")
    assert r.exit_code == 2
    assert "no such file" in r.output and "Traceback" not in r.output


def test_bad_option_is_exit_2():
    r = run("simulate", "--days", "0")
    assert r.exit_code == 2 and "--days" in r.output
