"""Throughput of the inventory ledger and rate shopping against naive peers.

Measured in one run, on the same random workload (orders of 1-3 lines over
``--nodes`` x ``--skus``; each order reserves its lines, then ships them):

* ``Inventory``: :class:`omsim.fulfilment.inventory.Inventory`
  (``reserve_many`` + ``consume_many`` per order, columnar ledger buffers);
* ``dict + list ledger``: a plain-Python peer (dicts of stock, a list of row
  dicts turned into a DataFrame at the end) — the obvious simple design;
* ``DataFrame append``: the same with ``pd.concat`` of one row per movement,
  the design the ledger avoids (run on a time budget, so fewer orders);

then the time to build the ledger DataFrame and the states agree. Rate
shopping: :meth:`CarrierBook.rate_shop` per shipment against
:meth:`CarrierBook.cheapest` over all distances at once.

Usage::

    python benchmarks/inventory.py [--orders 20000] [--nodes 3] [--skus 500] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from omsim.fulfilment.carriers import CarrierBook
from omsim.fulfilment.inventory import Inventory
from omsim.scenario import load_scenario


def workload(rng, orders, N, S):
    """Per order: node, skus (distinct), quantities."""
    out = []
    for _ in range(orders):
        L = int(rng.integers(1, 4))
        out.append((int(rng.integers(N)), rng.choice(S, L, replace=False), rng.integers(1, 4, L)))
    return out


def run_inventory(stock, work):
    inv = Inventory(stock)
    t0 = time.perf_counter()
    for k, (n, skus, q) in enumerate(work):
        nodes = np.full(len(skus), n)
        inv.reserve_many(nodes, skus, q, k, float(k))
        inv.consume_many(nodes, skus, q, k, float(k))
    t_ops = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame = inv.ledger_frame()
    return inv.on_hand, len(work) / t_ops, time.perf_counter() - t0, len(frame)


def run_dict(stock, work, budget_s=None):
    """The plain-Python peer; with ``budget_s`` it appends to a DataFrame one row at a time."""
    N, S = stock.shape
    on_hand = {(i, j): int(stock[i, j]) for i in range(N) for j in range(S)}
    reserved = dict.fromkeys(on_hand, 0)
    rows = [dict(time_h=0.0, node=i, sku=j, delta=v, reason="initial", order_id=None) for (i, j), v in on_hand.items()]
    frame = pd.DataFrame(rows) if budget_s is not None else None
    t0 = time.perf_counter()
    done = 0
    for k, (n, skus, q) in enumerate(work):
        for j, x in zip(skus.tolist(), q.tolist()):
            if on_hand[n, j] - reserved[n, j] < x:
                raise RuntimeError("out of stock")
            reserved[n, j] += x
        for j, x in zip(skus.tolist(), q.tolist()):
            reserved[n, j] -= x
            on_hand[n, j] -= x
            row = dict(time_h=float(k), node=n, sku=j, delta=-x, reason="ship", order_id=k)
            if frame is not None:
                frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True)
            else:
                rows.append(row)
        done += 1
        if budget_s is not None and time.perf_counter() - t0 > budget_s:
            break
    t_ops = time.perf_counter() - t0
    t0 = time.perf_counter()
    if frame is None:
        frame = pd.DataFrame(rows)
    t_frame = time.perf_counter() - t0
    arr = np.array([[on_hand[i, j] for j in range(S)] for i in range(N)])
    return arr, done / t_ops, t_frame, len(frame)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=20000)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--skus", type=int, default=500)
    ap.add_argument("--budget", type=float, default=2.0, help="seconds for the DataFrame-append peer")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=str, default=None, help="write results as JSON to this path")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    stock = np.full((args.nodes, args.skus), 10 * args.orders, dtype=np.int64)
    work = workload(rng, args.orders, args.nodes, args.skus)

    oh_a, ops_a, fr_a, rows_a = run_inventory(stock, work)
    oh_b, ops_b, fr_b, rows_b = run_dict(stock, work)
    _, ops_c, _, _ = run_dict(stock, work, budget_s=args.budget)
    assert np.array_equal(oh_a, oh_b) and rows_a == rows_b, "Inventory and the dict peer disagree"

    book = CarrierBook.from_scenario(load_scenario())
    km = rng.uniform(0, 4500, 20000)
    t0 = time.perf_counter()
    one = [book.rate_shop(d, 2, 1.5, "express") for d in km[:5000]]
    shop_one = 5000 / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    cost, idx = book.cheapest(km, "express", 2, 1.5)
    shop_vec = km.size / (time.perf_counter() - t0)
    assert all(q.index == i for q, i in zip(one, idx[:5000])), "rate_shop and cheapest disagree"

    results = [
        ("orders/s (reserve+ship)", "Inventory", ops_a, 1.0),
        ("orders/s (reserve+ship)", "dict + list ledger", ops_b, ops_b / ops_a),
        ("orders/s (reserve+ship)", "DataFrame append", ops_c, ops_c / ops_a),
        ("ledger frame s", "Inventory", fr_a, 1.0),
        ("ledger frame s", "dict + list ledger", fr_b, fr_b / fr_a),
        ("shipments/s rate shop", "CarrierBook.cheapest (vector)", shop_vec, 1.0),
        ("shipments/s rate shop", "CarrierBook.rate_shop (one)", shop_one, shop_one / shop_vec),
    ]
    print(f"{args.orders} orders, {args.nodes} nodes x {args.skus} SKUs, ledger {rows_a} rows")
    print(f"{'measure':<26}{'method':<32}{'value':>14}{'ratio':>10}")
    for m, who, v, r in results:
        print(f"{m:<26}{who:<32}{v:>14.4g}{r:>10.3g}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([dict(measure=m, method=w, value=v, ratio=r) for m, w, v, r in results], fh, indent=2)


if __name__ == "__main__":
    main()
