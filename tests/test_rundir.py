"""Run directories: atomic, replaced whole, self-describing (manifest.json), verified before use."""
from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from omsim.cli import main
from omsim.errors import OmsimError
from omsim.rundir import MANIFEST, run_directory, verify

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small-business.yaml"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def files_of(d: Path) -> set[str]:
    return {p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()}


# ------------------------------------------------------------------ the manifest
def test_manifest_lists_every_file_with_its_hash_and_rows(tmp_path):
    out = tmp_path / "run"
    r = run("simulate", SMALL, "--days", "2", "--seed", "4", "--out", out, "--report", "-q")
    assert r.exit_code == 0, r.output
    m = json.loads((out / MANIFEST).read_text())
    assert {"seed", "days", "replications", "files"} <= set(m)
    assert (m["seed"], m["days"], m["replications"]) == (4, 2, 1)
    assert m["overrides"] == {"seed": 4, "days": 2}
    assert m["scenario"]["name"] == "small-business" and m["scenario"]["sha256"] == sha(out / "scenario.yaml")
    assert m["command"][:2] == ["omsim", "simulate"] and m["omsim_version"]
    assert m["started_at"] <= m["finished_at"]
    # every file but the manifest itself, no more, no less; hashes and row counts as on disk
    assert set(m["files"]) == files_of(out) - {MANIFEST}
    assert {"report.html", "figures/daily.png", "orders.csv", "scenario.yaml"} <= set(m["files"])
    for rel, info in m["files"].items():
        assert info["sha256"] == sha(out / rel), rel
        assert info["bytes"] == (out / rel).stat().st_size
        if rel.endswith(".csv"):
            assert info["rows"] == len(pd.read_csv(out / rel)), rel
        else:
            assert info["rows"] is None
    assert verify(out)["seed"] == 4


def test_replications_manifest(tmp_path):
    out = tmp_path / "reps"
    assert run("simulate", SMALL, "--days", "1", "-r", "3", "--out", out, "-q").exit_code == 0
    m = verify(out)
    assert (m["days"], m["replications"]) == (1, 3)
    assert m["files"]["replications.csv"]["rows"] == 3 and "scenario.yaml" in m["files"]


# ------------------------------------------------------------------ replacing and refusing
def test_second_run_into_the_same_directory_leaves_nothing_of_the_first(tmp_path):
    out = tmp_path / "run"
    assert run("simulate", SMALL, "--days", "2", "--out", out, "-q").exit_code == 0
    first = files_of(out)
    before = (out / "orders.csv").read_bytes()
    r = run("simulate", SMALL, "-r", "2", "--days", "1", "--out", out, "-q")
    assert r.exit_code == 2 and str(out) in r.output and "--overwrite" in r.output
    assert (out / "orders.csv").read_bytes() == before           # refused: untouched
    r = run("simulate", SMALL, "-r", "2", "--days", "1", "--out", out, "-q", "--overwrite")
    assert r.exit_code == 0, r.output
    now = files_of(out)
    assert "orders.csv" in first and not ({"orders.csv", "events.csv", "ledger.csv", "daily.csv"} & now)
    assert now == {"replications.csv", "summary.csv", "kpis.json", "scenario.yaml", MANIFEST}
    assert verify(out)["days"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run"]       # no temporary sibling left


def test_overwrite_never_deletes_a_directory_omsim_did_not_write(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "thesis.tex").write_text("precious")
    r = run("simulate", SMALL, "--days", "1", "--out", d, "-q", "--overwrite")
    assert r.exit_code == 2 and "not an omsim run directory" in r.output
    assert (d / "thesis.tex").read_text() == "precious"


def test_an_empty_existing_directory_is_used(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    assert run("simulate", SMALL, "--days", "1", "--out", d, "-q").exit_code == 0
    verify(d)


def test_without_out_each_run_gets_a_new_directory_and_latest_points_at_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        r = run("simulate", SMALL, "--days", "1", "-q")
        assert r.exit_code == 0, r.output
    base = tmp_path / "runs" / "small-business"
    dirs = sorted(p for p in base.iterdir() if not p.is_symlink())
    assert len(dirs) == 2 and all((p / MANIFEST).exists() for p in dirs)
    latest = base / "latest"
    assert latest.is_symlink() and latest.resolve() == dirs[-1].resolve()
    # the report of "latest" goes into the directory it points at; the link stays a link
    assert run("report", latest).exit_code == 0
    assert latest.is_symlink() and "report.html" in verify(dirs[-1])["files"]


def test_failure_inside_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with run_directory(tmp_path / "x") as rd:
            (rd.path / "a.csv").write_text("a\n1\n")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ reproducing a run
def test_saved_scenario_reproduces_the_run_byte_for_byte(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("simulate", SMALL, "--days", "2", "--seed", "9", "--out", a, "-q").exit_code == 0
    saved = a / "scenario.yaml"
    assert "seed: 9" in saved.read_text() and "days: 2" in saved.read_text()
    r = run("simulate", saved, "--out", b, "-q")                 # no overrides: the file says it all
    assert r.exit_code == 0, r.output
    fa, fb = verify(a)["files"], verify(b)["files"]
    assert fa == fb and {"orders.csv", "events.csv", "ledger.csv", "kpis.json"} <= set(fa)
    assert json.loads((b / MANIFEST).read_text())["overrides"] == {}


def test_csv_inputs_travel_with_the_run(tmp_path):
    src = tmp_path / "scen"
    src.mkdir()
    (src / "regions.csv").write_text("id,lat,lon,weight\nportland,45.52,-122.68,3\nseattle,47.61,-122.33,5\n")
    (src / "s.yaml").write_text("name: csv-inputs\ndemand: {orders_per_day: 80, regions_file: regions.csv}\n"
                                "network: {warehouses: [{id: PDX, lat: 45.59, lon: -122.60}]}\n")
    a = tmp_path / "a"
    assert run("simulate", src / "s.yaml", "--days", "1", "--out", a, "-q").exit_code == 0
    assert (a / "inputs" / "regions.csv").read_bytes() == (src / "regions.csv").read_bytes()
    assert "inputs/regions.csv" in verify(a)["files"]
    moved = tmp_path / "elsewhere"
    os.rename(a, moved)                                           # the directory is self-contained
    (src / "regions.csv").unlink()
    assert run("simulate", moved / "scenario.yaml", "--out", tmp_path / "b", "-q").exit_code == 0
    assert verify(tmp_path / "b")["files"]["orders.csv"] == verify(moved)["files"]["orders.csv"]


# ------------------------------------------------------------------ damaged directories
@pytest.fixture
def good_run(tmp_path):
    out = tmp_path / "good"
    assert run("simulate", SMALL, "--days", "1", "-r", "2", "--out", out, "-q").exit_code == 0
    return out


@pytest.mark.parametrize("damage, words", [
    ("changed", "changed since it was written"),
    ("missing", "summary.csv: missing"),
    ("no-manifest", "no manifest.json: not a complete run directory"),
    ("bad-manifest", "damaged manifest"),
])
@pytest.mark.parametrize("command", ["report", "compare"])
def test_damaged_directories_are_refused_with_exit_2(good_run, tmp_path, damage, words, command):
    bad = tmp_path / "bad"
    assert run("simulate", SMALL, "--days", "1", "-r", "2", "--out", bad, "-q").exit_code == 0
    if damage == "changed":
        with (bad / "replications.csv").open("a") as fh:
            fh.write("9,9,9\n")
    elif damage == "missing":
        (bad / "summary.csv").unlink()
    elif damage == "no-manifest":
        (bad / MANIFEST).unlink()
    else:
        (bad / MANIFEST).write_text("{truncated")
    args = ["report", bad] if command == "report" else ["compare", good_run, bad]
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert words in r.output and str(bad) in r.output
    assert "Traceback" not in r.output and isinstance(r.exception, SystemExit)
    assert not (bad / "report.html").exists()


def test_verify_names_every_problem(good_run):
    (good_run / "summary.csv").unlink()
    (good_run / "kpis.json").write_text("{}")
    with pytest.raises(OmsimError) as exc:
        verify(good_run)
    assert len(exc.value.errors) == 2


# ------------------------------------------------------------------ modes
@pytest.mark.parametrize("umask, fmode, dmode", [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_files_and_directories_get_modes_from_the_umask(tmp_path, umask, fmode, dmode):
    old = os.umask(umask)
    try:
        out = tmp_path / "run"
        assert run("simulate", SMALL, "--days", "1", "--out", out, "--report", "-q").exit_code == 0
        plan = tmp_path / "plan"
        r = run("plan", "-s", ROOT / "scenarios" / "default.yaml", "--orders",
                ROOT / "scenarios" / "plan" / "open_orders.csv", "--at", "2026-12-01 08:00", "--out", plan)
        assert r.exit_code == 0, r.output
        side = tmp_path / "side.html"
        assert run("report", out, "--out", side).exit_code == 0
    finally:
        os.umask(old)
    for d in (out, plan):
        assert stat.S_IMODE(d.stat().st_mode) == dmode
        for p in d.rglob("*"):
            want = dmode if p.is_dir() else fmode
            assert stat.S_IMODE(p.stat().st_mode) == want, p
    assert stat.S_IMODE(side.stat().st_mode) == fmode


# ------------------------------------------------------------------ unusable --out, before any run
def _no_simulation(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the simulation started")
    monkeypatch.setattr("omsim.sim.model.Simulation.run", boom)
    monkeypatch.setattr("omsim.sweep.run_tasks", boom)


@pytest.mark.parametrize("command", ["simulate", "sweep", "plan"])
@pytest.mark.parametrize("kind", ["file", "under-a-file", "unwritable"])
def test_unusable_out_is_refused_before_the_run(tmp_path, monkeypatch, command, kind):
    _no_simulation(monkeypatch)
    monkeypatch.setattr("omsim.plan.make_plan", lambda *a, **k: (_ for _ in ()).throw(AssertionError("planned")))
    f = tmp_path / "a-file"
    f.write_text("x")
    if kind == "file":
        out = f
    elif kind == "under-a-file":
        out = f / "run"
    else:
        if not Path("/proc/self").exists():
            pytest.skip("needs /proc (a directory no one can write to, root included)")
        out = Path("/proc/omsim-cannot-write-here/run")
    args = {"simulate": ["simulate", SMALL, "--days", "1"],
            "sweep": ["sweep", SMALL, "--days", "1", "-r", "1", "-w", "1"],
            "plan": ["plan", "-s", SMALL, "--orders", ROOT / "scenarios" / "plan" / "open_orders.csv"]}[command]
    r = run(*args, "--out", out, "-q") if command != "plan" else run(*args, "--out", out)
    assert r.exit_code == 2, r.output
    assert f"--out {out}" in r.output and "Traceback" not in r.output


def test_unusable_compare_out_file_is_refused_before_the_runs(tmp_path, monkeypatch):
    _no_simulation(monkeypatch)
    r = run("compare", SMALL, SMALL, "--out", tmp_path / "no-such-dir" / "c.csv", "-q")
    assert r.exit_code == 2 and "does not exist" in r.output
    r = run("compare", SMALL, SMALL, "--out", tmp_path, "-q")
    assert r.exit_code == 2 and "is a directory" in r.output


def test_misspelt_kpi_in_compare_is_refused_before_the_runs(monkeypatch):
    _no_simulation(monkeypatch)
    r = run("compare", SMALL, SMALL, "--kpi", "on_time", "-q")
    assert r.exit_code == 2 and "--kpi on_time" in r.output and "on_time_rate" in r.output


def test_kpi_names_are_the_simulators(tmp_path):
    import omsim
    from omsim.sim.result import KPI_NAMES

    res = omsim.simulate(omsim.load_scenario(SMALL), seed=1, days=1)
    assert tuple(res.kpis) == KPI_NAMES


def test_temporary_siblings_of_killed_processes_are_removed(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".run.tmp-{pid}-abc"
    stale.mkdir()
    (stale / "orders.csv").write_text("half")
    mine = tmp_path / f".run.tmp-{os.getpid()}-xyz"        # a live process's: left alone
    mine.mkdir()
    with run_directory(tmp_path / "run") as rd:
        (rd.path / "a.csv").write_text("a\n1\n")
    assert not stale.exists() and mine.exists()
    assert verify(tmp_path / "run")["files"]["a.csv"]["rows"] == 1


def test_out_through_a_symbolic_link_keeps_the_link(tmp_path):
    target = tmp_path / "real"
    assert run("simulate", SMALL, "--days", "1", "--out", target, "-q").exit_code == 0
    link = tmp_path / "link"
    link.symlink_to("real")
    assert run("simulate", SMALL, "--days", "1", "--seed", "2", "--out", link, "-q", "--overwrite").exit_code == 0
    assert link.is_symlink() and verify(target)["seed"] == 2


def test_an_automatic_name_taken_meanwhile_gets_the_next_one(tmp_path, monkeypatch):
    import omsim.rundir as rdmod

    monkeypatch.chdir(tmp_path)
    first = rdmod.auto_dir("x")
    with rdmod.run_directory(first, latest=True) as rd:
        (rd.path / "a.csv").write_text("a\n1\n")
        first.mkdir(parents=True)                         # another run finished under the same name
        (first / "b.csv").write_text("b\n")
    assert rd.final != first and verify(rd.final) and (first / "b.csv").exists()
    assert (first.parent / "latest").resolve() == rd.final.resolve()


def test_sweep_and_plan_directories_describe_themselves(tmp_path):
    out = tmp_path / "sweep"
    r = run("sweep", SMALL, "--set", "network.warehouses[0].pickers=2,3", "-r", "1", "--days", "1", "-w", "1",
            "--out", out, "-q")
    assert r.exit_code == 0, r.output
    m = verify(out)
    assert (m["seed"], m["days"], m["replications"]) == (0, 1, 1)
    assert m["overrides"] == {"network.warehouses[0].pickers": [2, 3]}
    assert m["scenario"]["name"] == "small-business" and m["files"]["results.csv"]["rows"] == 2
    assert {"summary.csv", "sweep.json", "sweep.png", "scenario.yaml"} <= set(m["files"])
    plan = tmp_path / "plan"
    r = run("plan", "-s", ROOT / "scenarios" / "default.yaml", "--orders",
            ROOT / "scenarios" / "plan" / "open_orders.csv", "--at", "2026-12-01 08:00", "--seed", "3", "--out", plan)
    assert r.exit_code == 0, r.output
    m = verify(plan)
    assert m["seed"] == 3 and m["overrides"] == {"seed": 3} and m["command"][:2] == ["omsim", "plan"]
    assert m["files"]["plan_lines.csv"]["rows"] == len(pd.read_csv(plan / "plan_lines.csv"))


def test_python_api_writes_run_directories_too(tmp_path):
    import omsim

    res = omsim.simulate(omsim.load_scenario(SMALL), seed=2, days=1)
    out = res.write(tmp_path / "api")
    m = verify(out)
    assert (m["seed"], m["days"], m["replications"]) == (2, 1, 1) and "events.csv" in m["files"]
    with pytest.raises(OmsimError, match="overwrite=True"):
        res.write(out)
    assert res.write(out, overwrite=True) == out



def test_a_replayed_history_travels_with_the_run(tmp_path):
    src = tmp_path / "scen"
    src.mkdir()
    (src / "hist.csv").write_text(
        "order_id,created_at,sku,qty,region,service_level\n"
        "o1,2024-03-04 09:15:00,A,2,north,standard\no2,2024-03-04 13:40:00,NEW1,3,north,express\n"
        "o3,2024-03-05 08:05:00,A,1,north,standard\n")
    (src / "s.yaml").write_text(
        "name: replay\nhorizon: {days: 2, start: 2024-03-04}\ncatalogue: {skus: [{id: A}]}\n"
        "demand: {history: [missing.csv, hist.csv], regions: [{id: north, lat: 55, lon: -2}]}\n"
        "network: {warehouses: [{id: W, lat: 52, lon: -1, stock: {days_cover: 30}}]}\n")
    a, b = tmp_path / "a", tmp_path / "b"
    r = run("simulate", src / "s.yaml", "--out", a, "-q")
    assert r.exit_code == 0, r.output
    assert (a / "inputs" / "hist.csv").read_bytes() == (src / "hist.csv").read_bytes()
    (src / "hist.csv").unlink()
    assert run("simulate", a / "scenario.yaml", "--out", b, "-q").exit_code == 0
    assert verify(a)["files"] == verify(b)["files"]


def test_optional_kpis_are_accepted():
    from omsim.sweep import check_kpis

    check_kpis(["history_skus_added", "on_time_rate"])
    with pytest.raises(OmsimError, match="--kpi seed: not a KPI"):
        check_kpis(["seed"])
