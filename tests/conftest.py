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


@pytest.fixture(scope="session")
def pg_cluster():
    """A throw-away PostgreSQL cluster for the session (see tests/pgcluster.py); skips where none can run.

    On CI (``CI`` set) a missing server fails instead: .ci/run installs it.
    """
    from pgcluster import start

    cluster, why = start()
    if cluster is None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required on CI: {why}")
        pytest.skip(f"PostgreSQL not available: {why}")
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster, request):
    """SQLAlchemy URL of an empty database of its own for this test."""
    from pgcluster import fresh_database

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:50].lower()
    return fresh_database(pg_cluster, name)
