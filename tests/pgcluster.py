"""A throw-away PostgreSQL cluster for the tests: initdb in a temporary directory, a Unix socket, no TCP.

Debian's ``postgresql`` package provides the server (``.ci/run`` installs it
when missing). PostgreSQL refuses to run as root, so as root the cluster runs
as the ``postgres`` system user the package creates. :func:`start` returns
``None`` with the reason when no server can be had, so tests skip clearly.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass


@dataclass
class Cluster:
    root: str
    url: str
    _ctl: list

    def stop(self) -> None:
        subprocess.run(self._ctl + ["stop", "-m", "immediate"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def _bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(found[-1]) if found else None


def start(fsync: bool = False) -> tuple[Cluster | None, str]:
    """Start a cluster; ``(cluster, "")`` or ``(None, why not)``. Tests run it with ``fsync`` off (fast, not
    crash-safe); a benchmark of durable writes turns it on."""
    bindir = _bindir()
    if bindir is None:
        return None, "no PostgreSQL server installed (Debian package 'postgresql'; .ci/run installs it)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None, "psycopg is not installed"
    as_user: list[str] = []
    root = tempfile.mkdtemp(prefix="omsim-pg-")
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            return None, "running as root and there is no 'postgres' user to run the server as"
        os.chown(root, pw.pw_uid, pw.pw_gid)
        os.chmod(root, 0o700)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, sock = os.path.join(root, "data"), root
    init = subprocess.run(as_user + [f"{bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                     "--no-sync"], capture_output=True, text=True, timeout=120)
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        return None, f"initdb failed: {init.stderr.strip()[-300:]}"
    ctl = as_user + [f"{bindir}/pg_ctl", "-D", data, "-s"]
    opts = f"-c listen_addresses='' -k {sock} -c fsync={'on' if fsync else 'off'} -c max_connections=100"
    run = subprocess.run(ctl + ["-o", opts, "-l", os.path.join(root, "log"), "-w", "start"],
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        log = open(os.path.join(root, "log")).read()[-300:] if os.path.exists(os.path.join(root, "log")) else ""
        shutil.rmtree(root, ignore_errors=True)
        return None, f"pg_ctl start failed: {run.stderr.strip()[-200:]} {log}"
    url = f"postgresql+psycopg://postgres@/postgres?host={sock}"
    return Cluster(root, url, ctl), ""


def fresh_database(cluster: Cluster, name: str) -> str:
    """Create an empty database ``name`` in ``cluster``; its SQLAlchemy URL."""
    import psycopg

    with psycopg.connect(host=cluster.root, user="postgres", dbname="postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@/{name}?host={cluster.root}"
