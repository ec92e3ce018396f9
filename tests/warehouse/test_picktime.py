"""Pick time model: the closed form, vectorised, validated parameters."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.errors import OmsimError
from omsim.warehouse import PickTimeModel


def test_closed_form_one_tour():
    m = PickTimeModel(walk_speed_m_per_s=0.8, pick_time_s=12.0, tour_setup_s=90.0)
    # 400 m at 0.8 m/s = 500 s; 20 picks x 12 s = 240 s; + 90 s = 830 s.
    assert m.tour_time_h(400.0, 20) == pytest.approx(830.0 / 3600.0)
    assert isinstance(m.tour_time_h(400.0, 20), float)


def test_vectorised_matches_elementwise():
    m = PickTimeModel(1.2, 8.0, 30.0)
    lengths = np.array([0.0, 150.0, 987.5])
    picks = np.array([0, 3, 41])
    got = m.tour_time_h(lengths, picks)
    assert got.shape == (3,)
    assert got.tolist() == pytest.approx([m.tour_time_h(a, b) for a, b in zip(lengths, picks)])
    assert m.tour_hours(lengths, picks).tolist() == got.tolist()
    # Walking twice as fast halves only the walking part.
    fast = PickTimeModel(2.4, 8.0, 30.0)
    assert (got - fast.tour_time_h(lengths, picks)).tolist() == pytest.approx((lengths / 2.4 / 3600).tolist())


def test_from_warehouse_reads_the_scenario_fields():
    class Wh:
        walk_speed_m_per_s = 1.5
        pick_time_s = 5.0
        tour_setup_s = 0.0

    assert PickTimeModel.from_warehouse(Wh()) == PickTimeModel(1.5, 5.0, 0.0)


@pytest.mark.parametrize("kwargs", [dict(walk_speed_m_per_s=0.0), dict(pick_time_s=-1.0),
                                    dict(tour_setup_s=float("nan"))])
def test_bad_parameters_are_user_errors(kwargs):
    with pytest.raises(OmsimError):
        PickTimeModel(**kwargs)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 5000), st.integers(0, 60)), max_size=8),
       st.floats(0.3, 3.0), st.floats(0, 30), st.floats(0, 120))
def test_tour_hours_list_is_bitwise_the_array_form(tours, speed, pick_s, setup_s):
    m = PickTimeModel(speed, pick_s, setup_s)
    lengths = np.array([t[0] for t in tours], dtype=np.float64)
    picks = np.array([t[1] for t in tours], dtype=np.int64)
    assert m.tour_hours_list(lengths.tolist(), picks.tolist()) == np.asarray(m.tour_time_h(lengths, picks)).tolist()
