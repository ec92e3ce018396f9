"""Reads from memory, stamped with the journal sequence they saw: health, availability, decisions, events, snapshot."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from omsim.engine.live import decision_to_json
from omsim.service.auth import AdminKey, ReadKey
from omsim.service.problems import Problem
from omsim.service.routes import PROBLEMS, check_node, check_sku, locked, reply, svc
from omsim.service.schemas import (Availability, DecisionOut, EventsOut, Health, alternatives_view,
                                   decision_view)
from omsim.service.routes.stock import position
from omsim.sim.snapshot import SNAPSHOT_FORMAT, SNAPSHOT_VERSION

router = APIRouter(responses=PROBLEMS)


@router.get("/health", response_model=Health, tags=["ops"])
def health(request: Request):
    """Open to all: the server is up; ``seq`` is the last journal sequence applied."""
    return {"status": "ok", "seq": svc(request).live.seq}


@router.get("/v1/availability", response_model=list[Availability], tags=["stock"])
async def availability(request: Request, _key: ReadKey, sku: Annotated[str, Query(min_length=1, max_length=128)],
                       node: Annotated[str | None, Query(min_length=1, max_length=128)] = None):
    """On hand, reserved and available to promise of a SKU per node (header ``X-Omsim-Seq``: as of)."""
    s = svc(request)

    def read():
        live = s.live
        check_sku(live, sku, "sku")
        nodes = [check_node(live, node)] if node is not None else live.node_ids
        return reply(200, [position(live, n, sku) for n in nodes], live.seq)
    return await locked(s, read)


@router.get("/v1/decisions/{decision_id}", response_model=DecisionOut, tags=["orders"])
def decision(request: Request, decision_id: str, _key: ReadKey):
    """Why this warehouse: the alternatives the engine considered, each with its cost breakdown (the chosen one's
    keys, from the engine's cost model) and by how much it lost (``lost_by``: its total minus the chosen one's;
    under ``lookahead`` the choice minimises ``score``, the total plus the shadow prices of the units taken)."""
    s = svc(request)
    seq = int(decision_id[1:]) if decision_id[:1] == "d" and decision_id[1:].isdigit() else 0
    got = s.db.journal.read(after=seq - 1, limit=1) if 0 < seq <= s.live.seq else []
    if not got or got[0].seq != seq or got[0].type != "order.committed":
        raise Problem(404, f"unknown decision {decision_id!r}", "decision_id")
    data = got[0].data
    dj = data["decision"]
    view = decision_view(dj, data["lines"], s.live.clock)
    with s.lock:                # worked out from the decision's basis (engine tables only, but the engine's)
        alternatives = s.live.alternatives(data)
    return {"decision_id": decision_id, "order_id": data["order_id"], "seq": seq, "policy": dj["policy"],
            "status": dj["status"], "chosen": view["cost"], "shipments": view["shipments"],
            "alternatives": alternatives_view(alternatives, dj["total"])}


@router.get("/v1/events", response_model=EventsOut, tags=["ops"])
def events(request: Request, _key: ReadKey, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """The journal after ``after``, in order: the feed an OMS syncs from."""
    s = svc(request)
    clock = s.live.clock
    evs = s.db.journal.read(after=after, limit=limit)
    return {"last_seq": s.live.seq,
            "events": [{"seq": e.seq, "type": e.type, "version": e.version,
                        "at": clock.to_datetime(e.at_h).isoformat(), "recorded_at": e.recorded_at,
                        "data": dict(e.data)} for e in evs]}


def snapshot_files(live) -> dict[str, str]:
    """The state as files: ``stock.csv`` (node,sku,on_hand), ``orders.csv`` (the open orders' unshipped lines,
    as ``omsim plan --orders`` reads them), ``backlog.csv``, ``open_orders.json`` (each open order's decision,
    exactly, for ``omsim simulate --from-snapshot``; :mod:`omsim.sim.snapshot`) and ``snapshot.json``.

    Held carts (``hold_s``) last minutes and are not carried: ``backlog.csv`` and ``reserved_units`` are
    the open orders' (``held_units`` says what the holds had). An open order waiting for stock (decision
    ``backorder`` or ``hold``, no packages) is listed with its ``lines`` ([sku, qty], all unfilled)."""
    inv, clock = live.engine.inventory, live.clock
    stock = io.StringIO()
    w = csv.writer(stock, lineterminator="\n")
    w.writerow(["node", "sku", "on_hand", "safety"])
    for n, node in enumerate(live.node_ids):
        for j in map(int, inv.on_hand[n].nonzero()[0]):
            w.writerow([node, live.sku_ids[j], int(inv.on_hand[n, j]), int(inv.safety[n, j])])
    orders = io.StringIO()
    w = csv.writer(orders, lineterminator="\n")
    w.writerow(["order_id", "sku", "qty", "region", "service_level", "created_at"])
    n_open = 0
    carried = []
    for oid, st in live.orders.items():
        d = live.engine.committed(st.key)
        if d is None:
            continue
        n_open += 1
        if d.shipments or d.status in ("backorder", "hold"):
            row = {"order_id": oid, "region": st.region, "service_level": st.level,
                   "created_h": st.history[0][2], "shipped": list(st.shipped),
                   "decision": decision_to_json(d, live.sku_ids, live.node_ids)}
            if not d.shipments:     # waiting for stock: its lines, from the order.committed the journal keeps
                (ev,) = live.journal.read(after=st.history[0][0] - 1, limit=1)
                row["lines"] = ev.data["lines"]
            carried.append(row)
        created = clock.format(st.history[0][2])
        for k, sh in enumerate(d.shipments):
            if not st.shipped[k]:
                for j, q in zip(sh.skus, sh.qty):
                    w.writerow([oid, live.sku_ids[int(j)], int(q), st.region, st.level, created])
    backlog = io.StringIO()
    w = csv.writer(backlog, lineterminator="\n")
    w.writerow(["node", "backlog_units"])
    held = np.zeros(len(live.node_ids), dtype=np.int64)
    for key, _exp in live.holds.values():
        for sh in getattr(live.engine.committed(key), "shipments", []):
            held[int(sh.node)] += int(sh.qty.sum())
    for n, node in enumerate(live.node_ids):
        w.writerow([node, int(live.engine.node_backlog_units[n]) - int(held[n])])
    meta = {"format": SNAPSHOT_FORMAT, "format_version": SNAPSHOT_VERSION, "seq": live.seq,
            "at": clock.to_datetime(live.last_h).isoformat(), "at_h": live.last_h,
            "clock": {"start": clock.start.isoformat(), "timezone": clock.tz.key},
            "scenario": live.scenario.name, "open_orders": n_open,
            "reserved_units": int(inv.reserved.sum()) - int(held.sum()), "held_units": int(held.sum())}
    open_orders = {"format": SNAPSHOT_FORMAT, "format_version": SNAPSHOT_VERSION, "orders": carried}
    return {"stock.csv": stock.getvalue(), "orders.csv": orders.getvalue(), "backlog.csv": backlog.getvalue(),
            "open_orders.json": json.dumps(open_orders, separators=(",", ":")) + "\n",
            "snapshot.json": json.dumps(meta, indent=2) + "\n"}


@router.get("/v1/snapshot", tags=["ops"], responses={200: {"content": {"application/zip": {}}}})
def snapshot(request: Request, _key: AdminKey):
    """A zip of the current state's files (see ``snapshot_files``), as of ``X-Omsim-Seq``."""
    s = svc(request)
    with s.lock:
        files, seq = snapshot_files(s.live), s.live.seq
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return Response(buf.getvalue(), media_type="application/zip",
                    headers={"X-Omsim-Seq": str(seq), "Content-Disposition": f'attachment; filename="omsim-{seq}.zip"'})
