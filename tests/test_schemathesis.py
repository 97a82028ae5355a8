"""Property-based API test: schemathesis generates requests from /openapi.json; none may be a 500.

Examples are bounded per operation so the whole run stays well under a minute.  Write
endpoints are called without a key (their auth and validation paths), so random bodies are
never embedded; the live-ingest path is covered in test_api.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from storylines.serve.app import create_app
from tests.test_api_fixtures import sample_db

__all__ = ["sample_db"]


@pytest.fixture
def api_schema(sample_db: Path):
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(sample_db, api_key="schemathesis-key"))


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
