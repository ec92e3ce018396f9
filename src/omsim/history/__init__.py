"""Real order histories: reading them (:mod:`omsim.history.read`) and replaying them.

``read_history(path)`` gives one row per kept order line; ``load_history``
also gives the cancellation lines and a :class:`HistoryReadReport`. See
:mod:`omsim.history.read` for the file forms and the rules.
"""
from omsim.history.read import (NON_PRODUCT_CODES, NON_PRODUCT_PREFIXES, RULES, History,
                                HistoryReadReport, load_history, read_history)

__all__ = ["NON_PRODUCT_CODES", "NON_PRODUCT_PREFIXES", "RULES", "History", "HistoryReadReport",
           "load_history", "read_history"]
