"""Settings of ``omsim serve``: where the database is, which keys exist, how long idempotency keys live.

Built once from the command line (and ``OMSIM_API_KEYS`` in the environment);
validated here, at the boundary, so the rest of the service trusts them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from omsim.errors import OmsimError

__all__ = ["ROLES", "Settings", "database_url", "parse_keys"]

#: Roles in increasing power: a key may do what its role and every role before it may.
ROLES = ("read", "write", "admin")
DEFAULT_DB = "sqlite:///omsim-live.db"


def database_url(url: str | None) -> str:
    """The SQLAlchemy URL for ``--db``: ``postgresql://`` goes through the psycopg driver."""
    url = (url or DEFAULT_DB).strip()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if not (url.startswith("sqlite:") or url.startswith("postgresql+psycopg://")):
        raise OmsimError(f"--db: expected sqlite:///FILE or postgresql://..., got {url!r}")
    return url


def parse_keys(text: str, what: str) -> dict[str, str]:
    """``key:role`` items separated by commas or new lines (``#`` starts a comment) -> {key: role}."""
    keys: dict[str, str] = {}
    items = [p.strip() for line in text.splitlines() for p in line.split("#", 1)[0].split(",")]
    for n, item in enumerate((i for i in items if i), start=1):
        key, sep, role = item.rpartition(":")
        if not sep or not key:
            raise OmsimError(f"{what}: item {n}: expected KEY:ROLE (role one of {', '.join(ROLES)})")
        if role not in ROLES:
            raise OmsimError(f"{what}: item {n}: unknown role {role!r}; expected one of {', '.join(ROLES)}")
        if len(key) < 16:
            raise OmsimError(f"{what}: item {n}: a key must be at least 16 characters long")
        keys[key] = role
    return keys


@dataclass
class Settings:
    """Everything the service needs to start (see ``omsim serve --help``)."""

    scenario: str | None = None
    db: str = DEFAULT_DB
    stock: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    read_only: bool = False
    idempotency_hours: float = 48.0      # kept at least 24 h, as promised
    snapshot_every: int = 50_000         # events between snapshots: a restart replays at most these (~15,000/s)
    batch_max: int = 256                 # commands per transaction at most
    commit_delay_s: float = 0.0005        # under load, wait this long for more commands to share a commit
    commit_siblings_s: float = 0.005     # ... "under load": the previous commit ended less than this ago
    collect_when_idle: bool = False      # the writer runs the full cyclic collections, when idle (serve: on)
    tail_s: float = 0.2                  # how often a read-only server reads the journal
    price_refresh_s: float | None = None  # lookahead prices: seconds between refreshes (None: lookahead_refresh_h)

    @classmethod
    def load(cls, scenario=None, db=None, stock=None, keys_file=None, read_only=False, env=None) -> "Settings":
        """Settings from the CLI options and ``OMSIM_API_KEYS``; refuses to run without any key."""
        env = os.environ if env is None else env
        keys: dict[str, str] = {}
        if keys_file:
            p = Path(keys_file)
            if not p.is_file():
                raise OmsimError(f"--keys: file {keys_file} not found")
            keys.update(parse_keys(p.read_text(), f"--keys {keys_file}"))
        if env.get("OMSIM_API_KEYS"):
            keys.update(parse_keys(env["OMSIM_API_KEYS"], "OMSIM_API_KEYS"))
        if not keys:
            raise OmsimError("no API keys: give --keys FILE or OMSIM_API_KEYS='key:role,...' "
                             "(roles read, write, admin); only /health is open")
        return cls(scenario=scenario, db=database_url(db), stock=stock, keys=keys, read_only=bool(read_only))
