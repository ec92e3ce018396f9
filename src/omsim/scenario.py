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
import datetime as _dt
import json
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from omsim.clock import zone
from omsim.errors import OmsimError
from omsim.scenario_base import Hour, Ident, NonNeg, PosInt, Prob, _Model, _unique_ids  # noqa: F401
from omsim.scenario_carriers import Carrier, Delay, Service, Transit, Zone, _default_carriers  # noqa: F401
from omsim.scenario_catalogue import Catalogue, CatalogueGenerator, Sku  # noqa: F401
from omsim.scenario_demand import CountDist, Customers, Demand, Payment, Promotion, Region  # noqa: F401
from omsim.scenario_network import (LayoutSpec, Network, ReplenishmentParams, Replenishment, Shift,  # noqa: F401
                                    Slotting, Stock, Warehouse, slotting_table, stock_table)
from omsim.scenario_paths import apply_overrides, expand_wildcards, format_loc, set_path, _deep_merge  # noqa: F401
from omsim.scenario_policies import Policies, Wave  # noqa: F401
from omsim.scenario_tables import _resolve_tables  # noqa: F401

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


def dump_schema(indent: int = 2) -> str:
    """The JSON Schema as text."""
    return json.dumps(json_schema(), indent=indent, sort_keys=False, default=str)
