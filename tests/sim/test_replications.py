"""Replications: independent streams, CI from Student's t, same demand across variants."""
import numpy as np
import pandas as pd
import pytest

from omsim.errors import OmsimError
from omsim.sim import replicate, simulate
from omsim.sim.replications import summarise

from conftest import small_scenario


def test_summary_is_mean_and_t_half_width():
    f = pd.DataFrame({"replication": [0, 1, 2, 3], "x": [1.0, 2.0, 3.0, 6.0]})
    s = summarise(f).loc["x"]
    assert s["mean"] == 3.0
    assert s["half_width"] == pytest.approx(3.182446 * np.std([1, 2, 3, 6], ddof=1) / 2, rel=1e-6)
    assert "replication" not in summarise(f).index


def test_replications_are_independent_and_reproducible():
    sc = small_scenario()
    ticks = []
    a = replicate(sc, 3, seed=5, days=2, progress=lambda d, D: ticks.append((d, D)), keep_results=True)
    b = replicate(sc, 3, seed=5, days=2)
    assert ticks[-1] == (6, 6) and len(ticks) == 6
    pd.testing.assert_frame_equal(a.kpis, b.kpis)
    assert a.kpis["orders"].nunique() > 1  # different demand per replication
    s = a.summary
    assert {"mean", "half_width", "low", "high"} <= set(s.columns)
    assert s.loc["orders", "mean"] == pytest.approx(a.kpis["orders"].mean())
    # Replication r is not the plain run of the same seed.
    plain = simulate(sc, seed=5, days=2).orders["created_h"].to_numpy()
    rep0 = a.results[0].orders["created_h"].to_numpy()
    assert plain.size != rep0.size or not np.array_equal(plain, rep0)


def test_simulate_checks_its_arguments():
    sc = small_scenario()
    with pytest.raises(OmsimError):
        simulate(sc, seed=-1, days=1)
    with pytest.raises(OmsimError):
        simulate(sc, seed=1, days=0)
    with pytest.raises(OmsimError):
        replicate(sc, 0)
    seen = []
    r = simulate(sc, seed=1, days=2, progress=lambda d, D: seen.append((d, D)))
    assert seen == [(1, 2), (2, 2)]
    assert list(r.daily["day"]) == [0, 1] and r.daily["orders"].sum() == r.kpis["orders"]


def test_replications_write_csvs_and_mean_kpis(tmp_path):
    import json
    reps = replicate(small_scenario(), 2, seed=1, days=1)
    out = reps.write(tmp_path / "r")
    k = json.loads((out / "kpis.json").read_text())
    assert k["replications"] == 2
    assert k["orders"] == pytest.approx(reps.kpis["orders"].mean())
    s = pd.read_csv(out / "summary.csv", index_col="kpi")
    assert s.loc["orders", "mean"] == pytest.approx(reps.kpis["orders"].mean())
    assert len(pd.read_csv(out / "replications.csv")) == 2


def test_streamed_replications_write_each_replications_tables_and_the_same_kpis(tmp_path):
    sc = small_scenario()
    mem = replicate(sc, 2, seed=4, days=3, keep_results=True)
    st = replicate(sc, 2, seed=4, days=3, stream_to=tmp_path, format="parquet")
    pd.testing.assert_frame_equal(mem.kpis, st.kpis)
    from omsim.sim.stream import read_table

    for r in range(2):
        got = read_table(tmp_path / f"replication-{r}" / "orders.parquet")
        pd.testing.assert_frame_equal(mem.results[r].orders.reset_index(drop=True), got, check_dtype=False)
        assert (tmp_path / f"replication-{r}" / "events.parquet").is_file()


def test_streamed_replications_refuse_a_bad_format_before_any_run(tmp_path):
    with pytest.raises(OmsimError, match="format"):
        replicate(small_scenario(), 2, seed=1, days=1, stream_to=tmp_path, format="xlsx")
