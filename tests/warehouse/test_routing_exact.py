"""The exact routing DP against brute force over every visiting order."""
import itertools
import sys
import types
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.errors import OmsimError
from omsim.warehouse import Layout, Route, route, route_lengths, sequence_length
from omsim.warehouse import routing
from omsim.warehouse._exact import tables
from omsim.warehouse.layout import aisle_graph_distances_reference

from warehouse_strategies import layout_and_picks


@lru_cache(maxsize=None)
def _perms(n):
    return np.array(list(itertools.permutations(range(1, n + 1))), dtype=np.int64).reshape(-1, n)


def brute_force_length(layout, picks):
    """Shortest tour over all visiting orders, on explicit-graph shortest paths."""
    n = len(picks)
    if n == 0:
        return 0.0
    d = aisle_graph_distances_reference(layout, picks)
    p = _perms(n)
    total = d[0, p[:, 0]] + d[p[:, -1], 0]
    for i in range(n - 1):
        total = total + d[p[:, i], p[:, i + 1]]
    return float(total.min())


def check_route(layout, picks, r):
    n = len(picks)
    assert isinstance(r, Route)
    assert sorted(r.sequence.tolist()) == list(range(n)), "every pick exactly once"
    assert sequence_length(layout, picks, r.sequence) == pytest.approx(r.length, abs=1e-9)


@given(layout_and_picks(max_picks=9, max_blocks=2))
@settings(max_examples=150, deadline=None)
def test_optimal_equals_brute_force_one_and_two_blocks(case):
    layout, picks = case
    r = route(layout, picks, method="optimal")
    assert r.optimal and r.method == "optimal"
    assert r.length == pytest.approx(brute_force_length(layout, picks), abs=1e-9)
    check_route(layout, picks, r)


@given(layout_and_picks(max_picks=7, min_blocks=3, max_blocks=3))
@settings(max_examples=40, deadline=None)
def test_dp_is_exact_for_three_blocks_too(case):
    # route() hands blocks > 2 to an OR-Tools hook when present; the DP itself is general.
    layout, picks = case
    r = routing._dp_route(layout, picks)
    assert r.length == pytest.approx(brute_force_length(layout, picks), abs=1e-9)
    check_route(layout, picks, r)


@given(layout_and_picks(max_picks=60, max_blocks=2))
@settings(max_examples=40, deadline=None)
def test_reconstructed_sequence_reproduces_the_length_on_large_pick_lists(case):
    layout, picks = case
    check_route(layout, picks, route(layout, picks))


@given(st.data())
@settings(max_examples=30, deadline=None)
def test_batched_lengths_equal_single_routes(data):
    layout, _ = data.draw(layout_and_picks(max_picks=0, max_blocks=2))
    lists = [data.draw(layout_and_picks(max_picks=12).map(lambda c: c[1]).filter(
        lambda p: len(p) == 0 or (p[:, 0].max() < layout.aisles and p[:, 1].max() < layout.cells_per_aisle)))
        for _ in range(data.draw(st.integers(0, 6)))]
    batched = route_lengths(layout, lists)
    assert batched.shape == (len(lists),)
    np.testing.assert_array_equal(batched, [route(layout, p).length for p in lists])
    flat, off = routing.pack_pick_lists(layout, lists)
    np.testing.assert_array_equal(route_lengths(layout, flat, offsets=off), batched)


def test_literature_state_counts():
    # Ratliff & Rosenthal (1983): 7 equivalence classes; Roodbergen & de Koster (2001): 25.
    assert len(tables(1).states) == 7
    assert len(tables(2).states) == 25


def test_closed_forms():
    lay = Layout(aisles=4, cells_per_aisle=10, depot_aisle=2, depot_offset_m=1.5)
    assert route(lay, []).length == 0.0 and route(lay, []).sequence.size == 0
    # One pick in the depot aisle: straight in and out.
    assert route(lay, [(2, 6)]).length == 2 * 1.5 + 2 * 7
    # Both ends of a far aisle: in and out from the front (2 x 10) beats going
    # through it and back down the depot aisle (11 + 11).
    assert route(lay, [(0, 0), (0, 9)]).length == 2 * 1.5 + 2 * 6 + 2 * 10
    # Every cell of every aisle: a full S-shape with an even number of aisles.
    every = [(a, c) for a in range(4) for c in range(10)]
    assert route(lay, every).length == 2 * 1.5 + 4 * 11 + 2 * 9


def test_duplicates_are_all_visited_at_no_extra_cost():
    lay = Layout(aisles=3, cells_per_aisle=8, blocks=2)
    picks = [(1, 3), (2, 7), (1, 3), (0, 0), (2, 7), (1, 3)]
    r = route(lay, picks)
    check_route(lay, np.array(picks), r)
    assert r.length == route(lay, sorted(set(picks))).length
    # The three copies of (1, 3) are picked at one stop.
    pos = [list(r.sequence).index(i) for i in (0, 2, 5)]
    assert max(pos) - min(pos) == 2


def test_unknown_method_and_bad_picks_raise_omsim_error():
    lay = Layout()
    with pytest.raises(OmsimError, match="unknown"):
        route(lay, [(0, 0)], method="teleport")
    with pytest.raises(OmsimError, match="aisle"):
        route(lay, [(10, 0)])
    with pytest.raises(OmsimError, match="offsets"):
        route_lengths(lay, np.array([[0, 0]]), offsets=[0, 2])


def test_registry_accepts_new_methods_and_batches_them_per_route():
    calls = []

    def dummy(layout, picks):
        calls.append(len(picks))
        return Route(float(len(picks)), np.arange(len(picks)), "dummy", False)

    routing.register_method("dummy-test", dummy)
    try:
        out = route_lengths(Layout(), [[(0, 1)], [(1, 1), (2, 2)], []], method="dummy-test")
        np.testing.assert_array_equal(out, [1.0, 2.0, 0.0])
        assert calls == [1, 2, 0]
    finally:
        del routing.ROUTING_METHODS["dummy-test"]


def test_more_than_two_blocks_use_the_general_solver_hook(monkeypatch):
    lay = Layout(blocks=3, aisles=3, cells_per_aisle=9)
    seen = []

    def optimal_route(layout, picks):
        seen.append(layout)
        return Route(42.0, np.arange(len(picks)), "ortools", True)

    monkeypatch.setitem(sys.modules, "omsim.warehouse.routing_ortools",
                        types.SimpleNamespace(optimal_route=optimal_route))
    assert route(lay, [(0, 1)]).length == 42.0
    assert route_lengths(lay, [[(0, 1)], [(2, 2)]]).tolist() == [42.0, 42.0]
    assert route(Layout(blocks=2, cells_per_aisle=8), [(0, 1)]).method == "optimal"  # 1-2 blocks stay on the DP
    assert len(seen) == 3
