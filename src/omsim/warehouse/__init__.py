"""Warehouse: layout and slotting, picker routing, batching (domain level)."""
from __future__ import annotations

from omsim.warehouse.layout import Layout, as_picks

__all__ = ["Layout", "as_picks"]
