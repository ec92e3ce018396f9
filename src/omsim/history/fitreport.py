"""Real against fitted: the statistics ``omsim fit`` compares, the demand it generates, and ``fit-report.html``.

:func:`demand_statistics` measures a frame of order lines (a history, or the
demand a scenario generates, :func:`omsim.history.write.demand_frame`) the same way:

- ``orders_per_day`` (mean over the span's calendar days), ``peak_day`` (the
  busiest day over the mean), ``orders_by_month`` (12, January first);
- ``weekday_share`` (7, Monday first) and ``hour_share`` (24) of orders;
- ``lines_q`` (lines per order at the 10/25/50/75/90/99 % quantiles),
  ``single_line_share``, ``units_q`` (units per line, same quantiles),
  ``pack_share`` (lines of 6, 12 or 24 units);
- ``top_sku_share`` (share of lines on the top 1/10/20 % of SKUs by lines);
- ``repeat_customer_share`` (customers with more than one order) and
  ``guest_share``.

:func:`cancellation_statistics` measures customer cancellations the same way
on both sides: ``cancel_share`` (orders with a cancellation / orders),
``cancel_line_share`` (mean share of such an order's lines named) and
``cancel_delay_q`` (hours from the order to its cancellation at the
quantiles above): for the history by the matching rule of
:mod:`omsim.history.cancellations`, for the fitted scenario as the simulator
draws them (:func:`omsim.sim.cancellations.generated_cancellations`).
"""
from __future__ import annotations

import base64
import html
import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from omsim.errors import OmsimError
from omsim.history.fit import fit_scenario, orders_table, repeat_share
from omsim.history.write import demand_frame
from omsim.scenario import Scenario, load_scenario
from omsim.scenario_demand import WEEKDAYS

QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90, 0.99)
TOP = (0.01, 0.10, 0.20)


def demand_statistics(lines: pd.DataFrame) -> dict:
    """The statistics above, as plain floats and lists."""
    orders = orders_table(lines)
    created = orders["created"]
    start, end = created.min().normalize(), created.max().normalize()
    dates = pd.date_range(start, end, freq="D")
    per_day = created.dt.normalize().value_counts().reindex(dates, fill_value=0)
    n = len(orders)
    sku_lines = np.sort(lines["sku"].value_counts().to_numpy())[::-1]
    top = [float(sku_lines[:max(1, int(round(f * sku_lines.size)))].sum() / sku_lines.sum()) for f in TOP]
    qty = lines["qty"].to_numpy()
    return {
        "orders": n, "lines": len(lines), "days": len(dates),
        "orders_per_day": float(per_day.mean()), "peak_day": float(per_day.max() / per_day.mean()),
        "daily": per_day,
        "orders_by_month": np.bincount(created.dt.month - 1, minlength=12).tolist(),
        "weekday_share": (np.bincount(created.dt.day_of_week, minlength=7) / n).tolist(),
        "hour_share": (np.bincount(created.dt.hour, minlength=24) / n).tolist(),
        "hour_by_weekday": [(np.bincount(created.dt.hour[created.dt.day_of_week == k], minlength=24)
                             / max(1, int((created.dt.day_of_week == k).sum()))).tolist() for k in range(7)],
        "lines_q": np.quantile(orders["lines"], QUANTILES).tolist(),
        "single_line_share": float((orders["lines"] == 1).mean()),
        "units_q": np.quantile(qty, QUANTILES).tolist(),
        "pack_share": float(np.isin(qty, (6, 12, 24)).mean()),
        "top_sku_share": top,
        "sku_curve": sku_lines / sku_lines.sum(),
        "lines_per_order": orders["lines"].to_numpy(),
        "units_per_line": qty,
        "repeat_customer_share": repeat_share(orders["customer_id"].to_numpy()),
        "guest_share": float(orders["customer_id"].isna().mean()),
    }


# ------------------------------------------------------------------ figures
def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _pair(ax, x, real, fitted, width=0.4, labels=None):
    x = np.arange(len(real)) if x is None else x
    ax.bar(x - width / 2, real, width, label="real", color="#1f77b4")
    ax.bar(x + width / 2, fitted, width, label="fitted", color="#ff7f0e")
    if labels is not None:
        ax.set_xticks(x, labels)
    ax.legend()


def figures(real: dict, fit: dict) -> dict[str, Figure]:
    """One figure per statistic: real (blue) against fitted (orange)."""
    out = {}
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(real["daily"].index, real["daily"].to_numpy(), lw=0.8, label="real")
    ax.plot(fit["daily"].index, fit["daily"].to_numpy(), lw=0.8, alpha=0.8, label="fitted")
    ax.set(title="Orders per day", ylabel="orders")
    ax.legend(loc="upper left")
    out["daily"] = fig
    for key, title, labels in (("orders_by_month", "Orders per calendar month", list("JFMAMJJASOND")),
                               ("weekday_share", "Share of orders by weekday", list(WEEKDAYS)),
                               ("hour_share", "Share of orders by hour of day", [str(h) for h in range(24)])):
        fig = Figure(figsize=(7.5, 3.6), layout="constrained")
        ax = fig.add_subplot()
        _pair(ax, None, real[key], fit[key], labels=labels)
        ax.set_title(title)
        out[key] = fig
    fig = Figure(figsize=(10, 5), layout="constrained")
    axs = fig.subplots(2, 4, sharey=True).ravel()
    for k in range(7):
        axs[k].plot(real["hour_by_weekday"][k], label="real")
        axs[k].plot(fit["hour_by_weekday"][k], label="fitted")
        axs[k].set_title(WEEKDAYS[k])
    axs[7].axis("off")
    axs[0].legend()
    fig.suptitle("Hour-of-day share per weekday")
    out["hour_by_weekday"] = fig
    for key, title, xlabel in (("lines_per_order", "Lines per order (CCDF, log-log)", "lines"),
                               ("units_per_line", "Units per line (CCDF, log-log)", "units")):
        fig = Figure(figsize=(7.5, 3.6), layout="constrained")
        ax = fig.add_subplot()
        for d, lab in ((real, "real"), (fit, "fitted")):
            v = np.sort(d[key])
            ax.step(v, 1.0 - np.arange(v.size) / v.size, where="post", label=lab)
        ax.set(xscale="log", yscale="log", title=title, xlabel=xlabel, ylabel="share of at least x")
        ax.legend()
        out[key] = fig
    fig = Figure(figsize=(7.5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for d, lab in ((real, "real"), (fit, "fitted")):
        c = d["sku_curve"]
        ax.plot(np.arange(1, c.size + 1), c, label=lab)
    ax.set(xscale="log", yscale="log", title="SKU popularity: share of lines by rank", xlabel="rank",
           ylabel="share of lines")
    ax.legend()
    out["sku_curve"] = fig
    if real.get("cancel_delay_h", np.zeros(0)).size and fit.get("cancel_delay_h", np.zeros(0)).size:
        fig = Figure(figsize=(7.5, 3.6), layout="constrained")
        ax = fig.add_subplot()
        for d, lab in ((real, "real"), (fit, "fitted")):
            v = np.sort(d["cancel_delay_h"]) / 24.0
            ax.step(v, np.arange(1, v.size + 1) / v.size, where="post", label=f"{lab} ({d['cancel_share']:.1%} of orders)")
        ax.set(xscale="symlog", title="Customer cancellations: delay from the order (CDF)", xlabel="days",
               ylabel="share cancelled within x")
        ax.legend()
        out["cancel_delay"] = fig
    return out


def comparison_rows(real: dict, fit: dict) -> list[tuple[str, float, float]]:
    """(statistic, real, fitted) rows of the report's table (and the tolerance test)."""
    rows = [("orders per day", real["orders_per_day"], fit["orders_per_day"]),
            ("peak day / mean day", real["peak_day"], fit["peak_day"]),
            ("single-line share", real["single_line_share"], fit["single_line_share"]),
            ("lines of 6/12/24 units", real["pack_share"], fit["pack_share"]),
            ("repeat-customer share", real["repeat_customer_share"], fit["repeat_customer_share"]),
            ("guest-order share", real["guest_share"], fit["guest_share"])]
    rows += [(f"lines per order p{round(q * 100)}", a, b) for q, a, b in zip(QUANTILES, real["lines_q"], fit["lines_q"])]
    rows += [(f"units per line p{round(q * 100)}", a, b) for q, a, b in zip(QUANTILES, real["units_q"], fit["units_q"])]
    rows += [(f"lines on top {round(f * 100)} % of SKUs", a, b)
             for f, a, b in zip(TOP, real["top_sku_share"], fit["top_sku_share"])]
    rows += [(f"{w} share", a, b) for w, a, b in zip(WEEKDAYS, real["weekday_share"], fit["weekday_share"])]
    if "cancel_share" in real and "cancel_share" in fit:
        rows += [("orders cancelled (in part) by the customer", real["cancel_share"], fit["cancel_share"]),
                 ("share of a cancelled order's lines named", real["cancel_line_share"], fit["cancel_line_share"])]
        rows += [(f"cancellation delay h p{round(q * 100)}", a, b)
                 for q, a, b in zip(QUANTILES, real["cancel_delay_q"], fit["cancel_delay_q"])]
    return rows


def cancellation_statistics(order_lines: np.ndarray, order_of: np.ndarray, lines_named: np.ndarray,
                            delay_h: np.ndarray) -> dict:
    """``cancel_*`` statistics from the orders' line counts, each cancellation's order, its lines named
    and its delay (h)."""
    n = order_lines.size
    if not order_of.size:
        return {"cancel_share": 0.0, "cancel_line_share": float("nan"), "cancel_delay_q": [float("nan")] * 6,
                "cancel_delay_h": np.zeros(0)}
    per = np.bincount(order_of, weights=lines_named, minlength=n)
    hit = np.flatnonzero(per > 0)
    return {"cancel_share": hit.size / n,
            "cancel_line_share": float(np.minimum(per[hit] / order_lines[hit], 1.0).mean()),
            "cancel_delay_q": np.quantile(delay_h, QUANTILES).tolist(), "cancel_delay_h": np.asarray(delay_h)}


def _real_cancellations(lines: pd.DataFrame, matched: pd.DataFrame) -> dict:
    hit = matched[matched["match"] == "matched"]
    per_order = lines.groupby("order_id", sort=False)["sku"].nunique()
    codes = pd.Index(per_order.index).get_indexer(hit["order_id"].astype(object))
    one = hit.assign(o=codes).drop_duplicates(["cancel_id", "o"])
    named = hit.assign(o=codes).groupby(["cancel_id", "o"], sort=False)["sku"].nunique()
    return cancellation_statistics(per_order.to_numpy(np.float64), named.index.get_level_values("o").to_numpy(),
                                   named.to_numpy(np.float64), one["delay_h"].to_numpy(np.float64))


def _fitted_cancellations(sc: Scenario, days: int) -> dict:
    from omsim.rng import Streams
    from omsim.sim.cancellations import generated_cancellations
    from omsim.sim.demand import generate_demand

    dem = generate_demand(sc, Streams(sc.seed), days)
    t, oid, ptr, _, _ = generated_cancellations(dem, Streams(sc.seed), sc.demand.cancellations)
    return cancellation_statistics(np.diff(dem.line_ptr).astype(np.float64), oid, np.diff(ptr).astype(np.float64),
                                   t - dem.created_h[oid])


def render(real: dict, fit: dict, scenario: dict, seconds: float) -> str:
    """The fit report as one self-contained HTML page."""
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{a:.4g}</td><td>{b:.4g}</td></tr>"
                   for k, a, b in comparison_rows(real, fit))
    figs = "".join(f'<h2>{k.replace("_", " ")}</h2><img alt="{k}" src="data:image/png;base64,{_png(f)}">'
                   for k, f in figures(real, fit).items())
    d = scenario["demand"]
    canc = scenario["demand"].get("cancellations")
    notes = ((f"Cancellation invoices: {real['cancellation_share']:.1%} of all invoices; "
              f"{canc['_lines']:,} cancellation lines, {canc['_matched']:,} matched to an earlier order of the "
              f"same customer with the SKU, {canc['_no_customer']:,} without a customer id, "
              f"{canc['_no_order']:,} without such an order (not fitted). ") if canc else
             "The history has no cancellations: none fitted. ") + (
             f"Orders on closed weekdays in the history: {real['orders_on_closed']}; closed weekdays: {', '.join(d['closed_weekdays']) or 'none'}; closed dates (every year): "
             f"{', '.join(d['closed_dates']) or 'none'}; trend: none fitted (one year cannot tell a trend from the "
             f"month shape). Fitted demand: the scenario's generator over the history's own "
             f"{real['days']} days, seed {scenario.get('seed', 0)}.")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>omsim fit report</title>"
            f"<style>body{{font-family:sans-serif;max-width:1000px;margin:auto}}td,th{{padding:2px 10px}}"
            f"img{{max-width:100%}}</style></head><body><h1>omsim fit: real against fitted</h1>"
            f"<p>{html.escape(scenario['description'])} Fit took {seconds:.1f} s.</p><p>{html.escape(notes)}</p>"
            f"<table><tr><th>statistic</th><th>real</th><th>fitted</th></tr>{rows}</table>{figs}</body></html>")


def fit_history(history: str | Path, out: str | Path, *, base: str | Path | None = None, days: int = 28) -> dict:
    """``omsim fit``: read ``history``, write ``out/scenario.yaml``, ``out/catalogue.csv``, ``out/fit-report.html``.

    Returns the real and fitted statistics (``{"real": ..., "fitted": ...}``).
    Everything is computed before the first file is written.
    """
    from omsim.history import load_history

    t0 = time.perf_counter()
    h = load_history(history)
    lines = h.lines
    if len(lines) == 0:
        raise OmsimError(f"{history}: no order lines left to fit (every line was dropped: {h.report.summary()})")
    base_sc = load_scenario(base) if base is not None else None
    cstats, matched = None, None
    if len(h.cancellations):
        from omsim.history.cancellations import cancellation_stats, match_cancellations
        matched = match_cancellations(lines, h.cancellations)
        cstats = cancellation_stats(lines, matched)
    raw, cat = fit_scenario(lines, base_sc, days=days, name=f"fitted-{Path(history).name.split('.')[0]}",
                            cancellations=cstats)
    out = Path(out)
    real = demand_statistics(lines)
    n_cancel = h.cancellations["order_id"].nunique() if len(h.cancellations) else 0
    real["cancellation_share"] = n_cancel / (real["orders"] + n_cancel)
    if matched is not None:
        real.update(_real_cancellations(lines, matched))
    tmp = out.with_name(out.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    cat[["id", "price", "unit_cost", "popularity"]].to_csv(tmp / "catalogue.csv", index=False)
    (tmp / "scenario.yaml").write_text(yaml.safe_dump(raw, sort_keys=False, default_flow_style=None, width=120))
    sc = load_scenario(tmp / "scenario.yaml")
    first = real["daily"].index[0].date()
    fitted = demand_statistics(demand_frame(sc, days=real["days"], start=first))
    if sc.demand.cancellations is not None:
        fitted.update(_fitted_cancellations(sc, real["days"]))      # the fitted horizon starts on `first`
    closed = [WEEKDAYS.index(w) for w in raw["demand"]["closed_weekdays"]]
    real["orders_on_closed"] = int(round(sum(real["weekday_share"][k] for k in closed) * real["orders"]))
    shown = raw
    if cstats is not None and "cancellations" in raw["demand"]:
        shown = dict(raw, demand=dict(raw["demand"], cancellations=dict(
            raw["demand"]["cancellations"], **{f"_{k}": cstats[k] for k in ("lines", "matched", "no_customer",
                                                                           "no_order")})))
    (tmp / "fit-report.html").write_text(render(real, fitted, shown, time.perf_counter() - t0))
    out.mkdir(parents=True, exist_ok=True)
    for f in ("catalogue.csv", "scenario.yaml", "fit-report.html"):
        (tmp / f).replace(out / f)
    tmp.rmdir()
    return {"real": real, "fitted": fitted}
