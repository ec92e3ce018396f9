"""The backorder queue against an obvious list model, and its ATP pre-filter against brute force."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.fulfilment.backorders import BackorderQueue, expiry_h
from omsim.fulfilment.inventory import Inventory
from omsim.orders import Order

N, S, R = 3, 8, 4
HOME = np.array([0, 2, 1, 2])

ops = st.lists(st.tuples(st.sampled_from(["add", "drop"]), st.integers(0, 15),
                         st.lists(st.integers(0, S - 1), min_size=1, max_size=3, unique=True),
                         st.integers(0, R - 1)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(ops, st.lists(st.integers(0, 4), min_size=N * S, max_size=N * S),
       st.lists(st.integers(0, S - 1), max_size=4, unique=True) | st.none())
def test_queue_matches_a_list_model(seq, stock, skus):
    q = BackorderQueue(N, S, HOME)
    model: list[tuple[int, Order]] = []            # (oid, order) in arrival order
    for op, oid, sk, region in seq:
        if op == "add" and oid not in q:
            o = Order(oid, 0.0, region, "standard", np.array(sk, dtype=np.int64), np.ones(len(sk), dtype=np.int64) * 2)
            q.add(oid, o)
            model.append((oid, o))
        elif op == "drop" and oid in q:
            assert q.drop(oid) is next(o for i, o in model if i == oid)
            model = [(i, o) for i, o in model if i != oid]
    assert list(q.orders) == [i for i, _ in model] and len(q) == len(model)
    units = np.zeros((N, S), dtype=np.int64)
    for _, o in model:
        units[HOME[o.region], o.skus] += o.qty
    np.testing.assert_array_equal(q.units, units)
    # Worth asking again: some SKU of the order has a unit available somewhere (of ``skus`` only, if given).
    on_hand = np.array(stock, dtype=np.int64).reshape(N, S)
    inv = Inventory(on_hand, np.ones((N, S), dtype=np.int64), node_ids=["a", "b", "c"],
                    sku_ids=[f"s{j}" for j in range(S)])
    free = [j for j in range(S) if any(inv.available(n, j) > 0 for n in range(N))]
    want = [i for i, o in model if any(j in free and (skus is None or j in skus) for j in o.skus.tolist())]
    assert q.candidates(inv, None if skus is None else set(skus)) == want


def test_expiry_counts_from_the_order_and_never_before_now():
    assert expiry_h(10.0, 12.0, 72.0) == 82.0
    assert expiry_h(10.0, 100.0, 72.0) == 100.0    # registered after its deadline: cancelled at once
