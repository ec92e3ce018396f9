"""Network geography: great-circle distances between nodes and customers."""
from __future__ import annotations

import numpy as np

from omsim._kernels._geo import haversine_matrix
from omsim.units import EARTH_RADIUS_KM


def _as_latlon(points, name: str) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: coordinates must be finite")
    if np.any(np.abs(arr[:, 0]) > 90) or np.any(np.abs(arr[:, 1]) > 180):
        raise ValueError(f"{name}: latitude must be in [-90, 90] and longitude in [-180, 180]")
    return arr


def distance_matrix_km(origins, destinations, radius_km: float = EARTH_RADIUS_KM) -> np.ndarray:
    """Great-circle distances in km between two sets of (latitude, longitude) points.

    Parameters
    ----------
    origins, destinations
        Array-likes of shape (n, 2) and (m, 2), degrees.
    radius_km
        Sphere radius; the mean Earth radius by default.

    Returns
    -------
    numpy.ndarray
        (n, m) float64 distances in km.
    """
    a = _as_latlon(origins, "origins")
    b = _as_latlon(destinations, "destinations")
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.float64)
    haversine_matrix(a, b, float(radius_km), out)
    return out


def distance_matrix_km_reference(origins, destinations, radius_km: float = EARTH_RADIUS_KM) -> np.ndarray:
    """NumPy reference of :func:`distance_matrix_km` (for tests only)."""
    a = np.radians(np.asarray(origins, dtype=float).reshape(-1, 2))
    b = np.radians(np.asarray(destinations, dtype=float).reshape(-1, 2))
    dlat = b[None, :, 0] - a[:, None, 0]
    dlon = b[None, :, 1] - a[:, None, 1]
    h = np.sin(dlat / 2) ** 2 + np.cos(a[:, None, 0]) * np.cos(b[None, :, 0]) * np.sin(dlon / 2) ** 2
    return 2 * radius_km * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
