"""The SimPy model of the order cycle: demand → engine → floor → carriers → returns.

Public API:

- :func:`simulate` ``(scenario, seed=None, days=None, progress=None, stream_to=None, format="parquet") -> Result``
  (``stream_to``: write orders, events and ledger to that directory as the run goes, in bounded memory);
- :func:`replicate` ``(scenario, replications, seed=None, days=None, progress=None) -> Replications``;
- :class:`Result` (``kpis``, ``orders``, ``events``, ``ledger``, ``daily``,
  ``inventory``, ``scenario``; ``write(out_dir)``) and :class:`Replications`
  (``kpis`` per replication, ``summary`` with mean and 95 % CI; ``write``).

Modules: :mod:`~omsim.sim.demand` (vectorised arrivals and payment),
:mod:`~omsim.sim.queueing` (stations and shift calendars, validated against
queueing theory), :mod:`~omsim.sim.model` (the processes, mixed in from dispatch, floor,
carriers, returns and replenishment; the floor's
waves, batches, routes and pick times come from :mod:`omsim.engine.floor`),
:mod:`~omsim.sim.events` (the event log), :mod:`~omsim.sim.result`
(KPI definitions) and :mod:`~omsim.sim.replications`.

>>> import omsim
>>> res = omsim.simulate(omsim.load_scenario(), seed=1, days=1)   # doctest: +SKIP
>>> res.kpis["on_time_rate"]                                       # doctest: +SKIP
"""
from __future__ import annotations

from omsim.sim.replications import Replications, replicate
from omsim.sim.result import Result

__all__ = ["simulate", "replicate", "Result", "Replications"]


def simulate(scenario, seed: int | None = None, days: int | None = None, progress=None, *, stream_to=None,
             format: str = "parquet", on_orders=None, check_memory: bool = True, from_snapshot=None) -> Result:
    """Simulate a scenario once.

    Parameters
    ----------
    scenario
        A validated :class:`omsim.scenario.Scenario` (see :func:`omsim.load_scenario`).
    seed
        Seed of the run's random streams; the scenario's ``seed`` when None.
        Same scenario and seed give identical results; two variants of a
        scenario with the same seed see the same orders.
    days
        Simulated days; the scenario's ``horizon.days`` when None.
    progress
        Optional ``callable(day_done, days_total)`` called after each simulated day.
    stream_to
        A directory: orders, events and ledger are written there as the run goes (``format``:
        ``parquet`` or ``csv``) and the Result reads them from it when first asked; memory then
        no longer holds the event log and ledger (:mod:`omsim.sim.stream`).
    on_orders
        Optional ``callable(orders_decided, orders_total)``, called as orders are decided.
    check_memory
        Refuse a run whose estimated memory exceeds what the machine has (:mod:`omsim.sim.guard`).
    from_snapshot
        A directory written by the service's ``GET /v1/snapshot`` (or its :class:`omsim.sim.snapshot.Start`):
        start from that state and instant (:mod:`omsim.sim.snapshot`; day 0 is the snapshot's date).

    Returns
    -------
    Result
        KPIs, orders, events, ledger, daily series and the scenario.

    Raises
    ------
    OmsimError
        A bad ``days`` or ``seed``, a run too large for the machine's memory, a scenario the
        engine cannot run, or a bad snapshot directory (the file and field named).
    """
    from omsim.errors import OmsimError
    from omsim.sim.model import Simulation

    if seed is None:
        seed = scenario.seed
    if isinstance(seed, bool) or int(seed) != seed or int(seed) < 0:
        raise OmsimError(f"seed must be a non-negative integer, got {seed!r}")
    if days is not None and (isinstance(days, bool) or int(days) != days or int(days) < 1):
        raise OmsimError(f"days must be a positive integer, got {days!r}")
    from omsim.sim.guard import check_run
    from omsim.sim.stream import Sink

    if check_memory:
        check_run(scenario, scenario.horizon.days if days is None else int(days), streamed=stream_to is not None)
    start = from_snapshot
    if from_snapshot is not None:
        from omsim.sim.snapshot import Start, read_start

        if not isinstance(start, Start):
            start = read_start(from_snapshot, scenario)
        scenario = start.scenario
    sink = None if stream_to is None else Sink(stream_to, format)
    return Simulation(scenario, int(seed), None if days is None else int(days), progress=progress, sink=sink,
                      on_orders=on_orders, start=start).run()
