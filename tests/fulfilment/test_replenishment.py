"""Reorder policies: quantities by their definitions, and inventory theory's closed forms.

The simulations drive the real :class:`Inventory` and :class:`ReorderPolicy`
through a periodic-review process with Poisson demand and full backordering,
and compare the stock-out probability and fill rate with the textbook values:

* base stock ``S``, lead time ``L`` periods: the net inventory at the end of a
  period is ``S - D`` with ``D ~ Poisson(lambda (L + 1))``, so
  ``P(stock-out) = P(D > S)`` and the fill rate is
  ``1 - (E(D_{L+1} - S)^+ - E(D_L - S)^+) / lambda``;
* ``(r, Q)``: the position after ordering is uniform on ``r+1 .. r+Q``, so
  ``P(stock-out) = (1/Q) sum_y P(D > y)``.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from omsim.errors import OmsimError
from omsim.fulfilment.inventory import Inventory
from omsim.fulfilment.replenishment import ReorderPolicy, order_quantities


# ---------------------------------------------------------------- Poisson helpers (no scipy)
def poisson_pmf(mu, kmax):
    p = [math.exp(-mu)]
    for k in range(1, kmax + 1):
        p.append(p[-1] * mu / k)
    return p


def p_greater(mu, y):
    """P(Poisson(mu) > y)."""
    return 1.0 - sum(poisson_pmf(mu, y)) if y >= 0 else 1.0


def expected_excess(mu, y):
    """E[(Poisson(mu) - y)^+]."""
    kmax = int(mu + 20 * math.sqrt(mu) + 50)
    return sum(p * max(k - y, 0) for k, p in enumerate(poisson_pmf(mu, kmax)))


# ---------------------------------------------------------------- the periodic process
def simulate(policy, lam, lead, periods, seed, warmup=50):
    """One SKU at one node: receipts, backorders first, review, then the period's demand."""
    rng = np.random.default_rng(seed)
    start = policy.base if policy.kind == "base_stock" else policy.r + policy.Q
    inv = Inventory([[start]])
    back = 0
    stockouts = demand_total = short_total = 0
    for t in range(periods):
        t_h = 24.0 * t
        for po in inv.due(t_h):
            inv.receive_po(po.po_id, t_h)
        fill = min(back, inv.available(0, 0))
        if fill:
            inv.reserve(0, 0, fill, "backorders", t_h)
            inv.consume(0, 0, fill, "backorders", t_h)
            back -= fill
        q = policy.order_quantity(inv.position(0, 0, backorders=back))
        if q:
            inv.order(0, 0, q, eta_h=24.0 * (t + lead), t=t_h)
        d = int(rng.poisson(lam))
        served = min(d, inv.available(0, 0))
        if served:
            inv.reserve(0, 0, served, t, t_h + 1.0)
            inv.consume(0, 0, served, t, t_h + 1.0)
        back += d - served
        if t >= warmup:
            stockouts += back > 0
            demand_total += d
            short_total += d - served
    n = periods - warmup
    assert np.array_equal(inv.ledger_on_hand(), inv.on_hand)
    return stockouts / n, 1.0 - short_total / demand_total


def test_base_stock_matches_poisson_closed_form():
    lam, lead, S = 5.0, 2, 20
    p_out, fill = simulate(ReorderPolicy("base_stock", base=S, review_h=24.0), lam, lead, 20_000, seed=11)
    want_out = p_greater(lam * (lead + 1), S)                       # 0.0833
    want_fill = 1.0 - (expected_excess(lam * (lead + 1), S) - expected_excess(lam * lead, S)) / lam
    # Windows of L+1 periods overlap, so the standard error is about sqrt(3 p (1-p) / n) = 0.0034.
    assert p_out == pytest.approx(want_out, abs=0.015)
    assert fill == pytest.approx(want_fill, abs=0.01)


def test_rq_matches_uniform_position_closed_form():
    lam, lead, r, Q = 5.0, 2, 12, 10
    p_out, _ = simulate(ReorderPolicy("rQ", r=r, Q=Q, review_h=24.0), lam, lead, 20_000, seed=5)
    want = sum(p_greater(lam * (lead + 1), y) for y in range(r + 1, r + Q + 1)) / Q
    assert p_out == pytest.approx(want, abs=0.02)


def test_more_stock_fewer_stockouts_as_theory_says():
    lam, lead = 5.0, 2
    low, _ = simulate(ReorderPolicy("base_stock", base=14), lam, lead, 5_000, seed=3)
    high, _ = simulate(ReorderPolicy("base_stock", base=24), lam, lead, 5_000, seed=3)
    assert low == pytest.approx(p_greater(15, 14), abs=0.04) and high == pytest.approx(p_greater(15, 24), abs=0.02)
    assert high < low


# ---------------------------------------------------------------- definitions
def test_policy_quantities_by_hand():
    ss = ReorderPolicy("sS", s=10, S=40)
    assert [ss.order_quantity(x) for x in (-5, 0, 10, 11, 40, 60)] == [45, 40, 30, 0, 0, 0]
    rq = ReorderPolicy("rQ", r=10, Q=25)
    assert [rq.order_quantity(x) for x in (-41, -40, 10, 11)] == [75, 75, 25, 0]
    bs = ReorderPolicy("base_stock", base=30)
    assert [bs.order_quantity(x) for x in (-3, 29, 30, 31)] == [33, 1, 0, 0]
    assert ReorderPolicy().order_quantity(-100) == 0


@settings(max_examples=300, deadline=None)
@given(ip=st.integers(-200, 200), s=st.integers(-20, 100), gap=st.integers(0, 100), r=st.integers(-20, 100),
       Q=st.integers(1, 60), base=st.integers(0, 150))
def test_quantities_satisfy_their_definitions(ip, s, gap, r, Q, base):
    S = s + gap
    q = ReorderPolicy("sS", s=s, S=S).order_quantity(ip)
    assert q == (S - ip if ip <= s else 0)
    q = ReorderPolicy("rQ", r=r, Q=Q).order_quantity(ip)
    # The smallest multiple of Q that lifts the position above r, found by counting.
    n = 0
    while ip + n * Q <= r:
        n += 1
    assert q == n * Q
    assert ReorderPolicy("base_stock", base=base).order_quantity(ip) == max(base - ip, 0)


def test_vectorised_over_skus():
    ip = np.array([0, 5, 11, -3])
    assert order_quantities("sS", ip, s=np.array([1, 5, 10, 0]), S=20).tolist() == [20, 15, 0, 23]
    assert order_quantities("base_stock", ip, base=[10, 10, 10, 10]).tolist() == [10, 5, 0, 13]
    assert order_quantities("none", ip).tolist() == [0, 0, 0, 0]
    with pytest.raises(OmsimError):
        order_quantities("kanban", ip)


@pytest.mark.parametrize("kw", [dict(kind="kanban"), dict(kind="sS", s=10, S=5), dict(kind="rQ", Q=0),
                                dict(kind="sS", s=1.5, S=4), dict(kind="none", review_h=-1)])
def test_bad_policies(kw):
    with pytest.raises(OmsimError):
        ReorderPolicy(**kw)


def test_from_days_and_review_times():
    from omsim.scenario import ReplenishmentParams
    p = ReorderPolicy.from_days(ReplenishmentParams(policy="sS", s_days=2, S_days=7, review_h=12), daily_units=3.4)
    assert (p.kind, p.s, p.S, p.review_h) == ("sS", 7, 24, 12.0)
    assert [p.next_review_h(t) for t in (0.0, 0.5, 12.0, 13.0)] == [0.0, 12.0, 12.0, 24.0]
    assert ReorderPolicy.from_days(ReplenishmentParams(policy="rQ", Q_days=0.01), daily_units=1.0).Q == 1
    assert ReorderPolicy("sS").next_review_h(3.3) == 3.3
