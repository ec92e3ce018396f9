"""Inventory and its ledger, checked against a plain-dict model of the rules."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from omsim.errors import OmsimError
from omsim.fulfilment.inventory import LEDGER_COLUMNS, Inventory

NODES = ["EWR", "LAX"]
SKUS = ["A", "B", "C"]


def _key(rng_choice, i, ids):
    """Address by id or by position (both must work)."""
    return ids[i] if rng_choice else i


class InventoryMachine(RuleBasedStateMachine):
    """Every operation, valid or not, applied to the Inventory and to a dict model.

    The model is the specification written out longhand: an operation is
    legal iff the model says so, and then both change the same way; an
    illegal one raises OmsimError and changes nothing at all.
    """

    @initialize(
        init=st.lists(st.integers(0, 8), min_size=6, max_size=6),
        safety=st.lists(st.integers(0, 3), min_size=6, max_size=6),
    )
    def setup(self, init, safety):
        self.inv = Inventory(np.array(init).reshape(2, 3), np.array(safety).reshape(2, 3),
                             node_ids=NODES, sku_ids=SKUS)
        self.cells = [(i, j) for i in range(2) for j in range(3)]
        self.on_hand = {c: init[k] for k, c in enumerate(self.cells)}
        self.reserved = {c: 0 for c in self.cells}
        self.safety = {c: safety[k] for k, c in enumerate(self.cells)}
        self.pos = {}  # po id -> [cell, outstanding]
        self.t = 0.0
        self.ledger = [(0.0, NODES[i], SKUS[j], init[k], "initial", None) for k, (i, j) in enumerate(self.cells)]
        self.history = {}  # time -> on-hand snapshot at the end of that time
        self.ops = 0

    # -- helpers -------------------------------------------------------------
    def _snapshot(self):
        inv = self.inv
        return (inv.on_hand.copy(), inv.reserved.copy(), inv.inbound.copy(), len(inv),
                {p.po_id: p.qty for p in inv.open_orders()})

    def _apply(self, legal, call, then):
        """Run ``call``; it must succeed iff ``legal``; on success update the model with ``then``."""
        before = self._snapshot()
        if legal:
            call()
            then()
        else:
            with pytest.raises(OmsimError):
                call()
            after = self._snapshot()
            for a, b in zip(before, after):
                if isinstance(a, np.ndarray):
                    assert np.array_equal(a, b)
                else:
                    assert a == b
        self.history[self.t] = dict(self.on_hand)
        self.ops += 1

    def _log(self, c, delta, reason, ref):
        if delta:
            self.ledger.append((self.t, NODES[c[0]], SKUS[c[1]], delta, reason, ref))

    def _atp(self, c):
        return self.on_hand[c] - self.reserved[c] - self.safety[c]

    cell = st.tuples(st.integers(0, 1), st.integers(0, 2))
    qty = st.integers(0, 12)
    by_id = st.booleans()

    # -- rules -----------------------------------------------------------------
    @rule(dt=st.sampled_from([0.0, 0.5, 3.0, 24.0]))
    def advance(self, dt):
        self.t += dt

    @rule(c=cell, q=qty, ids=by_id, safety=st.booleans())
    def reserve(self, c, q, ids, safety):
        limit = self.on_hand[c] - self.reserved[c] - (0 if safety else self.safety[c])
        self._apply(q <= limit,
                    lambda: self.inv.reserve(_key(ids, c[0], NODES), _key(ids, c[1], SKUS), q, "o", self.t,
                                             allow_safety=safety),
                    lambda: self.reserved.__setitem__(c, self.reserved[c] + q))

    @rule(c=cell, q=qty, ids=by_id)
    def release(self, c, q, ids):
        self._apply(q <= self.reserved[c],
                    lambda: self.inv.release(_key(ids, c[0], NODES), _key(ids, c[1], SKUS), q, "o", self.t),
                    lambda: self.reserved.__setitem__(c, self.reserved[c] - q))

    @rule(c=cell, q=qty, ids=by_id)
    def consume(self, c, q, ids):
        def then():
            self.reserved[c] -= q
            self.on_hand[c] -= q
            self._log(c, -q, "ship", "o")
        self._apply(q <= self.reserved[c],
                    lambda: self.inv.consume(_key(ids, c[0], NODES), _key(ids, c[1], SKUS), q, "o", self.t), then)

    @rule(c=cell, q=qty)
    def receive_unplanned(self, c, q):
        def then():
            self.on_hand[c] += q
            self._log(c, q, "receipt", None)
        self._apply(True, lambda: self.inv.receive(c[0], c[1], q, self.t), then)

    @rule(c=cell, q=st.integers(0, 12), eta=st.floats(0, 100))
    def order(self, c, q, eta):
        ids = []

        def call():
            ids.append(self.inv.order(c[0], c[1], q, self.t + eta, self.t))

        def then():
            self.pos[ids[0]] = [c, q]
        self._apply(q > 0, call, then)

    @precondition(lambda self: bool(self.pos))
    @rule(data=st.data(), wrong_cell=st.booleans())
    def receive_po(self, data, wrong_cell):
        po = data.draw(st.sampled_from(sorted(self.pos)))
        c, out = self.pos[po]
        q = data.draw(st.integers(0, out + 3))
        target = c if not wrong_cell else ((c[0] + 1) % 2, c[1])

        def then():
            self.on_hand[c] += q
            self._log(c, q, "receipt", po)
            self.pos[po][1] -= q
            if self.pos[po][1] == 0:
                del self.pos[po]
        self._apply(q <= out and not wrong_cell, lambda: self.inv.receive(target[0], target[1], q, self.t, po_id=po),
                    then)

    @rule(c=cell, q=qty)
    def restock(self, c, q):
        def then():
            self.on_hand[c] += q
            self._log(c, q, "restock", "r")
        self._apply(True, lambda: self.inv.restock(c[0], c[1], q, "r", self.t), then)

    @rule(c=cell, q=qty)
    def scrap(self, c, q):
        def then():
            self.on_hand[c] -= q
            self._log(c, -q, "scrap", None)
        self._apply(q <= self.on_hand[c] - self.reserved[c], lambda: self.inv.scrap(c[0], c[1], q, None, self.t),
                    then)

    @rule(c=cell, d=st.integers(-10, 10))
    def adjust(self, c, d):
        def then():
            self.on_hand[c] += d
            self._log(c, d, "adjust", "count")
        self._apply(self.on_hand[c] + d >= self.reserved[c],
                    lambda: self.inv.adjust(c[0], c[1], d, "count", self.t), then)

    @rule(lines=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 2), st.integers(0, 6)), max_size=5))
    def reserve_many(self, lines):
        total = {}
        for i, j, q in lines:
            total[(i, j)] = total.get((i, j), 0) + q
        legal = all(q <= self._atp(c) for c, q in total.items())

        def then():
            for c, q in total.items():
                self.reserved[c] += q
        arr = np.array(lines, dtype=np.int64).reshape(-1, 3)
        self._apply(legal, lambda: self.inv.reserve_many(arr[:, 0], arr[:, 1], arr[:, 2], "m", self.t), then)

    @rule(lines=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 2), st.integers(0, 6)), max_size=5),
          release=st.booleans())
    def consume_or_release_many(self, lines, release):
        total = {}
        for i, j, q in lines:
            total[(i, j)] = total.get((i, j), 0) + q
        legal = all(q <= self.reserved[c] for c, q in total.items())

        def then():
            for c in sorted(total):
                self.reserved[c] -= total[c]
                if not release:
                    self.on_hand[c] -= total[c]
                    self._log(c, -total[c], "ship", "m")
        arr = np.array(lines, dtype=np.int64).reshape(-1, 3)
        node_ids = np.array(NODES)[arr[:, 0]]  # ids in the vectorised call too
        fn = self.inv.release_many if release else self.inv.consume_many
        self._apply(legal, lambda: fn(node_ids, arr[:, 1], arr[:, 2], "m", self.t), then)

    # -- invariants ----------------------------------------------------------
    @invariant()
    def matches_model(self):
        if not hasattr(self, "inv"):
            return
        inv = self.inv
        for c in self.cells:
            assert inv.on_hand[c] == self.on_hand[c]
            assert inv.reserved[c] == self.reserved[c]
            assert inv.available(*c) == max(self._atp(c), 0)
            inbound = sum(q for cc, q in self.pos.values() if cc == c)
            assert inv.inbound[c] == inbound
            assert inv.position(*c) == self.on_hand[c] - self.reserved[c] + inbound
        assert {p.po_id: p.qty for p in inv.open_orders()} == {k: v[1] for k, v in self.pos.items()}

    @invariant()
    def ledger_sums_to_on_hand_and_never_negative(self):
        if not hasattr(self, "inv"):
            return
        inv = self.inv
        assert np.all(inv.reserved >= 0) and np.all(inv.on_hand >= inv.reserved)
        assert np.array_equal(inv.ledger_on_hand(), inv.on_hand)
        assert len(inv) == len(self.ledger)

    def teardown(self):
        if not hasattr(self, "inv"):
            return
        frame = self.inv.ledger_frame()
        assert list(frame.columns) == list(LEDGER_COLUMNS)
        # Append-only and exact: every row as the model wrote it, in order.
        rows = list(frame.itertuples(index=False, name=None))
        assert rows == self.ledger
        # Running sum per (node, sku), in time order, is never negative.
        assert frame["time_h"].is_monotonic_increasing
        running = frame.groupby(["node", "sku"])["delta"].cumsum()
        assert (running >= 0).all()
        # on_hand_at reproduces the history at every time we passed through.
        for t, snap in self.history.items():
            for (i, j), oh in snap.items():
                assert self.inv.on_hand_at(NODES[i], SKUS[j], t) == oh


TestInventoryMachine = InventoryMachine.TestCase
TestInventoryMachine.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)


# ---------------------------------------------------------------------------
# Worked examples

def test_initial_rows_one_per_node_and_sku_including_zeros():
    inv = Inventory(np.array([[3, 0, 1], [0, 0, 7]]))
    f = inv.ledger_frame()
    assert list(f.columns) == ["time_h", "node", "sku", "delta", "reason", "order_id"]
    assert len(f) == 6 and set(f["reason"]) == {"initial"}
    assert f["node"].tolist() == [0, 0, 0, 1, 1, 1] and f["sku"].tolist() == [0, 1, 2, 0, 1, 2]
    assert f["delta"].tolist() == [3, 0, 1, 0, 0, 7]


def test_ledger_uses_string_ids_and_reasons():
    inv = Inventory([[5]], node_ids=["EWR"], sku_ids=["SKU-1"])
    inv.reserve("EWR", "SKU-1", 2, "o1", 1.0)
    inv.consume("EWR", "SKU-1", 2, "o1", 2.0)
    po = inv.order("EWR", "SKU-1", 10, eta_h=30.0, t=2.0, po_id="PO-9")
    inv.receive_po(po, 30.0)
    inv.restock(0, 0, 1, "o1", 40.0)
    f = inv.ledger_frame()
    assert f["reason"].tolist() == ["initial", "ship", "receipt", "restock"]
    assert f["node"].tolist() == ["EWR"] * 4 and f["sku"].tolist() == ["SKU-1"] * 4
    assert f["order_id"].tolist() == [None, "o1", "PO-9", "o1"]
    assert f["delta"].tolist() == [5, -2, 10, 1]
    assert inv.on_hand_at("EWR", "SKU-1", 1.99) == 5
    assert inv.on_hand_at("EWR", "SKU-1", 2.0) == 3
    assert inv.on_hand_at("EWR", "SKU-1", 35.0) == 13
    assert inv.on_hand[0, 0] == 14 and inv.inbound[0, 0] == 0


def test_error_message_names_node_sku_quantity_and_available():
    inv = Inventory([[4, 1]], safety=[[1, 0]], node_ids=["EWR"], sku_ids=["A", "B"])
    with pytest.raises(OmsimError) as e:
        inv.reserve("EWR", "A", 5, "o7")
    msg = str(e.value)
    assert "EWR" in msg and "A" in msg and "5" in msg and "only 3 available" in msg and "o7" in msg


def test_reserve_many_is_all_or_nothing_with_repeated_pairs():
    inv = Inventory([[3, 3], [3, 3]])
    # Each line alone fits, but the two lines on (0, 1) together need 4 > 3.
    with pytest.raises(OmsimError, match="nothing was reserved"):
        inv.reserve_many([1, 0, 0], [0, 1, 1], [3, 2, 2], "o")
    assert inv.reserved.sum() == 0
    inv.reserve_many([1, 0, 0], [0, 1, 1], [3, 1, 2], "o")
    assert inv.reserved.tolist() == [[0, 3], [3, 0]]


@pytest.mark.parametrize("bad", [-1, 1.5, "3", None, True])
def test_bad_quantities_raise_user_error(bad):
    inv = Inventory([[3]])
    with pytest.raises(OmsimError):
        inv.reserve(0, 0, bad)
    with pytest.raises(OmsimError):
        inv.restock(0, 0, bad)
    assert inv.reserved[0, 0] == 0 and inv.on_hand[0, 0] == 3 and len(inv) == 1


def test_unknown_ids_and_positions():
    inv = Inventory([[3]], node_ids=["EWR"], sku_ids=["A"])
    for node, sku in [("JFK", "A"), ("EWR", "Z"), (1, 0), (0, -1)]:
        with pytest.raises(OmsimError):
            inv.reserve(node, sku, 1)


def test_time_cannot_go_backwards_in_the_ledger():
    inv = Inventory([[3]])
    inv.restock(0, 0, 1, t=5.0)
    with pytest.raises(OmsimError, match=r"time 4.0 h is before the last ledger entry at 5.0 h"):
        inv.restock(0, 0, 1, t=4.0)
    assert inv.on_hand[0, 0] == 4


def test_po_lifecycle_and_partial_receipts():
    inv = Inventory(np.zeros((2, 2), dtype=int))
    po = inv.order(1, 0, 10, eta_h=48.0, t=0.0)
    assert po == "PO000001" and inv.order(0, 1, 1, eta_h=5.0) == "PO000002"
    inv.receive_po("PO000002", 5.0)
    assert inv.inbound[1, 0] == 10 and inv.position(1, 0) == 10
    assert [p.po_id for p in inv.due(47.0)] == [] and [p.po_id for p in inv.due(48.0)] == [po]
    inv.receive(1, 0, 4, 48.0, po_id=po)
    assert inv.inbound[1, 0] == 6 and inv.on_hand[1, 0] == 4
    with pytest.raises(OmsimError, match="only 6 outstanding"):
        inv.receive(1, 0, 7, 49.0, po_id=po)
    with pytest.raises(OmsimError):
        inv.receive(0, 0, 1, 49.0, po_id=po)  # wrong node
    inv.receive_po(po, 50.0)
    assert inv.open_orders() == [] and inv.inbound.sum() == 0 and inv.on_hand[1, 0] == 10
    with pytest.raises(OmsimError):
        inv.order(0, 0, 5, eta_h=10.0, t=20.0)  # arrives before it is placed


def test_copy_is_independent():
    inv = Inventory([[5]])
    other = inv.copy()
    other.reserve(0, 0, 2)
    other.consume(0, 0, 2, t=1.0)
    assert inv.on_hand[0, 0] == 5 and len(inv) == 1 and len(other) == 2


def test_large_initial_ledger_is_compact():
    # 10 nodes x 20k SKUs: the initial rows are written as arrays, not per row.
    rng = np.random.default_rng(0)
    stock = rng.integers(0, 50, size=(10, 20_000))
    inv = Inventory(stock)
    assert len(inv) == 200_000
    assert np.array_equal(inv.ledger_on_hand(), stock)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=12), st.integers(0, 5))
def test_available_clips_at_zero_and_matches_formula(stock, safety):
    inv = Inventory(np.array([stock]), safety=safety)
    expected = np.maximum(np.array(stock) - safety, 0)
    assert np.array_equal(inv.available(), expected[None, :])
    assert np.array_equal(inv.available(node=0), expected)
    assert [inv.available(0, j) for j in range(len(stock))] == expected.tolist()


def test_state_frame():
    inv = Inventory([[5, 2]], safety=[[1, 0]], node_ids=["N"], sku_ids=["A", "B"])
    inv.reserve("N", "B", 2)
    f = inv.state_frame()
    assert isinstance(f, pd.DataFrame)
    assert f[["on_hand", "reserved", "safety", "available"]].values.tolist() == [[5, 0, 1, 4], [2, 2, 0, 0]]


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 4)), max_size=80),
       stock=st.lists(st.integers(0, 30), min_size=12, max_size=12))
def test_many_short_and_long_allocations_follow_the_same_rules(lines, stock):
    # Allocations above 32 lines take the vectorised path, shorter ones the plain one: both must
    # accept exactly when every (node, sku) total fits, and write one ship row per distinct pair.
    inv = Inventory(np.array(stock).reshape(3, 4))
    total = {}
    for i, j, q in lines:
        total[(i, j)] = total.get((i, j), 0) + q
    fits = all(q <= stock[i * 4 + j] for (i, j), q in total.items())
    arr = np.array(lines, dtype=np.int64).reshape(-1, 3)
    if not fits:
        with pytest.raises(OmsimError):
            inv.reserve_many(arr[:, 0], arr[:, 1], arr[:, 2])
        assert inv.reserved.sum() == 0
        return
    inv.reserve_many(arr[:, 0], arr[:, 1], arr[:, 2])
    for (i, j), q in total.items():
        assert inv.reserved[i, j] == q
    inv.consume_many(arr[:, 0], arr[:, 1], arr[:, 2], "o", 1.0)
    ships = inv.ledger_frame().query("reason == 'ship'")
    assert sorted(zip(ships["node"], ships["sku"], -ships["delta"])) == sorted(
        (i, j, q) for (i, j), q in total.items() if q > 0)
    assert inv.reserved.sum() == 0 and np.array_equal(inv.ledger_on_hand(), inv.on_hand)


@given(packages=st.lists(st.tuples(st.integers(0, 2), st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                                                             min_size=1, max_size=4, unique_by=lambda x: x[0])),
                         max_size=12),
       stock=st.lists(st.integers(0, 6), min_size=12, max_size=12))
@settings(max_examples=150, deadline=None)
def test_consume_lines_equals_consume_many_package_by_package(packages, stock):
    # The reference: consume_many once per package (node, its SKU lines), each with its own order id.
    # consume_lines gets the same lines concatenated, each package's lines sorted by SKU.
    on_hand = np.array(stock).reshape(3, 4)
    a = Inventory(on_hand)
    a.reserved[:] = on_hand           # everything reserved: shipping may still ask for too much
    b = a.copy()
    try:
        for p, (node, lines) in enumerate(packages):
            a.consume_many([node] * len(lines), [s for s, _ in lines], [q for _, q in lines], order_id=f"o{p}", t=2.0)
        want = None
    except OmsimError as exc:
        want = exc
    rows = [(p, node, s, q) for p, (node, lines) in enumerate(packages) for s, q in sorted(lines)]
    args = [np.array([r[i] for r in rows], dtype=np.int64) for i in (1, 2, 3)]
    refs = [f"o{r[0]}" for r in rows]
    if want is not None:
        before = (b.on_hand.copy(), b.reserved.copy(), len(b))
        with pytest.raises(OmsimError, match="cannot consume"):
            b.consume_lines(*args, refs, t=2.0)
        assert np.array_equal(before[0], b.on_hand) and np.array_equal(before[1], b.reserved) and len(b) == before[2]
        return
    b.consume_lines(*args, refs, t=2.0)
    assert np.array_equal(a.on_hand, b.on_hand) and np.array_equal(a.reserved, b.reserved)
    pd.testing.assert_frame_equal(a.ledger_frame(), b.ledger_frame())


def test_consume_lines_checks_its_input():
    inv = Inventory([[3, 3]])
    inv.reserve_many([0, 0], [0, 1], [2, 2])
    with pytest.raises(OmsimError, match="same length"):
        inv.consume_lines([0], [0, 1], [1, 1], "o", 1.0)
    with pytest.raises(OmsimError, match="sku position out of range"):
        inv.consume_lines([0], [2], [1], "o", 1.0)
    with pytest.raises(OmsimError, match="quantity must be >= 0"):
        inv.consume_lines([0], [0], [-1], "o", 1.0)
    with pytest.raises(OmsimError, match="1 order ids for 2 lines"):
        inv.consume_lines([0, 0], [0, 1], [1, 1], ["o"], 1.0)
    inv.consume_lines([0, 0, 0], [0, 1, 0], [1, 2, 1], ["a", "b", "c"], 1.0)
    assert inv.on_hand.tolist() == [[1, 1]] and inv.reserved.tolist() == [[0, 0]]
    assert inv.ledger_frame()["order_id"].tolist()[-3:] == ["a", "b", "c"]
    with pytest.raises(OmsimError, match="before the last ledger entry"):
        inv.consume_lines([0], [0], [0], "o", 0.5)


@given(lines=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(-1, 4)), max_size=12))
@settings(max_examples=150, deadline=None)
def test_restock_lines_equals_restock_line_by_line(lines):
    # Repeated (node, SKU) lines, zero units (no ledger row) and a negative quantity (nothing changes).
    a = Inventory(np.arange(12).reshape(3, 4))
    b = a.copy()
    nodes, skus, qtys = (np.array([ln[i] for ln in lines], dtype=np.int64) for i in range(3))
    refs = [f"r{i}" for i in range(len(lines))]
    if (qtys < 0).any():
        before = (b.on_hand.copy(), len(b))
        with pytest.raises(OmsimError, match="quantity must be >= 0"):
            b.restock_lines(nodes, skus, qtys, refs, t=3.0)
        assert np.array_equal(before[0], b.on_hand) and len(b) == before[1]
        return
    for (n, s, q), r in zip(lines, refs):
        a.restock(n, s, q, order_id=r, t=3.0)
    b.restock_lines(nodes, skus, qtys, refs, t=3.0)
    assert np.array_equal(a.on_hand, b.on_hand) and len(a) == len(b)
    pd.testing.assert_frame_equal(a.ledger_frame(), b.ledger_frame())
    if qtys.sum() > 0:      # rows were written at 3 h: the ledger stays in time order
        with pytest.raises(OmsimError, match="before the last ledger entry"):
            b.restock_lines([0], [0], [1], ["late"], t=2.0)
