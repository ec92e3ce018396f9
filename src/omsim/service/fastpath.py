"""POST /v1/orders and POST /v1/promise without the framework's per-request cost, for well-formed requests only.

An OMS places orders and asks for promises at a high rate, and most of their
CPU time outside the engine went to the framework's layers (dependency
resolution, request objects, the exception middleware), not to anything the
request needs. :class:`FastPaths` wraps the whole FastAPI app (``omsim
serve`` runs it so) and serves these two requests itself when they are
plainly valid: JSON content, one ``Authorization`` header with a key of the
route's role, a body the route's own model accepts (``OrderIn``; a
``PromiseIn`` without ``hold_s``: a hold is a write, the route's), known SKUs
and region; for an order also one usable ``Idempotency-Key`` and a writer to
send it to. It then runs exactly what the route runs (the same command,
fingerprint and writer for an order:
:func:`omsim.service.routes.orders.placing`; the same read under the state
lock for a promise: :func:`~omsim.service.routes.orders.promising`), answers
with the same bytes and headers, and counts the request as the app counts
the route's (``omsim_requests_total``, latency) and in
``omsim_fast_requests_total``. Anything else (an error of any kind, a
read-only server, a body too big to buffer) is handed, body and all, to the
FastAPI route, which answers it as it always has: the fast path never words
an error, so there is one place that does.
"""
from __future__ import annotations

import json
import logging
import time

from pydantic import ValidationError

from omsim.errors import OmsimError
from omsim.service.auth import authorize
from omsim.service.idempotency import check_key, fingerprint
from omsim.service.problems import MEDIA, Problem, problem_body, render
from omsim.service.routes import locked
from omsim.service.routes.orders import placing, promising
from omsim.service.schemas import OrderIn, PromiseIn

__all__ = ["FastPaths"]

log = logging.getLogger("omsim.service")

_JSON, _PROBLEM = b"application/json", MEDIA.encode()
_MAX_BODY = 1 << 20          # larger bodies are the route's to handle (it refuses what it must)
_REFUSED = (Problem, OmsimError, ValidationError, ValueError, UnicodeDecodeError)   # the route words these


class FastPaths:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app):
        self.app, self.state = app, app.state
        self.paths = {"/v1/orders": self._order, "/v1/promise": self._promise}

    async def __call__(self, scope, receive, send):
        ready = self.paths.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        s = getattr(self.state, "svc", None)
        if ready is None or s is None:
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        body, messages, complete = await _buffer(receive)
        replay = _replaying(messages, receive)
        headers = _headers(scope) if complete else None
        try:
            answer = ready(s, headers, body) if headers is not None else None
        except _REFUSED:
            answer = None
        try:
            got = None if answer is None else await answer()
        except Exception:                 # as the app's handler of the unexpected: logged, a problem, no traceback
            log.exception("POST %s failed", scope["path"])
            got = 500, problem_body(500, "internal error (logged on the server)"), []
        if got is None:
            return await self.app(scope, replay, send)
        status, out, extra = got
        s.metrics.fast_requests.labels(scope["path"]).inc()
        try:                              # the bytes and headers of the route's reply(), without its object
            data = render(out)
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-length", str(len(data)).encode()),
                                    (b"content-type", _PROBLEM if status >= 400 else _JSON), *extra]})
            await send({"type": "http.response.body", "body": data})
        finally:                          # counted as the route's requests are (the app's _Timing)
            s.metrics.request(scope["path"], "POST", status, time.perf_counter() - t0)

    @staticmethod
    def _order(s, headers, body: bytes):
        """The answer of a plainly valid order: its command, queued on the writer."""
        auth, idem = headers
        if s.writer is None or len(idem) != 1:
            return None
        authorize(s.settings.keys, auth, "write")
        key = check_key(idem[0])
        order = OrderIn.model_validate(json.loads(body))
        run = placing(s, order)
        fp = fingerprint("POST", "/v1/orders", order.model_dump(mode="json"))

        async def answer():
            status, out = await s.execute(key, fp, run)
            return status, out, []
        return answer

    @staticmethod
    def _promise(s, headers, body: bytes):
        """The answer of a plainly valid promise without a hold: the route's read, under the state lock."""
        auth, _idem = headers
        authorize(s.settings.keys, auth, "read")
        promise = PromiseIn.model_validate(json.loads(body))
        if promise.hold_s is not None:
            return None
        read = promising(s, promise)

        async def answer():               # None (the route answers) for an unknown SKU or region
            try:
                out, seq = await locked(s, read)
            except _REFUSED:
                return None
            return 200, out, [(b"x-omsim-seq", str(seq).encode())]
        return answer


def _headers(scope):
    """(the one Authorization value, the Idempotency-Key values) of a JSON request, else None."""
    auth, idem, ctype = [], [], []
    for name, value in scope["headers"]:
        if name == b"authorization":
            auth.append(value)
        elif name == b"idempotency-key":
            idem.append(value)
        elif name == b"content-type":
            ctype.append(value)
    if len(auth) != 1 or len(ctype) != 1 or ctype[0].split(b";")[0].strip().lower() != b"application/json":
        return None
    return auth[0].decode("latin-1"), [v.decode("latin-1") for v in idem]


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
