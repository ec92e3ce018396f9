"""The scenario format's ``carriers`` section: carriers, their services, rates, transit and delays."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from omsim.scenario_base import Hour, Ident, NonNeg, Prob, _Model, _unique_ids


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
