"""The sweep figure: chosen KPIs against a swept value, with 95% confidence bars.

One panel per KPI. The x axis is the first numeric swept field (else the
first swept field, as categories); every combination of the other swept
fields is one line. Points are replication means with their t-based 95% CI
half-widths as error bars, both taken from the sweep's summary table
(:func:`omsim.sweep.summarise`: one row per grid point, columns ``<kpi>`` and
``<kpi>_ci95``), so the figure draws and never computes. Built on a bare :class:`matplotlib.figure.Figure` (no pyplot): the Agg
canvas writes the PNG, so it works headless and in worker processes.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from omsim.kpis import clip_ci, kpi_info

__all__ = ["plot_sweep", "x_factor", "save"]


def _is_numeric(values) -> bool:
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
               for v in values)


def x_factor(table: pd.DataFrame, factors: Sequence[str]) -> str:
    """The swept field on the x axis: the first numeric one, else the first."""
    for f in factors:
        if _is_numeric(table[f].dropna().unique()):
            return f
    return factors[0]


def plot_sweep(summary: pd.DataFrame, factors: Sequence[str], kpis: Sequence[str], currency: str = "") -> Figure:
    """KPI-vs-swept-value panels from a sweep summary.

    Parameters
    ----------
    summary
        One row per grid point: the factor columns (swept values), ``n``
        (replications) and for each KPI its mean ``<kpi>`` and CI half-width
        ``<kpi>_ci95`` (NaN draws no bar).
    factors
        The swept field paths (column names), at least one.
    kpis
        KPIs to plot, one panel each: rates in %, their bars clipped to [0, 100] %.
    currency
        Shown on money axes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not factors:
        raise ValueError("plot_sweep needs at least one swept field")
    kpis = [k for k in kpis if k in summary]
    if not kpis:
        raise ValueError("none of the requested KPIs is in the summary")
    xf = x_factor(summary, factors)
    others = [f for f in factors if f != xf]
    x_values = list(dict.fromkeys(summary[xf]))  # in sweep order
    numeric = _is_numeric(x_values)
    if numeric:
        x_values = sorted(x_values)
    pos = {v: (float(v) if numeric else i) for i, v in enumerate(x_values)}

    ncols = min(3 if len(kpis) > 4 else 2, len(kpis))
    nrows = math.ceil(len(kpis) / ncols)
    fig = Figure(figsize=(5.2 * ncols, 3.6 * nrows), layout="constrained")
    groups = list(summary.groupby(others, sort=False)) if others else [((), summary)]
    for i, kpi in enumerate(kpis):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for key, grp in groups:
            key = key if isinstance(key, tuple) else (key,)
            grp = grp.assign(_x=grp[xf].map(pos)).sort_values("_x")
            label = ", ".join(f"{_short(f)}={v}" for f, v in zip(others, key)) or None
            y, yerr = _bars(grp, kpi)
            ax.errorbar(grp["_x"].to_numpy(float), y, yerr=yerr, marker="o", capsize=3, label=label)
        info = kpi_info(kpi)
        ax.set_title(info.label)
        unit = {"rate": "%", "money": currency, "hours": "h", "score": "1-5 scale", "metres": "m"}.get(info.kind, "")
        if unit:
            ax.set_ylabel(unit)
        ax.set_xlabel(_short(xf))
        if not numeric:
            ax.set_xticks(range(len(x_values)), [str(v) for v in x_values])
        elif len(x_values) <= 12:
            ax.set_xticks([float(v) for v in x_values], [str(v) for v in x_values])  # the swept values, exactly
        ax.grid(True, alpha=0.3)
        if others and i == 0:
            ax.legend(fontsize="small")
    n = int(summary["n"].max()) if "n" in summary else 1
    fig.suptitle(f"Sweep: means of {n} replication(s), 95% CI bars")
    return fig


def _bars(grp: pd.DataFrame, kpi: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Means and (lower, upper) error bar lengths, clipped to the KPI's range; rates scaled to %."""
    mean = grp[kpi].to_numpy(float)
    scale = 100.0 if kpi_info(kpi).kind == "rate" else 1.0
    if f"{kpi}_ci95" not in grp:
        return scale * mean, None
    half = grp[f"{kpi}_ci95"].fillna(0.0).to_numpy(float)
    bounds = [clip_ci(kpi, m - h, m + h) for m, h in zip(mean, half)]
    lo = np.array([m - b[0] for m, b in zip(mean, bounds)])
    hi = np.array([b[1] - m for m, b in zip(mean, bounds)])
    return scale * mean, scale * np.vstack([np.maximum(lo, 0.0), np.maximum(hi, 0.0)])


def _short(path: str) -> str:
    """``network.warehouses[0].pickers`` → ``warehouses[0].pickers`` (keeps labels short)."""
    parts = path.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else path


def save(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write the figure as PNG through the Agg canvas; returns the path."""
    path = Path(path)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi)
    return path
