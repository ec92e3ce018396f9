"""A/B comparison: the t quantile against published tables and closed forms,
interval coverage against theory, paired vs unpaired, run directories, the CLI."""
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from omsim.cli import main
from omsim.compare import compare, compare_tables, load_run_table, mean_ci, t_quantile
from omsim.errors import OmsimError
from omsim.scenario import load_scenario
from omsim.sweep import make_tasks, run_tasks

from test_sweep import fake_runner

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small-business.yaml"

def test_mean_ci_covers_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    trials, n = 4000, 5
    x = rng.normal(3.0, 2.0, size=(trials, n))
    hits = 0
    for row in x:
        m, h = mean_ci(row)
        hits += abs(m - 3.0) <= h
    # Binomial(4000, 0.95) has sd 0.0034: 0.94-0.96 is about 3 sd.
    assert 0.94 <= hits / trials <= 0.96
    assert math.isnan(mean_ci([1.0])[1]) and mean_ci([2.0, 2.0]) == (2.0, 0.0)


def _table(seeds, values, **cols):
    return pd.DataFrame({"seed": 1, "replication": seeds, "kpi": values, **cols})


def test_paired_comparison_sees_a_small_effect_that_unpaired_misses():
    rng = np.random.default_rng(7)
    noise = rng.normal(0, 5.0, 8)            # large replication-to-replication noise
    a = _table(range(8), 100 + noise)
    b = _table(range(8), 100 + noise + 0.5 + rng.normal(0, 0.05, 8))  # small effect, common noise
    paired = compare_tables(a, b)
    assert paired.paired
    row = paired.table.iloc[0]
    d = b["kpi"].to_numpy() - a["kpi"].to_numpy()
    half = t_quantile(0.975, 7) * d.std(ddof=1) / math.sqrt(8)
    assert row["diff"] == pytest.approx(d.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((d.mean() - half, d.mean() + half))
    assert row["significant"] and paired.significant() == ["kpi"]
    # The same data without the pairing (different seeds) is lost in the noise.
    unpaired = compare_tables(a, b.assign(seed=2))
    assert not unpaired.paired and not unpaired.table.iloc[0]["significant"]


def test_welch_interval_has_nominal_coverage_with_unequal_variances():
    rng = np.random.default_rng(11)
    hits, trials = 0, 600
    for _ in range(trials):
        a = pd.DataFrame({"kpi": rng.normal(0, 1, 6)})
        b = pd.DataFrame({"kpi": rng.normal(1, 4, 9)})
        r = compare_tables(a, b).table.iloc[0]
        hits += r["ci_low"] <= 1.0 <= r["ci_high"]
    # Binomial(600, 0.95) has sd 0.009: 0.92-0.98 is more than 3 sd either side.
    assert 0.92 <= hits / trials <= 0.98


def test_identical_sides_are_not_significant_and_constant_shift_is():
    a = _table(range(4), [1.0, 2.0, 3.0, 4.0], other=[5.0] * 4)
    same = compare_tables(a, a.copy())
    assert not same.table["significant"].any() and (same.table["diff"] == 0).all()
    shifted = compare_tables(a, a.assign(kpi=a["kpi"] + 1))
    row = shifted.table.set_index("kpi").loc["kpi"]
    assert row["significant"] and row["ci_low"] == row["ci_high"] == 1.0
    with pytest.raises(OmsimError, match="--kpi nope"):
        compare_tables(a, a, kpis=["nope"])


# ------------------------------------------------------------------ run directories
def _write_run(d: Path, df: pd.DataFrame) -> Path:
    """A run directory as omsim writes one: the table, then its manifest, renamed into place."""
    from omsim.rundir import run_directory

    with run_directory(d) as rd:
        df.to_csv(rd.path / "replications.csv", index=False)
    return d


def test_load_run_table_names_file_row_and_column(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    (d / "replications.csv").write_text("replication,seed,cost_per_order\n0,1,5.5\n1,1,abc\n")
    with pytest.raises(OmsimError) as exc:
        load_run_table(d)
    assert "replications.csv: row 3, column cost_per_order" in exc.value.message and "'abc'" in exc.value.message
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(OmsimError, match="neither replications.csv nor kpis.json"):
        load_run_table(empty)
    single = tmp_path / "single"
    single.mkdir()
    (single / "kpis.json").write_text(json.dumps({"scenario": "x", "orders": 10, "fill_rate": 0.9}))
    assert load_run_table(single).to_dict("records") == [{"orders": 10.0, "fill_rate": 0.9}]
    (single / "kpis.json").write_text("{not json")
    with pytest.raises(OmsimError, match="kpis.json: not valid JSON"):
        load_run_table(single)


def _variant(tmp_path, pickers):
    text = SMALL.read_text().replace("pickers: 3", f"pickers: {pickers}")
    assert f"pickers: {pickers}" in text
    p = tmp_path / f"pickers-{pickers}.yaml"
    p.write_text(text)
    return p


def test_compare_scenarios_runs_both_under_common_random_numbers(tmp_path):
    a, b = _variant(tmp_path, 2), _variant(tmp_path, 4)
    res = compare(a, b, replications=4, days=1, runner=fake_runner)
    t = res.table.set_index("kpi")
    assert res.paired and res.n_a == res.n_b == 4
    # Same demand on both sides: no difference in orders, exactly 10/2 - 10/4 in cost.
    assert t.loc["orders", "diff"] == 0 and not t.loc["orders", "significant"]
    assert t.loc["cost_per_order", "diff"] == pytest.approx(-2.5)
    assert t.loc["cost_per_order", "significant"]
    assert "cost_per_order" in res.format() and "paired" in res.format()


def test_compare_run_directory_against_scenario_reuses_its_seeds(tmp_path):
    a = _variant(tmp_path, 2)
    tasks = make_tasks(load_scenario(a), [{}], 3, seed=77, days=2)
    run = _write_run(tmp_path / "run-a", run_tasks(tasks, runner=fake_runner).drop(columns=["point"]))
    res = compare(run, _variant(tmp_path, 4), runner=fake_runner)
    t = res.table.set_index("kpi")
    assert res.paired and res.n_b == 3
    assert t.loc["orders", "diff"] == 0  # rerun at seed 77 for 2 days: the same demand
    assert t.loc["cost_per_order", "diff"] == pytest.approx(-2.5)


# ------------------------------------------------------------------ CLI
def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_compare_two_run_directories(tmp_path):
    rng = np.random.default_rng(3)
    base = rng.normal(10, 2, 5)
    a = _write_run(tmp_path / "a", _table(range(5), base, orders=[100.0] * 5))
    b = _write_run(tmp_path / "b", _table(range(5), base + 1.0, orders=[100.0] * 5))
    out = tmp_path / "cmp.csv"
    r = run("compare", a, b, "--out", out)
    assert r.exit_code == 0, r.output
    assert "paired" in r.output and "significant at 95%: kpi" in r.output
    table = pd.read_csv(out)
    assert list(table["kpi"]) == ["kpi", "orders"] and list(table["significant"]) == [True, False]
    r = run("compare", a, b, "--kpi", "orders")
    assert r.exit_code == 0 and "significant at 95%: none" in r.output


@pytest.mark.parametrize("case", ["missing", "bad-csv", "empty-dir", "bad-kpi", "bad-scenario"])
def test_cli_compare_bad_input_exit_2(tmp_path, case):
    good = _write_run(tmp_path / "good", _table(range(3), [1.0, 2.0, 3.0]))
    if case == "missing":
        args, words = [tmp_path / "nope.yaml", good], ["nope.yaml", "no such file"]
    elif case == "bad-csv":
        from omsim.rundir import run_directory

        d = tmp_path / "bad"
        with run_directory(d) as rd:
            (rd.path / "replications.csv").write_text("replication,seed,kpi\n0,1,1.0\n1,1,oops\n")
        args, words = [good, d], ["replications.csv", "row 3", "column kpi"]
    elif case == "empty-dir":
        d = tmp_path / "empty"
        d.mkdir()
        args, words = [good, d], [str(d), "no manifest.json: not a complete run directory"]
    elif case == "bad-kpi":
        args, words = [good, good, "--kpi", "speed"], ["--kpi speed", "known: kpi"]
    else:
        bad = tmp_path / "bad.yaml"
        bad.write_text("demand: {regions: [{id: r, lat: 1, lon: 1}]}\nnetwork: {warehouses: [{id: W, lat: 1}]}\n")
        args, words = [bad, good], [str(bad), "network.warehouses[0].lon"]
    r = run("compare", *args)
    assert r.exit_code == 2, r.output
    for w in words:
        assert w in r.output
    assert "Traceback" not in r.output and isinstance(r.exception, SystemExit)


# ------------------------------------------------------------------ the real simulator
def test_cli_compare_real_scenarios_common_random_numbers(tmp_path):
    a, b = _variant(tmp_path, 2), _variant(tmp_path, 4)
    out = tmp_path / "cmp.csv"
    r = run("compare", a, b, "-r", "3", "--days", "1", "-w", "1", "-q", "--out", out)
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out).set_index("kpi")
    assert t.loc["orders", "diff"] == 0 and not t.loc["orders", "significant"]   # same demand
    # Two more pickers on the same shifts: labour per order up, every replication.
    assert t.loc["cost_per_order_labour", "diff"] > 0 and t.loc["cost_per_order_labour", "significant"]
    assert t.loc["picker_utilisation", "diff"] < 0
    assert "paired differences over common random numbers" in r.output


def test_compare_run_directory_from_replicate_pairs_with_a_scenario(tmp_path):
    from omsim.sim import replicate

    a, b = _variant(tmp_path, 2), _variant(tmp_path, 4)
    reps = replicate(load_scenario(a), 2, seed=21, days=1)
    reps.write(tmp_path / "run-a")
    res = compare(tmp_path / "run-a", b)
    t = res.table.set_index("kpi")
    assert res.paired and res.n_b == 2
    assert t.loc["orders", "diff"] == 0
    np.testing.assert_allclose(t.loc["picker_utilisation", "a"], reps.kpis["picker_utilisation"].mean())


# ------------------------------------------------------------------ verdicts and readability
def _reps(n, **cols):
    return pd.DataFrame({"seed": 1, "replication": range(n), "days": 7, **cols})


def test_verdict_uses_each_kpis_direction():
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 0.01, 6)
    a = _reps(6, on_time_rate=0.80 + noise, cost_per_order=12.0 + noise, orders_shipped=46070.0 + 10 * noise,
              fill_rate=0.9 + noise)
    b = _reps(6, on_time_rate=0.85 + noise, cost_per_order=13.0 + noise, orders_shipped=46070.0 + 10 * noise,
              fill_rate=0.9 + noise + rng.normal(0, 0.01, 6))
    res = compare_tables(a, b, currency="EUR")
    v = dict(zip(res.table["kpi"], res.table["verdict"]))
    # On-time up is better; cost up is worse; the same orders shipped is no difference.
    assert v["on_time_rate"] == "better" and v["cost_per_order"] == "worse"
    assert v["orders_shipped"] == "no difference"
    flipped = dict(zip(*compare_tables(b, a).table[["kpi", "verdict"]].T.to_numpy()))
    assert flipped["on_time_rate"] == "worse" and flipped["cost_per_order"] == "better"
    text = res.format()
    assert "B better than A at 95%: On-time delivery" in text and "B worse than A at 95%: Cost per order" in text
    assert "46,070" in text and "e+" not in text and "-0.0" not in text and "orders_shipped" not in text
    assert "+5.0 pp" in text and "+1.00 EUR" in text and "warning" not in text


def test_warns_when_days_or_replications_differ():
    a = _reps(4, cost_per_order=[10.0, 11.0, 12.0, 13.0])
    b = _reps(3, cost_per_order=[10.0, 11.0, 12.0]).assign(days=3)
    text = compare_tables(a, b).format()
    assert "warning: A covers 7 day(s) and B 3" in text
    assert "warning: A has 4 replication(s) and B 3" in text


def test_seed_and_days_are_not_compared_as_kpis():
    a = _reps(3, cost_per_order=[10.0, 11.0, 12.0])
    assert list(compare_tables(a, a).table["kpi"]) == ["cost_per_order"]
