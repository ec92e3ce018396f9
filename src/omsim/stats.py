"""Student's t distribution and confidence intervals, through SciPy (``scipy.stats.t``).

Used by replications (KPI confidence intervals), sweeps and comparisons.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["t_cdf", "t_quantile", "mean_ci"]


def _st():
    """``scipy.stats``, imported on first use: it costs ~0.5 s and ~50 MB, and most runs (one
    replication, the live service) never ask for a t quantile."""
    from scipy import stats

    return stats


def _check_df(df: float) -> None:
    if not df > 0:
        raise ValueError("df must be positive")


def t_cdf(t: float, df: float) -> float:
    """Student t distribution function P(T <= t) with ``df`` > 0 degrees of freedom (``inf``: normal)."""
    _check_df(df)
    return float(_st().norm.cdf(t) if math.isinf(df) else _st().t.cdf(t, df))


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (``df = inf``: normal).

    Examples
    --------
    >>> round(t_quantile(0.975, 10), 6)
    2.228139
    """
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    _check_df(df)
    return float(_st().norm.ppf(p) if math.isinf(df) else _st().t.ppf(p, df))


def mean_ci(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and t-based confidence half-width of a sample (NaNs ignored; half-width NaN when n < 2)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return math.nan, math.nan
    m = float(x.mean())
    if n < 2:
        return m, math.nan
    sd = float(x.std(ddof=1))
    return m, t_quantile(0.5 + confidence / 2.0, n - 1) * sd / math.sqrt(n)
