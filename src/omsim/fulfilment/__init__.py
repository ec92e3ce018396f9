from omsim.fulfilment.allocation import cheapest_assignment  # noqa: F401  (public API)
from omsim.fulfilment.inventory import InboundPO, Inventory  # noqa: F401  (public API)
