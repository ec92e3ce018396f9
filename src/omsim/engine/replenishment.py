"""Replenishment: reorder reviews (POs) and their receipts."""
from __future__ import annotations


import numpy as np
import pandas as pd

from omsim.fulfilment.inventory import InboundPO
from omsim.fulfilment.replenishment import ReorderPolicy, order_quantities
from omsim.scenario import stock_table
from .stock import expected_daily_units


class Replenishment:
    """Part of :class:`~omsim.engine.DecisionEngine`: ``review`` and ``receive``."""

    def receive(self, po, t_h: float) -> None:
        """A replenishment receipt: the whole outstanding quantity of ``po`` (ledger ``receipt``).

        Parameters
        ----------
        po
            An :class:`~omsim.fulfilment.inventory.InboundPO` (as :meth:`review`
            returns) or its id.
        t_h
            Arrival time.

        Raises
        ------
        OmsimError
            The PO is not open (unknown or already received).
        """
        po_id = po.po_id if isinstance(po, InboundPO) else po
        self.inventory.receive_po(po_id, t_h)

    def ledger_frame(self) -> pd.DataFrame:
        """The inventory ledger: ``time_h, node, sku, delta, reason, order_id`` (node/sku as string ids)."""
        return self.inventory.ledger_frame()

    def _reorder_table(self, n: int):
        """Per SKU of node n: policy kind and (s, S, r, Q, base) in units (built once, cached)."""
        got = self._reorder.get(n)
        if got is not None:
            return got
        sc = self.scenario
        wh = sc.network.warehouses[n]
        rp = wh.replenishment
        S_ = self.n_skus
        share = expected_daily_units(sc) / np.maximum(self.carried.sum(axis=0), 1)
        kinds = np.empty(S_, dtype=object)
        par = {k: np.zeros(S_, dtype=np.int64) for k in ("s", "S", "r", "Q", "base")}
        for j in range(S_):
            params = rp.by_class.get(self.abc[j], rp)
            pol = ReorderPolicy.from_days(params, share[j])
            kinds[j] = pol.kind if self.carried[n, j] else "none"
            for k in par:
                par[k][j] = getattr(pol, k)
        table = stock_table(wh)
        if table is not None:
            pos = {s: i for i, s in enumerate(self.sku_ids)}
            for sku, rec in table.items():
                for k in par:
                    if k in rec:
                        par[k][pos[sku]] = rec[k]
        par["Q"] = np.maximum(par["Q"], 1)
        groups = {k: np.flatnonzero(kinds == k) for k in set(kinds.tolist()) if k != "none"}
        got = self._reorder[n] = (groups, par, rp)
        return got

    def review(self, node: int, t_h: float, backorders=None) -> list[InboundPO]:
        """Replenishment review of one node: place the POs its reorder policy asks for.

        Policy per SKU (:class:`omsim.fulfilment.replenishment.ReorderPolicy`):
        the node's (or its ABC class's) parameters in days of cover of the
        node's share of expected demand, or the units of its stock CSV. The
        inventory position is ``on_hand - reserved + inbound - backorders``.
        Lead time: ``lead_time_days`` (normal with ``lead_time_sd_days``,
        truncated at 0, drawn from the ``replenishment`` stream).

        Parameters
        ----------
        node
            Node position.
        t_h
            Review time.
        backorders
            (S,) units waiting at this node for stock (held by the caller), or None.

        Returns
        -------
        list of InboundPO
            The POs placed (also open in ``engine.inventory``).
        """
        n = self.inventory.node_index(node)
        groups, par, rp = self._reorder_table(n)
        if not groups:
            return []
        bo = 0 if backorders is None else np.asarray(backorders, dtype=np.int64)
        position = self.inventory.position(n, None, bo)
        qty = np.zeros(self.n_skus, dtype=np.int64)
        for kind, idx in groups.items():
            qty[idx] = order_quantities(kind, position[idx], **{k: v[idx] for k, v in par.items()})
        out = []
        rng = self.streams["replenishment"]
        for j in np.flatnonzero(qty > 0):
            lead_h = rp.lead_time_days * 24.0
            if rp.lead_time_sd_days > 0:
                lead_h = max(0.0, float(rng.normal(rp.lead_time_days, rp.lead_time_sd_days))) * 24.0
            q = int(qty[j])
            po_id = self.inventory.order(n, int(j), q, t_h + lead_h, t_h)
            out.append(InboundPO(po_id, n, int(j), q, t_h + lead_h, float(t_h), q))
        return out
