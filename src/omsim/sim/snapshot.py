"""Start a simulation from a live snapshot: ``omsim simulate SCENARIO --from-snapshot DIR``.

``GET /v1/snapshot`` (:mod:`omsim.service`) writes the live state as files;
:func:`read_start` reads them and :class:`Start` puts that state into a
:class:`~omsim.sim.model.Simulation` before its clock runs, so a planner
simulates the next days forward from today's real state:

- ``snapshot.json``: ``format`` / ``format_version``, ``at`` (the instant of
  the state, an aware datetime), ``at_h`` and ``clock`` (``start``,
  ``timezone``: the live engine's hours), ``reserved_units``;
- ``stock.csv`` (node, sku, on_hand[, safety], as :func:`omsim.inputs.read_stock`
  reads it): the on hand replaces the scenario's initial stock;
- ``open_orders.json``: each open order (allocated, not fully shipped) with
  its decision exactly as the live engine committed it
  (:func:`omsim.engine.live.decision_to_json`) and which of its packages shipped,
  and (version 2) each open order waiting for stock (decision ``backorder`` or
  ``hold``, no packages) with its ``lines`` (``[sku, qty]``, all unfilled);
- ``backlog.csv`` (node, backlog_units): the units the open orders hold at
  each node, checked against the orders (an incomplete directory is refused).

The simulation's day 0 is the snapshot's local date (``horizon.start``
moves there, ``horizon.timezone`` stays), its clock starts at the
snapshot's hour of that day, and the scenario's demand before that instant
is dropped (the orders already taken are the open orders). Each open
order becomes an order row whose unshipped packages are committed with the
engine (reserving their units, taking their node backlog and carrier
bookings) and queued for the next wave at their node, with their promise:
they are picked, packed and shipped on the simulated floor. Each waiting
order becomes an order row (its live created time kept) backordered at the
snapshot's instant: it waits in the simulator's backorder queue like its own
backorders, asked again when stock of its SKUs comes back, cancelled
``policies.max_backorder_wait_h`` after it was created. Held carts (minutes
long) are not carried, nor the unfilled lines of a live ``partial`` order:
the live engine keeps nothing waiting for them (its packages shipped, the
order is over).
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
from pathlib import Path

import numpy as np

from omsim.clock import Clock, zone
from omsim.errors import OmsimError
from omsim.orders import DECISION_STATUSES, Decision

__all__ = ["SNAPSHOT_FORMAT", "SNAPSHOT_VERSION", "Start", "read_start"]

#: ``format`` and ``format_version`` of ``snapshot.json`` and ``open_orders.json``.
SNAPSHOT_FORMAT = "omsim.snapshot"
SNAPSHOT_VERSION = 2
#: The versions :func:`read_start` reads (version 1 files list no waiting orders).
SNAPSHOT_READS = (1, 2)


@dataclasses.dataclass
class OpenOrder:
    """One live open order: its id, where it goes, when it was taken and its unshipped packages."""

    order_id: str
    region: int
    level: str
    created_h: float
    decision: Decision             # shipments: the unshipped packages only; hours of the simulation
    lines: tuple | None = None     # (skus, qty) of an order waiting for stock (no shipments)


@dataclasses.dataclass
class Start:
    """A snapshot's state, in the simulation's hours (see the module docstring)."""

    scenario: object               # the scenario with horizon.start on the snapshot's date
    at: _dt.datetime
    t0_h: float
    on_hand: np.ndarray
    safety: np.ndarray | None
    orders: list[OpenOrder]
    source: str

    def engine(self, streams):
        """The run's engine on the snapshot's stock (the scenario still sets assortment and safety)."""
        from omsim.engine import DecisionEngine, initial_stock
        from omsim.fulfilment.inventory import Inventory

        sc = self.scenario
        _, safety, carried = initial_stock(sc, streams)      # the same draws as a plain run's engine
        inv = Inventory(self.on_hand, safety if self.safety is None else self.safety, node_ids=sc.node_ids,
                        sku_ids=sc.sku_ids, t0_h=self.t0_h)
        return DecisionEngine(sc, inv, streams, carried=carried | (self.on_hand > 0))

    def future(self, dem):
        """The demand from the snapshot's instant on (orders created before it are the open orders)."""
        from omsim.ranges import spans

        keep = np.flatnonzero(dem.created_h >= self.t0_h)
        ptr, idx = spans(dem.line_ptr[keep], dem.line_ptr[keep + 1])
        pick = lambda a: None if a is None else a[keep]  # noqa: E731
        return dataclasses.replace(dem, created_h=dem.created_h[keep], region=dem.region[keep],
                                   level=dem.level[keep], channel=dem.channel[keep], line_ptr=ptr,
                                   line_sku=dem.line_sku[idx], line_qty=dem.line_qty[idx], paid_h=dem.paid_h[keep],
                                   payment_attempts=dem.payment_attempts[keep], order_ids=pick(dem.order_ids),
                                   customer=pick(dem.customer))

    def seed(self, sim) -> None:
        """Add the open orders to ``sim`` (before its clock runs): order rows, engine commitments, wave queues."""
        from omsim.engine import decision_arrays
        from omsim.sim.demand import LEVELS

        if not self.orders:
            return
        eng, t0 = sim.engine, self.t0_h
        rows, decisions = [], []
        for i, o in enumerate(self.orders):
            d = o.decision
            if d.shipments:
                skus = np.concatenate([s.skus for s in d.shipments])
                qty = np.concatenate([s.qty for s in d.shipments])
            else:                   # waiting for stock: backordered below (_accept), every unit unfilled
                skus, qty = o.lines
            oid = sim._add_row(-1, skus, qty, o.created_h, 0, (o.region, LEVELS.index(o.level), 0),
                               f"live:{o.order_id}")
            if d.shipments:         # the unshipped packages' lines, all filled (a partial's reasons dropped)
                d = dataclasses.replace(d, order_id=oid, unfilled=np.zeros(skus.size, dtype=np.int64),
                                        unfilled_reason=[])
            else:
                d = dataclasses.replace(d, order_id=oid, unfilled=qty.copy())
            try:
                eng.commit(d, t0)
            except OmsimError as exc:
                raise OmsimError(f"{self.source}/open_orders.json: orders[{i}] ({o.order_id}): the open order "
                                 f"does not fit the snapshot's stock and the scenario: {exc.message}",
                                 file=f"{self.source}/open_orders.json") from None
            rows.append(oid)
            decisions.append(d)
        oids = np.array(rows, dtype=np.int64)
        sim._accept(oids, np.full(oids.size, t0), decision_arrays(decisions, eng), True)


# ---------------------------------------------------------------- reading
def _fail(path: Path, field: str, what: str):
    raise OmsimError(f"{path}: {field}: {what}", file=str(path))


def _json(path: Path) -> dict:
    if not path.is_file():
        raise OmsimError(f"{path}: no such file (the snapshot directory needs snapshot.json, stock.csv, "
                         "open_orders.json and backlog.csv, as GET /v1/snapshot writes them)", file=str(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise OmsimError(f"{path}: not a JSON document ({exc})", file=str(path)) from None
    if not isinstance(data, dict):
        _fail(path, "(top level)", "expected an object")
    if data.get("format") != SNAPSHOT_FORMAT:
        _fail(path, "format", f"expected {SNAPSHOT_FORMAT!r}, got {data.get('format')!r}")
    if data.get("format_version") not in SNAPSHOT_READS:
        _fail(path, "format_version", f"this omsim reads versions {', '.join(map(str, SNAPSHOT_READS))}, "
                                      f"got {data.get('format_version')!r}")
    return data


def _field(path: Path, data: dict, key: str, kind, where: str = ""):
    v = data.get(key) if isinstance(data, dict) else None
    ok = isinstance(v, kind) and not isinstance(v, bool)
    if ok and isinstance(v, float):
        ok = math.isfinite(v)
    if not ok:
        _fail(path, where + key, f"missing or not a {getattr(kind, '__name__', 'number')}, got {v!r}")
    return v


def _clock(path: Path, meta: dict, scenario) -> tuple[_dt.datetime, float, float]:
    """(the instant, live engine hours of it, hours the live clock runs ahead of the simulation's)."""
    clk = meta.get("clock")
    start = _field(path, clk if isinstance(clk, dict) else {}, "start", str, "clock.")
    tz = _field(path, clk, "timezone", str, "clock.")
    if tz != scenario.horizon.timezone:
        _fail(path, "clock.timezone", f"{tz!r}, but the scenario's horizon.timezone is "
                                      f"{scenario.horizon.timezone!r}: simulate with the scenario the service runs")
    try:
        live = Clock(_dt.date.fromisoformat(start), tz)
    except ValueError:
        _fail(path, "clock.start", f"expected a date like 2026-12-01, got {start!r}")
    at_h = float(_field(path, meta, "at_h", (int, float)))
    try:
        at = _dt.datetime.fromisoformat(_field(path, meta, "at", str))
    except ValueError:
        _fail(path, "at", f"expected an ISO 8601 date and time, got {meta.get('at')!r}")
    if at.tzinfo is None:
        _fail(path, "at", f"expected a time zone offset, got {meta['at']!r}")
    day = math.floor(at_h / 24.0)
    if live.date(day) != at.astimezone(live.tz).date():
        _fail(path, "at_h", f"{at_h} is not the hour of 'at' ({meta['at']}) on the clock from {start}")
    return at, at_h, 24.0 * day


def _open_orders(path: Path, data: dict, scenario, shift_h: float) -> list[OpenOrder]:
    from omsim.engine.live import decision_from_json

    rows = data.get("orders")
    if not isinstance(rows, list):
        _fail(path, "orders", "expected a list")
    sku = {s: j for j, s in enumerate(scenario.sku_ids)}
    node = {n: i for i, n in enumerate(scenario.node_ids)}
    region = {r.id: i for i, r in enumerate(scenario.demand.regions)}
    services = {(c, s.id) for c, s in scenario.services()}
    out, seen = [], set()
    for i, row in enumerate(rows):
        w = f"orders[{i}]."
        oid = _field(path, row, "order_id", str, w)
        if oid in seen:
            _fail(path, w + "order_id", f"order {oid!r} listed twice")
        seen.add(oid)
        reg = _field(path, row, "region", str, w)
        if reg not in region:
            _fail(path, w + "region", f"unknown region {reg!r}")
        level = _field(path, row, "service_level", str, w)
        created = float(_field(path, row, "created_h", (int, float), w))
        dj = row.get("decision")
        ships = dj.get("shipments") if isinstance(dj, dict) else None
        shipped = row.get("shipped")
        if not isinstance(ships, list) or not isinstance(shipped, list) or len(shipped) != len(ships):
            _fail(path, w + "decision.shipments", "expected the decision's shipments and a 'shipped' flag for each")
        for k, s in enumerate(ships):
            sw = f"{w}decision.shipments[{k}]."
            if not isinstance(s, dict):
                _fail(path, sw[:-1], "expected an object")
            if s.get("node") not in node:
                _fail(path, sw + "node", f"unknown node {s.get('node')!r}")
            bad = [j for j in s.get("skus") or [] if j not in sku]
            if bad or not s.get("skus") or len(s.get("qty") or []) != len(s["skus"]):
                _fail(path, sw + "skus", f"expected SKUs of the catalogue with a qty each, got {s.get('skus')!r}")
            if any(isinstance(q, bool) or not isinstance(q, int) or q < 1 for q in s["qty"]):
                _fail(path, sw + "qty", f"expected whole numbers >= 1, got {s['qty']!r}")
            if (s.get("carrier"), s.get("service")) not in services:
                _fail(path, sw + "service", f"unknown carrier service {s.get('carrier')!r}/{s.get('service')!r}")
            for key in ("ship_by_h", "promised_h", "transit_h"):
                _field(path, s, key, (int, float), sw)
        try:
            d = decision_from_json(dj, 0, sku, node)
        except (KeyError, TypeError, ValueError) as exc:
            _fail(path, w + "decision", f"not a decision as GET /v1/snapshot writes it ({exc!r})")
        if d.status not in DECISION_STATUSES:
            _fail(path, w + "decision.status", f"unknown status {d.status!r}")
        if not ships:
            if d.status in ("backorder", "hold"):
                out.append(OpenOrder(oid, region[reg], level, created - shift_h,
                                     dataclasses.replace(d, promised_h=None), _waiting(path, row, d, sku, w)))
            continue
        keep = [dataclasses.replace(s, ship_by_h=s.ship_by_h - shift_h, promised_h=s.promised_h - shift_h)
                for s, done in zip(d.shipments, shipped) if not done]
        if not keep:
            continue
        promised = None if d.promised_h is None else d.promised_h - shift_h
        out.append(OpenOrder(oid, region[reg], level, created - shift_h,
                             dataclasses.replace(d, shipments=keep, promised_h=promised)))
    return out


def _waiting(path: Path, row: dict, d: Decision, sku: dict, w: str) -> tuple[np.ndarray, np.ndarray]:
    """(skus, qty) of the ``lines`` of an order waiting for stock: catalogue SKUs, each once, all unfilled."""
    lines = row.get("lines")
    if not isinstance(lines, list) or not lines or any(
            not isinstance(x, list) or len(x) != 2 or x[0] not in sku or isinstance(x[1], bool)
            or not isinstance(x[1], int) or x[1] < 1 for x in lines) or len({x[0] for x in lines}) != len(lines):
        _fail(path, w + "lines", f"expected [sku, qty] of SKUs of the catalogue, each once, qty >= 1, got {lines!r}")
    qty = np.array([x[1] for x in lines], dtype=np.int64)
    if d.unfilled.tolist() != qty.tolist():
        _fail(path, w + "decision.unfilled", f"a {d.status} leaves every unit unfilled: expected {qty.tolist()}, "
                                             f"got {d.unfilled.tolist()}")
    return np.array([sku[x[0]] for x in lines], dtype=np.int64), qty


def _backlog(path: Path, scenario) -> np.ndarray:
    from omsim.inputs import _int_cell, _raise_all, _read_rows

    shown, rows = _read_rows(path, ("node", "backlog_units"), (), "node backlog")
    node = {n: i for i, n in enumerate(scenario.node_ids)}
    out = np.zeros(len(node), dtype=np.int64)
    errors: list[str] = []
    for i, row in enumerate(rows, start=2):
        n = node.get(row.get("node") or "")
        if n is None:
            errors.append(f"{shown}: row {i}, column node: unknown node {row.get('node')!r}")
        q = _int_cell(row, "backlog_units", shown, i, errors, minimum=0)
        if n is not None and q is not None:
            out[n] = q
    _raise_all(shown, errors, "node backlog")
    return out


def _accounted(root: Path, scenario, orders: list[OpenOrder], reserved: int, backlog: np.ndarray) -> None:
    """The open orders account for the snapshot's reserved units and node backlog, or OmsimError."""
    held = np.zeros(len(scenario.node_ids), dtype=np.int64)
    for o in orders:
        for s in o.decision.shipments:
            held[int(s.node)] += int(s.qty.sum())
    if int(held.sum()) != reserved:
        raise OmsimError(f"{root / 'snapshot.json'}: reserved_units is {reserved}, but the open orders in "
                         f"open_orders.json reserve {int(held.sum())}", file=str(root / "snapshot.json"))
    for n, nid in enumerate(scenario.node_ids):
        if held[n] != backlog[n]:
            raise OmsimError(f"{root / 'backlog.csv'}: node {nid}: backlog_units is {int(backlog[n])}, but the "
                             f"open orders in open_orders.json hold {int(held[n])} units there",
                             file=str(root / "backlog.csv"))


def read_start(directory, scenario) -> Start:
    """Read a snapshot directory (see the module docstring) for ``scenario``.

    Raises
    ------
    OmsimError
        A missing file, a wrong format or version, a field that is missing or
        does not fit the scenario (the file and the field named), or open
        orders that do not account for the reserved units and node backlog.
    """
    from omsim.inputs import read_stock

    root = Path(directory)
    if not root.is_dir():
        raise OmsimError(f"{root}: not a directory (--from-snapshot takes the directory GET /v1/snapshot's zip "
                         "was unpacked into)", file=str(root))
    meta = _json(root / "snapshot.json")
    at, at_h, shift_h = _clock(root / "snapshot.json", meta, scenario)
    reserved = _field(root / "snapshot.json", meta, "reserved_units", int)
    on_hand, safety = read_stock(root / "stock.csv", scenario)
    orders = _open_orders(root / "open_orders.json", _json(root / "open_orders.json"), scenario, shift_h)
    backlog = _backlog(root / "backlog.csv", scenario)
    _accounted(root, scenario, orders, int(reserved), backlog)
    start = at.astimezone(zone(scenario.horizon.timezone)).date()      # the live clock's day of at_h (checked)
    sc = scenario.model_copy(update={"horizon": scenario.horizon.model_copy(update={"start": start})})
    return Start(sc, at, at_h - shift_h, on_hand, safety, orders, str(root))
