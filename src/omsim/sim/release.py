"""Giving the memory of rows a streamed run no longer reads back to the operating system.

A streamed run's order, package and demand columns are sized for the whole
run once (a fresh large NumPy array is mapped, not written: its pages cost
nothing until a row is written), filled as the run goes, and the rows whose
life is over are written to the stream and their pages released with
``madvise(MADV_DONTNEED)``: the row numbers (order ids) stay what they are,
nothing is copied, and resident memory holds the live rows only. A released
row reads as zero and is never read again (:mod:`omsim.sim.retire` says which
rows are over). Where ``madvise`` is missing (not Linux) nothing is released:
the results are the same, only the memory is not bounded.
"""
from __future__ import annotations

import ctypes
import mmap
import sys

import numpy as np

_PAGE = mmap.PAGESIZE
_MADV_DONTNEED = 4


def _madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):    # pragma: no cover - a libc without madvise
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_MADVISE = _madvise()


def release(arr: np.ndarray, a: int, b: int) -> int:
    """Release the whole pages of rows ``a:b`` of the 1-D contiguous array ``arr``; returns the bytes released.

    The caller never reads those rows again (they read as zeros).
    """
    if _MADVISE is None or b <= a:
        return 0
    base, size = arr.ctypes.data, arr.itemsize
    lo = -(-(base + a * size) // _PAGE) * _PAGE
    hi = (base + b * size) // _PAGE * _PAGE
    if hi <= lo:
        return 0
    return (hi - lo) if _MADVISE(lo, hi - lo, _MADV_DONTNEED) == 0 else 0

