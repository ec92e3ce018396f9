"""Before a run: how many orders it will make and how much memory it will take, and a refusal
when that does not fit in this machine.

The estimate is the expected order count of the arrival process (the sum of
its hourly rates, :func:`omsim.sim.demand.hourly_rates`) times bytes per order
measured on the bundled scenarios (``benchmarks/simulation.py`` prints the
peak RSS per size): an in-memory run holds every order's row, packages, about
ten event-log rows and the frames built from them; a streamed run
(``--format parquet``) writes events, ledger and finished orders as it goes
and holds its live orders (the backlog), a day or two of finished ones and
32 bytes of KPI values per order (:mod:`omsim.sim.retire`): its bytes per
order are those of the scale case (``scenarios/large-retailer.yaml``, 9.2M
orders in 3.2 GB), with margin.
"""
from __future__ import annotations

import os

from omsim.errors import OmsimError

#: Peak bytes per order, measured (max RSS over orders: in memory 100k-1M orders of the default scenario;
#: streamed, the scale case), with margin.
BYTES_PER_ORDER_IN_MEMORY = 2_400
BYTES_PER_ORDER_STREAMED = 400
#: Interpreter, libraries, the scenario's tables: independent of the order count.
BASE_BYTES = 400 * 2**20


def expected_orders(scenario, days: int) -> float:
    """Expected orders created over ``days`` (the arrival process's mean; exchanges excluded)."""
    from omsim.sim.demand import hourly_rates

    return float(hourly_rates(scenario, int(days)).sum())


def estimate_bytes(orders: float, streamed: bool) -> float:
    """Estimated peak memory of a run of ``orders`` orders."""
    per = BYTES_PER_ORDER_STREAMED if streamed else BYTES_PER_ORDER_IN_MEMORY
    return BASE_BYTES + per * float(orders)


def available_bytes() -> float:
    """Memory this process may use: MemAvailable on Linux, else the physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not a POSIX system
        return float("inf")


def check_run(scenario, days: int, replications: int = 1, streamed: bool = False,
              available: float | None = None, fix: str | None = None) -> dict:
    """Estimate a run and refuse it (:class:`OmsimError`) when it would not fit in memory.

    Replications run one after the other: the largest holds the memory. ``fix``: the options that
    would fix a refusal, when not the ones of ``simulate``.

    Returns
    -------
    dict
        ``orders`` (expected, all replications), ``bytes`` (estimated peak) and ``available``.
    """
    per_run = expected_orders(scenario, days)
    need = estimate_bytes(per_run, streamed)
    have = available_bytes() if available is None else float(available)
    if need > have:
        fix = fix or ("fewer --days" if streamed else
                      "--format parquet (streams orders, events and ledger to disk) or fewer --days")
        raise OmsimError(
            f"{scenario.name}: about {per_run:,.0f} orders over {days} day(s) would need about "
            f"{need / 2**30:,.1f} GB of memory{' streamed' if streamed else ''}, and this machine has "
            f"{have / 2**30:,.1f} GB available; use {fix} (demand.orders_per_day is "
            f"{scenario.demand.orders_per_day:,.0f})")
    return {"orders": per_run * replications, "bytes": need, "available": have}
