from omsim.fulfilment.allocation import cheapest_assignment  # noqa: F401  (public API)
