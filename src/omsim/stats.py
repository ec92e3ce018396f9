"""Small statistics without SciPy: Student's t distribution and confidence intervals.

The t CDF goes through the regularised incomplete beta function (a continued
fraction); the quantile inverts it by bisection to double precision. Used by
replications (KPI confidence intervals), sweeps and comparisons.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

__all__ = ["t_cdf", "t_quantile", "mean_ci"]


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
                    -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            step = c * d
            h *= step
        if abs(step - 1.0) < 1e-16:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) for a, b > 0."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    front = math.exp(log_front)
    # The fraction converges fast on this side of the mean; use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _bisect(f, target: float) -> float:
    """The v in (0, 1) with f(v) = target for an increasing f, to a relative 1e-15."""
    lo, hi = 0.0, 1.0
    # Relative tolerance: the root is tiny far in the tails (df = 1, p = 0.9995: x ~ 2e-6).
    while hi - lo > 1e-15 * hi:
        mid = 0.5 * (lo + hi)
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def t_cdf(t: float, df: float) -> float:
    """Student t distribution function P(T <= t) with ``df`` > 0 degrees of freedom."""
    if df <= 0:
        raise ValueError("df must be positive")
    if math.isinf(df):
        return NormalDist().cdf(t)
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (``df = inf``: normal).

    Inverts :func:`t_cdf` by bisection on ``x = df / (df + t^2)`` (tails) or
    on ``1 - x`` (near the median, where ``x`` would round to 1), on which the
    tail probability is monotone, to double precision.

    Examples
    --------
    >>> round(t_quantile(0.975, 10), 6)
    2.228139
    """
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    if df <= 0:
        raise ValueError("df must be positive")
    if math.isinf(df):
        return NormalDist().inv_cdf(p)
    if p == 0.5:
        return 0.0
    a, b = df / 2.0, 0.5
    tail = 2.0 * min(p, 1.0 - p)       # P(|T| > t) = I_x(df/2, 1/2), x = df / (df + t^2)
    if tail < 0.5:
        # Tails: solve I_x(a, b) = tail (increasing in x).
        x = _bisect(lambda v: _betainc(a, b, v), tail)
        t = math.sqrt(df * (1.0 - x) / x)
    else:
        # Near the median t is small and x rounds towards 1: solve for y = 1 - x =
        # t^2 / (df + t^2) instead, I_y(1/2, df/2) = |2p - 1|, exact at small y.
        y = _bisect(lambda v: _betainc(b, a, v), abs(2.0 * p - 1.0))
        t = math.sqrt(df * y / (1.0 - y))
    return t if p > 0.5 else -t


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


