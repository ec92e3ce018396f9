"""Parallel-aisle warehouse layout: geometry and aisle-graph distances.

Geometry (all lengths in metres)::

    back cross aisle   ==========================  y = cross_aisle_y[-1]
                        |  |  |  |  |   <- block blocks-1
    middle cross aisle ==========================
                        |  |  |  |  |   <- block 0
    front cross aisle  ==========================  y = 0
                        D (depot, depot_offset_m in front of aisle depot_aisle)

* Aisle ``a`` (0-based, left to right) runs along ``x = a * aisle_pitch_m``.
* Cell ``c`` (0-based, counted from the front over the whole aisle) lies in
  block ``c // cells_per_block``; cells on both sides of an aisle share the same
  position ``cell_y[c]``.
* Block 0 starts ``front_gap_m`` after the front cross aisle; cells are
  ``cell_length_m`` apart; the last cell of the last block is ``back_gap_m``
  before the back cross aisle. A middle cross aisle of width ``cross_aisle_m``
  separates two blocks: the distance from the centre line of a middle cross
  aisle to the nearest cell is ``(cell_length_m + cross_aisle_m) / 2`` (so the
  two cells either side of it are ``cell_length_m + cross_aisle_m`` apart, as
  in the two-block SPRP instances of Heßler & Irnich).
* Travel happens on the aisle graph: along aisles and along the centre lines
  of the cross aisles. The shortest path between two points of different
  aisles is ``|dx| + min_c (|y1 - Y_c| + |y2 - Y_c|)`` over cross aisles ``c``;
  within one aisle it is ``|y1 - y2|``.
* The depot is a point ``depot_offset_m`` outside the front (or back) cross
  aisle, connected to it at ``x = depot_aisle * aisle_pitch_m``.

A pick (storage location to visit) is an integer pair ``(aisle, cell)``; many
picks are an ``(n, 2)`` integer array (an ``(n, 3)`` array with the side as a
third column is accepted, the side does not change distances).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from numbers import Integral, Real

import numpy as np

from omsim.errors import OmsimError

__all__ = ["Layout", "as_picks", "aisle_graph_distances_reference"]


def _int_field(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (Integral, Real)) or int(value) != value:
        raise OmsimError(f"layout.{name}: must be an integer, got {value!r}")
    if int(value) < minimum:
        raise OmsimError(f"layout.{name}: must be >= {minimum}, got {value!r}")
    return int(value)


def _float_field(name: str, value, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise OmsimError(f"layout.{name}: must be a finite number, got {value!r}")
    v = float(value)
    if positive and v <= 0:
        raise OmsimError(f"layout.{name}: must be > 0, got {value!r}")
    if not positive and v < 0:
        raise OmsimError(f"layout.{name}: must be >= 0, got {value!r}")
    return v


@dataclass(frozen=True)
class Layout:
    """A parallel-aisle warehouse with one or more blocks.

    Parameters
    ----------
    blocks
        Number of blocks; ``blocks - 1`` middle cross aisles.
    aisles
        Number of parallel aisles.
    cells_per_aisle
        Pick cells along one aisle in total (over all blocks); must split
        evenly between the blocks.
    sides
        Storage sides per aisle (1 or 2); both sides share cell positions.
    aisle_pitch_m
        Centre-to-centre distance of adjacent aisles.
    cell_length_m
        Distance between adjacent cells of one block.
    front_gap_m, back_gap_m
        Distance from the front (back) cross aisle's centre line to the
        first (last) cell.
    cross_aisle_m
        Width of a middle cross aisle.
    depot_aisle
        Aisle (0-based) in front of (or behind) which the depot lies.
    depot
        ``"front"`` or ``"back"``: the cross aisle the depot is attached to.
    depot_offset_m
        Distance from the depot to that cross aisle (added twice to every
        non-empty route).

    Raises
    ------
    OmsimError
        If any field is out of range (the message names the field).
    """

    blocks: int = 1
    aisles: int = 10
    cells_per_aisle: int = 30
    sides: int = 2
    aisle_pitch_m: float = 3.0
    cell_length_m: float = 1.0
    front_gap_m: float = 1.0
    back_gap_m: float = 1.0
    cross_aisle_m: float = 1.0
    depot_aisle: int = 0
    depot: str = "front"
    depot_offset_m: float = 0.0

    def __post_init__(self) -> None:
        put = object.__setattr__  # frozen: normalise types once, here
        put(self, "blocks", _int_field("blocks", self.blocks, 1))
        put(self, "aisles", _int_field("aisles", self.aisles, 1))
        put(self, "cells_per_aisle", _int_field("cells_per_aisle", self.cells_per_aisle, 1))
        put(self, "sides", _int_field("sides", self.sides, 1))
        if self.sides > 2:
            raise OmsimError(f"layout.sides: must be 1 or 2, got {self.sides}")
        if self.cells_per_aisle % self.blocks:
            raise OmsimError(
                f"layout.cells_per_aisle: {self.cells_per_aisle} cells do not split evenly "
                f"between {self.blocks} blocks"
            )
        put(self, "aisle_pitch_m", _float_field("aisle_pitch_m", self.aisle_pitch_m, positive=True))
        put(self, "cell_length_m", _float_field("cell_length_m", self.cell_length_m, positive=True))
        put(self, "front_gap_m", _float_field("front_gap_m", self.front_gap_m, positive=False))
        put(self, "back_gap_m", _float_field("back_gap_m", self.back_gap_m, positive=False))
        put(self, "cross_aisle_m", _float_field("cross_aisle_m", self.cross_aisle_m, positive=False))
        put(self, "depot_offset_m", _float_field("depot_offset_m", self.depot_offset_m, positive=False))
        put(self, "depot_aisle", _int_field("depot_aisle", self.depot_aisle, 0))
        if self.depot_aisle >= self.aisles:
            raise OmsimError(
                f"layout.depot_aisle: must be < aisles ({self.aisles}), got {self.depot_aisle}"
            )
        if self.depot not in ("front", "back"):
            raise OmsimError(f"layout.depot: must be 'front' or 'back', got {self.depot!r}")

    # ------------------------------------------------------------------ geometry
    @property
    def cells_per_block(self) -> int:
        """Cells along one aisle within one block."""
        return self.cells_per_aisle // self.blocks

    @property
    def n_locations(self) -> int:
        """Number of storage locations (aisle, cell, side)."""
        return self.aisles * self.cells_per_aisle * self.sides

    @property
    def depot_cross(self) -> int:
        """Index of the cross aisle the depot is attached to (0 = front)."""
        return 0 if self.depot == "front" else self.blocks

    @cached_property
    def cross_aisle_y(self) -> np.ndarray:
        """Positions of the cross-aisle centre lines along an aisle, front (0) to back."""
        ys = [0.0]
        half = 0.5 * (self.cell_length_m + self.cross_aisle_m)
        span = (self.cells_per_block - 1) * self.cell_length_m
        for b in range(self.blocks):
            first_gap = self.front_gap_m if b == 0 else half
            last_gap = self.back_gap_m if b == self.blocks - 1 else half
            ys.append(ys[-1] + first_gap + span + last_gap)
        out = np.array(ys, dtype=np.float64)
        out.setflags(write=False)
        return out

    @cached_property
    def cell_y(self) -> np.ndarray:
        """Position of every cell along an aisle (``cells_per_aisle`` values)."""
        cpb = self.cells_per_block
        half = 0.5 * (self.cell_length_m + self.cross_aisle_m)
        c = np.arange(self.cells_per_aisle)
        b = c // cpb
        start = self.cross_aisle_y[b] + np.where(b == 0, self.front_gap_m, half)
        out = (start + (c - b * cpb) * self.cell_length_m).astype(np.float64)
        out.setflags(write=False)
        return out

    @cached_property
    def aisle_x(self) -> np.ndarray:
        """Position of every aisle's centre line across the warehouse."""
        out = np.arange(self.aisles, dtype=np.float64) * self.aisle_pitch_m
        out.setflags(write=False)
        return out

    @property
    def aisle_length_m(self) -> float:
        """Front cross aisle to back cross aisle (centre lines)."""
        return float(self.cross_aisle_y[-1])

    @property
    def depot_xy(self) -> tuple[float, float]:
        """Where the depot joins the aisle graph (the offset is not included)."""
        return float(self.aisle_x[self.depot_aisle]), float(self.cross_aisle_y[self.depot_cross])

    def block_of(self, cells) -> np.ndarray:
        """Block index of each cell."""
        return np.asarray(cells) // self.cells_per_block

    def coordinates(self, picks) -> np.ndarray:
        """``(n, 2)`` float array of the (x, y) positions of picks, in metres."""
        p = as_picks(self, picks)
        return np.column_stack([self.aisle_x[p[:, 0]], self.cell_y[p[:, 1]]])

    def locations(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All storage locations as ``(aisle, cell, side)`` arrays, aisle-major."""
        a, c, s = np.meshgrid(
            np.arange(self.aisles), np.arange(self.cells_per_aisle), np.arange(self.sides), indexing="ij"
        )
        return a.ravel(), c.ravel(), s.ravel()

    # ----------------------------------------------------------------- distances
    def depot_distances(self, picks) -> np.ndarray:
        """Shortest aisle-graph distance from the depot to each pick (offset included)."""
        p = as_picks(self, picks)
        x0, y0 = self.depot_xy
        return self.depot_offset_m + self._point_distances(
            self.aisle_x[p[:, 0]], self.cell_y[p[:, 1]], np.array([x0]), np.array([y0])
        )[:, 0]

    def distance_matrix(self, picks, include_depot: bool = True) -> np.ndarray:
        """Shortest-path distances on the aisle graph between picks (and the depot).

        Parameters
        ----------
        picks
            ``(n, 2)`` integer array-like of (aisle, cell), 0-based.
        include_depot
            If true, index 0 is the depot and pick ``i`` is index ``i + 1``;
            the depot's distances include ``depot_offset_m``.

        Returns
        -------
        numpy.ndarray
            Symmetric ``(n + 1, n + 1)`` (or ``(n, n)``) float64 matrix in metres.
        """
        p = as_picks(self, picks)
        x = self.aisle_x[p[:, 0]]
        y = self.cell_y[p[:, 1]]
        if include_depot:
            x0, y0 = self.depot_xy
            x = np.concatenate([[x0], x])
            y = np.concatenate([[y0], y])
        d = self._point_distances(x, y, x, y)
        if include_depot and self.depot_offset_m:
            d[0, 1:] += self.depot_offset_m
            d[1:, 0] += self.depot_offset_m
        return d

    def _point_distances(self, x1, y1, x2, y2) -> np.ndarray:
        """Aisle-graph distances between points on aisle centre lines (no depot offset)."""
        x1 = np.asarray(x1, dtype=np.float64)[:, None]
        y1 = np.asarray(y1, dtype=np.float64)[:, None]
        x2 = np.asarray(x2, dtype=np.float64)[None, :]
        y2 = np.asarray(y2, dtype=np.float64)[None, :]
        yc = self.cross_aisle_y
        # Changing aisle means walking to one cross aisle and along it: pick the cheapest.
        via = np.full(np.broadcast_shapes(y1.shape, y2.shape), np.inf)
        for c in yc:
            np.minimum(via, np.abs(y1 - c) + np.abs(y2 - c), out=via)
        dx = np.abs(x1 - x2)
        return np.where(dx == 0, np.abs(y1 - y2), dx + via)


def as_picks(layout: Layout, picks, *, name: str = "picks") -> np.ndarray:
    """Validate picks against a layout and return a C-contiguous ``(n, 2)`` int64 array.

    Accepts an ``(n, 2)`` array-like of (aisle, cell) or ``(n, 3)`` of
    (aisle, cell, side); the side is checked and dropped.

    Raises
    ------
    OmsimError
        If a pick lies outside the layout.
    """
    if isinstance(picks, np.ndarray) and picks.dtype == np.int64 and picks.ndim == 2 and picks.shape[1] == 2 \
            and picks.flags.c_contiguous and _in_range(layout, picks):
        return picks  # fast path: already validated form
    arr = np.asarray(picks)
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise OmsimError(f"{name}: expected (n, 2) (aisle, cell) or (n, 3) (aisle, cell, side), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr.astype(float))) or np.any(arr != np.round(arr)):
            raise OmsimError(f"{name}: aisle, cell and side must be integers")
    arr = arr.astype(np.int64)
    if arr.shape[1] == 3:
        bad = np.flatnonzero((arr[:, 2] < 0) | (arr[:, 2] >= layout.sides))
        if bad.size:
            raise OmsimError(f"{name}[{bad[0]}]: side {arr[bad[0], 2]} outside 0..{layout.sides - 1}")
        arr = arr[:, :2]
    for col, label, hi in ((0, "aisle", layout.aisles), (1, "cell", layout.cells_per_aisle)):
        bad = np.flatnonzero((arr[:, col] < 0) | (arr[:, col] >= hi))
        if bad.size:
            raise OmsimError(f"{name}[{bad[0]}]: {label} {arr[bad[0], col]} outside 0..{hi - 1}")
    return np.ascontiguousarray(arr)


def _in_range(layout: Layout, p: np.ndarray) -> bool:
    if p.shape[0] == 0:
        return True
    return bool(p[:, 0].min() >= 0 and p[:, 0].max() < layout.aisles
                and p[:, 1].min() >= 0 and p[:, 1].max() < layout.cells_per_aisle)


def aisle_graph_distances_reference(layout: Layout, picks) -> np.ndarray:
    """Slow reference for :meth:`Layout.distance_matrix` (tests only).

    Builds the aisle graph explicitly (cross-aisle junctions, picks and the
    depot as vertices; aisle and cross-aisle segments as edges) and runs
    Floyd-Warshall. Index 0 is the depot, pick ``i`` is index ``i + 1``.
    """
    p = as_picks(layout, picks)
    xs = layout.aisle_x
    yc = layout.cross_aisle_y
    pts: list[tuple[int, float]] = []  # (aisle, y) of every vertex
    for a in range(layout.aisles):
        for y in yc:
            pts.append((a, float(y)))
    first_pick = len(pts)
    for a, c in p:
        pts.append((int(a), float(layout.cell_y[c])))
    depot = len(pts)
    pts.append((layout.depot_aisle, float(yc[layout.depot_cross]) + (
        -layout.depot_offset_m if layout.depot == "front" else layout.depot_offset_m)))
    n = len(pts)
    d = np.full((n, n), np.inf)
    np.fill_diagonal(d, 0.0)

    def link(i, j, w):
        d[i, j] = d[j, i] = min(d[i, j], w)

    k = len(yc)
    for a in range(layout.aisles - 1):
        for c in range(k):
            link(a * k + c, (a + 1) * k + c, float(xs[a + 1] - xs[a]))
    # The depot hangs off its cross aisle, so it is linked to that junction only.
    link(depot, layout.depot_aisle * k + layout.depot_cross, layout.depot_offset_m)
    for a in range(layout.aisles):
        on_aisle = [i for i in range(first_pick, depot) if pts[i][0] == a]
        on_aisle += [a * k + c for c in range(k)]
        on_aisle.sort(key=lambda i: pts[i][1])
        for i, j in zip(on_aisle, on_aisle[1:]):
            link(i, j, pts[j][1] - pts[i][1])
    for m in range(n):
        d = np.minimum(d, d[:, m:m + 1] + d[m:m + 1, :])
    order = [depot] + list(range(first_pick, depot))
    return d[np.ix_(order, order)]
