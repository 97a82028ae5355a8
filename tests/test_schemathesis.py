"""Property-based API test: schemathesis generates requests from /openapi.json; none may be a 500.

Examples are bounded per operation so the whole run stays well under a minute.  Write
endpoints are called without a key (their auth and validation paths), so random bodies are
never embedded; the live-ingest path is covered in test_api.py.  The operations are driven
with hypothesis directly because schemathesis' lazy pytest loader does not support pytest 9.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from storylines.serve.app import create_app

EXAMPLES_PER_OPERATION = 15


@pytest.mark.slow
def test_no_server_errors(sample_db: Path) -> None:
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(sample_db, api_key="schemathesis-key")
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9

    for operation in operations:
        _no_server_error(operation.as_strategy())


def _no_server_error(cases: st.SearchStrategy) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def check(case) -> None:
        case.call_and_validate(checks=[not_a_server_error])

    check()
