"""Routing heuristics: valid tours, never below the optimum, kernel == reference, textbook cases."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.errors import OmsimError
from omsim.warehouse import Layout, route, route_lengths, sequence_length
from omsim.warehouse import heuristics as H
from omsim.warehouse.routing import pack_pick_lists

METHODS = list(H.HEURISTICS)


@st.composite
def cases(draw, max_picks=9, max_blocks=2):
    blocks = draw(st.integers(1, max_blocks))
    aisles = draw(st.integers(1, 7))
    cpb = draw(st.integers(1, 6))
    layout = Layout(
        blocks=blocks,
        aisles=aisles,
        cells_per_aisle=cpb * blocks,
        aisle_pitch_m=draw(st.sampled_from([1.0, 2.5, 4.0])),
        cell_length_m=draw(st.sampled_from([1.0, 1.5])),
        front_gap_m=draw(st.sampled_from([0.0, 1.0, 2.0])),
        back_gap_m=draw(st.sampled_from([0.0, 1.0, 3.0])),
        cross_aisle_m=draw(st.sampled_from([0.0, 2.0])),
        depot_aisle=draw(st.integers(0, aisles - 1)),
        depot=draw(st.sampled_from(["front", "back"])),
        depot_offset_m=draw(st.sampled_from([0.0, 1.5])),
    )
    n = draw(st.integers(0, max_picks))
    picks = np.array(
        [[draw(st.integers(0, aisles - 1)), draw(st.integers(0, cpb * blocks - 1))] for _ in range(n)],
        dtype=np.int64,
    ).reshape(n, 2)
    return layout, picks


def brute_force(layout, picks):
    """Shortest tour over every visiting order (small n only)."""
    n = len(picks)
    if n == 0:
        return 0.0
    d = layout.distance_matrix(picks)
    best = np.inf
    for perm in itertools.permutations(range(1, n + 1)):
        stops = (0,) + perm + (0,)
        best = min(best, sum(d[u, v] for u, v in zip(stops, stops[1:])))
    return best


@given(cases(max_picks=9, max_blocks=2))
@settings(max_examples=150, deadline=None)
def test_every_heuristic_is_a_valid_tour_not_below_optimal(case):
    layout, picks = case
    opt = route(layout, picks, "optimal").length
    for m in METHODS:
        r = route(layout, picks, m)
        assert r.method == m and not r.optimal
        assert sorted(r.sequence.tolist()) == list(range(len(picks))), "every pick exactly once"
        assert sequence_length(layout, picks, r.sequence) == pytest.approx(r.length, rel=1e-12, abs=1e-9)
        assert r.length >= opt - 1e-9


@given(cases(max_picks=6, max_blocks=2))
@settings(max_examples=60, deadline=None)
def test_heuristics_not_below_brute_force(case):
    # Independent of the exact DP: the optimum over all visiting orders.
    layout, picks = case
    best = brute_force(layout, picks)
    for m in METHODS:
        assert H.heuristic_route(layout, picks, m).length >= best - 1e-9
        assert H.heuristic_route_reference(layout, picks, m).length >= best - 1e-9


@given(cases(max_picks=0, max_blocks=3), st.integers(0, 2**32 - 1), st.integers(1, 6))
@settings(max_examples=120, deadline=None)
def test_kernel_equals_python_reference(case, seed, n_lists):
    layout, _ = case
    rng = np.random.default_rng(seed)
    lists = [np.column_stack([rng.integers(0, layout.aisles, k), rng.integers(0, layout.cells_per_aisle, k)])
             for k in rng.integers(0, 13, n_lists)]
    flat, off = pack_pick_lists(layout, lists)
    for m in METHODS:
        order = np.empty(flat.shape[0], dtype=np.int64)
        lengths = H._kernel_lengths(layout, flat, off, m, order)
        for r, picks in enumerate(lists):
            ref = H.heuristic_route_reference(layout, picks, m)
            assert lengths[r] == ref.length  # same rules, same float operations, same order
            assert order[off[r]:off[r + 1]].tolist() == ref.sequence.tolist()
        assert np.array_equal(route_lengths(layout, lists, m), lengths)


@given(cases(max_picks=10, max_blocks=3))
@settings(max_examples=80, deadline=None)
def test_combined_plus_never_longer_than_combined(case):
    layout, picks = case
    assert H.combined_plus(layout, picks).length <= H.combined(layout, picks).length


@given(cases(max_picks=9, max_blocks=3))
@settings(max_examples=80, deadline=None)
def test_depot_at_back_mirrors_depot_at_front(case):
    layout, picks = case
    from dataclasses import replace

    mirrored = replace(layout, depot="back" if layout.depot == "front" else "front",
                       front_gap_m=layout.back_gap_m, back_gap_m=layout.front_gap_m)
    flipped = picks.copy()
    flipped[:, 1] = layout.cells_per_aisle - 1 - picks[:, 1]
    for m in METHODS:
        a = H.heuristic_route_reference(layout, picks, m)
        b = H.heuristic_route_reference(mirrored, flipped, m)
        assert a.length == pytest.approx(b.length, abs=1e-9)
        assert a.sequence.tolist() == b.sequence.tolist()


# ------------------------------------------------------ textbook single-block cases
def test_s_shape_closed_form_with_every_pick_aisle_traversed():
    # Even number of pick aisles, picks at both ends: the textbook s-shape
    # length m * aisle length + 2 * (rightmost pick aisle) (Hall 1993).
    lay = Layout(aisles=6, cells_per_aisle=10, aisle_pitch_m=3.0, front_gap_m=1.0, back_gap_m=1.0)
    pick_aisles = [0, 2, 3, 5]
    picks = [[a, c] for a in pick_aisles for c in (0, 9)]
    expected = len(pick_aisles) * lay.aisle_length_m + 2 * 5 * 3.0
    r = H.s_shape(lay, picks)
    assert r.length == pytest.approx(expected)
    # Up aisle 0, down aisle 2, up 3, down 5.
    assert [picks[i] for i in r.sequence] == [[0, 0], [0, 9], [2, 9], [2, 0], [3, 0], [3, 9], [5, 9], [5, 0]]


def test_return_closed_form_front_half_picks():
    # Picks in the front half: returning via the front cross aisle is also
    # the shortest path, so the length is the textbook 2 * sum(depth) + 2 * span.
    lay = Layout(aisles=5, cells_per_aisle=20, aisle_pitch_m=2.0, front_gap_m=1.0, back_gap_m=1.0)
    picks = np.array([[1, 3], [1, 6], [3, 2], [4, 8], [4, 0]])
    depth = {1: lay.cell_y[6], 3: lay.cell_y[2], 4: lay.cell_y[8]}
    expected = 2 * sum(depth.values()) + 2 * 4 * 2.0
    assert H.return_route(lay, picks).length == pytest.approx(expected)


def test_largest_gap_splits_at_the_largest_gap():
    lay = Layout(aisles=4, cells_per_aisle=10, aisle_pitch_m=3.0)
    # Aisle 1: cells 0 and 9, largest gap between them: 0 from the front, 9 from the back.
    picks = [[0, 2], [1, 0], [1, 9], [3, 5]]
    r = H.largest_gap(lay, picks)
    assert r.sequence.tolist() == [0, 2, 3, 1]
    # Midpoint sends cell 0 to the front and cell 9 to the back as well.
    assert H.midpoint(lay, picks).sequence.tolist() == [0, 2, 3, 1]


def test_combined_traverses_or_returns_by_dynamic_programming():
    # Aisle length 31 m. Aisle 0 has a shallow and a deep pick: traversing
    # (31) beats returning (58); aisle 1's deep pick is then taken from the
    # back and the picker leaves it by the front: 31 + 3 + 31 + 3 = 68 m.
    lay = Layout(aisles=3, cells_per_aisle=30, aisle_pitch_m=3.0)
    picks = [[0, 1], [0, 28], [1, 28]]
    c = H.combined(lay, picks)
    assert c.sequence.tolist() == [0, 1, 2]
    assert c.length == pytest.approx(68.0)
    # Only shallow picks: return in every aisle.
    shallow = [[0, 1], [1, 3], [2, 1]]
    expected = 2 * 6.0 + 2 * (lay.cell_y[1] + lay.cell_y[3] + lay.cell_y[1])
    assert H.combined(lay, shallow).length == pytest.approx(expected)


def test_empty_and_single_pick():
    lay = Layout(blocks=2, aisles=4, cells_per_aisle=10, depot_offset_m=2.0)
    for m in METHODS:
        assert route(lay, np.zeros((0, 2), dtype=np.int64), m).length == 0.0
        r = route(lay, [[2, 7]], m)
        assert r.length == pytest.approx(2 * lay.depot_distances([[2, 7]])[0])
    assert route_lengths(lay, [[], [[2, 7]]], "s-shape").tolist() == [0.0, pytest.approx(r.length)]


def test_unknown_heuristic_is_a_user_error():
    lay = Layout()
    with pytest.raises(OmsimError, match="unknown"):
        H.heuristic_route(lay, [[0, 0]], "zigzag")
    with pytest.raises(OmsimError, match="unknown"):
        H.heuristic_route_reference(lay, [[0, 0]], "zigzag")
    with pytest.raises(OmsimError, match="unknown"):
        route(lay, [[0, 0]], "zigzag")


def test_not_below_published_sprp_optima_one_and_two_blocks():
    # Heßler & Irnich's proven optima (fixture subset), independent of our DP.
    import dataclasses
    from pathlib import Path

    from omsim.warehouse import read_sprp, sprp_optima

    folder = Path(__file__).parents[1] / "data" / "sprp"
    files = sorted((folder / "instances").glob("*.txt"))
    assert files
    for blocks in (1, 2):
        optima = sprp_optima(folder / "results", blocks)
        for f in files:
            layout, picks = read_sprp(f)
            layout = dataclasses.replace(layout, blocks=blocks)
            lengths = {m: route_lengths(layout, [picks], m)[0] for m in METHODS}
            for m, got in lengths.items():
                assert got >= optima[f.name] - 1e-9, (f.name, blocks, m)
            assert lengths["combined+"] <= lengths["combined"]
            assert H.largest_gap(layout, picks).length == lengths["largest-gap"]


# ------------------------------------------- combined: the published DP's choice
def combined_form_tours(layout, picks):
    """Every tour of the combined heuristic's form on a single-block layout (slow, obvious).

    Roodbergen & de Koster (2001, EJOR 133): the pick aisles are swept once,
    starting at the depot's cross aisle; each is either traversed or entered and
    left from the side the picker is on. Yields (textbook length, visited
    (aisle, cell) list) for each of the 2^m choice sequences and both sweep
    directions (the heuristic starts at the end nearer the depot's aisle, ties:
    leftmost; the other direction is listed too, to show it is never shorter);
    a picker left at the far side walks one aisle length back. Positions are
    counted from the depot's cross aisle.
    """
    h = float(layout.cross_aisle_y[-1])
    y = layout.cell_y[picks[:, 1]]
    u = y if layout.depot == "front" else h - y
    near = sorted({int(a) for a in picks[:, 0]})
    if layout.depot_aisle - near[0] > near[-1] - layout.depot_aisle:
        near = near[::-1]
    for aisles in (near, near[::-1]):
        horizontal = layout.aisle_pitch_m * (abs(layout.depot_aisle - aisles[0]) + abs(aisles[0] - aisles[-1])
                                             + abs(aisles[-1] - layout.depot_aisle)) + 2 * layout.depot_offset_m
        for choice in itertools.product(("traverse", "return"), repeat=len(aisles)):
            far_side, length, visited = False, horizontal, []
            for a, c in zip(aisles, choice):
                ids = sorted((i for i in range(len(picks)) if picks[i, 0] == a), key=lambda i: u[i],
                             reverse=far_side)
                visited += [(a, int(picks[i, 1])) for i in ids]
                if c == "traverse":
                    length += h
                    far_side = not far_side
                else:
                    length += 2 * (h - min(u[ids])) if far_side else 2 * max(u[ids])
            yield length + (h if far_side else 0.0), visited


def _indices(picks, visited):
    """Pick indices visiting the (aisle, cell) list in order (equal locations are interchangeable)."""
    left = list(range(len(picks)))
    out = []
    for a, c in visited:
        i = next(i for i in left if picks[i, 0] == a and picks[i, 1] == c)
        left.remove(i)
        out.append(i)
    return out


@given(cases(max_picks=8, max_blocks=1))
@settings(max_examples=200, deadline=None)
def test_combined_is_the_best_traverse_or_return_sequence(case):
    # Brute force over all 2^m per-aisle choices: the DP's tour is one of the
    # textbook-shortest, and walking shortest paths between its stops is never longer.
    layout, picks = case
    if len(picks) == 0:
        return
    tours = list(combined_form_tours(layout, picks))
    best = min(t for t, _ in tours)
    r = H.combined(layout, picks)
    got = [(int(picks[i, 0]), int(picks[i, 1])) for i in r.sequence]
    assert any(abs(t - best) <= 1e-9 and v == got for t, v in tours), "the DP's choice is a shortest one"
    assert r.length <= best + 1e-9
    # Also the shortest of its form when every tour walks shortest paths.
    walked = min(sequence_length(layout, picks, _indices(picks, v)) for _, v in tours)
    assert r.length <= walked + 1e-9
    assert H.heuristic_route_reference(layout, picks, "combined").length == r.length


@pytest.mark.parametrize("m", [4, 6, 8])
def test_combined_pays_an_aisle_length_per_side_change_where_largest_gap_does_not(m):
    # Why combined trails largest-gap on sparse lists (benchmarks/routing.py, SPRP
    # with 25-50 aisles): one pick per aisle, alternately 1 m from the front and
    # 1 m from the back of 31 m aisles. Combined sweeps every pick aisle once, so
    # each change of side costs a traversal: its best tour of that form traverses
    # all m aisles. Largest-gap traverses the first and last aisle only and takes
    # the back picks going out, the front picks coming back (2 m each): optimal here.
    lay = Layout(aisles=m, cells_per_aisle=30, aisle_pitch_m=3.0)
    picks = [[a, 0 if a % 2 == 0 else 29] for a in range(m)]
    h, across = 31.0, 2 * 3.0 * (m - 1)
    assert H.combined(lay, picks).length == pytest.approx(m * h + across)
    assert min(t for t, _ in combined_form_tours(lay, np.array(picks))) == pytest.approx(m * h + across)
    assert H.largest_gap(lay, picks).length == pytest.approx(2 * h + 2.0 * (m - 2) + across)
    assert route(lay, picks, "optimal").length == pytest.approx(2 * h + 2.0 * (m - 2) + across)


@given(cases(max_picks=10, max_blocks=3))
@settings(max_examples=150, deadline=None)
def test_combined_is_a_closed_tour_not_below_the_optimum(case):
    layout, picks = case
    r = H.combined(layout, picks)
    assert sorted(r.sequence.tolist()) == list(range(len(picks)))
    assert sequence_length(layout, picks, r.sequence) == pytest.approx(r.length, rel=1e-12, abs=1e-9)
    assert r.length >= route(layout, picks, "optimal").length - 1e-9


@given(cases(max_picks=0, max_blocks=3), st.integers(0, 2**32 - 1), st.integers(1, 6))
@settings(max_examples=80, deadline=None)
def test_prepared_lengths_equal_the_kernel_on_any_gather(case, seed, n_lists):
    # Savings batching routes many gathers of one wave's picks: the prepared form (per-pick work once)
    # must give the very floats the kernel gives on the gathered picks.
    layout, _ = case
    rng = np.random.default_rng(seed)
    flat = np.column_stack([rng.integers(0, layout.aisles, 12),
                            rng.integers(0, layout.cells_per_aisle, 12)]).astype(np.int64)
    per = rng.integers(0, 8, n_lists)
    idx = rng.integers(0, 12, int(per.sum())).astype(np.int64)
    off = np.concatenate([[0], np.cumsum(per)]).astype(np.int64)
    for m in METHODS:
        prepared = H._prepared_lengths(layout, flat, m)
        assert np.array_equal(prepared(idx, off), H._kernel_lengths(layout, flat[idx], off, m))
