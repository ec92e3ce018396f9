"""Hypothesis strategies for warehouse layouts and pick lists (shared by the warehouse tests)."""
import numpy as np
from hypothesis import strategies as st

from omsim.warehouse import Layout


@st.composite
def layouts(draw, max_blocks=3, min_blocks=1):
    blocks = draw(st.integers(min_blocks, max_blocks))
    aisles = draw(st.integers(1, 6))
    return Layout(
        blocks=blocks,
        aisles=aisles,
        cells_per_aisle=blocks * draw(st.integers(1, 12)),
        sides=draw(st.integers(1, 2)),
        aisle_pitch_m=draw(st.sampled_from([1.0, 2.5, 3.0, 7.0])),
        cell_length_m=draw(st.sampled_from([0.5, 1.0, 1.3])),
        front_gap_m=draw(st.sampled_from([0.0, 1.0, 2.25])),
        back_gap_m=draw(st.sampled_from([0.0, 1.0, 4.0])),
        cross_aisle_m=draw(st.sampled_from([0.0, 1.0, 2.5])),
        depot_aisle=draw(st.integers(0, aisles - 1)),
        depot=draw(st.sampled_from(["front", "back"])),
        depot_offset_m=draw(st.sampled_from([0.0, 1.5])),
    )


@st.composite
def layout_and_picks(draw, max_picks=9, max_blocks=3, min_blocks=1):
    lay = draw(layouts(max_blocks=max_blocks, min_blocks=min_blocks))
    n = draw(st.integers(0, max_picks))
    cpb = lay.cells_per_block
    # Half the picks sit at the ends of a block: that is where skipping the
    # largest gap of an aisle (both ends, not through) pays off.
    ends = sorted({b * cpb for b in range(lay.blocks)} | {b * cpb + cpb - 1 for b in range(lay.blocks)})
    cell = st.one_of(st.integers(0, lay.cells_per_aisle - 1), st.sampled_from(ends))
    picks = [(draw(st.integers(0, lay.aisles - 1)), draw(cell)) for _ in range(n)]
    return lay, np.array(picks, dtype=np.int64).reshape(-1, 2)
