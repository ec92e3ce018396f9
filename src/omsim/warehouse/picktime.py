"""Pick time of a picker tour: walking, picking and the tour's set-up.

``tour time = tour_setup_s + length_m / walk_speed_m_per_s + pick_time_s * n_picks``,
converted to hours (the simulator's clock, see :mod:`omsim.units`). The set-up
covers getting the pick list and cart at the depot and dropping off at the
end; the per-pick time covers searching, grabbing and scanning one line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from omsim.errors import OmsimError

__all__ = ["PickTimeModel"]

_SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class PickTimeModel:
    """Travel / walking speed + time per pick + time per tour.

    Parameters
    ----------
    walk_speed_m_per_s
        Picker walking speed with a cart (m/s, > 0).
    pick_time_s
        Time per pick (line) in seconds (>= 0).
    tour_setup_s
        Time per tour in seconds (>= 0).

    Raises
    ------
    OmsimError
        If a parameter is out of range.
    """

    walk_speed_m_per_s: float = 1.0
    pick_time_s: float = 10.0
    tour_setup_s: float = 60.0

    def __post_init__(self) -> None:
        for name, positive in (("walk_speed_m_per_s", True), ("pick_time_s", False), ("tour_setup_s", False)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or (v <= 0 if positive else v < 0):
                raise OmsimError(f"pick time model: {name} must be a finite number "
                                 f"{'> 0' if positive else '>= 0'}, got {v!r}")
            object.__setattr__(self, name, float(v))

    @classmethod
    def from_warehouse(cls, wh) -> "PickTimeModel":
        """Build from a scenario warehouse (fields ``walk_speed_m_per_s``, ``pick_time_s``, ``tour_setup_s``)."""
        return cls(float(wh.walk_speed_m_per_s), float(wh.pick_time_s), float(wh.tour_setup_s))

    def tour_time_s(self, length_m, n_picks):
        """Seconds per tour; broadcasts over arrays of lengths (m) and pick counts."""
        return self.tour_setup_s + np.asarray(length_m, dtype=np.float64) / self.walk_speed_m_per_s \
            + self.pick_time_s * np.asarray(n_picks, dtype=np.float64)

    def tour_hours_list(self, length_m: list[float], n_picks: list[int]) -> list[float]:
        """:meth:`tour_time_h` of a few tours as a list, in plain Python (the same operations, so the
        same bits; cheaper than NumPy for a wave's handful of tours)."""
        setup, v, pick = self.tour_setup_s, self.walk_speed_m_per_s, self.pick_time_s
        return [(setup + m / v + pick * float(k)) / _SECONDS_PER_HOUR for m, k in zip(length_m, n_picks)]

    def tour_time_h(self, length_m, n_picks):
        """Hours per tour; broadcasts over arrays of lengths (m) and pick counts.

        Parameters
        ----------
        length_m
            Route length(s) in metres.
        n_picks
            Number of picks (lines) of each tour.

        Returns
        -------
        numpy.ndarray or float
            Tour time(s) in hours (a float for scalar inputs).
        """
        out = self.tour_time_s(length_m, n_picks) / _SECONDS_PER_HOUR
        return float(out) if np.ndim(out) == 0 else out

    #: Alias used by the simulator.
    tour_hours = tour_time_h
