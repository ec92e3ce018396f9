"""The service's database: the journal, idempotency records and engine snapshots, in one SQLite or PostgreSQL.

Tables (beside the journal's ``omsim_journal``):

- ``omsim_idempotency``: ``key`` (primary key), the request's fingerprint,
  the stored response (status and JSON body) and when it was made; a retry
  with the key gets exactly that response.
- ``omsim_snapshot``: the :class:`~omsim.engine.live.LiveEngine`'s state at a
  sequence number, in the versioned format of :mod:`omsim.engine.snapshot`
  (no pickles); seq 0 is the state before the first event (the stock the
  service first started with), so after the first start the database alone
  is the truth (with the scenario's network, carriers and policies). A later
  snapshot it cannot read (another format version, damaged) is skipped: the
  whole journal is replayed from seq 0 instead.

The writer is unique: on PostgreSQL it holds a session advisory lock, on
SQLite an exclusive lock on a file beside the database; a second writer
refuses to start.
"""
from __future__ import annotations

import datetime as _dt
import json
import os

import orjson
import sqlalchemy as sa

from omsim.errors import OmsimError
from omsim.engine.journal import SqlJournal, insert_rows

__all__ = ["Database"]

_LOCK_ID = 0x6F6D73696D   # "omsim": the advisory lock every writer of one database asks for


class Database:
    """The journal plus the service's own tables on one SQLAlchemy engine."""

    def __init__(self, url: str):
        self.url = url
        self.journal = SqlJournal(url)
        self.engine = self.journal.engine
        md = sa.MetaData()
        self.idem = sa.Table(
            "omsim_idempotency", md,
            sa.Column("key", sa.String(255), primary_key=True),
            sa.Column("fingerprint", sa.String(64), nullable=False),
            sa.Column("status", sa.Integer, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        )
        self.snap = sa.Table(
            "omsim_snapshot", md,
            sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("data", sa.LargeBinary, nullable=False),
        )
        md.create_all(self.engine)
        self._lock = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # ------------------------------------------------------------ the one writer
    def lock_writer(self) -> None:
        """Become the only writer of this database, or OmsimError when another one is running."""
        if self.dialect == "postgresql":
            conn = self.engine.connect()
            ok = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_ID}).scalar_one()
            conn.commit()
            if not ok:
                conn.close()
                raise OmsimError(f"another omsim writer holds {self.url.split('@')[-1]}; "
                                 "start this one with --read-only to serve reads")
            self._lock = conn
        else:
            import fcntl

            path = self.engine.url.database
            if not path or path == ":memory:":
                return
            fd = os.open(path + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise OmsimError(f"another omsim writer has {path} open; start this one with --read-only") from None
            self._lock = fd

    def close(self) -> None:
        if self._lock is not None:
            if isinstance(self._lock, int):
                os.close(self._lock)
            else:
                self._lock.close()
            self._lock = None
        self.engine.dispose()

    # ------------------------------------------------------------ snapshots
    def latest_snapshot(self) -> tuple[int, bytes] | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(self.snap.c.seq, self.snap.c.data).order_by(self.snap.c.seq.desc())
                            .limit(1)).first()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def snapshot_at(self, seq: int) -> bytes | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(self.snap.c.data).where(self.snap.c.seq == seq)).first()
        return None if row is None else bytes(row[0])

    def save_snapshot(self, conn, seq: int, data: bytes) -> None:
        conn.execute(self.snap.insert(), {"seq": seq, "created_at": _now(), "data": data})

    # ------------------------------------------------------------ idempotency
    def load_keys(self, hours: float) -> dict[str, tuple[str, int, dict]]:
        """Every kept key -> (fingerprint, status, body); forgets keys older than ``hours``."""
        cutoff = _now() - _dt.timedelta(hours=hours)
        with self.engine.begin() as c:
            c.execute(self.idem.delete().where(self.idem.c.created_at < cutoff))
            rows = c.execute(sa.select(self.idem.c.key, self.idem.c.fingerprint, self.idem.c.status,
                                       self.idem.c.body)).all()
        return {r[0]: (r[1], int(r[2]), json.loads(r[3])) for r in rows}

    def save_keys(self, conn, records: list[tuple[str, str, int, dict]]) -> None:
        if records:
            bind = self.idem.c.created_at.type.bind_processor(conn.dialect)    # as SQLAlchemy would store it
            now = _now() if bind is None else bind(_now())
            insert_rows(conn, self.idem, [(k, f, s, _json(b), now) for k, f, s, b in records])

    def forget_keys(self, hours: float) -> None:
        with self.engine.begin() as c:
            c.execute(self.idem.delete().where(self.idem.c.created_at < _now() - _dt.timedelta(hours=hours)))


def _json(body) -> str:
    """A stored response as the client got it (orjson renders the responses too; NaN and infinities as null)."""
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode()


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)
