"""The scenario format: YAML files (large tables as CSV), validated once, here.

A scenario says what the world looks like — catalogue, demand, network,
carriers, policies, post-sales behaviour — and everything a small business
would not care to specify has a documented default. Unknown keys are errors,
so a typo never passes silently. Every later layer receives a validated
:class:`Scenario` and does not check its inputs again.

Tables may live in CSV files referenced by a path relative to the YAML file:

- ``catalogue.file``: one row per SKU (``id`` required; ``weight_kg``,
  ``volume_l``, ``price``, ``unit_cost``, ``category``, ``returnable``,
  ``popularity`` optional);
- ``demand.regions_file``: ``id, lat, lon, weight``;
- ``network.warehouses[i].stock.file``: ``sku, on_hand`` (and optionally
  ``safety``, ``s``, ``S``, ``r``, ``Q``, ``base`` per SKU).

Errors name the file, the field path (``network.warehouses[1].pickers``) or the
CSV row and column, and what was expected; all of them are reported at once.
"""
from __future__ import annotations

import copy
import csv
import datetime as _dt
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from omsim.clock import zone
from omsim.errors import OmsimError
from omsim.scenario_base import Hour, Ident, NonNeg, PosInt, Prob, _Model, _unique_ids
from omsim.scenario_demand import CountDist, Customers, Demand, Payment, Promotion, Region  # noqa: F401

SERVICE_LEVELS = ("standard", "express", "next_day")
ALLOCATION_POLICIES = ("nearest", "cheapest", "lookahead", "batch")
ROUTING_METHODS = ("optimal", "s-shape", "return", "midpoint", "largest-gap", "combined", "combined+", "ortools")
BATCHING_METHODS = ("fcfs", "seed", "savings", "local-search")



# ---------------------------------------------------------------- horizon
class Horizon(_Model):
    """How long to simulate and from when."""

    days: Annotated[int, Field(ge=1, le=3660, description="Simulated days.")] = 7
    start: _dt.date = Field(default=_dt.date(2026, 12, 1), description="Calendar date of hour 0 (a Monday is typical).")
    warmup_days: Annotated[int, Field(ge=0, description="Days excluded from the KPIs (stock and queues settle).")] = 0
    timezone: str = Field(default="UTC", description="IANA time zone of the network's clocks (shifts, cut-offs, "
                          "day boundaries), e.g. 'Europe/London'; see omsim.clock.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            zone(v)
        except OmsimError as exc:
            raise ValueError(exc.message) from None
        return v

    @model_validator(mode="after")
    def _warmup_shorter(self):
        if self.warmup_days >= self.days:
            raise ValueError("warmup_days must be smaller than days")
        return self


# ---------------------------------------------------------------- catalogue
class Sku(_Model):
    """One stock-keeping unit."""

    id: Ident
    weight_kg: NonNeg = 0.5
    volume_l: NonNeg = 1.0
    price: NonNeg = 25.0
    unit_cost: NonNeg = 12.0
    category: str = "general"
    returnable: bool = True
    popularity: NonNeg | None = Field(default=None, description="Relative demand weight; default from the generator's skew.")


class CatalogueGenerator(_Model):
    """Generate a catalogue instead of listing it."""

    count: Annotated[int, Field(ge=1, le=2_000_000)] = 200
    popularity_skew: Annotated[float, Field(ge=0, le=5, description="Zipf exponent of SKU popularity (0 = uniform).")] = 1.0
    categories: dict[str, NonNeg] = Field(default_factory=lambda: {"general": 1.0}, description="Category mix (weights).")
    price_range: tuple[NonNeg, NonNeg] = (5.0, 120.0)
    margin: Annotated[float, Field(ge=0, lt=1, description="Unit cost = price x (1 - margin).")] = 0.45
    weight_kg_range: tuple[NonNeg, NonNeg] = (0.1, 5.0)
    volume_l_range: tuple[NonNeg, NonNeg] = (0.2, 20.0)
    non_returnable_share: Prob = 0.05
    seed: Annotated[int | None, Field(ge=0, description="Seed of the generated catalogue (default: the scenario's "
                                                        "seed; a run's saved scenario pins it).")] = None

    @field_validator("categories")
    @classmethod
    def _nonempty(cls, v):
        if not v or sum(v.values()) <= 0:
            raise ValueError("needs at least one category with a positive weight")
        return v

    @field_validator("price_range", "weight_kg_range", "volume_l_range")
    @classmethod
    def _ordered(cls, v):
        if v[0] > v[1]:
            raise ValueError("range must be [low, high] with low <= high")
        return v


class Catalogue(_Model):
    """The SKUs sold: listed, read from ``file`` (CSV), or generated."""

    skus: list[Sku] | None = None
    file: str | None = Field(default=None, description="CSV of SKUs, relative to the scenario file.")
    generator: CatalogueGenerator | None = None

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("skus", "file", "generator") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of skus, file or generator, not {' and '.join(given)}")
        if not given:
            self.generator = CatalogueGenerator()
        if self.skus is not None:
            _unique_ids(self.skus, "SKU")
        return self


# ---------------------------------------------------------------- network
class Shift(_Model):
    """A daily working window, hours after midnight (end may pass 24 for a night shift)."""

    start: Hour = 8.0
    end: Annotated[float, Field(gt=0, le=48)] = 16.0
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5, 6],
                                                            description="0 = Monday.")

    @model_validator(mode="after")
    def _order(self):
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class LayoutSpec(_Model):
    """A parallel-aisle picking area (metres). See :class:`omsim.warehouse.Layout`."""

    blocks: PosInt = 1
    aisles: PosInt = 10
    cells_per_aisle: PosInt = 30
    sides: Annotated[int, Field(ge=1, le=2)] = 2
    aisle_pitch_m: Annotated[float, Field(gt=0)] = 3.0
    cell_length_m: Annotated[float, Field(gt=0)] = 1.0
    front_gap_m: NonNeg = 1.0
    back_gap_m: NonNeg = 1.0
    cross_aisle_m: NonNeg = 1.0
    depot_aisle: Annotated[int, Field(ge=0)] = 0
    depot: Literal["front", "back"] = "front"
    depot_offset_m: NonNeg = 0.0

    @model_validator(mode="after")
    def _check(self):
        if self.depot_aisle >= self.aisles:
            raise ValueError(f"depot_aisle must be < aisles ({self.aisles})")
        if self.cells_per_aisle % self.blocks:
            raise ValueError(f"cells_per_aisle ({self.cells_per_aisle}) must be divisible by blocks ({self.blocks})")
        return self


class Slotting(_Model):
    """Where SKUs sit in the layout."""

    policy: Literal["random", "class", "explicit"] = "class"
    file: str | None = Field(default=None, description="CSV (sku, aisle, cell[, side]) for policy 'explicit'.")
    _table: dict | None = PrivateAttr(default=None)  # the CSV, resolved on load

    @model_validator(mode="after")
    def _file(self):
        if self.policy == "explicit" and not self.file:
            raise ValueError("policy 'explicit' needs a file")
        if self.policy != "explicit" and self.file:
            raise ValueError("file is only used with policy 'explicit'")
        return self


class ReplenishmentParams(_Model):
    """Reorder parameters, in days of cover of expected demand (or units per SKU in the stock CSV)."""

    policy: Literal["none", "sS", "rQ", "base_stock"] = "sS"
    review_h: Annotated[float, Field(gt=0)] = 24.0
    s_days: NonNeg = 4.0
    S_days: NonNeg = 12.0
    r_days: NonNeg = 4.0
    Q_days: Annotated[float, Field(gt=0)] = 7.0
    base_days: NonNeg = 10.0

    @model_validator(mode="after")
    def _check(self):
        if self.policy == "sS" and self.S_days < self.s_days:
            raise ValueError("S_days must be >= s_days")
        return self


class Replenishment(ReplenishmentParams):
    """Replenishment from the supplier, optionally per ABC popularity class."""

    lead_time_days: NonNeg = 5.0
    lead_time_sd_days: NonNeg = 0.0
    by_class: dict[Literal["A", "B", "C"], ReplenishmentParams] = Field(
        default_factory=dict, description="Overrides for ABC classes (A = top 20% of SKUs by popularity, B = next 30%).")


class Stock(_Model):
    """Initial stock: days of cover of expected demand, or a CSV snapshot."""

    days_cover: NonNeg = 14.0
    carry_share: Prob = Field(default=1.0, description="Share of SKUs this node carries.")
    safety_days: NonNeg = 0.0
    file: str | None = Field(default=None, description="CSV (sku, on_hand[, safety, s, S, r, Q, base]).")
    _table: dict | None = PrivateAttr(default=None)  # the CSV, resolved on load


class Warehouse(_Model):
    """A fulfilment node: a warehouse or a store that ships."""

    id: Ident
    kind: Literal["warehouse", "store"] = "warehouse"
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    shifts: list[Shift] = Field(default_factory=lambda: [Shift(start=6, end=14), Shift(start=14, end=22)], min_length=1)
    pickers: Annotated[int, Field(ge=1)] = 8
    packers: Annotated[int, Field(ge=1)] = 4
    walk_speed_m_per_s: Annotated[float, Field(gt=0)] = 1.0
    pick_time_s: NonNeg = 10.0
    tour_setup_s: NonNeg = 60.0
    pack_time_s: NonNeg = 45.0
    pack_time_per_unit_s: NonNeg = 5.0
    labour_cost_per_h: NonNeg = 22.0
    handling_cost_per_order: NonNeg = 1.0
    handling_cost_per_line: NonNeg = 0.25
    pickup_hour: Hour = Field(default=18.0, description="Carrier pickup (cut-off) hour; services may override.")
    capacity_orders_per_day: Annotated[int, Field(ge=1)] | None = None
    layout: LayoutSpec = Field(default_factory=LayoutSpec)
    slotting: Slotting = Field(default_factory=Slotting)
    stock: Stock = Field(default_factory=Stock)
    replenishment: Replenishment = Field(default_factory=Replenishment)


class Network(_Model):
    """The nodes that can ship orders."""

    warehouses: list[Warehouse] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids(self):
        _unique_ids(self.warehouses, "warehouse")
        return self


# ---------------------------------------------------------------- carriers
class Zone(_Model):
    """Distance band: up to ``max_km`` costs ``surcharge`` extra per package."""

    max_km: Annotated[float, Field(gt=0)]
    surcharge: NonNeg


class Transit(_Model):
    """Transit days = base_days + ceil(km / km_per_day), capped at max_days."""

    base_days: NonNeg = 1.0
    km_per_day: Annotated[float, Field(gt=0)] = 800.0
    max_days: Annotated[float, Field(gt=0)] = 7.0


class Delay(_Model):
    """Late deliveries: with ``probability``, an exponential delay of mean ``mean_h``."""

    probability: Prob = 0.03
    mean_h: NonNeg = 24.0


class Service(_Model):
    """A carrier service with its rate model and transit times."""

    id: Ident
    level: Literal["standard", "express", "next_day"] = "standard"
    per_package: NonNeg = 6.0
    per_unit: NonNeg = 0.0
    per_kg: NonNeg = 0.3
    per_km: NonNeg = 0.0
    zones: list[Zone] = Field(default_factory=list, description="Distance bands (ascending max_km).")
    transit: Transit = Field(default_factory=Transit)
    delay: Delay = Field(default_factory=Delay)
    daily_capacity: Annotated[int, Field(ge=1)] | None = None
    pickup_hour: Hour | None = Field(default=None, description="Overrides the node's pickup hour for this service.")

    @field_validator("zones")
    @classmethod
    def _ascending(cls, v):
        kms = [z.max_km for z in v]
        if kms != sorted(kms):
            raise ValueError("zones must be in ascending max_km")
        return v


class Carrier(_Model):
    """A carrier and its services."""

    id: Ident
    services: list[Service] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids(self):
        _unique_ids(self.services, "service")
        return self


def _default_carriers() -> list[Carrier]:
    return [Carrier(id="parcel", services=[
        Service(id="ground", level="standard", per_package=6.5, per_kg=0.35,
                transit=Transit(base_days=1, km_per_day=700, max_days=6)),
        Service(id="express", level="express", per_package=12.0, per_kg=0.6,
                transit=Transit(base_days=1, km_per_day=2500, max_days=2)),
        Service(id="next_day", level="next_day", per_package=22.0, per_kg=0.9,
                transit=Transit(base_days=1, km_per_day=1e6, max_days=1), pickup_hour=17.0),
    ])]


# ---------------------------------------------------------------- policies
class Wave(_Model):
    """Release orders to the floor every ``interval_h``, or earlier at ``backlog_threshold`` orders."""

    interval_h: Annotated[float, Field(gt=0)] = 1.0
    backlog_threshold: Annotated[int, Field(ge=1)] | None = None


class Policies(_Model):
    """The decisions omsim takes, and how."""

    allocation: Literal["nearest", "cheapest", "lookahead", "batch"] = "cheapest"
    max_packages: Annotated[int, Field(ge=1, le=10)] = 3
    split_penalty: NonNeg = Field(default=1.5, description="Cost per extra package beyond the first (customer annoyance).")
    lost_sale_penalty: NonNeg = Field(default=30.0, description="Cost per unit not shipped.")
    lookahead_refresh_h: Annotated[float, Field(gt=0)] = 24.0
    lookahead_window_h: Annotated[float, Field(gt=0)] | None = Field(
        default=None,
        description="Hours of expected demand the lookahead prices today's stock against (a rolling window "
                    "from the decision time); null: until replenishment can arrive (the longest lead time + "
                    "review period of the nodes that replenish), or 7 days when no node replenishes. Never "
                    "shorter than lookahead_refresh_h.")
    batch_window_h: Annotated[float, Field(gt=0)] = 0.5
    batch_time_limit_s: Annotated[float, Field(gt=0)] = 2.0
    carrier_selection: Literal["cheapest", "fastest"] = "cheapest"
    batching: str = Field(default="savings", description="Order batching method: one of "
                          "omsim.warehouse.batching.BATCHING_METHODS (fcfs, seed, savings, local-search).")
    batching_neighbours: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Granular savings: join each order only to its k nearest orders of the wave (faster, "
                    "slightly different batches); null considers every pair (exact Clarke & Wright).")
    cart_capacity_units: PosInt = 30
    routing: str = Field(default="optimal", description="Pick-path routing method: a name registered in "
                         "omsim.warehouse.ROUTING_METHODS (optimal, s-shape, return, midpoint, largest-gap, "
                         "combined, combined+, ortools, or one added with register_method).")
    wave: Wave = Field(default_factory=Wave)
    no_stock: Literal["backorder", "hold", "cancel"] = "backorder"

    @field_validator("routing", "batching")
    @classmethod
    def _registered_method(cls, v: str, info) -> str:
        # The warehouse layer owns the one list of each (imported here, at validation, not at import).
        import omsim.warehouse  # noqa: F401  (registers the built-in routing methods)
        from omsim.warehouse.batching import BATCHING_METHODS
        from omsim.warehouse.routing import ROUTING_METHODS

        known = ROUTING_METHODS if info.field_name == "routing" else BATCHING_METHODS
        if v not in known:
            raise ValueError(f"unknown {info.field_name} method {v!r}; expected one of {', '.join(sorted(known))}")
        return v
    max_backorder_wait_h: NonNeg = 72.0
    pick_error_rate: Prob = 0.003
    scan_verification: bool = True


# ---------------------------------------------------------------- post-sales
class Satisfaction(_Model):
    """Satisfaction score (1-5) of a delivered order."""

    base: Annotated[float, Field(ge=1, le=5)] = 4.6
    per_day_late: NonNeg = 0.6
    wrong_item: NonNeg = 2.0
    per_extra_package: NonNeg = 0.15
    noise_sd: NonNeg = 0.3


class PostSales(_Model):
    """Feedback, returns and their disposition."""

    satisfaction: Satisfaction = Field(default_factory=Satisfaction)
    return_probability: Prob = 0.08
    return_probability_by_category: dict[str, Prob] = Field(default_factory=dict)
    wrong_item_return_probability: Prob = 0.9
    return_delay_days: NonNeg = Field(default=7.0, description="Mean days from delivery to the customer sending it back.")
    return_transit_days: NonNeg = 3.0
    inspection_h: NonNeg = 24.0
    inspection_batch_h: NonNeg = Field(
        default=0.0,
        description="The returns desk puts inspected returns back in stock (and sends exchanges and refunds) in "
                    "batches, at multiples of this many hours; 0 = each return the moment its inspection ends.")
    damaged_share: Prob = 0.15
    exchange_share: Prob = Field(default=0.2, description="Share of returns that become an exchange (a new order).")


# ---------------------------------------------------------------- scenario
class Scenario(_Model):
    """An omsim scenario: the world to simulate or plan for."""

    name: str = "scenario"
    description: str = ""
    currency: str = "USD"
    seed: Annotated[int, Field(ge=0)] = 0
    horizon: Horizon = Field(default_factory=Horizon)
    catalogue: Catalogue = Field(default_factory=Catalogue)
    demand: Demand
    network: Network
    carriers: list[Carrier] = Field(default_factory=_default_carriers, min_length=1)
    policies: Policies = Field(default_factory=Policies)
    post_sales: PostSales = Field(default_factory=PostSales)

    # Where the scenario came from (for messages and relative paths); not part of the format.
    _source: str = PrivateAttr(default="<scenario>")
    _base_dir: Path | None = PrivateAttr(default=None)
    _raw: dict | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross(self):
        _unique_ids(self.carriers, "carrier")
        for c in self.carriers:
            for s in c.services:
                if s.daily_capacity is not None and s.daily_capacity < self.policies.max_packages:
                    # An order may put one package per node on the same service: the engine
                    # holds that many slots back each day, so fewer could never be used.
                    raise ValueError(f"carrier {c.id!r} service {s.id!r}: daily_capacity ({s.daily_capacity}) must be "
                                     f"at least policies.max_packages ({self.policies.max_packages})")
        return self

    # -- convenience ---------------------------------------------------------
    @property
    def source(self) -> str:
        """The file it was loaded from (or ``<scenario>``)."""
        return self._source

    @property
    def sku_ids(self) -> list[str]:
        """SKU ids in catalogue order (generated catalogues are materialised on load)."""
        return [s.id for s in self.catalogue.skus or []]

    @property
    def node_ids(self) -> list[str]:
        """Warehouse ids in network order."""
        return [w.id for w in self.network.warehouses]

    def services(self) -> list[tuple[str, Service]]:
        """Every (carrier id, service) pair."""
        return [(c.id, s) for c in self.carriers for s in c.services]

    def raw(self) -> dict:
        """The scenario as loaded (before CSV resolution), for overrides and round trips."""
        return copy.deepcopy(self._raw) if self._raw is not None else self.model_dump(mode="json")

    def with_overrides(self, overrides: dict[str, Any]) -> "Scenario":
        """A new scenario with dotted paths set, e.g. ``{"network.warehouses[*].pickers": 12}``.

        The result is validated like a file; errors name the path.
        """
        raw = apply_overrides(self.raw(), overrides, source=self._source)
        return scenario_from_dict(raw, source=self._source, base_dir=self._base_dir)


# ================================================================ loading
_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+|\+)\]")
_APPEND = "+"


def format_loc(loc) -> str:
    """``('network', 'warehouses', 1, 'pickers')`` → ``network.warehouses[1].pickers``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<top level>"


def _parse_path(path: str, source: str) -> list:
    parts: list = []
    pos = 0
    path = path.strip()
    for m in _PATH_TOKEN.finditer(path):
        if m.start() != pos and path[pos:m.start()] != ".":
            raise OmsimError(f"{source}: bad field path {path!r}", file=source)
        if m.group(1) is not None:
            parts.append(m.group(1))
        else:
            parts.append(_APPEND if m.group(2) == _APPEND else int(m.group(2)))
        pos = m.end()
    if not parts or pos != len(path):
        raise OmsimError(f"{source}: bad field path {path!r}", file=source)
    return parts


def set_path(raw: dict, path: str, value: Any, *, source: str = "<scenario>") -> None:
    """Set ``raw[path] = value`` for a dotted/indexed path, creating mappings on the way.

    ``[i]`` indexes an existing list item; ``[+]`` appends a new item to a list
    (``network.warehouses[+]`` adds a warehouse). Use :func:`expand_wildcards`
    first for ``[*]``.
    """
    parts = _parse_path(path, source)
    node: Any = raw
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = format_loc([p for p in parts[:i] if p != _APPEND])
        if part == _APPEND:
            if not isinstance(node, list):
                raise OmsimError(f"{source}: {path}: {where} is not a list, so [+] cannot append", file=source)
            node.append(value if last else ([] if isinstance(parts[i + 1], int) else {}))
            node = node[-1]
        elif isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise OmsimError(f"{source}: {path}: no item [{part}] at {where}", file=source)
            if last:
                node[part] = value
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise OmsimError(f"{source}: {path}: {where} is not a mapping", file=source)
            if last:
                node[part] = value
            elif part not in node or node[part] is None:
                node[part] = [] if isinstance(parts[i + 1], int) or parts[i + 1] == _APPEND else {}
            node = node[part]


_WILDCARD_TOKEN = re.compile(r"[^.\[\]]+|\[\d+\]")


def expand_wildcards(raw: dict, path: str, *, source: str = "<scenario>") -> list[str]:
    """``network.warehouses[*].pickers`` → one path per list item (``[0]``, ``[1]``, ...).

    Sets a field on every warehouse (or carrier, ...) at once. Paths without
    ``[*]`` come back unchanged.

    Raises
    ------
    OmsimError
        What precedes ``[*]`` is not a list in the scenario.
    """
    if "[*]" not in path:
        return [path]
    prefix, rest = path.split("[*]", 1)
    node: Any = raw
    for tok in _WILDCARD_TOKEN.findall(prefix):
        if tok.startswith("["):
            i = int(tok[1:-1])
            node = node[i] if isinstance(node, list) and i < len(node) else None
        else:
            node = node.get(tok) if isinstance(node, dict) else None
        if node is None:
            break
    if not isinstance(node, list) or not node:
        raise OmsimError(f"{source}: {path}: {prefix} is not a list in the scenario, so [*] has nothing to expand",
                         file=source)
    out = []
    for i in range(len(node)):
        out.extend(expand_wildcards(raw, f"{prefix}[{i}]{rest}", source=source))
    return out


def apply_overrides(raw: dict, overrides, *, source: str = "<scenario>") -> dict:
    """Apply ``{path: value}`` overrides (``[*]`` and ``[+]`` allowed) to ``raw`` in place; returns it.

    ``overrides`` is a mapping, or a list of mappings applied in order (so the
    same path, e.g. ``network.warehouses[+]``, can appear more than once).
    """
    groups = overrides if isinstance(overrides, list) else [overrides]
    for group in groups:
        if not isinstance(group, dict):
            raise OmsimError(f"{source}: expected a mapping of field paths to values (or a list of them), "
                             f"got {type(group).__name__}", file=source)
        for path, value in group.items():
            for concrete in expand_wildcards(raw, str(path), source=source):
                set_path(raw, concrete, value, source=source)
    return raw


def _deep_merge(base: Any, top: Any) -> Any:
    """``top`` over ``base``: mappings merge key by key, anything else (lists too) replaces."""
    if isinstance(base, dict) and isinstance(top, dict):
        out = dict(base)
        for k, v in top.items():
            out[k] = _deep_merge(base[k], v) if k in base else v
        return out
    return copy.deepcopy(top)


def _validation_messages(exc: ValidationError, source: str) -> list[str]:
    msgs = []
    for err in exc.errors(include_url=False):
        loc = format_loc(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the scenario format; check the spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif "input" in err and err["type"] not in ("value_error", "assertion_error"):
            shown = repr(err["input"])
            if len(shown) > 60:
                shown = shown[:57] + "..."
            msg = f"{msg} (got {shown})"
        msgs.append(f"{source}: {loc}: {msg}")
    return msgs


def scenario_from_dict(raw: dict, *, source: str = "<scenario>", base_dir: str | Path | None = None) -> Scenario:
    """Validate a scenario mapping; resolve CSV references relative to ``base_dir``.

    Raises
    ------
    OmsimError
        With every problem found, each naming ``source`` and the field path.
    """
    if not isinstance(raw, dict):
        raise OmsimError(f"{source}: the scenario must be a mapping of keys to values, "
                         f"got {type(raw).__name__}", file=source)
    try:
        sc = Scenario.model_validate(raw)
    except ValidationError as exc:
        msgs = _validation_messages(exc, source)
        raise OmsimError(f"{source}: {len(msgs)} error(s) in the scenario:\n  " + "\n  ".join(msgs),
                         file=source, errors=msgs) from None
    sc._source = source
    sc._base_dir = Path(base_dir) if base_dir is not None else None
    sc._raw = copy.deepcopy(raw)
    _resolve_tables(sc)
    return sc


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load and validate a scenario file (the bundled default when ``path`` is None).

    Parameters
    ----------
    path
        A YAML scenario file.

    Returns
    -------
    Scenario
        Validated, with CSV tables read and a generated catalogue materialised.

    Raises
    ------
    OmsimError
        Missing or unreadable file, bad YAML, or any invalid field; the message
        names the file and the field.
    """
    if path is None:
        path = default_scenario_path()
    p = Path(path)
    source = str(path)
    raw = _read_yaml(p, source)
    raw = _resolve_extends(raw, p, source, chain=())
    return scenario_from_dict(raw, source=source, base_dir=p.resolve().parent)


def _read_yaml(p: Path, source: str):
    """The parsed YAML of a scenario file, or an OmsimError naming it."""
    if not p.exists():
        raise OmsimError(f"{source}: no such file", file=source)
    if p.is_dir():
        raise OmsimError(f"{source}: is a directory, expected a scenario YAML file", file=source)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OmsimError(f"{source}: cannot read the file ({exc})", file=source) from None
    if not text.strip():
        raise OmsimError(f"{source}: the file is empty; a scenario needs at least demand and network", file=source)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise OmsimError(f"{source}: not valid YAML{where}: {problem}", file=source) from None
    if raw is None:
        raise OmsimError(f"{source}: the file is empty; a scenario needs at least demand and network", file=source)
    return raw


def _resolve_extends(raw, p: Path, source: str, chain: tuple) -> Any:
    """Merge a scenario onto the one it ``extends`` (recursively), then apply its ``set`` overrides.

    A variant names its base (a path relative to itself), changes whole
    sections by giving them (mappings merge key by key, lists replace), and
    single fields with ``set: {path: value}`` (``[*]`` every item, ``[+]``
    append). Relative CSV paths resolve against the variant's own folder.
    """
    if not isinstance(raw, dict) or ("extends" not in raw and "set" not in raw):
        return raw
    raw = dict(raw)
    base_ref = raw.pop("extends", None)
    overrides = raw.pop("set", None) or {}
    if base_ref is not None:
        if not isinstance(base_ref, str) or not base_ref.strip():
            raise OmsimError(f"{source}: extends: expected the path of the base scenario file", file=source)
        base_path = (p.resolve().parent / base_ref).resolve()
        if base_path in chain or base_path == p.resolve():
            raise OmsimError(f"{source}: extends: {base_ref} extends itself (cycle through "
                             f"{' -> '.join(str(c) for c in chain + (base_path,))})", file=source)
        if not base_path.exists():
            raise OmsimError(f"{source}: extends: base scenario {base_path} does not exist", file=source)
        base = _read_yaml(base_path, str(base_path))
        base = _resolve_extends(base, base_path, str(base_path), chain + (p.resolve(),))
        if not isinstance(base, dict):
            raise OmsimError(f"{base_path}: the scenario must be a mapping of keys to values", file=str(base_path))
        raw = _deep_merge(base, raw)
    return apply_overrides(raw, overrides, source=f"{source}: set")


def default_scenario_path() -> Path:
    """The bundled default scenario (also in ``scenarios/default.yaml``)."""
    return Path(__file__).with_name("data") / "default.yaml"


def json_schema() -> dict:
    """The JSON Schema of the scenario format (for editors and external checks)."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "omsim scenario"
    # A variant file names its base and may leave out what it inherits.
    schema["properties"]["extends"] = {
        "type": "string", "description": "Base scenario file (relative to this one); this file's keys merge onto it."}
    schema["properties"]["set"] = {
        "anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}],
        "description": "Field overrides applied after merging: {\"network.warehouses[*].pickers\": 3}; [+] appends."}
    required = schema.pop("required", [])
    schema["if"] = {"not": {"required": ["extends"]}}
    schema["then"] = {"required": required}
    return schema


# ================================================================ CSV tables
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


def stock_table(wh: Warehouse) -> dict[str, dict[str, int]] | None:
    """The warehouse's stock CSV as ``{sku: {"on_hand": n, ...}}``, or None when it has none."""
    return wh.stock._table


def slotting_table(wh: Warehouse) -> dict[str, tuple[int, int, int]] | None:
    """The explicit slotting CSV as ``{sku: (aisle, cell, side)}``, or None."""
    return wh.slotting._table


def dump_schema(indent: int = 2) -> str:
    """The JSON Schema as text."""
    return json.dumps(json_schema(), indent=indent, sort_keys=False, default=str)
