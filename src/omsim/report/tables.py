"""KPI tables as text and rows, through :mod:`omsim.report.format` (one formatting for CLI and report)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from omsim.kpis import KPIS, is_kpi, kpi_info
from omsim.report.format import fmt_kpi


def is_number(v) -> bool:
    """A finite real number (not a bool)."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(float(v))


def _numeric_kpis(kpis: dict) -> list[str]:
    """KPI keys in glossary order (unknown ones after, by name); run facts and text left out."""
    order = {k: i for i, k in enumerate(KPIS)}
    keys = [k for k in kpis if is_kpi(k) and (is_number(kpis[k]) or kpis[k] is None
                                             or isinstance(kpis[k], float))]
    return sorted(keys, key=lambda k: (order.get(k, len(order)), k))


def kpi_rows(kpis: dict, currency: str = "") -> list[tuple[str, str, str]]:
    """(key, label, formatted value) per KPI, in glossary order; ``seed``, ``days`` and text are not KPIs."""
    return [(k, kpi_info(k).label, fmt_kpi(k, kpis[k], currency=currency)) for k in _numeric_kpis(kpis)]


def run_facts(kpis: dict) -> str:
    """``seed 7, 14 day(s)``: the run facts that KPI tables leave out."""
    parts = []
    if is_number(kpis.get("seed")):
        parts.append(f"seed {int(kpis['seed'])}")
    if is_number(kpis.get("days")):
        parts.append(f"{int(kpis['days'])} day(s)")
    return ", ".join(parts)


def _table(rows: list[tuple[str, str]], value_head: str) -> str:
    w = max([len(a) for a, _ in rows] + [3])
    v = max([len(b) for _, b in rows] + [len(value_head)])
    lines = [f"{'KPI':<{w}}  {value_head:>{v}}", f"{'-' * w}  {'-' * v}"]
    return "\n".join(lines + [f"{a:<{w}}  {b:>{v}}" for a, b in rows])


def format_kpis(kpis: dict, currency: str = "") -> str:
    """A two-column text table of a run's KPIs (run facts on a line above)."""
    facts = run_facts(kpis)
    table = _table([(label, shown) for _, label, shown in kpi_rows(kpis, currency)], "value")
    return (f"run: {facts}\n" if facts else "") + table


def format_kpi_summary(summary: pd.DataFrame, currency: str = "") -> str:
    """Mean ± 95 % CI half-width per KPI over replications (``summary`` indexed by KPI, columns mean, half_width).

    Rate intervals that would leave [0, 1] are shown clipped, as ``[low, high]``.
    """
    keys = _numeric_kpis({k: summary.loc[k, "mean"] for k in summary.index})
    rows = [(kpi_info(k).label, fmt_kpi(k, summary.loc[k, "mean"], summary.loc[k, "half_width"], currency))
            for k in keys]
    return _table(rows, "mean ± 95% CI")


def format_sweep_summary(summary: pd.DataFrame, factors: list[str], kpis: list[str], currency: str = "") -> str:
    """One line per grid point: swept values, replications and each KPI's mean ± 95 % CI (clipped rates)."""
    head = [f.split(".")[-1] if f.count(".") > 1 else f for f in factors] + ["n"]
    head += [kpi_info(k).label for k in kpis]
    body = []
    cols = {c: summary[c].tolist() for c in summary.columns}   # per column: ints stay ints
    for i in range(len(summary)):
        row = [str(cols[f][i]) for f in factors] + [str(int(cols["n"][i]))]
        row += [fmt_kpi(k, cols[k][i] if k in cols else None,
                        cols[f"{k}_ci95"][i] if f"{k}_ci95" in cols else None, currency) for k in kpis]
        body.append(row)
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    return "\n".join("  ".join(x.rjust(w) for x, w in zip(row, widths)) for row in [head, *body])
