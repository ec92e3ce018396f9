"""``omsim fit``: the fitted scenario's own demand reproduces the history's statistics.

Tolerances (stated once, here): a share p measured on n orders (or lines) may differ by
``floor + 4 * sqrt(p (1 - p) / n)`` (4 binomial standard errors of the generated sample, plus a
floor for what the model leaves out); orders per day by 2 % + 4 Poisson standard errors (the
generator drops the few orders of closed weekdays); lines-per-order quantiles p10..p90 by 10 %
or 1 line, whichever is more. Checked on the full shared Online Retail II year where
``../shared`` is present, and on the week extract shipped with the uk-gift-retailer scenario.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from omsim.cli import main
from omsim.history.fitreport import fit_history
from omsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "online-retail-ii" / "online_retail_II_2009_2010.csv.gz"
EXTRACT = ROOT / "scenarios" / "data" / "uk-gift-retailer" / "orders-2010-11-01-to-07.csv.gz"


def share_tol(p: float, n: int, floor: float) -> float:
    return floor + 4.0 * math.sqrt(max(p * (1 - p), 1e-12) / n)


def check_fit(real: dict, fit: dict) -> None:
    n = fit["orders"]
    rel = abs(fit["orders_per_day"] / real["orders_per_day"] - 1)
    assert rel <= 0.02 + 4 / math.sqrt(real["orders"]), (real["orders_per_day"], fit["orders_per_day"])
    for k in range(7):
        p = real["weekday_share"][k]
        assert abs(fit["weekday_share"][k] - p) <= share_tol(p, n, 0.01), ("weekday", k)
    for h in range(24):
        p = real["hour_share"][h]
        assert abs(fit["hour_share"][h] - p) <= share_tol(p, n, 0.005), ("hour", h)
    for q, a, b in zip((10, 25, 50, 75, 90), real["lines_q"], fit["lines_q"]):
        assert abs(a - b) <= max(1.0, 0.1 * a), ("lines per order quantile", q, a, b)
    p = real["single_line_share"]
    assert abs(fit["single_line_share"] - p) <= share_tol(p, n, 0.01)
    for f, a, b in zip((1, 10, 20), real["top_sku_share"], fit["top_sku_share"]):
        # SKUs are distinct within an order in the generator, which thins the head a little.
        assert abs(a - b) <= share_tol(a, fit["lines"], 0.03), ("top SKU share", f, a, b)
    p = real["repeat_customer_share"]
    assert abs(fit["repeat_customer_share"] - p) <= share_tol(p, n, 0.03)
    # Customer cancellations: orders cancelled in part, the share of their lines named, the delay.
    p = real["cancel_share"]
    assert abs(fit["cancel_share"] - p) <= share_tol(p, n, 0.01), ("cancel share", p, fit["cancel_share"])
    m = max(1, int(p * n))
    assert abs(fit["cancel_line_share"] - real["cancel_line_share"]) <= share_tol(real["cancel_line_share"], m, 0.03)
    # Delay: each median inside the other's quartiles (a week's extract has about twenty cancellations).
    rq, fq = real["cancel_delay_q"], fit["cancel_delay_q"]
    assert rq[1] <= fq[2] <= rq[3] and fq[1] <= rq[2] <= fq[3], ("cancellation delay quartiles", rq, fq)


def test_fit_reproduces_the_shipped_extract(tmp_path):
    if not EXTRACT.exists():
        pytest.skip(f"the shipped extract {EXTRACT} is not in this checkout")
    stats = fit_history(EXTRACT, tmp_path / "fit")
    check_fit(stats["real"], stats["fitted"])
    sc = load_scenario(tmp_path / "fit" / "scenario.yaml")
    assert sc.demand.closed_weekdays == ["sat"] and sc.demand.lines_per_order.table is not None
    assert "data:image/png;base64," in (tmp_path / "fit" / "fit-report.html").read_text()


@pytest.mark.slow
def test_fit_reproduces_the_full_shared_history(tmp_path):
    if not SHARED.exists():
        pytest.skip(f"the shared Online Retail II history {SHARED} is absent")
    stats = fit_history(SHARED, tmp_path / "fit")
    real, fit = stats["real"], stats["fitted"]
    check_fit(real, fit)
    # What the history says about itself (SOURCE.md and issue 13), reproduced by the fit.
    assert real["lines_q"][2] == 15 and fit["lines_q"][2] == 15
    assert 0.6 < fit["repeat_customer_share"] < 0.75
    sc = load_scenario(tmp_path / "fit" / "scenario.yaml")
    mp = np.asarray(sc.demand.month_profile)
    assert mp[10] / mp[0] > 2.0                          # November well over January
    assert {"12-25", "01-01"} <= set(sc.demand.closed_dates)


def test_cli_fit_writes_a_runnable_scenario_and_refuses_to_overwrite(tmp_path):
    if not EXTRACT.exists():
        pytest.skip(f"the shipped extract {EXTRACT} is not in this checkout")
    out = tmp_path / "fit"
    r = CliRunner().invoke(main, ["fit", str(EXTRACT), "--out", str(out), "--days", "2"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["catalogue.csv", "fit-report.html", "scenario.yaml"]
    r = CliRunner().invoke(main, ["simulate", str(out / "scenario.yaml"), "--days", "1", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["fit", str(EXTRACT), "--out", str(out)])
    assert r.exit_code == 2 and "--overwrite" in r.output


def test_cli_fit_bad_history_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "h.csv"
    bad.write_text("order_id,created_at,sku,qty\n1,2024-01-01 10:00,A,x\n")
    r = CliRunner().invoke(main, ["fit", str(bad), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2 and "row" in r.output and "qty" in r.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()


def test_generated_customers_are_written_and_read_back(tmp_path):
    from omsim.history import read_history
    from omsim.history.write import demand_frame, write_demand

    sc = load_scenario(ROOT / "scenarios" / "small-business.yaml").with_overrides(
        {"demand.customers": {"returning_share": 0.6, "guest_share": 0.2}})
    back = read_history(write_demand(demand_frame(sc, days=3), tmp_path / "d.csv"))
    first = back.drop_duplicates("order_id")["customer_id"]
    assert first.isna().mean() == pytest.approx(0.2, abs=0.08)
    known = first.dropna()
    assert known.str.startswith("K").all()
    assert 1 - known.nunique() / len(known) == pytest.approx(0.6, abs=0.1)
