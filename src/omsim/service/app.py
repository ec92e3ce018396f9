"""The service object (state, database, writer) and the FastAPI application around it.

:class:`Service` holds the live engine, the lock that reads and the writer
share, the database and the kept idempotency keys. :func:`create_app` builds
the application; nothing is opened at import time: the database is opened
and the state rebuilt (latest snapshot + the journal after it) when the app
starts.
"""
from __future__ import annotations

import asyncio
import datetime as _dt
import inspect
import logging
import threading
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI

from omsim.errors import OmsimError
from omsim.engine.live import LiveEngine
from omsim.engine.snapshot import SnapshotError
from omsim.service import problems
from omsim.service.db import Database
from omsim.service.idempotency import Keys
from omsim.service.metrics import Metrics
from omsim.service.settings import Settings
from omsim.service.writer import Command, Writer

__all__ = ["Service", "create_app"]

log = logging.getLogger("omsim.service")


def _first_engine(scenario, stock: str | None):
    """The engine before the first event: the scenario's stock, or ``stock`` (CSV node,sku,on_hand)."""
    from omsim.engine import DecisionEngine
    from omsim.inputs import read_stock
    from omsim.plan import _build_engine

    if stock is None:
        return DecisionEngine.from_scenario(scenario)
    on_hand, safety = read_stock(stock, scenario)
    return _build_engine(scenario, on_hand, safety, 0.0, None)


class Service:
    """Everything a running server holds (see the module docstring)."""

    def __init__(self, settings: Settings):
        from omsim.scenario import load_scenario

        self.settings = settings
        self.lock = threading.RLock()
        self.scenario = load_scenario(settings.scenario)
        self.db = Database(settings.db)
        self.metrics = Metrics()
        self.recent: list[str] = []          # order ids of the latest decisions (ops page)
        self._commits: dict[str, tuple[int, dict]] = {}   # order id -> its order.committed (seq, data), recent ones
        self._stop = threading.Event()
        try:
            if not settings.read_only:
                self.db.lock_writer()
            self.live = self._load()
            self.keys = Keys({} if settings.read_only else self.db.load_keys(settings.idempotency_hours))
        except Exception:
            self.db.close()
            raise
        self.writer = None if settings.read_only else Writer(self)
        self.prices = None                   # the lookahead price refresher (omsim.service.prices), when started
        self.started = time.time()

    def _load(self) -> LiveEngine:
        got = self.db.latest_snapshot()
        if got is None:
            if self.db.journal.last_seq() > 0:
                raise OmsimError(f"{self.settings.db}: the journal has events but no initial snapshot")
            if self.settings.read_only:
                raise OmsimError(f"{self.settings.db}: no state yet; start the writer first")
            live = LiveEngine(_first_engine(self.scenario, self.settings.stock), self.db.journal)
            with self.db.engine.begin() as c:
                self.db.save_snapshot(c, 0, live.snapshot())
            return live
        if self.settings.stock:
            log.warning("--stock %s ignored: the database already holds the stock (it is the truth now)",
                        self.settings.stock)
        try:
            return LiveEngine.replay(None, self.db.journal, snapshot=got[1], scenario=self.scenario)
        except SnapshotError as exc:
            if got[0] == 0:
                raise OmsimError(f"{self.settings.db}: the initial state (snapshot 0) is not readable: {exc.message}") \
                    from None
            log.warning("snapshot at seq %d ignored (%s); replaying the whole journal", got[0], exc.message)
        return LiveEngine.replay(None, self.db.journal, snapshot=self.db.snapshot_at(0), scenario=self.scenario)

    def remember(self, ev) -> None:
        """Keep a new order's committed event at hand (it may not be durable yet while its batch commits)."""
        self._commits[ev.data["order_id"]] = (ev.seq, ev.data)
        if len(self._commits) > 200_000:
            for k in list(self._commits)[:100_000]:
                del self._commits[k]
        self.recent.append(ev.data["order_id"])
        del self.recent[:-50]

    def commit_of(self, order_id: str, seq: int) -> tuple[int, dict]:
        """The ``order.committed`` (seq, data) of an order: from memory, else from the journal."""
        got = self._commits.get(order_id)
        if got is None:
            (ev,) = self.db.journal.read(after=seq - 1, limit=1)
            got = (ev.seq, ev.data)
        return got

    def reload(self) -> None:
        """Rebuild the live state from the database (after a failed commit)."""
        with self.lock:
            self.live = self._load()
            self._commits.clear()

    # ------------------------------------------------------------ commands and reads
    async def execute(self, key: str, fp: str, run) -> tuple[int, dict]:
        """Queue a command on the writer and wait until it is durable."""
        if self.writer is None:
            raise problems.Problem(405, "this server is read-only (--read-only); send writes to the writer")
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self.writer.submit(Command(key, fp, run, fut, loop))
        return await fut

    def due_commands(self) -> list:
        """Commands the server itself owes: releasing the holds whose time is up (run by the writer thread)."""
        live = self.live
        if not live.holds:
            return []
        due = live.expired_holds(utc_now())
        return [Command(None, "", lambda lv, h=h: (200, {"released": lv.release(h, utc_now(), True).seq}))
                for h in due]

    def start(self) -> None:
        if self.writer is not None:
            self.writer.start()
            if self.scenario.policies.allocation == "lookahead":       # its LP is solved off the writer
                from omsim.service.prices import PriceRefresher

                every = self.settings.price_refresh_s or self.scenario.policies.lookahead_refresh_h * 3600.0
                self.prices = PriceRefresher(self, every)
                self.prices.start()
        else:
            threading.Thread(target=self._tail, name="omsim-tail", daemon=True).start()

    def _tail(self) -> None:
        """A read-only server follows the journal the writer appends to."""
        while not self._stop.wait(self.settings.tail_s):
            try:
                events = self.db.journal.read(after=self.live.seq, limit=1000)
                if events:
                    with self.lock:
                        for ev in events:
                            self.live.apply(ev)
            except Exception as exc:  # the database may be restarting: try again next tick
                log.warning("journal tail: %s", type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()
        if self.prices is not None:
            self.prices.stop()
        if self.writer is not None:
            self.writer.stop()
        self.db.close()


def create_app(settings: Settings, service: Service | None = None) -> FastAPI:
    """The ASGI application for ``settings``; the service (or ``service``, opened already) starts with it."""
    from omsim.service.routes import orders, ops, reads, stock

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        svc = service if service is not None else Service(settings)
        app.state.svc = svc
        svc.start()
        try:
            yield
        finally:
            svc.stop()

    app = FastAPI(title="omsim live decisions", version="1", lifespan=lifespan, default_response_class=problems.JSON,
                  description="The omsim decision engine over HTTP: durable reservations, promises, the journal.",
                  **_NO_TELEMETRY)
    problems.install(app)
    app.add_middleware(_Timing, state=app.state)
    for module in (orders, stock, reads, ops):
        app.include_router(module.router)
    return app


# FastAPI's own OpenTelemetry hooks (newer releases) cost per request, enabled or not; /metrics is ours.
_NO_TELEMETRY = ({"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}}
                 if "telemetry" in inspect.signature(FastAPI).parameters else {})


class _Timing:
    """ASGI middleware: each request's route, status and latency into the metrics (a plain ASGI wrapper:
    Starlette's ``BaseHTTPMiddleware`` costs a task group and two streams per request)."""

    def __init__(self, app, state):
        self.app, self.state = app, state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0, status = time.perf_counter(), [500]

        async def send_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, send_status)
        finally:
            svc = getattr(self.state, "svc", None)
            if svc is not None:
                svc.metrics.request(getattr(scope.get("route"), "path", "unmatched"), scope["method"], status[0],
                                    time.perf_counter() - t0)


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)
