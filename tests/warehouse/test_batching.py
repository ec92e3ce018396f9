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


# ------------------------------------------------------------ savings kernel
def neighbour_graph_reference(layout, orders, k):
    """Each order joined to its k nearest (mean nearest-pick aisle-graph distance both ways, ties to the lower index)."""
    n = len(orders)
    ys, cross, pitch = layout.cell_y, layout.cross_aisle_y, float(layout.aisle_pitch_m)

    def pick_dist(p, q):
        (a1, c1), (a2, c2) = p, q
        y1, y2 = float(ys[c1]), float(ys[c2])
        if a1 == a2:
            return abs(y1 - y2)
        return abs(float(a1 - a2)) * pitch + min(abs(y1 - float(c)) + abs(y2 - float(c)) for c in cross)

    def order_dist(u, v):
        if len(u) == 0 or len(v) == 0:
            return 0.0
        total = 0.0  # one running sum, u's picks first, as the kernel adds them (same rounding)
        for p in u:
            total += min(pick_dist(p, q) for q in v) / len(u)
        for q in v:
            total += min(pick_dist(p, q) for p in u) / len(v)
        return 0.5 * total

    d = [[order_dist(orders[u].tolist(), orders[v].tolist()) if u < v else None for v in range(n)] for u in range(n)]
    adj = np.zeros((n, n), dtype=bool)
    for u in range(n):
        near = sorted((d[min(u, v)][max(u, v)], v) for v in range(n) if v != u)[:k]
        for _, v in near:
            adj[u, v] = adj[v, u] = True
    return adj


def random_wave(rng, blocks, n):
    aisles = int(rng.integers(2, 9))
    # Round metres give many equal savings (ties); odd ones give lengths that float64 rounds.
    odd = rng.random() < 0.3
    layout = Layout(blocks=blocks, aisles=aisles, cells_per_aisle=6 * blocks, depot_aisle=int(rng.integers(aisles)),
                    depot=["front", "back"][int(rng.integers(2))], depot_offset_m=float(rng.integers(0, 3)),
                    aisle_pitch_m=2.7 if odd else 3.0, cell_length_m=1.3 if odd else 1.0,
                    cross_aisle_m=2.2 if odd else 1.0)
    orders = random_orders(rng, n, max_lines=4, layout=layout)
    if n > 2 and rng.random() < 0.2:
        orders[int(rng.integers(n))] = np.zeros((0, 2), dtype=np.int64)  # an order with nothing to pick
    return layout, orders


@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2]), st.integers(1, 14))
@settings(max_examples=40, deadline=None)
def test_neighbour_graph_kernel_matches_reference(seed, blocks, n):
    from omsim.warehouse.batching import _neighbour_graph

    rng = np.random.default_rng(seed)
    layout, orders = random_wave(rng, blocks, n)
    k = int(rng.integers(1, n + 1))
    flat = np.concatenate(orders).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(o) for o in orders])]).astype(np.int64)
    got = _neighbour_graph(layout, flat, offsets, k)
    want = neighbour_graph_reference(layout, orders, k)
    if k >= n - 1:
        assert got is None and want.sum() == n * (n - 1)  # every pair
    else:
        assert np.array_equal(got, want)


@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2]), st.integers(1, 22), st.sampled_from([3, 6, 10, 40]),
       st.sampled_from([None, 1, 2, 4]), st.booleans())
@settings(max_examples=150, deadline=None)
def test_savings_kernel_takes_the_merges_of_the_python_reference(seed, blocks, n, capacity, neighbours, lazy):
    # Small integer layouts give many equal savings: the kernel must break ties exactly like np.argmax.
    from omsim.warehouse.batching import _Evaluator, _savings, _savings_kernel

    rng = np.random.default_rng(seed)
    layout, orders = random_wave(rng, blocks, n)
    sizes = rng.integers(1, 5, n).astype(float)
    flat = np.concatenate(orders).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(o) for o in orders])]).astype(np.int64)
    adj = None if neighbours is None or neighbours >= n - 1 else neighbour_graph_reference(layout, orders, neighbours)
    ref = _savings(_Evaluator(layout, orders, "optimal"), sizes, float(capacity), adj)
    batches, lengths, routes = _savings_kernel(layout, flat, offsets, sizes, float(capacity), neighbours, lazy=lazy)
    assert batches == sorted(sorted(b) for b in ref)
    for b, length in zip(batches, lengths):
        picks = np.concatenate([orders[o] for o in b])
        assert length == (route(layout, picks).length if len(picks) else 0.0)
    assert routes >= n  # every order routed alone at least


@given(st.integers(0, 2**32 - 1), st.integers(2, 30), st.sampled_from([1, 3, 5]))
@settings(max_examples=25, deadline=None)
def test_granular_savings_is_a_partition_under_capacity_with_true_lengths(seed, n, neighbours):
    rng = np.random.default_rng(seed)
    layout = Layout(blocks=2, aisles=8, cells_per_aisle=20)
    orders = random_orders(rng, n, max_lines=3, layout=layout)
    sizes = rng.integers(1, 4, n).astype(float)
    res = batch_orders(layout, orders, sizes, 8, method="savings", neighbours=neighbours)
    check_partition(res, n, sizes, 8)
    singles = [route(layout, np.concatenate([orders[o] for o in b])).length for b in res.batches]
    assert res.lengths.tolist() == singles
    # Only merges that save travel: never more than routing every order alone.
    assert res.total_m <= sum(route(layout, o).length for o in orders) + 1e-9
    exact = batch_orders(layout, orders, sizes, 8, method="savings")
    assert batch_orders(layout, orders, sizes, 8, method="savings", neighbours=n - 1).batches == exact.batches


def test_savings_kernel_and_python_path_agree_through_batch_orders():
    # "optimal" on 2 blocks goes through the kernel; the same method registered under
    # another name takes the NumPy path: same batches, same lengths.
    from omsim.warehouse.routing import ROUTING_METHODS, register_method

    m = ROUTING_METHODS["optimal"]
    register_method("optimal-numpy-path", m.route, m.lengths, optimal=True)
    try:
        rng = np.random.default_rng(7)
        layout = Layout(blocks=2, aisles=10, cells_per_aisle=20)
        orders = random_orders(rng, 40, max_lines=3, layout=layout)
        sizes = rng.integers(1, 4, 40).astype(float)
        for nb in (None, 3):
            a = batch_orders(layout, orders, sizes, 12, method="savings", neighbours=nb)
            b = batch_orders(layout, orders, sizes, 12, method="savings", routing="optimal-numpy-path", neighbours=nb)
            assert a.batches == b.batches and a.lengths.tolist() == b.lengths.tolist()
            assert a.info["routes_evaluated"] < b.info["routes_evaluated"]  # the bound spares tours
    finally:
        del ROUTING_METHODS["optimal-numpy-path"]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_neighbours_must_be_a_positive_integer(bad):
    with pytest.raises(OmsimError, match="neighbours"):
        batch_orders(LAYOUT, [[[0, 0]], [[1, 1]]], capacity=3, method="savings", neighbours=bad)


def test_local_search_starts_from_granular_savings():
    rng = np.random.default_rng(3)
    orders = random_orders(rng, 12)
    sizes = rng.integers(1, 4, 12).astype(float)
    start = batch_orders(LAYOUT, orders, sizes, 6, method="savings", neighbours=2)
    res = batch_orders(LAYOUT, orders, sizes, 6, method="local-search", neighbours=2, max_rounds=3, rng=0)
    assert res.info["start_total_m"] == pytest.approx(start.total_m)
    assert res.total_m <= start.total_m + 1e-9
    check_partition(res, 12, sizes, 6)


# ------------------------------------------------------------ simulator waves
def random_wave_lines(rng, layout, n, sku_loc=None):
    """A wave as the simulator holds it: SKU slots, lines of SKUs, packages as offsets (not from 0)."""
    if sku_loc is None:
        n_skus = int(rng.integers(1, 40))
        sku_loc = np.column_stack([rng.integers(0, layout.aisles, n_skus),
                                   rng.integers(0, layout.cells_per_aisle, n_skus)]).astype(np.int64)
    lines = rng.integers(0 if n > 2 else 1, 5, n)  # now and then a package with no line
    skip = int(rng.integers(0, 3))  # the wave's lines start inside a longer line array
    line_ptr = (skip + np.concatenate([[0], np.cumsum(lines)])).astype(np.int64)
    line_sku = rng.integers(0, len(sku_loc), int(line_ptr[-1]) + int(rng.integers(0, 2))).astype(np.int64)
    return sku_loc, line_ptr, line_sku


@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2]), st.integers(1, 24), st.sampled_from([3, 6, 10, 30]),
       st.sampled_from([None, 1, 3]))
@settings(max_examples=60, deadline=None)
def test_savings_waves_batch_like_the_python_reference(seed, blocks, n, capacity, neighbours):
    # The simulator's path (SKU slots gathered, one-pick tours kept across waves, tours built in the
    # kernel) against the NumPy reference of C&W savings, every candidate routed; lengths against
    # routing each tour alone. Several waves per floor: the later ones start from the kept tours.
    from omsim.warehouse.batching import SavingsWaves, _Evaluator, _savings

    rng = np.random.default_rng(seed)
    layout, _ = random_wave(rng, blocks, 1)
    sku_loc = None
    waves = None
    for wave in range(3):
        sku_loc, line_ptr, line_sku = random_wave_lines(rng, layout, n if wave == 0 else int(rng.integers(1, 25)),
                                                        sku_loc)
        waves = waves or SavingsWaves(layout, sku_loc)
        m = line_ptr.size - 1
        units = rng.integers(1, 5, m)
        orders = [sku_loc[line_sku[line_ptr[o]:line_ptr[o + 1]]] for o in range(m)]
        adj = (None if neighbours is None or neighbours >= m - 1
               else neighbour_graph_reference(layout, orders, neighbours))
        ref = _savings(_Evaluator(layout, orders, "optimal"), units.astype(float), float(capacity), adj)
        tours, lengths, picks = waves.tours(line_ptr, line_sku, units, capacity, neighbours)
        assert [t.tolist() for t in tours] == sorted(sorted(b) for b in ref)
        assert all(t.dtype == np.int64 for t in tours) and lengths.dtype == np.float64 and picks.dtype == np.int64
        for t, length, k in zip(tours, lengths, picks):
            tour_picks = np.concatenate([orders[o] for o in t])
            assert length == (route(layout, tour_picks).length if len(tour_picks) else 0.0)
            assert k == len(tour_picks)


def test_savings_waves_survive_pickle_and_deepcopy():
    import copy
    import pickle

    from omsim.warehouse.batching import SavingsWaves

    rng = np.random.default_rng(11)
    layout = Layout(blocks=2, aisles=8, cells_per_aisle=20)
    sku_loc, line_ptr, line_sku = random_wave_lines(rng, layout, 20)
    units = rng.integers(1, 4, 20)
    waves = SavingsWaves(layout, sku_loc)
    want = waves.tours(line_ptr, line_sku, units, 8)
    for other in (pickle.loads(pickle.dumps(waves)), copy.deepcopy(waves)):
        got = other.tours(line_ptr, line_sku, units, 8)
        assert [t.tolist() for t in got[0]] == [t.tolist() for t in want[0]]
        assert got[1].tolist() == want[1].tolist() and got[2].tolist() == want[2].tolist()


def test_savings_waves_refuse_lines_outside_their_arrays():
    # Inputs are the simulator's (validated), but a slip must raise, not read past the arrays.
    from omsim.warehouse.batching import SavingsWaves

    waves = SavingsWaves(LAYOUT, np.array([[0, 0], [1, 1], [2, 2]]))
    ok_ptr, units = np.array([0, 1, 2]), np.array([1, 1])
    with pytest.raises(IndexError, match="SKU"):
        waves.tours(ok_ptr, np.array([0, 3]), units, 3)
    with pytest.raises(ValueError, match="match"):
        waves.tours(np.array([0, 1, 5]), np.array([0, 1]), units, 3)
    with pytest.raises(ValueError, match="decrease"):
        waves.tours(np.array([0, 2, 1]), np.array([0, 1]), units, 3)
    assert [t.tolist() for t in waves.tours(ok_ptr, np.array([0, 1]), units, 3)[0]] == [[0, 1]]


def test_floor_tours_take_the_kernel_path_with_the_same_results():
    # The default scenario's floors batch by exact savings: Floor.tours goes to SavingsWaves;
    # its general path (batch_orders_flat) must give the very same tours, lengths and picks.
    import omsim
    from omsim.engine.floor import Floor

    sc = omsim.load_scenario()
    rng = np.random.default_rng(5)
    n_skus = len(sc.sku_ids)
    pop = rng.random(n_skus)
    for wh in sc.network.warehouses:
        floor = Floor(wh, sc, pop / pop.sum(), np.random.default_rng(1), np.random.default_rng(2))
        assert floor._waves is not None
        for n in (1, 2, 29, 45):
            lines = rng.integers(1, 4, n)
            ptr = np.concatenate([[0], np.cumsum(lines)]).astype(np.int64)
            sku = rng.integers(0, n_skus, int(ptr[-1])).astype(np.int64)
            units = rng.integers(1, 4, n)
            fast = floor.tours(ptr, sku, units)
            kernel, floor._waves = floor._waves, None
            try:
                slow = floor.tours(ptr, sku, units)
            finally:
                floor._waves = kernel
            assert [t.tolist() for t in fast[0]] == [t.tolist() for t in slow[0]]
            assert fast[1].tolist() == slow[1].tolist() and fast[2].tolist() == slow[2].tolist()


@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2, 3]), st.integers(0, 40))
@settings(max_examples=60, deadline=None)
def test_batched_routing_lengths_are_bitwise_those_of_the_back_pointer_dp(seed, blocks, n):
    # The savings kernel compares its candidates' lengths with the tours routed afresh, bit for bit:
    # the batched DP (transitions pulled per state) must give exactly the back-pointer DP's lengths,
    # on layouts whose lengths float64 rounds too.
    from omsim._kernels import _route_exact
    from omsim.warehouse.routing import _dp_route, _kernel_args

    rng = np.random.default_rng(seed)
    aisles = int(rng.integers(1, 9))
    layout = Layout(blocks=blocks, aisles=aisles, cells_per_aisle=5 * blocks, depot_aisle=int(rng.integers(aisles)),
                    depot=["front", "back"][int(rng.integers(2))], depot_offset_m=float(rng.choice([0.0, 1.7])),
                    aisle_pitch_m=float(rng.choice([3.0, 2.7, 0.1])), cell_length_m=float(rng.choice([1.0, 1.3])),
                    cross_aisle_m=float(rng.choice([1.0, 2.2])))
    picks = random_orders(rng, 4, max_lines=max(1, n), layout=layout)
    flat = np.concatenate(picks).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in picks])]).astype(np.int64)
    got = np.empty(len(picks))
    _route_exact.exact_lengths(np.ascontiguousarray(flat[:, 0]), np.ascontiguousarray(flat[:, 1]), offsets,
                               *_kernel_args(layout)[1], got)
    assert got.tolist() == [_dp_route(layout, p).length for p in picks]


@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2, 3]), st.integers(1, 14), st.sampled_from([3.0, 6.0]),
       st.sampled_from(["s-shape", "largest-gap", "combined+"]), st.sampled_from([None, 2]))
@settings(max_examples=40, deadline=None)
def test_heuristic_savings_with_prepared_lengths_batch_as_without(seed, blocks, n, capacity, routing, neighbours):
    # With a heuristic route, savings asks the prepared lengths (per-pick work done once per wave);
    # the batches and lengths must be those of the plain batched kernel call on each gather.
    from omsim.warehouse import batching as B

    layout, orders = random_wave(np.random.default_rng(seed), blocks, n)
    sizes = np.random.default_rng(seed + 1).integers(1, 4, n).astype(float)
    got = batch_orders(layout, orders, sizes, capacity, method="savings", routing=routing, neighbours=neighbours)
    orig = B._Evaluator.lengths_of

    def unprepared(self, seq, per):
        self._prepare = None
        return orig(self, seq, per)

    B._Evaluator.lengths_of = unprepared
    try:
        ref = batch_orders(layout, orders, sizes, capacity, method="savings", routing=routing, neighbours=neighbours)
    finally:
        B._Evaluator.lengths_of = orig
    assert got.batches == ref.batches
    assert np.array_equal(got.lengths, ref.lengths)
