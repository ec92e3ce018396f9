"""Carrier rates, transit and rate shopping, against a longhand brute force over the services."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from omsim.errors import OmsimError
from omsim.fulfilment.carriers import LEVELS, CarrierBook, Service


# ---------------------------------------------------------------- longhand reference
def rate_reference(s: Service, km, units, kg, packages):
    """The rate written out from the documented model, band by band."""
    if km > s.max_km:
        return math.inf
    surcharge = 0.0
    if s.zones:
        surcharge = s.zones[-1][1]
        for max_km, fee in s.zones:
            if km <= max_km:
                surcharge = fee
                break
    return packages * (s.per_package + s.per_km * km + surcharge) + s.per_unit * units + s.per_kg * kg


def transit_reference(s: Service, km):
    days = s.base_days
    if math.isfinite(s.km_per_day):
        step = 0
        while step * s.km_per_day < km:  # ceil(km / km_per_day) by counting
            step += 1
        days += step
    return 24.0 * min(days, s.max_days)


def shop_reference(services, booked, km, units, kg, level, packages, max_transit_h, capacity=True):
    """Enumerate every service: cheapest meeting the level with room, else the fastest with room."""
    want = LEVELS.index(level)
    cands = []
    for k, s in enumerate(services):
        c = rate_reference(s, km, units, kg, packages)
        room = (math.inf if s.daily_capacity is None or not capacity else s.daily_capacity) - booked.get(k, 0)
        if math.isinf(c) or room < packages:
            continue
        t = transit_reference(s, km)
        meets = LEVELS.index(s.level) >= want and (max_transit_h is None or t <= max_transit_h)
        cands.append((k, c, t, meets))
    meeting = [x for x in cands if x[3]]
    if meeting:
        return min(meeting, key=lambda x: (x[1], x[2], x[0]))
    if cands:
        return min(cands, key=lambda x: (x[2], x[1], x[0]))
    return None


money = st.floats(0, 50).map(lambda x: round(x, 2))
zones = st.lists(st.tuples(st.floats(10, 3000), money), max_size=3).map(lambda z: sorted(z))
service_st = st.builds(
    lambda i, level, pp, pu, pk, pkm, z, mk, bd, kpd, md, cap: Service(
        "c", f"s{i}", level, pp, pu, pk, pkm, zones=z, max_km=mk, base_days=bd, km_per_day=kpd, max_days=md,
        daily_capacity=cap),
    st.integers(), st.sampled_from(LEVELS), money, money, money, st.sampled_from([0.0, 0.002, 0.01]), zones,
    st.sampled_from([math.inf, 500.0, 2000.0]), st.integers(0, 2), st.sampled_from([300.0, 800.0, 2500.0, math.inf]),
    st.sampled_from([1, 2, 5, math.inf]), st.sampled_from([None, 0, 1, 3]))


@st.composite
def books(draw):
    svcs = draw(st.lists(service_st, min_size=1, max_size=6))
    for k, s in enumerate(svcs):
        s.name = f"s{k}"  # unique keys
    return svcs


@settings(max_examples=200, deadline=None)
@given(svcs=books(), km=st.floats(0, 4000, allow_subnormal=False), units=st.integers(1, 20), kg=st.floats(0, 40),
       level=st.sampled_from(LEVELS), packages=st.integers(1, 2), limit=st.sampled_from([None, 24.0, 48.0, 120.0]),
       bookings=st.lists(st.integers(0, 5), max_size=6))
def test_rate_shop_matches_brute_force(svcs, km, units, kg, level, packages, limit, bookings):
    book = CarrierBook(svcs)
    booked = {}
    for k in bookings:
        if k < len(svcs) and book.remaining(k, 7) >= 1:
            book.book(k, 7)
            booked[k] = booked.get(k, 0) + 1
    got = book.rate_shop(km, units, kg, level, packages=packages, max_transit_h=limit, day=7)
    want = shop_reference(svcs, booked, km, units, kg, level, packages, limit)
    if want is None:
        assert got is None
        return
    k, cost, transit, meets = want
    assert got is not None
    assert (got.index, got.meets) == (k, meets)
    assert got.cost == pytest.approx(cost) and got.transit_h == pytest.approx(transit)
    # Without a day, capacity is not considered.
    free = shop_reference(svcs, {}, km, units, kg, level, packages, limit, capacity=False)
    nocap = book.rate_shop(km, units, kg, level, packages=packages, max_transit_h=limit)
    if free is None:
        assert nocap is None
    else:
        assert nocap.index == free[0]


@settings(max_examples=150, deadline=None)
@given(svcs=books(), kms=st.lists(st.floats(0, 4000, allow_subnormal=False), min_size=1, max_size=8), level=st.sampled_from(LEVELS),
       units=st.integers(1, 5), kg=st.floats(0, 10))
def test_vectorised_cost_and_cheapest_agree_with_scalar(svcs, kms, level, units, kg):
    book = CarrierBook(svcs)
    km = np.array(kms)
    M = book.cost_matrix(km, units, kg)
    T = book.transit_h_matrix(km)
    pkg, pu, pk = book.rate_parts(km)
    for k, s in enumerate(svcs):
        for j, d in enumerate(kms):
            ref = rate_reference(s, d, units, kg, 1)
            assert M[k, j] == pytest.approx(ref) if math.isfinite(ref) else math.isinf(M[k, j])
            assert T[k, j] == pytest.approx(transit_reference(s, d))
            assert pkg[k, j] + pu[k] * units + pk[k] * kg == pytest.approx(ref) if math.isfinite(ref) \
                else math.isinf(pkg[k, j])
    cost, idx = book.cheapest(km, level, units, kg)
    for j, d in enumerate(kms):
        q = book.rate_shop(d, units, kg, level)
        if q is not None and q.meets:
            assert idx[j] == q.index and cost[j] == pytest.approx(q.cost)
        else:
            assert idx[j] == -1 and math.isinf(cost[j])


# ---------------------------------------------------------------- worked examples
def test_zone_pricing_bands():
    s = Service("ups", "ground", per_package=5.0, zones=[(150, 0.0), (600, 1.5), (1500, 4.0)])
    assert [float(s.cost(km)) for km in (0, 150, 150.1, 600, 1000, 1500, 5000)] == [5.0, 5.0, 6.5, 6.5, 9.0, 9.0, 9.0]
    two = float(s.cost(1000, units=3, packages=2))
    assert two == 18.0


def test_rate_components_and_max_km():
    s = Service("x", "y", per_package=4.0, per_unit=0.5, per_kg=0.25, per_km=0.01, max_km=1000)
    assert float(s.cost(200.0, units=4, weight_kg=8.0)) == pytest.approx(4.0 + 2.0 + 2.0 + 2.0)
    assert math.isinf(float(s.cost(1000.1)))
    assert np.array_equal(s.offered([999, 1001]), [True, False])


def test_transit_days_formula_and_table():
    s = Service("x", "ground", base_days=1, km_per_day=800, max_days=4)
    assert [float(s.transit_days(km)) for km in (0, 1, 800, 801, 1600, 10_000)] == [1, 2, 2, 3, 3, 4]
    assert float(s.transit_h(801)) == 72.0
    t = Service("x", "table", transit_table=[(300, 1), (1000, 2), (2500, 3)])
    assert [float(t.transit_days(km)) for km in (0, 300, 301, 2600)] == [1, 1, 2, 3]


def test_capacity_exhaustion_falls_to_the_next_service():
    cheap = Service("a", "ground", per_package=5.0, base_days=2, daily_capacity=2)
    mid = Service("b", "ground", per_package=7.0, base_days=3, daily_capacity=1)
    fast = Service("c", "air", "next_day", per_package=20.0, base_days=1)
    book = CarrierBook([cheap, mid, fast])
    assert book.rate_shop(100.0, day=3).service is cheap
    book.book("a/ground", 3, 2)
    assert book.remaining(cheap, 3) == 0 and book.remaining(cheap, 4) == 2
    assert book.rate_shop(100.0, day=3).service is mid
    assert book.rate_shop(100.0, day=4).service is cheap  # capacity is per day
    book.book(1, 3)
    q = book.rate_shop(100.0, day=3)
    assert q.service is fast and q.meets  # next-day meets standard
    with pytest.raises(OmsimError, match="0 packages left"):
        book.book(cheap, 3)
    book.unbook(cheap, 3)
    assert book.rate_shop(100.0, day=3).service is cheap


def test_fallback_is_the_fastest_and_flagged():
    ground = Service("a", "ground", per_package=5.0, base_days=3)
    express = Service("a", "express", "express", per_package=9.0, base_days=2, daily_capacity=1)
    book = CarrierBook([ground, express])
    q = book.rate_shop(100.0, level="next_day", day=0)
    assert q.service is express and not q.meets
    book.book(express, 0)
    q = book.rate_shop(100.0, level="express", day=0)
    assert q.service is ground and not q.meets
    # A transit limit: 48 h excludes ground even for a standard order.
    assert book.rate_shop(100.0, max_transit_h=48.0, day=1).service is express
    only = CarrierBook([Service("a", "g", daily_capacity=1)])
    only.book(0, 5)
    assert only.rate_shop(10.0, day=5) is None


def test_quote_lists_every_offered_service_cheapest_first():
    book = CarrierBook([Service("a", "x", per_package=9), Service("a", "y", per_package=3, max_km=50),
                       Service("a", "z", "express", per_package=6)])
    q = book.quote(40.0, level="express")
    assert [x.service.name for x in q] == ["y", "z", "x"] and [x.meets for x in q] == [False, True, False]
    assert [x.service.name for x in book.quote(60.0)] == ["z", "x"]


def test_delay_distribution_moments():
    s = Service("a", "g", prob_delay=0.2, mean_delay_h=10.0)
    rng = np.random.default_rng(12345)
    d = s.sample_delay_h(rng, 200_000)
    late = d > 0
    # Binomial and exponential standard errors: 0.2 +- 0.0009, mean 2.0 +- 0.011.
    assert late.mean() == pytest.approx(0.2, abs=0.005)
    assert d.mean() == pytest.approx(2.0, abs=0.06)
    assert d[late].std() == pytest.approx(10.0, rel=0.03)
    assert isinstance(s.sample_delay_h(rng), float)


def test_cutoffs_per_node_and_pickup_days():
    s = Service("a", "g", cutoff_hour=17.0, node_cutoff={"EWR": 15.0}, pickup_days=[0, 1, 2, 3, 4])
    assert s.cutoff_for("EWR") == 15.0 and s.cutoff_for("LAX") == 17.0
    assert Service("a", "h").cutoff_for("LAX", default=18.0) == 18.0
    with pytest.raises(OmsimError):
        Service("a", "h").cutoff_for("LAX")
    # Day 0 Friday: ready Friday 18:00 -> Monday 17:00 (day 3).
    assert s.next_pickup_h(18.0, "LAX", start_weekday=4) == 3 * 24 + 17.0
    # A 24:00 pickup is midnight: the start of the next day.
    assert Service("a", "m", cutoff_hour=24.0).next_pickup_h(20.0) == 24.0


@pytest.mark.parametrize("kw", [dict(level="overnight"), dict(per_package=-1), dict(zones=[(500, 1), (100, 2)]),
                                dict(prob_delay=1.5), dict(cutoff_hour=24.5), dict(km_per_day=0)])
def test_bad_services_raise_user_errors(kw):
    with pytest.raises(OmsimError):
        Service("a", "b", **kw)


def test_book_rejects_duplicates_and_unknown_services():
    with pytest.raises(OmsimError):
        CarrierBook([Service("a", "b"), Service("a", "b")])
    book = CarrierBook([Service("a", "b")])
    with pytest.raises(OmsimError):
        book.book("a/zz", 0)
    with pytest.raises(OmsimError):
        book.rate_shop(10.0, level="overnight")


def test_from_default_scenario():
    from omsim.scenario import load_scenario
    sc = load_scenario()
    book = CarrierBook.from_scenario(sc)
    keys = [f"{c}/{s.id}" for c, s in sc.services()]
    assert list(book.index) == keys
    for (cid, svc), s in zip(sc.services(), book.services):
        assert s.level == svc.level and s.per_package == svc.per_package
        # The scenario's transit rule: base_days + ceil(km / km_per_day), capped.
        t = svc.transit
        assert float(s.transit_days(1234.0)) == min(t.base_days + math.ceil(1234.0 / t.km_per_day), t.max_days)


@given(caps=st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=1, max_size=3),
       lots=st.lists(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 3)), max_size=5),
                     max_size=6))
@settings(max_examples=200, deadline=None)
def test_book_many_equals_book_in_turn_all_or_nothing(caps, lots):
    # book_many against book() one package count at a time on a twin book: where every booking of a lot
    # fits, the same counts; where one does not (or names no service), nothing of the lot is booked.
    svcs = [Service(f"s{k}", "c", "standard", 1.0, daily_capacity=c) for k, c in enumerate(caps)]
    a, b = CarrierBook(svcs), CarrierBook(svcs)
    for lot in lots:
        v = b.version
        snap = {d: r.copy() for d, r in a._booked.items()}
        try:
            for d, k, c in lot:
                a.book(k, d, c)
        except OmsimError:
            a._booked = snap
            with pytest.raises(OmsimError):
                b.book_many([d for d, _, _ in lot], [k for _, k, _ in lot], [c for _, _, c in lot])
            assert b.version == v
        else:
            b.book_many([d for d, _, _ in lot], [k for _, k, _ in lot], [c for _, _, c in lot])
            assert b.version > v or not lot
        for d in range(4):
            assert a.remaining_all(d).tolist() == b.remaining_all(d).tolist()
