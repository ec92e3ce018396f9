"""Concatenated index ranges: the CSR offsets and positions of ``a[i]:b[i]`` laid end to end.

Used wherever rows are gathered by ranges (an order's lines, a package's lines, a batch's
packages): :func:`spans` runs in two compiled passes (:mod:`omsim._kernels._simbook`), since it
is asked of a few dozen ranges at a time, where six NumPy calls cost more than the work;
:func:`spans_reference` is its NumPy twin.
"""
from __future__ import annotations

import numpy as np

from omsim._kernels import _simbook


def spans(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranges ``a[i]:b[i]`` (``a <= b``): their CSR offsets ``(n+1,)`` and the positions they cover."""
    a = np.ascontiguousarray(a, dtype=np.int64)
    b = np.ascontiguousarray(b, dtype=np.int64)
    ptr = np.empty(a.size + 1, dtype=np.int64)
    idx = np.empty(_simbook.span_offsets(a, b, ptr), dtype=np.int64)
    _simbook.span_positions(a, ptr, idx)
    return ptr, idx


def spans_reference(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`spans` in NumPy."""
    ln = b - a
    ptr = np.zeros(ln.size + 1, dtype=np.int64)
    np.cumsum(ln, out=ptr[1:])
    idx = np.arange(int(ptr[-1]), dtype=np.int64) + np.repeat(a - ptr[:-1], ln)
    return ptr, idx
