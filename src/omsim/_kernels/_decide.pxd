# Declarations shared by _decide.pyx and whoever cimports it: the kernel's parameters as one typed
# struct, its return codes, the named slots of its control block and its fallback reasons. The .pyx
# exposes every code below to Python as a module-level int of the same name without the leading
# underscore (omsim.engine reads them from there: one place for the numbers).
from libc.stdint cimport int64_t

cdef struct Params:
    double split_penalty       # per package beyond the first
    double lost_sale_penalty   # per unit not allocated
    bint any_per_unit          # some service charges per unit
    bint node_capped           # some node has a daily order or unit capacity
    bint unit_capped           # some node has a daily unit capacity
    int64_t k_max              # packages per order at most, min(max_packages, nodes)
    int64_t max_packages       # the engine's max_packages (a service-day is full below this room)
    int64_t no_stock           # DECISION_STATUSES code of an order that ships nothing
    int64_t start_weekday      # weekday of day 0 (0 = Monday)
    bint stop_on_partial       # the run stops after a partial order (mode, set per run)
    bint probe_remainder       # probe a partial order's remainder as a dry run (mode, set per run)
    int64_t policy             # the caller's policy code, written to opol (mode, set per run)
    # OUT of a dry run when basis_svc is not NULL (Kernel.set_basis): what the decision was weighed against,
    # per node (service, closed) and per line and node (available to promise after closing), so that the
    # alternatives can be listed later from it (DecisionEngine.alternatives)
    int64_t* basis_svc         # (N,)
    char* basis_closed         # (N,)
    int64_t* basis_avail       # (basis_cap,) L x N, row-major
    Py_ssize_t basis_cap       # entries basis_avail holds

# Return codes of a run (ctl[_CTL_NEXT] is the order the kernel stopped at).
cdef enum:
    _DONE = 0            # every order up to ctl[_CTL_END] decided and committed
    _STOP_PARTIAL = 1    # stopped after a partial order (stop_on_partial)
    _NEW_DAY = 2         # order ctl[_CTL_NEXT] is on another day than ctl[_CTL_DAY]: load that day's node counters
    _STALE_WINDOWS = 3   # some node's cached shift windows are not valid at order ctl[_CTL_NEXT]'s time
    _FALLBACK = 4        # order ctl[_CTL_NEXT] must be decided and committed by the Python path
    _PROBE = 5           # order ctl[_CTL_NEXT] - 1 (committed, partial) needs its remainder probed by Python

# Slots of the control block ctl (int64, _CTL_SIZE entries), INOUT between the caller and a run.
cdef enum:
    _CTL_NEXT = 0        # next order to decide
    _CTL_END = 1         # end of the run (exclusive)
    _CTL_P = 2           # package rows written
    _CTL_PL = 3          # package-line rows written
    _CTL_DAY = 4         # the day whose node counters are bound
    _CTL_DAY_USED = 5    # OUT: the run committed against that day's counters
    _CTL_DAY0 = 6        # first day of the carrier window
    _CTL_WHY = 7         # OUT: why _FALLBACK (one of _WHY_*)
    _CTL_OROW = 8        # order i's row in the order outputs is ctl[_CTL_OROW] + i
    _CTL_LROW = 9        # row of the run's first line in ``unfilled``
    _CTL_LOGGED = 10     # (day, service) pairs logged in tlog
    _CTL_DRY = 11        # != 0: decide only (no stock, counter or carrier state changes)
    _CTL_SIZE = 12

# Why a run returned _FALLBACK (or _PROBE): ctl[_CTL_WHY].
cdef enum:
    _WHY_NO_HOURS = 1        # a node's shifts have no working hours
    _WHY_PICKUP_WINDOW = 2   # a pickup day outside the carrier window
    _WHY_SPLIT_RESOLVE = 3   # the split-penalty re-solve of an order that would ship nothing
    _WHY_COMMIT_REFUSED = 4  # the decision does not fit at commit

# Why units of a line are left unfilled (the decision's reason per line; omsim.engine.reasons names them and
# holds the Python path's same rule): the first that holds, in this order.
cdef enum:
    _UNFILLED_NONE = 0           # the line is filled
    _UNFILLED_NO_STOCK = 1       # no node has any of the SKU available to promise
    _UNFILLED_CANNOT_SHIP = 2    # only nodes that cannot ship this order now have it (no service, capacity taken)
    _UNFILLED_SHORT = 3          # every unit the nodes that can ship have is allocated: fewer than ordered
    _UNFILLED_PACKAGE_LIMIT = 4  # the rest is only at nodes the order does not use, and it has k_max packages
    _UNFILLED_COST = 5           # shipping the rest costs more than its lost-sale penalty
    _UNFILLED_HELD_BACK = 6      # (Python path, lookahead) as _COST, the stock's shadow price included
    _UNFILLED_BATCH_WINDOW = 7   # (Python path, batch) the rest is planned for the window's other orders

# Decision status codes the kernel writes itself (omsim.orders.DECISION_STATUSES order).
cdef enum:
    _ST_ALLOCATED = 0
    _ST_PARTIAL = 1

# Shared with the Python path (exposed as EPS, DELAY_RANK, MAX_PICKUP_DAYS).
cdef enum:
    _MAX_PICKUP_DAYS = 7     # service-days tried past the first pickup before a service counts as closed
