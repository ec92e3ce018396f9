"""Orders and the decisions taken on them: the types shared by the engine, the
simulator, the planner's CLI and (later) the service.

Nodes, SKUs and regions are integer indices into ``scenario.node_ids``,
``scenario.sku_ids`` and ``scenario.demand.regions``. Time is hours since the
scenario start; money is in the scenario's currency (see :mod:`omsim.units`).
These are plain records: validation happens at the edge (the engine checks an
order once in ``decide``), not here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Decision statuses. ``allocated``: every unit ships; ``partial``: some
#: units ship, the rest are lost or backordered; ``backorder``/``hold``/
#: ``cancel``: nothing ships now, handled per ``policies.no_stock``.
DECISION_STATUSES = ("allocated", "partial", "backorder", "hold", "cancel")

#: Keys of :attr:`Decision.cost`; their sum is :attr:`Decision.total`.
COST_KEYS = ("shipping_package", "shipping_weight", "shipping_distance", "handling", "split_penalty", "lost_penalty")

#: Keys of :attr:`Shipment.cost`.
SHIPMENT_COST_KEYS = ("package", "weight", "distance", "handling")


@dataclass(slots=True)
class Order:
    """A customer order: lines of SKU x quantity to one ship-to region.

    Parameters
    ----------
    order_id
        Unique id of the order.
    created_h
        When it was placed (hours since the scenario start).
    region
        Ship-to region, index into ``scenario.demand.regions``.
    level
        Service level: ``"standard"``, ``"express"`` or ``"next_day"``.
    skus
        (L,) int64 SKU indices, distinct within the order.
    qty
        (L,) int64 units per line, each >= 1.
    channel
        Sales channel (``"web"`` by default).
    parent_id
        For an exchange, the order it replaces.
    """

    order_id: int
    created_h: float
    region: int
    level: str
    skus: np.ndarray
    qty: np.ndarray
    channel: str = "web"
    parent_id: int | None = None

    @property
    def units(self) -> int:
        """Total units ordered."""
        return int(self.qty.sum())


@dataclass(slots=True)
class Shipment:
    """One package: units from one node, sent by one carrier service.

    ``cost`` holds ``package`` (per-package rate, zone surcharge and the
    per-unit rate), ``weight`` (per-kg rate x weight), ``distance`` (per-km
    rate x distance) and ``handling`` (per order and per line at the node).
    """

    node: int
    skus: np.ndarray
    qty: np.ndarray
    carrier: str
    service: str
    level: str
    distance_km: float
    weight_kg: float
    ship_by_h: float
    promised_h: float
    transit_h: float
    cost: dict[str, float] = field(default_factory=dict)

    @property
    def units(self) -> int:
        """Units in the package."""
        return int(self.qty.sum())


@dataclass(slots=True)
class Decision:
    """What to do with an order, and why.

    ``cost`` is the breakdown (keys :data:`COST_KEYS`), adding up to
    ``total``; ``alternatives`` lists other allocations considered, each
    ``{"nodes": [...], "total": float, "why": str, "units": int, "cost": {...}}``
    (``cost``: its breakdown by the same keys, adding up to its ``total``;
    ``score``, under ``lookahead``: the total plus the shadow prices of the
    units it takes, which the choice minimises), so a planner can see why
    this one was chosen. ``unfilled_reason`` says per line why its
    ``unfilled`` units are (:mod:`omsim.engine.reasons`; ``""`` for a filled
    line). ``basis``, when asked for (``decide(..., basis=True)``), keeps
    what the decision was weighed against, so that
    ``DecisionEngine.alternatives`` lists the alternatives later.
    """

    order_id: int
    status: str
    shipments: list[Shipment]
    unfilled: np.ndarray
    promised_h: float | None
    cost: dict[str, float]
    total: float
    policy: str
    alternatives: list[dict] = field(default_factory=list)
    unfilled_reason: list[str] = field(default_factory=list)
    basis: dict | None = None

    @property
    def packages(self) -> int:
        """Number of packages (shipments)."""
        return len(self.shipments)

    @property
    def ships(self) -> bool:
        """Whether any unit ships."""
        return bool(self.shipments)
