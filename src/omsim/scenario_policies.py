"""The scenario format's ``policies`` section: allocation, split and lost-sale costs, waves, batching,
routing and the no-stock policy."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from omsim.scenario_base import NonNeg, PosInt, Prob, _Model


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
