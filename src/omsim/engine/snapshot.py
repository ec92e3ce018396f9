"""The live engine's restart snapshot in a versioned, explicit format (no pickles).

A snapshot is the state the journal's events change (:meth:`omsim.engine.live.LiveEngine.state`),
written as a NumPy ``.npz`` archive read with ``allow_pickle=False``:

- ``state.json`` (a UTF-8 byte array): ``format`` (``omsim.live-state``), ``format_version``, the
  scenario's name, node and SKU ids, the live engine's counters (``seq``, ``last_h``, days, keys),
  its orders and holds, the engine's open bookings (each decision as
  :func:`~omsim.engine.live.decision_to_json` writes it, with its open packages, node-capacity
  day, services and carrier days), node capacity taken per day, carrier packages booked per day,
  the full service-days, the returns, the ledger's order ids and the lookahead prices' version;
- arrays: ``on_hand``, ``reserved``, ``safety``, ``inbound``, ``carried``, ``backlog`` and the
  ledger's columns (``ledger_time_h`` ... ``ledger_reason``), ``shadow`` (the lookahead prices) when set.

Moving or renaming an engine class does not change it; a change of what it holds bumps
:data:`FORMAT_VERSION`. :func:`load` raises :class:`SnapshotError` on any other version or a
damaged archive; the service then replays the whole journal instead.
"""
from __future__ import annotations

import dataclasses
import io
import json

import numpy as np

from omsim.errors import OmsimError

__all__ = ["FORMAT", "FORMAT_VERSION", "SnapshotError", "dump", "load"]

FORMAT = "omsim.live-state"
FORMAT_VERSION = 1
_ARRAYS = ("on_hand", "reserved", "safety", "inbound", "carried", "backlog")
_LEDGER = ("time_h", "node", "sku", "delta", "reason")


class SnapshotError(OmsimError):
    """A snapshot this omsim cannot read (another format version, or damaged)."""


def _plain(x):
    """JSON for the NumPy numbers and arrays json.dumps does not know (what decision_to_json's _plain gives)."""
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"snapshot: {type(x).__name__} is not JSON data")


def _days(table: dict) -> dict:
    return {str(d): np.asarray(v).tolist() for d, v in sorted(table.items())}


def dump(live) -> bytes:
    """The state of ``live`` (a :class:`~omsim.engine.live.LiveEngine`) at its ``seq``, as bytes."""
    from omsim.engine.live import decision_to_json

    e, inv = live.engine, live.engine.inventory
    if inv._pos:
        raise OmsimError("snapshot: open purchase orders are not part of the live state")
    sku_ids, node_ids = live.sku_ids, live.node_ids
    led = inv._ledger
    opened = []
    known = {s.key for s in live.orders.values()} | {k for k, _ in live.holds.values()}
    for oid in e._open:
        if oid not in known:
            raise OmsimError(f"snapshot: order {oid} was not committed through the live engine's commands (place, "
                             "hold), so its journal cannot rebuild it; not a live state")
        b = e._booking(oid)
        d = b.decision
        dj = decision_to_json(dataclasses.replace(d, alternatives=[]), sku_ids, node_ids)
        dj["alternatives"] = d.alternatives              # plain data with NumPy numbers: json.dumps(default=_plain)
        opened.append([int(oid), dj, int(b.day), list(map(int, b.service)), list(map(int, b.pickup_day)),
                       list(map(bool, b.open)), int(b.open_count)])
    state = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "scenario": live.scenario.name,
        "node_ids": list(node_ids), "sku_ids": list(sku_ids),
        "seq": live.seq, "last_h": live.last_h, "days": sorted(live._days), "keys": live._keys,
        "orders": [[s.order_id, s.key, s.status, s.shipped, [list(h) for h in s.history], s.region, s.level]
                   for s in live.orders.values()],
        "holds": [[h, int(k), float(x)] for h, (k, x) in live.holds.items()],
        "open": opened, "orders_taken": _days(e._orders_taken), "units_taken": _days(e._units_taken),
        "booked": _days(e.carriers._booked), "full": sorted([int(d), int(k)] for d, k in e._full),
        "returns": [list(r) for r in e._returns], "t_last": inv._t_last,
        "ledger_order_id": [None if o is None else (int(o) if isinstance(o, (int, np.integer)) else str(o))
                            for o in led.view("order_id")],
        "price_version": live.price_version,
    }
    arrays = {k: np.asarray(v) for k, v in (("on_hand", inv.on_hand), ("reserved", inv.reserved),
                                            ("safety", inv.safety), ("inbound", inv.inbound),
                                            ("carried", e.carried), ("backlog", e.node_backlog_units))}
    arrays.update({f"ledger_{c}": led.view(c) for c in _LEDGER})
    if e._shadow is not None:
        arrays["shadow"] = e._shadow
    buf = io.BytesIO()
    text = json.dumps(state, allow_nan=False, default=_plain, separators=(",", ":"))
    np.savez_compressed(buf, state_json=np.frombuffer(text.encode(), dtype=np.uint8), **arrays)
    return buf.getvalue()


def _read(data: bytes) -> tuple[dict, dict]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        state = json.loads(arrays.pop("state_json").tobytes().decode())
    except Exception as exc:             # any damage: a zip, npy or JSON error, a missing member
        raise SnapshotError(f"snapshot: not readable ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise SnapshotError(f"snapshot: not an {FORMAT} snapshot")
    if state.get("format_version") != FORMAT_VERSION:
        raise SnapshotError(f"snapshot: format_version {state.get('format_version')!r}, this omsim reads "
                            f"{FORMAT_VERSION}")
    return state, arrays


def load(data: bytes, scenario, journal=None, clock=None):
    """A :class:`~omsim.engine.live.LiveEngine` in the state of snapshot ``data``, on ``scenario``.

    Raises
    ------
    SnapshotError
        Another format version, a damaged snapshot, or one of another scenario's nodes and SKUs.
    """
    state, arrays = _read(data)
    if state.get("node_ids") != list(scenario.node_ids) or state.get("sku_ids") != list(scenario.sku_ids):
        raise SnapshotError(f"snapshot: taken with scenario {state.get('scenario')!r}, whose nodes and SKUs are "
                            f"not those of {scenario.name!r}")
    try:
        return _restore(state, arrays, scenario, journal, clock)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise SnapshotError(f"snapshot: damaged ({type(exc).__name__}: {exc})") from None


def _restore(state: dict, arrays: dict, scenario, journal, clock):
    from omsim.engine import DecisionEngine
    from omsim.engine.live import LiveEngine, OrderState, decision_from_json
    from omsim.fulfilment.inventory import Inventory
    from omsim.fulfilment.ledger import Ledger

    sc = scenario
    inv = Inventory(arrays["on_hand"], arrays["safety"], node_ids=sc.node_ids, sku_ids=sc.sku_ids)
    inv.reserved[...] = arrays["reserved"]
    inv.inbound[...] = arrays["inbound"]
    inv._t_last = float(state["t_last"])
    n = len(state["ledger_order_id"])
    led = Ledger(n + 1024)
    for c in _LEDGER:
        getattr(led, c)[:n] = arrays[f"ledger_{c}"]
    led.order_id[:n] = state["ledger_order_id"]
    led.n = n
    inv._ledger = led
    e = DecisionEngine(sc, inv, carried=arrays["carried"].astype(bool))
    e.node_backlog_units[...] = arrays["backlog"]
    e._orders_taken = {int(d): np.array(v, dtype=np.int64) for d, v in state["orders_taken"].items()}
    e._units_taken = {int(d): np.array(v, dtype=np.int64) for d, v in state["units_taken"].items()}
    e.carriers._booked = {int(d): np.array(v, dtype=np.int64) for d, v in state["booked"].items()}
    e._full = {(int(d), int(k)) for d, k in state["full"]}
    e._full_ver += 1
    e._returns = [tuple(r) for r in state["returns"]]
    sku = {s: j for j, s in enumerate(sc.sku_ids)}
    node = {x: i for i, x in enumerate(sc.node_ids)}
    for oid, dj, day, service, pdays, is_open, count in state["open"]:
        e._restore_open(decision_from_json(dj, oid, sku, node), day, service, pdays, is_open, count)
    live = LiveEngine(e, journal, clock)
    e.pin_shadow_prices(arrays.get("shadow"))
    live.price_version = int(state.get("price_version", 0))
    live.seq, live.last_h, live._keys = int(state["seq"]), float(state["last_h"]), int(state["keys"])
    live._days = set(state["days"])
    live.orders = {o[0]: OrderState(o[0], o[1], o[2], list(o[3]), [tuple(h) for h in o[4]], o[5], o[6])
                   for o in state["orders"]}
    live.holds = {h: (k, x) for h, k, x in state["holds"]}
    return live
