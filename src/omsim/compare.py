"""A/B comparison of two scenarios or run directories, with confidence intervals.

Each side is either a scenario file — run here for ``R`` replications — or a
run directory written earlier (``replications.csv``: one row per replication
with ``replication``, ``seed`` and KPI columns; or a single run's
``kpis.json``). When both sides have replications with the same
(seed, replication) pairs they saw the same random streams (common random
numbers), so the comparison is *paired*: the per-replication differences
B − A carry only the effect of the change, and their mean gets a t-based 95%
confidence interval. Otherwise the comparison falls back to Welch's unpaired
interval. A difference is called significant when its interval excludes zero,
and better or worse by the KPI's direction (:mod:`omsim.kpis`).

The Student t quantile comes from :mod:`omsim.stats` (SciPy).
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omsim.errors import OmsimError
from omsim.kpis import is_kpi, kpi_info, verdict
from omsim.report.format import fmt_delta, fmt_kpi, fmt_number
from omsim.stats import mean_ci, t_cdf, t_quantile

__all__ = [
    "t_cdf", "t_quantile", "mean_ci", "Comparison", "compare_tables", "load_run_table",
    "compare", "is_run_dir",
]


# ================================================================ run tables
_META_COLUMNS = ("point", "replication", "seed", "days")


def is_run_dir(path: str | Path) -> bool:
    """True when ``path`` is a directory holding ``replications.csv`` or ``kpis.json``."""
    p = Path(path)
    return p.is_dir() and ((p / "replications.csv").exists() or (p / "kpis.json").exists())


def load_run_table(path: str | Path) -> pd.DataFrame:
    """A run directory's per-replication KPIs (``replications.csv``, else ``kpis.json`` as one row).

    Raises
    ------
    OmsimError
        Neither file present, unreadable, or a non-numeric KPI value (the
        message names the file, row and column).
    """
    d = Path(path)
    rep, single = d / "replications.csv", d / "kpis.json"
    if rep.exists():
        try:
            df = pd.read_csv(rep)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise OmsimError(f"{rep}: cannot read the replications table ({exc})", file=str(rep)) from None
        if df.empty:
            raise OmsimError(f"{rep}: has no replication rows", file=str(rep))
        errors = []
        for col in list(df.columns):
            conv = pd.to_numeric(df[col], errors="coerce")
            if conv.isna().all():
                df = df.drop(columns=[col])  # a text column (names, notes): not a KPI
                continue
            bad = conv.isna() & df[col].notna()
            for i in np.flatnonzero(bad.to_numpy())[:5]:
                errors.append(f"{rep}: row {i + 2}, column {col}: expected a number, got {df[col].iloc[i]!r}")
            df[col] = conv
        if errors:
            raise OmsimError(f"{rep}: {len(errors)} bad value(s):\n  " + "\n  ".join(errors),
                             file=str(rep), errors=errors)
        return df
    if single.exists():
        try:
            data = json.loads(single.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OmsimError(f"{single}: not valid JSON ({exc})", file=str(single)) from None
        if not isinstance(data, dict):
            raise OmsimError(f"{single}: expected a mapping of KPI names to numbers", file=str(single))
        row = {}
        errors = []
        for k, v in data.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) and v is not None:
                if k in ("seed", "days", "replication"):
                    errors.append(f"{single}: {k}: expected a number, got {v!r}")
                continue  # text metadata (scenario name, ...) is not a KPI
            row[k] = math.nan if v is None else float(v)
        if errors:
            raise OmsimError(errors[0], file=str(single), errors=errors)
        if not row:
            raise OmsimError(f"{single}: holds no numeric KPIs", file=str(single))
        return pd.DataFrame([row])
    if d.is_dir():
        raise OmsimError(f"{d}: is a directory but holds neither replications.csv nor kpis.json "
                         "(expected a run directory from `omsim simulate --out`)", file=str(d))
    raise OmsimError(f"{d}: no such run directory", file=str(d))


def _kpi_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in _META_COLUMNS and is_kpi(c) and pd.api.types.is_numeric_dtype(df[c])]


# ================================================================ comparison
@dataclass
class Comparison:
    """KPIs of A and B side by side with B − A and its confidence interval.

    ``table`` columns: ``kpi, a, b, diff, ci_low, ci_high, rel_diff, n,
    significant, verdict`` (``better``, ``worse`` or ``no difference`` by the
    KPI's direction in :mod:`omsim.kpis`; ``higher``/``lower`` for KPIs
    without one); ``paired`` says whether the intervals come from paired
    replications under common random numbers (else Welch, unpaired).
    """

    table: pd.DataFrame
    paired: bool
    label_a: str
    label_b: str
    confidence: float = 0.95
    n_a: int = 0
    n_b: int = 0
    days_a: float | None = None
    days_b: float | None = None

    currency: str = ""

    def significant(self) -> list[str]:
        """KPIs whose difference is significant."""
        return list(self.table.loc[self.table["significant"], "kpi"])

    def warnings(self) -> list[str]:
        """Why the two sides may not be comparable: different horizons or replication counts."""
        out = []
        da, db = self.days_a, self.days_b
        if da is not None and db is not None and not (math.isnan(da) or math.isnan(db)) and da != db:
            out.append(f"warning: A covers {da:g} day(s) and B {db:g}: totals and counts are not comparable")
        if self.n_a != self.n_b:
            out.append(f"warning: A has {self.n_a} replication(s) and B {self.n_b}: the interval is unpaired "
                       "or uses only the shared ones")
        return out

    def format(self) -> str:
        """A plain-text table for the terminal: labels, units, B - A with its CI, better / worse / no difference."""
        head = ["KPI", "A", "B", "B - A", "change", f"{self.confidence:.0%} CI of B - A", "verdict"]
        lines = []
        cur = self.currency
        for r in self.table.itertuples(index=False):
            ci = "n/a" if math.isnan(r.ci_low) else f"[{fmt_delta(r.kpi, r.ci_low, cur)}, {fmt_delta(r.kpi, r.ci_high, cur)}]"
            change = "" if math.isnan(r.rel_diff) else fmt_number(100.0 * r.rel_diff, 1, sign=True) + " %"
            lines.append([kpi_info(r.kpi).label, fmt_kpi(r.kpi, r.a, currency=cur), fmt_kpi(r.kpi, r.b, currency=cur),
                          fmt_delta(r.kpi, r.diff, cur), change, ci, r.verdict])
        widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]

        def side(name, label, n, days):
            horizon = "" if days is None or math.isnan(days) else f", {days:g} day(s)"
            return f"{name} = {label} ({n} replication(s){horizon})"

        out = [side("A", self.label_a, self.n_a, self.days_a), side("B", self.label_b, self.n_b, self.days_b),
               ("paired differences over common random numbers (same seeds)" if self.paired
                else "unpaired (Welch) intervals: the two sides do not share seeds")]
        out += self.warnings()
        out.append("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths))))
        for row in lines:
            out.append("  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w)
                                 for i, (x, w) in enumerate(zip(row, widths))))
        for word in ("better", "worse"):
            names = [kpi_info(k).label for k, v in zip(self.table["kpi"], self.table["verdict"]) if v == word]
            out.append(f"B {word} than A at {self.confidence:.0%}: " + (", ".join(names) if names else "none"))
        sig = self.significant()
        out.append(f"significant at {self.confidence:.0%}: " + (", ".join(sig) if sig else "none"))
        return "\n".join(out)


def compare_tables(a: pd.DataFrame, b: pd.DataFrame, *, kpis: Sequence[str] | None = None,
                   confidence: float = 0.95, label_a: str = "A", label_b: str = "B",
                   currency: str = "") -> Comparison:
    """Compare per-replication KPI tables (inputs already validated).

    Rows are paired on (seed, replication) when both tables carry those
    columns and share at least two pairs; the interval is then the paired t
    interval of the differences. Otherwise Welch's interval is used.

    Raises
    ------
    OmsimError
        A requested KPI is missing from a side, or the sides share no KPI.
    """
    common = [c for c in _kpi_columns(a) if c in set(_kpi_columns(b))]
    if kpis:
        missing = [k for k in kpis if k not in common]
        if missing:
            raise OmsimError(f"--kpi {missing[0]}: not a KPI of both sides; known: {', '.join(common) or 'none'}")
        common = list(kpis)
    if not common:
        raise OmsimError(f"{label_a} and {label_b} have no KPI in common")
    keys = ["seed", "replication"]
    paired = False
    if all(k in a and k in b for k in keys):
        joined = a.merge(b, on=keys, suffixes=("__a", "__b"))
        paired = len(joined) >= 2
    rows = []
    z = 0.5 + confidence / 2.0
    for k in common:
        if paired:
            xa = joined[f"{k}__a"].to_numpy(float)
            xb = joined[f"{k}__b"].to_numpy(float)
            ok = ~(np.isnan(xa) | np.isnan(xb))
            d = xb[ok] - xa[ok]
            n = int(d.size)
            ma, mb = (float(xa[ok].mean()), float(xb[ok].mean())) if n else (math.nan, math.nan)
            diff, half = mean_ci(d, confidence) if n else (math.nan, math.nan)
        else:
            xa = a[k].to_numpy(float)
            xa = xa[~np.isnan(xa)]
            xb = b[k].to_numpy(float)
            xb = xb[~np.isnan(xb)]
            n = int(min(xa.size, xb.size))
            ma = float(xa.mean()) if xa.size else math.nan
            mb = float(xb.mean()) if xb.size else math.nan
            diff = mb - ma
            half = _welch_half(xa, xb, z)
        lo, hi = diff - half, diff + half
        sig = bool(not math.isnan(half) and (lo > 0 or hi < 0))
        rel = diff / abs(ma) if ma and not math.isnan(ma) else math.nan
        rows.append({"kpi": k, "a": ma, "b": mb, "diff": diff, "ci_low": lo, "ci_high": hi,
                     "rel_diff": rel, "n": n, "significant": sig, "verdict": verdict(k, lo, hi)})

    def horizon(df):
        return float(df["days"].max()) if "days" in df and df["days"].notna().any() else None

    return Comparison(pd.DataFrame(rows), paired, label_a, label_b, confidence, len(a), len(b),
                      horizon(a), horizon(b), currency)


def _welch_half(xa: np.ndarray, xb: np.ndarray, z: float) -> float:
    na, nb = xa.size, xb.size
    if na < 2 or nb < 2:
        return math.nan
    va, vb = xa.var(ddof=1) / na, xb.var(ddof=1) / nb
    se2 = va + vb
    if se2 == 0:
        return 0.0
    df = se2 ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
    return t_quantile(z, df) * math.sqrt(se2)


def compare(a: str | Path, b: str | Path, *, replications: int = 5, seed: int | None = None,
            days: int | None = None, kpis: Sequence[str] | None = None, workers: int = 1,
            scheduler: Any = None, progress: Callable[[int, int], None] | None = None,
            confidence: float = 0.95, runner: Callable | None = None, verify: bool = False) -> Comparison:
    """Compare A and B, each a scenario file or a run directory.

    Scenarios are simulated here with the same seeds and replication indices
    (common random numbers). A scenario compared with a run directory is run
    at the directory's (seed, replication) pairs and horizon, so the pairing
    holds.

    Parameters
    ----------
    a, b
        Scenario YAML files or run directories (see :func:`load_run_table`).
    replications, seed, days
        For sides that are scenarios (seed: each scenario's own when None,
        taken from A when both are scenarios).
    kpis
        KPIs to show (all shared numeric KPIs by default).
    workers, scheduler, progress, runner
        How scenario sides are run (see :func:`omsim.sweep.run_tasks`).
    verify
        Check each run directory against its ``manifest.json`` (see
        :func:`omsim.rundir.verify`) and refuse a damaged or incomplete one.

    Requested ``kpis`` are checked before anything runs.

    Raises
    ------
    OmsimError
        A bad scenario or run directory (naming the file and field), or a
        missing KPI.
    """
    from omsim.rundir import verify as verify_dir
    from omsim.scenario import load_scenario
    from omsim.sweep import SweepTask, check_kpis, make_tasks, run_tasks

    sides: list[Any] = []
    for p in (a, b):
        if Path(p).is_dir():
            if verify:
                verify_dir(p)
            sides.append(load_run_table(p))
        else:
            sides.append(load_scenario(p))
    tables: list[pd.DataFrame | None] = [s if isinstance(s, pd.DataFrame) else None for s in sides]
    if kpis and runner is None and any(t is None for t in tables):
        # Something is to be run: a misspelt KPI is refused before it runs, not after.
        from omsim.sim.result import KPI_NAMES, KPI_OPTIONAL

        known = [k for k in KPI_NAMES + KPI_OPTIONAL if k not in _META_COLUMNS
                 and all(t is None or k in t.columns for t in tables)]
        check_kpis(kpis, known)
    tasks: list = []
    for i, s in enumerate(sides):
        if tables[i] is not None:
            continue
        other = tables[1 - i]
        if other is not None and "seed" in other and "replication" in other:
            # Rerun this scenario at the run directory's seeds: paired comparison.
            probe = make_tasks(s, [{}], 1, seed=seed, days=days)[0]
            horizon = days or (int(other["days"].iloc[0]) if "days" in other and other["days"].notna().all()
                               else probe.days)
            for sd, rep in other[["seed", "replication"]].drop_duplicates().itertuples(index=False):
                tasks.append(SweepTask(i, int(rep), int(sd), int(horizon), probe.raw, (), probe.source,
                                       probe.base_dir))
        else:
            # Both sides scenarios: A's seed for both, so their streams match.
            base_seed = seed if seed is not None else (sides[0].seed if tables[0] is None else None)
            for t in make_tasks(s, [{}], replications, seed=base_seed, days=days):
                tasks.append(SweepTask(i, t.replication, t.seed, t.days, t.raw, (), t.source, t.base_dir))
    if tasks:
        ran = run_tasks(tasks, workers=workers, scheduler=scheduler, progress=progress, runner=runner)
        for i in (0, 1):
            if tables[i] is None:
                tables[i] = ran[ran["point"] == i].drop(columns=["point"]).reset_index(drop=True)
    return compare_tables(tables[0], tables[1], kpis=kpis, confidence=confidence,
                          label_a=str(a), label_b=str(b), currency=_currency(sides, (a, b)))


def _currency(sides: Sequence[Any], paths: Sequence[str | Path]) -> str:
    """The currency of the first side that names one (a scenario, or a run directory's scenario.yaml)."""
    import yaml

    for side, p in zip(sides, paths):
        if not isinstance(side, pd.DataFrame):
            return str(side.currency)
        try:
            data = yaml.safe_load((Path(p) / "scenario.yaml").read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and isinstance(data.get("currency"), str):
            return data["currency"]
    return ""
