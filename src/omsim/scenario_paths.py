"""Field paths of the scenario format (``network.warehouses[1].pickers``): formatting them for messages,
setting them (``[+]`` appends, ``[*]`` every item) and merging a variant onto its base."""
from __future__ import annotations

import copy
import re
from typing import Any

from omsim.errors import OmsimError


_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+|\+)\]")
_APPEND = "+"


def format_loc(loc) -> str:
    """``('network', 'warehouses', 1, 'pickers')`` → ``network.warehouses[1].pickers``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<top level>"


def _parse_path(path: str, source: str) -> list:
    parts: list = []
    pos = 0
    path = path.strip()
    for m in _PATH_TOKEN.finditer(path):
        if m.start() != pos and path[pos:m.start()] != ".":
            raise OmsimError(f"{source}: bad field path {path!r}", file=source)
        if m.group(1) is not None:
            parts.append(m.group(1))
        else:
            parts.append(_APPEND if m.group(2) == _APPEND else int(m.group(2)))
        pos = m.end()
    if not parts or pos != len(path):
        raise OmsimError(f"{source}: bad field path {path!r}", file=source)
    return parts


def set_path(raw: dict, path: str, value: Any, *, source: str = "<scenario>") -> None:
    """Set ``raw[path] = value`` for a dotted/indexed path, creating mappings on the way.

    ``[i]`` indexes an existing list item; ``[+]`` appends a new item to a list
    (``network.warehouses[+]`` adds a warehouse). Use :func:`expand_wildcards`
    first for ``[*]``.
    """
    parts = _parse_path(path, source)
    node: Any = raw
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = format_loc([p for p in parts[:i] if p != _APPEND])
        if part == _APPEND:
            if not isinstance(node, list):
                raise OmsimError(f"{source}: {path}: {where} is not a list, so [+] cannot append", file=source)
            node.append(value if last else ([] if isinstance(parts[i + 1], int) else {}))
            node = node[-1]
        elif isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise OmsimError(f"{source}: {path}: no item [{part}] at {where}", file=source)
            if last:
                node[part] = value
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise OmsimError(f"{source}: {path}: {where} is not a mapping", file=source)
            if last:
                node[part] = value
            elif part not in node or node[part] is None:
                node[part] = [] if isinstance(parts[i + 1], int) or parts[i + 1] == _APPEND else {}
            node = node[part]


_WILDCARD_TOKEN = re.compile(r"[^.\[\]]+|\[\d+\]")


def expand_wildcards(raw: dict, path: str, *, source: str = "<scenario>") -> list[str]:
    """``network.warehouses[*].pickers`` → one path per list item (``[0]``, ``[1]``, ...).

    Sets a field on every warehouse (or carrier, ...) at once. Paths without
    ``[*]`` come back unchanged.

    Raises
    ------
    OmsimError
        What precedes ``[*]`` is not a list in the scenario.
    """
    if "[*]" not in path:
        return [path]
    prefix, rest = path.split("[*]", 1)
    node: Any = raw
    for tok in _WILDCARD_TOKEN.findall(prefix):
        if tok.startswith("["):
            i = int(tok[1:-1])
            node = node[i] if isinstance(node, list) and i < len(node) else None
        else:
            node = node.get(tok) if isinstance(node, dict) else None
        if node is None:
            break
    if not isinstance(node, list) or not node:
        raise OmsimError(f"{source}: {path}: {prefix} is not a list in the scenario, so [*] has nothing to expand",
                         file=source)
    out = []
    for i in range(len(node)):
        out.extend(expand_wildcards(raw, f"{prefix}[{i}]{rest}", source=source))
    return out


def apply_overrides(raw: dict, overrides, *, source: str = "<scenario>") -> dict:
    """Apply ``{path: value}`` overrides (``[*]`` and ``[+]`` allowed) to ``raw`` in place; returns it.

    ``overrides`` is a mapping, or a list of mappings applied in order (so the
    same path, e.g. ``network.warehouses[+]``, can appear more than once).
    """
    groups = overrides if isinstance(overrides, list) else [overrides]
    for group in groups:
        if not isinstance(group, dict):
            raise OmsimError(f"{source}: expected a mapping of field paths to values (or a list of them), "
                             f"got {type(group).__name__}", file=source)
        for path, value in group.items():
            for concrete in expand_wildcards(raw, str(path), source=source):
                set_path(raw, concrete, value, source=source)
    return raw


def _deep_merge(base: Any, top: Any) -> Any:
    """``top`` over ``base``: mappings merge key by key, anything else (lists too) replaces."""
    if isinstance(base, dict) and isinstance(top, dict):
        out = dict(base)
        for k, v in top.items():
            out[k] = _deep_merge(base[k], v) if k in base else v
        return out
    return copy.deepcopy(top)
