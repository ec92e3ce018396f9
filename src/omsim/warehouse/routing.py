"""Picker routing: the order in which one picker visits the picks of a tour.

Every method takes a :class:`~omsim.warehouse.layout.Layout` and picks
(``(n, 2)`` integer (aisle, cell), 0-based) and returns a :class:`Route` that
starts and ends at the depot. Lengths are in metres on the aisle graph (see
:mod:`omsim.warehouse.layout`).

Methods live in :data:`ROUTING_METHODS` (name -> :class:`RoutingMethod`);
other modules add theirs with :func:`register_method`.

``"optimal"``
    Exact. One block: Ratliff & Rosenthal (1983); two blocks: Roodbergen &
    de Koster (2001); both are one aisle-by-aisle dynamic programme in the
    Cython kernel ``omsim._kernels._route_exact``. With more than two blocks
    the same DP is used unless ``omsim.warehouse.routing_ortools`` provides
    ``optimal_route(layout, picks) -> Route`` (the hook for a general solver).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from omsim._kernels import _route_exact
from omsim.errors import OmsimError
from omsim.warehouse import _exact
from omsim.warehouse.layout import Layout, as_picks

__all__ = [
    "Route",
    "RoutingMethod",
    "ROUTING_METHODS",
    "register_method",
    "route",
    "route_lengths",
    "pack_pick_lists",
    "sequence_length",
]


@dataclass(frozen=True)
class Route:
    """One picker tour from the depot through all picks and back.

    Attributes
    ----------
    length
        Tour length in metres (including the depot offset both ways).
    sequence
        Indices into the given picks, in visiting order (each exactly once).
    method
        Name of the routing method that produced it.
    optimal
        Whether the method guarantees a shortest tour.
    """

    length: float
    sequence: np.ndarray
    method: str
    optimal: bool


@dataclass(frozen=True)
class RoutingMethod:
    """A registered routing method.

    Attributes
    ----------
    route
        ``route(layout, picks) -> Route``; picks already validated ``(n, 2)`` int64.
    lengths
        Optional batched ``lengths(layout, flat_picks, offsets) -> ndarray``;
        route ``r`` is ``flat_picks[offsets[r]:offsets[r + 1]]``. Without it,
        :func:`route_lengths` calls ``route`` once per pick list.
    optimal
        Whether the method guarantees shortest tours.
    description
        One line for listings.
    """

    route: Callable[[Layout, np.ndarray], Route]
    lengths: Callable[[Layout, np.ndarray, np.ndarray], np.ndarray] | None = None
    optimal: bool = False
    description: str = field(default="")


#: Routing methods by name.
ROUTING_METHODS: dict[str, RoutingMethod] = {}


def register_method(name: str, route_fn, lengths_fn=None, *, optimal: bool = False, description: str = "") -> None:
    """Add (or replace) a routing method in :data:`ROUTING_METHODS`."""
    ROUTING_METHODS[name] = RoutingMethod(route_fn, lengths_fn, optimal, description)


def _method(method: str) -> RoutingMethod:
    try:
        return ROUTING_METHODS[method]
    except KeyError:
        known = ", ".join(sorted(ROUTING_METHODS))
        raise OmsimError(f"routing method {method!r} is unknown; choose one of: {known}") from None


def route(layout: Layout, picks, method: str = "optimal") -> Route:
    """Route one picker through ``picks``.

    Parameters
    ----------
    layout
        The warehouse.
    picks
        ``(n, 2)`` array-like of (aisle, cell), 0-based (or ``(n, 3)`` with the
        side); duplicates are allowed and visited one after the other.
    method
        A key of :data:`ROUTING_METHODS`.

    Returns
    -------
    Route

    Raises
    ------
    OmsimError
        Unknown method or a pick outside the layout.
    """
    m = _method(method)
    return m.route(layout, as_picks(layout, picks))


def pack_pick_lists(layout: Layout, pick_lists: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate pick lists into flat ``(N, 2)`` int64 picks and ``(R + 1,)`` offsets (CSR)."""
    if len(pick_lists) and all(isinstance(p, np.ndarray) and p.ndim == 2 for p in pick_lists):
        # Fast path for lists of 2-D arrays (the usual batched call).
        offsets = np.zeros(len(pick_lists) + 1, dtype=np.int64)
        np.cumsum([p.shape[0] for p in pick_lists], out=offsets[1:])
        try:
            flat = np.concatenate(pick_lists)
        except ValueError:
            raise OmsimError("pick_lists: every pick list must have the same number of columns") from None
        return as_picks(layout, flat, name="pick_lists"), offsets
    arrays = [np.asarray(p, dtype=np.int64).reshape(-1, np.shape(p)[-1] if np.size(p) else 2) for p in pick_lists]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    if arrays:
        np.cumsum([a.shape[0] for a in arrays], out=offsets[1:])
    widths = {a.shape[1] for a in arrays if a.shape[0]}
    if len(widths) > 1:
        raise OmsimError("pick_lists: every pick list must have the same number of columns")
    flat = np.concatenate([a for a in arrays if a.shape[0]]) if offsets[-1] else np.zeros((0, 2), np.int64)
    return as_picks(layout, flat, name="pick_lists"), offsets


def route_lengths(layout: Layout, pick_lists, method: str = "optimal", *, offsets=None) -> np.ndarray:
    """Tour lengths of many pick lists at once.

    Parameters
    ----------
    layout
        The warehouse.
    pick_lists
        A sequence of pick lists (each as for :func:`route`), or, with
        ``offsets``, one flat ``(N, 2)`` array of all picks.
    method
        A key of :data:`ROUTING_METHODS`.
    offsets
        Optional ``(R + 1,)`` CSR offsets into flat ``pick_lists``; avoids
        building R small arrays when the caller already has flat data.

    Returns
    -------
    numpy.ndarray
        ``(R,)`` float64 lengths in metres.
    """
    m = _method(method)
    if offsets is None:
        flat, off = pack_pick_lists(layout, pick_lists)
    else:
        flat = as_picks(layout, pick_lists, name="pick_lists")
        off = np.ascontiguousarray(offsets, dtype=np.int64)
        if off.ndim != 1 or off.size == 0 or off[0] != 0 or off[-1] != flat.shape[0] or np.any(np.diff(off) < 0):
            raise OmsimError("offsets: must start at 0, not decrease and end at the number of picks")
    if m.lengths is not None:
        return m.lengths(layout, flat, off)
    return np.array([m.route(layout, flat[off[r]:off[r + 1]]).length for r in range(off.size - 1)], dtype=np.float64)


def sequence_length(layout: Layout, picks, sequence) -> float:
    """Length of the tour depot -> picks in ``sequence`` order -> depot (shortest paths)."""
    p = as_picks(layout, picks)
    seq = np.asarray(sequence, dtype=np.int64)
    if seq.size == 0:
        return 0.0
    d = layout.distance_matrix(p[seq])
    idx = np.arange(seq.size + 1)
    return float(d[idx, (idx + 1) % (seq.size + 1)].sum())


# ---------------------------------------------------------------------- optimal
def _kernel_args(layout: Layout):
    t = _exact.tables(layout.blocks)
    geometry = (
        layout.aisles,
        layout.blocks,
        np.ascontiguousarray(layout.cell_y, dtype=np.float64),
        np.ascontiguousarray(layout.cross_aisle_y, dtype=np.float64),
        float(layout.aisle_pitch_m),
        layout.depot_aisle,
        layout.depot_cross,
        float(layout.depot_offset_m),
        t.vert_next,
        t.hv_ptr,
        t.hv_combo,
        t.hv_next,
        t.hv_mask,
        t.hv_count,
        t.done,
    )
    return t, geometry


def _general_hook():
    """``optimal_route`` from ``omsim.warehouse.routing_ortools`` if that module provides it."""
    try:
        mod = importlib.import_module("omsim.warehouse.routing_ortools")
    except ImportError:
        return None
    return getattr(mod, "optimal_route", None)


def _optimal_route(layout: Layout, picks: np.ndarray) -> Route:
    if layout.blocks > 2:
        hook = _general_hook()
        if hook is not None:
            return hook(layout, picks)
    return _dp_route(layout, picks)


def _dp_route(layout: Layout, picks: np.ndarray) -> Route:
    """Exact DP with tour reconstruction (any number of blocks)."""
    t, geometry = _kernel_args(layout)
    n = picks.shape[0]
    if n == 0:
        return Route(0.0, np.zeros(0, dtype=np.int64), "optimal", True)
    stages = layout.aisles * (layout.blocks + 1)
    bp_prev = np.full((stages, len(t.states)), -1, dtype=np.int32)
    bp_choice = np.full((stages, len(t.states)), -1, dtype=np.int32)
    aisle = np.ascontiguousarray(picks[:, 0])
    cell = np.ascontiguousarray(picks[:, 1])
    length, lo = _route_exact.exact_route(aisle, cell, *geometry, bp_prev, bp_choice)
    hi = max(int(aisle.max()), layout.depot_aisle)
    m = hi - lo + 1
    k = layout.blocks + 1
    configs = np.zeros((m, layout.blocks), dtype=np.int64)
    hcounts = np.zeros((m, k), dtype=np.int64)
    state = t.done
    for stage in range(m * k - 1, -1, -1):
        i, b = divmod(stage, k)
        choice = int(bp_choice[stage, state])
        if b == layout.blocks:
            hcounts[i] = t.h_combos[choice]
        else:
            configs[i, b] = choice
        state = int(bp_prev[stage, state])
    if state != t.empty:  # pragma: no cover - would be a kernel bug
        raise RuntimeError("exact routing: back-pointers do not lead to the empty state")
    seq = _exact.euler_sequence(layout, picks, configs, hcounts, lo)
    return Route(float(length), seq, "optimal", True)


def _optimal_lengths(layout: Layout, flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    if layout.blocks > 2 and _general_hook() is not None:
        return np.array([_optimal_route(layout, flat[offsets[r]:offsets[r + 1]]).length
                         for r in range(offsets.size - 1)], dtype=np.float64)
    t, geometry = _kernel_args(layout)
    out = np.empty(offsets.size - 1, dtype=np.float64)
    _route_exact.exact_lengths(np.ascontiguousarray(flat[:, 0]), np.ascontiguousarray(flat[:, 1]),
                               offsets, *geometry, out)
    return out


register_method(
    "optimal",
    _optimal_route,
    _optimal_lengths,
    optimal=True,
    description="exact DP: Ratliff-Rosenthal (1 block), Roodbergen-de Koster (2 blocks)",
)
