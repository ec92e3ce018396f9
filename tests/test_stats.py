"""Student's t through SciPy: published tables, closed forms, CDF round trips, the normal limit."""
import math
from statistics import NormalDist

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from omsim.stats import t_cdf, t_quantile

# Two-sided critical values t_{p, df} from published Student t tables
# (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2), to the digits printed there.
TABLE = [
    (0.975, 1, 12.706), (0.975, 2, 4.303), (0.975, 3, 3.182), (0.975, 4, 2.776),
    (0.975, 5, 2.571), (0.975, 9, 2.262), (0.975, 10, 2.228), (0.975, 19, 2.093),
    (0.975, 30, 2.042), (0.975, 100, 1.984), (0.95, 7, 1.895), (0.95, 20, 1.725),
    (0.99, 15, 2.602), (0.995, 4, 4.604), (0.995, 60, 2.660), (0.9995, 10, 4.587),
]


@pytest.mark.parametrize("p, df, expected", TABLE)
def test_t_quantile_matches_published_table(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, abs=6e-4)
    assert t_quantile(1 - p, df) == pytest.approx(-expected, abs=6e-4)


@given(st.floats(0.001, 0.999))
def test_t_quantile_closed_forms_for_one_and_two_df(p):
    # df = 1 is the Cauchy distribution; df = 2 has an algebraic inverse.
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-9, abs=1e-9)
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-9, abs=1e-9)


@given(st.floats(0.0005, 0.9995), st.floats(0.5, 500))
@example(0.5000000000000001, 1.0)   # next to the median: x = df / (df + t^2) rounds to 1
@example(0.9995, 1.0)               # far tail: x ~ 2e-6
def test_t_cdf_inverts_t_quantile(p, df):
    assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-10)


def test_t_tends_to_the_normal():
    z = NormalDist().inv_cdf(0.975)
    assert t_quantile(0.975, math.inf) == pytest.approx(z)
    assert abs(t_quantile(0.975, 1e6) - z) < 1e-5
    assert t_quantile(0.975, 50) > t_quantile(0.975, 500) > z
    with pytest.raises(ValueError):
        t_quantile(1.0, 3)
