import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings

from omsim.errors import OmsimError
from omsim.warehouse import Layout, as_picks
from omsim.warehouse.layout import aisle_graph_distances_reference

from warehouse_strategies import layout_and_picks


def test_defaults_and_field_names_match_the_scenario_layout_section():
    spec = dict(blocks=1, aisles=10, cells_per_aisle=30, sides=2, aisle_pitch_m=3.0, cell_length_m=1.0,
                front_gap_m=1.0, back_gap_m=1.0, cross_aisle_m=1.0, depot_aisle=0, depot="front", depot_offset_m=0.0)
    assert Layout(**spec) == Layout()
    assert {f.name for f in dataclasses.fields(Layout)} == set(spec)


@pytest.mark.parametrize("field, value", [
    ("blocks", 0), ("aisles", 0), ("cells_per_aisle", 0), ("sides", 3), ("sides", 0),
    ("aisle_pitch_m", 0.0), ("cell_length_m", -1.0), ("front_gap_m", -0.1), ("back_gap_m", float("nan")),
    ("cross_aisle_m", -1.0), ("depot_aisle", 10), ("depot_aisle", -1), ("depot", "left"),
    ("depot_offset_m", -2.0), ("aisles", 2.5), ("blocks", True), ("aisle_pitch_m", "3"),
])
def test_invalid_fields_raise_omsim_error_naming_the_field(field, value):
    with pytest.raises(OmsimError, match=f"layout.{field}"):
        Layout(**{field: value})


def test_cells_must_split_evenly_between_blocks():
    with pytest.raises(OmsimError, match="cells_per_aisle"):
        Layout(blocks=2, cells_per_aisle=31)


def test_layout_is_frozen_and_hashable():
    lay = Layout()
    with pytest.raises(dataclasses.FrozenInstanceError):
        lay.aisles = 3
    assert hash(lay) == hash(Layout())


def test_single_block_geometry_of_the_sprp_instances():
    # Heßler & Irnich: 1 m cells, 1 m from the first/last cell to the cross aisles.
    lay = Layout(aisles=5, cells_per_aisle=30)
    np.testing.assert_array_equal(lay.cell_y, np.arange(1, 31))
    np.testing.assert_array_equal(lay.cross_aisle_y, [0, 31])
    np.testing.assert_array_equal(lay.aisle_x, [0, 3, 6, 9, 12])


def test_two_block_geometry_follows_the_readme_rule():
    # "the middle cross-aisle is between cells 15 and 16 and the distance between
    # cells 15 and 16 is 2 (0.5 + 1 + 0.5)" -- 1-based cells, ours are 0-based.
    lay = Layout(blocks=2, aisles=5, cells_per_aisle=30)
    assert lay.cell_y[15] - lay.cell_y[14] == 2.0
    np.testing.assert_array_equal(np.diff(lay.cell_y)[:14], 1.0)
    np.testing.assert_array_equal(lay.cross_aisle_y, [0, 16, 32])
    assert lay.cell_y[14] + 1.0 == lay.cross_aisle_y[1] == lay.cell_y[15] - 1.0
    np.testing.assert_array_equal(lay.block_of([0, 14, 15, 29]), [0, 0, 1, 1])


def test_hand_computed_distances():
    lay = Layout(aisles=3, cells_per_aisle=10, depot_aisle=1)  # aisle length 11
    p = [(0, 0), (2, 0), (0, 9), (2, 9), (0, 4), (0, 4)]
    d = lay.distance_matrix(p, include_depot=False)
    assert d[0, 1] == 6 + 1 + 1      # along the front cross aisle
    assert d[2, 3] == 6 + 1 + 1      # along the back cross aisle
    assert d[0, 2] == 9              # same aisle
    assert d[1, 2] == 6 + 10 + 1     # y=1 -> y=10: either way 11
    assert d[4, 5] == 0              # two picks at one location
    dep = lay.distance_matrix(p)
    assert dep[0, 1] == 3 + 1       # depot (aisle 1, front) to (0, 0)
    assert dep[0, 4] == 3 + 10      # to (2, 9): front is 10 up, the back way 11 + 1
    assert dep[0, 0] == 0


def test_depot_offset_and_back_depot():
    lay = Layout(aisles=2, cells_per_aisle=4, depot="back", depot_offset_m=2.0, depot_aisle=1)  # length 5
    d = lay.distance_matrix([(1, 3), (0, 0)])
    assert d[0, 1] == 2.0 + 1.0
    assert d[0, 2] == 2.0 + 3.0 + 4.0
    np.testing.assert_array_equal(lay.depot_distances([(1, 3), (0, 0)]), d[0, 1:])


@given(layout_and_picks())
@settings(max_examples=150, deadline=None)
def test_distance_matrix_matches_explicit_graph_shortest_paths(case):
    lay, picks = case
    fast = lay.distance_matrix(picks)
    slow = aisle_graph_distances_reference(lay, picks)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(fast, fast.T)
    np.testing.assert_array_equal(lay.distance_matrix(picks, include_depot=False), fast[1:, 1:])


def test_coordinates_and_locations():
    lay = Layout(blocks=2, aisles=3, cells_per_aisle=4, aisle_pitch_m=2.0)
    xy = lay.coordinates([(2, 3), (0, 0)])
    np.testing.assert_array_equal(xy, [[4.0, lay.cell_y[3]], [0.0, 1.0]])
    a, c, s = lay.locations()
    assert len(a) == lay.n_locations == 3 * 4 * 2
    assert len(set(zip(a, c, s))) == lay.n_locations


def test_as_picks_validates_and_drops_the_side():
    lay = Layout(aisles=2, cells_per_aisle=5, sides=1)
    np.testing.assert_array_equal(as_picks(lay, [(1, 4, 0)]), [[1, 4]])
    assert as_picks(lay, []).shape == (0, 2)
    for bad, what in [([(2, 0)], "aisle"), ([(0, 5)], "cell"), ([(0, -1)], "cell"),
                      ([(0, 1, 1)], "side"), ([(0.5, 1)], "integers"), ([1, 2, 3], "shape")]:
        with pytest.raises(OmsimError, match=what):
            as_picks(lay, bad)
