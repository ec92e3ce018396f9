"""Throughput of the ``cheapest`` allocation kernel against its pure-Python reference.

For orders of 1-5 lines over 10 and 50 nodes (``max_packages`` 3 by default)
it measures, in one run, decisions per second of

* ``kernel batched``: :func:`omsim.fulfilment.allocation.cheapest_assignment_batch`
  (one compiled nogil loop over a CSR batch of orders, one core);
* ``kernel single``: :func:`omsim.fulfilment.cheapest_assignment` called once per
  order (Python validation overhead included);
* ``reference``: :func:`omsim.fulfilment.allocation.cheapest_assignment_reference`,
  brute force in pure Python (run on a time budget, so few orders);

and checks that the kernel's totals equal the reference on the orders both
solved. Target: >= 100,000 batched decisions/s for 3-line orders over 10 nodes
with ``max_packages=3``.

Then the engine end to end on the bundled default scenario (a stream of
random orders over a few days; decide + commit with the scenario's policy,
without explanations, as the simulator runs it), µs per order, side by side:

* ``decide_commit_arrays``: the columnar path (one compiled loop);
* ``decide_commit_many``: the same loop behind Order/Decision objects;
* ``decide + commit``: the Python path one order at a time (the reference,
  on the first ``--python-orders`` orders);
* ``arrays, runs of k``: decide_commit_arrays called on runs of k orders
  (``--run-lengths``; the fixed cost per call shows on short runs);

and shipping every package committed: ``ship_many`` (lots of
``--ship-lot`` packages) against a loop of ``ship``. The decisions of the
three paths must be identical (checked). Targets (issue 5): <= ~10 µs per
order for decide + commit, <= ~3 µs per package shipped.

``--only repeat`` times ``decide_commit_arrays`` on fresh engines (``--repeats``), and with
``--against SRC`` compares this build with another build's ``src`` (built in place), each in its own
process, ``--rounds`` times. Wall time on a shared 2-core machine moves by ~10 %, too much to tell
builds a few per cent apart; ``--instructions`` counts instructions instead, under valgrind's
callgrind (``perf stat -e instructions`` has no hardware counters in this VM). Each build runs in a
child process under ``valgrind --tool=callgrind --collect-atstart=no --toggle-collect=_operator_call
--dump-after=_operator_call``: the child makes one warm-up run (lazy imports, first-call caches), then
for each of ``--repeats`` fresh engines calls ``gc.collect()`` and
``operator.call(engine.decide_commit_arrays, *columns)``. ``operator.call`` is CPython's C function
``_operator_call``, which nothing else in the child calls, so callgrind collects exactly the timed
work (everything under that call, compiled kernel and Python wrapper alike) and nothing of imports,
scenario loading or engine construction, and writes one count per run. ``gc.collect()`` first gives
every run the same garbage-collector state (without it a full collection lands in some runs, +5 %);
``PYTHONHASHSEED=0`` fixes set and dict order. The counts repeat to well under 0.5 %; the speed ratio
they imply assumes time follows instructions (cache misses and the like are not counted). Needs
valgrind, Python >= 3.11 (``operator.call``) and an interpreter with symbols (pyenv's has them).
5000 orders and 3 engines by default: ~1 minute per build.

Usage::

    python benchmarks/allocation.py [--orders 20000] [--k 3] [--engine-orders 20000] [--only engine]
                                    [--json out.json]
    python benchmarks/allocation.py --only repeat [--repeats 30] [--against OTHER/src --rounds 4]
    python benchmarks/allocation.py --only repeat --instructions [--against OTHER/src] [--rounds 1]
                                    [--repeats 3] [--engine-orders 5000]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from omsim.fulfilment import cheapest_assignment
from omsim.fulfilment.allocation import cheapest_assignment_batch, cheapest_assignment_reference


def make_orders(rng, B, L, N):
    """B orders of L lines over N nodes, priced like the US network cost model."""
    demand = rng.integers(1, 3, B * L)
    available = rng.integers(0, 6, (B * L, N)) * (rng.random((B * L, N)) < 0.6)
    package = np.full((B, N), 8.759)
    unit = 0.423 + rng.uniform(0.0, 1.6, (B * L, N))
    lost = np.full(B * L, 2 * 8.759 + 2 * 2.0)
    ptr = np.arange(B + 1) * L
    return ptr, demand, available, package, unit, lost


def rate(fn, budget_s, max_calls):
    """Calls per second of fn(i) for i = 0, 1, ... within a time budget."""
    t0, n = time.perf_counter(), 0
    while n < max_calls and (n == 0 or time.perf_counter() - t0 < budget_s):
        fn(n)
        n += 1
    return n / (time.perf_counter() - t0), n


def lean_engine(sc, streams):
    """An engine on sc deciding without explanations, on this build or one before issue 11 (whose
    constructor took ``explain``, default True: the Python path)."""
    from omsim.engine import DecisionEngine

    try:
        return DecisionEngine.from_scenario(sc, streams, explain=False)
    except TypeError:       # explain is chosen per call (default False)
        return DecisionEngine.from_scenario(sc, streams)


def engine_orders(sc, n, seed):
    """n random orders on scenario sc as columns: 1-4 lines, 1-2 units, times over 5 days."""
    from omsim.scenario import SERVICE_LEVELS

    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 24 * 5, n))
    L = rng.integers(1, 5, n)
    ptr = np.concatenate([[0], np.cumsum(L)]).astype(np.int64)
    sku = np.concatenate([rng.choice(len(sc.sku_ids), size=int(k), replace=False) for k in L]).astype(np.int64)
    qty = rng.integers(1, 3, int(ptr[-1])).astype(np.int64)
    reg = rng.integers(len(sc.demand.regions), size=n).astype(np.int64)
    lev = rng.integers(len(SERVICE_LEVELS), size=n).astype(np.int64)
    return np.arange(n, dtype=np.int64), t, reg, lev, ptr, sku, qty


def engine_bench(args):
    """decide_commit_arrays vs decide_commit_many vs the Python path; ship_many vs ship (default scenario)."""
    from omsim import load_scenario
    from omsim.engine import DECISION_STATUSES
    from omsim.orders import Order
    from omsim.rng import Streams
    from omsim.scenario import SERVICE_LEVELS

    sc = load_scenario()
    n = args.engine_orders
    oids, t, reg, lev, ptr, sku, qty = engine_orders(sc, n, args.seed)
    orders = [Order(int(oids[i]), float(t[i]), int(reg[i]), SERVICE_LEVELS[int(lev[i])], sku[ptr[i]:ptr[i + 1]],
                    qty[ptr[i]:ptr[i + 1]]) for i in range(n)]

    def fresh():
        return lean_engine(sc, Streams(sc.seed))

    rows, keys = [], {}
    eng = fresh()
    t0 = time.perf_counter()
    da = eng.decide_commit_arrays(oids, t, reg, lev, ptr, sku, qty)
    us_arrays = (time.perf_counter() - t0) / n * 1e6
    keys["arrays"] = list(zip(da.status.tolist(), da.total.tolist()))
    ship_engines = {"ship_many": eng}
    eng = fresh()
    t0 = time.perf_counter()
    decs = eng.decide_commit_many(orders, t)
    us_many = (time.perf_counter() - t0) / n * 1e6
    keys["many"] = [(DECISION_STATUSES.index(d.status), d.total) for d in decs]
    ship_engines["ship"] = eng
    m = min(n, args.python_orders)
    eng = fresh()
    eng._dry_kernel = False     # decide() through the Python path (the reference)
    t0 = time.perf_counter()
    ref = []
    for o, tt in zip(orders[:m], t[:m].tolist()):
        d = eng.decide(o, tt)
        eng.commit(d, tt)
        ref.append((DECISION_STATUSES.index(d.status), d.total))
    us_python = (time.perf_counter() - t0) / m * 1e6
    match = keys["arrays"] == keys["many"] and keys["arrays"][:m] == ref
    # The same orders handed over in runs of a given length (the simulator's runs end at partial orders
    # and other events): the per-call cost shows.
    per_run = {}
    short = None
    for length in args.run_lengths:
        eng = fresh()
        mm = min(n, 200 * length)
        t0 = time.perf_counter()
        parts = []
        for s in range(0, mm, length):
            d = eng.decide_commit_arrays(oids[s:s + length], t[s:s + length], reg[s:s + length], lev[s:s + length],
                                         ptr[s:s + length + 1], sku, qty)
            parts.append((s, d.n, d.pkg_ptr.copy()))
        per_run[length] = (time.perf_counter() - t0) / mm * 1e6
        if short is None or length == 15:
            short = (length, eng, parts)
    # decide() of single orders (the simulator's probes of unfilled lines) on the state the runs left:
    # the kernel's dry run against the Python path; the same decisions (checked)
    eng = short[1]
    probes = orders[-min(500, n):]
    tp = float(t[-1])
    t0 = time.perf_counter()
    dk = [eng.decide(o, tp) for o in probes]
    us_probe_kernel = (time.perf_counter() - t0) / len(probes) * 1e6
    eng._dry_kernel = False
    t0 = time.perf_counter()
    dp = [eng.decide(o, tp) for o in probes]
    us_probe_python = (time.perf_counter() - t0) / len(probes) * 1e6
    eng._dry_kernel = True
    probe_match = [(d.status, d.total, d.promised_h) for d in dk] == [(d.status, d.total, d.promised_h) for d in dp]
    print(f"\nengine decide + commit, default scenario, {n} orders (Python path: first {m}), one core")
    hdr = f"{'path':>22} {'us/order':>9} {'orders/s':>10} {'vs python':>10}"
    print(hdr)
    print("-" * len(hdr))
    for name, us in (("decide_commit_arrays", us_arrays), ("decide_commit_many", us_many),
                     ("decide + commit", us_python)):
        print(f"{name:>22} {us:9.2f} {1e6 / us:10,.0f} {us_python / us:10.1f}")
        rows.append(dict(path=name, us_per_order=us, orders_per_s=1e6 / us, speedup_vs_python=us_python / us))
    for length, us in per_run.items():
        name = f"arrays, runs of {length}"
        print(f"{name:>22} {us:9.2f} {1e6 / us:10,.0f} {us_python / us:10.1f}")
        rows.append(dict(path=name, us_per_order=us, orders_per_s=1e6 / us, speedup_vs_python=us_python / us))
    # ship every committed package at the end of day 6, in lots
    npk = np.diff(da.pkg_ptr)
    po = np.repeat(oids[:da.n], npk)
    pk = np.arange(int(npk.sum())) - np.repeat(da.pkg_ptr[:-1], npk)
    lot = args.ship_lot
    T = 24.0 * 6
    t0 = time.perf_counter()
    e = ship_engines["ship_many"]
    for s in range(0, po.size, lot):
        e.ship_many(po[s:s + lot], pk[s:s + lot], T)
    us_ship_many = (time.perf_counter() - t0) / max(po.size, 1) * 1e6
    t0 = time.perf_counter()
    e = ship_engines["ship"]
    for o, k in zip(po.tolist(), pk.tolist()):
        e.ship(o, k, T)
    us_ship = (time.perf_counter() - t0) / max(po.size, 1) * 1e6
    same_ledger = ship_engines["ship"].ledger_frame().astype(str).equals(ship_engines["ship_many"].ledger_frame().astype(str))
    match = match and same_ledger
    print(f"\nshipping {po.size} packages (lots of {lot})")
    print(f"{'ship_many':>22} {us_ship_many:9.2f} us/package {us_ship / us_ship_many:10.1f}x")
    print(f"{'ship (loop)':>22} {us_ship:9.2f} us/package {1.0:10.1f}x")
    rows.append(dict(path="ship_many", us_per_package=us_ship_many, speedup_vs_ship=us_ship / us_ship_many))
    rows.append(dict(path="ship", us_per_package=us_ship))
    # packages of many short runs shipped in mixed lots (the simulator's waves)
    length, e, parts = short
    po = np.concatenate([np.repeat(oids[s:s + k], np.diff(pp)) for s, k, pp in parts])
    pk = np.concatenate([np.arange(int(pp[-1])) - np.repeat(pp[:-1], np.diff(pp)) for s, k, pp in parts])
    perm = np.random.default_rng(args.seed).permutation(po.size)
    po, pk = po[perm], pk[perm]
    t0 = time.perf_counter()
    for s in range(0, po.size, lot):
        e.ship_many(po[s:s + lot], pk[s:s + lot], T)
    us_ship_short = (time.perf_counter() - t0) / max(po.size, 1) * 1e6
    name = f"ship_many, runs of {length}"
    print(f"{name:>22} {us_ship_short:9.2f} us/package  (lots of {lot} mixing {len(parts)} runs)")
    rows.append(dict(path=name, us_per_package=us_ship_short))
    print(f"\ndecide() of one order (a probe), on the state after runs of {length}: {len(probes)} orders")
    print(f"{'kernel dry run':>22} {us_probe_kernel:9.2f} us/order {us_probe_python / us_probe_kernel:10.1f}x")
    print(f"{'Python path':>22} {us_probe_python:9.2f} us/order {1.0:10.1f}x   same decisions: {probe_match}")
    rows.append(dict(path="decide (kernel dry run)", us_per_order=us_probe_kernel))
    rows.append(dict(path="decide (Python path)", us_per_order=us_probe_python))
    match = match and probe_match
    print(f"\ntargets: decide+commit {us_arrays:.2f} us/order (goal <= ~10): {'met' if us_arrays <= 10 else 'NOT met'}; "
          f"ship {us_ship_many:.2f} us/package (goal <= ~3): {'met' if us_ship_many <= 3 else 'NOT met'}; "
          f"identical decisions and ledgers: {match}")
    return rows, match


def calls_bench(args):
    """Fixed cost per decide_commit_arrays call: runs of 1, 22 and 100 orders on the default scenario's engine.

    Each run length on a fresh engine; calls timed in batches of 10, the best three batches kept (the
    machine is shared); orders over half a day (no new day, stock lasts). Fixed cost = the intercept of
    the line through the runs of 22 and 100 orders.
    """
    from omsim import load_scenario
    from omsim.rng import Streams

    sc = load_scenario()
    n = 60000
    oids, t, reg, lev, ptr, sku, qty = engine_orders(sc, n, args.seed)
    t = t / 10.0
    per_call = {}
    for length in (1, 22, 100):
        eng = lean_engine(sc, Streams(1, None))
        eng.decide_commit_arrays(oids[:50], t[:50], reg[:50], lev[:50], ptr[:51], sku, qty)
        s, B, best = 50, 10, []
        for _ in range(40 if length < 100 else 15):
            t0 = time.perf_counter()
            for _ in range(B):
                eng.decide_commit_arrays(oids[s:s + length], t[s:s + length], reg[s:s + length], lev[s:s + length],
                                         ptr[s:s + length + 1], sku, qty)
                s += length
            best.append((time.perf_counter() - t0) / B * 1e6)
        per_call[length] = float(np.mean(np.sort(best)[:3]))
    slope = (per_call[100] - per_call[22]) / 78.0
    fixed = per_call[22] - 22.0 * slope
    print("\ndecide_commit_arrays per call, default scenario (best batches of 10 calls)")
    print(f"{'orders/call':>12} {'us/call':>9} {'us/order':>9}")
    for length, us in per_call.items():
        print(f"{length:12d} {us:9.1f} {us / length:9.2f}")
    print(f"fixed per call ~{fixed:.1f} us, per order ~{slope:.2f} us (goal: fixed < 20 us): "
          f"{'met' if fixed < 20 else 'NOT met'}")
    return [dict(path=f"calls of {k}", us_per_call=v) for k, v in per_call.items()] + \
        [dict(path="fixed per call", us=fixed, us_per_order=slope)]


def longrun_bench(args):
    """Engine cost per order over a long stream: decide_commit_arrays (runs of ~22) + ship_many a day later.

    ``--days`` days of ``--orders-per-day`` orders (1-4 lines, 1-2 units) on the default scenario;
    every node reviews its replenishment each day and receives its POs when due (so stock lasts); orders
    that ship nothing (backorders) are cancelled after 3 days, as the simulator's expiry does.
    Prints the engine's us/order per block of days, and its open orders and store rows: flat and bounded
    when nothing grows with the orders decided.
    """
    from omsim import load_scenario
    from omsim.rng import Streams

    sc = load_scenario()
    eng = lean_engine(sc, Streams(1, None))
    rng = np.random.default_rng(args.seed)
    D, per_day = args.days, args.orders_per_day
    block = max(1, D // 10)
    oid = 0
    ship_queue = []       # (day due, order ids, shipment indices)
    pos = []              # open POs (eta, po)
    waiting = []          # (day, order ids) of backorders
    rows = []
    acc = 0.0
    n_acc = 0
    print(f"\nengine over {D} days x {per_day} orders/day (runs of ~22; ship_many a day later; daily reviews)")
    hdr = f"{'days':>9} {'us/order':>9} {'open':>7} {'store rows':>11} {'store cap':>10} {'ledger rows':>12}"
    print(hdr)
    print("-" * len(hdr))
    for day in range(D):
        n = per_day
        t = np.sort(rng.uniform(day * 24.0, day * 24.0 + 23.0, n))
        L = rng.integers(1, 5, n)
        ptr = np.concatenate([[0], np.cumsum(L)]).astype(np.int64)
        sku = np.concatenate([rng.choice(len(sc.sku_ids), size=int(k), replace=False) for k in L]).astype(np.int64)
        qty = rng.integers(1, 3, int(ptr[-1])).astype(np.int64)
        reg = rng.integers(len(sc.demand.regions), size=n).astype(np.int64)
        lev = rng.integers(3, size=n).astype(np.int64)
        ids = np.arange(oid, oid + n, dtype=np.int64)
        oid += n
        # replenishment (not timed): receipts due, then a review per node
        due = [p for p in pos if p[0] <= day * 24.0]
        pos = [p for p in pos if p[0] > day * 24.0]
        for eta, po in sorted(due, key=lambda x: x[0]):
            eng.receive(po, day * 24.0)
        for node in range(eng.n_nodes):
            for po in eng.review(node, day * 24.0):
                pos.append((po.eta_h, po))
        t0 = time.thread_time()   # CPU time of this thread: robust on a shared machine
        while waiting and waiting[0][0] <= day - 3:
            for o in waiting.pop(0)[1].tolist():
                eng.cancel(o, day * 24.0)
        # yesterday's packages ship at the start of the day
        while ship_queue and ship_queue[0][0] <= day:
            _, po_, pk_ = ship_queue.pop(0)
            for s in range(0, po_.size, args.ship_lot):
                eng.ship_many(po_[s:s + args.ship_lot], pk_[s:s + args.ship_lot], day * 24.0)
        s = 0
        po_l, pk_l, bo_l = [], [], []
        while s < n:
            m = int(rng.integers(12, 33))
            e = min(n, s + m)
            da = eng.decide_commit_arrays(ids[s:e], t[s:e], reg[s:e], lev[s:e], ptr[s:e + 1] - ptr[s],
                                          sku[ptr[s]:], qty[ptr[s]:])
            npk = np.diff(da.pkg_ptr)
            po_l.append(np.repeat(ids[s:s + da.n], npk))
            pk_l.append(np.arange(int(npk.sum()), dtype=np.int64) - np.repeat(da.pkg_ptr[:-1], npk))
            bo_l.append(ids[s:s + da.n][(npk == 0) & (da.status != 4)])
            s += da.n
        waiting.append((day, np.concatenate(bo_l)))
        ship_queue.append((day + 1, np.concatenate(po_l), np.concatenate(pk_l)))
        acc += time.thread_time() - t0
        n_acc += n
        if (day + 1) % block == 0 or day == D - 1:
            st = eng._store
            us = acc / n_acc * 1e6
            row = dict(days=f"{day + 2 - block}-{day + 1}", us_per_order=us, open=eng.open_orders, store_rows=st.O,
                       store_capacity=len(st.status), ledger_rows=len(eng.inventory))
            rows.append(row)
            print(f"{row['days']:>9} {us:9.2f} {row['open']:7d} {st.O:11d} {len(st.status):10d} {len(eng.inventory):12d}")
            acc, n_acc = 0.0, 0
    first, last = rows[0]["us_per_order"], rows[-1]["us_per_order"]
    print(f"last block / first block: {last / first:.2f}x")
    return rows


def _repeat_workload(args):
    """The work ``--only repeat`` measures: a factory of fresh lean engines on the default scenario and
    the ``--engine-orders`` order columns they decide (one call of decide_commit_arrays)."""
    from omsim import load_scenario
    from omsim.rng import Streams

    sc = load_scenario()
    return (lambda: lean_engine(sc, Streams(sc.seed))), engine_orders(sc, args.engine_orders, args.seed)


def repeat_bench(args):
    """decide_commit_arrays over ``--engine-orders`` orders on a fresh engine, ``--repeats`` times: µs per order.

    One run lasts a few tens of milliseconds, so a single one moves by 10-15 % with the machine; the
    median of many is the figure to compare builds by. With ``--against SRC`` (another build's ``src``,
    built in place, e.g. a worktree of the commit before a change) the two builds run in turn, each in
    its own process, ``--rounds`` times, and the ratio of their orders/s is printed."""
    if args.callgrind_child:
        return _callgrind_child(args)
    if args.instructions:
        return _repeat_instructions(args)
    if args.against:
        return _repeat_against(args)
    import statistics

    import omsim

    fresh, cols = _repeat_workload(args)
    us = []
    for _ in range(args.repeats):
        eng = fresh()
        t0 = time.perf_counter()
        eng.decide_commit_arrays(*cols)
        us.append((time.perf_counter() - t0) / args.engine_orders * 1e6)
    got = {"package": str(Path(omsim.__file__).parent), "orders": args.engine_orders, "repeats": args.repeats,
           "min_us": min(us), "median_us": statistics.median(us), "max_us": max(us)}
    print(f"decide_commit_arrays, {args.engine_orders} orders, {args.repeats} fresh engines "
          f"({got['package']}): min {got['min_us']:.3f}  median {got['median_us']:.3f}  max {got['max_us']:.3f} "
          f"us/order  (median {1e6 / got['median_us']:,.0f} orders/s)", flush=True)
    return got


def _repeat_against(args):
    """``--only repeat`` of this build and of ``--against`` in alternation; their orders/s ratio."""
    import os
    import subprocess
    import sys
    import tempfile

    import omsim

    builds = {"this": str(Path(omsim.__file__).resolve().parents[1]), "against": str(Path(args.against).resolve())}
    medians = {k: [] for k in builds}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, src in (("against", builds["against"]), ("this", builds["this"])):
                out = Path(tmp) / f"{name}-{r}.json"
                subprocess.run([sys.executable, __file__, "--only", "repeat", "--repeats", str(args.repeats),
                                "--engine-orders", str(args.engine_orders), "--seed", str(args.seed),
                                "--json", str(out)], env={**os.environ, "PYTHONPATH": src}, check=True)
                medians[name].append(json.loads(out.read_text())["repeat"]["median_us"])
    mean = {k: sum(v) / len(v) for k, v in medians.items()}
    ratios = [a / t for a, t in zip(medians["against"], medians["this"])]
    print(f"this build / {builds['against']}: {mean['against'] / mean['this']:.2f}x the orders/s "
          f"(mean of the medians; per round {min(ratios):.2f}-{max(ratios):.2f}x)")
    return {"builds": builds, "median_us": medians, "ratio": mean["against"] / mean["this"], "per_round": ratios}


CALLGRIND_TOGGLE = "_operator_call"     # CPython's operator.call: collection on inside it only


def _callgrind_child(args):
    """Under callgrind: a warm-up run, then each of ``--repeats`` fresh engines decides the orders inside
    ``operator.call`` (the only code counted), after a ``gc.collect()`` (the same GC state each time)."""
    import gc
    import operator

    fresh, cols = _repeat_workload(args)
    fresh().decide_commit_arrays(*cols)
    for _ in range(args.repeats):
        eng = fresh()
        gc.collect()
        operator.call(eng.decide_commit_arrays, *cols)


def _count_instructions(src, args, prefix):
    """Instructions of each of the child's counted runs on build ``src`` (its ``src`` on PYTHONPATH)."""
    import os
    import subprocess
    import sys

    cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no", f"--toggle-collect={CALLGRIND_TOGGLE}",
           f"--dump-after={CALLGRIND_TOGGLE}", f"--callgrind-out-file={prefix}.%p", sys.executable, __file__,
           "--only", "repeat", "--callgrind-child", "--repeats", str(args.repeats),
           "--engine-orders", str(args.engine_orders), "--seed", str(args.seed)]
    run = subprocess.run(cmd, env={**os.environ, "PYTHONPATH": src, "PYTHONHASHSEED": "0"},
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode:
        raise SystemExit(f"callgrind child failed on {src}:\n{run.stderr[-3000:]}")
    parts = sorted(Path(prefix).parent.glob(Path(prefix).name + ".*.*"), key=lambda f: int(f.suffix[1:]))
    counts = [int(next(ln for ln in f.read_text().splitlines() if ln.startswith("totals:")).split()[1])
              for f in parts]
    if len(counts) != args.repeats or min(counts) == 0:
        raise SystemExit(f"expected {args.repeats} non-empty callgrind parts, got {counts} (interpreter without "
                         f"the symbol {CALLGRIND_TOGGLE}, or operator.call called elsewhere?)")
    return counts


def _repeat_instructions(args):
    """Instructions per order of decide_commit_arrays on this build (and ``--against``), under callgrind."""
    import shutil
    import sys
    import tempfile

    import omsim

    if shutil.which("valgrind") is None or sys.version_info < (3, 11):
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind) and Python >= 3.11")
    builds = {"this": str(Path(omsim.__file__).resolve().parents[1])}
    if args.against:
        builds["against"] = str(Path(args.against).resolve())
    per_order = {k: [] for k in builds}     # per build, per round: instructions per order of each run
    print(f"instructions per order in decide_commit_arrays (callgrind; {args.engine_orders} orders, "
          f"{args.repeats} fresh engines per round)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, src in builds.items():
                counts = _count_instructions(src, args, f"{tmp}/{name}-{r}")
                per_order[name].append([c / args.engine_orders for c in counts])
                runs = " ".join(f"{c:,.1f}" for c in per_order[name][-1])
                print(f"  round {r + 1} {name:>7} {src}: {runs}", flush=True)
    mean = {k: float(np.mean(v)) for k, v in per_order.items()}
    got = {"builds": builds, "orders": args.engine_orders, "repeats": args.repeats,
           "instructions_per_order": per_order, "mean": mean}
    for name, v in per_order.items():
        rounds = [float(np.mean(x)) for x in v]
        spread = (max(max(x) for x in v) - min(min(x) for x in v)) / mean[name]
        got.setdefault("spread", {})[name] = spread
        print(f"{name:>7}: {mean[name]:,.1f} instructions/order (rounds {' '.join(f'{x:,.1f}' for x in rounds)}; "
              f"all runs within {100 * spread:.2f} %)")
    if args.against:
        got["ratio"] = mean["this"] / mean["against"]
        print(f"this / against: {got['ratio']:.4f}x the instructions per order -> ~{1 / got['ratio']:.3f}x the "
              f"orders/s, if time follows instructions")
    return got


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=20000, help="orders per batched measurement")
    ap.add_argument("--k", type=int, default=3, help="max_packages")
    ap.add_argument("--ref-budget", type=float, default=1.0, help="seconds per reference measurement")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=str, default=None, help="write results as JSON to this path")
    ap.add_argument("--engine-orders", type=int, default=None,
                    help="orders for the engine comparison (default 20000; 5000 with --instructions)")
    ap.add_argument("--python-orders", type=int, default=2000, help="orders timed on the Python path")
    ap.add_argument("--ship-lot", type=int, default=200, help="packages per ship_many call")
    ap.add_argument("--run-lengths", type=int, nargs="*", default=[1, 15, 100],
                    help="also time decide_commit_arrays on runs of these many orders")
    ap.add_argument("--only", choices=["all", "kernel", "engine", "calls", "longrun", "repeat"],
                    default="all", help="calls: fixed cost per decide_commit_arrays call; longrun: engine cost per "
                                        "order over --days days; repeat: decide_commit_arrays on --repeats fresh "
                                        "engines, min and median (neither in 'all')")
    ap.add_argument("--repeats", type=int, default=None,
                    help="repeat: fresh engines timed (default 30; 3 with --instructions)")
    ap.add_argument("--against", type=str, default=None,
                    help="repeat: another build's src directory, run in turn with this one")
    ap.add_argument("--rounds", type=int, default=None,
                    help="repeat --against: rounds of the two builds (default 4; 1 with --instructions)")
    ap.add_argument("--instructions", action="store_true",
                    help="repeat: count instructions per order under callgrind instead of timing (see above)")
    ap.add_argument("--callgrind-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--days", type=int, default=100, help="longrun: simulated days")
    ap.add_argument("--orders-per-day", type=int, default=2000, help="longrun: orders per day")
    args = ap.parse_args(argv)
    for name, default, counted in (("engine_orders", 20000, 5000), ("repeats", 30, 3), ("rounds", 4, 1)):
        if getattr(args, name) is None:
            setattr(args, name, counted if args.instructions or args.callgrind_child else default)
    if args.only in ("calls", "longrun", "repeat"):
        got = {"calls": calls_bench, "longrun": longrun_bench, "repeat": repeat_bench}[args.only](args)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"benchmark": "allocation", args.only: got}, f, indent=1)
        return
    rng = np.random.default_rng(args.seed)
    rows = []
    engine_rows, engine_match = [], True
    if args.only in ("all", "engine"):
        engine_rows, engine_match = engine_bench(args)
    if args.only == "engine":
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"benchmark": "allocation", "rows": [], "engine": engine_rows}, f, indent=1)
        if not engine_match:
            raise SystemExit("the engine's paths disagree")
        return
    print()
    print(f"cheapest allocation, max_packages={args.k}, {args.orders} orders per batch, one core")
    hdr = f"{'nodes':>5} {'lines':>5} {'batched/s':>12} {'single/s':>10} {'reference/s':>12} {'batch/ref':>10} {'match':>6}"
    print(hdr)
    print("-" * len(hdr))
    for N in (10, 50):
        for L in range(1, 6):
            ptr, d, a, p, c, lam = make_orders(rng, args.orders, L, N)
            cheapest_assignment_batch(ptr[:11], d[:10 * L], a[:10 * L], p[:10], c[:10 * L], lam[:10 * L], args.k)
            best = 0.0
            for _ in range(3):  # best of 3: the machine is shared
                t0 = time.perf_counter()
                _, totals = cheapest_assignment_batch(ptr, d, a, p, c, lam, args.k)
                best = max(best, args.orders / (time.perf_counter() - t0))

            def one(i, fn=cheapest_assignment):
                s = slice(i * L, (i + 1) * L)
                return fn(d[s], a[s], p[i], c[s], lam[s], max_packages=args.k)

            single, _ = rate(one, 0.5, args.orders)
            ref_totals = []
            ref, nref = rate(lambda i: ref_totals.append(one(i, cheapest_assignment_reference)[1]),
                             args.ref_budget, args.orders)
            match = bool(np.allclose(totals[:nref], ref_totals, rtol=1e-9, atol=1e-9))
            rows.append(dict(nodes=N, lines=L, max_packages=args.k, batched_per_s=best, single_per_s=single,
                             reference_per_s=ref, reference_orders=nref, speedup=best / ref, match=match))
            print(f"{N:5d} {L:5d} {best:12,.0f} {single:10,.0f} {ref:12,.1f} {best / ref:10,.0f} {str(match):>6}")
    target = next(r for r in rows if r["nodes"] == 10 and r["lines"] == 3)
    print(f"\ntarget 3 lines x 10 nodes, k={args.k}: {target['batched_per_s']:,.0f} decisions/s "
          f"(goal >= 100,000): {'met' if target['batched_per_s'] >= 1e5 else 'NOT met'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "allocation", "rows": rows, "engine": engine_rows}, f, indent=1)
    if not all(r["match"] for r in rows):
        raise SystemExit("kernel and reference disagree")
    if not engine_match:
        raise SystemExit("the engine's paths disagree")


if __name__ == "__main__":
    main()
