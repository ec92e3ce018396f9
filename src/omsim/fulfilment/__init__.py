from omsim.fulfilment.allocation import cheapest_assignment  # noqa: F401  (public API)
from omsim.fulfilment.inventory import InboundPO, Inventory  # noqa: F401  (public API)
from omsim.fulfilment.promise import Promise, next_cutoff_h, promise, promise_h, ready_time_h  # noqa: F401  (public API)
from omsim.fulfilment.carriers import CarrierBook, Quote, Service  # noqa: F401  (public API)
