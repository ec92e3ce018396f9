"""OR-Tools TSP adapter against brute force over every tour (few, short solves)."""
import itertools

import numpy as np
import pytest

from omsim.solvers.tsp_routing import STATUS_NAMES, solve_tsp


def brute_force(d):
    n = d.shape[0]
    best = np.inf
    for perm in itertools.permutations(range(1, n)):
        stops = (0,) + perm + (0,)
        best = min(best, sum(d[u, v] for u, v in zip(stops, stops[1:])))
    return best


def test_finds_the_optimum_of_a_small_euclidean_instance():
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 50, size=(8, 2))
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    res = solve_tsp(d, time_limit_s=0.1, known_optimum=brute_force(d))
    assert sorted(res.sequence.tolist()) == list(range(1, 8))
    stops = [0] + res.sequence.tolist() + [0]
    assert res.length == pytest.approx(sum(d[u, v] for u, v in zip(stops, stops[1:])))
    # Integer costs at 1 mm: the rounded optimum can differ from the float one by < n/2 mm.
    assert res.gap == pytest.approx(0.0, abs=1e-4)
    assert res.status in STATUS_NAMES.values()
    assert res.objective == pytest.approx(res.length * res.scale, abs=8)


def test_scale_keeps_half_metres():
    # An asymmetric-looking but exact instance: costs that only differ by 0.5 m.
    d = np.array([[0, 1.5, 2.0, 1.5],
                  [1.5, 0, 1.0, 2.5],
                  [2.0, 1.0, 0, 1.0],
                  [1.5, 2.5, 1.0, 0]])
    res = solve_tsp(d, time_limit_s=0.05, scale=2.0)
    assert res.length == brute_force(d) == 5.0
    assert res.objective == 10


@pytest.mark.parametrize("n", [1, 2])
def test_trivial_tours_need_no_search(n):
    d = np.array([[0.0, 4.0], [4.0, 0.0]])[:n, :n]
    res = solve_tsp(d)
    assert res.status == "TRIVIAL"
    assert res.length == (8.0 if n == 2 else 0.0)
    assert res.sequence.tolist() == list(range(1, n))
