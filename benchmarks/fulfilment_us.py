"""The published multi-item fulfilment experiment on the US network, reproduced.

Settings, cost model, demand generator and stocking rule are those of Jasin &
Sinha (Operations Research 63(6), 2015) as summarised in
``../shared/data/us-network/README.md``:

* cost per order: 8.759 per package (each centre shipping part of it), per
  unit 0.423 + 0.000541 x miles (haversine km / 1.61); an unfulfilled unit goes
  to a dummy centre with package cost 2 x 8.759 and unit cost twice that of
  the city's farthest centre (a lost-sale penalty);
* demand: I items; for each order size 1..nmax, nper random item subsets
  (order types) plus the empty order; random size and type probabilities
  (the empty order takes part in the size normalisation); T arrivals over the
  cities in proportion to population;
* stock: each centre carries each item with probability p_carry (at least one
  centre per item, our addition); stock of item i at centre k is
  round(T d + 0.5 sqrt(T d (1 - d))), d the per-arrival demand of i whose
  nearest carrying centre is k.

Policies, run on the same arrival sequences against the same stock:

* ``nearest``: the published myopic policy — each item from its nearest
  carrying centre, unfilled if that centre is out of stock;
* ``nearest_fb``: omsim's ``nearest`` — nearest centre that still has the item;
* ``cheapest``: exact minimum cost of the order now (Cython kernel), the dummy
  centre as one more candidate;
* ``lookahead``: ``cheapest`` with each unit's cost raised by the shadow price
  of its stock from the fluid LP over the remaining expected demand,
  re-solved every T/4 arrivals (``--quick`` large settings: every T/2); the
  large settings re-solve by 100 (``--quick``: 60) subgradient steps from the
  previous prices
  (Acimovic & Graves 2015);
* ``batch``: the orders of each window of 20 arrivals re-optimised together
  with CP-SAT (shared stock; unit costs as in ``lookahead``), 1 s limit per
  window, gap reported; a window whose orders cannot compete for any stock
  is solved exactly by the kernel instead (small setting only).

Each policy's total cost is divided by a proven lower bound of the fluid LP
of its instance. Two formulations (both solvers in ``omsim.solvers``):

* the per-item LP of Jasin & Sinha (``lp_fluid.solve_fluid_lp``: items split
  independently, a package variable per node >= each item's share), solved
  with OR-Tools GLOP; computed for the small setting only, because the large
  LPs (~570,000 variables, ~520,000 rows) did not finish within 600 s here;
* the stronger LP over fulfilment *methods* (``lp_fluid_cg``: an order is
  served by integral assignments of its items, fractionally mixed), which is
  the one the ratios use: column generation with a GLOP master and the exact
  Cython ``cheapest`` kernel as pricing; for the large settings, Polyak
  subgradient steps on its Lagrangian dual come first (``--quick``: only
  those, no master). The reported bound is always a Lagrangian value, hence
  a valid lower bound even when the LP is not solved to optimality.

The ``lookahead`` and ``batch`` policies use the prices of that LP.

Usage::

    python benchmarks/fulfilment_us.py [--quick] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from omsim.fulfilment.allocation import cheapest_assignment_sequential
from omsim.geo import distance_matrix_km
from omsim.solvers.cpsat_assignment import solve_assignment
from omsim.solvers.lp_fluid import solve_fluid_lp
from omsim.solvers.lp_fluid_cg import solve_fluid_lp_methods

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "us-network"

PACKAGE = 8.759
UNIT_FIXED = 0.423
UNIT_PER_MILE = 0.000541
KM_PER_MILE_PAPER = 1.61  # the papers' conversion (README), not units.KM_PER_MILE
BIG = 10 ** 9

SMALL_CENTRES = ["OAK4", "IND1", "AVP3", "CAE1", "DFW7"]


@dataclass
class Setting:
    name: str
    centres: list | None  # None: all
    n_cities: int
    items: int
    nmax: int
    nper: int
    T: int
    p_carry: float


SETTINGS = [
    Setting("small", SMALL_CENTRES, 10, 20, 5, 5, 10_000, 0.75),
    Setting("large_p0.75", None, 99, 100, 10, 10, 100_000, 0.75),
    Setting("large_p0.5", None, 99, 100, 10, 10, 100_000, 0.5),
    Setting("large_p0.25", None, 99, 100, 10, 10, 100_000, 0.25),
]


# ----------------------------------------------------------------------------- network & instance
def load_network(setting: Setting):
    """Cost matrices (J cities x K centres) and population shares of the setting."""
    if not DATA.is_dir():
        sys.exit(f"US network data not found at {DATA}: this benchmark needs ../shared/data/us-network "
                 "next to the project root (see DESIGN.md)")
    fcs = pd.read_csv(DATA / "fulfilment_centres.csv")
    cities = pd.read_csv(DATA / "cities.csv").head(setting.n_cities)
    if setting.centres is not None:
        fcs = fcs.set_index("code").loc[setting.centres].reset_index()
    km = distance_matrix_km(cities[["lat", "lon"]].to_numpy(), fcs[["lat", "lon"]].to_numpy())
    unit = UNIT_FIXED + UNIT_PER_MILE * km / KM_PER_MILE_PAPER
    share = cities["population"].to_numpy(float)
    share /= share.sum()
    return dict(unit=unit, km=km, share=share, lost_unit=2 * unit.max(axis=1), lost_package=2 * PACKAGE,
                centres=list(fcs["code"]))


def make_instance(setting: Setting, net, rng):
    """Order types, their probabilities, assortment and starting stock."""
    I, K = setting.items, net["unit"].shape[1]
    types = [np.sort(rng.choice(I, size=s, replace=False)) for s in range(1, setting.nmax + 1)
             for _ in range(setting.nper)]
    size_w = rng.random(setting.nmax + 1)  # index 0: the empty order
    size_w /= size_w.sum()
    prob = np.concatenate([size_w[s] * (v / v.sum()) for s in range(1, setting.nmax + 1)
                           for v in [rng.random(setting.nper)]])
    p_empty = size_w[0]
    carry = rng.random((I, K)) < setting.p_carry
    for i in np.nonzero(~carry.any(axis=1))[0]:
        carry[i, rng.integers(K)] = True
    p_item = np.zeros(I)
    for q, t in enumerate(types):
        p_item[t] += prob[q]
    # nearest carrying centre of each item for each city
    dist = np.where(carry[:, None, :], net["km"][None, :, :], np.inf)  # (I, J, K)
    nearest = dist.argmin(axis=2)  # (I, J)
    d = np.zeros((I, K))
    for i in range(I):
        np.add.at(d[i], nearest[i], net["share"] * p_item[i])
    T = setting.T
    stock = np.where(carry, np.round(T * d + 0.5 * np.sqrt(T * d * (1 - d))), 0).astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum([len(t) for t in types])])
    return dict(types=types, type_ptr=ptr, type_items=np.concatenate(types), prob=prob, p_empty=p_empty,
                carry=carry, nearest=nearest, stock=stock)


def make_arrivals(setting: Setting, net, inst, rng):
    """T arrivals (city, type); empty orders dropped. Returns CSR lines."""
    T = setting.T
    city = rng.choice(len(net["share"]), size=T, p=net["share"])
    probs = np.concatenate([[inst["p_empty"]], inst["prob"]])
    typ = rng.choice(len(probs), size=T, p=probs / probs.sum()) - 1
    keep = typ >= 0
    arrival = np.nonzero(keep)[0]
    city, typ = city[keep], typ[keep]
    sizes = np.diff(inst["type_ptr"])[typ]
    line_ptr = np.concatenate([[0], np.cumsum(sizes)])
    line_item = np.concatenate([inst["types"][q] for q in typ])
    return dict(arrival=arrival, city=city, type=typ, line_ptr=line_ptr, line_item=line_item)


def fluid_rates(setting, net, inst, fraction=1.0):
    """Expected orders of each type from each city over (a fraction of) the horizon."""
    return fraction * setting.T * net["share"][:, None] * inst["prob"][None, :]


def solve_lp(setting, net, inst, stock, fraction=1.0, time_limit_s=600.0):
    J, K = net["unit"].shape
    return solve_fluid_lp(inst["type_ptr"], inst["type_items"], fluid_rates(setting, net, inst, fraction), stock,
                          np.full((J, K), PACKAGE), net["unit"], net["lost_unit"],
                          np.full(J, net["lost_package"]), time_limit_s=time_limit_s)


# ----------------------------------------------------------------------------- evaluation
def order_costs(net, arr, assign):
    """Cost, packages and lost units per order; assign is (M, K+1), last column the dummy centre."""
    K = net["unit"].shape[1]
    ptr = arr["line_ptr"]
    order_of_line = np.repeat(np.arange(len(arr["city"])), np.diff(ptr))
    city_of_line = arr["city"][order_of_line]
    shipped = assign[:, :K]
    lost_units = assign[:, K] + 0  # units sent to the dummy
    # packages: distinct centres per order
    used = np.zeros((len(arr["city"]), K), dtype=bool)
    np.logical_or.at(used, order_of_line, shipped > 0)
    lost_per_order = np.bincount(order_of_line, weights=lost_units, minlength=len(arr["city"]))
    unit_cost = (shipped * net["unit"][city_of_line]).sum(axis=1) + lost_units * net["lost_unit"][city_of_line]
    cost = (np.bincount(order_of_line, weights=unit_cost, minlength=len(arr["city"]))
            + PACKAGE * used.sum(axis=1) + net["lost_package"] * (lost_per_order > 0))
    return cost, used.sum(axis=1), lost_per_order


def policy_nearest_published(net, inst, arr):
    """Each unit to its nearest carrying centre; unfilled if that centre ran out (FIFO per item-centre)."""
    K = net["unit"].shape[1]
    ptr = arr["line_ptr"]
    order_of_line = np.repeat(np.arange(len(arr["city"])), np.diff(ptr))
    item = arr["line_item"]
    centre = inst["nearest"][item, arr["city"][order_of_line]]
    key = item * K + centre
    # position of each line among earlier lines with the same key (arrival order is line order)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    start = np.r_[0, np.nonzero(np.diff(sk))[0] + 1]
    rank_sorted = np.arange(sk.size) - np.repeat(start, np.diff(np.r_[start, sk.size]))
    rank = np.empty_like(rank_sorted)
    rank[order] = rank_sorted
    ok = rank < inst["stock"][item, centre]
    assign = np.zeros((item.size, K + 1), dtype=np.int64)
    assign[np.nonzero(ok)[0], centre[ok]] = 1
    assign[~ok, K] = 1
    return assign


def _sequential(net, inst, arr, stock, lines, orders, package, shadow=None):
    """cheapest over a slice of the sequence with the dummy centre as column K."""
    K = net["unit"].shape[1]
    ptr = arr["line_ptr"][orders.start:orders.stop + 1] - arr["line_ptr"][orders.start]
    item = arr["line_item"][lines]
    order_of_line = np.repeat(np.arange(orders.stop - orders.start), np.diff(ptr))
    city_line = arr["city"][orders][order_of_line]
    unit = np.hstack([net["unit"][city_line], net["lost_unit"][city_line][:, None]])
    if shadow is not None:
        unit[:, :K] += shadow[item]
    pkg = np.hstack([package[:K][None, :].repeat(len(ptr) - 1, axis=0),
                     np.full((len(ptr) - 1, 1), package[K])])
    stock_d = np.hstack([stock, np.full((stock.shape[0], 1), BIG)])
    assign, _, left = cheapest_assignment_sequential(ptr, item, np.ones(item.size, np.int64), stock_d, pkg, unit,
                                                     np.full(item.size, 1e9))
    return assign, left[:, :K]


def policy_cheapest(net, inst, arr):
    K = net["unit"].shape[1]
    package = np.r_[np.full(K, PACKAGE), net["lost_package"]]
    B = len(arr["city"])
    assign, _ = _sequential(net, inst, arr, inst["stock"].copy(), slice(0, arr["line_ptr"][-1]), slice(0, B), package)
    return assign


def chunks(setting, arr, refresh):
    """Slices of orders whose arrivals fall in consecutive blocks of ``refresh`` arrivals."""
    edges = np.searchsorted(arr["arrival"], np.arange(0, setting.T + refresh, refresh))
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            yield slice(int(a), int(b)), arr["arrival"][a] if a < len(arr["arrival"]) else setting.T


def policy_batch_cg(setting, net, inst, arr, window, refresh, lp_time_limit, cp_time_limit, first_prices):
    """CP-SAT over the orders of each window of arrivals, shared stock, lookahead unit costs."""
    K = net["unit"].shape[1]
    stock = inst["stock"].copy()
    out = np.zeros((arr["line_ptr"][-1], K + 1), dtype=np.int64)
    gaps, statuses = [], {}
    shadow, next_refresh = None, 0
    for orders, t0 in chunks(setting, arr, window):
        if shadow is None:
            shadow, next_refresh = first_prices, t0 + refresh
        elif t0 >= next_refresh:
            shadow = lp_bound(setting, net, inst, stock, (setting.T - t0) / setting.T, lp_time_limit,
                              warm=shadow).shadow_price
            next_refresh = t0 + refresh
        lo, hi = int(arr["line_ptr"][orders.start]), int(arr["line_ptr"][orders.stop])
        ptr = arr["line_ptr"][orders.start:orders.stop + 1] - lo
        item = arr["line_item"][lo:hi]
        order_of_line = np.repeat(np.arange(orders.stop - orders.start), np.diff(ptr))
        city_line = arr["city"][orders][order_of_line]
        unit = np.hstack([net["unit"][city_line] + shadow[item], net["lost_unit"][city_line][:, None]])
        pkg = np.hstack([np.full((len(ptr) - 1, K), PACKAGE), np.full((len(ptr) - 1, 1), net["lost_package"])])
        stock_d = np.hstack([stock, np.full((stock.shape[0], 1), len(item))])
        wanted = np.bincount(item, minlength=stock.shape[0])
        if np.all((stock == 0) | (stock >= wanted[:, None])):
            # no stock the window's orders could compete for: the joint optimum is each
            # order's own optimum, which the kernel finds exactly
            from omsim.fulfilment.allocation import cheapest_assignment_batch
            a_w, _ = cheapest_assignment_batch(ptr, np.ones(item.size, np.int64), stock_d[item], pkg, unit,
                                               np.full(item.size, 1e3))
            out[lo:hi] = a_w
            np.subtract.at(stock, item, a_w[:, :K])
            statuses["DECOMPOSED"] = statuses.get("DECOMPOSED", 0) + 1
            continue
        res = solve_assignment(ptr, item, np.ones(item.size, np.int64), stock_d, pkg, unit, np.full(item.size, 1e3),
                               scale=1000.0, time_limit_s=cp_time_limit)
        if res.status not in ("OPTIMAL", "FEASIBLE"):  # no solution in time: fall back to cheapest
            res_assign, stock_left = _sequential(net, inst, arr, stock, slice(lo, hi), orders,
                                                 np.r_[np.full(K, PACKAGE), net["lost_package"]], shadow)
            out[lo:hi], stock = res_assign, stock_left
        else:
            out[lo:hi] = res.assign
            np.subtract.at(stock, item, res.assign[:, :K])
            gaps.append(res.gap)
        statuses[res.status] = statuses.get(res.status, 0) + 1
    assert np.all(stock >= 0)
    return out, dict(windows=sum(statuses.values()), cpsat_windows=len(gaps), statuses=statuses,
                     mean_gap=float(np.mean(gaps)) if gaps else float("nan"),
                     max_gap=float(np.max(gaps)) if gaps else float("nan"))


def policy_nearest_fallback_loop(net, inst, arr):
    """omsim's ``nearest``: each unit from the nearest centre that still has the item."""
    K = net["unit"].shape[1]
    ranking = np.argsort(net["km"], axis=1, kind="stable").tolist()  # per city, centres by distance
    stock = inst["stock"].tolist()
    ptr, items, cities = arr["line_ptr"].tolist(), arr["line_item"].tolist(), arr["city"].tolist()
    assign = np.zeros((len(items), K + 1), dtype=np.int64)
    rows, cols = [], []
    for b, j in enumerate(cities):
        rank = ranking[j]
        for line in range(ptr[b], ptr[b + 1]):
            row = stock[items[line]]
            for k in rank:
                if row[k] > 0:
                    row[k] -= 1
                    break
            else:
                k = K
            rows.append(line)
            cols.append(k)
    assign[rows, cols] = 1
    return assign


# ----------------------------------------------------------------------------- driver
LP_OPTIONS = {}  # set by main(): subgradient warm start and master iterations per setting


def lp_bound(setting, net, inst, stock, fraction, time_limit_s, warm=None):
    """Method fluid LP (column generation) over the remaining horizon fraction.

    ``warm``: prices of a previous solve; the large settings then re-solve by
    100 subgradient steps from them, without the master.
    """
    J, K = net["unit"].shape
    opts = dict(LP_OPTIONS.get(setting.name, {}))
    warm_steps = opts.pop("warm_steps", 100)
    if warm is not None and opts.get("subgradient_iterations"):
        opts = dict(subgradient_iterations=warm_steps, max_iterations=0, initial_prices=warm)
    return solve_fluid_lp_methods(inst["type_ptr"], inst["type_items"], fluid_rates(setting, net, inst, fraction),
                                  stock, np.full((J, K), PACKAGE), net["unit"], net["lost_unit"],
                                  np.full(J, net["lost_package"]), time_limit_s=time_limit_s, **opts)


def policy_lookahead_cg(setting, net, inst, arr, refresh, lp_time_limit, first_prices=None):
    """lookahead with shadow prices from the method LP, re-solved every ``refresh`` arrivals."""
    K = net["unit"].shape[1]
    package = np.r_[np.full(K, PACKAGE), net["lost_package"]]
    stock = inst["stock"].copy()
    out = np.zeros((arr["line_ptr"][-1], K + 1), dtype=np.int64)
    n_lp, lp_s = 0, 0.0
    prices = first_prices
    for orders, t0 in chunks(setting, arr, refresh):
        if t0 == arr["arrival"][0] and first_prices is not None:
            prices = first_prices
        else:
            t = time.perf_counter()
            prices = lp_bound(setting, net, inst, stock, (setting.T - t0) / setting.T, lp_time_limit,
                              warm=prices).shadow_price
            lp_s += time.perf_counter() - t
            n_lp += 1
        lines = slice(int(arr["line_ptr"][orders.start]), int(arr["line_ptr"][orders.stop]))
        out[lines], stock = _sequential(net, inst, arr, stock, lines, orders, package, prices)
    return out, dict(lp_resolves=n_lp, lp_time_s=lp_s)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Multi-item fulfilment on the US network: policy cost / fluid LP bound")
    ap.add_argument("--quick", action="store_true", help="reduced run (under 3 minutes)")
    ap.add_argument("--settings", default=None, help="comma-separated subset of: "
                    + ",".join(s.name for s in SETTINGS))
    ap.add_argument("--instances", type=int, default=None, help="instances per setting")
    ap.add_argument("--sequences", type=int, default=None, help="arrival sequences per instance")
    ap.add_argument("--no-batch", action="store_true", help="skip the CP-SAT batch policy")
    ap.add_argument("--lp-steps", type=int, default=None,
                    help="subgradient steps before column generation on the large settings "
                         "(default 120 with --quick, else 400)")
    ap.add_argument("--lp-master", choices=["yes", "no"], default=None,
                    help="run the GLOP master on the large settings (default: no with --quick, else yes)")
    ap.add_argument("--seed", type=int, default=2015)
    ap.add_argument("--json", default=None, help="write {'settings': {SETTING: {POLICY: ratio}}} here")
    args = ap.parse_args(argv)

    quick = args.quick
    chosen = SETTINGS if args.settings is None else [s for s in SETTINGS if s.name in args.settings.split(",")]
    results, details = {}, {}
    t_all = time.perf_counter()
    for si, setting in enumerate(SETTINGS):
        if setting not in chosen:
            continue
        large = setting.name.startswith("large")
        n_inst = args.instances or (1 if quick and large else 2 if quick else 5 if not large else 2)
        n_seq = args.sequences or (1 if quick and large else 2 if quick else 5 if not large else 2)
        lp_limit = 35.0 if (quick and large) else 900.0
        if large:
            # the master LP of the large settings is slow (GLOP, ~10^4 rows, 10^5 columns): prices
            # come from subgradient steps; the full run then closes the gap with the master
            steps = args.lp_steps if args.lp_steps is not None else (120 if quick else 400)
            master = args.lp_master == "yes" if args.lp_master is not None else not quick
            LP_OPTIONS[setting.name] = dict(subgradient_iterations=steps, warm_steps=60 if quick else 100,
                                            **({} if master else {"max_iterations": 0}))
        refresh = setting.T // 2 if quick and large else setting.T // 4
        do_batch = not args.no_batch and not large
        window, cp_limit = 20, 1.0
        net = load_network(setting)
        rows = {}
        t_setting = time.perf_counter()
        lp_rows = []
        for ii in range(n_inst):
            inst = make_instance(setting, net, np.random.default_rng([args.seed, si, ii]))
            t = time.perf_counter()
            lp = lp_bound(setting, net, inst, inst["stock"], 1.0, lp_limit)
            lp_t = time.perf_counter() - t
            item_lp = None
            if not large:
                t = time.perf_counter()
                item_lp = solve_lp(setting, net, inst, inst["stock"])
                item_t = time.perf_counter() - t
            lp_rows.append(dict(bound=lp.bound, objective=lp.objective, status=lp.status, gap=lp.gap,
                                orders=lp.orders, lost=lp.units_lost / lp.orders, packages=lp.packages / lp.orders,
                                time_s=lp_t, iterations=lp.iterations, columns=lp.columns,
                                per_item_bound=item_lp.objective if item_lp else None,
                                per_item_status=item_lp.status if item_lp else None,
                                per_item_time_s=item_t if item_lp else None))
            for qi in range(n_seq):
                arr = make_arrivals(setting, net, inst, np.random.default_rng([args.seed, si, ii, qi, 1]))
                runs = {
                    "nearest": lambda: (policy_nearest_published(net, inst, arr), {}),
                    "nearest_fb": lambda: (policy_nearest_fallback_loop(net, inst, arr), {}),
                    "cheapest": lambda: (policy_cheapest(net, inst, arr), {}),
                    "lookahead": lambda: policy_lookahead_cg(setting, net, inst, arr, refresh, lp_limit,
                                                             first_prices=lp.shadow_price),
                }
                if do_batch and (not quick or qi == 0):
                    runs["batch"] = lambda: policy_batch_cg(setting, net, inst, arr, window, refresh, lp_limit,
                                                            cp_limit, lp.shadow_price)
                for name, fn in runs.items():
                    t = time.perf_counter()
                    assign, info = fn()
                    dt = time.perf_counter() - t
                    check_assignment(inst, arr, assign)
                    cost, packages, lost = order_costs(net, arr, assign)
                    rows.setdefault(name, []).append(dict(
                        ratio=cost.sum() / lp.bound, per_item_ratio=cost.sum() / item_lp.objective if item_lp else None,
                        lost_per_order=lost.mean(), packages_per_order=packages.mean(), time_s=dt,
                        orders=len(cost), **info))
        results[setting.name] = {name: float(np.mean([r["ratio"] for r in rs])) for name, rs in rows.items()}
        details[setting.name] = dict(lp=lp_rows, policies=rows, instances=n_inst, sequences=n_seq,
                                     time_s=time.perf_counter() - t_setting)
        print_setting(setting, lp_rows, rows)
    print(f"\ntotal time {time.perf_counter() - t_all:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": results, "details": details,
                       "bound": "fluid LP over fulfilment methods (column generation: OR-Tools GLOP primal "
                                "simplex master, exact Cython pricing); ratio = total cost / its proven "
                                "Lagrangian lower bound"}, f, indent=1, default=float)


def check_assignment(inst, arr, assign):
    """Every unit assigned exactly once (centre or dummy) and no centre ships more than its stock."""
    K = inst["stock"].shape[1]
    assert np.all(assign.sum(axis=1) == 1)
    used = np.zeros_like(inst["stock"])
    np.add.at(used, arr["line_item"], assign[:, :K])
    assert np.all(used <= inst["stock"]), "a policy shipped more than the stock"


def print_setting(setting, lp_rows, rows):
    b = np.mean([r["bound"] for r in lp_rows])
    print(f"\n== {setting.name}: {len(setting.centres or [0] * 10)} centres, {setting.n_cities} cities, "
          f"I={setting.items}, nmax={setting.nmax}, nper={setting.nper}, T={setting.T}, p_carry={setting.p_carry}")
    lp_t = np.mean([r["time_s"] for r in lp_rows])
    opts = LP_OPTIONS.get(setting.name, {})
    how = "GLOP master (column generation), Cython pricing"
    if opts.get("subgradient_iterations"):
        how = f"{opts['subgradient_iterations']} subgradient steps (Cython pricing)"
        how += ", no master LP" if opts.get("max_iterations") == 0 else " then GLOP master (column generation)"
    print(f"   bound: fluid LP over fulfilment methods, {how}: proven bound {b:,.0f} "
          f"[{', '.join(r['status'] for r in lp_rows)}], gap to master objective "
          f"{np.mean([r['gap'] for r in lp_rows]):.2%}, {lp_t:.1f} s; in the LP solution lost/order "
          f"{np.mean([r['lost'] for r in lp_rows]):.3f}, packages/order {np.mean([r['packages'] for r in lp_rows]):.3f}")
    if lp_rows[0]["per_item_bound"] is not None:
        pib = np.mean([r["per_item_bound"] for r in lp_rows])
        print(f"   per-item fluid LP (Jasin & Sinha formulation, GLOP): bound {pib:,.0f} "
              f"[{', '.join(r['per_item_status'] for r in lp_rows)}], "
              f"{np.mean([r['per_item_time_s'] for r in lp_rows]):.1f} s")
    hdr = (f"   {'policy':<11} {'cost/bound':>10} {'(+-sd)':>7} {'/per-item':>9} {'lost/order':>10} "
           f"{'pkgs/order':>10} {'time s':>7}  notes")
    print(hdr)
    for name, rs in rows.items():
        ratios = [r["ratio"] for r in rs]
        pi = [r["per_item_ratio"] for r in rs if r["per_item_ratio"] is not None]
        note = ""
        if "mean_gap" in rs[0]:
            note = (f"windows {sum(r['windows'] for r in rs)}, CP-SAT on {sum(r['cpsat_windows'] for r in rs)} "
                    f"(others: no shared stock, kernel), mean gap {np.nanmean([r['mean_gap'] for r in rs]):.2%}")
        if "lp_resolves" in rs[0]:
            note = f"LP re-solves {sum(r['lp_resolves'] for r in rs)}"
        print(f"   {name:<11} {np.mean(ratios):10.4f} {np.std(ratios):7.4f} "
              f"{(np.mean(pi) if pi else float('nan')):9.4f} {np.mean([r['lost_per_order'] for r in rs]):10.4f} "
              f"{np.mean([r['packages_per_order'] for r in rs]):10.3f} {np.mean([r['time_s'] for r in rs]):7.1f}  {note}")


if __name__ == "__main__":
    main()
