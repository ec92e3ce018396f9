"""Warehouse: layout and slotting, picker routing, batching (domain level)."""
from __future__ import annotations

from omsim.warehouse.layout import Layout, as_picks
from omsim.warehouse.routing import (
    ROUTING_METHODS,
    Route,
    pack_pick_lists,
    register_method,
    route,
    route_lengths,
    sequence_length,
)
from omsim.warehouse.sprp import read_sprp, sprp_optima

__all__ = [
    "Layout",
    "as_picks",
    "ROUTING_METHODS",
    "Route",
    "pack_pick_lists",
    "register_method",
    "route",
    "route_lengths",
    "sequence_length",
    "read_sprp",
    "sprp_optima",
]
