"""The scenario format's ``catalogue`` section: the SKUs sold, listed, read from a CSV or generated."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from omsim.scenario_base import Ident, NonNeg, Prob, _Model, _unique_ids


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
