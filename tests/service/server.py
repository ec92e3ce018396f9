"""A real ``omsim serve`` process on 127.0.0.1 and a free port, on SQLite or PostgreSQL."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
READ, WRITE, ADMIN = "reader-key-0123456789", "writer-key-0123456789", "admin-key-01234567890"
KEYS = f"{READ}:read,{WRITE}:write,{ADMIN}:admin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process; ``start`` again after ``kill`` reopens the same database."""

    def __init__(self, db: str, tmp: Path, stock: str | None = None, extra=()):
        self.db, self.tmp, self.stock, self.extra = db, tmp, stock, list(extra)
        self.proc = None
        self.port = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self):
        cmd = [sys.executable, "-m", "omsim.cli", "serve", "--db", self.db, "--port", str(self.port)]
        return cmd + (["--stock", self.stock] if self.stock else []) + self.extra

    def start(self, wait: bool = True):
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": SRC, "OMSIM_API_KEYS": KEYS}
        self.log = open(self.tmp / f"server-{self.port}.log", "w")
        self.proc = subprocess.Popen(self.command(), env=env, cwd=self.tmp, stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait()
        return self

    def wait(self, timeout: float = 60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}: {self.logtext()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.logtext()}")

    def logtext(self) -> str:
        self.log.flush()
        return (self.tmp / f"server-{self.port}.log").read_text()[-2000:]

    def kill(self):
        """kill -9: no shutdown, no flush."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, key: str = WRITE) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh database of each kind (PostgreSQL from the throw-away cluster)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.db'}"
    return request.getfixturevalue("pg_url").replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def make_server(tmp_path):
    servers = []

    def make(db, stock=None, extra=(), start=True):
        s = Server(db, tmp_path, stock, extra)
        servers.append(s)
        return s.start() if start else s
    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def server(make_server, tmp_path):
    """A server on SQLite with the default scenario's stock."""
    return make_server(f"sqlite:///{tmp_path / 'live.db'}")


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server for a module's tests that only look at what their own requests did."""
    tmp = tmp_path_factory.mktemp("shared")
    s = Server(f"sqlite:///{tmp / 'live.db'}", tmp).start()
    yield s
    s.stop()


def order_body(order_id: str, sku: str = "SKU00001", qty: int = 1, region: str = "new-york", **kw) -> dict:
    return {"order_id": order_id, "lines": [{"sku": sku, "qty": qty}], "ship_to": {"region": region}, **kw}
