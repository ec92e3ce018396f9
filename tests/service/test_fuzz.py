"""API fuzzing: schemathesis against the server's own OpenAPI document: no 5xx, every response matches its schema."""
from __future__ import annotations

import uuid

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from service.server import ADMIN  # noqa: E402


@pytest.fixture(scope="module")
def api_schema(shared_server):
    s = schemathesis.openapi.from_url(shared_server.url + "/openapi.json")
    s.config.base_url = shared_server.url
    return s


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_responses_match_the_schema(case, shared_server):
    headers = {"Authorization": f"Bearer {ADMIN}", "Idempotency-Key": uuid.uuid4().hex}
    case.call_and_validate(base_url=shared_server.url, headers=headers,
                           checks=[not_a_server_error, response_schema_conformance])
