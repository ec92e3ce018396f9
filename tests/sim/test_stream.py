"""Streamed outputs (omsim.sim.stream): the same rows as the in-memory run, in bounded memory."""
import filecmp
import math

import numpy as np
import pandas as pd
import pytest

import omsim
from omsim.sim import simulate
from omsim.sim.model import Simulation
from omsim.sim.result import _FileFrame
from omsim.sim.stream import Sink, read_table, shipped_units

DAYS, SEED = 4, 3


@pytest.fixture(scope="module")
def scenario():
    return omsim.load_scenario()


@pytest.fixture(scope="module")
def in_memory(scenario, tmp_path_factory):
    res = simulate(scenario, seed=SEED, days=DAYS)
    out = tmp_path_factory.mktemp("mem")
    res.write(out)
    return res, out


def _same_kpis(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])), k


def test_streamed_csv_files_are_the_in_memory_runs_byte_for_byte(scenario, in_memory, tmp_path):
    res, mem_dir = in_memory
    # A small chunk: the orders come in many chunks, the events and ledger in one a day.
    sink = Sink(tmp_path, "csv", chunk_rows=1000)
    st = Simulation(scenario, SEED, DAYS, sink=sink).run()
    for t in ("orders", "events", "ledger"):
        assert filecmp.cmp(mem_dir / f"{t}.csv", tmp_path / f"{t}.csv", shallow=False), t
    assert sink.rows == {"orders": len(res.orders), "events": len(res.events), "ledger": len(res.ledger)}
    # KPIs and daily series computed as the run went equal the batch computation on the whole run.
    _same_kpis(res.kpis, st.kpis)
    pd.testing.assert_frame_equal(res.daily, st.daily)


def test_streamed_parquet_result_reads_lazily_and_equals_the_in_memory_result(scenario, in_memory, tmp_path):
    res, _ = in_memory
    st = simulate(scenario, seed=SEED, days=DAYS, stream_to=tmp_path, format="parquet")
    assert set(st.files) == {"orders", "events", "ledger"}
    for t in ("orders", "events", "ledger"):
        assert isinstance(st.__dict__[f"_{t}"], _FileFrame)      # not read yet
        got = getattr(st, t)
        assert isinstance(st.__dict__[f"_{t}"], pd.DataFrame)    # read once, kept
        pd.testing.assert_frame_equal(res.__getattribute__(t).reset_index(drop=True), got, check_dtype=False)
    _same_kpis(res.kpis, st.kpis)
    pd.testing.assert_frame_equal(res.daily, st.daily)
    # Result.write_files beside the streamed tables adds kpis, daily and the scenario; a run directory
    # elsewhere gets copies.
    st.write_files(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {"orders.parquet", "events.parquet", "ledger.parquet",
                                                     "kpis.json", "daily.csv", "scenario.yaml"}
    other = tmp_path / "copy"
    st.write(other)
    pd.testing.assert_frame_equal(read_table(other / "events.parquet"), st.events)


def test_streaming_matches_on_a_scenario_with_returns_exchanges_and_backorders(tmp_path):
    sc = omsim.load_scenario("scenarios/apparel-returns.yaml")
    a = Simulation(sc, 5, 10).run()
    b = Simulation(sc, 5, 10, sink=Sink(tmp_path, "parquet", chunk_rows=777)).run()
    assert a.kpis["exchanges"] > 0 and a.kpis["backorder_rate"] > 0 and a.kpis["remainders"] > 0
    for t in ("orders", "events", "ledger"):
        pd.testing.assert_frame_equal(getattr(a, t).reset_index(drop=True), getattr(b, t), check_dtype=False)
    _same_kpis(a.kpis, b.kpis)


def test_shipped_units_summed_over_chunks_equal_the_whole_ledger(in_memory, scenario):
    led = in_memory[0].ledger
    whole = shipped_units(led, scenario.sku_ids)
    parts = sum(shipped_units(led.iloc[a:a + 997], scenario.sku_ids) for a in range(0, len(led), 997))
    np.testing.assert_array_equal(whole, parts)
    ship = led[led.reason == "ship"]
    assert whole.sum() == -ship.delta.sum() > 0


def test_rows_held_in_memory_do_not_grow_with_the_horizon(scenario, tmp_path):
    """The event log and ledger a streamed run holds stay about two days deep: three times the days,
    three times the rows written, not more rows held."""
    held, written = {}, {}
    for days in (4, 12):
        sink = Sink(tmp_path / str(days), "parquet")
        Simulation(scenario, 1, days, sink=sink).run()
        held[days], written[days] = sink.max_rows_held, sink.rows["events"] + sink.rows["ledger"]
    assert written[12] > 2.5 * written[4]
    assert held[12] < 1.3 * held[4]
    assert held[12] < written[12] / 4


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(omsim.OmsimError, match="format"):
        Sink(tmp_path, "xlsx")


def test_a_streamed_run_retires_final_rows_and_releases_them(scenario, tmp_path):
    """Over 12 days most order rows and packages are final before the end: written as they retire, their
    memory released, and the run's rows, KPIs and daily series still the in-memory run's."""
    from omsim.sim import release

    mem = Simulation(scenario, 2, 12).run()
    mem.write(tmp_path / "mem")
    sim = Simulation(scenario, 2, 12, sink=Sink(tmp_path / "st", "csv", chunk_rows=5000))
    st = sim.run()
    assert sim.feed is not None and sim.retired_rows > 0.6 * mem.kpis["orders"]
    assert sim.ot.lo > 0.5 * sim.retired_rows and sim.P.lo > 0.5 * sim.P.n
    assert len(sim.kpi_parts) >= 8           # retired a day at a time
    for t in ("orders", "events", "ledger"):
        assert filecmp.cmp(tmp_path / "mem" / f"{t}.csv", tmp_path / "st" / f"{t}.csv", shallow=False), t
    _same_kpis(mem.kpis, st.kpis)
    pd.testing.assert_frame_equal(mem.daily, st.daily)
    if release._MADVISE is not None:
        a = np.ones(1 << 20)
        assert release.release(a, 10, a.size - 10) > 0 and a[10_000] == 0.0 and a[0] == 1.0 and a[-1] == 1.0
