"""The compiled decision kernel's shared constants and its typed parameter block (_decide.pxd)."""
import numpy as np
import pytest

from omsim._kernels import _decide
from omsim.engine import constants
from omsim.orders import DECISION_STATUSES


def test_status_codes_the_kernel_writes_are_the_python_ones():
    assert DECISION_STATUSES[_decide.ST_ALLOCATED] == "allocated"
    assert DECISION_STATUSES[_decide.ST_PARTIAL] == "partial"
    assert constants._PARTIAL == _decide.ST_PARTIAL


def test_the_engine_reads_the_kernels_numbers():
    assert constants._MAX_PICKUP_DAYS == _decide.MAX_PICKUP_DAYS == 7
    assert constants._DELAY_RANK == _decide.DELAY_RANK


def test_control_block_slots_are_distinct_and_fit():
    slots = [getattr(_decide, n) for n in dir(_decide) if n.startswith("CTL_") and n != "CTL_SIZE"]
    assert sorted(slots) == list(range(_decide.CTL_SIZE))
    codes = [_decide.DONE, _decide.STOP_PARTIAL, _decide.NEW_DAY, _decide.STALE_WINDOWS, _decide.FALLBACK,
             _decide.PROBE]
    assert len(set(codes)) == len(codes)


def _static(params):
    f1, i1 = np.zeros(1), np.zeros(1, dtype=np.int64)
    f3, f2 = np.zeros((1, 1, 1)), np.zeros((1, 1))
    return (f1, f3, f3, f3, f1, f1, f2, f1, np.zeros(2, dtype=np.int64), i1, np.ones(1), f1, f1, f1, i1, i1, params,
            np.zeros(2, dtype=np.int64), f1, f1, i1)


def test_set_static_names_every_parameter():
    good = dict(split_penalty=1.0, lost_sale_penalty=2.0, any_per_unit=False, node_capped=False, unit_capped=False,
                k_max=1, max_packages=1, no_stock=2, start_weekday=0)
    _decide.Kernel().set_static(*_static(good))
    with pytest.raises(ValueError, match="parameters"):
        _decide.Kernel().set_static(*_static({**good, "split": 1.0}))
    with pytest.raises(ValueError, match="parameters"):
        _decide.Kernel().set_static(*_static({k: v for k, v in good.items() if k != "k_max"}))
