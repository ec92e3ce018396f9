"""Fitting a scenario's demand and catalogue to a real order history (``omsim fit``).

Input is the frame :func:`omsim.history.read_history` gives: one row per order
line with ``order_id``, ``created_at`` (timezone-aware; hours are read in its
own zone, i.e. local time), ``sku``, ``qty`` and optionally ``customer_id``
and ``price``. What is fitted, and how:

- **volume**: ``weekday_profile`` from the orders per calendar weekday;
  weekdays with almost no orders (below ``CLOSED_BELOW`` of the mean day) become
  ``closed_weekdays``; open weekdays
  with no order become ``closed_dates`` (``MM-DD``: holidays recur each year);
  ``month_profile`` is set so that the expected orders of each calendar month
  over the history's span equal the observed ones exactly, and
  ``orders_per_day`` so that the expected total does (``trend_per_year`` is 0:
  one year of data cannot tell a trend from the month shape);
- **hours**: ``hour_profile`` (all days) and ``hour_profile_by_weekday`` for
  each open weekday, the observed hour-of-day histograms;
- **order contents**: ``lines_per_order.table`` and ``units_per_line.table``,
  the empirical distributions (every observed value with its count, so the
  tails and pack sizes stay);
- **SKU popularity**: the catalogue lists every SKU with ``popularity`` = its
  share of order lines and ``price`` = its median unit price (``unit_cost`` =
  price x (1 - ``MARGIN``), as the data has no cost);
- **cancellations** (when the history has them): ``cancellations.share`` =
  orders a cancellation matches / orders, ``line_share`` = the mean share of
  such an order's lines it names, ``delay_h`` = the observed delays from the
  order to its cancellation in whole hours, by the matching rule of
  :mod:`omsim.history.cancellations`; ``history: true``, so a replay of the
  history replays its own;
- **customers**: ``guest_share`` = orders without a customer id,
  ``returning_share`` = 1 - customers / identified orders, and
  ``preferential`` chosen by bisection so that the share of customers who order
  more than once over the history's span matches.

The network, carriers, policies, regions, service mix and payment come from a
base scenario (the bundled default unless ``--base`` names one); a warehouse
whose picking area has fewer locations than the catalogue has SKUs gets more
aisles, and stock given as a CSV of SKUs is replaced by the days-of-cover rule.
"""
from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from omsim.scenario import Scenario, default_scenario_path, load_scenario
from omsim.scenario_demand import WEEKDAYS, Customers, Demand

#: Unit cost = price x (1 - MARGIN) for fitted SKUs (an order history carries no cost).
MARGIN = 0.45
#: A weekday whose mean orders are below this share of the mean day is closed (a rare Saturday order
#: is noise, not trading: its orders are not generated and the report says how many there were).
CLOSED_BELOW = 0.05
_BAD_ID = re.compile(r"[^A-Za-z0-9_.\-]")


def orders_table(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per order: ``created`` (local wall time), ``lines``, ``customer_id`` (NaN for guests).

    ``created_at`` is a (timezone-aware) datetime column, or text with a UTC offset as
    :func:`omsim.history.write.demand_frame` gives it (its wall time is kept).
    """
    t = lines["created_at"]
    if not pd.api.types.is_datetime64_any_dtype(t):
        t = pd.to_datetime(t.astype(str).str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S")
    elif getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_localize(None)
    g = pd.DataFrame({"order_id": lines["order_id"].to_numpy(), "created": t.to_numpy()})
    if "customer_id" in lines:
        g["customer_id"] = lines["customer_id"].to_numpy()
    agg = {"created": ("created", "min"), "lines": ("created", "size")}
    if "customer_id" in g:
        agg["customer_id"] = ("customer_id", "first")
    out = g.groupby("order_id", sort=False).agg(**agg).sort_values("created", kind="stable")
    if "customer_id" not in out:
        out["customer_id"] = np.nan
    return out


def _span(created: pd.Series) -> tuple[_dt.date, int]:
    first, last = created.min().date(), created.max().date()
    return first, (last - first).days + 1


def _unit_rates(base_raw: dict, demand: dict, start: _dt.date, days: int) -> np.ndarray:
    """Expected orders per day of the fitted shape with ``orders_per_day`` = 1."""
    from omsim.sim.demand import hourly_rates

    dem = Demand.model_validate(dict(base_raw["demand"], **demand, orders_per_day=1.0))
    sc = SimpleNamespace(demand=dem, horizon=SimpleNamespace(start=start))
    return hourly_rates(sc, days).reshape(days, 24).sum(axis=1)


def _volume(orders: pd.DataFrame, base_raw: dict) -> dict:
    """Weekday, month, closed days and orders_per_day (see the module docstring)."""
    created = orders["created"]
    start, days = _span(created)
    dates = pd.date_range(start, periods=days, freq="D")
    per_day = created.dt.normalize().value_counts().reindex(dates, fill_value=0)
    dow = dates.day_of_week.to_numpy()
    n_dow = np.bincount(dow, minlength=7)
    obs_dow = np.bincount(dow, weights=per_day.to_numpy(), minlength=7)
    weekday = np.where(n_dow > 0, obs_dow / np.maximum(n_dow, 1), 0.0)
    typical = weekday[weekday > 0].mean()
    closed_wd = [WEEKDAYS[k] for k in range(7) if n_dow[k] > 0 and weekday[k] < CLOSED_BELOW * typical]
    weekday[[WEEKDAYS.index(w) for w in closed_wd]] = 0.0
    open_dates = dates[(per_day.to_numpy() == 0) & ~np.isin(dow, [WEEKDAYS.index(w) for w in closed_wd])]
    closed_dates = sorted({d.strftime("%m-%d") for d in open_dates})
    weekday = (weekday / weekday[weekday > 0].mean()).round(4).tolist()
    demand = {"weekday_profile": weekday, "closed_weekdays": closed_wd, "closed_dates": closed_dates}
    unit = _unit_rates(base_raw, demand, start, days)
    months = dates.month.to_numpy() - 1
    exp_m = np.bincount(months, weights=unit, minlength=12)
    obs_m = np.bincount(months, weights=per_day.to_numpy(), minlength=12)
    month = np.where(exp_m > 0, obs_m / np.where(exp_m > 0, exp_m, 1.0), np.nan)
    month = np.where(np.isnan(month), np.nanmean(month), month)
    demand["month_profile"] = [round(float(x), 5) for x in month / month.mean()]
    unit_m = _unit_rates(base_raw, demand, start, days).sum()
    demand["orders_per_day"] = round(float(len(orders) / unit_m), 4)
    demand["trend_per_year"] = 0.0
    return demand


def _hours(orders: pd.DataFrame, closed: list[str]) -> dict:
    h = orders["created"].dt.hour.to_numpy()
    wd = orders["created"].dt.day_of_week.to_numpy()
    share = lambda x: (np.bincount(x, minlength=24) / max(x.size, 1)).round(5).tolist()  # noqa: E731
    by_day = {WEEKDAYS[k]: share(h[wd == k]) for k in range(7) if WEEKDAYS[k] not in closed and (wd == k).any()}
    return {"hour_profile": share(h), "hour_profile_by_weekday": by_day}


def _table(values: np.ndarray) -> list[list[int]]:
    v, c = np.unique(values, return_counts=True)
    return [[int(a), int(b)] for a, b in zip(v, c)]


def repeat_share(customer: np.ndarray) -> float:
    """Share of customers (ids >= 0 or non-NaN) with more than one order."""
    c = pd.Series(customer).dropna()
    c = c[c.astype(str) != "-1"]
    counts = c.value_counts()
    return float((counts >= 2).mean()) if len(counts) else float("nan")


def _customers(orders: pd.DataFrame, seed: int) -> dict | None:
    from omsim.rng import Streams
    from omsim.sim.demand import customer_ids

    cid = orders["customer_id"]
    known = cid.notna()
    m = int(known.sum())
    if m < 2:
        return None
    returning = 1.0 - cid[known].nunique() / m
    target = repeat_share(cid[known].to_numpy())
    guest = 1.0 - m / len(orders)

    def share(pref: float) -> float:
        ids = customer_ids(Customers(returning_share=returning, preferential=pref), m,
                           Streams(seed)["repeat_customers"])
        return repeat_share(ids)

    lo, hi = 0.0, 1.0                      # more preferential picks -> fewer repeat customers
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if share(mid) > target else (lo, mid)
    return {"returning_share": round(returning, 5), "preferential": round(0.5 * (lo + hi), 4),
            "guest_share": round(guest, 5)}


def fit_catalogue(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per SKU (most popular first): ``id``, ``sku`` (as in the history), ``price``, ``unit_cost``, ``popularity``."""
    g = lines.groupby("sku", sort=False)
    cat = pd.DataFrame({"lines": g.size()})
    cat["price"] = g["price"].median() if "price" in lines else 25.0
    cat = cat.sort_values("lines", ascending=False, kind="stable")
    ids = cat.index.astype(str).str.replace(_BAD_ID, "_", regex=True).str.slice(0, 60)
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    ids = np.where(dup, [f"{a}.{k}" for k, a in enumerate(ids)], ids)
    out = pd.DataFrame({"id": ids, "sku": cat.index.astype(str), "price": cat["price"].round(2).to_numpy()})
    out["unit_cost"] = (out["price"] * (1 - MARGIN)).round(2)
    out["popularity"] = (cat["lines"].to_numpy() / cat["lines"].sum()).round(8)
    return out


def _portable_base(base: Scenario) -> dict:
    """The base scenario's raw dict with file references made absolute (the fitted one lives elsewhere)."""
    raw = base.raw()
    root = base._base_dir or Path.cwd()
    rf = raw.get("demand", {}).get("regions_file")
    if rf and not Path(rf).is_absolute():
        raw["demand"]["regions_file"] = str((root / rf).resolve())
    for w in raw.get("network", {}).get("warehouses", []):
        w.pop("stock", None) if (w.get("stock") or {}).get("file") else None
    return raw


def _fit_layouts(raw: dict, base: Scenario, n_skus: int) -> None:
    """Add aisles to each base warehouse whose picking area has fewer locations than the catalogue has SKUs."""
    for w, wh in zip(raw["network"]["warehouses"], base.network.warehouses):
        lay = wh.layout
        per_aisle = lay.cells_per_aisle * lay.sides
        if lay.aisles * per_aisle < n_skus:
            w["layout"] = dict(w.get("layout") or {}, aisles=-(-n_skus // per_aisle))


def fit_scenario(lines: pd.DataFrame, base: Scenario | None = None, *, days: int = 28,
                 name: str = "fitted", cancellations: dict | None = None) -> tuple[dict, pd.DataFrame]:
    """The fitted scenario (a raw dict, catalogue in ``catalogue.csv``) and its catalogue table.

    ``days`` is the horizon of the written scenario, starting on the history's
    first day; the fit itself uses the whole history. ``cancellations``: the
    history's :func:`omsim.history.cancellations.cancellation_stats`, if it has any.
    """
    base = base or load_scenario(default_scenario_path())
    base_raw = _portable_base(base)
    orders = orders_table(lines)
    demand = dict(base_raw["demand"])
    demand.pop("promotions", None)
    demand.pop("history", None)                      # the fitted scenario generates its demand
    demand.update(_volume(orders, base_raw))
    demand.update(_hours(orders, demand["closed_weekdays"]))
    demand["lines_per_order"] = {"table": _table(orders["lines"].to_numpy())}
    demand["units_per_line"] = {"table": _table(lines["qty"].to_numpy())}
    cust = _customers(orders, base.seed)
    if cust is not None:
        demand["customers"] = cust
    demand.pop("cancellations", None)
    if cancellations and cancellations["delay_h"]:
        demand["cancellations"] = {"history": True, "share": round(cancellations["share"], 5),
                                   "line_share": round(max(cancellations["line_share"], 1e-4), 5),
                                   "delay_h": cancellations["delay_h"]}
    start, span = _span(orders["created"])
    catalogue = fit_catalogue(lines)
    _fit_layouts(base_raw, base, len(catalogue))
    horizon = dict(base_raw.get("horizon") or {}, start=start.isoformat(), days=min(days, span), warmup_days=0)
    raw = dict(base_raw, name=name, horizon=horizon,
               catalogue={"file": "catalogue.csv"}, demand=demand)
    raw["description"] = (f"Demand and catalogue fitted by omsim fit to {len(orders)} orders "
                          f"({len(lines)} lines) from {start} over {span} days; network from {base.name}.")
    return raw, catalogue
