"""The sweep figure: panels, lines, means and CI bars drawn from the table."""
import numpy as np
import pandas as pd
import pytest

from omsim.compare import t_quantile
from omsim.report.sweep_plot import plot_sweep, save, x_factor
from omsim.sweep import summarise

P, A = "network.warehouses[0].pickers", "policies.allocation"


def _table():
    rng = np.random.default_rng(5)
    rows = []
    point = 0
    for pickers in (12, 8, 10):          # swept out of order on purpose
        for alloc in ("nearest", "cheapest"):
            for rep in range(4):
                rows.append({"point": point, "replication": rep, P: pickers, A: alloc,
                             "cost": 100 / pickers + (alloc == "nearest") + rng.normal(0, 0.2),
                             "util": 8 / pickers})
            point += 1
    return pd.DataFrame(rows)


def test_one_panel_per_kpi_one_line_per_other_factor_with_ci_bars(tmp_path):
    t = _table()
    fig = plot_sweep(summarise(t, [P, A], ["cost", "util"]), [A, P], ["cost", "util"])
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["Cost", "Util"]
    assert x_factor(t, [A, P]) == P                      # the numeric factor goes on x
    assert axes[0].get_xlabel() == "warehouses[0].pickers"
    containers = axes[0].containers
    assert len(containers) == 2                          # nearest, cheapest
    labels = [text.get_text() for text in axes[0].get_legend().get_texts()]
    assert labels == ["policies.allocation=nearest", "policies.allocation=cheapest"]
    for cont, alloc in zip(containers, ("nearest", "cheapest")):
        xy = cont.lines[0].get_xydata()
        np.testing.assert_array_equal(xy[:, 0], [8, 10, 12])
        sub = t[t[A] == alloc]
        means = sub.groupby(P)["cost"].mean().sort_index().to_numpy()
        sds = sub.groupby(P)["cost"].std(ddof=1).sort_index().to_numpy()
        np.testing.assert_allclose(xy[:, 1], means)
        segs = cont.lines[2][0].get_segments()
        half = np.array([s[1, 1] - s[0, 1] for s in segs]) / 2
        np.testing.assert_allclose(half, t_quantile(0.975, 3) * sds / 2)   # sd / sqrt(4)
    png = save(fig, tmp_path / "sweep.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_categorical_factor_alone_gets_category_ticks():
    t = _table()
    t = t[t[P] == 8]
    fig = plot_sweep(summarise(t, [A], ["cost"]), [A], ["cost"])
    ax = fig.axes[0]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["nearest", "cheapest"]
    assert ax.get_legend() is None and len(ax.containers) == 1


def test_bad_arguments():
    s = summarise(_table(), [P], ["cost"])
    with pytest.raises(ValueError):
        plot_sweep(s, [], ["cost"])
    with pytest.raises(ValueError):
        plot_sweep(s, [P], ["nope"])


def test_rate_bars_are_clipped_to_zero_and_one_hundred_percent():
    rng = np.random.default_rng(1)
    rows = [{"point": p, "replication": r, P: pickers, "on_time_rate": min(1.0, 0.97 + rng.normal(0, 0.03)),
             "orders_shipped": 1000.0 + r}
            for p, pickers in enumerate((2, 4)) for r in range(3)]
    s = summarise(pd.DataFrame(rows), [P], ["on_time_rate", "orders_shipped"])
    assert ((s["on_time_rate"] + s["on_time_rate_ci95"]) > 1).any()    # the raw interval passes 100 %
    fig = plot_sweep(s, [P], ["on_time_rate", "orders_shipped"])
    ax = fig.axes[0]
    assert ax.get_title() == "On-time delivery" and ax.get_ylabel() == "%"
    tops = [seg[1, 1] for seg in ax.containers[0].lines[2][0].get_segments()]
    bottoms = [seg[0, 1] for seg in ax.containers[0].lines[2][0].get_segments()]
    np.testing.assert_allclose(ax.containers[0].lines[0].get_ydata(), 100 * s["on_time_rate"])
    assert max(tops) == pytest.approx(100.0) and min(bottoms) >= 0.0
    assert fig.axes[1].get_title() == "Orders shipped"
