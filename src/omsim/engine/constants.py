"""Constants and codes shared by the engine's modules."""
from __future__ import annotations


import numpy as np

from omsim._kernels import _decide
from omsim.orders import DECISION_STATUSES
from omsim.scenario import ALLOCATION_POLICIES, SERVICE_LEVELS


_I64 = np.dtype(np.int64)


_F64 = np.dtype(np.float64)


_LEVEL_RANK = {lv: i for i, lv in enumerate(SERVICE_LEVELS)}


_N_LEVELS = len(SERVICE_LEVELS)


_NO_STOCK_STATUS = {"backorder": "backorder", "hold": "hold", "cancel": "cancel"}


_STATUS_CODE = {s: i for i, s in enumerate(DECISION_STATUSES)}


_CANCEL = _STATUS_CODE["cancel"]


_PARTIAL = _STATUS_CODE["partial"]


# The lookahead's planning window when the scenario sets none and no node replenishes: a week of demand.
_LOOKAHEAD_WINDOW_H = 7 * 24.0


# How many days ahead a package may wait for carrier capacity before the node gives up on that service.
_MAX_PICKUP_DAYS = _decide.MAX_PICKUP_DAYS


# Added to a service's rank when capacity pushes it past its first pickup (ranks it after all on-time ones).
_DELAY_RANK = _decide.DELAY_RANK


# Lookahead: SKUs priced by the fluid LP (by expected demand) and its time limit.
_LP_MAX_SKUS = 2000


_LP_TIME_LIMIT_S = 60.0


# Batch: CP-SAT cost scale (1/1000 of the currency) and the unit cost of a node an order cannot use.
_BATCH_SCALE = 1000.0


_FORBIDDEN = 1e6


_UNLIMITED = np.iinfo(np.int64).max // 4


_POLICIES = ALLOCATION_POLICIES          # the store's policy codes (opol) index these


_POLICY_CODE = {p: i for i, p in enumerate(_POLICIES)}
