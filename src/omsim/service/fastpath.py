"""POST /v1/orders without the framework's per-request cost, for well-formed requests only.

An OMS places orders at a high rate, and most of a placed order's CPU time
outside the engine went to the framework's layers (dependency resolution,
request objects, the exception middleware), not to anything the order needs.
:class:`FastOrders` wraps the whole FastAPI app (``omsim serve`` runs it so)
and serves ``POST /v1/orders`` itself when the request is plainly valid: JSON
content, one ``Authorization`` header with a write or admin key, one usable
``Idempotency-Key``, a body the route's own model (``OrderIn``) accepts,
known SKUs and region, a writer to send it to. It then runs exactly what the
route runs (:func:`omsim.service.routes.orders.placing`, the same
fingerprint, the same writer, the same response) and counts the request as
the app counts the route's (``omsim_requests_total``, latency). Anything else (an error of
any kind, a read-only server, a body too big to buffer) is handed, body and
all, to the FastAPI route, which answers it as it always has: the fast path
never words an error, so there is one place that does.
"""
from __future__ import annotations

import json
import logging
import time

from pydantic import ValidationError

from omsim.service.auth import authorize
from omsim.service.idempotency import check_key, fingerprint
from omsim.service.problems import MEDIA, Problem, problem_body, render
from omsim.service.routes.orders import placing
from omsim.service.schemas import OrderIn

__all__ = ["FastOrders"]

log = logging.getLogger("omsim.service")

_PATH = "/v1/orders"
_JSON, _PROBLEM = b"application/json", MEDIA.encode()
_MAX_BODY = 1 << 20          # larger bodies are the route's to handle (it refuses what it must)


class FastOrders:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app):
        self.app, self.state = app, app.state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != _PATH or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        body, messages, complete = await _buffer(receive)
        replay = _replaying(messages, receive)
        got = self._ready(scope, body) if complete else None
        if got is None:
            return await self.app(scope, replay, send)
        s, key, fp, run = got
        s.metrics.fast_orders.inc()
        try:
            status, out = await s.execute(key, fp, run)
        except Exception:                 # as the app's handler of the unexpected: logged, a problem, no traceback
            log.exception("POST %s failed", _PATH)
            status, out = 500, problem_body(500, "internal error (logged on the server)")
        try:                              # the bytes and headers of the route's reply(), without its object
            data = render(out)
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-length", str(len(data)).encode()),
                                    (b"content-type", _PROBLEM if status >= 400 else _JSON)]})
            await send({"type": "http.response.body", "body": data})
        finally:                          # counted as the route's requests are (the app's _Timing)
            s.metrics.request(_PATH, "POST", status, time.perf_counter() - t0)

    def _ready(self, scope, body: bytes):
        """(service, key, fingerprint, command) of a plainly valid request, else None (the route answers)."""
        s = getattr(self.state, "svc", None)
        if s is None or s.writer is None:
            return None
        auth, idem, ctype = [], [], []
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth.append(value)
            elif name == b"idempotency-key":
                idem.append(value)
            elif name == b"content-type":
                ctype.append(value)
        if len(auth) != 1 or len(idem) != 1 or len(ctype) != 1 or \
                ctype[0].split(b";")[0].strip().lower() != b"application/json":
            return None
        try:
            authorize(s.settings.keys, auth[0].decode("latin-1"), "write")
            key = check_key(idem[0].decode("latin-1"))
            order = OrderIn.model_validate(json.loads(body))
            run = placing(s, order)
        except (Problem, ValidationError, ValueError, UnicodeDecodeError):
            return None
        return s, key, fingerprint("POST", _PATH, order.model_dump(mode="json")), run


async def _buffer(receive) -> tuple[bytes, list, bool]:
    """The request body, the messages it came in, and whether it is complete and small enough."""
    messages, chunks, size = [], [], 0
    while True:
        msg = await receive()
        messages.append(msg)
        if msg["type"] != "http.request":
            return b"", messages, False
        chunk = msg.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_BODY:
            return b"", messages, False
        if not msg.get("more_body", False):
            return b"".join(chunks), messages, True


def _replaying(messages: list, receive):
    """A receive that hands the buffered messages out again, then the connection's own."""
    pending = list(messages)

    async def replay():
        if pending:
            return pending.pop(0)
        return await receive()
    return replay
