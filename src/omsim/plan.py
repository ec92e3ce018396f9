"""The planner's batch decisioning: today's open orders and stock → a fulfilment plan.

:func:`make_plan` is what ``omsim plan`` runs. It reads the open orders and an
optional stock snapshot (validated here, once: every bad row is reported with
its file, row and column), builds the same
:class:`~omsim.engine.DecisionEngine` the simulator uses, and takes every
order through it in the order the orders were placed. The allocated packages
are then released to each warehouse in waves, batched into picker tours and
routed through the aisles.

Open orders CSV (one row per order line)::

    order_id, sku, qty, region | lat,lon, service_level, created_at

``region`` is an id of ``scenario.demand.regions``; instead, ``lat`` and
``lon`` may give the ship-to point, which is mapped to the nearest region.
``service_level`` is ``standard``, ``express`` or ``next_day`` (default
``standard`` when the column is absent); ``created_at`` a date and time
(``2026-12-01 07:30``). Lines of one order must agree on region, level and
time.

Stock snapshot CSV::

    node, sku, on_hand [, safety]

It replaces the scenario's initial stock: SKUs a node does not list have none.

Waves, batches and routes (per warehouse)
-----------------------------------------
Every floor decision comes from :mod:`omsim.engine.floor`, the module the simulator
asks too (same slotting, batching, routing and pick-time model, same random
streams). Packages are taken by ship-by time (then order time). Wave ``k`` is
released at ``at + k x policies.wave.interval_h``; a wave holds what the
node's pickers can pick in one interval (:meth:`~omsim.engine.floor.Floor.fill_waves`:
``pickers x interval_h`` picker-hours, each package costed as its own tour:
set-up + walking its route + pick time per line, an upper bound that batching
only lowers), and at most ``policies.wave.backlog_threshold`` packages when
that is set. Inside a wave the packages are batched into carts of
``policies.cart_capacity_units`` (``policies.batching``), every batch is
routed (``policies.routing``) and timed per line, exactly as the simulator
times a tour.

Time is hours since the scenario's start date at midnight (``*_h``); the
files also carry calendar times.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from omsim.errors import OmsimError
from omsim.engine.floor import floors
from omsim.inputs import OpenOrders, parse_time, read_open_orders, read_stock, to_datetime, to_hours
from omsim.orders import Decision, Order
from omsim.rng import Streams
from omsim.scenario import Scenario

__all__ = ["Plan", "make_plan", "write_plan", "PLAN_FILES"]

#: Files written by :func:`write_plan`.
PLAN_FILES = ("plan_lines.csv", "plan_routes.csv", "plan_waves.csv", "plan.json")



# ====================================================================== the plan
@dataclass
class Plan:
    """A fulfilment plan.

    Attributes
    ----------
    lines
        One row per order line and package (a line split over two packages
        has two rows; a line that cannot ship has one row with an empty node):
        ``order_id, sku, qty, status, package, node, carrier, service,
        ship_by, promised, ship_by_h, promised_h, cost, reason``. ``cost`` is
        the line's share (by units) of its package's cost; lost-sale and split
        penalties are in the summary, not here.
    waves
        Per node and wave: ``node, wave, release, release_h, packages, units,
        batches, length_m, picker_h, earliest_ship_by``.
    routes
        Per node, wave, batch and stop, in visiting order: ``node, wave,
        batch, stop, aisle, cell, side, sku, order_id, qty, cum_length_m``;
        stop 0 is the depot at the start and the last stop the depot again
        (its ``cum_length_m`` is the tour length).
    summary
        Totals: orders, packages, splits, cost and its breakdown, the orders
        that cannot ship and why, per-node figures.
    decisions
        The engine's decisions, by order (ids as in :class:`OpenOrders`).
    """

    lines: pd.DataFrame
    waves: pd.DataFrame
    routes: pd.DataFrame
    summary: dict
    decisions: list[Decision] = field(default_factory=list)

    def write(self, out_dir: str | Path, *, overwrite: bool = False) -> Path:
        """Write the plan files atomically (see :func:`write_plan`)."""
        return write_plan(self, out_dir, overwrite=overwrite)


def _build_engine(scenario: Scenario, on_hand, safety, at_h: float, seed: int | None):
    from omsim.engine import DecisionEngine, initial_stock
    from omsim.fulfilment.inventory import Inventory

    streams = Streams(scenario.seed if seed is None else seed)
    if on_hand is None:
        return DecisionEngine.from_scenario(scenario, streams)
    # The snapshot replaces the initial stock; the scenario still sets the safety stock
    # (unless the snapshot has its own) and what each node carries.
    _, scen_safety, carried = initial_stock(scenario, streams)
    inv = Inventory(on_hand, scen_safety if safety is None else safety, node_ids=scenario.node_ids,
                    sku_ids=scenario.sku_ids, t0_h=at_h)
    return DecisionEngine(scenario, inv, streams, carried=carried | (on_hand > 0))


def _reasons(scenario: Scenario, o: Order, d: Decision) -> list[str]:
    """The engine's reason for each unfilled line of ``d`` as a planner's sentence ("" for a filled line)."""
    from omsim.engine.reasons import reason_text

    mp = scenario.policies.max_packages
    return [reason_text(r, scenario.sku_ids[int(j)], int(q), int(u), mp)
            for j, q, u, r in zip(o.skus, o.qty, np.asarray(d.unfilled), d.unfilled_reason)]


def _decide_all(engine, scenario: Scenario, oo: OpenOrders, at_h: float):
    """Decide and commit every order at ``at_h``, oldest first; also the engine's reasons for unfilled lines."""
    order = sorted(range(len(oo.orders)), key=lambda k: (oo.orders[k].created_h, k))
    decisions: dict[int, Decision] = {}
    if scenario.policies.allocation == "batch" and hasattr(engine, "decide_batch"):
        # One window: the engine sources all open orders together (CP-SAT) and commits them.
        for d in engine.decide_batch([oo.orders[k] for k in order], at_h):
            decisions[int(d.order_id)] = d
    else:
        for k in order:
            d = engine.decide(oo.orders[k], at_h)
            engine.commit(d, at_h)
            decisions[k] = d
    out = [decisions[k] for k in range(len(oo.orders))]
    return out, [_reasons(scenario, o, d) for o, d in zip(oo.orders, out)]


def _lines_frame(scenario: Scenario, oo: OpenOrders, decisions, reasons) -> pd.DataFrame:
    sku_ids, node_ids = scenario.sku_ids, scenario.node_ids
    rows = []
    for o, d, why in zip(oo.orders, decisions, reasons):
        oid = oo.ids[o.order_id]
        for p, sh in enumerate(d.shipments, start=1):
            pkg_cost = float(sum(sh.cost.values()))
            units = max(int(np.sum(sh.qty)), 1)
            for j, q in zip(sh.skus, sh.qty):
                rows.append({"order_id": oid, "sku": sku_ids[int(j)], "qty": int(q), "status": d.status,
                             "package": p, "node": node_ids[sh.node], "carrier": sh.carrier, "service": sh.service,
                             "ship_by": to_datetime(scenario, sh.ship_by_h),
                             "promised": to_datetime(scenario, sh.promised_h),
                             "ship_by_h": round(float(sh.ship_by_h), 4), "promised_h": round(float(sh.promised_h), 4),
                             "cost": round(pkg_cost * int(q) / units, 4), "reason": ""})
        for j, u, r in zip(o.skus, np.asarray(d.unfilled), why):
            if u > 0:
                rows.append({"order_id": oid, "sku": sku_ids[int(j)], "qty": int(u),
                             "status": "unfilled" if d.ships else d.status, "package": 0, "node": "",
                             "carrier": "", "service": "", "ship_by": "", "promised": "", "ship_by_h": np.nan,
                             "promised_h": np.nan, "cost": 0.0, "reason": r})
    cols = ["order_id", "sku", "qty", "status", "package", "node", "carrier", "service", "ship_by", "promised",
            "ship_by_h", "promised_h", "cost", "reason"]
    return pd.DataFrame(rows, columns=cols)


def _package_lines(packages: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR lines of packages ``(order id, Shipment, created_h)``: (ptr, sku, qty)."""
    counts = [len(p[1].skus) for p in packages]
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    sku = np.array([int(j) for p in packages for j in p[1].skus], dtype=np.int64)
    qty = np.array([int(q) for p in packages for q in p[1].qty], dtype=np.int64)
    return ptr, sku, qty


def _plan_node(scenario: Scenario, floor, n: int, packages: list[tuple], at_h: float):
    """Waves, batches and routes of node ``n`` from its :class:`~omsim.engine.floor.Floor`; ``packages``:
    (order id, Shipment, created_h), released in ship-by order."""
    wh = scenario.network.warehouses[n]
    packages = sorted(packages, key=lambda p: (p[1].ship_by_h, p[2], p[0]))
    ptr, sku, qty = _package_lines(packages)
    units = np.array([int(np.sum(p[1].qty)) for p in packages], dtype=np.int64)
    wave_of = floor.fill_waves(ptr, sku, scenario.policies.wave.backlog_threshold)
    aisle, cell = floor.sku_loc[:, 0], floor.sku_loc[:, 1]
    wave_rows, route_rows = [], []
    for w in (np.unique(wave_of) if len(packages) else []):
        members = np.flatnonzero(wave_of == w)
        m_ptr, m_sku = _wave_lines(ptr, sku, members)
        tours, lengths, picks = floor.tours(m_ptr, m_sku, units[members])
        hours = floor.pick_hours(lengths, picks)
        for b, tour in enumerate(tours, start=1):
            idx = members[tour]
            stops = [(packages[i][0], int(j), int(q)) for i in idx.tolist()
                     for j, q in zip(sku[ptr[i]:ptr[i + 1]], qty[ptr[i]:ptr[i + 1]])]
            seq, cum, _ = floor.tour_stops(np.array([j for _, j, _ in stops], dtype=np.int64))
            base = {"node": wh.id, "wave": int(w) + 1, "batch": b}
            route_rows.append({**base, "stop": 0, "aisle": np.nan, "cell": np.nan, "side": np.nan, "sku": "",
                               "order_id": "", "qty": 0, "cum_length_m": 0.0, "location": "depot"})
            for s_i, (k, c) in enumerate(zip(seq.tolist(), cum.tolist()), start=1):
                oid, j, q = stops[k]
                route_rows.append({**base, "stop": s_i, "aisle": int(aisle[j]), "cell": int(cell[j]),
                                   "side": int(floor.sku_side[j]), "sku": scenario.sku_ids[j], "order_id": oid,
                                   "qty": q, "cum_length_m": round(c, 3), "location": "pick"})
            route_rows.append({**base, "stop": len(seq) + 1, "aisle": np.nan, "cell": np.nan, "side": np.nan,
                               "sku": "", "order_id": "", "qty": 0, "cum_length_m": round(float(lengths[b - 1]), 3),
                               "location": "depot"})
        release_h = at_h + int(w) * floor.wave_interval_h
        wave_rows.append({"node": wh.id, "wave": int(w) + 1, "release": to_datetime(scenario, release_h),
                          "release_h": round(release_h, 4), "packages": int(len(members)),
                          "units": int(units[members].sum()), "batches": len(tours),
                          "length_m": round(float(lengths.sum()), 3), "picker_h": round(float(hours.sum()), 4),
                          "earliest_ship_by": to_datetime(scenario, min(packages[i][1].ship_by_h for i in members))})
    return wave_rows, route_rows


def _wave_lines(ptr: np.ndarray, sku: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR lines (ptr, sku) of the packages ``members`` (indices into ``ptr``), in that order."""
    counts = ptr[members + 1] - ptr[members]
    m_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    m_sku = np.concatenate([sku[ptr[i]:ptr[i + 1]] for i in members]) if len(members) else sku[:0]
    return m_ptr, np.ascontiguousarray(m_sku, dtype=np.int64)


def make_plan(scenario: Scenario, orders_path: str | Path, stock_path: str | Path | None = None,
              at: str | _dt.datetime | None = None, *, seed: int | None = None) -> Plan:
    """Plan today's open orders.

    Parameters
    ----------
    scenario
        The network, carriers and policies.
    orders_path
        Open orders CSV (see the module docstring).
    stock_path
        Stock snapshot CSV; without it, the scenario's initial stock.
    at
        The planning time (``"2026-12-01 08:00"``); default: the newest
        order's ``created_at``.
    seed
        Seed of the engine's random streams (default the scenario's).

    Returns
    -------
    Plan

    Raises
    ------
    OmsimError
        Bad input (the message names the file, row and column) or a time
        before the scenario's start.
    """
    at_h = None
    if at is not None:
        t = at if isinstance(at, _dt.datetime) else parse_time(at, "--at")
        at_h = to_hours(scenario, t)
        if at_h < 0:
            raise OmsimError(f"--at: {at} is before the scenario's start date {scenario.horizon.start}")
    oo = read_open_orders(orders_path, scenario, at_h)
    if at_h is None:
        at_h = max(o.created_h for o in oo.orders)
    if at_h < 0:
        raise OmsimError(f"{oo.source}: orders are placed before the scenario's start date "
                         f"{scenario.horizon.start}; give --at or change horizon.start", file=oo.source)
    on_hand = safety = None
    if stock_path is not None:
        on_hand, safety = read_stock(stock_path, scenario)
    engine = _build_engine(scenario, on_hand, safety, at_h, seed)
    decisions, reasons = _decide_all(engine, scenario, oo, at_h)
    lines = _lines_frame(scenario, oo, decisions, reasons)

    by_node: dict[int, list] = {}
    for o, d in zip(oo.orders, decisions):
        for sh in d.shipments:
            by_node.setdefault(sh.node, []).append((oo.ids[o.order_id], sh, o.created_h))
    wave_rows, route_rows = [], []
    node_floors = floors(scenario, Streams(scenario.seed if seed is None else seed))
    for n in sorted(by_node):
        w, r = _plan_node(scenario, node_floors[n], n, by_node[n], at_h)
        wave_rows += w
        route_rows += r
    waves = pd.DataFrame(wave_rows, columns=["node", "wave", "release", "release_h", "packages", "units", "batches",
                                             "length_m", "picker_h", "earliest_ship_by"])
    routes = pd.DataFrame(route_rows, columns=["node", "wave", "batch", "stop", "location", "aisle", "cell", "side",
                                               "sku", "order_id", "qty", "cum_length_m"])
    for c in ("aisle", "cell", "side"):  # empty at the depot rows, whole numbers elsewhere
        routes[c] = routes[c].astype("Int64")
    summary = _summary(scenario, oo, decisions, reasons, waves, at_h)
    return Plan(lines=lines, waves=waves, routes=routes, summary=summary, decisions=decisions)


def _summary(scenario, oo: OpenOrders, decisions, reasons, waves: pd.DataFrame, at_h: float) -> dict:
    cost: dict[str, float] = {}
    for d in decisions:
        for k, v in d.cost.items():
            cost[k] = cost.get(k, 0.0) + float(v)
    statuses: dict[str, int] = {}
    for d in decisions:
        statuses[d.status] = statuses.get(d.status, 0) + 1
    cannot = []
    for o, d, why in zip(oo.orders, decisions, reasons):
        if d.status != "allocated":
            cannot.append({"order_id": oo.ids[o.order_id], "status": d.status,
                           "units_unfilled": int(np.sum(d.unfilled)),
                           "why": "; ".join(w for w in why if w) or "not allocated by the policy"})
    nodes = {}
    for nid in scenario.node_ids:
        wv = waves[waves["node"] == nid]
        nodes[nid] = {"packages": int(wv["packages"].sum()), "units": int(wv["units"].sum()), "waves": int(len(wv)),
                      "batches": int(wv["batches"].sum()), "route_length_m": round(float(wv["length_m"].sum()), 3),
                      "picker_h": round(float(wv["picker_h"].sum()), 4)}
    packages = sum(d.packages for d in decisions)
    return {
        "scenario": scenario.name,
        "currency": scenario.currency,
        "at": to_datetime(scenario, at_h),
        "at_h": round(at_h, 4),
        "policy": scenario.policies.allocation,
        "orders": len(oo.orders),
        "lines": int(sum(len(o.skus) for o in oo.orders)),
        "units": int(sum(o.units for o in oo.orders)),
        "units_allocated": int(sum(o.units - int(np.sum(d.unfilled)) for o, d in zip(oo.orders, decisions))),
        "status": statuses,
        "packages": int(packages),
        "split_orders": int(sum(1 for d in decisions if d.packages > 1)),
        "total_cost": round(sum(float(d.total) for d in decisions), 4),
        # What is paid out (carriers and handling), without the split and lost-sale penalties.
        "shipping_and_handling": round(sum(v for k, v in cost.items() if k not in ("split_penalty", "lost_penalty")), 4),
        "cost": {k: round(v, 4) for k, v in cost.items()},
        "cannot_ship": cannot,
        "nodes": nodes,
    }


# ====================================================================== output
def write_plan(plan: Plan, out_dir: str | Path, *, overwrite: bool = False, meta: dict | None = None) -> Path:
    """Write the run directory ``out_dir`` (see :mod:`omsim.rundir`) with
    ``plan_lines.csv``, ``plan_routes.csv``, ``plan_waves.csv`` and ``plan.json``.

    The files are written to a temporary directory beside ``out_dir`` first
    and moved in only when all of them are complete, so a failure never
    leaves a half-written plan; an existing non-empty ``out_dir`` is replaced
    whole with ``overwrite`` and refused otherwise.

    Raises
    ------
    OmsimError
        If ``out_dir`` is a file, is not empty (without ``overwrite``) or cannot be written.
    """
    from omsim.rundir import run_directory

    with run_directory(out_dir, overwrite=overwrite, meta=meta) as rd:
        write_plan_files(plan, rd.path)
    return rd.final


def write_plan_files(plan: Plan, tmp: Path) -> None:
    """The plan's files, written into the existing directory ``tmp``."""
    try:
        plan.lines.to_csv(tmp / "plan_lines.csv", index=False)
        plan.routes.to_csv(tmp / "plan_routes.csv", index=False)
        plan.waves.to_csv(tmp / "plan_waves.csv", index=False)
        doc = {"summary": plan.summary,
               "lines": json.loads(plan.lines.to_json(orient="records")),
               "waves": json.loads(plan.waves.to_json(orient="records")),
               "routes": _routes_json(plan.routes)}
        (tmp / "plan.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    except OSError as exc:
        raise OmsimError(f"{tmp}: cannot write the plan ({exc})", file=str(tmp)) from None


def _routes_json(routes: pd.DataFrame) -> list[dict]:
    """Routes nested per node, wave and batch: the stop sequence and the tour length."""
    out = []
    if routes.empty:
        return out
    for (node, wave, batch), g in routes.groupby(["node", "wave", "batch"], sort=True):
        picks = g[g["location"] == "pick"]
        out.append({"node": node, "wave": int(wave), "batch": int(batch),
                    "length_m": float(g["cum_length_m"].iloc[-1]),
                    "stops": [{"aisle": int(r.aisle), "cell": int(r.cell), "side": int(r.side), "sku": r.sku,
                               "order_id": r.order_id, "qty": int(r.qty), "cum_length_m": float(r.cum_length_m)}
                              for r in picks.itertuples()]})
    return out


def format_plan(plan: Plan, max_orders: int = 25) -> str:
    """A readable text summary: orders, waves per node and totals (for the terminal)."""
    s = plan.summary
    cur = s.get("currency", "")
    out = [f"Plan for {s['orders']} open orders ({s['lines']} lines, {s['units']} units) at {s['at']}, "
           f"policy {s['policy']}:"]
    ln = plan.lines
    if not ln.empty:
        rows = []
        for oid, g in ln.groupby("order_id", sort=False):
            ship = g[g["package"] > 0]
            status = g["status"].iloc[0] if ship.empty else ("partial" if (g["package"] == 0).any() else "allocated")
            pk = ship.drop_duplicates("package")
            rows.append((str(oid), status, str(len(pk)), ",".join(dict.fromkeys(pk["node"])),
                         ",".join(dict.fromkeys(pk["service"])), pk["ship_by"].min() if len(pk) else "",
                         pk["promised"].max() if len(pk) else "", f"{ship['cost'].sum():.2f}"))
        head = ("order", "status", "pkgs", "node(s)", "service", "ship by", "promised", f"cost {cur}".strip())
        shown = rows[:max_orders]
        if shown:
            widths = [max([len(h)] + [len(r[i]) for r in shown]) for i, h in enumerate(head)]
            fmt = "  ".join(f"{{:<{w}}}" for w in widths)
            out.append("  " + fmt.format(*head))
            out += ["  " + fmt.format(*r) for r in shown]
        if len(rows) > len(shown):
            out.append(f"  ... {len(rows) - len(shown)} more orders (see plan_lines.csv)")
    out.append("Warehouses:")
    for nid, nd in s["nodes"].items():
        if nd["packages"]:
            out.append(f"  {nid}: {nd['packages']} packages, {nd['units']} units in {nd['waves']} wave(s), "
                       f"{nd['batches']} picker tour(s), {nd['route_length_m']:.0f} m walked, "
                       f"{nd['picker_h']:.1f} picker-hours")
        else:
            out.append(f"  {nid}: nothing to ship")
    out.append(f"Total: {s['packages']} packages, {s['split_orders']} split order(s); shipping and handling "
               f"{s['shipping_and_handling']:.2f} {cur} (with split and lost-sale penalties {s['total_cost']:.2f}); "
               f"{s['units_allocated']} of {s['units']} units allocated.")
    if s["cannot_ship"]:
        out.append(f"{len(s['cannot_ship'])} order(s) not fully shipped:")
        for c in s["cannot_ship"][:max_orders]:
            out.append(f"  {c['order_id']}: {c['status']}, {c['units_unfilled']} unit(s) unfilled: {c['why']}")
        if len(s["cannot_ship"]) > max_orders:
            out.append(f"  ... {len(s['cannot_ship']) - max_orders} more (see plan.json)")
    return "\n".join(out)
