"""Request and response bodies (pydantic: validation at the boundary, and the OpenAPI document).

Quantities are strict integers >= 1 (``2.0`` and ``"2"`` are refused), times
are timezone-aware ISO 8601 datetimes, unknown fields are refused. The
``*_view`` functions shape the live engine's state into the response bodies.
"""
from __future__ import annotations

import datetime as _dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from omsim.orders import COST_KEYS
from omsim.scenario import SERVICE_LEVELS

Qty = Annotated[int, Field(strict=True, ge=1, le=1_000_000_000)]
Count = Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)]
Id = Annotated[str, Field(min_length=1, max_length=128)]
Level = Literal[SERVICE_LEVELS]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Line(_In):
    sku: Id
    qty: Qty


class ShipTo(_In):
    region: Id | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None

    @model_validator(mode="after")
    def _one_way(self):
        if self.region is None and (self.lat is None or self.lon is None):
            raise ValueError("give region, or lat and lon")
        if self.region is not None and (self.lat is not None or self.lon is not None):
            raise ValueError("give region or lat and lon, not both")
        return self


class Cart(_In):
    lines: Annotated[list[Line], Field(min_length=1, max_length=500)]
    ship_to: ShipTo
    service_level: Level = "standard"
    created_at: AwareDatetime | None = None


class OrderIn(Cart):
    order_id: Id


class PromiseIn(Cart):
    hold_s: Annotated[float, Field(gt=0, le=7 * 86400)] | None = None


class At(_In):
    at: AwareDatetime | None = None


class ReturnLine(_In):
    sku: Id
    qty: Qty
    disposition: Literal["restock", "scrap"]


class ReturnIn(_In):
    order_id: Id | None = None
    node: Id
    lines: Annotated[list[ReturnLine], Field(min_length=1, max_length=500)]
    at: AwareDatetime | None = None


class ReceiptIn(_In):
    node: Id
    sku: Id
    qty: Qty
    at: AwareDatetime | None = None


class AdjustmentIn(_In):
    node: Id
    sku: Id
    on_hand: Count
    expected: Count | None = None
    at: AwareDatetime | None = None


# ---------------------------------------------------------------- responses
class LineOut(BaseModel):
    sku: str
    qty: int


class ShipmentOut(BaseModel):
    index: int
    node: str
    carrier: str
    service: str
    lines: list[LineOut]
    ship_by: _dt.datetime | None
    promised_delivery: _dt.datetime | None
    shipped: bool | None = None


class Unfilled(BaseModel):
    sku: str
    qty: int
    reason: str = Field(description="Why the engine left these units unfilled: no_stock, cannot_ship, short, "
                                    "package_limit, cost, held_back or batch_window (omsim.engine.reasons)")


class Cost(BaseModel):
    total: float | None
    breakdown: dict[str, float | None]


class OrderOut(BaseModel):
    order_id: str
    status: str
    shipments: list[ShipmentOut]
    unfilled: list[Unfilled]
    cost: Cost
    decision_id: str
    seq: int


class HistoryItem(BaseModel):
    seq: int
    event: str
    at: _dt.datetime


class OrderStateOut(OrderOut):
    region: str
    service_level: str
    lines: list[LineOut]
    history: list[HistoryItem]


class PromiseOut(BaseModel):
    status: str
    shipments: list[ShipmentOut]
    unfilled: list[Unfilled]
    cost: Cost
    seq: int
    hold_id: str | None = None
    hold_expires_at: _dt.datetime | None = None


class Alternative(BaseModel):
    nodes: list[str]
    total: float | None
    breakdown: dict[str, float | None] | None = None   # the engine's cost model, the chosen one's keys
    score: float | None = None                         # lookahead: total + shadow prices (what it minimises)
    units: int | None = None
    why: str
    lost_by: float | None


class DecisionOut(BaseModel):
    decision_id: str
    order_id: str
    seq: int
    policy: str
    status: str
    chosen: Cost
    shipments: list[ShipmentOut]
    alternatives: list[Alternative]


class Availability(BaseModel):
    node: str
    sku: str
    on_hand: int
    reserved: int
    available: int


class StockOut(Availability):
    seq: int


class EventOut(BaseModel):
    seq: int
    type: str
    version: int
    at: _dt.datetime
    recorded_at: str
    data: dict


class EventsOut(BaseModel):
    last_seq: int
    events: list[EventOut]


class ReturnOut(BaseModel):
    seq: int
    lines: list[Availability]


class Health(BaseModel):
    status: str
    seq: int


# ---------------------------------------------------------------- views
def _iso(clock, h):
    return None if h is None else clock.isoformat(h)


def decision_view(dj: dict, lines: list, clock, shipped=None) -> dict:
    """Shipments, unfilled lines and cost of a decision (:func:`omsim.engine.live.decision_to_json`)."""
    ships = [{"index": i, "node": s["node"], "carrier": s["carrier"], "service": s["service"],
              "lines": [{"sku": k, "qty": q} for k, q in zip(s["skus"], s["qty"])],
              "ship_by": _iso(clock, s["ship_by_h"]), "promised_delivery": _iso(clock, s["promised_h"]),
              **({} if shipped is None else {"shipped": bool(shipped[i])})}
             for i, s in enumerate(dj["shipments"])]
    # the engine's reason per line (omsim.engine.reasons); events before it recorded them: the order's status
    why = dj.get("unfilled_reason") or [dj["status"]] * len(dj["unfilled"])
    unfilled = [{"sku": sku, "qty": int(u), "reason": r}
                for (sku, _q), u, r in zip(lines, dj["unfilled"], why) if int(u) > 0]
    return {"status": dj["status"], "shipments": ships, "unfilled": unfilled,
            "cost": {"total": dj["total"], "breakdown": _in_order(dj["cost"])}}


def order_view(ev_data: dict, seq: int, clock, state=None) -> dict:
    """The order response from its ``order.committed`` event (and its live state for GET)."""
    lines = ev_data["lines"]
    out = {"order_id": ev_data["order_id"],
           **decision_view(ev_data["decision"], lines, clock, None if state is None else state.shipped),
           "decision_id": f"d{seq}", "seq": seq}
    if state is not None:
        out["status"] = state.status
        out.update(region=ev_data["region"], service_level=ev_data["level"],
                   lines=[{"sku": s, "qty": q} for s, q in lines],
                   history=[{"seq": s, "event": t, "at": _iso(clock, h)} for s, t, h in state.history])
    return out


def _in_order(cost: dict) -> dict:
    """A cost breakdown with its keys in :data:`~omsim.orders.COST_KEYS` order (the journal stores them sorted)."""
    return {k: cost[k] for k in COST_KEYS if k in cost} if list(cost) != list(COST_KEYS) else cost


def alternatives_view(alternatives: list[dict], total: float | None) -> list[dict]:
    """A decision's alternatives (``LiveEngine.alternatives``) as the response lists them, against the chosen
    one's ``total``."""
    out = []
    for a in alternatives:
        t = a.get("total")
        out.append({"nodes": list(a.get("nodes") or []), "total": t, "units": a.get("units"),
                    "breakdown": a.get("cost"), "score": a.get("score"), "why": str(a.get("why", "")),
                    "lost_by": None if t is None or total is None else t - total})
    return out
