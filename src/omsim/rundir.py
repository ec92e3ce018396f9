"""Run directories: written atomically, described by their ``manifest.json``.

Every command that writes a directory (``simulate``, ``plan``, ``sweep``,
``report``) writes through :func:`run_directory`: the files go into a
temporary sibling (``.NAME.tmp-<pid>-...``, removed by the next run if its
process was killed), and only when all of them are complete
is ``manifest.json`` written and the directory renamed into place. An
interrupted or failed command therefore leaves the old directory or none,
never a half-written one; a directory that has a ``manifest.json`` is
complete.

The manifest (top-level keys):

``omsim_version``, ``command`` (the command line as a list), ``scenario``
(``name``, ``source`` file, ``sha256`` of the saved effective
``scenario.yaml``), ``seed``, ``days``, ``replications``, ``overrides`` (the
options that changed the scenario), ``started_at``, ``finished_at`` (UTC,
ISO 8601) and ``files``: every file of the directory but the manifest, by
relative path, with its ``sha256``, ``bytes`` and ``rows`` (data lines of a
CSV, rows of a Parquet file, else null).

:func:`verify` checks a directory against its manifest; ``report`` and
``compare`` refuse a directory that fails it.
"""
from __future__ import annotations

import datetime as _dt
import glob
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from omsim.errors import OmsimError

__all__ = ["MANIFEST", "RunDir", "run_directory", "update_run_directory", "verify", "read_manifest",
           "auto_dir", "save_scenario", "effective_raw", "write_text_atomic", "check_out_file"]

MANIFEST = "manifest.json"
#: Where ``simulate`` puts a run without ``--out``: ``runs/NAME/<timestamp>``, ``runs/NAME/latest`` the newest.
RUNS_ROOT = Path("runs")
LATEST = "latest"


# ------------------------------------------------------------------ signals
@contextmanager
def _no_interrupt() -> Iterator[None]:
    """Hold Ctrl-C back until the block ends, so a rename pair or a clean-up runs to its end.

    (A signal mask would not do: SIGINT may be delivered to any thread, e.g. a
    BLAS one, and Python then raises in the main thread all the same.)
    """
    if not _main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, None)


def _main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


# ------------------------------------------------------------------ files
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _normalise_modes(root: Path) -> None:
    """Files 0666 and directories 0777 less the umask (temp files and dirs start 0600/0700)."""
    mask = _umask()
    os.chmod(root, 0o777 & ~mask)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o777 & ~mask)
        for f in filenames:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                os.chmod(p, 0o666 & ~mask)


def _describe(path: Path) -> dict:
    """sha256, size and row count of one file, read once."""
    h = hashlib.sha256()
    newlines = 0
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            newlines += chunk.count(b"\n")
            size += len(chunk)
            last = chunk[-1:]
    rows = None
    if path.suffix == ".csv":
        lines = newlines + (1 if size and last != b"\n" else 0)
        rows = max(lines - 1, 0)  # data lines under the header
    elif path.suffix == ".parquet":
        rows = _parquet_rows(path)
    return {"sha256": h.hexdigest(), "bytes": size, "rows": rows}


def _parquet_rows(path: Path) -> int | None:
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a dependency where Parquet is written
        return None
    return int(pq.ParquetFile(path).metadata.num_rows)


def _listing(root: Path) -> dict[str, dict]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink() and p.name != MANIFEST:
            out[p.relative_to(root).as_posix()] = _describe(p)
    return out


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write a single file through a temporary sibling and a rename (mode 0666 less the umask)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with _no_interrupt():
            Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_out_file(path: str | Path, option: str = "--out") -> None:
    """Refuse a single output file that cannot be written, before any work starts."""
    p = Path(path)
    if p.is_dir():
        raise OmsimError(f"{option} {p}: is a directory, expected a file name", file=str(p))
    parent = p.absolute().parent
    if not parent.is_dir():
        raise OmsimError(f"{option} {p}: the directory {parent} does not exist", file=str(p))
    if not os.access(parent, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise OmsimError(f"{option} {p}: not writable", file=str(p))


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# ------------------------------------------------------------------ the scenario saved with a run
def effective_raw(scenario, *, seed: int | None = None, days: int | None = None) -> tuple[dict, dict[str, Path]]:
    """The scenario mapping as run (``seed`` and ``horizon.days`` set) and the CSV files it references.

    A generated catalogue gets the seed it was drawn with (the file's), so a
    ``--seed`` override does not change it when the saved scenario is rerun.

    CSV references are rewritten to ``inputs/<name>`` so the run directory
    carries its inputs; the returned mapping gives each such relative path
    the file to copy there.
    """
    raw = scenario.raw()
    gen = (raw.get("catalogue") or {}).get("generator") if isinstance(raw.get("catalogue"), dict) else None
    if isinstance(gen, dict) and gen.get("seed") is None:
        gen["seed"] = int(scenario.seed)  # the catalogue was drawn with the file's seed, not the run's
    if seed is not None:
        raw["seed"] = int(seed)
    if days is not None:
        raw.setdefault("horizon", {})
        if not isinstance(raw["horizon"], dict):
            raw["horizon"] = {}
        raw["horizon"]["days"] = int(days)
    base = scenario._base_dir or Path.cwd()
    inputs: dict[str, Path] = {}
    taken: set[str] = set()

    def relink(holder: dict, key: str, resolved: str | None = None) -> None:
        ref = resolved or holder.get(key)
        if not isinstance(ref, str) or not ref:
            return
        src = Path(ref) if Path(ref).is_absolute() else base / ref
        src = src.resolve()
        for rel, known in inputs.items():
            if known == src:
                holder[key] = rel
                return
        name, k = src.name, 1
        while name in taken:
            k += 1
            name = f"{src.stem}-{k}{src.suffix}"
        taken.add(name)
        rel = f"inputs/{name}"
        inputs[rel] = src
        holder[key] = rel

    if isinstance(raw.get("catalogue"), dict):
        relink(raw["catalogue"], "file")
    if isinstance(raw.get("demand"), dict):
        relink(raw["demand"], "regions_file")
        history = getattr(scenario.demand, "history", None)
        if isinstance(history, str):  # the candidate file found on load (an absolute path)
            relink(raw["demand"], "history", history)
    for wh in (raw.get("network") or {}).get("warehouses") or []:
        for part in ("stock", "slotting"):
            if isinstance(wh, dict) and isinstance(wh.get(part), dict):
                relink(wh[part], "file")
    return raw, inputs


def save_scenario(out_dir: str | Path, scenario, *, seed: int | None = None, days: int | None = None,
                  name: str = "scenario.yaml") -> Path:
    """Write the effective scenario (and copies of its CSV inputs) into ``out_dir``.

    ``omsim simulate out_dir/scenario.yaml`` then runs exactly what was run.
    """
    import yaml

    out = Path(out_dir)
    raw, inputs = effective_raw(scenario, seed=seed, days=days)
    for rel, src in inputs.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / rel)
    path = out / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# ------------------------------------------------------------------ where a run goes
def auto_dir(name: str, root: str | Path = RUNS_ROOT) -> Path:
    """A new ``root/NAME/<UTC timestamp>`` directory path (``-2``, ``-3``... when taken)."""
    parent = Path(root) / _safe_name(name)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    cand, k = parent / stamp, 1
    while cand.exists() or cand.is_symlink():
        k += 1
        cand = parent / f"{stamp}-{k}"
    return cand


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "-" for c in str(name)).strip(".")
    return keep or "run"


def _check_target(out: Path, overwrite: bool, option: str) -> None:
    """Refuse an unusable destination before any work starts."""
    if out.is_symlink() and not out.exists():
        raise OmsimError(f"{option} {out}: is a dangling symbolic link", file=str(out))
    if out.exists() and not out.is_dir():
        raise OmsimError(f"{option} {out}: exists and is not a directory", file=str(out))
    if out.is_dir() and any(out.iterdir()):
        flag = "--overwrite" if option.startswith("--") else "overwrite=True"
        if not overwrite:
            raise OmsimError(f"{option} {out}: the directory exists and is not empty; "
                             f"pass {flag} to replace it whole, or choose another {option}", file=str(out))
        if not (out / MANIFEST).exists():
            raise OmsimError(f"{option} {out}: not an omsim run directory (no {MANIFEST}), so {flag} "
                             f"will not delete it; remove it yourself or choose another {option}", file=str(out))


# ------------------------------------------------------------------ the writer
@dataclass
class RunDir:
    """A run directory being written: write into :attr:`path`; :attr:`final` is where it will be.

    ``meta`` holds the manifest's descriptive keys (``seed``, ``days``,
    ``replications``, ``scenario``, ``overrides`` ...); set them while writing.
    """

    path: Path
    final: Path
    meta: dict = field(default_factory=dict)
    latest: Path | None = None

    def describe_scenario(self, scenario, *, seed: int | None = None, days: int | None = None,
                          saved: str = "scenario.yaml") -> None:
        """Save the effective scenario into the directory and record it in the manifest."""
        path = save_scenario(self.path, scenario, seed=seed, days=days, name=saved)
        self.meta["scenario"] = {"name": scenario.name, "source": scenario.source,
                                 "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


@contextmanager
def run_directory(out: str | Path, *, overwrite: bool = False, option: str = "--out",
                  meta: dict | None = None, latest: bool = False) -> Iterator[RunDir]:
    """Write a run directory atomically.

    Parameters
    ----------
    out
        The directory to create (or, with ``overwrite``, to replace whole).
    overwrite
        Replace an existing non-empty run directory; without it, one is refused.
    option
        The CLI option that named ``out`` (for messages).
    meta
        Manifest keys known up front (``seed``, ``days``, ``replications``, ``command``
        (default ``sys.argv``), ...).
    latest
        Point a ``latest`` symbolic link beside ``out`` at it when done.

    Yields
    ------
    RunDir
        ``path`` is the temporary directory to write into.

    Raises
    ------
    OmsimError
        ``out`` is a file, is not empty (without ``overwrite``), is not a run
        directory, or cannot be created: all before anything is written.
    """
    final = Path(out)
    _check_target(final, overwrite, option)
    if final.is_symlink():  # e.g. runs/NAME/latest: write the directory it points at, keep the link
        final = final.resolve()
    parent = final.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(parent, final.name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-{os.getpid()}-", dir=parent))
    except OSError as exc:
        raise OmsimError(f"{option} {final}: cannot create the directory ({exc.strerror or exc})",
                         file=str(final)) from None
    rd = RunDir(path=tmp, final=final, latest=(parent / LATEST) if latest else None)
    rd.meta.update({"omsim_version": _version(), "command": _command(), "started_at": _now()})
    rd.meta.update(meta or {})
    try:
        yield rd
        _finish(rd, overwrite)
    except BaseException:
        with _no_interrupt():
            shutil.rmtree(tmp, ignore_errors=True)
        raise


_CORE = ("omsim_version", "command", "scenario", "seed", "days", "replications", "overrides", "started_at",
         "finished_at")


def _finish(rd: RunDir, overwrite: bool) -> None:
    doc = {k: rd.meta.get(k) for k in _CORE}
    doc.update({k: v for k, v in rd.meta.items() if k not in _CORE and k != "files"})
    try:
        doc["files"] = _listing(rd.path)
        doc["finished_at"] = _now()
        (rd.path / MANIFEST).write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
        _normalise_modes(rd.path)
        if rd.latest is not None and (rd.final.exists() or rd.final.is_symlink()):
            rd.final = auto_dir(rd.final.parent.name, rd.final.parent.parent)  # another run took the name
        with _no_interrupt():
            _swap_in(rd.path, rd.final, overwrite)
            if rd.latest is not None:
                _point_latest(rd.latest, rd.final.name)
    except OSError as exc:
        raise OmsimError(f"{rd.final}: cannot write the run directory ({exc.strerror or exc})",
                         file=str(rd.final)) from None


def _remove_stale(parent: Path, name: str) -> None:
    """Delete temporary siblings left by a killed process (``.NAME.tmp-<pid>-*`` of a pid no longer alive)."""
    for p in parent.glob(f".{glob.escape(name)}.tmp-*-*"):
        pid = p.name[len(name) + 6:].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)) and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _swap_in(tmp: Path, final: Path, overwrite: bool) -> None:
    """Rename ``tmp`` to ``final``; an existing ``final`` is moved aside first and deleted after."""
    if final.is_dir() and any(final.iterdir()):
        _check_target(final, overwrite, "--out")  # it may have appeared while we ran
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=tmp.parent))
        os.rename(final, old / final.name)
        os.rename(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        if final.is_dir():
            final.rmdir()
        os.rename(tmp, final)


def _point_latest(link: Path, target: str) -> None:
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        os.replace(tmp, link)
    except OSError:  # a file system without symbolic links: the run itself is complete
        tmp.unlink(missing_ok=True)


def _version() -> str:
    from omsim import __version__
    return __version__


def _command() -> list[str]:
    argv = list(sys.argv)
    if argv and Path(argv[0]).name in ("omsim", "__main__.py", "cli.py"):
        argv[0] = "omsim"
    return argv


# ------------------------------------------------------------------ adding to a finished directory
@contextmanager
def update_run_directory(run_dir: str | Path, *, replace: tuple[str, ...] = (),
                         command: list[str] | None = None) -> Iterator[RunDir]:
    """Add files to a verified run directory atomically (e.g. its report).

    The files of ``run_dir`` are linked (or copied) into a temporary sibling,
    except those under the names in ``replace``; the caller writes the new
    files into it; then a new manifest (the old one's keys, the new file
    list) is written and the directory swapped in whole.
    """
    src = Path(run_dir)
    if src.is_symlink():  # runs/NAME/latest: update the directory it points at, keep the link
        src = src.resolve()
    old = verify(src)
    with run_directory(src, overwrite=True, meta={k: v for k, v in old.items() if k != "files"}) as rd:
        rd.meta["updated_by"] = command or _command()
        rd.meta["updated_at"] = _now()
        for rel in old["files"]:
            if rel.split("/", 1)[0] in replace:
                continue
            dest = rd.path / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src / rel, dest)
            except OSError:
                shutil.copy2(src / rel, dest)
        yield rd


# ------------------------------------------------------------------ reading one back
def read_manifest(run_dir: str | Path) -> dict:
    """The manifest of ``run_dir`` (not checked against the files; see :func:`verify`)."""
    d = Path(run_dir)
    if not d.is_dir():
        what = "is not a directory" if d.exists() else "no such run directory"
        raise OmsimError(f"{d}: {what} (expected the --out directory of omsim simulate)", file=str(d))
    m = d / MANIFEST
    if not m.exists():
        raise OmsimError(f"{d}: no {MANIFEST}: not a complete run directory (interrupted, or written by "
                         f"something other than the omsim CLI); run it again", file=str(m))
    try:
        doc = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OmsimError(f"{m}: damaged manifest, not valid JSON ({exc})", file=str(m)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        raise OmsimError(f"{m}: damaged manifest: expected an object with a 'files' mapping", file=str(m))
    return doc


def verify(run_dir: str | Path) -> dict:
    """Check every file listed in the manifest: present, same size and sha256.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    OmsimError
        No manifest, a damaged one, or a file missing or changed (all such
        files are named).
    """
    d = Path(run_dir)
    doc = read_manifest(d)
    problems = []
    for rel, want in doc["files"].items():
        p = d / rel
        if not p.is_file():
            problems.append(f"{p}: missing")
            continue
        if not isinstance(want, dict) or "sha256" not in want:
            problems.append(f"{d / MANIFEST}: files.{rel}: no sha256")
            continue
        if p.stat().st_size != want.get("bytes", p.stat().st_size) or _describe(p)["sha256"] != want["sha256"]:
            problems.append(f"{p}: changed since it was written (sha256 does not match {MANIFEST})")
    if problems:
        raise OmsimError(f"{d}: damaged run directory, {len(problems)} problem(s):\n  " + "\n  ".join(problems),
                         file=str(d), errors=problems)
    return doc
