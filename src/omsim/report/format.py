"""Readable numbers and the KPI glossary: one formatting layer for the CLI, the report, compare and sweep.

KPI metadata (label, kind, unit, better direction, meaning) comes from
:mod:`omsim.kpis`. Rates are shown in %, money
with the scenario's currency, counts with thousands separators, confidence
half-widths at their mean's precision; never scientific notation, never
``-0.0``.
"""
from __future__ import annotations

import math

import numpy as np

from omsim.kpis import KPIS, RUN_FACTS, Kpi, clip_ci, kpi_info

__all__ = ["fmt_number", "fmt_kpi", "fmt_delta", "glossary_rows", "format_glossary"]


_DECIMALS = {"rate": 1, "money": 2, "hours": 1, "score": 2, "metres": 0, "ratio": 2, "count": 0}


def _finite(v) -> bool:
    return (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            and math.isfinite(float(v)))


def fmt_number(x, decimals: int = 2, sign: bool = False) -> str:
    """``x`` with thousands separators and fixed decimals: no scientific notation, no ``-0``; NaN → ``–``."""
    if not _finite(x):
        return "–"
    r = round(float(x), decimals)
    if r == 0:
        r = 0.0                    # -0.0 → 0.0
    s = f"{abs(r):,.{decimals}f}"
    if r < 0:
        return "-" + s
    return ("+" + s) if sign and r > 0 else s


def _decimals(kind: str, value) -> int:
    d = _DECIMALS[kind]
    if kind == "count" and _finite(value) and float(value) != int(float(value)):
        return 1                   # a mean of counts over replications
    return d


def _scaled(kind: str, v):
    return 100.0 * float(v) if kind == "rate" and _finite(v) else v


def fmt_kpi(key: str, value, half_width=None, currency: str = "") -> str:
    """A KPI value with its unit, e.g. ``93.4 %``, ``12.31 ± 0.40 EUR``, ``46,070``, ``3.92 (1-5)``.

    Rate half-widths that would leave [0, 1] show the clipped interval instead.
    """
    info = kpi_info(key)
    d = _decimals(info.kind, value)
    unit = _unit_suffix(info, currency)
    if not _finite(value):
        return "–"
    text = fmt_number(_scaled(info.kind, value), d)
    if _finite(half_width):
        lo, hi = clip_ci(key, float(value) - float(half_width), float(value) + float(half_width))
        if (lo, hi) != (float(value) - float(half_width), float(value) + float(half_width)):
            text += f" [{fmt_number(_scaled(info.kind, lo), d)}, {fmt_number(_scaled(info.kind, hi), d)}]"
        else:
            text += f" ± {fmt_number(_scaled(info.kind, half_width), d)}"
    return text + unit


def _unit_suffix(info: Kpi, currency: str) -> str:
    if info.kind == "money":
        return f" {currency}" if currency else ""
    return {"rate": " %", "hours": " h", "score": " (1-5)", "metres": " m"}.get(info.kind, "")


def fmt_delta(key: str, diff, currency: str = "") -> str:
    """A signed difference in the KPI's unit; rate differences in percentage points (``pp``)."""
    info = kpi_info(key)
    if not _finite(diff):
        return "–"
    d = _decimals(info.kind, diff) if info.kind != "count" else (0 if float(diff) == int(float(diff)) else 1)
    unit = " pp" if info.kind == "rate" else _unit_suffix(info, currency)
    return fmt_number(_scaled(info.kind, diff), d, sign=True) + unit


def glossary_rows(currency: str = "") -> list[tuple[str, str, str, str, str]]:
    """(label, key, unit, better, description) per KPI of the glossary."""
    rows = []
    for k in KPIS.values():
        unit = (currency or "currency") if k.kind == "money" else (k.unit or "count" if k.kind == "count" else
                                                                    k.unit or "ratio")
        rows.append((k.label, k.key, unit, {"higher": "higher", "lower": "lower"}.get(k.better, "–"),
                     k.description))
    return rows


def format_glossary(currency: str = "") -> str:
    """The KPI glossary as plain text (``omsim kpis``)."""
    rows = glossary_rows(currency)
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(max(len(r[2]) for r in rows), len("unit"))
    head = f"{'KPI':<{w0}}  {'name':<{w1}}  {'unit':<{w2}}  better  meaning"
    lines = [head, "-" * len(head)]
    lines += [f"{a:<{w0}}  {b:<{w1}}  {c:<{w2}}  {d:<6}  {e}" for a, b, c, d, e in rows]
    lines.append("Run facts (not KPIs): " + ", ".join(RUN_FACTS) + ".")
    return "\n".join(lines)
