"""OR-Tools picker routing: valid tours, equal to the exact DP on small instances."""
import numpy as np
import pytest

from omsim.warehouse import Layout, route, sequence_length
from omsim.warehouse import routing
from omsim.warehouse.routing_ortools import ortools_route


def test_ortools_matches_exact_dp_on_a_two_block_instance():
    lay = Layout(blocks=2, aisles=6, cells_per_aisle=20, depot_aisle=2)
    rng = np.random.default_rng(3)
    picks = np.column_stack([rng.integers(0, 6, 9), rng.integers(0, 20, 9)])
    r = route(lay, picks, "ortools")
    assert r.method == "ortools" and not r.optimal
    assert sorted(r.sequence.tolist()) == list(range(9))
    assert r.length == pytest.approx(sequence_length(lay, picks, r.sequence))
    assert r.length == pytest.approx(route(lay, picks, "optimal").length)


def test_optimal_with_three_blocks_falls_back_to_ortools_not_proven():
    lay = Layout(blocks=3, aisles=5, cells_per_aisle=15)
    rng = np.random.default_rng(4)
    picks = np.column_stack([rng.integers(0, 5, 8), rng.integers(0, 15, 8)])
    r = route(lay, picks, "optimal")
    assert not r.optimal
    exact = routing._dp_route(lay, picks).length
    assert r.length >= exact - 1e-9
    assert r.length == pytest.approx(exact)  # 8 picks: guided local search finds the optimum


def test_empty_pick_list():
    assert ortools_route(Layout(), np.zeros((0, 2), dtype=np.int64)).length == 0.0
