"""Property-based run of the OpenAPI schema against the API in-process (bounded examples).

Every documented operation gets generated requests with a valid bearer token; responses must
not be 5xx and must match the documented status codes, content types and schemas.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from controlplane.wsgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", application)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def bearer(team_owner: Any, settings: Any) -> dict[str, str]:
    settings.STRATA_API_RATE_LIMIT = 100_000
    settings.STRATA_API_ANON_RATE_LIMIT = 100_000
    caller, team_id = team_owner
    caller.post(f"teams/{team_id}/create_project", {"projectName": "seed", "deploymentType": "dev"})
    return {"Authorization": f"Bearer {caller.token}"}


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: Any, bearer: dict[str, str]) -> None:
    case.call_and_validate(headers=bearer, checks=CHECKS)


def test_schema_documents_the_operations() -> None:
    raw = schema.raw_schema
    paths = set(raw["paths"])
    for expected in (
        "/v1/teams/{team_id}/create_project",
        "/v1/projects/{project_id}/create_deployment",
        "/v1/deployments/{name}/create_deploy_key",
        "/v1/deployments/{name}/delete_deploy_key",
        "/v1/token_details",
        "/v1/teams/{team_id}/invite_team_member",
        "/v1/usage/report",
    ):
        assert expected in paths, expected
    assert raw["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
