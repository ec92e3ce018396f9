"""The KPI glossary: what each KPI the simulator emits means, its kind, unit and better direction.

One :class:`Kpi` per KPI in :data:`KPIS` (the tests check that a real run
emits no KPI without an entry); :mod:`omsim.report.format` renders values
from it, :mod:`omsim.compare` takes the better direction from it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Kpi", "KPIS", "RUN_FACTS", "kpi_info", "is_kpi", "clip_ci", "verdict"]


@dataclass(frozen=True)
class Kpi:
    """What a KPI is: ``kind`` is rate, money, count, hours, score, metres or ratio; ``better`` higher, lower or None."""

    key: str
    label: str
    kind: str
    better: str | None
    description: str

    @property
    def unit(self) -> str:
        """The unit shown beside values (``money`` takes the scenario's currency)."""
        return {"rate": "%", "money": "currency", "hours": "h", "score": "1-5", "metres": "m",
                "count": "", "ratio": ""}[self.kind]


def _k(key, label, kind, better, description):
    return key, Kpi(key, label, kind, better, description)


#: The glossary, in display order (rates first, then money, times, counts).
KPIS: dict[str, Kpi] = dict([
    _k("fill_rate", "Fill rate", "rate", "higher",
       "Units allocated at the first decision / units of accepted orders."),
    _k("on_time_rate", "On-time delivery", "rate", "higher",
       "Delivered orders delivered by their promised time / delivered orders."),
    _k("perfect_order_rate", "Perfect orders", "rate", "higher",
       "Delivered orders on time, complete, in one package and without a pick error / delivered orders."),
    _k("pick_accuracy", "Pick accuracy", "rate", "higher",
       "Order lines picked right the first time / lines picked."),
    _k("split_shipment_rate", "Split shipments", "rate", "lower",
       "Shipped orders sent in more than one package / orders shipped."),
    _k("backorder_rate", "Backorders", "rate", "lower",
       "Accepted orders that waited for stock at some point / accepted orders."),
    _k("stockout_rate", "Stock-outs", "rate", "lower",
       "Order lines of accepted orders not fully available at their first decision / those lines."),
    _k("cancel_rate", "Cancellations", "rate", "lower",
       "Orders cancelled (no stock, or waited too long; not by the customer) / orders."),
    _k("payment_failure_rate", "Payment failures", "rate", "lower", "Orders whose payment failed / orders."),
    _k("return_rate", "Returns", "rate", "lower", "Delivered orders returned / delivered orders."),
    _k("picker_utilisation", "Picker utilisation", "rate", None,
       "Picker busy hours / picker hours on shift (open hours of the warehouses' calendars); a tour "
       "started before closing runs on (overtime), which the report's daily figure shows in hours."),
    _k("packer_utilisation", "Packer utilisation", "rate", None,
       "Packer busy hours / packer hours on shift (open hours)."),
    _k("cost_per_order", "Cost per order", "money", "lower",
       "(Shipping + handling + labour cost) / orders shipped, in the scenario's currency."),
    _k("cost_per_order_shipping", "Shipping cost per order", "money", "lower",
       "Carrier charges / orders shipped."),
    _k("cost_per_order_handling", "Handling cost per order", "money", "lower", "Handling cost / orders shipped."),
    _k("cost_per_order_labour", "Labour cost per order", "money", "lower", "Labour cost / orders shipped."),
    _k("shipping_cost", "Shipping cost", "money", "lower", "Carrier charges of the packages shipped (total)."),
    _k("handling_cost", "Handling cost", "money", "lower",
       "Per-order and per-line handling of the packages shipped (total)."),
    _k("labour_cost", "Labour cost", "money", "lower", "Pickers and packers paid for their shift hours (total)."),
    _k("refund_total", "Refunds", "money", "lower", "Refunds paid for returns not exchanged (total)."),
    _k("cycle_time_p50_h", "Cycle time, median", "hours", "lower",
       "Hours from order creation to delivery, median over delivered orders."),
    _k("cycle_time_p95_h", "Cycle time, 95th percentile", "hours", "lower",
       "Hours from order creation to delivery, 95th percentile over delivered orders."),
    _k("pick_wait_mean_h", "Pick wait, mean", "hours", "lower",
       "Mean hours a released tour waits for a picker (shift closures included)."),
    _k("satisfaction_mean", "Customer satisfaction", "score", "higher",
       "Mean feedback score of delivered orders on a 1-5 scale (5 best): lowered by days late, "
       "wrong items and extra packages."),
    _k("inventory_turnover", "Inventory turnover", "ratio", "higher",
       "Cost of units shipped / mean inventory value, annualised (x 365 / days): turns per year."),
    _k("pick_travel_per_order_m", "Pick travel per package", "metres", "lower",
       "Route metres of all picker tours / packages picked."),
    _k("packages_picked_per_tour", "Packages per tour", "ratio", "higher", "Packages picked / picker tours."),
    _k("orders", "Orders", "count", None, "Orders created after the warm-up (exchanges included)."),
    _k("orders_accepted", "Orders accepted", "count", None, "Orders whose payment was authorised."),
    _k("orders_shipped", "Orders shipped", "count", "higher", "Orders with at least one unit shipped."),
    _k("orders_delivered", "Orders delivered", "count", "higher",
       "Orders delivered by the horizon's end (returned ones included)."),
    _k("late_orders", "Late orders", "count", "lower", "Delivered orders delivered after their promised time."),
    _k("backlog", "Backlog at end", "count", "lower",
       "Accepted orders neither shipped nor cancelled at the horizon's end."),
    _k("units_shipped", "Units shipped", "count", "higher", "Units shipped."),
    _k("tours", "Picker tours", "count", None, "Picker tours walked."),
    _k("exchanges", "Exchanges", "count", None, "Returns exchanged (each an order of its own)."),
    _k("remainders", "Backordered remainders", "count", "lower",
       "Backordered rests of partly allocated orders (not orders of their own)."),
    _k("history_skus_added", "History SKUs added", "count", None,
       "SKUs of a replayed history (demand.history) the catalogue lacked, added on load (replays only)."),
    _k("customer_cancel_rate", "Customer cancellations", "rate", None,
       "Orders the customer cancelled units of, after placing them / orders (demand.cancellations only)."),
    _k("customer_cancellations", "Customer cancellations", "count", None,
       "Customer cancellations that cancelled units (demand.cancellations only)."),
    _k("customer_cancel_units", "Units cancelled by customers", "count", None,
       "Units customers cancelled before they were released to the floor (demand.cancellations only)."),
    _k("customer_cancel_units_too_late", "Cancelled units too late", "count", "lower",
       "Units customers asked to cancel once released to the floor, shipped or delivered: not cancelled "
       "(demand.cancellations only)."),
    _k("customer_cancel_lines_unmatched", "Unmatched cancellation lines", "count", None,
       "Cancellation lines of a replayed history in the horizon matching no replayed order "
       "(demand.cancellations on a replay only)."),
])

#: Facts about a run, not KPIs: shown as run facts, never in KPI tables.
RUN_FACTS = ("seed", "days", "replication", "replications", "point")


def is_kpi(key: str) -> bool:
    """False for run facts (seed, days, ...)."""
    return key not in RUN_FACTS


def kpi_info(key: str) -> Kpi:
    """The KPI's metadata; an unknown key gets a label from its name, no direction."""
    if key in KPIS:
        return KPIS[key]
    kind = "rate" if key.endswith(("_rate", "_utilisation")) else "hours" if key.endswith("_h") else "ratio"
    return Kpi(key, key.replace("_", " ").capitalize(), kind, None, "")


def clip_ci(key: str, lo: float, hi: float) -> tuple[float, float]:
    """A confidence interval clipped to the KPI's range ([0, 1] for rates, [1, 5] for scores)."""
    kind = kpi_info(key).kind
    if kind == "rate":
        return float(np.clip(lo, 0.0, 1.0)), float(np.clip(hi, 0.0, 1.0))
    if kind == "score":
        return float(np.clip(lo, 1.0, 5.0)), float(np.clip(hi, 1.0, 5.0))
    return lo, hi


def verdict(key: str, ci_low: float, ci_high: float) -> str:
    """``better``, ``worse``, ``no difference`` (CI holds 0), ``higher``/``lower`` (no direction) or ``?``."""
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)):
        return "?"
    if ci_low <= 0.0 <= ci_high:
        return "no difference"
    up = ci_low > 0.0
    better = kpi_info(key).better
    if better is None:
        return "higher" if up else "lower"
    return "better" if up == (better == "higher") else "worse"
