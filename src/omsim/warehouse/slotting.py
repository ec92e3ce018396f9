"""Slotting: which storage location (aisle, cell, side) holds each SKU.

Policies
--------
``random``
    Every SKU gets a distinct location drawn uniformly (needs ``rng``).
``class``
    Class-based storage by popularity: SKUs are ranked by popularity and
    split into classes (A = top 20 %, B = next 30 %, C = the rest by
    default); the locations nearest to the depot (aisle-graph distance) form
    the A zone, the next ones the B zone, and so on. Within a zone SKUs are
    placed at random when ``rng`` is given, else strictly by rank (the most
    popular SKU in the nearest location: dedicated, popularity-ordered storage).
``explicit``
    From a table (CSV file with columns ``sku, aisle, cell[, side]``, a
    pandas DataFrame with those columns, or a mapping ``sku -> (aisle, cell[, side])``).
"""
from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from omsim.errors import OmsimError
from omsim.warehouse.layout import Layout

__all__ = ["slot", "locations_by_distance", "read_slotting_csv"]

DEFAULT_CLASSES = (0.2, 0.3, 0.5)


def locations_by_distance(layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All locations sorted by distance from the depot (ties: aisle, cell, side).

    Returns
    -------
    aisle, cell, side, distance : numpy.ndarray
    """
    a, c, s = layout.locations()
    d = layout.depot_distances(np.column_stack([a, c]))
    order = np.lexsort((s, c, a, d))
    return a[order], c[order], s[order], d[order]


def slot(layout: Layout, n_skus: int, policy: str = "random", popularity=None, rng=None, table=None, *,
         classes: Sequence[float] = DEFAULT_CLASSES, sku_ids: Sequence[str] | None = None,
         missing: str = "error") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Assign a storage location to each SKU.

    Parameters
    ----------
    layout
        The warehouse.
    n_skus
        Number of SKUs; SKU ``i`` is the ``i``-th entry of the result.
    policy
        ``"random"``, ``"class"`` or ``"explicit"``.
    popularity
        ``(n_skus,)`` demand weights (``class`` policy).
    rng
        :class:`numpy.random.Generator` (``random``; optional for ``class``).
    table
        ``explicit`` policy: a CSV path, a DataFrame or a mapping (see module doc).
    classes
        ``class`` policy: shares of SKUs per class, most popular first (sum 1).
    sku_ids
        ``explicit`` policy: SKU identifiers in result order, matched against
        the table's ``sku`` column; without it the column holds indices
        ``0 .. n_skus - 1``.
    missing
        ``explicit`` policy: ``"error"`` if a SKU is absent from the table, or
        ``"random"`` to place absent SKUs on free locations drawn with ``rng``.

    Returns
    -------
    aisle, cell, side : numpy.ndarray
        ``(n_skus,)`` int64 each.

    Raises
    ------
    OmsimError
        More SKUs than locations, unknown policy, or a bad table row (the
        message names the file, row and column).
    """
    n_skus = int(n_skus)
    if n_skus < 0:
        raise OmsimError(f"slotting: n_skus must be >= 0, got {n_skus}")
    if policy in ("random", "class") and n_skus > layout.n_locations:
        raise OmsimError(f"slotting: {n_skus} SKUs do not fit in {layout.n_locations} locations "
                         f"({layout.aisles} aisles x {layout.cells_per_aisle} cells x {layout.sides} sides)")
    if policy == "random":
        if rng is None:
            raise ValueError("random slotting needs rng (a numpy.random.Generator)")
        idx = rng.choice(layout.n_locations, size=n_skus, replace=False)
        a, c, s = layout.locations()
        return a[idx].copy(), c[idx].copy(), s[idx].copy()
    if policy == "class":
        return _class_based(layout, n_skus, popularity, rng, classes)
    if policy == "explicit":
        if table is None:
            raise OmsimError("slotting: policy 'explicit' needs a table (CSV file with sku, aisle, cell[, side])")
        return _explicit(layout, n_skus, table, sku_ids, missing, rng)
    raise OmsimError(f"slotting: policy must be 'random', 'class' or 'explicit', got {policy!r}")


def _class_based(layout, n_skus, popularity, rng, classes):
    if popularity is None:
        raise OmsimError("slotting: policy 'class' needs the SKUs' popularity")
    pop = np.asarray(popularity, dtype=np.float64)
    if pop.shape != (n_skus,) or not np.all(np.isfinite(pop)):
        raise OmsimError(f"slotting: popularity must be {n_skus} finite numbers, got shape {pop.shape}")
    shares = np.asarray(classes, dtype=np.float64)
    if shares.ndim != 1 or shares.size == 0 or np.any(shares < 0) or not np.isclose(shares.sum(), 1.0):
        raise OmsimError(f"slotting: classes must be non-negative shares summing to 1, got {list(classes)}")
    la, lc, ls, _ = locations_by_distance(layout)
    rank_order = np.argsort(-pop, kind="stable")  # most popular first
    bounds = np.ceil(np.cumsum(shares) * n_skus - 1e-9).astype(np.int64)
    bounds[-1] = n_skus
    slot_of_rank = np.arange(n_skus)
    start = 0
    for end in bounds:
        end = max(int(end), start)
        if rng is not None and end - start > 1:
            # Random storage inside the class zone.
            slot_of_rank[start:end] = start + rng.permutation(end - start)
        start = end
    out_a = np.empty(n_skus, dtype=np.int64)
    out_c = np.empty(n_skus, dtype=np.int64)
    out_s = np.empty(n_skus, dtype=np.int64)
    out_a[rank_order] = la[slot_of_rank]
    out_c[rank_order] = lc[slot_of_rank]
    out_s[rank_order] = ls[slot_of_rank]
    return out_a, out_c, out_s


def read_slotting_csv(path) -> list[tuple[int, dict[str, str]]]:
    """Rows of a slotting CSV as ``(row number, {column: text})`` (row 2 is the first data row)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            cols = [c.strip() for c in (reader.fieldnames or [])]
            for need in ("sku", "aisle", "cell"):
                if need not in cols:
                    raise OmsimError(f"{path}: missing column {need!r} (need sku, aisle, cell[, side])", file=str(path))
            return [(i, {(k or "").strip(): (v or "").strip() for k, v in row.items()})
                    for i, row in enumerate(reader, start=2)]
    except OSError as exc:
        raise OmsimError(f"{path}: cannot read slotting table ({exc.strerror})", file=str(path)) from None


def _explicit(layout, n_skus, table, sku_ids, missing, rng):
    source = "slotting table"
    if isinstance(table, (str, Path)):
        source = str(table)
        rows = read_slotting_csv(table)
    elif isinstance(table, Mapping):
        rows = []
        for i, (sku, loc) in enumerate(table.items(), start=1):
            loc = tuple(loc)
            row = {"sku": str(sku) if sku_ids is not None else sku, "aisle": loc[0], "cell": loc[1]}
            if len(loc) > 2:
                row["side"] = loc[2]
            rows.append((i, row))
    elif hasattr(table, "to_dict"):  # a pandas DataFrame
        for need in ("sku", "aisle", "cell"):
            if need not in table.columns:
                raise OmsimError(f"{source}: missing column {need!r} (need sku, aisle, cell[, side])")
        rows = [(i, row) for i, row in enumerate(table.to_dict("records"), start=2)]
    else:
        raise OmsimError(f"{source}: expected a CSV path, a DataFrame or a mapping, got {type(table).__name__}")

    index = {str(k): i for i, k in enumerate(sku_ids)} if sku_ids is not None else None
    if index is not None and len(index) != n_skus:
        raise OmsimError(f"{source}: sku_ids must hold {n_skus} distinct SKUs")
    out = np.full((n_skus, 3), -1, dtype=np.int64)
    errors: list[str] = []
    limits = {"aisle": layout.aisles, "cell": layout.cells_per_aisle, "side": layout.sides}
    for rowno, row in rows:
        where = f"{source}: row {rowno}"
        sku = row.get("sku")
        if index is not None:
            k = index.get(str(sku).strip())
            if k is None:
                errors.append(f"{where}, column sku: unknown SKU {sku!r}")
                continue
        else:
            k = _as_int(sku)
            if k is None or not 0 <= k < n_skus:
                errors.append(f"{where}, column sku: expected a SKU index 0..{n_skus - 1}, got {sku!r}")
                continue
        vals = []
        for col in ("aisle", "cell", "side"):
            raw = row.get(col)
            if col == "side" and (raw is None or raw == "" or (isinstance(raw, float) and np.isnan(raw))):
                vals.append(0)
                continue
            v = _as_int(raw)
            if v is None or not 0 <= v < limits[col]:
                errors.append(f"{where}, column {col}: expected an integer 0..{limits[col] - 1}, got {raw!r}")
                break
            vals.append(v)
        else:
            if out[k, 0] >= 0:
                errors.append(f"{where}, column sku: SKU {sku!r} listed twice")
                continue
            out[k] = vals
    if errors:
        raise OmsimError(f"{source}: {len(errors)} bad row(s):\n  " + "\n  ".join(errors[:20]),
                         file=source if isinstance(table, (str, Path)) else None, errors=errors)
    absent = np.flatnonzero(out[:, 0] < 0)
    if absent.size:
        if missing != "random":
            names = [sku_ids[i] if sku_ids is not None else str(i) for i in absent[:5]]
            raise OmsimError(f"{source}: {absent.size} SKU(s) have no location, e.g. {', '.join(map(str, names))}")
        if rng is None:
            raise ValueError("placing missing SKUs at random needs rng")
        a, c, s = layout.locations()
        used = set(map(tuple, out[out[:, 0] >= 0].tolist()))
        free = np.array([i for i, loc in enumerate(zip(a.tolist(), c.tolist(), s.tolist())) if loc not in used])
        if free.size < absent.size:
            raise OmsimError(f"{source}: {absent.size} SKUs without a location but only {free.size} free locations")
        pick = rng.choice(free, size=absent.size, replace=False)
        out[absent] = np.column_stack([a[pick], c[pick], s[pick]])
    return out[:, 0].copy(), out[:, 1].copy(), out[:, 2].copy()


def _as_int(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return int(v) if np.isfinite(v) and float(v).is_integer() else None
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None
