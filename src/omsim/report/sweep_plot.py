"""The sweep figure: chosen KPIs against a swept value, with 95% confidence bars.

One panel per KPI. The x axis is the first numeric swept field (else the
first swept field, as categories); every combination of the other swept
fields is one line. Points are replication means with t-based 95% CI error
bars. Built on a bare :class:`matplotlib.figure.Figure` (no pyplot): the Agg
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


def plot_sweep(table: pd.DataFrame, factors: Sequence[str], kpis: Sequence[str],
               confidence: float = 0.95) -> Figure:
    """KPI-vs-swept-value panels from a sweep results table.

    Parameters
    ----------
    table
        One row per grid point and replication: the factor columns (swept
        values) and KPI columns (see :class:`omsim.sweep.SweepResult`).
    factors
        The swept field paths (column names), at least one.
    kpis
        KPI columns to plot, one panel each.
    confidence
        Level of the error bars.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from omsim.compare import mean_ci

    if not factors:
        raise ValueError("plot_sweep needs at least one swept field")
    kpis = [k for k in kpis if k in table]
    if not kpis:
        raise ValueError("none of the requested KPIs is in the table")
    xf = x_factor(table, factors)
    others = [f for f in factors if f != xf]
    x_values = list(dict.fromkeys(table[xf]))  # in sweep order
    numeric = _is_numeric(x_values)
    if numeric:
        x_values = sorted(x_values)
    pos = {v: (float(v) if numeric else i) for i, v in enumerate(x_values)}

    ncols = min(2, len(kpis))
    nrows = math.ceil(len(kpis) / ncols)
    fig = Figure(figsize=(5.2 * ncols, 3.6 * nrows), layout="constrained")
    groups = list(table.groupby(others, sort=False)) if others else [((), table)]
    for i, kpi in enumerate(kpis):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for key, grp in groups:
            key = key if isinstance(key, tuple) else (key,)
            xs, ms, hs = [], [], []
            for xv in x_values:
                vals = grp.loc[grp[xf] == xv, kpi].to_numpy(dtype=float)
                if vals.size == 0:
                    continue
                m, h = mean_ci(vals, confidence)
                xs.append(pos[xv])
                ms.append(m)
                hs.append(0.0 if math.isnan(h) else h)
            label = ", ".join(f"{_short(f)}={v}" for f, v in zip(others, key)) or None
            ax.errorbar(xs, ms, yerr=hs, marker="o", capsize=3, label=label)
        ax.set_title(kpi.replace("_", " "))
        ax.set_xlabel(_short(xf))
        if not numeric:
            ax.set_xticks(range(len(x_values)), [str(v) for v in x_values])
        elif len(x_values) <= 12:
            ax.set_xticks([float(v) for v in x_values], [str(v) for v in x_values])  # the swept values, exactly
        ax.grid(True, alpha=0.3)
        if others and i == 0:
            ax.legend(fontsize="small")
    n = int(table.groupby("point").size().max()) if "point" in table else 1
    fig.suptitle(f"Sweep: means of {n} replication(s), {confidence:.0%} CI bars")
    return fig


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
