"""Reader for the single picker routing problem (SPRP) instances of Heßler & Irnich.

Instances and proven optima: K. Heßler, S. Irnich (2023), *Exact Solution of
the Single Picker Routing Problem with Scattered Storage*, working paper
LM-2023-02, Johannes Gutenberg University Mainz (MIT licence). The format is
described in their ``format_description.pdf``:

* ``NUM_CELLS`` is the number of cells along *one* aisle; cells are numbered
  ``0 .. NUM_CELLS - 1`` starting at the **top** (back) cross aisle, so
  ``CELL c`` is ``NUM_CELLS - c`` cell lengths from the bottom (front) cross
  aisle (this orientation reproduces all published optima; the opposite one
  does not).
* ``DISTANCE_BOTTOM_TO_CELL`` / ``DISTANCE_TOP_TO_CELL`` are the gaps from the
  bottom (front) / top (back) cross aisle to the nearest cell;
  ``DISTANCE_TOP_OR_BOTTOM_TO_DEPOT`` the depot offset.
* The two-block variant (``blocks=2``) adds a middle cross aisle of width 1
  half-way along the aisles (``readme.txt``): the two cells either side of it
  are ``0.5 + 1 + 0.5`` apart.

omsim numbers cells from the front, so ``cell = NUM_CELLS - 1 - CELL``.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from omsim.errors import OmsimError
from omsim.warehouse.layout import Layout

__all__ = ["read_sprp", "sprp_optima", "sprp_root"]

_HEADER = re.compile(r"^\s*([A-Z_]+)\s*:\s*(.*?)\s*$")
_SKU = re.compile(r"^\s*ID\s+(\d+)\s+AISLE\s+(\d+)\s+CELL\s+(\d+)\s+QUANTITY\s+(\d+)\s+LEFT_RIGHT_HAND_SIDE\s+(\w+)\s*$")
_ORDER = re.compile(r"^\s*ID\s+(\d+)\s+QUANTITY\s+(\d+)\s*$")


def _number(path, key, header):
    if key not in header:
        raise OmsimError(f"{path}: {key}: missing", file=str(path))
    try:
        return float(header[key])
    except ValueError:
        raise OmsimError(f"{path}: {key}: expected a number, got {header[key]!r}", file=str(path)) from None


def read_sprp(path, blocks: int = 1) -> tuple[Layout, np.ndarray]:
    """Read an SPRP instance file.

    Parameters
    ----------
    path
        Instance file (``unit_F1_m*_C*_a*_*.txt``).
    blocks
        1 for the published single-block layout, 2 for the same instance with
        a middle cross aisle (the published two-block variant).

    Returns
    -------
    layout : Layout
    picks : numpy.ndarray
        ``(n, 2)`` int64 (aisle, cell) of every ordered unit, omsim numbering.

    Raises
    ------
    OmsimError
        Missing file, malformed line, or an ordered article stored in more
        than one place (scattered storage is not supported).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise OmsimError(f"{path}: cannot read SPRP instance ({exc.strerror})", file=str(path)) from None
    header: dict[str, str] = {}
    section = "header"
    locations: dict[int, list[tuple[int, int, str]]] = {}
    order: list[tuple[int, int]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s == "EOF":
            continue
        if s in ("ARTICLE_SECTION", "SKU_SECTION", "ORDER_SECTION"):
            section = s
            continue
        m = _HEADER.match(s)
        if m:
            if section == "header":
                header[m.group(1)] = m.group(2)
            continue
        if section == "ARTICLE_SECTION":
            continue
        if section == "SKU_SECTION":
            m = _SKU.match(s)
            if not m:
                raise OmsimError(f"{path}:{lineno}: SKU_SECTION: cannot parse {s!r}", file=str(path))
            art, a, c, _q, side = m.groups()
            locations.setdefault(int(art), []).append((int(a), int(c), side))
            continue
        if section == "ORDER_SECTION":
            m = _ORDER.match(s)
            if not m:
                raise OmsimError(f"{path}:{lineno}: ORDER_SECTION: cannot parse {s!r}", file=str(path))
            order.append((int(m.group(1)), int(m.group(2))))
            continue
        raise OmsimError(f"{path}:{lineno}: unexpected line {s!r}", file=str(path))
    if header.get("LAYOUT", "single-block") != "single-block":
        raise OmsimError(f"{path}: LAYOUT: only 'single-block' instances are supported, got {header['LAYOUT']!r}",
                         file=str(path))
    loc = header.get("DEPOT_LOCATION")
    if loc not in ("bottom", "top"):
        raise OmsimError(f"{path}: DEPOT_LOCATION: expected 'bottom' or 'top', got {loc!r}", file=str(path))
    n_cells = int(_number(path, "NUM_CELLS", header))
    try:
        layout = Layout(
            blocks=blocks,
            aisles=int(_number(path, "NUM_AISLES", header)),
            cells_per_aisle=n_cells,
            sides=2,
            aisle_pitch_m=_number(path, "DISTANCE_AISLE_TO_AISLE", header),
            cell_length_m=_number(path, "DISTANCE_CELL_TO_CELL", header),
            front_gap_m=_number(path, "DISTANCE_BOTTOM_TO_CELL", header),
            back_gap_m=_number(path, "DISTANCE_TOP_TO_CELL", header),
            cross_aisle_m=1.0,
            depot_aisle=int(_number(path, "DEPOT_AISLE", header)),
            depot="front" if loc == "bottom" else "back",
            depot_offset_m=_number(path, "DISTANCE_TOP_OR_BOTTOM_TO_DEPOT", header),
        )
    except OmsimError as exc:
        raise OmsimError(f"{path}: {exc.message}", file=str(path)) from None
    picks = []
    for art, qty in order:
        where = locations.get(art)
        if not where:
            raise OmsimError(f"{path}: ORDER_SECTION: article {art} has no storage location", file=str(path))
        if len(where) > 1:
            raise OmsimError(f"{path}: article {art} is stored in {len(where)} places; "
                             "scattered storage is not supported", file=str(path))
        a, c, _side = where[0]
        if not (0 <= a < layout.aisles and 0 <= c < n_cells):
            raise OmsimError(f"{path}: article {art}: AISLE {a} CELL {c} outside the layout", file=str(path))
        # Several units of one article are picked at one stop.
        picks.append((a, n_cells - 1 - c))
    return layout, np.array(picks, dtype=np.int64).reshape(-1, 2)


def sprp_root(project_root=None) -> Path:
    """``<project root>/../shared/benchmarks/sprp`` (may not exist)."""
    root = Path(project_root) if project_root is not None else Path(__file__).resolve().parents[3]
    return (root / ".." / "shared" / "benchmarks" / "sprp").resolve()


def sprp_optima(results_dir, blocks: int = 1) -> dict[str, float]:
    """Published optimal tour lengths by instance file name.

    Parameters
    ----------
    results_dir
        The ``results`` directory holding ``results_SPRP.csv`` (single block,
        column ``DP cost``) and ``results_SPRP_two_block.csv`` (column ``objective``).
    blocks
        1 or 2.
    """
    results_dir = Path(results_dir)
    out: dict[str, float] = {}
    if blocks == 1:
        path = results_dir / "results_SPRP.csv"
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                name = (f"unit_F1_m{row['num aisles']}_C{row['num cells']}"
                        f"_a{row['num articles']}_{row['random seed']}.txt")
                out[name] = float(row["DP cost"])
    elif blocks == 2:
        path = results_dir / "results_SPRP_two_block.csv"
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                out[row["filename"]] = float(row["objective"])
    else:
        raise OmsimError(f"sprp_optima: blocks must be 1 or 2, got {blocks}")
    return out
