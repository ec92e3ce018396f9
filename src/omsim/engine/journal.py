"""The journal: an append-only, numbered record of every committed state change.

An :class:`Event` records an **outcome** (what was decided and committed:
which node ships which units, by which service, promised when), never a
command to re-run, because the solvers behind a decision run with time limits
and may decide differently a second time.  Each event has a stable ``type``
name (``"order.committed"``, not a module path), a schema ``version``, a
sequence number ``seq`` (1, 2, 3, ... with no gaps), the engine hour it takes
effect at (``at_h``) and the wall-clock instant the journal recorded it
(``recorded_at``, UTC, set by the journal, never by a caller).

Stores (one class per kind of persistence, the same contract):

- :class:`MemoryJournal`: a list, for the simulator and tests;
- :class:`SqlJournal`: a table in SQLite (embedded, the default) or
  PostgreSQL, through SQLAlchemy Core. ``seq`` is the primary key, so an
  append that reuses a number fails in the database itself, even from a
  second writer.

:meth:`append` takes events without ``seq`` and numbers them after the last
one; :meth:`append_at` takes the sequence number the caller expects to come
next and refuses otherwise (optimistic concurrency): a writer that has fallen
behind learns it at once instead of writing a fork.

:func:`digest` hashes a state (nested mappings, sequences, NumPy arrays,
numbers, strings) canonically, so a state rebuilt by replay can be compared
with the live one in one string.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from omsim.errors import OmsimError

__all__ = ["Event", "Journal", "JournalConflict", "MemoryJournal", "SqlJournal", "digest", "open_journal"]


class JournalConflict(OmsimError):
    """An append out of sequence: the journal holds other events at that number."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Event:
    """One committed state change (see the module docstring)."""

    type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    at_h: float = 0.0
    version: int = 1
    seq: int = 0
    recorded_at: str = ""

    def __post_init__(self):
        if not self.type or not isinstance(self.type, str):
            raise OmsimError(f"journal event: type must be a non-empty string, got {self.type!r}")
        if not math.isfinite(float(self.at_h)):
            raise OmsimError(f"journal event {self.type}: at_h must be finite, got {self.at_h!r}")

    def to_row(self) -> dict:
        """The event as a flat JSON-ready mapping (``data`` as canonical JSON text)."""
        return {"seq": self.seq, "type": self.type, "version": self.version, "at_h": float(self.at_h),
                "recorded_at": self.recorded_at, "data": _event_text(self.data)}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Event":
        data = row["data"]
        return cls(type=row["type"], data=json.loads(data) if isinstance(data, str) else dict(data),
                   at_h=float(row["at_h"]), version=int(row["version"]), seq=int(row["seq"]),
                   recorded_at=str(row["recorded_at"]))

    def numbered(self, seq: int, recorded_at: str) -> "Event":
        return Event(self.type, self.data, self.at_h, self.version, seq, recorded_at)


class Journal:
    """The contract every store keeps; subclasses implement ``_write``, ``_read`` and ``last_seq``."""

    def last_seq(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _write(self, events: list[Event]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _read(self, after: int, limit: int | None) -> list[Event]:  # pragma: no cover - abstract
        raise NotImplementedError

    def append(self, events: Iterable[Event]) -> list[Event]:
        """Number ``events`` after the last one, stamp them and store them; returns them numbered."""
        return self.append_at(self.last_seq() + 1, events)

    def append_at(self, first_seq: int, events: Iterable[Event]) -> list[Event]:
        """Store ``events`` as ``first_seq, first_seq + 1, ...``; JournalConflict unless that is next."""
        events = list(events)
        last = self.last_seq()
        if first_seq != last + 1:
            raise JournalConflict(f"journal: append at sequence {first_seq}, but the next is {last + 1}")
        stamp = _now()
        out = [e.numbered(first_seq + i, stamp) for i, e in enumerate(events)]
        if out:
            self._write(out)
        return out

    def read(self, after: int = 0, limit: int | None = None) -> list[Event]:
        """Events with ``seq > after``, in order, at most ``limit`` of them."""
        if limit is not None and limit < 0:
            raise OmsimError(f"journal read: limit must be >= 0, got {limit}")
        return self._read(int(after), limit)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.read())

    def __len__(self) -> int:
        return self.last_seq()


class MemoryJournal(Journal):
    """A journal in a Python list."""

    def __init__(self):
        self._events: list[Event] = []

    def last_seq(self) -> int:
        return len(self._events)

    def _write(self, events: list[Event]) -> None:
        self._events.extend(events)

    def _read(self, after: int, limit: int | None) -> list[Event]:
        out = self._events[max(after, 0):]
        return out if limit is None else out[:limit]


class SqlJournal(Journal):
    """A journal in a database table (``omsim_journal``), SQLite or PostgreSQL, via SQLAlchemy Core.

    Parameters
    ----------
    url
        A SQLAlchemy URL: ``sqlite:///path.db`` (WAL mode is switched on),
        ``sqlite://`` (memory) or ``postgresql+psycopg://...``.
    """

    def __init__(self, url: str):
        import sqlalchemy as sa

        self._sa = sa
        try:
            self.engine = sa.create_engine(url, future=True)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise OmsimError(f"journal: cannot use database {url!r}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        md = sa.MetaData()
        self.table = sa.Table(
            "omsim_journal", md,
            sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("type", sa.String(64), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("at_h", sa.Float, nullable=False),
            sa.Column("recorded_at", sa.String(40), nullable=False),
            sa.Column("data", sa.Text, nullable=False),
        )
        md.create_all(self.engine)

    def last_seq(self) -> int:
        sa = self._sa
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.coalesce(sa.func.max(self.table.c.seq), 0))).scalar_one())

    def _write(self, events: list[Event]) -> None:
        sa = self._sa
        try:
            with self.engine.begin() as c:
                c.execute(self.table.insert(), [e.to_row() for e in events])
        except sa.exc.IntegrityError:
            raise JournalConflict(f"journal: sequence {events[0].seq} was written by another writer") from None

    def write_in(self, connection, events: list[Event]) -> None:
        """Insert numbered ``events`` inside a caller's transaction (one commit with other tables)."""
        insert_rows(connection, self.table, [(e.seq, e.type, e.version, float(e.at_h), e.recorded_at,
                                              _event_text(e.data)) for e in events])

    def _read(self, after: int, limit: int | None) -> list[Event]:
        sa = self._sa
        q = sa.select(self.table).where(self.table.c.seq > after).order_by(self.table.c.seq)
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as c:
            return [Event.from_row(r._mapping) for r in c.execute(q)]

    def close(self) -> None:
        self.engine.dispose()


def insert_rows(connection, table, rows: list[tuple]) -> None:
    """``INSERT`` ``rows`` (one value per column of ``table``, in order, as the driver takes them) with the
    driver's own executemany: a writer inserts a batch per transaction, and SQLAlchemy's per-row parameter
    processing cost more than the insert. Values a column type would convert must be given converted. The
    drivers the project supports take ``?`` (sqlite3) or ``%s`` (psycopg) placeholders."""
    quote = connection.dialect.identifier_preparer.quote
    cols = ", ".join(quote(c.name) for c in table.columns)
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({cols}) VALUES ({', '.join([mark] * len(table.columns))})",
                               rows)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


def open_journal(url: str | None) -> Journal:
    """A memory journal for ``None`` or ``"memory"``, else a :class:`SqlJournal` at ``url``."""
    if url in (None, "", "memory"):
        return MemoryJournal()
    return SqlJournal(url)


# ---------------------------------------------------------------- digest
_SCALARS = (str, int, bool, type(None))


def _plain(x):
    """``x`` with NumPy values turned into JSON-able Python (arrays keep dtype and shape)."""
    t = type(x)             # exact built-in types first: the ABC checks below cost most of a journal write
    if t in _SCALARS or (t is float and math.isfinite(x)):
        return x
    if t is dict:
        return {k if type(k) is str else str(k): _plain(v) for k, v in x.items()}
    if t is list or t is tuple:
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return {"__array__": str(x.dtype), "shape": list(x.shape),
                "sha256": hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()}
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    return x


def _canonical(x) -> str:
    return json.dumps(_plain(x), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _event_text(x) -> str:
    """An event's data as stored: :func:`_canonical`, but plain JSON data (every event's) goes to the C encoder
    alone, a few times quicker (keys sorted, no NaN; the same values read back)."""
    try:
        return json.dumps(x, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):     # NumPy values, non-finite floats, keys of mixed types
        return _canonical(x)


def digest(state) -> str:
    """SHA-256 of ``state`` in a canonical form: equal states, equal digests, whatever the key order."""
    return hashlib.sha256(_canonical(state).encode()).hexdigest()
