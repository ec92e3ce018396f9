"""The single writer: one thread applies commands in order and commits them in batches.

A route hands the writer a :class:`Command` (its idempotency key, request
fingerprint and a function of the :class:`~omsim.engine.live.LiveEngine`) and
awaits its future. The writer takes every command queued at that moment (up
to ``batch_max``: group commit, so under load one fsync serves many
commands and a command waits for at most the batch in progress and its own;
when commands arrive closely it also waits up to ``commit_delay_s``, half a
millisecond, for more to share the commit, see :meth:`Writer._gather`),
runs them one after the other under the state lock, with the live engine's
``persist`` collecting each outcome's events, writes the events and the
idempotency records in one transaction, commits, and only then answers the
futures (one wake-up of the event loop per batch). So a client is
acknowledged only once its journal entries and its idempotency record are
durable together. Reads take the lock only while commands run, not during
the commit (an fsync): a read may see the batch being committed, one batch
ahead of the disk, and is stamped with that sequence.

A snapshot (the state, so a restart replays only the journal after it) is
taken every ``snapshot_every`` events, after the batch is committed and
answered, in a transaction of its own: its clients do not wait for it. Its
cost grows with the state (about 0.1 s per 1,000 open orders), and while it
is written nothing changes, so a state of ``_INLINE_ORDERS`` open orders or
more, or any once one has taken longer than ``_INLINE_S``, is written by a
forked child process (where ``os.fork`` exists): a copy-on-write image of
that instant, dumped at the lowest CPU priority while the writer and the
reads go on; the writer stores it when the child is done. One at a time; a
snapshot that fails is only logged (the journal is the truth, a snapshot a
shortcut for restarts). Even so the writer pays for each: the fork, and the
copy of every page it writes to while the child lives (about 0.1 s of CPU at
20,000 open orders). Replaying is quicker than snapshotting (about 15,000
events/s against 11,000 open orders/s dumped), so snapshots are far apart
(50,000 events by default: a restart replays at most that).

If a commit fails the in-memory state is ahead of the database: the writer
rebuilds it from the database (the snapshot and journal) and answers the
batch's commands with 503, so their retries run again from the truth.
"""
from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import math
import os
import queue
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field

from omsim.errors import OmsimError
from omsim.engine.journal import Event
from omsim.service.problems import Problem, problem_body

__all__ = ["Command", "Writer"]

log = logging.getLogger("omsim.service")


@dataclass
class Command:
    """One state-changing request; ``run(live)`` returns (HTTP status, JSON body) or raises a problem.

    ``future`` gets the result: an asyncio future of ``loop`` (a route's), else a thread-safe one."""

    key: str | None
    fp: str
    run: object
    future: asyncio.Future | cf.Future = field(default_factory=cf.Future)
    loop: asyncio.AbstractEventLoop | None = None


class Writer:
    """The thread in front of the engine (see the module docstring)."""

    def __init__(self, svc):
        self.svc = svc
        self.queue: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="omsim-writer", daemon=True)
        self.batches = 0
        self.last_snapshot = 0
        self._written = False           # events written since the last idle collection
        self.idle_collections = 0
        self._slow = False             # the last snapshot written in this thread took longer than _INLINE_S
        self._child = None             # (pid, seq, box, reader thread) of the snapshot being dumped in a child
        self.forked = 0                # snapshots dumped by a child process
        self._conn = None              # the writer's own database connection (opened on first use)
        self._last_commit = -math.inf  # perf_counter() when the last batch was committed
        self.delayed = 0               # batches that waited for commands to share their commit

    def start(self) -> None:
        self.last_snapshot = self.svc.live.seq
        self.thread.start()

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=10)
        if self._child is not None:            # let the snapshot being dumped finish and keep it
            self._child[3].join(timeout=30)
            self._collect()
        self._drop_connection()

    def _connection(self):
        """The writer's connection, kept open between batches (a pool checkout and its reset on return cost
        as much as a small batch's inserts); dropped after a failure, so the next batch opens a fresh one."""
        if self._conn is None:
            self._conn = self.svc.db.engine.connect()
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:       # a broken connection: the pool discards it
                pass

    def submit(self, cmd: Command):
        self.queue.put(cmd)
        return cmd.future

    # ------------------------------------------------------------ the loop
    def _loop(self) -> None:
        while True:
            try:
                first = self.queue.get(timeout=0.5)
            except queue.Empty:
                first = ()
                self._collect_if_idle()
            if first is None:
                return
            if self._child is not None:
                self._collect()
            batch = [first] if first else []
            self._take(batch)
            if batch:
                self._gather(batch)
            internal = self.svc.due_commands()          # expired holds, released by the server
            if batch or internal:
                self._run_batch(internal + batch)

    def _gather(self, batch: list) -> None:
        """Under load, wait up to ``commit_delay_s`` for more commands to share the batch's commit.

        Each commit costs the writer about 0.25 ms of CPU (the fsync and the transaction) whatever it holds,
        as much as deciding an order, so at a high rate larger batches leave the CPU its margin. Only when the
        previous batch was committed less than ``commit_siblings_s`` ago (commands are arriving closely), as
        PostgreSQL's ``commit_delay`` waits only with ``commit_siblings`` busy: an idle server answers at once.
        """
        st = self.svc.settings
        if st.commit_delay_s <= 0 or time.perf_counter() - self._last_commit > st.commit_siblings_s:
            return
        self.delayed += 1
        self._take(batch, time.perf_counter() + st.commit_delay_s)

    def _take(self, batch: list, deadline: float | None = None) -> None:
        """Append queued commands to ``batch``, up to ``batch_max``: those queued now or, with a ``deadline``
        (``perf_counter()`` time), those arriving until then too. A stop request is put back for the loop."""
        while len(batch) < self.svc.settings.batch_max:
            try:
                if deadline is None:
                    nxt = self.queue.get_nowait()
                else:
                    left = deadline - time.perf_counter()
                    if left <= 0:
                        return
                    nxt = self.queue.get(timeout=left)
            except queue.Empty:
                return
            if nxt is None:
                self.queue.put(None)
                return
            batch.append(nxt)

    def _run_batch(self, batch: list[Command]) -> None:
        svc, db = self.svc, self.svc.db
        results: list[tuple[int, dict]] = []
        events: list[Event] = []

        def persist(first_seq, new):
            stamp = _stamp()
            out = [Event.numbered(e, first_seq + i, stamp) for i, e in enumerate(new)]
            events.extend(out)      # written below, in the batch's transaction (a failure there reloads)
            return out
        try:
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
                finally:
                    live.persist = _refuse
            t0 = time.perf_counter()
            conn = self._connection()
            with conn.begin():
                if events:
                    db.journal.write_in(conn, events)
                db.save_keys(conn, records)
            self._last_commit = time.perf_counter()
            svc.metrics.commit.observe(self._last_commit - t0)
            svc.metrics.batch.observe(len(batch))
        except Exception as exc:                    # the database refused: memory is ahead of it
            log.error("commit failed (%s); rebuilding the state from the database", type(exc).__name__)
            self._drop_connection()
            svc.keys.drop(c.key for c in batch if c.key)
            svc.reload()
            results = [(503, problem_body(503, "the database did not commit; retry with the same "
                                               "Idempotency-Key"))] * len(batch)
        self.batches += 1
        _answer(batch, results)
        if events:
            self._maybe_snapshot()
            self._written = True

    def _collect_if_idle(self) -> None:
        """With ``collect_when_idle``: a full cyclic collection once the writer has been idle for a poll
        (half a second without a command) after writing something.

        ``omsim serve`` turns the automatic full collections off: the state grows with every open order
        (its decision, packages, history, kept response) and a full collection rescans all of it while
        holding the GIL: 50-70 ms every 2 s at 1,000 orders/s, the longest stalls the orders saw. Young
        collections go on as usual (cycles among new objects are reclaimed at once); what reaches the
        oldest generation is reclaimed here, when nobody is waiting. Measured
        (``benchmarks/service.py --runs orders``): the same resident memory at the end with and without.
        """
        if self.svc.settings.collect_when_idle and self._written:
            import gc

            self._written = False
            gc.collect()
            self.idle_collections += 1

    def _maybe_snapshot(self) -> None:
        svc = self.svc
        live = svc.live
        if self._child is not None or live.seq - self.last_snapshot < svc.settings.snapshot_every:
            return
        try:
            if hasattr(os, "fork") and (self._slow or live.engine.open_orders >= _INLINE_ORDERS):
                self._fork_snapshot(live)
                return
            t = time.perf_counter()
            with svc.lock:
                seq, data = live.seq, live.snapshot()
            self._slow = time.perf_counter() - t > _INLINE_S
            self._save(seq, data)
        except Exception as exc:          # only a shortcut for restarts: the journal is the truth
            log.warning("snapshot at %s not saved (%s)", live.seq, type(exc).__name__)

    def _save(self, seq: int, data: bytes) -> None:
        try:
            conn = self._connection()
            with conn.begin():
                self.svc.db.save_snapshot(conn, seq, data)
        except Exception:
            self._drop_connection()
            raise
        self.last_snapshot = seq

    def _fork_snapshot(self, live) -> None:
        """Dump the state in a child process; a thread of ours reads it from a pipe (see the module docstring)."""
        r, w = os.pipe()
        with self.svc.lock, warnings.catch_warnings():     # still while the child is made
            warnings.simplefilter("ignore", DeprecationWarning)   # fork with threads: the child only dumps
            seq = live.seq
            pid = os.fork()
            if pid == 0:
                _child_dump(live, r, w)
        os.close(w)
        box: dict = {}
        reader = threading.Thread(target=_read_child, args=(r, pid, box), name="omsim-snapshot", daemon=True)
        self._child = (pid, seq, box, reader)
        self.forked += 1
        reader.start()

    def _collect(self) -> None:
        """Store the child's snapshot once it is done."""
        pid, seq, box, reader = self._child
        if reader.is_alive():
            return
        self._child = None
        try:
            if box.get("data"):
                self._save(seq, box["data"])
            else:
                log.warning("snapshot at %s: the child process failed (%s)", seq, box.get("status"))
        except Exception as exc:
            log.warning("snapshot at %s not saved (%s)", seq, type(exc).__name__)

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


_INLINE_S = 0.02       # a snapshot slower than this stops the writer too long: the next ones go to a child
_INLINE_ORDERS = 200   # ... as does one of this many open orders or more (about 0.1 s per 1,000)


def _child_dump(live, r: int, w: int) -> None:
    """In the forked child: dump the state into the pipe and exit, touching nothing else of the server."""
    code = 1
    try:
        os.close(r)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})   # the server's to handle
        os.nice(19)
        data = live.snapshot()
        view = memoryview(data)
        while view:
            view = view[os.write(w, view):]
        code = 0
    finally:
        os._exit(code)


def _read_child(r: int, pid: int, box: dict) -> None:
    chunks = []
    with os.fdopen(r, "rb") as f:
        while chunk := f.read(1 << 20):
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    box["status"] = status
    if status == 0:
        box["data"] = b"".join(chunks)


def _answer(batch: list[Command], results: list[tuple[int, dict]]) -> None:
    """Hand each command its result on its event loop: one thread-safe call per loop, not one per command."""
    by_loop: dict = {}
    for cmd, res in zip(batch, results):
        if cmd.loop is not None:
            by_loop.setdefault(cmd.loop, []).append((cmd.future, res))
        elif not cmd.future.done():
            cmd.future.set_result(res)
    for loop, pairs in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, pairs)
        except RuntimeError:        # the loop has closed: nobody is waiting any more
            pass


def _resolve(pairs) -> None:
    for fut, res in pairs:
        if not fut.done():          # a client that went away cancelled its future
            fut.set_result(res)


def _refuse(first_seq, events):
    raise OmsimError("the live engine changes only through the writer")


def _stamp() -> str:
    import datetime as _dt

    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")
