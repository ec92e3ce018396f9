"""omsim: order management simulation and optimisation engine."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("omsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from omsim.errors import OmsimError

__all__ = ["OmsimError", "__version__"]
