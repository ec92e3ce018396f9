"""OR-Tools routing model of one picker tour: a TSP on a distance matrix.

Pipeline (as in the OR-Tools samples): data (a symmetric distance matrix in
metres, node 0 the depot) -> ``RoutingIndexManager`` (one vehicle) ->
``RoutingModel`` with a transit callback on *integer* costs (metres times
``scale``, rounded) -> search parameters (first solution, local-search
metaheuristic, a time limit) -> solve -> the visiting order, whose length is
recomputed from the float matrix.

The routing solver proves nothing: it reports a status and no lower bound,
so ``gap`` is only known when the caller passes a known optimum. Guided local
search never stops by itself; it runs until ``time_limit_s``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

__all__ = ["TspResult", "solve_tsp", "STATUS_NAMES"]

#: Routing search status codes -> names.
STATUS_NAMES: dict[int, str] = {v: k for k, v in routing_enums_pb2.RoutingSearchStatus.Value.items()}


@dataclass(frozen=True)
class TspResult:
    """A tour found by OR-Tools.

    Attributes
    ----------
    length
        Tour length in metres, summed from the float matrix along the tour.
    sequence
        Node indices (1..n-1, the depot 0 left out) in visiting order.
    status
        The routing search status name (e.g. ``"ROUTING_SUCCESS"``,
        ``"ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED"``); ``"TRIVIAL"``
        when no search was needed (fewer than three nodes).
    objective
        The solver's integer objective (scaled, rounded costs).
    scale
        Integer cost units per metre.
    gap
        ``length / known_optimum - 1`` when ``known_optimum`` was given, else ``None``.
    """

    length: float
    sequence: np.ndarray
    status: str
    objective: int
    scale: float
    gap: float | None = None


def _tour_length(dist: np.ndarray, seq: np.ndarray) -> float:
    stops = np.concatenate([[0], seq, [0]])
    return float(dist[stops[:-1], stops[1:]].sum())


def solve_tsp(
    dist,
    *,
    time_limit_s: float = 0.1,
    scale: float = 1000.0,
    metaheuristic: str = "GUIDED_LOCAL_SEARCH",
    first_solution: str = "PATH_CHEAPEST_ARC",
    known_optimum: float | None = None,
) -> TspResult:
    """Shortest closed tour from node 0 through every node (OR-Tools routing).

    Parameters
    ----------
    dist
        ``(n, n)`` non-negative distance matrix in metres; node 0 is the depot.
        Inputs already validated (finite, non-negative).
    time_limit_s
        Wall-clock limit of the search (seconds, > 0).
    scale
        Integer cost units per metre: arc costs are ``round(dist * scale)``
        (the default 1000 keeps millimetres).
    metaheuristic
        A ``LocalSearchMetaheuristic`` name (``GUIDED_LOCAL_SEARCH``,
        ``SIMULATED_ANNEALING``, ``TABU_SEARCH``, ``GREEDY_DESCENT``, ...).
    first_solution
        A ``FirstSolutionStrategy`` name.
    known_optimum
        If given, the result's ``gap`` is computed against it.

    Returns
    -------
    TspResult
    """
    d = np.asarray(dist, dtype=np.float64)
    n = d.shape[0]
    if n <= 2:
        seq = np.arange(1, n, dtype=np.int64)
        length = _tour_length(d, seq) if n > 1 else 0.0
        gap = None if known_optimum is None else (length / known_optimum - 1.0 if known_optimum > 0 else 0.0)
        return TspResult(length, seq, "TRIVIAL", int(round(length * scale)), scale, gap)

    # Data -> manager -> model.
    cost = np.rint(d * scale).astype(np.int64)
    manager = pywrapcp.RoutingIndexManager(n, 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    cost_list = cost.tolist()  # Python ints: the callback is called millions of times

    def transit(i, j):
        return cost_list[manager.IndexToNode(i)][manager.IndexToNode(j)]

    cb = routing.RegisterTransitCallback(transit)
    routing.SetArcCostEvaluatorOfAllVehicles(cb)

    # Parameters, always with a time limit.
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first_solution)
    params.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic)
    params.time_limit.FromMilliseconds(max(1, int(round(time_limit_s * 1000))))

    solution = routing.SolveWithParameters(params)
    status = STATUS_NAMES.get(int(routing.status()), str(routing.status()))
    if solution is None:  # pragma: no cover - a complete graph always has a tour
        raise RuntimeError(f"OR-Tools routing found no tour (status {status})")

    # Convert back: walk the single vehicle's route.
    seq = []
    index = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        seq.append(manager.IndexToNode(index))
        index = solution.Value(routing.NextVar(index))
    seq_arr = np.asarray(seq, dtype=np.int64)
    length = _tour_length(d, seq_arr)
    gap = None
    if known_optimum is not None:
        gap = length / known_optimum - 1.0 if known_optimum > 0 else 0.0
    return TspResult(length, seq_arr, status, int(solution.ObjectiveValue()), scale, gap)
