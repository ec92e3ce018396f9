"""Concatenated ranges: the compiled spans against its NumPy twin and the plain definition."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.ranges import spans, spans_reference


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 6)), max_size=20))
def test_spans_kernel_equals_the_numpy_reference(ranges):
    a = np.array([r[0] for r in ranges], dtype=np.int64)
    b = a + np.array([r[1] for r in ranges], dtype=np.int64)
    ptr, idx = spans(a, b)
    ptr2, idx2 = spans_reference(a, b)
    np.testing.assert_array_equal(ptr, ptr2)
    np.testing.assert_array_equal(idx, idx2)
    assert idx.tolist() == [p for s, e in zip(a.tolist(), b.tolist()) for p in range(s, e)]
