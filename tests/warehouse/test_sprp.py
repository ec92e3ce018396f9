"""Exact routing against the published optima of Heßler & Irnich's SPRP instances."""
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from omsim.errors import OmsimError
from omsim.warehouse import read_sprp, route, route_lengths, sequence_length, sprp_optima
from omsim.warehouse.sprp import sprp_root

FIXTURES = Path(__file__).parents[1] / "data" / "sprp"
SHARED = sprp_root(Path(__file__).parents[2])


def _solve_all(folder: Path):
    """Parse every instance once; batched optimal lengths per layout, for 1 and 2 blocks.

    Returns ``{blocks: [(name, length, published optimum), ...]}``.
    """
    files = sorted((folder / "instances").glob("*.txt"))
    assert files, f"no instances in {folder}"
    groups: dict = {}
    for f in files:
        layout, picks = read_sprp(f)
        groups.setdefault(layout, []).append((f.name, picks))
    out = {}
    for blocks in (1, 2):
        opt = sprp_optima(folder / "results", blocks)
        rows = []
        for layout, items in groups.items():
            # The two-block instances are the same ones with a middle cross aisle.
            lay = dataclasses.replace(layout, blocks=blocks)
            lengths = route_lengths(lay, [p for _, p in items])
            rows.extend((name, got, opt[name]) for (name, _), got in zip(items, lengths))
        out[blocks] = rows
    return out


def _assert_all_optimal(res):
    for blocks in (1, 2):
        wrong = [row for row in res[blocks] if row[1] != row[2]]
        assert not wrong, f"{len(wrong)} {blocks}-block instances differ from the published optimum, e.g. {wrong[:3]}"


def test_fixture_subset_matches_published_optima_one_and_two_blocks():
    res = _solve_all(FIXTURES)
    assert len(res[1]) == len(res[2]) == 20
    _assert_all_optimal(res)


def test_fixture_routes_are_consistent_tours():
    for f in sorted((FIXTURES / "instances").glob("*.txt"))[:8]:
        for blocks in (1, 2):
            layout, picks = read_sprp(f, blocks=blocks)
            r = route(layout, picks)
            assert sorted(r.sequence.tolist()) == list(range(len(picks)))
            assert sequence_length(layout, picks, r.sequence) == r.length


@pytest.mark.skipif(not (SHARED / "instances").is_dir(),
                    reason=f"full SPRP set not found at {SHARED} (../shared next to the project root)")
def test_all_2400_instances_match_published_optima_one_and_two_blocks():
    res = _solve_all(SHARED)
    assert len(res[1]) == len(res[2]) == 2400
    _assert_all_optimal(res)


def test_reader_maps_the_sprp_geometry():
    layout, picks = read_sprp(FIXTURES / "instances" / "unit_F1_m5_C30_a3_0.txt")
    assert (layout.aisles, layout.cells_per_aisle, layout.blocks) == (5, 30, 1)
    assert (layout.aisle_pitch_m, layout.cell_length_m, layout.front_gap_m, layout.back_gap_m) == (3, 1, 1, 1)
    assert (layout.depot_aisle, layout.depot, layout.depot_offset_m) == (4, "front", 0)
    # SPRP counts cells from the top cross aisle: CELL 16 of 30 is cell 13 from the front.
    assert sorted(map(tuple, picks.tolist())) == [(0, 13), (2, 7), (3, 2)]
    two, picks2 = read_sprp(FIXTURES / "instances" / "unit_F1_m5_C30_a3_0.txt", blocks=2)
    assert two == dataclasses.replace(layout, blocks=2)
    np.testing.assert_array_equal(picks, picks2)


def test_reader_errors_name_the_file(tmp_path):
    with pytest.raises(OmsimError, match="cannot read"):
        read_sprp(tmp_path / "missing.txt")
    src = (FIXTURES / "instances" / "unit_F1_m5_C30_a3_0.txt").read_text(encoding="latin-1")
    bad = tmp_path / "bad.txt"
    bad.write_text(src.replace("ID 1 AISLE 2 CELL 22", "ID 1 AISLE two CELL 22"), encoding="latin-1")
    with pytest.raises(OmsimError, match="bad.txt:.*SKU_SECTION"):
        read_sprp(bad)
    scattered = tmp_path / "scattered.txt"
    scattered.write_text(src.replace("ID 0 AISLE 3 CELL 27 QUANTITY 1 LEFT_RIGHT_HAND_SIDE left",
                                     "ID 0 AISLE 3 CELL 27 QUANTITY 1 LEFT_RIGHT_HAND_SIDE left\n"
                                     "ID 0 AISLE 1 CELL 5 QUANTITY 1 LEFT_RIGHT_HAND_SIDE right"), encoding="latin-1")
    with pytest.raises(OmsimError, match="scattered"):
        read_sprp(scattered)
    outside = tmp_path / "outside.txt"
    outside.write_text(src.replace("DEPOT_AISLE : 4", "DEPOT_AISLE : 7"), encoding="latin-1")
    with pytest.raises(OmsimError, match="outside.txt: layout.depot_aisle"):
        read_sprp(outside)
