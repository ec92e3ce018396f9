"""The scenario's CSV tables (catalogue, regions, stock, slotting) and its order history, read once on
load with every error collected; a generated catalogue is materialised here too."""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from omsim.errors import OmsimError
from omsim.scenario_catalogue import Sku
from omsim.scenario_demand import Region
from omsim.scenario_paths import format_loc

if TYPE_CHECKING:
    from omsim.scenario import Scenario


def _csv_rows(sc: Scenario, rel: str, field: str, required: list[str], optional: list[str],
              errors: list[str]) -> tuple[str, list[dict]] | None:
    base = sc._base_dir or Path.cwd()
    path = (base / rel) if not Path(rel).is_absolute() else Path(rel)
    shown = str(path)
    if not path.exists():
        errors.append(f"{sc._source}: {field}: referenced CSV {shown} does not exist")
        return None
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in required if c not in header]
            if missing:
                errors.append(f"{shown}: (referenced by {field}) missing column(s) {', '.join(missing)}; "
                              f"expected {', '.join(required)}" + (f" and optionally {', '.join(optional)}" if optional else ""))
                return None
            unknown = [c for c in header if c not in required and c not in optional]
            if unknown:
                errors.append(f"{shown}: (referenced by {field}) unknown column(s) {', '.join(unknown)}")
                return None
            rows = [{(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
                    for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        errors.append(f"{shown}: (referenced by {field}) cannot read ({exc})")
        return None
    return shown, rows


def _convert(value, kind, shown: str, rowno: int, col: str, errors: list[str], *, minimum=None):
    if value is None or value == "":
        errors.append(f"{shown}: row {rowno}, column {col}: empty value")
        return None
    try:
        if kind is bool:
            low = str(value).lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            out = low in ("true", "1", "yes")
        elif kind is int:
            f = float(value)
            if not f.is_integer():
                raise ValueError
            out = int(f)
        elif kind is float:
            out = float(value)
            if not math.isfinite(out):
                raise ValueError
        else:
            out = str(value)
    except ValueError:
        errors.append(f"{shown}: row {rowno}, column {col}: expected {kind.__name__}, got {value!r}")
        return None
    if minimum is not None and out < minimum:
        errors.append(f"{shown}: row {rowno}, column {col}: must be >= {minimum}, got {value!r}")
        return None
    return out


_SKU_COLS = {"weight_kg": float, "volume_l": float, "price": float, "unit_cost": float,
             "category": str, "returnable": bool, "popularity": float}
_STOCK_OPT = {"safety": int, "s": int, "S": int, "r": int, "Q": int, "base": int}


def _resolve_tables(sc: Scenario) -> None:
    """Read CSV references and materialise a generated catalogue; collect every error."""
    errors: list[str] = []
    cat = sc.catalogue
    if cat.file is not None:
        got = _csv_rows(sc, cat.file, "catalogue.file", ["id"], list(_SKU_COLS), errors)
        if got:
            shown, rows = got
            skus, seen = [], set()
            for i, row in enumerate(rows, start=2):  # row 1 is the header
                sid = row.get("id") or ""
                if not re.match(r"^[A-Za-z0-9_.\-]+$", sid):
                    errors.append(f"{shown}: row {i}, column id: expected an id of letters, digits, _ . -, got {sid!r}")
                    continue
                if sid in seen:
                    errors.append(f"{shown}: row {i}, column id: duplicate SKU id {sid!r}")
                    continue
                seen.add(sid)
                kw: dict[str, Any] = {"id": sid}
                for col, kind in _SKU_COLS.items():
                    if col in row and row[col] not in (None, ""):
                        v = _convert(row[col], kind, shown, i, col, errors, minimum=0 if kind is float else None)
                        if v is not None:
                            kw[col] = v
                skus.append(Sku(**kw))
            if not skus and not errors:
                errors.append(f"{shown}: (referenced by catalogue.file) has no SKU rows")
            cat.skus = skus
    elif cat.generator is not None and cat.skus is None:
        from omsim.catalogue import generate_catalogue  # local: keeps scenario import light
        cat.skus = generate_catalogue(cat.generator, seed=sc.seed if cat.generator.seed is None else cat.generator.seed)
    # The materialised table is the truth from here on (raw() keeps the source),
    # so a dumped scenario validates again as it is.
    cat.file = cat.generator = None

    if sc.demand.regions_file is not None:
        got = _csv_rows(sc, sc.demand.regions_file, "demand.regions_file", ["id", "lat", "lon"], ["weight"], errors)
        if got:
            shown, rows = got
            regions = []
            for i, row in enumerate(rows, start=2):
                lat = _convert(row.get("lat"), float, shown, i, "lat", errors)
                lon = _convert(row.get("lon"), float, shown, i, "lon", errors)
                w = _convert(row["weight"], float, shown, i, "weight", errors) if row.get("weight") not in (None, "") else 1.0
                if lat is None or lon is None or w is None:
                    continue
                try:
                    regions.append(Region(id=row.get("id") or "", lat=lat, lon=lon, weight=w))
                except ValidationError as exc:
                    for e in exc.errors(include_url=False):
                        errors.append(f"{shown}: row {i}, column {format_loc(e['loc'])}: {e['msg']}")
            if not regions and not errors:
                errors.append(f"{shown}: (referenced by demand.regions_file) has no region rows")
            sc.demand.regions = regions
            sc.demand.regions_file = None

    if sc.demand.history is not None:
        _resolve_history(sc, errors)

    sku_set = set(sc.sku_ids)
    for w_i, wh in enumerate(sc.network.warehouses):
        if wh.stock.file is not None:
            field = f"network.warehouses[{w_i}].stock.file"
            got = _csv_rows(sc, wh.stock.file, field, ["sku", "on_hand"], list(_STOCK_OPT), errors)
            if got:
                shown, rows = got
                table: dict[str, dict[str, int]] = {}
                for i, row in enumerate(rows, start=2):
                    sku = row.get("sku") or ""
                    if sku not in sku_set:
                        errors.append(f"{shown}: row {i}, column sku: unknown SKU {sku!r} (not in the catalogue)")
                        continue
                    if sku in table:
                        errors.append(f"{shown}: row {i}, column sku: SKU {sku!r} listed twice")
                        continue
                    rec = {"on_hand": _convert(row.get("on_hand"), int, shown, i, "on_hand", errors, minimum=0)}
                    for col in _STOCK_OPT:
                        if row.get(col) not in (None, ""):
                            rec[col] = _convert(row[col], int, shown, i, col, errors, minimum=0)
                    if all(v is not None for v in rec.values()):
                        table[sku] = rec
                wh.stock._table = table
        if wh.slotting.file is not None:
            field = f"network.warehouses[{w_i}].slotting.file"
            got = _csv_rows(sc, wh.slotting.file, field, ["sku", "aisle", "cell"], ["side"], errors)
            if got:
                shown, rows = got
                places = {}
                for i, row in enumerate(rows, start=2):
                    sku = row.get("sku") or ""
                    if sku not in sku_set:
                        errors.append(f"{shown}: row {i}, column sku: unknown SKU {sku!r} (not in the catalogue)")
                        continue
                    a = _convert(row.get("aisle"), int, shown, i, "aisle", errors, minimum=0)
                    c = _convert(row.get("cell"), int, shown, i, "cell", errors, minimum=0)
                    s = _convert(row["side"], int, shown, i, "side", errors, minimum=0) if row.get("side") not in (None, "") else 0
                    if None in (a, c, s):
                        continue
                    if a >= wh.layout.aisles or c >= wh.layout.cells_per_aisle or s >= wh.layout.sides:
                        errors.append(f"{shown}: row {i}: location (aisle {a}, cell {c}, side {s}) is outside the layout "
                                      f"({wh.layout.aisles} aisles x {wh.layout.cells_per_aisle} cells x {wh.layout.sides} sides)")
                        continue
                    places[sku] = (a, c, s)
                wh.slotting._table = places

    if errors:
        raise OmsimError(f"{sc._source}: {len(errors)} error(s) in the scenario's tables:\n  " + "\n  ".join(errors),
                         file=sc._source, errors=errors)


def _resolve_history(sc: Scenario, errors: list[str]) -> None:
    """Read ``demand.history`` (first existing candidate) and add the SKUs the catalogue lacks.

    Added SKUs get the :class:`Sku` defaults, except ``price`` (the median
    price of the SKU's history lines, when the file has prices) and
    ``unit_cost`` (price x 0.55, the generator's default margin); their
    ``popularity`` stays unset, so the stocking rules give them the
    catalogue's mean popularity.
    """
    from omsim.history.read import load_history_cached  # local: scenario stays the bottom layer

    d = sc.demand
    cands = [d.history] if isinstance(d.history, str) else list(d.history)
    base = sc._base_dir if sc._base_dir is not None else Path.cwd()
    paths = [Path(c) if Path(c).is_absolute() else base / c for c in cands]
    found = next((p for p in paths if p.is_file()), None)
    if found is None:
        errors.append(f"{sc.source}: demand.history: no such file: {', '.join(map(str, paths))}")
        return
    try:
        h = load_history_cached(found)
    except OmsimError as exc:
        errors.append(f"{sc.source}: demand.history: {exc.message}")
        return
    d._history = h
    d.history = str(found.resolve())
    known = set(sc.sku_ids)
    lines = h.lines
    new = lines.loc[~lines["sku"].isin(known), ["sku"] + (["price"] if "price" in lines else [])]
    if new.empty:
        d._skus_added = 0
        return
    ident = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
    bad = [s for s in new["sku"].unique() if not ident.match(s)]
    if bad:
        errors.append(f"{sc.source}: demand.history: {found}: SKU {bad[0]!r} is not an id of letters, digits, "
                      f"_ . - (up to 64) ({len(bad)} such SKUs)")
        return
    if "price" in new:
        med = new.groupby("sku", sort=False)["price"].median()
        added = [Sku(id=k) if not v > 0 else Sku(id=k, price=round(float(v), 2), unit_cost=round(float(v) * 0.55, 2))
                 for k, v in med.items()]
    else:
        added = [Sku(id=k) for k in new["sku"].unique()]
    sc.catalogue.skus = list(sc.catalogue.skus or []) + added
    d._skus_added = len(added)
