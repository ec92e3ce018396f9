"""The report's figures: one function per figure, each returns a matplotlib Figure.

Every function takes tidy data (documented in its docstring) and builds a
:class:`matplotlib.figure.Figure` directly, without pyplot: no global state,
no GUI backend, safe in worker processes and tests (PNG output goes through
the Agg canvas). :func:`omsim.report.html.load_run` turns a run directory
(``kpis.json``, ``orders.csv``, ``events.csv``, ``ledger.csv``,
``daily.csv``) into these inputs.

Units follow :mod:`omsim.units`: time in hours since the scenario start
(days where the axis says so), money in the scenario's currency.
"""
from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from omsim.kpis import KPIS

__all__ = [
    "kpi_summary", "daily_flow", "cycle_time", "on_time_by_service", "utilisation",
    "inventory", "stockouts", "cost_per_order", "save_png", "RATE_LABELS", "calendar_axis",
]

#: Rate KPIs shown (as percentages) by :func:`kpi_summary`, with their labels,
#: in display order. Other KPIs whose name ends in ``_rate`` are added after.
RATE_LABELS: dict[str, str] = {k: v.label for k, v in KPIS.items() if v.kind == "rate"}

_SIZE = (7.5, 4.0)


def _fig(title: str, size=_SIZE) -> tuple[Figure, object]:
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    return fig, ax


def _empty(ax, what: str) -> None:
    """Say on the axes that there is nothing to draw (a figure is still produced)."""
    ax.text(0.5, 0.5, f"no {what} in this run", ha="center", va="center", transform=ax.transAxes,
            color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def calendar_axis(ax, days: int, start: _dt.date | None = None, closed: Sequence[int] = (),
                  centre: bool = False) -> None:
    """Dates on the x axis (day ``d`` spans ``[d, d + 1)``, labelled with its date from ``start``) and closed days shaded.

    ``closed``: day indices on which no warehouse works (no shift). Without ``start`` the
    ticks say ``day 0``, ``day 1``, ... Daily points sit mid-day when ``centre``.
    """
    days = max(int(days), 1)
    for d in closed:
        ax.axvspan(d, d + 1, color="0.85", alpha=0.6, lw=0, zorder=0)
    step = max(1, math.ceil(days / 10))
    ticks = list(range(0, days, step))
    ax.set_xticks([d + (0.5 if centre else 0.0) for d in ticks],
                  [(start + _dt.timedelta(days=d)).strftime("%a %d %b") if start else f"day {d}" for d in ticks],
                  rotation=30 if start else 0, ha="right" if start else "center", fontsize=8)
    ax.set_xlim(0, days)
    ax.set_xlabel(f"date (from {start:%Y-%m-%d})" if start else "simulated day")
    if closed:
        from matplotlib.patches import Patch

        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles + [Patch(color="0.85", alpha=0.6)], labels + ["closed (no shift)"], loc="best",
                  fontsize=8)


def _rate_items(kpis: Mapping[str, float]) -> list[tuple[str, float]]:
    keys = [k for k in RATE_LABELS if k in kpis]
    keys += sorted(k for k in kpis if k.endswith("_rate") and k not in RATE_LABELS)
    out = []
    for k in keys:
        try:
            v = float(kpis[k])
        except (TypeError, ValueError):
            continue
        if np.isfinite(v) and 0.0 <= v <= 1.0:
            out.append((RATE_LABELS.get(k, k.replace("_", " ")), v))
    return out


def kpi_summary(kpis: Mapping[str, float]) -> Figure:
    """Horizontal bars of the rate KPIs (fill rate, on-time, perfect order, ...) in percent.

    Parameters
    ----------
    kpis
        The flat KPI mapping of a run. Values in [0, 1] under the names of
        :data:`RATE_LABELS` (or any name ending in ``_rate``) are drawn, one
        bar each; other KPIs belong in the report's table.

    Returns
    -------
    Figure
        One axes, x label ``percent``, one bar per rate, each labelled with
        its value.
    """
    items = _rate_items(kpis)
    fig, ax = _fig("Service KPIs", size=(7.5, 0.45 * max(len(items), 3) + 1.2))
    if not items:
        _empty(ax, "rate KPIs")
        return fig
    labels = [k for k, _ in items][::-1]
    vals = [100.0 * v for _, v in items][::-1]
    bars = ax.barh(labels, vals, color="#4477aa")
    ax.bar_label(bars, labels=[f"{v:.1f}%" for v in vals], padding=3, fontsize=8)
    ax.set_xlim(0, 112)
    ax.set_xlabel("percent")
    ax.grid(axis="x", alpha=0.3)
    return fig


def daily_flow(daily: pd.DataFrame, start: _dt.date | None = None, closed: Sequence[int] = ()) -> Figure:
    """Orders received, shipments sent and the open backlog per day.

    Parameters
    ----------
    daily
        One row per day: column ``day`` (0-based simulated day) and any of
        ``orders`` (received), ``shipments`` (packages shipped) and
        ``backlog`` (orders open at the end of the day).

    start, closed
        The horizon's first date and the closed days (see :func:`calendar_axis`).

    Returns
    -------
    Figure
        One line per present column, dates on x, y label ``count``.
    """
    fig, ax = _fig("Daily orders, shipments and backlog")
    cols = [c for c in ("orders", "shipments", "backlog") if c in daily.columns]
    if daily.empty or not cols:
        _empty(ax, "daily series")
        return fig
    style = {"orders": ("#4477aa", "-"), "shipments": ("#228833", "-"), "backlog": ("#ee6677", "--")}
    for c in cols:
        color, ls = style[c]
        ax.plot(daily["day"] + 0.5, daily[c], marker="o", ms=3, color=color, linestyle=ls, label=c)
    ax.set_ylabel("count")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    calendar_axis(ax, int(np.nanmax(daily["day"])) + 1, start, closed, centre=True)
    return fig


def cycle_time(orders: pd.DataFrame) -> Figure:
    """Distribution of the order cycle time (placed to delivered), in hours.

    Parameters
    ----------
    orders
        One row per order with ``created_h`` and ``delivered_h`` (NaN when
        not delivered; those are left out).

    Returns
    -------
    Figure
        A histogram with the median and the 95th percentile as vertical
        lines; x label ``order cycle time (h)``, y label ``orders``.
    """
    fig, ax = _fig("Order cycle time (placed to delivered)")
    ct = (pd.to_numeric(orders.get("delivered_h"), errors="coerce")
          - pd.to_numeric(orders.get("created_h"), errors="coerce")) if len(orders) else pd.Series(dtype=float)
    ct = ct[np.isfinite(ct)] if len(ct) else ct
    if len(ct) == 0:
        _empty(ax, "delivered orders")
        return fig
    bins = min(40, max(5, int(np.sqrt(len(ct)))))
    ax.hist(ct, bins=bins, color="#4477aa", alpha=0.85)
    med, p95 = np.percentile(ct, [50, 95])
    ax.axvline(med, color="k", linestyle="-", label=f"median {med:.1f} h")
    ax.axvline(p95, color="#ee6677", linestyle="--", label=f"95th percentile {p95:.1f} h")
    ax.set_xlabel("order cycle time (h)")
    ax.set_ylabel("orders")
    ax.legend(loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return fig


def on_time_by_service(deliveries: pd.DataFrame) -> Figure:
    """Share delivered on time per carrier service.

    Parameters
    ----------
    deliveries
        One row per delivered order (or package) with ``service`` and either
        a boolean ``on_time`` or ``promised_h`` and ``delivered_h``
        (on time when delivered no later than promised).

    Returns
    -------
    Figure
        One bar per service (sorted by name), y label ``on time (%)``, each
        bar labelled with its percentage and count.
    """
    fig, ax = _fig("On-time delivery by carrier service")
    df = deliveries
    if "on_time" not in df.columns and {"promised_h", "delivered_h"} <= set(df.columns):
        df = df[np.isfinite(pd.to_numeric(df["delivered_h"], errors="coerce"))].copy()
        df["on_time"] = df["delivered_h"] <= df["promised_h"] + 1e-9
    if df.empty or "service" not in df.columns or "on_time" not in df.columns:
        _empty(ax, "deliveries")
        return fig
    g = df.groupby("service")["on_time"].agg(["mean", "size"]).sort_index()
    bars = ax.bar(g.index.astype(str), 100.0 * g["mean"], color="#228833")
    ax.bar_label(bars, labels=[f"{100 * m:.1f}%\n(n={n})" for m, n in zip(g["mean"], g["size"])],
                 padding=2, fontsize=8)
    ax.set_ylim(0, 115)
    ax.set_xlabel("carrier service")
    ax.set_ylabel("on time (%)")
    ax.grid(axis="y", alpha=0.3)
    return fig


def utilisation(util: pd.DataFrame, start: _dt.date | None = None, closed: Sequence[int] = ()) -> Figure:
    """Picker utilisation per warehouse and day, against the hours the warehouse is open.

    Parameters
    ----------
    util
        Long form: columns ``day``, ``node``, ``utilisation`` (picker hours
        inside the shifts over picker shift hours, 0-1) and optionally
        ``overtime_h`` (hours of tours that ran on past closing).
    start, closed
        The horizon's first date and the days no warehouse works (shaded;
        see :func:`calendar_axis`).

    Returns
    -------
    Figure
        One line per node in percent (a node's closed days left out), a
        100 % reference line; overtime, when there is any, named in the
        legend in hours (it is not part of the percentage).
    """
    fig, ax = _fig("Picker utilisation per warehouse (of open hours)")
    if util.empty:
        _empty(ax, "utilisation series")
        return fig
    ot = util["overtime_h"] if "overtime_h" in util else pd.Series(0.0, index=util.index)
    for node, g in util.groupby("node", sort=True):
        g = g.sort_values("day")
        y = 100.0 * g["utilisation"].to_numpy(float)
        y[np.isin(g["day"].to_numpy(), list(closed))] = np.nan    # nothing to use on a closed day
        extra = float(np.nansum(ot.loc[g.index]))
        label = str(node) + (f" (+{extra:,.1f} h overtime)" if extra > 0.05 else "")
        ax.plot(g["day"] + 0.5, y, marker="o", ms=3, label=label)
    ax.axhline(100.0, color="0.3", linestyle=":", linewidth=1)
    top = float(np.nanmax(100.0 * util["utilisation"])) if len(util) else 100.0
    ax.set_ylim(0, max(105.0, top * 1.05))
    ax.set_ylabel("picker utilisation (% of open hours)")
    ax.grid(alpha=0.3)
    ax.legend(title="warehouse", loc="best", fontsize=8)
    calendar_axis(ax, int(np.nanmax(util["day"])) + 1, start, closed, centre=True)
    return fig


def stockouts(ledger: pd.DataFrame) -> pd.DataFrame:
    """The moments a node ran out of a SKU, from the inventory ledger.

    A stock-out is a ledger row with a negative ``delta`` after which the
    running on hand of that node and SKU is zero or less (the ledger's
    ``initial`` rows make the running sum the on hand at any time).

    Parameters
    ----------
    ledger
        Columns ``time_h, node, sku, delta`` in time order.

    Returns
    -------
    DataFrame
        Columns ``time_h, node, sku``, one row per stock-out.
    """
    if ledger.empty:
        return pd.DataFrame({"time_h": [], "node": [], "sku": []})
    led = ledger.sort_values("time_h", kind="stable")
    running = led.groupby(["node", "sku"], sort=False)["delta"].cumsum()
    hit = (led["delta"] < 0) & (running <= 0)
    return led.loc[hit, ["time_h", "node", "sku"]].reset_index(drop=True)


def inventory(ledger: pd.DataFrame, end_h: float | None = None, start: _dt.date | None = None,
              closed: Sequence[int] = ()) -> Figure:
    """Units on hand per node over time, with stock-outs marked.

    Parameters
    ----------
    ledger
        The inventory ledger: ``time_h, node, sku, delta`` (starting with an
        ``initial`` row per node and SKU, so running sums are on-hand levels).
    end_h
        End of the run (hours): each line is held flat to it after the last
        movement (default: the last movement).
    start, closed
        The horizon's first date and the closed days (see :func:`calendar_axis`).

    Returns
    -------
    Figure
        One step line per node (dates on x, y label ``units on hand``)
        and, per node with stock-outs, red ``x`` markers on its line at the
        moments a SKU ran out (legend entry ``<node> stock-outs (n)``).
    """
    fig, ax = _fig("Inventory on hand per node (x = a SKU ran out)")
    if ledger.empty:
        _empty(ax, "inventory ledger")
        return fig
    led = ledger.sort_values("time_h", kind="stable")
    outs = stockouts(led)
    colors = [f"C{i}" for i in range(10)]
    for i, (node, g) in enumerate(led.groupby("node", sort=True)):
        # One point per time stamp: the level after every movement at that time.
        level = g.groupby("time_h")["delta"].sum().cumsum()
        if end_h is not None and end_h > level.index[-1]:
            level = pd.concat([level, pd.Series([level.iloc[-1]], index=[float(end_h)])])
        days = level.index.to_numpy(dtype=float) / 24.0
        ax.step(days, level.to_numpy(), where="post", color=colors[i % 10], label=str(node))
        o = outs[outs["node"] == node]
        if len(o):
            y = np.interp(o["time_h"].to_numpy(dtype=float), level.index.to_numpy(dtype=float), level.to_numpy(),
                          left=np.nan)
            ax.plot(o["time_h"].to_numpy(dtype=float) / 24.0, y, linestyle="none", marker="x", color="#cc3311",
                    ms=6, label=f"{node} stock-outs ({len(o)})")
    if outs.empty:
        ax.text(0.99, 0.02, "no stock-outs", ha="right", va="bottom", transform=ax.transAxes, color="0.3")
    ax.set_ylabel("units on hand")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    last_h = float(end_h) if end_h is not None else float(led["time_h"].max())
    calendar_axis(ax, max(1, math.ceil(last_h / 24.0 - 1e-9)), start, closed)
    return fig


def cost_per_order(costs: Mapping[str, float], currency: str = "") -> Figure:
    """Average cost per order, broken down by component.

    Parameters
    ----------
    costs
        ``{component: cost per order}``, e.g. shipping, labour, handling,
        split penalty (zero components are left out).
    currency
        Shown in the axis label.

    Returns
    -------
    Figure
        One horizontal bar per component, largest on top, labelled with
        its value; the title gives the total. x label ``cost per order``
        (with the currency).
    """
    items = [(str(k), float(v)) for k, v in costs.items() if v is not None and np.isfinite(float(v)) and float(v) != 0]
    items.sort(key=lambda kv: kv[1])
    total = sum(v for _, v in items)
    unit = f" ({currency})" if currency else ""
    fig, ax = _fig(f"Cost per order: {total:.2f}{(' ' + currency) if currency else ''} in total",
                   size=(7.5, 0.45 * max(len(items), 3) + 1.2))
    if not items:
        _empty(ax, "costs")
        return fig
    bars = ax.barh([k.replace("_", " ") for k, _ in items], [v for _, v in items], color="#aa3377")
    ax.bar_label(bars, labels=[f"{v:.2f} ({100 * v / total:.0f}%)" if total else f"{v:.2f}" for _, v in items],
                 padding=3, fontsize=8)
    ax.set_xlim(0, max(v for _, v in items) * 1.3)
    ax.set_xlabel(f"cost per order{unit}")
    ax.grid(axis="x", alpha=0.3)
    return fig


def save_png(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG (Agg) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=dpi)
    return path
