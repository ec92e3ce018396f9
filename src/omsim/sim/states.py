"""Codes of the simulator's order rows: internal states, row kinds and output statuses."""
from __future__ import annotations

from omsim.orders import DECISION_STATUSES

# Internal order states.
PENDING, PAY_FAILED, ACTIVE, BACKORDERED, CANCELLED, DONE = range(6)
#: Kinds of rows in the order table: a customer's order, an exchange (a new order
#: for returned goods) and the backordered remainder of a partly allocated order.
KINDS = ("order", "exchange", "remainder")
PARTIAL_CODE = DECISION_STATUSES.index("partial")
BACKORDER_CODE = DECISION_STATUSES.index("backorder")
HOLD_CODE = DECISION_STATUSES.index("hold")
#: Output statuses (``Result.orders.status``).
STATUSES = ("delivered", "returned", "cancelled", "payment_failed", "backordered", "in_flight")
