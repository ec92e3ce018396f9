"""Sweeps: grid expansion, deterministic seeds, executors that agree, the CLI."""
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from omsim.cli import main
from omsim.errors import OmsimError
from omsim.rng import Streams
from omsim.scenario import load_scenario
from omsim.sweep import Factor, expand_grid, make_tasks, parse_set, run_sweep, run_tasks

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small-business.yaml"
PICKERS = "network.warehouses[0].pickers"


def fake_runner(scenario, seed, replication, days):
    """A stand-in model with known structure: demand noise from the run's streams,
    a deterministic effect of pickers and policy. Module level: picklable by reference."""
    rng = Streams(seed, replication=replication)["arrivals"]
    z = rng.standard_normal(2)
    orders = scenario.demand.orders_per_day * days * (1 + 0.05 * z[0])
    pickers = scenario.network.warehouses[0].pickers
    bonus = 0.3 if scenario.policies.allocation == "nearest" else 0.0
    return {"orders": orders, "picker_utilisation": orders / (pickers * 60.0 * days),
            "cost_per_order": 5.0 + 10.0 / pickers + bonus + z[1]}


def slow_fake_runner(scenario, seed, replication, days):
    """The fake model plus a fixed amount of work, to see parallelism pay."""
    time.sleep(0.3)
    return fake_runner(scenario, seed, replication, days)


# ------------------------------------------------------------------ grid
def test_parse_set_reads_yaml_typed_values():
    assert parse_set("network.warehouses[0].pickers=8,10,12") == Factor(PICKERS, (8, 10, 12))
    assert parse_set("policies.allocation=nearest,cheapest").values == ("nearest", "cheapest")
    assert parse_set("policies.scan_verification=true,false").values == (True, False)
    assert parse_set("catalogue.generator.price_range=[5, 50],[10,200]").values == ([5, 50], [10, 200])
    assert parse_set("demand.orders_per_day=150.5, 200").values == (150.5, 200)


@pytest.mark.parametrize("spec, words", [
    ("pickers", "PATH=VALUE"), ("=1,2", "path"), ("a.b=", "no values"),
    ("a.b=1,~", "empty value"), ("a.b=1,,2", "not valid YAML"), ("a.b=[1,2", "not valid YAML"),
])
def test_parse_set_rejects_bad_specs(spec, words):
    with pytest.raises(OmsimError, match=words):
        parse_set(spec)


def test_grid_is_the_full_product_in_order():
    grid = expand_grid([Factor("a", (1, 2, 3)), Factor("b", ("x", "y"))])
    assert grid == [{"a": a, "b": b} for a in (1, 2, 3) for b in ("x", "y")]
    assert expand_grid([]) == [{}]
    with pytest.raises(OmsimError, match="more than once"):
        expand_grid([Factor("a", (1,)), Factor("a", (2,))])


def test_tasks_share_seeds_across_points_and_name_bad_points():
    sc = load_scenario(SMALL)
    tasks = make_tasks(sc, expand_grid([parse_set(f"{PICKERS}=2,3")]), 3, seed=9, days=1)
    assert [(t.point, t.replication) for t in tasks] == [(p, r) for p in (0, 1) for r in range(3)]
    assert {t.seed for t in tasks} == {9} and {t.days for t in tasks} == {1}
    assert tasks[4].scenario().network.warehouses[0].pickers == 3
    with pytest.raises(OmsimError) as exc:
        make_tasks(sc, expand_grid([parse_set(f"{PICKERS}=2,-1")]), 1)
    assert "grid point 1" in exc.value.message and "network.warehouses[0].pickers" in exc.value.message
    with pytest.raises(OmsimError, match=r"no item \[3\]"):
        make_tasks(sc, expand_grid([parse_set("network.warehouses[3].pickers=2")]), 1)


def test_wildcard_sets_the_field_on_every_list_item():
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    tasks = make_tasks(sc, expand_grid([parse_set("network.warehouses[*].pickers=5")]), 1)
    assert [w.pickers for w in tasks[0].scenario().network.warehouses] == [5, 5, 5]
    with pytest.raises(OmsimError, match="demand.orders_per_day is not a list"):
        make_tasks(sc, expand_grid([parse_set("demand.orders_per_day[*]=5")]), 1)


# ------------------------------------------------------------------ executors
def test_serial_results_are_sorted_and_reproducible():
    sets = [f"{PICKERS}=2,3,4", "policies.allocation=nearest,cheapest"]
    a = run_sweep(SMALL, sets, replications=3, days=2, seed=5, runner=fake_runner)
    b = run_sweep(SMALL, sets, replications=3, days=2, seed=5, runner=fake_runner)
    pd.testing.assert_frame_equal(a.table, b.table)
    t = a.table
    assert len(t) == 6 * 3
    assert list(zip(t["point"], t["replication"])) == sorted(zip(t["point"], t["replication"]))
    # Common random numbers: the same replication sees the same demand at every point.
    assert t.groupby("replication")["orders"].nunique().eq(1).all()
    # The model's known effects come through exactly, paired by replication.
    p2 = t[(t[PICKERS] == 2) & (t["policies.allocation"] == "cheapest")]["cost_per_order"].to_numpy()
    p4 = t[(t[PICKERS] == 4) & (t["policies.allocation"] == "cheapest")]["cost_per_order"].to_numpy()
    np.testing.assert_allclose(p2 - p4, 10 / 2 - 10 / 4)
    c = run_sweep(SMALL, sets, replications=3, days=2, seed=6, runner=fake_runner)
    assert not np.allclose(c.table["orders"], t["orders"])


def test_progress_is_reported_for_every_task():
    seen = []
    run_sweep(SMALL, [f"{PICKERS}=2,3"], replications=2, days=1, runner=fake_runner,
              progress=lambda d, n: seen.append((d, n)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_process_pool_equals_serial():
    sets = [f"{PICKERS}=2,3", "policies.allocation=nearest,cheapest"]
    serial = run_sweep(SMALL, sets, replications=2, days=1, seed=3, workers=1, runner=fake_runner)
    pooled = run_sweep(SMALL, sets, replications=2, days=1, seed=3, workers=2, runner=fake_runner)
    pd.testing.assert_frame_equal(serial.table, pooled.table)


def test_dask_local_cluster_equals_in_process_run():
    distributed = pytest.importorskip("distributed")
    sets = [f"{PICKERS}=2,3,4"]
    local = run_sweep(SMALL, sets, replications=2, days=1, seed=11, workers=1, runner=fake_runner)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_address = run_sweep(SMALL, sets, replications=2, days=1, seed=11,
                               scheduler=cluster.scheduler_address, runner=fake_runner)
        with distributed.Client(cluster) as client:
            on_client = run_sweep(SMALL, sets, replications=2, days=1, seed=11,
                                  scheduler=client, runner=fake_runner)
    pd.testing.assert_frame_equal(local.table, on_address.table)
    pd.testing.assert_frame_equal(local.table, on_client.table)


def test_task_errors_reach_the_caller_as_omsim_errors():
    def bad_runner(scenario, seed, replication, days):
        raise OmsimError("network.warehouses[0]: no stock at all")

    tasks = make_tasks(load_scenario(SMALL), [{}], 1)
    with pytest.raises(OmsimError, match="no stock"):
        run_tasks(tasks, runner=bad_runner)


def test_unreachable_scheduler_is_a_user_error(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("omsim.sweep.DASK_CONNECT_TIMEOUT_S", 1.0)
    tasks = make_tasks(load_scenario(SMALL), [{}], 1, days=1)
    with pytest.raises(OmsimError, match="cannot connect"):
        run_tasks(tasks, scheduler="tcp://127.0.0.1:9", runner=fake_runner)


def test_write_produces_results_summary_and_figure(tmp_path):
    res = run_sweep(SMALL, [f"{PICKERS}=2,3"], replications=3, days=1, runner=fake_runner)
    paths = res.write(tmp_path / "out")
    table = pd.read_csv(paths["results"])
    assert len(table) == 6 and {"point", "replication", "seed", PICKERS, "cost_per_order"} <= set(table.columns)
    summary = pd.read_csv(paths["summary"])
    assert list(summary[PICKERS]) == [2, 3] and (summary["n"] == 3).all()
    np.testing.assert_allclose(summary["cost_per_order"],
                               table.groupby("point")["cost_per_order"].mean().to_numpy())
    sd = table.groupby("point")["cost_per_order"].std(ddof=1).to_numpy()
    np.testing.assert_allclose(summary["cost_per_order_ci95"], 4.302652729749464 * sd / np.sqrt(3))  # t(0.975, 2)
    meta = json.loads(paths["meta"].read_text())
    assert meta["factors"] == [{"path": PICKERS, "values": [2, 3]}] and meta["replications"] == 3
    assert paths["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ CLI
def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("args, words", [
    (["--set", "network.warehouses[0].pickers"], "PATH=VALUE"),
    (["--set", f"{PICKERS}=2,-3"], "network.warehouses[0].pickers"),
    (["--set", "network.warehouses[0].pickerz=2"], "pickerz"),
    (["--set", "network.warehouses[5].pickers=2"], "no item [5]"),
    (["--set", f"{PICKERS}=2", "--set", f"{PICKERS}=3"], "more than once"),
])
def test_cli_sweep_bad_input_exit_2(tmp_path, args, words):
    r = run("sweep", SMALL, *args, "--out", tmp_path / "o", "-w", "1")
    assert r.exit_code == 2, r.output
    assert words in r.output and str(SMALL) in r.output or words in r.output
    assert "Traceback" not in r.output and isinstance(r.exception, SystemExit)


def test_cli_sweep_bad_scenario_file_names_it(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("demand: {orders_per_day: many, regions: [{id: r, lat: 1, lon: 1}]}\n"
                   "network: {warehouses: [{id: W, lat: 1, lon: 1}]}\n")
    r = run("sweep", bad, "--set", f"{PICKERS}=1,2", "--out", tmp_path / "o")
    assert r.exit_code == 2 and str(bad) in r.output and "demand.orders_per_day" in r.output
    r = run("sweep", tmp_path / "missing.yaml", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "missing.yaml" in r.output and "no such file" in r.output


# ------------------------------------------------------------------ the real simulator
def test_cli_sweep_on_a_real_scenario_writes_table_and_figure(tmp_path):
    out = tmp_path / "sweep"
    r = run("sweep", SMALL, "--set", f"{PICKERS}=2,4", "-r", "2", "--days", "1", "-w", "1",
            "--kpi", "cost_per_order", "--kpi", "picker_utilisation", "--out", out, "-q")
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out / "results.csv")
    assert list(zip(t["point"], t["replication"], t[PICKERS])) == [(0, 0, 2), (0, 1, 2), (1, 0, 4), (1, 1, 4)]
    # Common random numbers: the two staffing levels see exactly the same orders.
    assert (t.loc[t["point"] == 0, "orders"].to_numpy() == t.loc[t["point"] == 1, "orders"].to_numpy()).all()
    util = t.groupby(PICKERS)["picker_utilisation"].mean()
    assert util[2] > util[4] > 0                     # twice the pickers, less busy each
    assert (out / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert "Cost per order" in r.output and " USD" in r.output and "wrote" in r.output


def test_cli_sweep_unknown_kpi_is_refused_before_any_run(tmp_path, monkeypatch):
    def no_run(*a, **k):
        raise AssertionError("a run started")
    monkeypatch.setattr("omsim.sweep.run_tasks", no_run)
    r = run("sweep", SMALL, "--set", f"{PICKERS}=2", "-r", "1", "--days", "1", "-w", "1",
            "--kpi", "happiness", "--out", tmp_path / "o", "-q")
    assert r.exit_code == 2 and "--kpi happiness" in r.output and "cost_per_order" in r.output
    assert "valid KPIs" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


@pytest.mark.slow  # a process pool and a Dask cluster: ~15 s
def test_cli_sweep_dask_local_cluster_equals_local_processes(tmp_path):
    distributed = pytest.importorskip("distributed")
    args = ["--set", f"{PICKERS}=2,3", "-r", "2", "--days", "1", "--seed", "4", "-q"]
    r = run("sweep", SMALL, *args, "-w", "2", "--out", tmp_path / "local")
    assert r.exit_code == 0, r.output
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        r = run("sweep", SMALL, *args, "--scheduler", cluster.scheduler_address, "--out", tmp_path / "dask")
    assert r.exit_code == 0, r.output
    local = pd.read_csv(tmp_path / "local" / "results.csv")
    dask = pd.read_csv(tmp_path / "dask" / "results.csv")
    pd.testing.assert_frame_equal(local, dask)
    assert json.loads((tmp_path / "dask" / "sweep.json").read_text())["executor"] == "dask"


def test_sweep_replication_equals_the_simulators_replicate():
    from omsim.sim import replicate

    sc = load_scenario(SMALL)
    res = run_sweep(sc, [], replications=2, seed=8, days=1)
    reps = replicate(sc, 2, seed=8, days=1).kpis
    for col in ("orders", "cost_per_order", "picker_utilisation", "units_shipped"):
        np.testing.assert_array_equal(res.table[col].to_numpy(), reps[col].to_numpy())


def test_cli_sweep_bad_csv_row_names_file_row_and_column(tmp_path):
    lib = ROOT / "scenarios"
    (tmp_path / "us-network").mkdir()
    rows = (lib / "us-network" / "cities.csv").read_text().splitlines()
    rows[3] = rows[3].replace(rows[3].split(",")[1], "north")          # row 4: a latitude that is not a number
    (tmp_path / "us-network" / "cities.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "us.yaml").write_text((lib / "us-network.yaml").read_text())
    r = run("sweep", tmp_path / "us.yaml", "--set", "policies.allocation=nearest,cheapest", "--out", tmp_path / "o")
    assert r.exit_code == 2, r.output
    assert "cities.csv: row 4, column lat" in r.output and "'north'" in r.output
    assert "Traceback" not in r.output


def test_scheduler_without_dask_installed_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)   # import fails as if absent
    r = run("sweep", SMALL, "--set", f"{PICKERS}=2", "--days", "1", "--scheduler", "tcp://127.0.0.1:8786",
            "--out", tmp_path / "o")
    assert r.exit_code == 2 and "needs Dask" in r.output and "pip install" in r.output


def test_a_sweep_too_large_for_memory_is_refused_before_any_run(monkeypatch):
    """The guard sees the largest grid point and the runs held at once by the workers."""
    import omsim.sim.guard as guard
    import omsim.sweep as sweep

    ran = []
    monkeypatch.setattr(sweep, "simulate_kpis", lambda *a: ran.append(a) or {})
    sc = load_scenario(SMALL)
    one = guard.estimate_bytes(guard.expected_orders(sc, 2), streamed=False)
    monkeypatch.setattr(guard, "available_bytes", lambda: 1.5 * one)
    with pytest.raises(OmsimError, match=r"fewer --days or fewer --workers \(2 runs"):
        run_sweep(SMALL, ["demand.orders_per_day=10,20"], replications=1, days=2, workers=2)
    with pytest.raises(OmsimError, match="orders_per_day is 400,000"):
        run_sweep(SMALL, ["demand.orders_per_day=10,400000"], replications=1, days=2)
    assert ran == []
    run_sweep(SMALL, ["network.warehouses[0].pickers=2,3"], replications=1, days=2, workers=1)
    assert len(ran) == 2
