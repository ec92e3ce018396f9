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

__all__ = ["OmsimError", "Scenario", "load_scenario", "simulate", "replicate", "__version__"]


def __getattr__(name):
    # The scenario model pulls in pydantic and NumPy, the simulator SimPy, pandas and the kernels: each is
    # loaded on first use, so `import omsim` (and the CLI's start, before its Ctrl-C handling is in place)
    # stays quick.
    if name in ("Scenario", "load_scenario"):
        from omsim import scenario

        return getattr(scenario, name)
    if name in ("simulate", "replicate"):
        from omsim import sim

        return getattr(sim, name)
    raise AttributeError(f"module 'omsim' has no attribute {name!r}")
