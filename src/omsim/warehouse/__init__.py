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
from omsim.warehouse.slotting import slot
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
    "slot",
    "read_sprp",
    "sprp_optima",
]

# Routing heuristics (importing the module registers them in ROUTING_METHODS).
from omsim.warehouse import heuristics  # noqa: E402
from omsim.warehouse.heuristics import HEURISTICS, heuristic_lengths, heuristic_route  # noqa: E402

__all__ += ["heuristics", "HEURISTICS", "heuristic_lengths", "heuristic_route"]

# OR-Tools routing (registers "ortools"; the "optimal" fallback for > 2 blocks).
from omsim.warehouse import routing_ortools  # noqa: E402

__all__ += ["routing_ortools"]

# Order batching and the pick-time model.
from omsim.warehouse.batching import BATCHING_METHODS, BatchResult, batch_lengths, batch_orders  # noqa: E402

__all__ += ["BATCHING_METHODS", "BatchResult", "batch_lengths", "batch_orders"]
from omsim.warehouse.picktime import PickTimeModel  # noqa: E402

__all__ += ["PickTimeModel"]
