import numpy as np
import pytest

from omsim.rng import STREAM_NAMES, Streams


def test_same_seed_same_draws():
    a, b = Streams(7), Streams(7)
    for name in STREAM_NAMES:
        assert np.array_equal(a[name].random(5), b[name].random(5))


def test_streams_are_distinct():
    s = Streams(7)
    draws = {name: tuple(s[name].random(4)) for name in STREAM_NAMES}
    assert len(set(draws.values())) == len(STREAM_NAMES)


def test_using_one_stream_does_not_shift_another():
    # Common random numbers: drawing more payments must not change arrivals.
    a, b = Streams(3), Streams(3)
    a["payments"].random(1000)
    assert np.array_equal(a["arrivals"].random(10), b["arrivals"].random(10))


def test_replications_independent_and_reproducible():
    r0, r1 = Streams(3, replication=0), Streams(3, replication=1)
    x0, x1 = r0["arrivals"].random(10), r1["arrivals"].random(10)
    assert not np.array_equal(x0, x1)
    assert np.array_equal(x0, Streams(3, replication=0)["arrivals"].random(10))
    assert not np.array_equal(x0, Streams(3)["arrivals"].random(10))


def test_spawn_children_reproducible():
    a = [g.random() for g in Streams(5).spawn("picking", 3)]
    b = [g.random() for g in Streams(5).spawn("picking", 3)]
    assert a == b and len(set(a)) == 3


def test_unknown_stream_and_negative_seed():
    with pytest.raises(KeyError, match="unknown random stream"):
        Streams(1)["nope"]
    with pytest.raises(ValueError):
        Streams(-1)
