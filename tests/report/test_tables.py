"""KPI text tables: units by kind, glossary order, run facts apart, the replication summary."""
import pandas as pd

from omsim.report.tables import format_kpi_summary, format_kpis, kpi_rows


def test_rows_in_glossary_order_with_units_and_currency():
    rows = kpi_rows({"orders": 1200, "cost_per_order": 11.857, "fill_rate": 0.9876, "cycle_time_p95_h": 40.04,
                     "on_time_rate": float("nan"), "seed": 7, "days": 3}, currency="EUR")
    assert [k for k, _, _ in rows] == ["fill_rate", "on_time_rate", "cost_per_order", "cycle_time_p95_h", "orders"]
    shown = {k: v for k, _, v in rows}
    assert shown == {"fill_rate": "98.8 %", "on_time_rate": "–", "cost_per_order": "11.86 EUR",
                     "cycle_time_p95_h": "40.0 h", "orders": "1,200"}


def test_text_table_aligns_labels_and_keeps_seed_and_days_out():
    text = format_kpis({"fill_rate": 1.0, "orders": 5, "seed": 42, "days": 7})
    lines = text.splitlines()
    assert lines[0] == "run: seed 42, 7 day(s)"
    assert lines[1].startswith("KPI") and lines[3].startswith("Fill rate")
    assert len({len(line) for line in lines[1:]}) == 1
    assert not any(line.startswith(("seed", "Seed", "days", "Days")) for line in lines[1:])


def test_summary_shows_mean_and_half_width_at_the_same_precision():
    summary = pd.DataFrame({"mean": [0.95, 12.5, 29.4446], "half_width": [0.012, 0.25, 119.2469]},
                           index=["fill_rate", "cost_per_order", "cycle_time_p50_h"])
    text = format_kpi_summary(summary, currency="USD")
    assert "95.0 ± 1.2 %" in text and "12.50 ± 0.25 USD" in text and "29.4 ± 119.2 h" in text


def test_summary_clips_rate_intervals_to_zero_one():
    summary = pd.DataFrame({"mean": [0.995], "half_width": [0.02]}, index=["on_time_rate"])
    assert "99.5 [97.5, 100.0] %" in format_kpi_summary(summary)
