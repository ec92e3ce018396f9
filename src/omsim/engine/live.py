"""The engine with a journal: every state change is an event, applied the same way live and on replay.

:class:`LiveEngine` is what a long-running decision service holds. It wraps a
:class:`~omsim.engine.DecisionEngine` and speaks the public language: orders,
SKUs and nodes by their string ids, times as timezone-aware datetimes (or
engine hours), errors as :class:`~omsim.errors.OmsimError` naming the thing.

Each command (place an order, cancel, ship a package, receive, restock,
scrap, count stock) first works out its **outcome** without touching state:
for an order, the engine's decision (which node ships which units, by which
service, promised when). The outcome becomes an :class:`~omsim.engine.journal.Event`
and is appended to the journal; only then is it applied, by the one apply
function of its type. Replay runs the same apply functions over the journal,
so :meth:`LiveEngine.replay` rebuilds exactly the state the live engine had
(stock, reservations, node backlog and capacity taken, carrier bookings, open
orders, the ledger), whatever the solvers would decide today. A snapshot is
that state at a sequence number in a versioned, explicit format
(:mod:`omsim.engine.snapshot`, no pickles); snapshot plus the events after it
gives the same state as the whole journal (:meth:`LiveEngine.digest`).

Event types (version 1 unless said), with what ``data`` holds:

=====================  =====================================================
``order.committed``    (version 2) the order (id, region, level, lines), the
                       decision and, when placed with ``explain``, its
                       ``basis`` (what it was weighed against, from which
                       :meth:`LiveEngine.alternatives` lists the
                       alternatives; version 1 kept the alternatives)
``order.cancelled``    ``order_id``
``shipment.shipped``   ``order_id``, ``shipment`` (its index)
``stock.received``     ``node``, ``sku``, ``qty``
``stock.restocked``    ``node``, ``sku``, ``qty``, ``order_id`` (a return)
``stock.scrapped``     ``node``, ``sku``, ``qty``, ``order_id`` (a return)
``stock.counted``      ``node``, ``sku``, ``on_hand`` (absolute), ``delta``
``hold.placed``        (version 2) a promise held: ``hold_id``, ``key``, the
                       order and decision (as ``order.committed``),
                       ``expires_h``
``hold.released``      ``hold_id``, ``expired`` (true when its time ran out)
``prices.updated``     the ``lookahead`` prices decisions use from then on:
                       ``version``, ``skus`` (the priced SKUs) and
                       ``prices`` (per SKU, per node), solved for the stock
                       at ``basis_seq`` / ``at_h``
=====================  =====================================================

Lookahead prices come from an LP, which is slow: a live engine never solves
it while deciding. :meth:`LiveEngine.refresh_prices` solves and swaps them in;
a service solves them off its writer (``engine.solve_shadow_prices`` on
:meth:`LiveEngine.price_basis`) and swaps them in through it
(:meth:`LiveEngine.set_prices`). Until the first ``prices.updated`` the prices
are zero (``lookahead`` then decides as ``cheapest``). A lookahead decision's
``order.committed`` records the ``price_version`` it used.

A hold reserves a promise's stock and capacity like an order, under an
engine key of its own, until it is released (its expiry is an event the
server writes when the time has come, so a replay releases it at the same
point).

Engine time never runs backwards: a command dated before the last event is
applied at the last event's time (the server sets the time; the requested
time is kept in the event as ``requested_h``).
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field

import numpy as np

from omsim.clock import Clock
from omsim.errors import OmsimError
from omsim.engine.journal import Event, Journal, MemoryJournal, digest
from omsim.orders import Decision, Order, Shipment
from omsim.scenario import SERVICE_LEVELS, Scenario

__all__ = ["APPLY", "EVENT_TYPES", "LiveEngine", "OrderState", "decision_from_json", "decision_to_json"]

EVENT_TYPES = ("order.committed", "order.cancelled", "shipment.shipped", "stock.received", "stock.restocked",
               "prices.updated",
               "stock.scrapped", "stock.counted", "hold.placed", "hold.released")
VERSION = 1
#: Event types at another version than VERSION. Version 2 of ``order.committed`` and ``hold.placed`` keeps the
#: decision's ``basis`` instead of its alternatives (version 1; still read): the alternatives are worked out when
#: asked for (:meth:`LiveEngine.alternatives`), not on every order.
VERSIONS = {"order.committed": 2, "hold.placed": 2}


# ---------------------------------------------------------------- codecs
def _num(x):
    """A JSON-exact number (floats round-trip through repr), None for None/NaN."""
    t = type(x)                  # exact built-in types first: a decision has a score of them
    if t is float:
        return None if x != x else x
    if t is int or x is None:
        return x
    if isinstance(x, (np.integer, int)) and not isinstance(x, bool):
        return int(x)
    x = float(x)
    return None if math.isnan(x) else x


def _plain(x):
    t = type(x)            # exact built-in types first (the alternatives of every explained decision pass here)
    if t is str or t is float or t is int or t is bool or x is None:
        return x
    if t is dict:
        return {k if type(k) is str else str(k): _plain(v) for k, v in x.items()}
    if t is list:
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_plain(v) for v in list(x)]
    if isinstance(x, (np.generic,)):
        return x.item()
    return x


def decision_to_json(d: Decision, sku_ids, node_ids) -> dict:
    """A decision as JSON-ready data with string ids (exact floats)."""
    return {
        "status": d.status, "policy": d.policy, "promised_h": _num(d.promised_h), "total": _num(d.total),
        "cost": {k: _num(v) for k, v in d.cost.items()},
        "unfilled": [int(u) for u in np.asarray(d.unfilled).tolist()],
        "unfilled_reason": list(d.unfilled_reason),
        "shipments": [{"node": node_ids[int(s.node)], "skus": [sku_ids[int(j)] for j in s.skus],
                       "qty": [int(q) for q in s.qty], "carrier": s.carrier, "service": s.service, "level": s.level,
                       "distance_km": _num(s.distance_km), "weight_kg": _num(s.weight_kg),
                       "ship_by_h": _num(s.ship_by_h), "promised_h": _num(s.promised_h),
                       "transit_h": _num(s.transit_h), "cost": {k: _num(v) for k, v in s.cost.items()}}
                      for s in d.shipments],
        "alternatives": _plain(d.alternatives),
    }


def basis_to_json(b: dict) -> dict:
    """A decision's basis (``decide(..., basis=True)``) as JSON-ready data: ``svc`` per node in the scenario's
    node order (its service position; -1: the node cannot ship), ``avail`` per line and node, ``shadow``
    (lookahead's prices per line and node) or null."""
    svc = b["svc"]
    if b["closed"].any():
        svc = np.where(b["closed"], -1, svc)
    return {"t_h": float(b["t_h"]), "svc": svc.tolist(), "avail": b["avail"].tolist(),
            "shadow": None if b["shadow"] is None else b["shadow"].tolist()}


def basis_from_json(data: dict, n_nodes: int) -> dict:
    """:func:`basis_to_json` back."""
    if len(data["svc"]) != n_nodes:
        raise OmsimError(f"journal: a decision basis for {len(data['svc'])} nodes; the scenario has {n_nodes}")
    svc = np.array(data["svc"], dtype=np.int64)
    return {"t_h": float(data["t_h"]), "svc": svc, "closed": svc < 0,
            "avail": np.array(data["avail"], dtype=np.int64).reshape(-1, n_nodes),
            "shadow": None if data.get("shadow") is None else np.array(data["shadow"], dtype=np.float64)}


def decision_from_json(data: dict, order_id: int, sku_index: dict, node_index: dict) -> Decision:
    """The :class:`~omsim.orders.Decision` back from :func:`decision_to_json` (positions inside)."""
    ships = [Shipment(node=node_index[s["node"]], skus=np.array([sku_index[j] for j in s["skus"]], dtype=np.int64),
                      qty=np.array(s["qty"], dtype=np.int64), carrier=s["carrier"], service=s["service"],
                      level=s["level"], distance_km=s["distance_km"], weight_kg=s["weight_kg"],
                      ship_by_h=s["ship_by_h"], promised_h=s["promised_h"], transit_h=s["transit_h"],
                      cost=dict(s["cost"])) for s in data["shipments"]]
    return Decision(order_id=order_id, status=data["status"], shipments=ships,
                    unfilled=np.array(data["unfilled"], dtype=np.int64), promised_h=data["promised_h"],
                    cost=dict(data["cost"]), total=data["total"], policy=data["policy"],
                    alternatives=list(data.get("alternatives") or []),
                    unfilled_reason=list(data.get("unfilled_reason") or []))


# ---------------------------------------------------------------- state
@dataclass
class OrderState:
    """What the live engine knows of one order (beyond the engine's own booking)."""

    order_id: str
    key: int                       # the engine's position for it
    status: str                    # allocated, partial, backorder, hold, cancel, cancelled, shipped
    shipped: list[bool] = field(default_factory=list)
    history: list[tuple[int, str, float]] = field(default_factory=list)   # (seq, event type, at_h)
    region: str = ""
    level: str = ""


class LiveEngine:
    """A :class:`~omsim.engine.DecisionEngine` whose state changes only through journaled events.

    Parameters
    ----------
    engine
        A fresh engine (the state before the journal's first event).
    journal
        Where events go; a new :class:`~omsim.engine.journal.MemoryJournal` by default.
    clock
        Maps datetimes to engine hours; the scenario's clock by default.
    persist
        ``persist(first_seq, events) -> numbered events``: how an outcome is
        made durable before it is applied; ``journal.append_at`` by default. A
        service passes its own, to write the events in the same database
        transaction as its other records (idempotency keys); if it raises,
        nothing is applied.
    """

    def __init__(self, engine, journal: Journal | None = None, clock: Clock | None = None, persist=None):
        self.engine = engine
        self.scenario: Scenario = engine.scenario
        self.journal = journal if journal is not None else MemoryJournal()
        self.clock = clock or Clock.from_scenario(self.scenario)
        self.sku_ids = list(self.scenario.sku_ids)
        self.node_ids = list(self.scenario.node_ids)
        self._sku = {s: i for i, s in enumerate(self.sku_ids)}
        self._node = {n: i for i, n in enumerate(self.node_ids)}
        self._region = {r.id: i for i, r in enumerate(self.scenario.demand.regions)}
        self.orders: dict[str, OrderState] = {}
        self.holds: dict[str, tuple[int, float]] = {}     # hold id -> (engine key, expires at engine hour)
        self._keys = 0               # engine keys given to orders and holds
        self.seq = 0                 # the last event applied
        self.last_h = 0.0            # engine time of the last event
        self._days: set[int] = set()
        self.price_version = 0       # the lookahead prices in use (prices.updated events applied)
        if not engine._shadow_pinned:
            engine.pin_shadow_prices(None)     # prices change only by events, never inside decide
        self.persist = persist if persist is not None else self.journal.append_at

    # ------------------------------------------------------------ ids and time
    def hours(self, at) -> float:
        """Engine hours of ``at`` (aware datetime or engine hours), never before the last event."""
        if at is None:
            return self.last_h
        h = self.clock.to_hours(at) if isinstance(at, _dt.datetime) else float(at)
        if not math.isfinite(h):
            raise OmsimError(f"time {at!r} is not a finite time")
        return max(h, self.last_h)

    def sku(self, sku_id: str) -> int:
        """Position of SKU ``sku_id``, or OmsimError naming it."""
        return _position(self._sku, "SKU", sku_id)

    def node(self, node_id: str) -> int:
        """Position of node ``node_id``, or OmsimError naming it (and the nodes there are)."""
        return _position(self._node, "node", node_id, f"; nodes are {', '.join(self.node_ids)}")

    def region(self, region_id: str) -> int:
        """Position of demand region ``region_id``, or OmsimError naming it."""
        return _position(self._region, "region", region_id)

    def order_state(self, order_id: str) -> OrderState:
        """The live state of ``order_id``, or OmsimError when unknown."""
        st = self.orders.get(order_id)
        if st is None:
            raise OmsimError(f"unknown order {order_id!r}")
        return st

    @staticmethod
    def _qty(qty, what: str, allow_zero: bool = False) -> int:
        if isinstance(qty, bool) or not isinstance(qty, (int, np.integer)) or qty < (0 if allow_zero else 1):
            raise OmsimError(f"{what}: quantity must be a whole number {'>= 0' if allow_zero else '>= 1'}, "
                             f"got {qty!r}")
        return int(qty)

    # ------------------------------------------------------------ commands
    def order(self, order_id: str, lines, region: str, level: str = "standard", at=None) -> Order:
        """Validate an order (string ids) and return it as the engine's :class:`~omsim.orders.Order`."""
        if not isinstance(order_id, str) or not order_id:
            raise OmsimError(f"order_id must be a non-empty string, got {order_id!r}")
        if level not in SERVICE_LEVELS:
            raise OmsimError(f"order {order_id}: unknown service level {level!r}; "
                             f"expected one of {', '.join(SERVICE_LEVELS)}")
        lines = list(lines)
        if not lines:
            raise OmsimError(f"order {order_id}: no lines")
        qty_by_sku: dict[int, int] = {}
        for i, (sku_id, qty) in enumerate(lines):
            j = self.sku(sku_id)
            qty_by_sku[j] = qty_by_sku.get(j, 0) + self._qty(qty, f"order {order_id} line {i + 1} ({sku_id})")
        key = self._keys if order_id not in self.orders else self.orders[order_id].key
        return Order(key, self.hours(at), self.region(region), level,
                     np.array(list(qty_by_sku), dtype=np.int64), np.array(list(qty_by_sku.values()), dtype=np.int64))

    def place(self, order_id: str, lines, region: str, level: str = "standard", at=None,
              policy: str | None = None, explain: bool = True) -> tuple[Decision, Event]:
        """Decide an order and commit the decision in one step: the journaled ``order.committed``.

        With ``explain`` (the default) the event keeps the decision's basis
        (what it was weighed against: the state is gone by the time someone
        asks why), from which :meth:`alternatives` lists the alternatives the
        engine considered, as ``decide(..., explain=True)`` would have then.
        """
        if order_id in self.orders:
            raise OmsimError(f"order {order_id!r} exists already")
        d, o, data = self._decided(order_id, lines, region, level, at, policy, explain)
        return d, self._commit("order.committed", {"order_id": order_id, **data}, o.created_h)

    def _decided(self, id_: str, lines, region: str, level: str, at, policy, explain: bool):
        """The decision for a cart, and the event data an order or a hold records of it."""
        o = self.order(id_, lines, region, level, at)
        d = self.engine.decide(o, o.created_h, policy, basis=explain)
        data = {"key": o.order_id, "region": self.scenario.demand.regions[o.region].id, "level": level,
                "lines": [[self.sku_ids[int(j)], int(q)] for j, q in zip(o.skus, o.qty)],
                "decision": decision_to_json(d, self.sku_ids, self.node_ids)}
        if explain:
            data["basis"] = basis_to_json(d.basis)
        if d.policy == "lookahead":
            data["price_version"] = self.price_version
        return d, o, data

    def alternatives(self, data: dict) -> list[dict]:
        """The alternatives of the decision an ``order.committed`` or ``hold.placed`` event's ``data`` records
        (what ``decide(..., explain=True)`` listed then; ``Decision.alternatives``), worked out from the basis
        it keeps, whatever the state is now; ``[]`` for a decision placed without ``explain``."""
        if "basis" not in data:
            return list(data["decision"].get("alternatives") or [])      # version 1 kept them
        key = int(data["key"])
        o = Order(key, float(data["basis"]["t_h"]), self.region(data["region"]), data["level"],
                  np.array([self.sku(j) for j, _q in data["lines"]], dtype=np.int64),
                  np.array([q for _j, q in data["lines"]], dtype=np.int64))
        d = decision_from_json(data["decision"], key, self._sku, self._node)
        d.basis = basis_from_json(data["basis"], len(self.node_ids))
        return self.engine.alternatives(o, d)

    def hold(self, hold_id: str, lines, region: str, level: str = "standard", at=None, hold_h: float = 0.25,
             policy: str | None = None, explain: bool = True) -> tuple[Decision, Event]:
        """Decide a cart and reserve it for ``hold_h`` hours (released by :meth:`release`); ``explain`` as in
        :meth:`place`."""
        if hold_id in self.holds:
            raise OmsimError(f"hold {hold_id!r} exists already")
        d, o, data = self._decided(hold_id, lines, region, level, at, policy, explain)
        return d, self._commit("hold.placed", {"hold_id": hold_id, **data, "expires_h": o.created_h + hold_h},
                               o.created_h)

    def release(self, hold_id: str, at=None, expired: bool = False) -> Event:
        """Give a hold's stock and capacity back (``expired`` when its time ran out)."""
        if hold_id not in self.holds:
            raise OmsimError(f"unknown hold {hold_id!r}")
        return self._commit("hold.released", {"hold_id": hold_id, "expired": bool(expired)}, self.hours(at))

    def expired_holds(self, at) -> list[str]:
        """Holds whose time is up at ``at``."""
        h = self.hours(at)
        return [k for k, (_key, exp) in self.holds.items() if exp <= h]

    def cancel(self, order_id: str, at=None) -> Event:
        """Cancel an open order (its reserved stock and capacity are given back)."""
        st = self.order_state(order_id)
        if st.status in ("cancelled", "cancel"):
            raise OmsimError(f"order {order_id!r} is already cancelled")
        if st.status == "shipped":
            raise OmsimError(f"order {order_id!r} has shipped; it can only be returned")
        return self._commit("order.cancelled", {"order_id": order_id}, self.hours(at))

    def ship(self, order_id: str, shipment: int, at=None) -> Event:
        """Hand package ``shipment`` (0-based) of an order to its carrier."""
        st = self.order_state(order_id)
        if st.status in ("cancelled", "cancel"):
            raise OmsimError(f"order {order_id!r} is cancelled")
        if isinstance(shipment, bool) or not isinstance(shipment, (int, np.integer)) \
                or not 0 <= shipment < len(st.shipped):
            raise OmsimError(f"order {order_id!r} has no shipment {shipment!r} "
                             f"(it has {len(st.shipped)}: 0..{len(st.shipped) - 1})")
        if st.shipped[shipment]:
            raise OmsimError(f"order {order_id!r}: shipment {shipment} has shipped already")
        return self._commit("shipment.shipped", {"order_id": order_id, "shipment": int(shipment)}, self.hours(at))

    def receive(self, node: str, sku: str, qty: int, at=None) -> Event:
        """Units arrive at a node (a receipt)."""
        self.node(node), self.sku(sku)
        q = self._qty(qty, f"receipt of {sku} at {node}")
        return self._commit("stock.received", {"node": node, "sku": sku, "qty": q}, self.hours(at))

    def restock(self, node: str, sku: str, qty: int, order_id: str | None = None, at=None) -> Event:
        """A sellable return goes back on hand."""
        self.node(node), self.sku(sku)
        q = self._qty(qty, f"restock of {sku} at {node}")
        return self._commit("stock.restocked", {"node": node, "sku": sku, "qty": q, "order_id": order_id},
                            self.hours(at))

    def scrap(self, node: str, sku: str, qty: int, order_id: str | None = None, at=None) -> Event:
        """A damaged return is written off (recorded, never back on hand)."""
        self.node(node), self.sku(sku)
        q = self._qty(qty, f"scrap of {sku} at {node}")
        return self._commit("stock.scrapped", {"node": node, "sku": sku, "qty": q, "order_id": order_id},
                            self.hours(at))

    def count(self, node: str, sku: str, on_hand: int, expected: int | None = None, at=None) -> Event:
        """Set on hand to a counted ``on_hand`` (compare-and-set against ``expected`` when given)."""
        n, j = self.node(node), self.sku(sku)
        c = self._qty(on_hand, f"count of {sku} at {node}", allow_zero=True)
        inv = self.engine.inventory
        now, reserved = int(inv.on_hand[n, j]), int(inv.reserved[n, j])
        if expected is not None and int(expected) != now:
            raise OmsimError(f"count of {sku} at {node}: expected on hand {expected}, but it is {now}")
        if c < reserved:
            raise OmsimError(f"count of {sku} at {node}: {c} is below the {reserved} units reserved")
        return self._commit("stock.counted", {"node": node, "sku": sku, "on_hand": c, "delta": c - now},
                            self.hours(at))

    # ------------------------------------------------------------ lookahead prices
    def price_basis(self) -> tuple[float, int, np.ndarray]:
        """(engine hour, seq, a copy of the available stock): what a price refresh solves for (take it under
        the state lock, solve without it: ``engine.solve_shadow_prices(at_h, available)``)."""
        return self.last_h, self.seq, self.engine.inventory.available().copy()

    def set_prices(self, prices, at_h: float, basis_seq: int) -> Event:
        """Swap in lookahead prices ((S, N), solved for :meth:`price_basis`): the journaled ``prices.updated``."""
        p = np.asarray(prices, dtype=np.float64)
        if p.shape != (len(self.sku_ids), len(self.node_ids)) or not np.isfinite(p).all():
            raise OmsimError(f"prices: expected finite (SKUs, nodes) = {(len(self.sku_ids), len(self.node_ids))} "
                             f"prices, got shape {p.shape}")
        rows = np.flatnonzero(np.any(p != 0.0, axis=1))
        return self._commit("prices.updated", {"version": self.price_version + 1, "at_h": float(at_h),
                                               "basis_seq": int(basis_seq), "skus": [self.sku_ids[j] for j in rows],
                                               "prices": p[rows].tolist()}, self.hours(None))

    def refresh_prices(self) -> Event:
        """Solve the lookahead prices for the current state and swap them in (a library user's one call)."""
        at_h, seq, avail = self.price_basis()
        return self.set_prices(self.engine.solve_shadow_prices(at_h, avail), at_h, seq)

    # ------------------------------------------------------------ events
    def _commit(self, type_: str, data: dict, at_h: float) -> Event:
        """Make the outcome durable (:attr:`persist`), then apply it."""
        (ev,) = self.persist(self.seq + 1, [Event(type_, data, at_h=at_h, version=VERSIONS.get(type_, VERSION))])
        self.apply(ev)
        return ev

    def apply(self, ev: Event) -> None:
        """Apply one journaled event (live and on replay); events must come in sequence."""
        if ev.seq != self.seq + 1:
            raise OmsimError(f"journal: event {ev.seq} ({ev.type}) applied after {self.seq}; expected {self.seq + 1}")
        fn = APPLY.get((ev.type, ev.version))
        if fn is None:
            raise OmsimError(f"journal: event {ev.seq} has unknown type {ev.type!r} version {ev.version}")
        fn(self, ev.data, float(ev.at_h), ev.seq)
        self.seq = ev.seq
        self.last_h = max(self.last_h, float(ev.at_h))
        self._days.add(int(ev.at_h // 24))

    # ------------------------------------------------------------ rebuild
    def snapshot(self) -> bytes:
        """The whole state at :attr:`seq`, in the versioned format of :mod:`omsim.engine.snapshot`."""
        from omsim.engine.snapshot import dump

        return dump(self)

    @classmethod
    def replay(cls, engine, journal: Journal, snapshot: bytes | None = None, clock: Clock | None = None,
               upto: int | None = None, scenario: Scenario | None = None) -> "LiveEngine":
        """Rebuild from ``engine`` (the state before event 1) or a ``snapshot`` (of ``scenario``, by default
        the engine's), then the journal after it.

        Raises
        ------
        omsim.engine.snapshot.SnapshotError
            A snapshot of another format version, or damaged (the caller may replay the whole journal).
        """
        if snapshot is not None:
            from omsim.engine.snapshot import load

            live = load(snapshot, scenario if scenario is not None else engine.scenario, journal, clock)
        else:
            live = cls(engine, journal, clock)
        for ev in journal.read(after=live.seq, limit=None if upto is None else max(upto - live.seq, 0)):
            live.apply(ev)
        return live

    def state(self) -> dict:
        """Everything the events change, read through the engine's public API (for :meth:`digest`)."""
        e, inv = self.engine, self.engine.inventory
        days = sorted(self._days | {d + k for d in self._days for k in range(1, 8)}) or [0]
        ledger = inv.ledger_frame()
        return {
            "seq": self.seq, "last_h": self.last_h,
            "on_hand": inv.on_hand, "reserved": inv.reserved, "safety": inv.safety, "inbound": inv.inbound,
            "backlog": np.asarray(e.node_backlog_units),
            "capacity_left": [[e.capacity_left(n, d) for n in range(len(self.node_ids))] for d in days],
            "carriers_left": [np.asarray(e.carriers.remaining_all(d)) for d in days],
            "open": e.open_orders,
            "orders": {k: {"status": s.status, "shipped": s.shipped, "history": s.history,
                           "committed": (decision_to_json(e.committed(s.key), self.sku_ids, self.node_ids)
                                         if e.committed(s.key) is not None else None)}
                       for k, s in sorted(self.orders.items())},
            "ledger": ledger.astype(str).to_numpy().tolist(),
            "holds": {k: list(v) for k, v in sorted(self.holds.items())}, "keys": self._keys,
            "prices": [self.price_version, None if e._shadow is None or not e._shadow.any() else e._shadow],
        }

    def digest(self) -> str:
        """SHA-256 of :meth:`state`: equal after a replay, whatever the path."""
        return digest(self.state())


# ---------------------------------------------------------------- apply, one per event type
def _apply_committed(live: LiveEngine, data: dict, t: float, seq: int) -> None:
    key = int(data["key"])
    d = decision_from_json(data["decision"], key, live._sku, live._node)
    live.engine.commit(d, t)
    live._keys = max(live._keys, key + 1)
    live.orders[data["order_id"]] = OrderState(data["order_id"], key, d.status, [False] * len(d.shipments),
                                               [(seq, "order.committed", t)], data["region"], data["level"])


def _apply_cancelled(live: LiveEngine, data: dict, t: float, seq: int) -> None:
    st = live.orders[data["order_id"]]
    if live.engine.committed(st.key) is not None:
        live.engine.cancel(st.key, t)
    st.status = "cancelled"
    st.history.append((seq, "order.cancelled", t))


def _apply_shipped(live: LiveEngine, data: dict, t: float, seq: int) -> None:
    st = live.orders[data["order_id"]]
    live.engine.ship(st.key, int(data["shipment"]), t)
    st.shipped[int(data["shipment"])] = True
    if all(st.shipped):
        st.status = "shipped"
    st.history.append((seq, "shipment.shipped", t))


def _apply_received(live: LiveEngine, data: dict, t: float, seq: int) -> None:
    live.engine.inventory.receive(live.node(data["node"]), live.sku(data["sku"]), int(data["qty"]), t)


def _apply_restocked(live: LiveEngine, data: dict, t: float, seq: int) -> None:
    live.engine.restock(live.node(data["node"]), live.sku(data["sku"]), int(data["qty"]), data.get("order_id"), t)


def _apply_scrapped(live: LiveEngine, data: dict, t: float, seq: int) -> None:
    live.engine.scrap(live.node(data["node"]), live.sku(data["sku"]), int(data["qty"]), data.get("order_id"), t)


def _apply_counted(live: LiveEngine, data: dict, t: float, seq: int) -> None:
    live.engine.inventory.count(live.node(data["node"]), live.sku(data["sku"]), int(data["on_hand"]), t, "count")


def _position(table: dict, kind: str, key, hint: str = "") -> int:
    """``table[key]``: the position of an id, or OmsimError naming the unknown ``kind`` (``hint`` appended)."""
    try:
        return table[key]
    except (KeyError, TypeError):
        raise OmsimError(f"unknown {kind} {key!r}{hint}") from None


def _apply_hold(live: LiveEngine, data: dict, t: float, seq: int) -> None:
    key = int(data["key"])
    live.engine.commit(decision_from_json(data["decision"], key, live._sku, live._node), t)
    live._keys = max(live._keys, key + 1)
    live.holds[data["hold_id"]] = (key, float(data["expires_h"]))


def _apply_released(live: LiveEngine, data: dict, t: float, seq: int) -> None:
    key, _exp = live.holds.pop(data["hold_id"])
    if live.engine.committed(key) is not None:
        live.engine.cancel(key, t)


def _apply_prices(live: LiveEngine, data: dict, t: float, seq: int) -> None:
    p = np.zeros((len(live.sku_ids), len(live.node_ids)))
    for sku, row in zip(data["skus"], data["prices"]):
        p[live.sku(sku)] = row
    live.engine.pin_shadow_prices(p)
    live.price_version = int(data["version"])


#: (event type, version) -> apply function: the one place each event changes state.
APPLY = {
    ("order.committed", 1): _apply_committed,
    ("order.committed", 2): _apply_committed,      # the same state change; the basis only explains
    ("order.cancelled", 1): _apply_cancelled,
    ("shipment.shipped", 1): _apply_shipped,
    ("stock.received", 1): _apply_received,
    ("stock.restocked", 1): _apply_restocked,
    ("stock.scrapped", 1): _apply_scrapped,
    ("stock.counted", 1): _apply_counted,
    ("hold.placed", 1): _apply_hold,
    ("hold.placed", 2): _apply_hold,
    ("hold.released", 1): _apply_released,
    ("prices.updated", 1): _apply_prices,
}
