"""The planner's input files: open orders and a stock snapshot (CSV), read and validated once.

Every bad row is reported with its file, row and column (all of them, up to
:data:`_MAX_ERRORS_SHOWN`, in one :class:`~omsim.errors.OmsimError`); nothing is
half-read. Used by ``omsim plan``, the service's ``--stock`` and
``omsim simulate --from-snapshot`` (the formats are described in :mod:`omsim.plan`).

Open orders CSV (one row per order line)::

    order_id, sku, qty, region | lat,lon, service_level, created_at

Stock snapshot CSV::

    node, sku, on_hand [, safety]
"""
from __future__ import annotations

import csv
import datetime as _dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omsim.clock import Clock, parse_local
from omsim.errors import OmsimError
from omsim.orders import Order
from omsim.scenario import SERVICE_LEVELS, Scenario

__all__ = ["OpenOrders", "read_open_orders", "read_stock", "parse_time", "to_hours", "to_datetime"]


_ORDER_REQUIRED = ("order_id", "sku", "qty", "created_at")
_ORDER_OPTIONAL = ("region", "lat", "lon", "service_level", "channel")
_STOCK_REQUIRED = ("node", "sku", "on_hand")
_STOCK_OPTIONAL = ("safety",)
_MAX_ERRORS_SHOWN = 20


# ====================================================================== time
def parse_time(text: str, what: str = "time") -> _dt.datetime:
    """Parse ``2026-12-01 08:00`` as local time (see :func:`omsim.clock.parse_local`)."""
    return parse_local(text, what)


def to_hours(scenario: Scenario, t: _dt.datetime) -> float:
    """Engine hours of ``t`` (naive: local wall time in the scenario's zone; aware: converted)."""
    return Clock.from_scenario(scenario).local_hours(t)


def to_datetime(scenario: Scenario, h: float | None) -> str:
    """Engine hour ``h`` as local ``YYYY-MM-DD HH:MM`` (empty for None/NaN)."""
    return Clock.from_scenario(scenario).format(h)


# ====================================================================== input
@dataclass
class OpenOrders:
    """Open orders read from a CSV, as engine :class:`~omsim.orders.Order` objects.

    ``orders[i].order_id`` is ``i``; ``ids[i]`` is the id in the file.
    """

    orders: list[Order]
    ids: list[str]
    source: str


def _read_rows(path: str | Path, required, optional, what: str) -> tuple[str, list[dict]]:
    p = Path(path)
    shown = str(path)
    if not p.exists():
        raise OmsimError(f"{shown}: no such file ({what})", file=shown)
    if p.is_dir():
        raise OmsimError(f"{shown}: is a directory, expected a CSV file ({what})", file=shown)
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [(h or "").strip() for h in (reader.fieldnames or [])]
            if not header:
                raise OmsimError(f"{shown}: row 1: the file is empty; expected a header with columns "
                                 f"{', '.join(required)}", file=shown)
            missing = [c for c in required if c not in header]
            if missing:
                raise OmsimError(f"{shown}: row 1: missing column(s) {', '.join(missing)}; expected "
                                 f"{', '.join(required)}" + (f" and optionally {', '.join(optional)}" if optional else ""),
                                 file=shown)
            unknown = [c for c in header if c not in required and c not in optional]
            if unknown:
                raise OmsimError(f"{shown}: row 1: unknown column(s) {', '.join(unknown)}; expected "
                                 f"{', '.join(required)}" + (f" and optionally {', '.join(optional)}" if optional else ""),
                                 file=shown)
            rows = []
            for row in reader:
                if None in row:  # more fields than the header has
                    row["__extra__"] = row.pop(None)
                rows.append({(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()})
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise OmsimError(f"{shown}: cannot read the CSV ({exc})", file=shown) from None
    return shown, rows


def _raise_all(shown: str, errors: list[str], what: str) -> None:
    if not errors:
        return
    head = errors[:_MAX_ERRORS_SHOWN]
    more = f"\n  ... and {len(errors) - len(head)} more" if len(errors) > len(head) else ""
    raise OmsimError(f"{shown}: {len(errors)} bad row(s) in the {what}:\n  " + "\n  ".join(head) + more,
                     file=shown, errors=errors)


def _int_cell(row, col, shown, i, errors, minimum) -> int | None:
    v = row.get(col)
    if v is None or v == "":
        errors.append(f"{shown}: row {i}, column {col}: empty value")
        return None
    try:
        f = float(v)
        if not f.is_integer():
            raise ValueError
        out = int(f)
    except (ValueError, OverflowError):
        errors.append(f"{shown}: row {i}, column {col}: expected a whole number, got {v!r}")
        return None
    if out < minimum:
        errors.append(f"{shown}: row {i}, column {col}: must be >= {minimum}, got {v!r}")
        return None
    return out


def _float_cell(row, col, shown, i, errors, lo, hi) -> float | None:
    v = row.get(col)
    try:
        out = float(v)
        if not (math.isfinite(out) and lo <= out <= hi):
            raise ValueError
    except (TypeError, ValueError):
        errors.append(f"{shown}: row {i}, column {col}: expected a number in [{lo}, {hi}], got {v!r}")
        return None
    return out


def read_open_orders(path: str | Path, scenario: Scenario, at_h: float | None = None) -> OpenOrders:
    """Read and validate the open orders CSV (see the module docstring for its columns).

    Parameters
    ----------
    path
        The CSV file.
    scenario
        Its SKUs, regions and start date give the ids and the time origin.
    at_h
        The planning time (hours); orders created after it are errors.

    Returns
    -------
    OpenOrders
        Orders in file order of their first line.

    Raises
    ------
    OmsimError
        Missing file or column, unknown SKU or region, bad quantity, level or
        time, inconsistent lines of one order, a SKU twice in one order; every
        bad row is listed with its row number (the header is row 1) and column.
    """
    shown, rows = _read_rows(path, _ORDER_REQUIRED, _ORDER_OPTIONAL, "open orders")
    header = set(rows[0]) if rows else set()
    has_region = "region" in header
    has_latlon = "lat" in header and "lon" in header
    if rows and not has_region and not has_latlon:
        raise OmsimError(f"{shown}: row 1: missing column region (or lat and lon)", file=shown)
    sku_pos = {s: j for j, s in enumerate(scenario.sku_ids)}
    regions = scenario.demand.regions or []
    reg_pos = {r.id: k for k, r in enumerate(regions)}
    reg_ll = np.array([[r.lat, r.lon] for r in regions], dtype=float)
    errors: list[str] = []
    by_id: dict[str, dict] = {}
    for i, row in enumerate(rows, start=2):
        if "__extra__" in row:
            errors.append(f"{shown}: row {i}: more fields than the header has")
            continue
        oid = row.get("order_id") or ""
        if not oid:
            errors.append(f"{shown}: row {i}, column order_id: empty value")
            continue
        sku = row.get("sku") or ""
        j = sku_pos.get(sku)
        if j is None:
            errors.append(f"{shown}: row {i}, column sku: unknown SKU {sku!r} (not in the scenario's catalogue)")
        qty = _int_cell(row, "qty", shown, i, errors, minimum=1)
        level = row.get("service_level") or "standard"
        if level not in SERVICE_LEVELS:
            errors.append(f"{shown}: row {i}, column service_level: expected one of {', '.join(SERVICE_LEVELS)}, "
                          f"got {level!r}")
            level = None
        region = None
        if has_region and row.get("region"):
            region = reg_pos.get(row["region"])
            if region is None:
                errors.append(f"{shown}: row {i}, column region: unknown region {row['region']!r} "
                              f"(known: {', '.join(list(reg_pos)[:8])}{', ...' if len(reg_pos) > 8 else ''})")
        elif has_latlon and (row.get("lat") or row.get("lon")):
            lat = _float_cell(row, "lat", shown, i, errors, -90, 90)
            lon = _float_cell(row, "lon", shown, i, errors, -180, 180)
            if lat is not None and lon is not None:
                from omsim.geo import distance_matrix_km
                region = int(np.argmin(distance_matrix_km(np.array([[lat, lon]]), reg_ll)[0]))
        else:
            errors.append(f"{shown}: row {i}, column {'region' if has_region else 'lat'}: empty value")
        created = None
        try:
            created = to_hours(scenario, parse_time(row.get("created_at") or "", "created_at"))
        except OmsimError as exc:
            errors.append(f"{shown}: row {i}, column created_at: {exc.message.split(': ', 1)[1]}")
        if created is not None and at_h is not None and created > at_h + 1e-9:
            errors.append(f"{shown}: row {i}, column created_at: {row['created_at']} is after the planning time "
                          f"{to_datetime(scenario, at_h)} (--at)")
        if None in (j, qty, level, region, created):
            continue
        rec = by_id.get(oid)
        if rec is None:
            by_id[oid] = {"row": i, "region": region, "level": level, "created": created,
                          "channel": row.get("channel") or "web", "skus": [j], "qty": [qty]}
            continue
        for col, key, val in (("region", "region", region), ("service_level", "level", level),
                              ("created_at", "created", created)):
            if rec[key] != val:
                errors.append(f"{shown}: row {i}, column {col}: order {oid!r} has a different {col} "
                              f"on row {rec['row']}")
                break
        else:
            if j in rec["skus"]:
                errors.append(f"{shown}: row {i}, column sku: SKU {sku!r} appears twice in order {oid!r} "
                              f"(give one line with the total quantity)")
            else:
                rec["skus"].append(j)
                rec["qty"].append(qty)
    _raise_all(shown, errors, "open orders")
    if not by_id:
        raise OmsimError(f"{shown}: no order rows (only a header)", file=shown)
    orders, ids = [], []
    for k, (oid, rec) in enumerate(by_id.items()):
        orders.append(Order(order_id=k, created_h=rec["created"], region=rec["region"], level=rec["level"],
                            skus=np.asarray(rec["skus"], dtype=np.int64), qty=np.asarray(rec["qty"], dtype=np.int64),
                            channel=rec["channel"]))
        ids.append(oid)
    return OpenOrders(orders, ids, shown)


def read_stock(path: str | Path, scenario: Scenario) -> tuple[np.ndarray, np.ndarray | None]:
    """Read and validate a stock snapshot (``node, sku, on_hand[, safety]``).

    Returns
    -------
    on_hand : (N, S) int64
        Units per node and SKU (0 where not listed).
    safety : (N, S) int64 or None
        When the file has a ``safety`` column.

    Raises
    ------
    OmsimError
        Missing file or column, unknown node or SKU, a negative or fractional
        count, a node and SKU listed twice (file, row and column named).
    """
    shown, rows = _read_rows(path, _STOCK_REQUIRED, _STOCK_OPTIONAL, "stock snapshot")
    node_pos = {n: i for i, n in enumerate(scenario.node_ids)}
    sku_pos = {s: j for j, s in enumerate(scenario.sku_ids)}
    N, S = len(node_pos), len(sku_pos)
    on_hand = np.zeros((N, S), dtype=np.int64)
    has_safety = bool(rows) and "safety" in rows[0]
    safety = np.zeros((N, S), dtype=np.int64) if has_safety else None
    seen: dict[tuple[int, int], int] = {}
    errors: list[str] = []
    for i, row in enumerate(rows, start=2):
        if "__extra__" in row:
            errors.append(f"{shown}: row {i}: more fields than the header has")
            continue
        n = node_pos.get(row.get("node") or "")
        if n is None:
            errors.append(f"{shown}: row {i}, column node: unknown node {row.get('node')!r} "
                          f"(the scenario has {', '.join(node_pos)})")
        j = sku_pos.get(row.get("sku") or "")
        if j is None:
            errors.append(f"{shown}: row {i}, column sku: unknown SKU {row.get('sku')!r} (not in the scenario's catalogue)")
        q = _int_cell(row, "on_hand", shown, i, errors, minimum=0)
        s = _int_cell(row, "safety", shown, i, errors, minimum=0) if has_safety and row.get("safety") else 0
        if None in (n, j, q, s):
            continue
        if (n, j) in seen:
            errors.append(f"{shown}: row {i}, column sku: node {row['node']!r} and SKU {row['sku']!r} already "
                          f"listed on row {seen[(n, j)]}")
            continue
        seen[(n, j)] = i
        on_hand[n, j] = q
        if safety is not None:
            safety[n, j] = s
    _raise_all(shown, errors, "stock snapshot")
    return on_hand, safety
