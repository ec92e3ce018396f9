"""Test-wide settings: hypothesis profiles and the shared reference data location."""
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs derandomised so a red build is reproducible; locally examples vary.
settings.register_profile("ci", derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` next to the project, or skip when it is absent (a user's fresh clone)."""
    if not SHARED.is_dir():
        pytest.skip(f"reference data not found at {SHARED} (only CI and developers have ../shared)")
    return SHARED
