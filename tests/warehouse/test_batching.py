"""Order batching: partitions under capacity, evaluation vs single routes and brute force."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.errors import OmsimError
from omsim.warehouse import BATCHING_METHODS, Layout, batch_lengths, batch_orders, route

LAYOUT = Layout(blocks=1, aisles=6, cells_per_aisle=12, aisle_pitch_m=3.0)


def random_orders(rng, n, max_lines=3, layout=LAYOUT):
    return [np.column_stack([rng.integers(0, layout.aisles, k), rng.integers(0, layout.cells_per_aisle, k)])
            for k in rng.integers(1, max_lines + 1, n)]


def set_partitions(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in set_partitions(rest):
        for i in range(len(part)):
            yield part[:i] + [[first] + part[i]] + part[i + 1:]
        yield [[first]] + part


def check_partition(res, n, sizes, capacity):
    seen = sorted(o for b in res.batches for o in b)
    assert seen == list(range(n)), "every order in exactly one batch"
    for b in res.batches:
        assert sizes[b].sum() <= capacity + 1e-9 or len(b) == 1


@given(st.integers(0, 2**32 - 1), st.integers(1, 14), st.sampled_from([3, 5, 8]),
       st.sampled_from(["optimal", "s-shape", "largest-gap"]))
@settings(max_examples=25, deadline=None)
def test_every_method_partitions_orders_under_capacity(seed, n, capacity, routing):
    rng = np.random.default_rng(seed)
    orders = random_orders(rng, n)
    sizes = rng.integers(1, capacity + 1, n).astype(float)
    results = {}
    for method in BATCHING_METHODS:
        res = batch_orders(LAYOUT, orders, sizes, capacity, method=method, routing=routing,
                           time_limit_s=0.05, max_rounds=3, rng=seed)
        check_partition(res, n, sizes, capacity)
        # Reported lengths: each batch routed alone, independently of the batching code.
        singles = [route(LAYOUT, np.concatenate([orders[o] for o in b]), routing).length for b in res.batches]
        assert res.lengths.tolist() == pytest.approx(singles)
        assert res.total_m == pytest.approx(sum(singles))
        results[method] = res
    solo = sum(route(LAYOUT, o, routing).length for o in orders)
    # Savings only merges when that does not add travel; local search starts from savings.
    assert results["savings"].total_m <= solo + 1e-9
    assert results["local-search"].total_m <= results["savings"].total_m + 1e-9
    assert results["local-search"].info["start_total_m"] == pytest.approx(results["savings"].total_m)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_method_beats_brute_force_over_all_partitions(seed):
    rng = np.random.default_rng(seed)
    n, capacity = 6, 6
    orders = random_orders(rng, n)
    sizes = rng.integers(1, 4, n).astype(float)
    feasible = [p for p in set_partitions(list(range(n))) if all(sizes[b].sum() <= capacity for b in p)]
    best = min(batch_lengths(LAYOUT, orders, p).sum() for p in feasible)
    for method in BATCHING_METHODS:
        res = batch_orders(LAYOUT, orders, sizes, capacity, method=method, time_limit_s=0.2, max_rounds=20, rng=0)
        assert res.total_m >= best - 1e-9
        assert any(sorted(map(sorted, res.batches)) == sorted(map(sorted, p)) for p in feasible)


def test_fcfs_fills_carts_in_arrival_order():
    orders = [[[0, 0]], [[1, 1]], [[2, 2]], [[3, 3]]]
    res = batch_orders(LAYOUT, orders, [3, 4, 2, 5], 7, method="fcfs")
    assert res.batches == [[0, 1], [2, 3]]


def test_orders_in_the_same_aisle_are_batched_by_savings():
    # Two far-apart aisles, two orders each: savings pairs the same-aisle orders.
    orders = [[[0, 5]], [[5, 5]], [[0, 7]], [[5, 7]]]
    res = batch_orders(LAYOUT, orders, [1, 1, 1, 1], 2, method="savings")
    assert sorted(res.batches) == [[0, 2], [1, 3]]
    fcfs = batch_orders(LAYOUT, orders, [1, 1, 1, 1], 2, method="fcfs")
    assert res.total_m < fcfs.total_m


def test_oversize_order_is_picked_alone_and_units_alias():
    orders = [[[0, 0]], [[1, 1]], [[2, 2]]]
    res = batch_orders(LAYOUT, orders, units=[1, 9, 1], capacity=4, method="savings")
    assert [1] in res.batches
    assert sorted(o for b in res.batches for o in b) == [0, 1, 2]
    assert list(iter(res)) == res.batches and len(res) == len(res.batches)


def test_empty_and_default_sizes():
    assert batch_orders(LAYOUT, [], capacity=3).total_m == 0.0
    res = batch_orders(LAYOUT, [[[0, 0], [0, 1]], [[1, 1]], [[2, 2], [2, 3]]], capacity=3, method="fcfs")
    assert res.batches == [[0, 1], [2]]  # sizes default to the number of picks


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="greedy", capacity=3), "unknown"),
    (dict(capacity=0), "capacity"),
    (dict(sizes=[1, 2], capacity=3), "sizes"),
    (dict(sizes=[1, -1, 1], capacity=3), "sizes"),
    (dict(capacity=3, routing="teleport"), "unknown"),
])
def test_bad_input_is_a_user_error(kwargs, match):
    orders = [[[0, 0]], [[1, 1]], [[2, 2]]]
    with pytest.raises(OmsimError, match=match):
        batch_orders(LAYOUT, orders, **kwargs)


def test_seed_starts_from_the_farthest_order_and_adds_the_nearest():
    # Order 0 is the farthest; order 1 shares its aisle, so it joins it; then
    # the longer of the two near orders (3) seeds the second cart and takes 2.
    orders = [[[5, 11]], [[5, 10]], [[0, 0]], [[0, 1]]]
    res = batch_orders(LAYOUT, orders, [1, 1, 1, 1], 2, method="seed")
    assert res.batches == [[0, 1], [2, 3]]
    assert res.total_m == pytest.approx(batch_lengths(LAYOUT, orders, [[0, 1], [2, 3]]).sum())


@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.sampled_from(["optimal", "s-shape", "combined"]))
@settings(max_examples=25, deadline=None)
def test_batched_evaluation_matches_one_route_per_batch(seed, n, routing):
    # The evaluator gathers the batches' picks from one flat array and calls the routing kernel once;
    # each batch must still get exactly the length of routing its picks on their own.
    from omsim.warehouse.batching import _Evaluator

    layout = Layout(blocks=2, aisles=5, cells_per_aisle=12)
    rng = np.random.default_rng(seed)
    picks = random_orders(rng, n, layout=layout)
    batches = [sorted(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False).tolist()) for _ in range(6)]
    got = _Evaluator(layout, picks, routing).lengths(batches)
    for b, length in zip(batches, got):
        assert length == route(layout, np.concatenate([picks[o] for o in b]), routing).length
