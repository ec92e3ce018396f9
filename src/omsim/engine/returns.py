"""Returns: sellable units back to stock (restock) and damaged ones recorded (scrap)."""
from __future__ import annotations


import numpy as np
import pandas as pd

from omsim.errors import OmsimError


class Returns:
    """Part of :class:`~omsim.engine.DecisionEngine`: ``restock`` and ``scrap``."""

    def restock(self, node: int, sku: int, qty: int, order_id, t_h: float) -> None:
        """A sellable return goes back to stock (ledger ``restock``).

        Parameters
        ----------
        node, sku
            Positions of the receiving node and the SKU.
        qty
            Units (>= 0).
        order_id
            The order the units came back from.
        t_h
            When, hours since the scenario start (not before the last ledger row).

        Raises
        ------
        OmsimError
            Unknown node or SKU, or a bad quantity; nothing changes.
        """
        self.inventory.restock(node, sku, qty, order_id=order_id, t=t_h)
        self._returns.append((float(t_h), [int(node)], [int(sku)], [int(qty)], [order_id], "restock"))

    def restock_many(self, nodes, skus, qtys, order_ids, t_h: float) -> None:
        """Sellable returns back to stock, many lines at once: :meth:`restock` line by line, in order.

        Parameters
        ----------
        nodes, skus, qtys
            Equal-length integer arrays: positions of the receiving node and the SKU, units (>= 0).
        order_ids
            One order id per line.
        t_h
            When, hours since the scenario start (not before the last ledger row).

        Raises
        ------
        OmsimError
            A position out of range or a negative quantity; nothing changes.
        """
        self.inventory.restock_lines(nodes, skus, qtys, order_ids, t=t_h)
        self._returns.append((float(t_h), np.asarray(nodes).tolist(), np.asarray(skus).tolist(),
                              np.asarray(qtys).tolist(), list(order_ids), "restock"))

    def scrap(self, node: int, sku: int, qty: int, order_id, t_h: float) -> None:
        """A damaged return: recorded in :meth:`returns_frame`, never back on hand (so no ledger row).

        Parameters and errors as :meth:`restock`.
        """
        n, j = self.inventory.node_index(node), self.inventory.sku_index(sku)
        if isinstance(qty, bool) or not isinstance(qty, (int, np.integer)) or qty < 0:
            raise OmsimError(f"scrap: quantity must be a whole number of units >= 0, got {qty!r}")
        self._returns.append((float(t_h), [n], [j], [int(qty)], [order_id], "scrap"))

    def returns_frame(self) -> pd.DataFrame:
        """Returns processed: ``time_h, node, sku, qty, order_id, disposition`` (node/sku as ids)."""
        rows = [(t, n, j, q, o, kind) for t, ns, js, qs, os_, kind in self._returns
                for n, j, q, o in zip(ns, js, qs, os_)]
        df = pd.DataFrame(rows, columns=["time_h", "node", "sku", "qty", "order_id", "disposition"])
        df["node"] = [self.node_ids[i] for i in df["node"]]
        df["sku"] = [self.sku_ids[i] for i in df["sku"]]
        return df
