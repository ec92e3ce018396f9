"""Orders: place (decide and reserve in one step), read with history, cancel, ship a package; promise."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from omsim.errors import OmsimError
from omsim.engine.live import decision_to_json
from omsim.service.settings import ROLES
from omsim.service.auth import ReadKey, WriteKey
from omsim.service.problems import Problem
from omsim.service.routes import (PROBLEMS, IdemKey, cart_lines, known_order, locked, now, region_of, reply,
                                  svc, write)
from omsim.service.schemas import At, OrderIn, OrderOut, OrderStateOut, PromiseIn, PromiseOut, decision_view, order_view

router = APIRouter(tags=["orders"], responses=PROBLEMS)


def _order_state(s, order_id: str) -> dict:
    """GET /v1/orders/{order_id}: the committed decision, its packages and the state history."""
    live = s.live
    st = known_order(live, order_id)
    seq, data = s.commit_of(order_id, st.history[0][0])
    return order_view(data, seq, live.clock, st)


def placing(s, body: OrderIn):
    """The writer's command placing ``body`` (a 422 problem for an unknown SKU or region, before it is queued).

    POST /v1/orders runs it from the route below or, for a well-formed request, from
    :mod:`omsim.service.fastpath` (the same command, without the framework's per-request cost)."""
    live = s.live
    lines, region = cart_lines(live, body.lines), region_of(live, body.ship_to)

    def run(live):
        if body.order_id in live.orders:
            raise Problem(409, f"order {body.order_id!r} exists already (placed under another Idempotency-Key)",
                          "order_id")
        d, ev = live.place(body.order_id, lines, region, body.service_level, at=body.created_at or now())
        s.metrics.decisions.labels(d.status).inc()
        s.remember(ev)
        return 201, order_view(ev.data, ev.seq, live.clock)
    return run


@router.post("/v1/orders", status_code=201, response_model=OrderOut)
async def place_order(request: Request, body: OrderIn, _key: WriteKey, idempotency_key: IdemKey = None):
    """Decide where the order ships and reserve its stock, in one durable step."""
    return await write(request, idempotency_key, body, placing(svc(request), body))


@router.get("/v1/orders/{order_id}", response_model=OrderStateOut)
def get_order(request: Request, order_id: str, _key: ReadKey):
    """The order's decision, its packages (shipped or not) and its state history."""
    s = svc(request)
    with s.lock:
        out = _order_state(s, order_id)
        return reply(200, out, s.live.seq)


@router.post("/v1/orders/{order_id}/cancel", response_model=OrderStateOut)
async def cancel_order(request: Request, order_id: str, _key: WriteKey, idempotency_key: IdemKey = None,
                       body: At | None = None):
    """Cancel an open order: its reserved stock and capacity are given back."""
    s = svc(request)

    def run(live):
        known_order(live, order_id)
        try:
            live.cancel(order_id, at=body.at if body is not None and body.at else now())
        except OmsimError as exc:
            raise Problem(409, exc.message, "order_id") from None
        return 200, _order_state(s, order_id)
    return await write(request, idempotency_key, body, run)


@router.post("/v1/orders/{order_id}/shipments/{index}/ship", response_model=OrderStateOut)
async def ship_package(request: Request, order_id: str, index: Annotated[int, Path(ge=0, le=10_000)], _key: WriteKey,
                       idempotency_key: IdemKey = None, body: At | None = None):
    """Hand package ``index`` (0-based, as in the order's ``shipments``) to its carrier."""
    s = svc(request)

    def run(live):
        known_order(live, order_id)
        try:
            live.ship(order_id, index, at=body.at if body is not None and body.at else now())
        except OmsimError as exc:
            raise Problem(404 if "has no shipment" in exc.message else 409, exc.message, "index") from None
        return 200, _order_state(s, order_id)
    return await write(request, idempotency_key, body, run)


def _promised(live, body: PromiseIn, hold: bool) -> dict:
    """The promise of ``body`` (decided on the state as it is; held when ``hold``, through the writer)."""
    lines, region = cart_lines(live, body.lines), region_of(live, body.ship_to)
    at = body.created_at or now()
    if hold:
        hold_id = f"h{live.seq + 1}"
        d, ev = live.hold(hold_id, lines, region, body.service_level, at=at, hold_h=body.hold_s / 3600)
        o_lines, extra = ev.data["lines"], {"hold_id": hold_id,
                                            "hold_expires_at": live.clock.to_datetime(ev.data["expires_h"])
                                            .isoformat()}
    else:
        o = live.order("promise", lines, region, body.service_level, at=at)
        d = live.engine.decide(o, o.created_h)
        o_lines, extra = [(live.sku_ids[int(j)], int(q)) for j, q in zip(o.skus, o.qty)], {}
    dj = decision_to_json(d, live.sku_ids, live.node_ids)
    return {**decision_view(dj, o_lines, live.clock), "seq": live.seq, **extra}


def promising(s, body: PromiseIn):
    """The read answering a promise without a hold: ``read()`` -> (body, seq it saw), run under the state lock
    (:func:`~omsim.service.routes.locked`). POST /v1/promise runs it from the route below or, for a well-formed
    request, from :mod:`omsim.service.fastpath`."""
    def read():
        return _promised(s.live, body, False), s.live.seq
    return read


@router.post("/v1/promise", response_model=PromiseOut)
async def promise(request: Request, body: PromiseIn, role: ReadKey, idempotency_key: IdemKey = None):
    """Shipments, dates and cost for a cart, without reserving anything (served from memory).

    With ``hold_s`` (a write: it needs a write key and an Idempotency-Key) the
    promise is held: its stock is reserved until ``hold_expires_at``, then
    released automatically; both are journaled.
    """
    s = svc(request)
    if body.hold_s is None:
        out, seq = await locked(s, promising(s, body))
        return reply(200, out, seq)
    if ROLES.index(role) < ROLES.index("write"):
        raise Problem(403, f"this key's role is {role}; a hold (hold_s) needs write", "Authorization")
    cart_lines(s.live, body.lines), region_of(s.live, body.ship_to)
    return await write(request, idempotency_key, body, lambda live: (200, _promised(live, body, True)))
