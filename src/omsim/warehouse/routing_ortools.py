"""OR-Tools routing of a pick list (general layouts, any number of blocks).

The warehouse side of :mod:`omsim.solvers.tsp_routing`: the TSP runs on the
metric closure of the aisle graph (:meth:`Layout.distance_matrix`, depot at
index 0) with guided local search and a time limit. It is registered as the
routing method ``"ortools"``, and :func:`optimal_route` is the hook
:mod:`omsim.warehouse.routing` uses for ``"optimal"`` with more than two
blocks; such routes are reported as not proven optimal (``optimal=False``).
"""
from __future__ import annotations

import numpy as np

from omsim.warehouse.layout import Layout, as_picks
from omsim.warehouse.routing import Route, register_method

__all__ = ["ortools_route", "optimal_route", "DEFAULT_TIME_LIMIT_S"]

#: Search time per route (seconds) for the registered methods.
DEFAULT_TIME_LIMIT_S = 0.1


def ortools_route(layout: Layout, picks, *, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
                  method: str = "ortools") -> Route:
    """Route ``picks`` with OR-Tools (guided local search within ``time_limit_s``).

    Parameters
    ----------
    layout
        The warehouse.
    picks
        ``(n, 2)`` array-like of (aisle, cell), 0-based.
    time_limit_s
        Search time limit in seconds.
    method
        Name recorded in the returned route.

    Returns
    -------
    Route
        Not proven optimal (``optimal=False``); ``length`` is the
        shortest-path length of ``sequence``.
    """
    from omsim.solvers.tsp_routing import solve_tsp  # ortools loads only when used

    p = as_picks(layout, picks)
    if p.shape[0] == 0:
        return Route(0.0, np.zeros(0, dtype=np.int64), method, False)
    res = solve_tsp(layout.distance_matrix(p), time_limit_s=time_limit_s)
    return Route(res.length, res.sequence - 1, method, False)


def optimal_route(layout: Layout, picks) -> Route:
    """Fallback for ``"optimal"`` with more than two blocks: OR-Tools, not proven optimal."""
    return ortools_route(layout, picks, method="optimal")


register_method(
    "ortools",
    lambda layout, picks: ortools_route(layout, picks),
    optimal=False,
    description=f"OR-Tools TSP on the aisle-graph distances, guided local search, {DEFAULT_TIME_LIMIT_S} s",
)
