"""Scenario grids x replications, run on an executor: in process, local processes or Dask.

A sweep varies scenario fields (``--set network.warehouses[0].pickers=8,10,12``;
``[*]`` sets the field on every item of a list) over the full grid of their
values and runs every grid point for ``R`` replications. Each task is self-contained — the scenario as loaded (a plain
mapping) plus the grid point's overrides, the seed, the replication and the
horizon — so any executor can run it and returns one row of KPIs.

Randomness: replication ``r`` of every grid point uses the same seed and
replication index, hence the same random streams (common random numbers: a
difference between grid points is the change, not noise), and no task's
numbers depend on which worker ran it, in which order, or how many workers
there were. Rows come back sorted by (grid point, replication), so the local
process pool and a Dask cluster give identical tables.

Dask (``distributed``) is imported only when a scheduler is used: it is how
users who outgrow one machine scale out. Workers on other machines need the
scenario's CSV files at the same paths (a shared file system).
"""
from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from omsim.errors import OmsimError
from omsim.scenario import Scenario, apply_overrides, expand_wildcards, load_scenario, scenario_from_dict

__all__ = [
    "Factor", "SweepTask", "SweepResult", "parse_set", "expand_grid", "make_tasks",
    "run_task", "run_tasks", "run_sweep", "simulate_kpis", "check_kpis", "summarise", "expand_wildcards", "ID_COLUMNS",
]

#: Columns of a results table that identify a row rather than measure something.
ID_COLUMNS: tuple[str, ...] = ("point", "replication", "seed", "days")

Progress = Callable[[int, int], None]

#: Seconds to wait for a Dask scheduler before giving up.
DASK_CONNECT_TIMEOUT_S = 10.0


# ------------------------------------------------------------------ the grid
@dataclass(frozen=True)
class Factor:
    """One swept field: a scenario path and the values it takes, in the order given."""

    path: str
    values: tuple


def parse_set(spec: str) -> Factor:
    """Parse ``path=v1,v2,...`` with YAML-typed values.

    The right-hand side is read as a YAML flow sequence, so ``8,10,12`` are
    integers, ``nearest,cheapest`` strings, ``true,false`` booleans and
    ``[6,180],[10,200]`` two lists.

    Raises
    ------
    OmsimError
        No ``=``, an empty path or value list, or values that are not YAML.
    """
    if "=" not in spec:
        raise OmsimError(f"--set {spec!r}: expected PATH=VALUE[,VALUE...], e.g. network.warehouses[0].pickers=8,10,12")
    path, rhs = spec.split("=", 1)
    path = path.strip()
    if not path:
        raise OmsimError(f"--set {spec!r}: the field path before '=' is empty")
    if not rhs.strip():
        raise OmsimError(f"--set {spec!r}: no values after '='")
    try:
        values = yaml.safe_load("[" + rhs + "]")
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise OmsimError(f"--set {spec!r}: the values are not valid YAML ({problem})") from None
    if any(v is None for v in values):
        raise OmsimError(f"--set {spec!r}: empty value in the list (two commas in a row?)")
    return Factor(path, tuple(values))


def expand_grid(factors: Sequence[Factor]) -> list[dict[str, Any]]:
    """Every combination of factor values, first factor slowest; one empty point without factors.

    Raises
    ------
    OmsimError
        The same path swept twice.
    """
    paths = [f.path for f in factors]
    dup = sorted({p for p in paths if paths.count(p) > 1})
    if dup:
        raise OmsimError(f"--set: field {dup[0]} is given more than once; list all its values in one --set")
    return [dict(zip(paths, combo)) for combo in itertools.product(*(f.values for f in factors))]


# ------------------------------------------------------------------ tasks
@dataclass(frozen=True)
class SweepTask:
    """Everything one run needs, picklable, independent of the executor.

    ``raw`` is the scenario as loaded (before CSV resolution); ``base_dir``
    resolves its CSV references; ``overrides`` are the grid point's fields.
    """

    point: int
    replication: int
    seed: int
    days: int
    raw: dict
    overrides: tuple[tuple[str, Any], ...]
    source: str = "<scenario>"
    base_dir: str | None = None

    def scenario(self) -> Scenario:
        """The grid point's validated scenario."""
        raw = json.loads(json.dumps(self.raw, default=str))  # a private copy, plain types
        apply_overrides(raw, dict(self.overrides), source=self.source)
        return scenario_from_dict(raw, source=self.source, base_dir=self.base_dir)


def simulate_kpis(scenario: Scenario, seed: int, replication: int, days: int) -> dict[str, float]:
    """KPIs of one replication (inputs already validated).

    Replication ``r`` with seed ``s`` gives the same numbers as replication
    ``r`` of :func:`omsim.sim.replicate` with seed ``s``, wherever it runs.
    """
    # The model behind omsim.sim.replicate, one replication at a time, so each
    # task is independent of the others and of where it runs.
    from omsim.sim.model import Simulation

    res = Simulation(scenario, int(seed), int(days), replication=int(replication)).run()
    return {k: float(v) for k, v in res.kpis.items() if _is_number(v)}


def check_kpis(names: Sequence[str], known: Sequence[str] | None = None, option: str = "--kpi") -> None:
    """Refuse KPI names that no run produces, before any run starts.

    ``known`` defaults to the simulator's KPIs (:data:`omsim.sim.result.KPI_NAMES`
    less the identifying ``seed`` and ``days``).

    Raises
    ------
    OmsimError
        Naming the first unknown KPI and listing the valid ones.
    """
    if known is None:
        from omsim.sim.result import KPI_NAMES, KPI_OPTIONAL
        known = [k for k in KPI_NAMES + KPI_OPTIONAL if k not in ID_COLUMNS]
    unknown = [k for k in names if k not in known]
    if unknown:
        raise OmsimError(f"{option} {unknown[0]}: not a KPI; valid KPIs: {', '.join(known)}")


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def run_task(task: SweepTask, runner: Callable | None = None) -> dict[str, Any]:
    """Run one task: the row ``{point, replication, seed, days, <overrides>, <KPIs>}``."""
    runner = runner or simulate_kpis
    kpis = runner(task.scenario(), task.seed, task.replication, task.days)
    row: dict[str, Any] = {"point": task.point, "replication": task.replication,
                           "seed": task.seed, "days": task.days}
    for path, value in task.overrides:
        row[path] = _cell(value)
    # The task's own seed and days are authoritative (a model may echo them as KPIs).
    row.update({k: v for k, v in kpis.items() if k not in ID_COLUMNS})
    return row


def _cell(value):
    """A CSV-friendly cell: scalars as they are, lists and mappings as JSON."""
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def make_tasks(scenario: Scenario, points: Sequence[Mapping[str, Any]], replications: int,
               seed: int | None = None, days: int | None = None, *, validate: bool = True) -> list[SweepTask]:
    """Tasks for every grid point x replication, ordered by (point, replication).

    Parameters
    ----------
    scenario
        The loaded base scenario.
    points
        Overrides per grid point (from :func:`expand_grid`).
    replications
        Replications per grid point (>= 1); replication ``r`` uses the same
        seed at every point (common random numbers).
    seed
        Base seed; the scenario's own seed when None.
    days
        Horizon; the scenario's when None.
    validate
        Build each point's scenario once here, so a bad value fails before
        any simulation starts, naming the path.

    Raises
    ------
    OmsimError
        A grid point's scenario is invalid (the message names the field).
    """
    if replications < 1:
        raise OmsimError(f"replications must be at least 1, got {replications}")
    seed = int(scenario.seed if seed is None else seed)
    if seed < 0:
        raise OmsimError(f"seed must be a non-negative integer, got {seed}")
    raw = json.loads(json.dumps(scenario.raw(), default=str))
    base_dir = str(scenario._base_dir) if scenario._base_dir is not None else None
    tasks = []
    for i, point in enumerate(points):
        overrides = tuple(point.items())
        probe = SweepTask(i, 0, seed, 0, raw, overrides, scenario.source, base_dir)
        if validate:
            try:
                sc = probe.scenario()
            except OmsimError as exc:
                shown = ", ".join(f"{p}={v!r}" for p, v in overrides)
                raise OmsimError(f"grid point {i} ({shown}): {exc.message}", file=exc.file,
                                 errors=exc.errors) from None
            horizon = int(days or sc.horizon.days)
        else:
            horizon = int(days or scenario.horizon.days)
        tasks.extend(SweepTask(i, r, seed, horizon, raw, overrides, scenario.source, base_dir)
                     for r in range(replications))
    return tasks


def _check_memory(tasks: Sequence[SweepTask], workers: int) -> None:
    """Refuse a sweep whose largest grid point would not fit in this machine's memory while as many runs as
    there are local workers hold theirs at once (before any run starts; :mod:`omsim.sim.guard`)."""
    from omsim.sim.guard import available_bytes, check_run

    at_once = max(1, min(int(workers), len(tasks)))
    have = available_bytes() / at_once
    for task in tasks:
        if task.replication == 0:
            check_run(task.scenario(), task.days, available=have,
                      fix="fewer --days" + (f" or fewer --workers ({at_once} runs hold their memory at once)"
                                            if at_once > 1 else ""))


# ------------------------------------------------------------------ executors
def run_tasks(tasks: Sequence[SweepTask], *, workers: int = 1, scheduler: Any = None,
              progress: Progress | None = None, runner: Callable | None = None) -> pd.DataFrame:
    """Run tasks and return their rows sorted by (point, replication).

    Parameters
    ----------
    tasks
        From :func:`make_tasks`.
    workers
        Local processes; 1 runs in this process. Ignored with ``scheduler``.
    scheduler
        A Dask scheduler address (``tcp://host:8786``), or a
        ``distributed.Client`` / ``LocalCluster`` object: run on that cluster.
    progress
        Called as ``progress(done, total)`` after each task.
    runner
        ``runner(scenario, seed, replication, days) -> dict`` (picklable for
        other processes); :func:`simulate_kpis` by default.

    Raises
    ------
    OmsimError
        A task raised one (e.g. a scenario problem found at run time), the
        scheduler cannot be reached, or Dask is not installed.
    """
    tasks = list(tasks)
    total = len(tasks)
    if workers < 1:
        raise OmsimError(f"--workers must be at least 1, got {workers}")
    if scheduler is not None:
        rows = _run_dask(tasks, scheduler, progress, runner)
    elif workers == 1 or total <= 1:
        rows = []
        for done, t in enumerate(tasks, start=1):
            rows.append(run_task(t, runner))
            if progress:
                progress(done, total)
    else:
        rows = _run_processes(tasks, workers, progress, runner)
    return _table(rows)


def _run_processes(tasks, workers, progress, runner) -> list[dict]:
    import multiprocessing as mp

    # spawn: workers start clean (no inherited SimPy/BLAS state), and it is the
    # only start method on every platform.
    ctx = mp.get_context("spawn")
    rows = []
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx,
                             initializer=_ignore_sigint) as pool:
        with _workers_born_ignoring_sigint():   # the pool starts its workers while tasks are submitted
            futures = [pool.submit(run_task, t, runner) for t in tasks]
        try:
            for done, fut in enumerate(as_completed(futures), start=1):
                rows.append(fut.result())
                if progress:
                    progress(done, len(tasks))
        except BaseException as exc:
            for f in futures:
                f.cancel()
            if isinstance(exc, KeyboardInterrupt):
                _stop_workers(pool)
            raise
    return rows


def _stop_workers(pool) -> None:
    """Ctrl-C: the workers ignore it (no traceback from each); stop them rather than wait for their runs.

    The pool's own manager thread then finds its workers gone and may complain
    on its way out; that is the stop we asked for, so it is not printed.
    """
    import threading

    previous = threading.excepthook

    def quiet(args):
        if type(args.thread).__name__ != "_ExecutorManagerThread":
            previous(args)
    threading.excepthook = quiet
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()


@contextlib.contextmanager
def _workers_born_ignoring_sigint():
    """Ignore Ctrl-C in the parent while it starts workers, so that each is born ignoring it.

    An ignored signal stays ignored across exec, and Python only installs its
    KeyboardInterrupt handler where SIGINT is at its default: a Ctrl-C while a
    worker is still importing (before :func:`_ignore_sigint` runs) then prints
    no traceback from it. The parent's own handler is back before any result is
    awaited.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _ignore_sigint() -> None:
    """Worker start-up: Ctrl-C is the parent's to handle (a terminal sends it to the whole group)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_dask(tasks, scheduler, progress, runner) -> list[dict]:
    try:
        import distributed
    except ImportError:
        raise OmsimError("--scheduler needs Dask: pip install 'dask[distributed]' "
                         "(or omsim[dask])") from None
    own = False
    if isinstance(scheduler, distributed.Client):
        client = scheduler
    else:
        address = getattr(scheduler, "scheduler_address", scheduler)  # a LocalCluster object
        try:
            client = distributed.Client(address, timeout=DASK_CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise OmsimError(f"--scheduler {address}: cannot connect to the Dask scheduler ({exc})") from None
        own = True
    try:
        # pure=False: tasks are cheap to describe but must each run, never be
        # deduplicated by Dask's hashing of equal-looking arguments.
        futures = client.map(run_task, tasks, runner=runner, pure=False)
        rows = []
        for done, fut in enumerate(distributed.as_completed(futures, loop=client.loop), start=1):
            rows.append(fut.result())
            if progress:
                progress(done, len(tasks))
        return rows
    finally:
        if own:
            client.close()


def _table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    return df.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------ the sweep
@dataclass
class SweepResult:
    """A finished sweep: one row per grid point and replication, and how it was made."""

    table: pd.DataFrame
    factors: list[Factor]
    scenario: str
    seed: int
    days: int
    replications: int
    meta: dict = field(default_factory=dict)
    currency: str = ""

    @property
    def kpi_columns(self) -> list[str]:
        """The KPI columns of :attr:`table`."""
        skip = set(ID_COLUMNS) | {f.path for f in self.factors}
        return [c for c in self.table.columns if c not in skip]

    def summary(self, kpis: Sequence[str] | None = None) -> pd.DataFrame:
        """Mean and 95% CI half-width of each KPI per grid point (see :func:`summarise`)."""
        return summarise(self.table, [f.path for f in self.factors], kpis or self.kpi_columns)

    def write(self, out_dir: str | Path, *, kpis: Sequence[str] | None = None, figure: bool = True,
              overwrite: bool = False) -> dict[str, Path]:
        """Write the run directory ``out_dir`` atomically with its ``manifest.json``
        (see :mod:`omsim.rundir` and :meth:`write_files`); an existing non-empty one
        is refused unless ``overwrite``. Returns the files' final paths by role."""
        from omsim.rundir import run_directory

        with run_directory(out_dir, overwrite=overwrite, option="--out", meta=self.manifest_meta()) as rd:
            paths = self.write_files(rd.path, kpis=kpis, figure=figure)
        return {k: rd.final / p.relative_to(rd.path) for k, p in paths.items()}

    def manifest_meta(self) -> dict:
        """The run directory manifest's keys for this sweep."""
        return {"seed": self.seed, "days": self.days, "replications": self.replications,
                "overrides": {f.path: list(f.values) for f in self.factors}}

    def write_files(self, out: Path, *, kpis: Sequence[str] | None = None, figure: bool = True) -> dict[str, Path]:
        """Write ``results.csv``, ``summary.csv``, ``sweep.json`` and (with factors) ``sweep.png`` into ``out``."""
        paths = {"results": out / "results.csv", "summary": out / "summary.csv", "meta": out / "sweep.json"}
        self.table.to_csv(paths["results"], index=False)
        self.summary().to_csv(paths["summary"], index=False)
        paths["meta"].write_text(json.dumps({
            "scenario": self.scenario, "seed": self.seed, "days": self.days,
            "replications": self.replications,
            "factors": [{"path": f.path, "values": list(f.values)} for f in self.factors],
            **self.meta}, indent=2, default=str))
        if figure and self.factors and len(self.table):
            from omsim.report.sweep_plot import plot_sweep, save

            chosen = list(kpis or default_kpis(self.kpi_columns))
            fig = plot_sweep(self.summary(chosen), [f.path for f in self.factors], chosen, currency=self.currency)
            paths["figure"] = save(fig, out / "sweep.png")
        return paths


#: KPIs printed and plotted when none are chosen (those present, in this order): service and cost,
#: and the volumes a capacity change moves (orders shipped, the backlog left, late orders).
DEFAULT_KPIS = ("cost_per_order", "on_time_rate", "fill_rate", "picker_utilisation", "orders_shipped", "backlog",
                "late_orders")


def default_kpis(available: Sequence[str]) -> list[str]:
    """:data:`DEFAULT_KPIS` that are in ``available`` (else its first four)."""
    chosen = [k for k in DEFAULT_KPIS if k in available]
    return chosen or list(available[:4])


def summarise(table: pd.DataFrame, factor_paths: Sequence[str], kpis: Sequence[str]) -> pd.DataFrame:
    """Per grid point: the factor values, ``n``, and ``<kpi>``, ``<kpi>_ci95`` (t-based half-width)."""
    from omsim.compare import mean_ci

    out = []
    for point, grp in table.groupby("point", sort=True):
        rec: dict[str, Any] = {"point": point}
        for p in factor_paths:
            rec[p] = grp[p].iloc[0]
        rec["n"] = len(grp)
        for k in kpis:
            if k in grp:
                m, h = mean_ci(grp[k].to_numpy(dtype=float))
                rec[k], rec[f"{k}_ci95"] = m, h
        out.append(rec)
    return pd.DataFrame(out)


def run_sweep(scenario: Scenario | str | Path | None, sets: Sequence[str | Factor] = (), *,
              replications: int = 1, seed: int | None = None, days: int | None = None,
              workers: int = 1, scheduler: Any = None, progress: Progress | None = None,
              runner: Callable | None = None) -> SweepResult:
    """Run the grid of ``sets`` x ``replications`` on SCENARIO.

    Parameters
    ----------
    scenario
        A loaded scenario, a YAML path, or None for the bundled default.
    sets
        ``"path=v1,v2"`` strings or :class:`Factor` objects.
    replications, seed, days
        See :func:`make_tasks`.
    workers, scheduler, progress, runner
        See :func:`run_tasks`.

    Returns
    -------
    SweepResult
        ``table`` has one row per grid point and replication, sorted.

    Examples
    --------
    >>> res = run_sweep("scenarios/small-business.yaml",
    ...                 ["network.warehouses[0].pickers=2,3"], replications=2, days=1)  # doctest: +SKIP
    >>> res.table[["network.warehouses[0].pickers", "replication", "on_time_rate"]]  # doctest: +SKIP
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    factors = [s if isinstance(s, Factor) else parse_set(s) for s in sets]
    points = expand_grid(factors)
    tasks = make_tasks(sc, points, replications, seed=seed, days=days)
    if scheduler is None and runner is None:
        _check_memory(tasks, workers)
    table = run_tasks(tasks, workers=workers, scheduler=scheduler, progress=progress, runner=runner)
    used_seed = tasks[0].seed
    horizon = tasks[0].days
    executor = "dask" if scheduler is not None else ("processes" if workers > 1 else "serial")
    return SweepResult(table, factors, sc.source, used_seed, horizon, replications,
                       meta={"executor": executor, "workers": workers, "tasks": len(tasks)}, currency=sc.currency)


def default_workers() -> int:
    """Local processes to use by default: the machine's CPUs (at least 1)."""
    return max(1, os.cpu_count() or 1)
