"""What a run produces: KPIs, orders, events, ledger, daily series, scenario.

KPI definitions (orders created after the warm-up; "accepted" = payment
authorised; rates are shares in [0, 1]). Rows of kind ``remainder`` (the
backordered rest of a partly allocated order) are not orders of their own:
they count in costs, units and the ledger, not in the order KPIs.

``orders``                orders created (exchanges included, remainders not)
``orders_delivered``      orders delivered by the horizon's end (returned ones included)
``late_orders``           delivered orders delivered after their promised time
``backlog``               accepted orders neither shipped nor cancelled at the horizon's end
``fill_rate``             units allocated at the first decision / units of accepted orders
``on_time_rate``          delivered orders with ``delivered_h <= promised_h``
``perfect_order_rate``    delivered orders on time, complete, in one package, without a pick error
``split_shipment_rate``   shipped orders sent in more than one package
``cycle_time_p50_h/p95_h`` created -> delivered, delivered orders
``shipping_cost``         carrier charges of the packages shipped
``handling_cost``         per-order and per-line handling of the packages shipped
``labour_cost``           pickers and packers paid for their shift hours
``cost_per_order``        (shipping + handling + labour) / orders shipped
``pick_travel_per_order_m`` route metres of all tours / packages picked
``pick_accuracy``         order lines picked right the first time / lines picked
``picker_utilisation``    picker busy hours / picker shift hours
``backorder_rate``        accepted orders that waited for stock at some point
``cancel_rate``           orders cancelled (no stock, or waited too long; not by their customer)
``stockout_rate``         order lines of accepted orders not fully available at their first decision
``inventory_turnover``    cost of units shipped / mean inventory value, annualised (x 365 / days)
``return_rate``           delivered orders returned
``refund_total``          refunds paid for returns not exchanged
``satisfaction_mean``     mean 1-5 score of delivered orders

Also reported: ``orders_accepted``, ``orders_shipped``, ``handling_cost``,
``cost_per_order_{shipping,handling,labour}``, ``tours``, ``packer_utilisation``,
``pick_wait_mean_h`` (tours' wait for a picker, shift closures included),
``packages_picked_per_tour``, ``payment_failure_rate``, ``exchanges``,
``remainders``, ``units_shipped``, ``days``, ``seed``; when the run replays a
history (``demand.history``), ``history_skus_added`` (SKUs of the history the
catalogue lacked, added on load) and an orders column ``history_id``; when it
has customer cancellations (``demand.cancellations``), ``customer_cancel_rate``
(orders a customer cancelled units of / orders), ``customer_cancellations``,
``customer_cancel_units``, ``customer_cancel_units_too_late`` and
``customer_cancel_lines_unmatched`` (see :mod:`omsim.sim.cancellations`).

The unfilled units of a partly allocated order that the engine chose not to
ship although stock was there (package limit, or dearer than a lost sale) are
lost sales; under ``no_stock: cancel`` every unfilled unit is.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ORDER_COLUMNS = ("order_id", "created_h", "status", "promised_h", "delivered_h", "units", "units_shipped",
                 "packages", "cost")

#: Every KPI of a single run, in the order of :attr:`Result.kpis` (checked against a real run by the tests).
KPI_NAMES = ("orders", "orders_accepted", "orders_delivered", "orders_shipped", "late_orders", "backlog",
             "fill_rate", "on_time_rate",
             "perfect_order_rate", "split_shipment_rate", "cycle_time_p50_h", "cycle_time_p95_h", "shipping_cost",
             "handling_cost", "labour_cost", "cost_per_order", "cost_per_order_shipping", "cost_per_order_handling",
             "cost_per_order_labour", "pick_travel_per_order_m", "pick_accuracy", "picker_utilisation",
             "packer_utilisation", "pick_wait_mean_h", "tours", "packages_picked_per_tour", "backorder_rate",
             "cancel_rate", "payment_failure_rate", "stockout_rate", "inventory_turnover", "return_rate",
             "refund_total", "exchanges", "remainders", "satisfaction_mean", "units_shipped", "days", "seed")
#: KPIs only some runs have (``history_skus_added``: runs that replay ``demand.history``; ``customer_*``: runs
#: with ``demand.cancellations``).
KPI_OPTIONAL = ("history_skus_added", "customer_cancel_rate", "customer_cancellations", "customer_cancel_units",
                "customer_cancel_units_too_late", "customer_cancel_lines_unmatched")


class _Lazy:
    """A DataFrame attribute that may be given as a builder (a :class:`_Deferred`, called once, on first read)."""

    def __set_name__(self, owner, name):
        self.slot = "_" + name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        value = obj.__dict__[self.slot]
        if isinstance(value, _Deferred):
            value = obj.__dict__[self.slot] = value()
        return value

    def __set__(self, obj, value):
        obj.__dict__[self.slot] = value


class _Deferred:
    """A frame built when first read."""


class _FrameOf(_Deferred):
    """Builds the events frame from the run's event log when first asked for (picklable)."""

    def __init__(self, log, end_h: float):
        self.log, self.end_h = log, end_h

    def __call__(self) -> pd.DataFrame:
        return self.log.frame(self.end_h)


class _FileFrame(_Deferred):
    """Reads a table a streamed run wrote when first asked for (picklable)."""

    def __init__(self, path):
        self.path = Path(path)

    def __call__(self) -> pd.DataFrame:
        from omsim.sim.stream import read_table

        return read_table(self.path)


@dataclass
class Result:
    """The outcome of one simulation run.

    Attributes
    ----------
    kpis
        Flat mapping of KPI name to number (see the module docstring).
    orders
        One row per order: ``order_id, created_h, status, promised_h,
        delivered_h, units, units_shipped, packages, cost`` (+ ``level,
        region, parent_id, kind, satisfaction``). ``kind`` is ``order``,
        ``exchange`` (a new order for returned goods; ``parent_id`` the
        returned order) or ``remainder`` (the backordered rest of a partly
        allocated order ``parent_id``). ``cost`` is shipping plus handling of
        what shipped.
    events
        Every state change, in time order: ``time_h, order_id, event, node, detail``. Built from
        the run's event log the first time it is read (ten rows an order: the KPIs do not need
        it, and a sweep of many runs seldom reads it). ``orders``, ``events`` and ``ledger`` of
        a streamed run (``simulate(..., stream_to=DIR)``) are read from its files when first read.
    ledger
        Every on-hand movement: ``time_h, node, sku, delta, reason, order_id``.
    daily
        One row per day: ``day, orders, shipments, backlog, util_<node>..., overtime_h_<node>..., inv_<node>...``
        (``util``: picker hours inside the shifts / shift hours, at most 1; ``overtime_h``: hours of tours that
        ran on past closing).
    scenario
        The scenario that produced it.
    inventory
        Stock at the end, one row per node and SKU: ``node, sku, on_hand,
        reserved, safety, available, inbound``.
    seed, days
        The run's seed and horizon.
    """

    kpis: dict
    orders: pd.DataFrame
    events: pd.DataFrame
    ledger: pd.DataFrame
    daily: pd.DataFrame
    scenario: object
    inventory: pd.DataFrame = field(default_factory=pd.DataFrame)
    seed: int = 0
    days: int = 0
    extra: dict = field(default_factory=dict)
    #: Files of a streamed run: table name -> path (empty for an in-memory run).
    files: dict = field(default_factory=dict)

    def kpi_frame(self) -> pd.DataFrame:
        """The KPIs as a one-row DataFrame."""
        return pd.DataFrame([self.kpis])

    def write(self, out_dir, *, overwrite: bool = False) -> Path:
        """Write the run directory ``out_dir`` atomically, with its ``manifest.json``
        (see :mod:`omsim.rundir` and :meth:`write_files`).

        Parameters
        ----------
        out_dir
            The directory; an existing non-empty one is refused unless ``overwrite``.
        overwrite
            Replace an existing run directory whole.

        Returns
        -------
        pathlib.Path
            The directory.
        """
        from omsim.rundir import run_directory

        with run_directory(out_dir, overwrite=overwrite, option="out_dir",
                           meta={"seed": int(self.seed), "days": int(self.days), "replications": 1}) as rd:
            self.write_files(rd.path)
            if self.scenario is not None and hasattr(self.scenario, "raw"):
                rd.describe_scenario(self.scenario, seed=self.seed, days=self.days)
        return rd.final

    def write_files(self, out_dir) -> Path:
        """Write ``kpis.json`` (sorted keys, rounded floats), ``orders.csv``,
        ``events.csv``, ``ledger.csv``, ``daily.csv`` and the effective
        ``scenario.yaml`` (seed and days as run) into the existing directory ``out_dir``."""
        out = Path(out_dir)
        (out / "kpis.json").write_text(kpis_json(self.kpis), encoding="utf-8")
        fmt = "%.6f"
        for name in ("orders", "events", "ledger"):
            src = self.files.get(name)
            if src is None:
                getattr(self, name).to_csv(out / f"{name}.csv", index=False, float_format=fmt)
            elif Path(src).parent.resolve() != out.resolve():
                import shutil
                shutil.copyfile(src, out / Path(src).name)
        self.daily.to_csv(out / "daily.csv", index=False, float_format=fmt)
        if self.scenario is not None and hasattr(self.scenario, "raw"):
            from omsim.rundir import save_scenario
            save_scenario(out, self.scenario, seed=self.seed, days=self.days)
        return out


# Set after the dataclass is made (a class attribute would be taken for the field's default): __init__
# assigns ``orders``, ``events`` and ``ledger`` through them, a frame or a builder.
for _name in ("orders", "events", "ledger"):
    setattr(Result, _name, _Lazy())
    getattr(Result, _name).__set_name__(Result, _name)


def _round(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            return None
        return round(v, 9) if v != 0 else 0.0
    return v


def kpis_json(kpis: dict) -> str:
    """Deterministic JSON text of the KPIs (sorted keys, floats rounded to 9 decimals, NaN as null)."""
    return json.dumps({k: _round(v) for k, v in kpis.items()}, sort_keys=True, indent=2) + "\n"


def _rate(num, den) -> float:
    return float(num) / float(den) if den else float("nan")


def orders_frame(sim, a: int = 0, b: int | None = None) -> pd.DataFrame:
    """Rows ``a:b`` of the orders table of a finished :class:`omsim.sim.model.Simulation`."""
    from omsim.sim.demand import LEVELS
    from omsim.sim.states import KINDS, STATUSES

    ot, end = sim.ot, sim.end_h
    sl = slice(a, ot.n if b is None else b)
    delivered_h = ot.delivered_h[sl]
    delivered = np.isfinite(delivered_h) & (delivered_h <= end)
    cost = ot.ship_cost[sl] + ot.handling_cost[sl]
    cost = np.where(np.isnan(cost), 0.0, cost)
    orders = pd.DataFrame({
        "order_id": np.arange(sl.start, sl.stop, dtype=np.int64),
        "created_h": ot.created_h[sl],
        "status": np.asarray(STATUSES, dtype=object)[_status_codes(sim, sl)],
        "promised_h": ot.promised_h[sl],
        "delivered_h": np.where(delivered, delivered_h, np.nan),
        "units": ot.units[sl],
        "units_shipped": ot.units_shipped[sl],
        "packages": ot.packages[sl].astype(np.int64),
        "cost": cost,
        "level": np.asarray(LEVELS, dtype=object)[ot.level[sl]],
        "region": np.asarray([r.id for r in sim.sc.demand.regions], dtype=object)[ot.region[sl]],
        "parent_id": pd.arrays.IntegerArray(ot.parent[sl].copy(), ot.parent[sl] < 0),
        "kind": np.asarray(KINDS, dtype=object)[ot.kind[sl]],
        "satisfaction": np.where(delivered, ot.satisfaction[sl], np.nan),
    })
    if sim.dem.order_ids is not None:   # a replay: the history's own order ids (exchanges, remainders: none)
        hid = np.full(sl.stop - sl.start, None, dtype=object)
        k = max(0, min(sl.stop, sim.dem.n) - sl.start)
        hid[:k] = sim.dem.order_ids[sl.start:sl.start + k]
        orders["history_id"] = pd.array(hid, dtype="string")
    return orders


def _status_codes(sim, sl: slice) -> np.ndarray:
    from omsim.sim.states import BACKORDERED, CANCELLED, PAY_FAILED, STATUSES

    ot, end = sim.ot, sim.end_h
    state = ot.state[sl]
    delivered_h = ot.delivered_h[sl]
    code = np.full(state.size, STATUSES.index("in_flight"), dtype=np.int64)
    code[state == PAY_FAILED] = STATUSES.index("payment_failed")
    code[state == CANCELLED] = STATUSES.index("cancelled")
    code[state == BACKORDERED] = STATUSES.index("backordered")
    code[np.isfinite(delivered_h) & (delivered_h <= end)] = STATUSES.index("delivered")
    code[np.isfinite(ot.returned_h[sl]) & (ot.returned_h[sl] <= end)] = STATUSES.index("returned")
    return code


def build_result(sim, sink=None) -> Result:
    """Turn a finished :class:`omsim.sim.model.Simulation` into a :class:`Result`.

    With a :class:`omsim.sim.stream.Sink`, the last rows go to its files and the
    Result reads its orders, events and ledger from them when first asked.
    """
    if sink is None:
        events, ledger = _FrameOf(sim.log, sim.end_h), sim.engine.ledger_frame()
        from omsim.sim.stream import shipped_units
        kpis = compute_kpis(sim, shipped_units(ledger, sim.sc.sku_ids))
        orders, files = orders_frame(sim), {}
    else:
        sink.finish(sim, orders_frame)
        kpis = compute_kpis(sim, sink.shipped_units, sim.kpi_parts)
        files = sink.paths()
        orders, events, ledger = (_FileFrame(files[t]) for t in ("orders", "events", "ledger"))
    return Result(kpis=kpis, orders=orders, events=events, ledger=ledger, daily=daily_frame(sim), scenario=sim.sc,
                  inventory=sim.engine.inventory.state_frame(), seed=sim.seed, days=sim.days, files=files)


def daily_frame(sim) -> pd.DataFrame:
    """The daily series (one row per simulated day, recorded as the run went) with orders created per day."""
    daily = pd.DataFrame(sim.daily_rows)
    if len(daily):
        counts = created_per_day(sim, sim.retired_rows, sim.ot.n) + sim.retired_created
        daily.insert(1, "orders", counts[: len(daily)])
        daily = daily[[c for c in daily.columns if not c.startswith("_")]]
    return daily


#: Float columns of :func:`kpi_part`, kept row by row (their sums and percentiles are taken over the whole run
#: at once, so a streamed run's KPIs are the in-memory run's to the last bit).
_KPI_FLOATS = ("shipping", "handling", "cycle_h", "satisfaction")


def kpi_part(sim, a: int, b: int) -> dict:
    """What the KPIs need of order rows ``a:b`` (final ones, or the whole table at the end): counts, and the
    rows' values entering the float sums and percentiles."""
    from omsim.sim.states import CANCELLED, PAY_FAILED, PENDING

    ot, end = sim.ot, sim.end_h
    sl = slice(a, b)
    state = ot.state[sl]
    delivered_h = ot.delivered_h[sl]
    delivered = np.isfinite(delivered_h) & (delivered_h <= end)
    returned = np.isfinite(ot.returned_h[sl]) & (ot.returned_h[sl] <= end)
    kind = ot.kind[sl]
    all_rows = ot.created_h[sl] >= sim.warmup_h
    m = all_rows & (kind != 2)
    accepted = m & (state != PAY_FAILED) & (state != PENDING)
    dl = m & delivered
    shipped = m & (ot.units_shipped[sl] > 0)
    units = ot.units[sl]
    uf = np.maximum(ot.units_first[sl], 0)
    late_ok = delivered_h <= ot.promised_h[sl]
    complete = ot.units_shipped[sl] >= units
    single = ot.packages[sl] <= 1
    wrong = ot.wrong[sl]
    by_customer = np.zeros(b - a, dtype=bool)       # rows their customer cancelled whole (not a cancel_rate cancel)
    cancels = getattr(sim, "cancels", None)
    if cancels is not None:
        rows = np.asarray(cancels.rows, dtype=np.int64)
        by_customer[rows[(rows >= a) & (rows < b)] - a] = True
    return {
        "orders": int(m.sum()), "accepted": int(accepted.sum()), "delivered": int(dl.sum()),
        "shipped": int(shipped.sum()), "late": int((dl & ~late_ok).sum()),
        "backlog": int((accepted & ~shipped & (state != CANCELLED)).sum()),
        "units_first": int(uf[accepted].sum()), "units_accepted": int(units[accepted].sum()),
        "on_time": int((late_ok & dl).sum()), "perfect": int((dl & late_ok & complete & single & ~wrong).sum()),
        "split": int((shipped & ~single).sum()), "backordered": int((ot.was_backordered[sl] & accepted).sum()),
        "cancelled": int((m & (state == CANCELLED) & ~by_customer).sum()), "payment_failed": int((m & (state == PAY_FAILED)).sum()),
        "lines_short": int(ot.lines_short[sl][accepted].sum()), "lines_accepted": int(ot.lines[sl][accepted].sum()),
        "returned": int((m & returned).sum()), "remainders": int((all_rows & (kind == 2)).sum()),
        "units_shipped": int(ot.units_shipped[sl].sum()),
        "shipping": ot.ship_cost[sl][all_rows], "handling": ot.handling_cost[sl][all_rows],
        "cycle_h": (delivered_h - ot.created_h[sl])[dl], "satisfaction": ot.satisfaction[sl][dl],
    }


def _merged(parts: list[dict]) -> dict:
    if len(parts) == 1:
        return parts[0]
    out = {k: sum(p[k] for p in parts) for k in parts[0] if k not in _KPI_FLOATS}
    out.update({k: np.concatenate([p[k] for p in parts]) for k in _KPI_FLOATS})
    return out


def created_per_day(sim, a: int, b: int) -> np.ndarray:
    """(days,) orders and exchanges created per day among order rows ``a:b``."""
    ot = sim.ot
    created = ot.created_h[a:b][ot.kind[a:b] != 2]
    created = created[created >= 0]        # a live snapshot's open orders came before day 0
    return np.bincount(np.minimum((created // 24).astype(np.int64), sim.days - 1), minlength=sim.days)


def compute_kpis(sim, shipped_per_sku: np.ndarray, parts: list[dict] = ()) -> dict:
    """The KPIs of a finished run (see the module docstring) from its order table and counters;
    ``shipped_per_sku``: units shipped per SKU (from the ledger's ship rows); ``parts``: :func:`kpi_part`
    of the rows a streamed run retired (the table then holds the rows from ``sim.ot.lo`` on)."""
    ot, end = sim.ot, sim.end_h
    q = _merged(list(parts) + [kpi_part(sim, sim.retired_rows, ot.n)])
    cyc = q["cycle_h"]
    shipping = float(np.nansum(q["shipping"]))
    handling = float(np.nansum(q["handling"]))
    labour = 0.0
    shift_h = 0.0
    for i, wh in enumerate(sim.sc.network.warehouses):
        open_h = sim.calendars[i].open_hours(0.0, end)
        labour += (wh.pickers + wh.packers) * open_h * wh.labour_cost_per_h
        shift_h += wh.pickers * open_h
    busy = sum(st.busy_h for st in sim.pickers)
    pack_busy = sum(st.busy_h for st in sim.packers)
    pack_h = sum(st.servers * sim.calendars[i].open_hours(0.0, end) for i, st in enumerate(sim.packers))
    waits = np.concatenate([st.waits_until(end) for st in sim.pickers]) if sim.pickers else np.zeros(0)
    n_ship = q["shipped"]
    # Inventory value: mean of daily on-hand value (cost), start included.
    inv = sim.engine.inventory
    shipped_units_cost = float(np.dot(shipped_per_sku, sim.unit_cost))
    values = [float(np.dot(sim._initial_on_hand.sum(0), sim.unit_cost))] if hasattr(sim, "_initial_on_hand") else []
    values += [float(r["_inv_value"]) for r in sim.daily_rows if "_inv_value" in r]
    if not values:
        values = [float(np.dot(inv.on_hand.sum(0), sim.unit_cost))]
    mean_value = float(np.mean(values))
    cancels = getattr(sim, "cancels", None)
    kpis = {
        "orders": q["orders"],
        "orders_accepted": q["accepted"],
        "orders_delivered": q["delivered"],
        "orders_shipped": n_ship,
        "late_orders": q["late"],
        "backlog": q["backlog"],
        "fill_rate": _rate(q["units_first"], q["units_accepted"]),
        "on_time_rate": _rate(q["on_time"], q["delivered"]),
        "perfect_order_rate": _rate(q["perfect"], q["delivered"]),
        "split_shipment_rate": _rate(q["split"], n_ship),
        "cycle_time_p50_h": float(np.percentile(cyc, 50)) if cyc.size else float("nan"),
        "cycle_time_p95_h": float(np.percentile(cyc, 95)) if cyc.size else float("nan"),
        "shipping_cost": shipping,
        "handling_cost": handling,
        "labour_cost": labour,
        "cost_per_order": _rate(shipping + handling + labour, n_ship),
        "cost_per_order_shipping": _rate(shipping, n_ship),
        "cost_per_order_handling": _rate(handling, n_ship),
        "cost_per_order_labour": _rate(labour, n_ship),
        "pick_travel_per_order_m": _rate(sim.travel_m, _packages_released(sim)),
        "pick_accuracy": 1.0 - _rate(sim.pick_errors, sim.lines_picked) if sim.lines_picked else float("nan"),
        "picker_utilisation": _rate(busy, shift_h),
        "packer_utilisation": _rate(pack_busy, pack_h),
        "pick_wait_mean_h": float(waits.mean()) if waits.size else float("nan"),
        "tours": int(sim.tours),
        "packages_picked_per_tour": _rate(_packages_released(sim), sim.tours),
        "backorder_rate": _rate(q["backordered"], q["accepted"]),
        "cancel_rate": _rate(q["cancelled"], q["orders"]),
        "payment_failure_rate": _rate(q["payment_failed"], q["orders"]),
        "stockout_rate": _rate(q["lines_short"], q["lines_accepted"]),
        "inventory_turnover": (shipped_units_cost / mean_value * 365.0 / sim.days) if mean_value > 0 else float("nan"),
        "return_rate": _rate(q["returned"], q["delivered"]),
        "refund_total": float(sim.refund_total),
        "exchanges": int(sim.exchanges),
        "remainders": q["remainders"],
        "satisfaction_mean": float(np.nanmean(q["satisfaction"])) if q["delivered"] else float("nan"),
        "units_shipped": q["units_shipped"],
        "days": int(sim.days),
        "seed": int(sim.seed),
    }
    if sim.sc.demand.history is not None:
        kpis["history_skus_added"] = int(sim.sc.demand._skus_added)
    if cancels is not None:         # a run with customer cancellations keeps every row (omsim.sim.retire)
        n = ot.n
        m = (ot.created_h[:n] >= sim.warmup_h) & (ot.kind[:n] != 2)
        hit = np.zeros(n, dtype=bool)
        hit[sorted(cancels.orders)] = True
        kpis["customer_cancel_rate"] = _rate((m & hit).sum(), m.sum())
        kpis.update(cancels.kpis())
    return kpis


def _packages_released(sim) -> int:
    return int(getattr(sim, "packages_released", 0))
