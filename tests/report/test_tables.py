"""KPI text tables: units by kind, ordering, the replication summary."""
import pandas as pd

from omsim.report.tables import format_kpi_summary, format_kpis, kpi_kind, kpi_rows


def test_kinds_from_names():
    assert kpi_kind("on_time_rate") == "rate"
    assert kpi_kind("packer_utilisation") == "rate"
    assert kpi_kind("cost_per_order") == "money" and kpi_kind("refund_total") == "money"
    assert kpi_kind("cycle_time_p50_h") == "hours" and kpi_kind("orders") == "plain"


def test_rows_rates_first_with_units():
    rows = kpi_rows({"orders": 1200, "cost_per_order": 11.857, "fill_rate": 0.9876, "cycle_time_p95_h": 40.04,
                     "on_time_rate": float("nan")})
    assert [k for k, _, _ in rows] == ["fill_rate", "on_time_rate", "cost_per_order", "cycle_time_p95_h", "orders"]
    shown = {k: v for k, _, v in rows}
    assert shown == {"fill_rate": "98.8 %", "on_time_rate": "–", "cost_per_order": "11.86",
                     "cycle_time_p95_h": "40.0 h", "orders": "1,200"}


def test_text_table_aligns_labels_and_values():
    text = format_kpis({"fill_rate": 1.0, "orders": 5})
    lines = text.splitlines()
    assert lines[0].startswith("KPI") and lines[2].startswith("fill rate")
    assert len({len(line) for line in lines}) == 1


def test_summary_shows_mean_and_half_width():
    summary = pd.DataFrame({"mean": [0.95, 12.5], "half_width": [0.012, 0.25]}, index=["fill_rate", "cost_per_order"])
    text = format_kpi_summary(summary)
    assert "95.0 % ± 1.2" in text and "12.50 ± 0.25" in text
