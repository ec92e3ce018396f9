# cython: language_level=3
"""Great-circle distance matrices (haversine), the network's distance kernel."""
from libc.math cimport sin, cos, asin, sqrt, M_PI


def haversine_matrix(const double[:, ::1] a,   # IN  (n, 2) latitude, longitude in degrees
                     const double[:, ::1] b,   # IN  (m, 2) latitude, longitude in degrees
                     double radius_km,         # IN  sphere radius
                     double[:, ::1] out):      # OUT (n, m) distances in km
    """Fill ``out[i, j]`` with the great-circle distance from ``a[i]`` to ``b[j]``."""
    cdef Py_ssize_t i, j, n = a.shape[0], m = b.shape[0]
    cdef double deg = M_PI / 180.0
    cdef double lat1, lon1, lat2, lon2, s1, s2, h
    with nogil:
        for i in range(n):
            lat1 = a[i, 0] * deg
            lon1 = a[i, 1] * deg
            for j in range(m):
                lat2 = b[j, 0] * deg
                lon2 = b[j, 1] * deg
                s1 = sin(0.5 * (lat2 - lat1))
                s2 = sin(0.5 * (lon2 - lon1))
                h = s1 * s1 + cos(lat1) * cos(lat2) * s2 * s2
                if h > 1.0:
                    h = 1.0
                out[i, j] = 2.0 * radius_km * asin(sqrt(h))
