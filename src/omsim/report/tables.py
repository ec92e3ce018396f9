"""KPI tables as text and rows: one formatting for the CLI and the HTML report."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from omsim.report.figures import RATE_LABELS


def is_number(v) -> bool:
    """A finite real number (not a bool)."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(float(v))


def fmt_value(v) -> str:
    """A plain, readable rendering of any KPI value."""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            return "–"
        return f"{v:,.4f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.1f}"
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def kpi_kind(key: str) -> str:
    """'rate', 'money', 'hours' or 'plain', from the KPI's name."""
    if key in RATE_LABELS or key.endswith(("_rate", "_utilisation")) or key == "pick_accuracy":
        return "rate"
    if "cost" in key or key.endswith("_total"):
        return "money"
    if key.endswith("_h"):
        return "hours"
    return "plain"


def kpi_label(key: str) -> str:
    """The human label of a KPI."""
    return RATE_LABELS.get(key, key.replace("_", " "))


def kpi_show(key: str, v) -> str:
    """A KPI value with its unit: rates as %, money with 2 decimals, hours with 'h'."""
    kind = kpi_kind(key)
    if is_number(v) and kind == "rate" and 0 <= float(v) <= 1:
        return f"{100 * float(v):.1f} %"
    if is_number(v) and kind == "money":
        return f"{float(v):,.2f}"
    if is_number(v) and kind == "hours":
        return f"{float(v):,.1f} h"
    if v is None:
        return "–"
    return fmt_value(v)


def kpi_rows(kpis: dict) -> list[tuple[str, str, str]]:
    """(key, label, formatted value) per KPI: rates first, then money, hours, the rest."""
    rank = {"rate": 0, "money": 1, "hours": 2, "plain": 3}
    order = {k: i for i, k in enumerate(RATE_LABELS)}
    keys = sorted(kpis, key=lambda k: (rank[kpi_kind(k)], order.get(k, len(order)), k))
    return [(k, kpi_label(k), kpi_show(k, kpis[k])) for k in keys]


def format_kpis(kpis: dict) -> str:
    """A two-column text table of a run's KPIs."""
    rows = kpi_rows(kpis)
    w = max(len(label) for _, label, _ in rows)
    v = max(len(shown) for _, _, shown in rows)
    lines = [f"{'KPI':<{w}}  {'value':>{v}}", f"{'-' * w}  {'-' * v}"]
    lines += [f"{label:<{w}}  {shown:>{v}}" for _, label, shown in rows]
    return "\n".join(lines)


def format_kpi_summary(summary: pd.DataFrame) -> str:
    """Mean ± 95 % CI half-width per KPI over replications (``summary`` indexed by KPI)."""
    keys = [k for k, _, _ in kpi_rows({k: summary.loc[k, "mean"] for k in summary.index})]
    rows = []
    for k in keys:
        mean, hw = summary.loc[k, "mean"], summary.loc[k, "half_width"]
        if kpi_kind(k) == "rate" and is_number(mean) and 0 <= mean <= 1:
            shown = f"{100 * mean:.1f} %" + (f" ± {100 * hw:.1f}" if is_number(hw) else "")
        else:
            shown = kpi_show(k, mean) + (f" ± {fmt_value(float(hw))}" if is_number(hw) else "")
        rows.append((kpi_label(k), shown))
    w = max(len(a) for a, _ in rows)
    v = max(len(b) for _, b in rows)
    head = [f"{'KPI':<{w}}  {'mean ± 95% CI':>{v}}", f"{'-' * w}  {'-' * v}"]
    return "\n".join(head + [f"{a:<{w}}  {b:>{v}}" for a, b in rows])
