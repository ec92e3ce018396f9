"""The formatting layer: numbers without scientific notation or -0, units per KPI kind, verdicts, the glossary."""
import math

import pytest

from omsim.kpis import KPIS, clip_ci, kpi_info, verdict
from omsim.report.format import fmt_delta, fmt_kpi, fmt_number, format_glossary


@pytest.mark.parametrize("x, d, expected", [
    (46070.0, 0, "46,070"), (4.607e4, 1, "46,070.0"), (1e20, 0, "100,000,000,000,000,000,000"),
    (-0.0, 1, "0.0"), (-0.00001, 1, "0.0"), (-0.04, 1, "0.0"), (-0.06, 1, "-0.1"), (1234567.891, 2, "1,234,567.89"),
    (float("nan"), 2, "–"), (float("inf"), 2, "–"), (None, 2, "–"), (3, 0, "3"),
])
def test_fmt_number(x, d, expected):
    assert fmt_number(x, d) == expected


def test_signs_only_when_asked_and_never_on_zero():
    assert fmt_number(0.3, 1, sign=True) == "+0.3"
    assert fmt_number(-0.01, 1, sign=True) == "0.0"
    assert fmt_number(-2.5, 1, sign=True) == "-2.5"


def test_fmt_kpi_by_kind():
    assert fmt_kpi("on_time_rate", 0.9346) == "93.5 %"
    assert fmt_kpi("cost_per_order", 12.3456, 0.4, currency="EUR") == "12.35 ± 0.40 EUR"
    assert fmt_kpi("orders", 46070) == "46,070"
    assert fmt_kpi("orders", 46070.4) == "46,070.4"           # a mean over replications
    assert fmt_kpi("satisfaction_mean", 3.917) == "3.92 (1-5)"
    assert fmt_kpi("pick_wait_mean_h", -0.0) == "0.0 h"
    assert fmt_kpi("fill_rate", float("nan")) == "–"
    assert "e+" not in fmt_kpi("shipping_cost", 4.607e12) and fmt_kpi("shipping_cost", 4.607e12).startswith("4,607,")


def test_fmt_delta_rates_in_percentage_points():
    assert fmt_delta("on_time_rate", -0.0004) == "0.0 pp"
    assert fmt_delta("on_time_rate", 0.123) == "+12.3 pp"
    assert fmt_delta("cost_per_order", -1.5, "USD") == "-1.50 USD"
    assert fmt_delta("orders_shipped", -4607.0) == "-4,607"


def test_clip_ci_rates_and_scores_only():
    assert clip_ci("fill_rate", -0.1, 1.2) == (0.0, 1.0)
    assert clip_ci("satisfaction_mean", 0.5, 5.5) == (1.0, 5.0)
    assert clip_ci("cost_per_order", -3.0, 4.0) == (-3.0, 4.0)


@pytest.mark.parametrize("key, lo, hi, expected", [
    ("on_time_rate", 0.01, 0.05, "better"), ("on_time_rate", -0.05, -0.01, "worse"),
    ("cost_per_order", 0.01, 0.05, "worse"), ("cost_per_order", -0.5, -0.1, "better"),
    ("backlog", -10, -2, "better"), ("cost_per_order", -0.1, 0.2, "no difference"),
    ("orders", 3, 8, "higher"), ("picker_utilisation", -0.2, -0.1, "lower"),
    ("fill_rate", math.nan, math.nan, "?"),
])
def test_verdict_follows_the_kpis_direction(key, lo, hi, expected):
    assert verdict(key, lo, hi) == expected


def test_every_kpi_has_label_kind_and_description():
    for k in KPIS.values():
        assert k.label and k.description and "_" not in k.label
        assert k.kind in ("rate", "money", "count", "hours", "score", "metres", "ratio")
        assert k.better in ("higher", "lower", None)
    assert "1-5" in KPIS["satisfaction_mean"].description
    assert "annualised" in KPIS["inventory_turnover"].description
    assert kpi_info("new_thing_rate").kind == "rate" and kpi_info("new_thing_rate").label == "New thing rate"


def test_glossary_text_names_every_kpi_and_the_currency():
    text = format_glossary("EUR")
    for k in KPIS:
        assert k in text
    assert "EUR" in text and "seed" in text.splitlines()[-1]


def test_glossary_covers_every_kpi_a_real_run_emits():
    """Derived from a real small run, so a new KPI without metadata fails here."""
    from pathlib import Path

    from omsim.kpis import RUN_FACTS
    from omsim.scenario import load_scenario
    from omsim.sim import simulate

    sc = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "small-business.yaml")
    kpis = simulate(sc, days=1).kpis
    emitted = {k for k in kpis if k not in RUN_FACTS}
    assert emitted and emitted <= set(KPIS), sorted(emitted - set(KPIS))
    assert {"seed", "days"} <= set(kpis)   # run facts, kept out of KPI tables
