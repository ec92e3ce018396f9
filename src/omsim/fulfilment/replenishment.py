"""Replenishment (reorder) policies: how much to order given the inventory position.

The inventory position is ``on_hand - reserved + inbound - backorders``
(:meth:`omsim.fulfilment.inventory.Inventory.position`): stock that is not yet
committed, plus stock on its way, minus demand already waiting for it. The
policies, reviewed every ``review_h`` hours (0: after every change):

==============  ==============================================================
``none``        never order
``sS``          when the position is ``<= s``, order up to ``S``: ``S - position``
``rQ``          when the position is ``<= r``, order ``n x Q`` with the smallest
                ``n`` that lifts the position above ``r``
``base_stock``  order up to ``base`` whenever below it: ``max(base - position, 0)``
==============  ==============================================================

All functions are pure; :func:`order_quantities` evaluates a policy over
arrays of positions and parameters at once (every SKU of a node in one call).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from omsim.errors import OmsimError

POLICY_KINDS: tuple[str, ...] = ("none", "sS", "rQ", "base_stock")

__all__ = ["POLICY_KINDS", "ReorderPolicy", "order_quantities"]


def order_quantities(kind: str, position, *, s=0, S=0, r=0, Q=1, base=0) -> np.ndarray:
    """Order quantities of one policy kind over arrays (parameters broadcast).

    Parameters
    ----------
    kind
        One of :data:`POLICY_KINDS`.
    position
        Inventory positions (integers, may be negative).
    s, S, r, Q, base
        The policy's parameters (those of other kinds are ignored).

    Returns
    -------
    numpy.ndarray
        int64, >= 0, shaped like the broadcast inputs.

    Examples
    --------
    >>> order_quantities("rQ", [-3, 4, 5, 9], r=4, Q=5).tolist()
    [10, 5, 0, 0]
    """
    ip = np.asarray(position, dtype=np.int64)
    if kind == "none":
        return np.zeros_like(ip)
    if kind == "sS":
        s_, S_ = np.asarray(s, dtype=np.int64), np.asarray(S, dtype=np.int64)
        return np.where(ip <= s_, np.maximum(S_ - ip, 0), 0).astype(np.int64)
    if kind == "rQ":
        r_, Q_ = np.asarray(r, dtype=np.int64), np.asarray(Q, dtype=np.int64)
        if np.any(Q_ < 1):
            raise OmsimError("rQ policy: Q must be >= 1")
        # Smallest n with ip + n Q > r, i.e. n = floor((r - ip) / Q) + 1 when ip <= r.
        n = np.where(ip <= r_, (r_ - ip) // Q_ + 1, 0)
        return (n * Q_).astype(np.int64)
    if kind == "base_stock":
        return np.maximum(np.asarray(base, dtype=np.int64) - ip, 0).astype(np.int64)
    raise OmsimError(f"unknown replenishment policy {kind!r}; expected one of {', '.join(POLICY_KINDS)}")


@dataclass(frozen=True)
class ReorderPolicy:
    """A reorder policy for one node and SKU (quantities in units).

    Parameters
    ----------
    kind
        ``"none"``, ``"sS"``, ``"rQ"`` or ``"base_stock"``.
    s, S
        Reorder point and order-up-to level of ``sS`` (``S >= s``).
    r, Q
        Reorder point and batch size of ``rQ`` (``Q >= 1``).
    base
        Order-up-to level of ``base_stock``.
    review_h
        Review period in hours; 0 = continuous review.

    Examples
    --------
    >>> ReorderPolicy("sS", s=10, S=50).order_quantity(7)
    43
    >>> ReorderPolicy("sS", s=10, S=50).order_quantity(11)
    0
    """

    kind: str = "none"
    s: int = 0
    S: int = 0
    r: int = 0
    Q: int = 1
    base: int = 0
    review_h: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in POLICY_KINDS:
            raise OmsimError(f"unknown replenishment policy {self.kind!r}; expected one of {', '.join(POLICY_KINDS)}")
        for name in ("s", "S", "r", "Q", "base"):
            v = getattr(self, name)
            if int(v) != v:
                raise OmsimError(f"{self.kind} policy: {name} must be a whole number of units, got {v!r}")
            object.__setattr__(self, name, int(v))
        if self.kind == "sS" and self.S < self.s:
            raise OmsimError(f"sS policy: S ({self.S}) must be >= s ({self.s})")
        if self.kind == "rQ" and self.Q < 1:
            raise OmsimError(f"rQ policy: Q must be >= 1, got {self.Q}")
        if not (self.review_h >= 0 and math.isfinite(self.review_h)):
            raise OmsimError(f"replenishment: review_h must be >= 0, got {self.review_h}")

    @classmethod
    def from_days(cls, params, daily_units: float) -> "ReorderPolicy":
        """From parameters in days of cover (the scenario's ``ReplenishmentParams``).

        ``s = round(s_days x daily_units)`` and so on; ``Q`` is at least 1.
        """
        def units(days):
            return int(round(float(days) * float(daily_units)))
        return cls(kind=params.policy, s=units(params.s_days), S=units(params.S_days), r=units(params.r_days),
                   Q=max(units(params.Q_days), 1), base=units(params.base_days), review_h=float(params.review_h))

    def order_quantity(self, position: int) -> int:
        """Units to order now at inventory ``position`` (0: no order)."""
        return int(order_quantities(self.kind, position, s=self.s, S=self.S, r=self.r, Q=self.Q, base=self.base))

    def next_review_h(self, t_h: float) -> float:
        """The first review at or after ``t_h`` (reviews at multiples of ``review_h``)."""
        if self.review_h == 0:
            return float(t_h)
        return math.ceil(t_h / self.review_h - 1e-12) * self.review_h
