"""The demand a scenario generates, as an order history (``omsim demand``).

One row per order line in the generic history form that
:func:`omsim.history.read_history` reads back:
``order_id, created_at, sku, qty, region, service_level, customer_id``.
``created_at`` is written to the second with its UTC offset in the
scenario's time zone (``2026-12-01T09:14:05+00:00``), so reading it back
gives the same instants. ``order_id`` is ``O`` and the order's number in
arrival order (the history's own id when the scenario replays one).
``customer_id`` is the history's customer on a replay of a history that has
one; for generated orders it is the customer number of ``demand.customers``
(``K`` and the number; blank for guest orders, and for every order when the
scenario has no ``demand.customers``).
"""
from __future__ import annotations

import datetime as _dt
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from omsim.errors import OmsimError


def demand_frame(scenario, *, days: int | None = None, seed: int | None = None,
                 start: _dt.date | None = None) -> pd.DataFrame:
    """The orders a scenario generates over ``days`` from ``start``, one row per line.

    Parameters
    ----------
    scenario
        A validated :class:`omsim.scenario.Scenario`.
    days, seed, start
        Override the horizon's days, the scenario's seed and ``horizon.start``.
    """
    from omsim.clock import Clock
    from omsim.rng import Streams
    from omsim.sim.demand import LEVELS, generate_demand

    if start is not None:
        scenario = scenario.model_copy(deep=False)
        scenario.horizon = scenario.horizon.model_copy(update={"start": start})
    days = int(days or scenario.horizon.days)
    seed = scenario.seed if seed is None else int(seed)
    dem = generate_demand(scenario, Streams(seed), days)
    n = dem.n
    per = np.diff(dem.line_ptr)
    owner = np.repeat(np.arange(n), per)
    clock = Clock.from_scenario(scenario)
    secs = np.round(dem.created_h * 3600.0).astype("int64")
    local = pd.Timestamp(clock._origin) + pd.to_timedelta(secs, unit="s")
    at = pd.DatetimeIndex(local).tz_localize(clock.tz.key, ambiguous=False, nonexistent="shift_forward")
    ids = (dem.order_ids if dem.order_ids is not None
           else np.char.add("O", np.char.zfill(np.arange(1, n + 1).astype(str), len(str(n)))))
    cust = np.full(n, pd.NA, dtype=object)
    if dem.customer is not None:
        known = dem.customer >= 0
        cust[known] = np.char.add("K", dem.customer[known].astype(str))
    hist = scenario.demand._history
    if dem.order_ids is not None and "customer_id" in hist.lines:
        first = hist.lines.drop_duplicates("order_id").set_index("order_id")["customer_id"]
        cust = first.reindex(dem.order_ids).to_numpy(dtype=object)
    regions = np.asarray([r.id for r in scenario.demand.regions], dtype=object)
    return pd.DataFrame({
        "order_id": np.asarray(ids, dtype=object)[owner],
        "created_at": at[owner].strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True),
        "sku": np.asarray(scenario.sku_ids, dtype=object)[dem.line_sku],
        "qty": dem.line_qty,
        "region": regions[dem.region][owner],
        "service_level": np.asarray(LEVELS, dtype=object)[dem.level][owner],
        "customer_id": pd.array(cust, dtype="string")[owner],
    })


def write_demand(frame: pd.DataFrame, out: str | Path) -> Path:
    """Write ``frame`` as CSV (``.gz`` compresses) atomically: the file is whole or absent."""
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
        os.close(fd)
        try:
            frame.to_csv(tmp, index=False, compression="gzip" if out.suffix == ".gz" else None)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        raise OmsimError(f"--out {out}: cannot write ({exc})") from None
    return out
