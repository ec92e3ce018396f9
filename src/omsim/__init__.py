"""omsim: order management simulation and optimisation engine.

>>> import omsim
>>> scenario = omsim.load_scenario()          # the bundled default
>>> result = omsim.simulate(scenario, seed=1, days=1)   # doctest: +SKIP
>>> result.kpis["on_time_rate"]                         # doctest: +SKIP
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("omsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from omsim.errors import OmsimError
from omsim.scenario import Scenario, load_scenario

__all__ = ["OmsimError", "Scenario", "load_scenario", "simulate", "replicate", "__version__"]


def __getattr__(name):
    # The simulator pulls in SimPy, pandas and the kernels: load it on first use
    # so `omsim validate` and `import omsim` stay quick.
    if name in ("simulate", "replicate"):
        from omsim import sim

        return getattr(sim, name)
    raise AttributeError(f"module 'omsim' has no attribute {name!r}")
