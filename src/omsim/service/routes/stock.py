"""Stock movements: returns (restock or scrap), receipts, counts with a compare-and-set."""
from __future__ import annotations

from fastapi import APIRouter, Request

from omsim.service.auth import WriteKey
from omsim.service.problems import Problem
from omsim.service.routes import PROBLEMS, IdemKey, check_node, check_sku, now, write
from omsim.service.schemas import AdjustmentIn, ReceiptIn, ReturnIn, ReturnOut, StockOut

router = APIRouter(tags=["stock"], responses=PROBLEMS)


def position(live, node: str, sku: str) -> dict:
    inv, n, j = live.engine.inventory, live.node(node), live.sku(sku)
    return {"node": node, "sku": sku, "on_hand": int(inv.on_hand[n, j]), "reserved": int(inv.reserved[n, j]),
            "available": int(inv.available(n, j))}


@router.post("/v1/returns", response_model=ReturnOut)
async def returns(request: Request, body: ReturnIn, _key: WriteKey, idempotency_key: IdemKey = None):
    """Returned units: ``restock`` puts them back on hand, ``scrap`` writes them off."""
    live = request.app.state.svc.live
    check_node(live, body.node)
    for i, ln in enumerate(body.lines):
        check_sku(live, ln.sku, f"lines[{i}].sku")
    if body.order_id is not None and body.order_id not in live.orders:
        raise Problem(404, f"unknown order {body.order_id!r}", "order_id")

    def run(live):
        at = body.at or now()
        for ln in body.lines:
            getattr(live, ln.disposition)(body.node, ln.sku, ln.qty, order_id=body.order_id, at=at)
        return 200, {"seq": live.seq, "lines": [position(live, body.node, ln.sku) for ln in body.lines]}
    return await write(request, idempotency_key, body, run)


@router.post("/v1/receipts", response_model=StockOut)
async def receipts(request: Request, body: ReceiptIn, _key: WriteKey, idempotency_key: IdemKey = None):
    """Units received at a node."""
    live = request.app.state.svc.live
    check_node(live, body.node), check_sku(live, body.sku, "sku")

    def run(live):
        live.receive(body.node, body.sku, body.qty, at=body.at or now())
        return 200, {**position(live, body.node, body.sku), "seq": live.seq}
    return await write(request, idempotency_key, body, run)


@router.post("/v1/adjustments", response_model=StockOut)
async def adjustments(request: Request, body: AdjustmentIn, _key: WriteKey, idempotency_key: IdemKey = None):
    """An absolute count; with ``expected``, only if on hand is still what the counter saw (else 409)."""
    live = request.app.state.svc.live
    check_node(live, body.node), check_sku(live, body.sku, "sku")

    def run(live):
        n, j = live.node(body.node), live.sku(body.sku)
        inv = live.engine.inventory
        if body.expected is not None and int(inv.on_hand[n, j]) != body.expected:
            raise Problem(409, f"expected on hand {body.expected} for {body.sku} at {body.node}, "
                               f"but it is {int(inv.on_hand[n, j])}", "expected")
        if body.on_hand < int(inv.reserved[n, j]):
            raise Problem(409, f"on_hand {body.on_hand} is below the {int(inv.reserved[n, j])} units reserved",
                          "on_hand")
        live.count(body.node, body.sku, body.on_hand, at=body.at or now())
        return 200, {**position(live, body.node, body.sku), "seq": live.seq}
    return await write(request, idempotency_key, body, run)
