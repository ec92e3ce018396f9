"""The single writer: one thread applies commands in order and commits them in batches.

A route hands the writer a :class:`Command` (its idempotency key, request
fingerprint and a function of the :class:`~omsim.engine.live.LiveEngine`) and
awaits its future. The writer takes every command queued at that moment (up
to ``batch_max``), runs them one after the other under the state lock, with
the live engine's ``persist`` writing each outcome's events into one open
transaction, adds the idempotency records to the same transaction (and a
snapshot now and then), commits, and only then answers the futures. So a
client is acknowledged only once its journal entries and its idempotency
record are durable together. Reads take the lock only while commands run, not
during the commit (an fsync): a read may see the batch being committed, one
batch ahead of the disk, and is stamped with that sequence.

If a commit fails the in-memory state is ahead of the database: the writer
rebuilds it from the database (the snapshot and journal) and answers the
batch's commands with 503, so their retries run again from the truth.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from omsim.errors import OmsimError
from omsim.engine.journal import Event
from omsim.service.problems import Problem, problem_body

__all__ = ["Command", "Writer"]

log = logging.getLogger("omsim.service")


@dataclass
class Command:
    """One state-changing request; ``run(live)`` returns (HTTP status, JSON body) or raises a problem."""

    key: str | None
    fp: str
    run: object
    future: cf.Future = field(default_factory=cf.Future)


class Writer:
    """The thread in front of the engine (see the module docstring)."""

    def __init__(self, svc):
        self.svc = svc
        self.queue: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="omsim-writer", daemon=True)
        self.batches = 0
        self.last_snapshot = 0

    def start(self) -> None:
        self.last_snapshot = self.svc.live.seq
        self.thread.start()

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=10)

    def submit(self, cmd: Command) -> cf.Future:
        self.queue.put(cmd)
        return cmd.future

    # ------------------------------------------------------------ the loop
    def _loop(self) -> None:
        while True:
            try:
                first = self.queue.get(timeout=0.5)
            except queue.Empty:
                first = ()
            if first is None:
                return
            batch = [first] if first else []
            while len(batch) < self.svc.settings.batch_max:
                try:
                    nxt = self.queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self.queue.put(None)
                    break
                batch.append(nxt)
            internal = self.svc.due_commands()          # expired holds, released by the server
            if batch or internal:
                self._run_batch(internal + batch)

    def _run_batch(self, batch: list[Command]) -> None:
        svc, db = self.svc, self.svc.db
        results: list[tuple[int, dict]] = []
        try:
            with db.engine.begin() as conn:
                def persist(first_seq, events, _conn=conn):
                    stamp = _stamp()
                    out = [Event.numbered(e, first_seq + i, stamp) for i, e in enumerate(events)]
                    db.journal.write_in(_conn, out)
                    return out
                records = []
                with svc.lock:           # commands change the state; reads wait only for them, not for the commit
                    live = svc.live
                    live.persist = persist
                    try:
                        for cmd in batch:
                            status, body, new = self._one(live, cmd)
                            results.append((status, body))
                            if new and cmd.key is not None:
                                records.append((cmd.key, cmd.fp, status, body))
                                svc.keys.add(cmd.key, cmd.fp, status, body)
                        snap = None
                        if live.seq - self.last_snapshot >= svc.settings.snapshot_every:
                            snap, self.last_snapshot = (live.seq, live.snapshot()), live.seq
                    finally:
                        live.persist = _refuse
                db.save_keys(conn, records)
                if snap is not None:
                    db.save_snapshot(conn, *snap)
        except Exception as exc:                    # the database refused: memory is ahead of it
            log.error("commit failed (%s); rebuilding the state from the database", type(exc).__name__)
            svc.keys.drop(c.key for c in batch if c.key)
            svc.reload()
            results = [(503, problem_body(503, "the database did not commit; retry with the same "
                                               "Idempotency-Key"))] * len(batch)
        self.batches += 1
        for cmd, res in zip(batch, results):
            if not cmd.future.done():
                cmd.future.set_result(res)

    def _one(self, live, cmd: Command) -> tuple[int, dict, bool]:
        """(status, body, whether it is a new outcome to record) of one command."""
        if cmd.key is not None:
            got = self.svc.keys.lookup(cmd.key, cmd.fp)
            if got is not None:
                return got[0], got[1], False
        try:
            status, body = cmd.run(live)
        except Problem as p:
            status, body = p.status, p.body()
        except OmsimError as exc:
            status, body = 422, problem_body(422, exc.message)
        return status, body, True


def _refuse(first_seq, events):
    raise OmsimError("the live engine changes only through the writer")


def _stamp() -> str:
    import datetime as _dt

    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")
