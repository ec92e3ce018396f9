"""Figure functions: each returns a Figure with the expected axes, labels and artists,
and its PNG is a real, non-empty image."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from omsim.report import figures as F

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_ok(fig: Figure, tmp_path, name: str) -> None:
    path = F.save_png(fig, tmp_path / f"{name}.png", dpi=60)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 2000  # an empty canvas at this size is far smaller than a drawn figure


def _ax(fig: Figure):
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    return fig.axes[0]


def test_kpi_summary_one_bar_per_rate_in_percent(tmp_path):
    kpis = {"fill_rate": 0.97, "on_time_rate": 0.5, "orders": 1234, "cost_per_order": 12.5,
            "custom_rate": 0.25, "weird_rate": 3.0}
    fig = F.kpi_summary(kpis)
    ax = _ax(fig)
    assert ax.get_title() == "Service KPIs"
    assert ax.get_xlabel() == "percent"
    widths = sorted(p.get_width() for p in ax.patches)
    # fill, on-time and custom; 'orders', costs and an out-of-range rate are not rates
    assert widths == pytest.approx([25.0, 50.0, 97.0])
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert {"Fill rate", "On-time delivery", "custom rate"} == labels
    _png_ok(fig, tmp_path, "kpis")


def test_kpi_summary_without_rates_still_draws():
    ax = _ax(F.kpi_summary({"orders": 3}))
    assert len(ax.patches) == 0
    assert any("no rate KPIs" in t.get_text() for t in ax.texts)


def test_daily_flow_lines_follow_the_data(tmp_path):
    daily = pd.DataFrame({"day": [0, 1, 2, 3], "orders": [10, 12, 9, 11], "shipments": [8, 13, 10, 11],
                          "backlog": [2, 1, 0, 0]})
    fig = F.daily_flow(daily)
    ax = _ax(fig)
    assert ax.get_xlabel() == "simulated day" and ax.get_ylabel() == "count"
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"orders", "shipments", "backlog"}
    np.testing.assert_array_equal(lines["shipments"].get_ydata(), [8, 13, 10, 11])
    _png_ok(fig, tmp_path, "daily")


def test_daily_flow_draws_only_present_columns():
    ax = _ax(F.daily_flow(pd.DataFrame({"day": [0, 1], "orders": [5, 6]})))
    assert [ln.get_label() for ln in ax.get_lines()] == ["orders"]


def test_cycle_time_histogram_counts_only_delivered_and_marks_percentiles(tmp_path):
    rng = np.random.default_rng(3)
    n = 200
    created = rng.uniform(0, 48, n)
    delivered = created + rng.uniform(10, 70, n)
    delivered[:20] = np.nan  # not delivered
    orders = pd.DataFrame({"order_id": np.arange(n), "created_h": created, "delivered_h": delivered})
    fig = F.cycle_time(orders)
    ax = _ax(fig)
    assert ax.get_xlabel() == "order cycle time (h)" and ax.get_ylabel() == "orders"
    assert sum(p.get_height() for p in ax.patches) == pytest.approx(180)
    ct = (delivered - created)[20:]
    vlines = [ln.get_xdata()[0] for ln in ax.get_lines()]
    assert vlines == pytest.approx([np.median(ct), np.percentile(ct, 95)])
    _png_ok(fig, tmp_path, "cycle")


def test_on_time_by_service_from_promised_and_delivered(tmp_path):
    df = pd.DataFrame({"service": ["ground"] * 4 + ["express"] * 2,
                       "promised_h": [10, 10, 10, 10, 5, 5],
                       "delivered_h": [9, 10, 11, np.nan, 4, 6]})
    fig = F.on_time_by_service(df)
    ax = _ax(fig)
    assert ax.get_ylabel() == "on time (%)" and ax.get_xlabel() == "carrier service"
    heights = {t.get_text(): p.get_height() for t, p in zip(ax.get_xticklabels(), ax.patches)}
    # ground: 2 of 3 delivered on time (the undelivered one does not count); express 1 of 2
    assert heights == pytest.approx({"express": 50.0, "ground": 200 / 3})
    _png_ok(fig, tmp_path, "ontime")


def test_utilisation_one_line_per_node_in_percent(tmp_path):
    util = pd.DataFrame({"day": [0, 1, 0, 1, 0, 1], "node": ["A", "A", "B", "B", "C", "C"],
                         "utilisation": [0.5, 0.75, 1.2, 0.9, 0.0, 0.1]})
    fig = F.utilisation(util)
    ax = _ax(fig)
    assert ax.get_ylabel() == "picker utilisation (% of open hours)"
    data = {ln.get_label(): ln.get_ydata() for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    assert set(data) == {"A", "B", "C"}
    np.testing.assert_allclose(data["B"], [120.0, 90.0])
    assert ax.get_ylim()[1] >= 120.0
    _png_ok(fig, tmp_path, "util")


def test_daily_figures_put_dates_on_x_and_shade_closed_days(tmp_path):
    import datetime as dt

    daily = pd.DataFrame({"day": range(7), "orders": [10] * 7})
    fig = F.daily_flow(daily, start=dt.date(2026, 11, 30), closed=[6])
    ax = _ax(fig)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "Mon 30 Nov" and labels[6] == "Sun 06 Dec" and ax.get_xlabel() == "date (from 2026-11-30)"
    spans = [tuple(np.round(p.get_path().transformed(p.get_patch_transform()).get_extents().intervalx, 6))
             for p in ax.patches]
    assert spans == [(6.0, 7.0)]
    assert "closed (no shift)" in [t.get_text() for t in ax.get_legend().get_texts()]
    _png_ok(fig, tmp_path, "daily-dates")


def test_utilisation_leaves_closed_days_out_and_names_overtime():
    util = pd.DataFrame({"day": [0, 1, 2], "node": "A", "utilisation": [0.5, 1.0, 0.0],
                         "overtime_h": [0.0, 3.25, 0.0]})
    ax = _ax(F.utilisation(util, closed=[2]))
    (line,) = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert line.get_label() == "A (+3.2 h overtime)"
    y = line.get_ydata()
    assert list(y[:2]) == [50.0, 100.0] and np.isnan(y[2])


def test_simulated_daily_utilisation_never_passes_100_percent():
    """Against the simulator: tours run on past closing are overtime, not utilisation above 100 %."""
    from omsim.scenario import load_scenario, scenario_from_dict
    from omsim.sim import simulate

    path = Path(__file__).resolve().parents[2] / "scenarios" / "small-business.yaml"
    raw = load_scenario(path).raw()
    for w in raw["network"]["warehouses"]:
        w["pickers"] = 1                      # short-staffed: tours run on past closing
        w["pick_time_s"] = 240
    res = simulate(scenario_from_dict(raw, base_dir=path.parent), days=2)
    util = res.daily.filter(like="util_").to_numpy()
    over = res.daily.filter(like="overtime_h_").to_numpy()
    assert util.max() <= 1.0 + 1e-9 and util.max() > 0.9
    assert over.min() >= 0.0 and over.max() > 0.0       # the case is exercised: there was overtime


def _ledger():
    # node X: sku a 3 units, shipped 2 then 1 (a stock-out at t=5); sku b 1 unit never shipped
    # node Y: sku a 2 units, shipped 2 at t=4 (stock-out), received 5 at t=6, shipped 1 at t=7
    rows = [(0, "X", "a", 3, "initial"), (0, "X", "b", 1, "initial"), (0, "Y", "a", 2, "initial"),
            (2, "X", "a", -2, "ship"), (4, "Y", "a", -2, "ship"), (5, "X", "a", -1, "ship"),
            (6, "Y", "a", 5, "receipt"), (7, "Y", "a", -1, "ship")]
    return pd.DataFrame(rows, columns=["time_h", "node", "sku", "delta", "reason"])


def test_stockouts_found_by_running_on_hand():
    out = F.stockouts(_ledger())
    assert list(zip(out["time_h"], out["node"], out["sku"])) == [(4, "Y", "a"), (5, "X", "a")]


def test_inventory_levels_and_stockout_markers(tmp_path):
    fig = F.inventory(_ledger())
    ax = _ax(fig)
    assert ax.get_xlabel() == "simulated day" and ax.get_ylabel() == "units on hand"
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"X", "Y", "X stock-outs (1)", "Y stock-outs (1)"}
    np.testing.assert_array_equal(lines["X"].get_ydata(), [4, 2, 1])
    np.testing.assert_array_equal(lines["Y"].get_ydata(), [2, 0, 5, 4])
    np.testing.assert_allclose(lines["X"].get_xdata(), np.array([0, 2, 5]) / 24)
    # the marker sits on the node's line at the moment of the stock-out
    np.testing.assert_allclose(lines["Y stock-outs (1)"].get_ydata(), [0])
    np.testing.assert_allclose(lines["X stock-outs (1)"].get_ydata(), [1])
    _png_ok(fig, tmp_path, "inventory")


def test_cost_per_order_bars_and_total(tmp_path):
    fig = F.cost_per_order({"shipping": 8.0, "labour": 3.0, "split_penalty": 1.0, "zero": 0.0}, currency="EUR")
    ax = _ax(fig)
    assert ax.get_title() == "Cost per order: 12.00 EUR in total"
    assert ax.get_xlabel() == "cost per order (EUR)"
    widths = [p.get_width() for p in ax.patches]
    assert widths == [1.0, 3.0, 8.0]  # smallest first: the largest is drawn on top
    assert [t.get_text() for t in ax.get_yticklabels()] == ["split penalty", "labour", "shipping"]
    _png_ok(fig, tmp_path, "cost")


@pytest.mark.parametrize("fn, arg", [
    (F.daily_flow, pd.DataFrame()), (F.cycle_time, pd.DataFrame()), (F.on_time_by_service, pd.DataFrame()),
    (F.utilisation, pd.DataFrame({"day": [], "node": [], "utilisation": []})), (F.inventory, pd.DataFrame()),
    (F.cost_per_order, {}),
])
def test_empty_inputs_give_a_figure_that_says_so(fn, arg, tmp_path):
    fig = fn(arg)
    ax = _ax(fig)
    assert any(t.get_text().startswith("no ") for t in ax.texts)
    _png_ok(fig, tmp_path, fn.__name__)


def test_inventory_held_to_the_end_of_the_run_and_says_when_nothing_ran_out():
    led = pd.DataFrame({"time_h": [0, 0, 10], "node": ["X", "X", "X"], "sku": ["a", "b", "a"],
                        "delta": [5, 2, -1]})
    ax = _ax(F.inventory(led, end_h=48))
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), [0, 10 / 24, 2])
    np.testing.assert_array_equal(line.get_ydata(), [7, 6, 6])
    assert any(t.get_text() == "no stock-outs" for t in ax.texts)
