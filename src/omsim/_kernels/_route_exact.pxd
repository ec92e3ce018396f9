# cython: language_level=3
"""C-level entry to the exact routing DP (for kernels that route many candidate tours).

``_solve`` is the DP of ``_route_exact.pyx`` (``_solve_from`` can resume it
from a DP vector recorded by another tour, see its docstring); a caller fills a ``Geometry``
and ``DPTables`` once with ``_fill``, allocates a ``Scratch`` with ``_alloc``
(released with ``_release``) and calls ``_solve`` per tour without the GIL.
``_solve_pull`` is the same DP without back-pointers, each stage's transitions
read from a ``Pull`` (built once with ``_pull_build``): same lengths, bit for
bit, in about half the time; ``_solve_keys`` takes the picks as sorted keys
(``aisle * cells_per_aisle + cell``) and, resumed, looks only at the aisles it runs.
"""
from libc.stdint cimport int64_t


cdef struct Geometry:
    Py_ssize_t n_aisles
    Py_ssize_t blocks
    Py_ssize_t cells_per_aisle
    Py_ssize_t cells_per_block
    const double* cell_y
    const double* cross_y
    double pitch
    Py_ssize_t depot_aisle
    Py_ssize_t depot_cross
    double depot_offset


cdef struct DPTables:
    const int* vert_next   # (S, blocks, 6)
    const int* hv_ptr      # (S + 1,) valid cross-aisle combinations of state s: hv_ptr[s]:hv_ptr[s+1]
    const int* hv_combo    # combination index (0 = no cross-aisle edge)
    const int* hv_next     # next state
    const int* hv_mask     # junctions left with non-zero degree
    const int* hv_count    # cross-aisle edges in the combination
    Py_ssize_t n_states
    int done


cdef struct Scratch:
    int64_t* keys      # (max picks,)
    int* cnt           # (n_aisles * blocks,) picks per sub-aisle
    double* ymin       # (n_aisles * blocks,)
    double* ymax
    double* gap        # largest gap between adjacent picks of the sub-aisle
    double* cur        # (S,)
    double* nxt        # (S,)


cdef double _solve(const int64_t* aisle, const int64_t* cell, Py_ssize_t n,
                   const Geometry* g, const DPTables* t, Scratch* w,
                   int* bp_prev, int* bp_choice, Py_ssize_t* lo_out) noexcept nogil

cdef double _solve_from(const int64_t* aisle, const int64_t* cell, Py_ssize_t n,
                        const Geometry* g, const DPTables* t, Scratch* w,
                        int* bp_prev, int* bp_choice, Py_ssize_t* lo_out, Py_ssize_t* hi_out,
                        Py_ssize_t start, const double* start_vec, double* record) noexcept nogil

cdef int _alloc(Scratch* w, Py_ssize_t max_n, Py_ssize_t n_sub, Py_ssize_t S) noexcept nogil

cdef void _release(Scratch* w) noexcept nogil

cdef void _fill(Geometry* g, DPTables* t, Py_ssize_t n_aisles, Py_ssize_t blocks,
                const double[::1] cell_y, const double[::1] cross_y, double pitch,
                Py_ssize_t depot_aisle, Py_ssize_t depot_cross, double depot_offset,
                const int[:, :, ::1] vert_next, const int[::1] hv_ptr, const int[::1] hv_combo,
                const int[::1] hv_next, const int[::1] hv_mask, const int[::1] hv_count, int done)


cdef struct Pull:
    # The DP's transitions grouped by their target state, one list per kind of stage, without
    # the configurations a stage cannot take: the vertical stage of block b whose sub-aisle is
    # empty / holds one pick / holds >= 2 picks is list 3 * b + (0 / 1 / 2); the cross-aisle
    # stage of a usual aisle / the last aisle / the depot's aisle / both is list 3 * blocks + (0 / 1 / 2 / 3).
    int* ptr        # (lists, S + 1) transitions into state d of list l: ptr[l * (S + 1) + d] .. [.. + d + 1]
    int* src        # (E,) source state
    int* kind       # (E,) vertical configuration (vertical lists; 0 in cross-aisle lists)
    double* cost    # (E,) cross-aisle travel, hv_count * pitch (cross-aisle lists; 0 in vertical lists)


cdef int _pull_build(Pull* p, const Geometry* g, const DPTables* t) noexcept nogil

cdef void _pull_release(Pull* p) noexcept nogil

cdef double _solve_pull(const int64_t* aisle, const int64_t* cell, Py_ssize_t n,
                        const Geometry* g, const DPTables* t, const Pull* p, Scratch* w,
                        Py_ssize_t* lo_out, Py_ssize_t* hi_out,
                        Py_ssize_t start, const double* start_vec, double* record) noexcept nogil

cdef double _solve_keys(const int64_t* keys, Py_ssize_t n, const Geometry* g, const DPTables* t, const Pull* p,
                        Scratch* w, Py_ssize_t* lo_out, Py_ssize_t* hi_out,
                        Py_ssize_t start, const double* start_vec, double* record) noexcept nogil

cdef void _sort_keys(int64_t* keys, Py_ssize_t n) noexcept nogil
