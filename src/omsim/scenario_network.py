"""The scenario format's ``network`` section: warehouses (shifts, layout, slotting, stock,
replenishment) and the tables their CSV files resolve to."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, model_validator

from omsim.scenario_base import Hour, Ident, NonNeg, PosInt, Prob, _Model, _unique_ids


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


def stock_table(wh: Warehouse) -> dict[str, dict[str, int]] | None:
    """The warehouse's stock CSV as ``{sku: {"on_hand": n, ...}}``, or None when it has none."""
    return wh.stock._table


def slotting_table(wh: Warehouse) -> dict[str, tuple[int, int, int]] | None:
    """The explicit slotting CSV as ``{sku: (aisle, cell, side)}``, or None."""
    return wh.slotting._table
