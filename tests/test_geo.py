import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.geo import distance_matrix_km, distance_matrix_km_reference

lat = st.floats(-90, 90, allow_nan=False)
lon = st.floats(-180, 180, allow_nan=False)


def points(n):
    return st.lists(st.tuples(lat, lon), min_size=1, max_size=n).map(np.array)


@given(points(8), points(8))
@settings(max_examples=200, deadline=None)
def test_kernel_matches_numpy_reference(a, b):
    np.testing.assert_allclose(distance_matrix_km(a, b), distance_matrix_km_reference(a, b), rtol=1e-12, atol=1e-9)


def test_known_distance_new_york_los_angeles():
    # JFK (40.6413, -73.7781) to LAX (33.9416, -118.4085): about 3983 km great-circle.
    d = distance_matrix_km([[40.6413, -73.7781]], [[33.9416, -118.4085]])[0, 0]
    assert d == pytest.approx(3983, rel=0.005)


def test_zero_on_diagonal_and_symmetric():
    pts = np.array([[10.0, 20.0], [-33.9, 151.2], [51.5, -0.12]])
    d = distance_matrix_km(pts, pts)
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-9)
    np.testing.assert_allclose(d, d.T, rtol=1e-12)


def test_rejects_out_of_range():
    with pytest.raises(ValueError, match="latitude"):
        distance_matrix_km([[91.0, 0.0]], [[0.0, 0.0]])
