"""Why units of an order line are left unfilled: the reason the engine's decision records per line.

One rule, evaluated against the state the decision was taken in, in this order
(the first that holds): the codes are the compiled kernel's (``_UNFILLED_*`` in
``omsim/_kernels/_decide.pxd``, which applies the same rule in C), the names
are what :attr:`omsim.orders.Decision.unfilled_reason` and the service's
``unfilled[].reason`` say, the texts what ``omsim plan`` prints.

==================  ===================================================================
``no_stock``        no node has any of the SKU available to promise
``cannot_ship``     only nodes that cannot ship this order now have it (no carrier
                    service to its region at its level, the day's node capacity
                    taken, carriers full)
``short``           every unit the nodes that can ship have is allocated: fewer than ordered
``package_limit``   the rest is only at nodes the order does not use, and it has
                    ``max_packages`` packages already
``cost``            shipping the rest costs more than its lost-sale penalty
``held_back``       (policy ``lookahead``) as ``cost``, the stock's shadow price
                    (expected later demand) included
``batch_window``    (policy ``batch``) the rest is planned for other orders of the window
==================  ===================================================================

A line that is filled has the empty name ``""`` (code 0).
"""
from __future__ import annotations

import numpy as np

from omsim._kernels import _decide

__all__ = ["UNFILLED_REASONS", "reason_code", "reason_text", "unfilled_reasons"]

#: Names by code (index): the kernel's _UNFILLED_* codes.
UNFILLED_REASONS = ("", "no_stock", "cannot_ship", "short", "package_limit", "cost", "held_back", "batch_window")
assert (_decide.UNFILLED_NO_STOCK, _decide.UNFILLED_CANNOT_SHIP, _decide.UNFILLED_SHORT,
        _decide.UNFILLED_PACKAGE_LIMIT, _decide.UNFILLED_COST, _decide.UNFILLED_HELD_BACK,
        _decide.UNFILLED_BATCH_WINDOW) == tuple(range(1, len(UNFILLED_REASONS)))

_CODE = {name: i for i, name in enumerate(UNFILLED_REASONS)}

_TEXT = {
    "no_stock": "no stock of {sku} at any node",
    "cannot_ship": "{sku} only at nodes that cannot ship this order now (no carrier service to its region at "
                   "its level, or the day's node or carrier capacity taken)",
    "short": "only {filled} of {qty} units of {sku} available in the network",
    "package_limit": "{sku} only at further nodes (the order has its {max_packages} packages)",
    "cost": "shipping {sku} would cost more than the lost-sale penalty",
    "held_back": "{sku} held back for expected later demand (lookahead shadow prices above the lost-sale penalty)",
    "batch_window": "{sku} planned for other orders of the batch window",
}


def reason_code(name: str) -> int:
    """The code of reason ``name``."""
    return _CODE[name]


def reason_text(name: str, sku: str, qty: int, unfilled: int, max_packages: int) -> str:
    """A planner's sentence for reason ``name`` of a line of ``qty`` units of ``sku``, ``unfilled`` of them unfilled
    ("" for a filled line)."""
    if not name:
        return ""
    return _TEXT[name].format(sku=sku, qty=qty, filled=qty - unfilled, max_packages=max_packages)


def unfilled_reasons(qty: np.ndarray, x: np.ndarray, usable: np.ndarray, stocked: np.ndarray, k_max: int,
                     policy: str, usable_all: np.ndarray | None = None) -> list[int]:
    """The reason code of each line of a decision (inputs already validated).

    Parameters
    ----------
    qty
        (L,) units ordered per line.
    x
        (L, N) the assignment (units of line l from node n).
    usable
        (L, N) stock the nodes that can ship this order offered it (zero where a node cannot ship).
    stocked
        (L,) bool: some node has the line's SKU available to promise (before closing nodes).
    k_max
        Packages an order may have at most (``min(max_packages, nodes)``).
    policy
        The decision's policy: ``cost`` reads ``held_back`` under ``lookahead``.
    usable_all
        ``batch``: what ``usable`` was before the window's other orders took their planned units.
    """
    xl, ul = x.tolist(), usable.tolist()
    full = ul if usable_all is None else usable_all.tolist()
    N = x.shape[1]
    used = [any(row[n] > 0 for row in xl) for n in range(N)]
    npk = sum(used)
    out = []
    for l, q in enumerate(qty.tolist()):
        got = sum(xl[l])
        if got >= q:
            out.append(0)
            continue
        left = [ul[l][n] - xl[l][n] for n in range(N)]
        if not stocked[l]:
            c = "no_stock"
        elif sum(full[l]) == 0:
            c = "cannot_ship"
        elif sum(left) == 0:
            c = "batch_window" if sum(full[l]) > sum(ul[l]) else "short"
        elif not any(left[n] > 0 and used[n] for n in range(N)) and npk >= k_max:
            c = "package_limit"
        else:
            c = "held_back" if policy == "lookahead" else "cost"
        out.append(_CODE[c])
    return out
