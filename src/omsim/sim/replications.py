"""Independent replications of a run, with mean and 95 % confidence interval per KPI."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from omsim.kpis import clip_ci
from omsim.stats import t_quantile

@dataclass
class Replications:
    """R replications of a scenario.

    Attributes
    ----------
    kpis
        One row per replication (column ``replication`` first), one column per KPI.
    summary
        One row per KPI: ``mean, std, half_width, low, high, n`` (95 % CI, Student's t).
    results
        The individual :class:`~omsim.sim.result.Result` objects (when kept).
    scenario, seed, days
        What was run (saved with the run directory as its effective ``scenario.yaml``).
    """

    kpis: pd.DataFrame
    summary: pd.DataFrame
    results: list

    scenario: object = None
    seed: int | None = None
    days: int | None = None

    def write(self, out_dir, *, overwrite: bool = False):
        """Write the run directory ``out_dir`` atomically with its ``manifest.json``
        (see :mod:`omsim.rundir` and :meth:`write_files`); an existing non-empty one
        is refused unless ``overwrite``."""
        from omsim.rundir import run_directory

        meta = {"seed": self.seed, "days": self.days, "replications": int(len(self.kpis))}
        with run_directory(out_dir, overwrite=overwrite, option="out_dir", meta=meta) as rd:
            self.write_files(rd.path)
        return rd.final

    def write_files(self, out_dir):
        """Write ``replications.csv`` (one row per replication), ``summary.csv``
        (mean, std, 95 % CI per KPI), ``kpis.json`` (the means, flat, like a
        single run's, so reports read either) and the effective ``scenario.yaml``
        into the existing directory ``out_dir``."""
        from pathlib import Path

        from omsim.sim.result import kpis_json
        out = Path(out_dir)
        self.kpis.to_csv(out / "replications.csv", index=False, float_format="%.9g")
        self.summary.to_csv(out / "summary.csv", index_label="kpi", float_format="%.9g")
        means = {k: float(v) for k, v in self.summary["mean"].items()}
        means["replications"] = int(len(self.kpis))
        (out / "kpis.json").write_text(kpis_json(means), encoding="utf-8")
        if self.scenario is not None and hasattr(self.scenario, "raw"):
            from omsim.rundir import save_scenario
            save_scenario(out, self.scenario, seed=self.seed, days=self.days)
        return out


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and 95 % CI (half-width; ``low``/``high`` clipped to a rate's [0, 1]) of every numeric column."""
    rows = {}
    for c in frame.columns:
        if c == "replication" or not pd.api.types.is_numeric_dtype(frame[c]):
            continue
        x = frame[c].to_numpy(dtype=np.float64)
        x = x[np.isfinite(x)]
        k = x.size
        mean = float(x.mean()) if k else float("nan")
        sd = float(x.std(ddof=1)) if k > 1 else float("nan")
        hw = t_quantile(0.975, k - 1) * sd / math.sqrt(k) if k > 1 else float("nan")
        low, high = clip_ci(c, mean - hw, mean + hw)   # a rate's interval stays in [0, 1]
        rows[c] = {"mean": mean, "std": sd, "half_width": hw, "low": low, "high": high, "n": k}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "std", "half_width", "low", "high", "n"])


def replicate(scenario, replications: int, seed: int | None = None, days: int | None = None, progress=None,
              keep_results: bool = False, on_orders=None, stream_to=None, format: str = "parquet") -> Replications:
    """Run ``replications`` independent replications.

    Replication ``r`` uses the independent streams ``Streams(seed, replication=r)``;
    a scenario variant run with the same seed sees the same demand in each
    replication (common random numbers across variants).

    Parameters
    ----------
    scenario
        A validated scenario.
    replications
        Number of replications (>= 1).
    seed
        The seed; the scenario's ``seed`` when None.
    days
        Horizon override.
    progress
        Optional ``callable(done, total)`` over replication-days.
    keep_results
        Keep each replication's full :class:`Result` (memory!).
    on_orders
        Optional ``callable(orders_decided, orders_total)`` over all replications' orders (the total
        assumes each replication has as many orders as the one running).
    stream_to
        A directory: replication ``r`` streams its orders, events and ledger (``format``: ``parquet``
        or ``csv``) to ``replication-<r>/`` in it as it runs, in bounded memory (:mod:`omsim.sim.stream`);
        the KPIs are those of the in-memory replications.

    Returns
    -------
    Replications
    """
    from omsim.errors import OmsimError
    from omsim.sim.model import Simulation

    if int(replications) < 1:
        raise OmsimError(f"replications must be at least 1, got {replications}")
    from omsim.sim.guard import check_run

    seed = scenario.seed if seed is None else int(seed)
    R = int(replications)
    check_run(scenario, scenario.horizon.days if days is None else int(days), R, streamed=stream_to is not None)
    rows, results = [], []
    if stream_to is not None:
        from pathlib import Path

        from omsim.sim.stream import Sink

        # Every replication's directory first: a bad format or directory is refused before any run.
        sinks = [Sink(Path(stream_to) / f"replication-{r}", format) for r in range(R)]
    for r in range(R):
        prog = None
        if progress is not None:
            prog = (lambda d, D, r=r: progress(r * D + d, R * D))
        on = None if on_orders is None else (lambda k, m, r=r: on_orders(r * m + k, R * m))
        res = Simulation(scenario, seed, days, replication=r, progress=prog, on_orders=on,
                         sink=None if stream_to is None else sinks[r]).run()
        rows.append({"replication": r, **res.kpis})
        if keep_results:
            results.append(res)
    frame = pd.DataFrame(rows)
    days = int(days) if days is not None else int(scenario.horizon.days)
    return Replications(kpis=frame, summary=summarise(frame), results=results, scenario=scenario, seed=seed,
                        days=days)
