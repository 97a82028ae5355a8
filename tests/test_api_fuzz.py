"""Hypothesis fuzz of the JSON bodies of the write endpoints, with the API key: never a 5xx.

schemathesis (test_schemathesis.py) calls the write endpoints without a key, so their bodies are
never parsed there; here every body reaches validation and, when valid, the live ingest (with the
cheap test comparer).  NaN, ±Infinity, 1e999999 and lone surrogates once gave 500s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storylines.serve.app import create_app
from tests.test_ingest_cli import DOUBLE

KEY = {"X-API-Key": "k", "content-type": "application/json"}
SPECIAL_NUMBERS = [b"NaN", b"Infinity", b"-Infinity", b"1e999999", b"-0", b"12345678901234567890123"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=30)  # lone surrogates too
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
)
field_names = st.sampled_from(["title", "text", "source", "url", "published", "lang", "extra"])
article = st.dictionaries(field_names, json_values, max_size=7)
bodies = json_values | st.fixed_dictionaries({"articles": st.lists(article, max_size=3) | json_values})


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORYLINES_COMPARER", DOUBLE)
        db = Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.db"
        with TestClient(create_app(db, api_key="k")) as test_client:
            yield test_client


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(body=bodies)
def test_any_json_body_gets_an_answer_below_500(client: TestClient, body: object) -> None:
    response = client.post("/api/articles", content=json.dumps(body).encode(), headers=KEY)
    assert response.status_code < 500, response.text
    assert response.status_code in (200, 422)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(number=st.sampled_from(SPECIAL_NUMBERS), field=field_names, raw=st.binary(max_size=40))
def test_special_numbers_and_raw_bytes_in_any_field(
    client: TestClient, number: bytes, field: str, raw: bytes
) -> None:
    for body in (
        b'{"articles": [{"text": "ok", "' + field.encode() + b'": ' + number + b"}]}",
        b'{"articles": [{"text": "' + raw + b'"}]}',
        number,
    ):
        assert client.post("/api/articles", content=body, headers=KEY).status_code in (200, 400, 422)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.binary(max_size=300), name=st.sampled_from(["a.txt", "a.jsonl", "a.json", "a.csv", "a.gz", "a"])
)
def test_any_upload_gets_an_answer_below_500(client: TestClient, data: bytes, name: str) -> None:
    response = client.post("/api/upload", params={"filename": name}, content=data, headers={"X-API-Key": "k"})
    assert response.status_code in (200, 400), response.text


def test_a_text_upload_over_the_article_limit_is_skipped_not_500(client: TestClient) -> None:
    body = b"Title\n\n" + b"Words of a long text. " * (9 * 2**20 // 22)
    response = client.post("/api/upload", params={"filename": "big.txt"}, content=body, headers=KEY)
    assert response.status_code == 200 and "8 MB limit" in response.json()["skipped"][0]["reason"]
