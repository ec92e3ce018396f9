"""The HTTP routes, one module per area (orders, stock, reads, ops), and what they share."""
from __future__ import annotations

import datetime as _dt
from typing import Annotated

import numpy as np
from fastapi import Header, Request
from starlette.concurrency import run_in_threadpool

from omsim.service.idempotency import check_key, fingerprint
from omsim.service.problems import JSON, MEDIA, Problem

IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Required on every write.")]
PROBLEMS = {s: {"description": d, "content": {MEDIA: {}}} for s, d in (
    (400, "Malformed JSON or a missing Idempotency-Key"), (401, "No or unknown API key"),
    (403, "The key's role may not do this"), (404, "Unknown order or decision"),
    (409, "Conflict: the order exists, or the expected on hand differs"),
    (422, "Invalid field (named in the problem), or the key reused with another body"))}


def svc(request: Request):
    return request.app.state.svc


def reply(status: int, body: dict, seq: int | None = None) -> JSON:
    """A stored outcome as a response (problem documents keep their media type)."""
    headers = None if seq is None else {"X-Omsim-Seq": str(seq)}
    return JSON(body, status_code=status, media_type=MEDIA if status >= 400 else None, headers=headers)


async def locked(s, read):
    """``read()`` under the state lock: on the event loop at once when the lock is free (the usual case: a
    worker-thread hop costs more than a read), else in a worker thread, so the loop never waits while the
    writer applies a batch."""
    if s.lock.acquire(blocking=False):
        try:
            return read()
        finally:
            s.lock.release()

    def wait_and_read():
        with s.lock:
            return read()
    return await run_in_threadpool(wait_and_read)


async def write(request: Request, key: str | None, body, run) -> JSON:
    """Check the key, queue ``run(live)`` on the writer, answer once it is durable."""
    key = check_key(key)
    data = body.model_dump(mode="json") if body is not None else {}
    status, out = await svc(request).execute(key, fingerprint(request.method, request.url.path, data), run)
    return reply(status, out)


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def check_sku(live, sku: str, field: str) -> str:
    if sku not in live._sku:
        raise Problem(422, f"{field}: unknown SKU {sku!r}", field)
    return sku


def check_node(live, node: str, field: str = "node") -> str:
    if node not in live._node:
        raise Problem(422, f"{field}: unknown node {node!r}; nodes are {', '.join(live.node_ids)}", field)
    return node


def region_of(live, ship_to) -> str:
    """The demand region of a ship-to: its ``region``, or the one nearest to ``lat, lon``."""
    regions = live.scenario.demand.regions
    if ship_to.region is not None:
        if ship_to.region not in live._region:
            raise Problem(422, f"ship_to.region: unknown region {ship_to.region!r}", "ship_to.region")
        return ship_to.region
    from omsim.geo import distance_matrix_km

    ll = np.array([[r.lat, r.lon] for r in regions], dtype=float)
    return regions[int(np.argmin(distance_matrix_km(np.array([[ship_to.lat, ship_to.lon]]), ll)[0]))].id


def cart_lines(live, lines) -> list[tuple[str, int]]:
    return [(check_sku(live, ln.sku, f"lines[{i}].sku"), ln.qty) for i, ln in enumerate(lines)]


def known_order(live, order_id: str):
    st = live.orders.get(order_id)
    if st is None:
        raise Problem(404, f"unknown order {order_id!r}", "order_id")
    return st
