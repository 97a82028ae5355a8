"""REST API over the four samples ingested for real: reads, search, compare, writes, limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from storylines.serve.app import create_app
from tests.conftest import API_KEY, XSS_TEXT, XSS_TITLE

KEY = {"X-API-Key": API_KEY}


def _seed_storyline(client: TestClient) -> dict:
    page = client.get("/api/storylines").json()
    return max(page["items"], key=lambda story: story["article_count"])


def test_storylines_list_holds_every_sample_with_totals(client: TestClient) -> None:
    page = client.get("/api/storylines", params={"limit": 100}).json()
    assert page["limit"] == 100 and page["offset"] == 0
    assert page["total"] == len(page["items"]) >= 1
    assert sum(story["article_count"] for story in page["items"]) == 4
    story = _seed_storyline(client)
    assert {"en", "bg"} <= set(story["languages"])
    assert story["title"] and story["source_count"] >= 1 and story["top_entities"]


def test_storylines_pagination_and_bounds(client: TestClient) -> None:
    total = client.get("/api/storylines").json()["total"]
    assert client.get("/api/storylines", params={"offset": total}).json()["items"] == []
    assert client.get("/api/storylines", params={"limit": 0}).status_code == 422
    assert client.get("/api/storylines", params={"limit": 101}).status_code == 422
    assert client.get("/api/storylines", params={"offset": -1}).status_code == 422


def test_storylines_filters(client: TestClient) -> None:
    story = _seed_storyline(client)
    entity = story["top_entities"][0]

    def ids(**params: str) -> set[int]:
        return {s["id"] for s in client.get("/api/storylines", params=params).json()["items"]}

    assert story["id"] in ids(lang="bg")
    assert ids(lang="xx") == set()
    assert story["id"] in ids(entity=entity["id"]) and story["id"] in ids(entity=entity["name"].upper())
    assert ids(entity="nobody-at-all") == set()
    if story["places"]:
        assert story["id"] in ids(place=story["places"][0]["name"])
    assert ids(since="2099-01-01") == set()
    if story["start"] and not story["start"].startswith("--"):
        assert story["id"] in ids(since=story["start"], until=story["start"])


def test_storyline_detail_and_articles(client: TestClient) -> None:
    story = _seed_storyline(client)
    detail = client.get(f"/api/storylines/{story['id']}").json()
    assert sum(event["article_count"] for event in detail["events"]) == story["article_count"]
    assert detail["entities"] and detail["volume"] is not None
    page = client.get(f"/api/storylines/{story['id']}/articles", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["total"] == story["article_count"]
    bulgarian = client.get(f"/api/storylines/{story['id']}/articles", params={"lang": "bg"}).json()
    assert [article["lang"] for article in bulgarian["items"]] == ["bg"]


def test_unknown_ids_are_404_and_bad_ids_422(client: TestClient) -> None:
    assert client.get("/api/storylines/999999").status_code == 404
    assert client.get("/api/storylines/999999/articles").status_code == 404
    assert client.get("/api/storylines/not-a-number").status_code == 422
    assert client.get("/api/articles/0000000000000000").status_code == 404


def test_article_detail_has_clean_and_removed_text(client: TestClient) -> None:
    story = _seed_storyline(client)
    items = client.get(f"/api/storylines/{story['id']}/articles", params={"lang": "bg"}).json()["items"]
    article = client.get(f"/api/articles/{items[0]['id']}").json()
    assert article["raw_text"] and article["text"] and len(article["text"]) < len(article["raw_text"])
    assert article["removed"], "seed 001 carries a sidebar of unrelated headlines"
    assert any(entity["id"] for entity in article["entities"])


def test_bulgarian_query_finds_english_reports(client: TestClient) -> None:
    result = client.get("/api/search", params={"q": "Путин Обама Сирия"}).json()
    english = [hit for hit in result["articles"]["items"] if hit["lang"] == "en"]
    assert english and all("vector" in hit["matched_by"] for hit in english)
    assert result["storylines"][0]["id"] == str(_seed_storyline(client)["id"])
    only_bg = client.get("/api/search", params={"q": "Путин Обама Сирия", "lang": "bg"}).json()
    assert {hit["lang"] for hit in only_bg["articles"]["items"]} == {"bg"}


@pytest.mark.parametrize(
    "query", ['"', "NEAR(a b", "*", "a AND OR NOT", "title:x", "'; DROP TABLE articles; --"]
)
def test_search_survives_query_syntax(client: TestClient, query: str) -> None:
    assert client.get("/api/search", params={"q": query}).status_code == 200


def test_search_bounds(client: TestClient) -> None:
    assert client.get("/api/search").status_code == 422
    assert client.get("/api/search", params={"q": ""}).status_code == 422
    assert client.get("/api/search", params={"q": "x" * 501}).status_code == 422


def test_compare_two_stored_articles(client: TestClient) -> None:
    story = _seed_storyline(client)
    items = client.get(f"/api/storylines/{story['id']}/articles").json()["items"]
    result = client.get("/api/compare", params={"a": items[0]["id"], "b": items[1]["id"]}).json()
    assert 1.0 <= result["overall"] <= 4.0
    assert set(result["dimensions"]) >= {"geography", "entities", "time", "narrative"}
    missing = client.get("/api/compare", params={"a": items[0]["id"], "b": "nope"})
    assert missing.status_code == 404 and "b: no article nope" in missing.json()["detail"]


def test_page_loads_nothing_external(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text
    script = client.get("/static/app.js").text
    for html_sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert html_sink not in script
    assert client.get("/openapi.json").json()["info"]["title"] == "storylines"


def test_writes_need_the_key(sample_db: Path) -> None:
    batch = {"articles": [{"title": "t", "text": "body"}]}
    with TestClient(create_app(sample_db, api_key=API_KEY)) as keyed:
        assert keyed.post("/api/articles", json=batch).status_code == 401
        assert keyed.post("/api/articles", json=batch, headers={"X-API-Key": "wrong"}).status_code == 401
        assert keyed.post("/api/upload", params={"filename": "a.txt"}, content=b"x").status_code == 401
    with TestClient(create_app(sample_db)) as keyless:
        assert keyless.post("/api/articles", json=batch, headers=KEY).status_code == 403


def test_key_from_environment(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYLINES_API_KEY", "from-env")
    with TestClient(create_app(sample_db)) as test_client:
        response = test_client.post("/api/articles", json={"articles": []}, headers={"X-API-Key": "from-env"})
    assert response.status_code == 422  # past the key check, stopped by validation


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"articles": []}',
        b'{"articles": [{"title": "no text"}]}',
        b'{"articles": "x"}',
        json.dumps({"articles": [{"text": "x"}] * 101}).encode(),
    ],
)
def test_bad_batches_are_4xx(client: TestClient, body: bytes) -> None:
    response = client.post("/api/articles", content=body, headers={**KEY, "content-type": "application/json"})
    assert 400 <= response.status_code < 500


def test_request_size_limit(sample_db: Path) -> None:
    with TestClient(create_app(sample_db, api_key=API_KEY, max_body_bytes=1000)) as small:
        response = small.post("/api/upload", params={"filename": "a.txt"}, content=b"x" * 1001, headers=KEY)
        assert response.status_code == 413

        def chunks():  # no Content-Length: the limit must hold while streaming too
            for _ in range(5):
                yield b"y" * 400

        response = small.post("/api/upload", params={"filename": "a.txt"}, content=chunks(), headers=KEY)
        assert response.status_code == 413


def test_busy_ingest_is_503(writable_db: Path) -> None:
    app = create_app(writable_db, api_key=API_KEY)
    with TestClient(app) as test_client, app.state.services.ingest.reserved():
        response = test_client.post("/api/articles", json={"articles": [{"text": "x"}]}, headers=KEY)
    assert response.status_code == 503 and response.headers["retry-after"]


def test_ingest_json_and_upload_cluster_live_and_keep_payloads_verbatim(writable_db: Path) -> None:
    app = create_app(writable_db, api_key=API_KEY)
    with TestClient(app) as test_client:
        before = test_client.get("/api/updated").json()
        batch = {"articles": [{"title": XSS_TITLE, "text": XSS_TEXT, "source": "x.test", "lang": "en"}]}
        stored = test_client.post("/api/articles", json=batch, headers=KEY).json()["stored"]
        assert len(stored) == 1 and stored[0]["storyline_id"] is not None
        again = test_client.post("/api/articles", json=batch, headers=KEY).json()
        assert again["already_stored"] == [stored[0]["article_id"]] and again["stored"] == []

        article = test_client.get(f"/api/articles/{stored[0]['article_id']}").json()
        assert article["title"] == XSS_TITLE and XSS_TEXT in article["raw_text"]
        hits = test_client.get("/api/search", params={"q": "onerror pwned"}).json()["articles"]["items"]
        assert any(hit["title"] == XSS_TITLE for hit in hits)

        upload = (  # long enough to be a report, not an empty shell that no storyline lists
            "Syria ceasefire talks\n\nRussia and the United States discussed a ceasefire in Syria on "
            "Monday. Diplomats in Geneva said both sides agreed to coordinate strikes against the "
            "Islamic State and to open corridors for aid convoys to Aleppo within the week.\n"
        )
        uploaded = test_client.post(
            "/api/upload", params={"filename": "../../evil/../up.txt"}, content=upload.encode(), headers=KEY
        ).json()
        assert len(uploaded["stored"]) == 1
        after = test_client.get("/api/updated").json()
        assert after["articles"] == before["articles"] + 2 and after["version"] != before["version"]
        listed = test_client.get("/api/storylines", params={"limit": 100}).json()["items"]
        assert sum(story["article_count"] for story in listed) == after["articles"]
    written = {path.name for path in writable_db.parent.iterdir()}
    assert written <= {
        "samples.db",
        "samples.db-wal",
        "samples.db-shm",
        "samples.db.faiss",
        "samples.db.faiss.lock",
    }
    assert not (writable_db.parent.parent / "evil").exists()


def test_unreadable_upload_is_skipped_not_500(writable_db: Path) -> None:
    with TestClient(create_app(writable_db, api_key=API_KEY)) as test_client:
        response = test_client.post(
            "/api/upload", params={"filename": "x.bin"}, content=b"\x00\xff" * 50, headers=KEY
        )
    assert response.status_code == 200
    assert response.json()["stored"] == [] and response.json()["skipped"]


def test_cached_reads_repeat_and_a_write_invalidates_them(writable_db: Path) -> None:
    app = create_app(writable_db, api_key=API_KEY)
    with TestClient(app) as test_client:
        listing = test_client.get("/api/storylines", params={"limit": 100})
        assert listing.headers["content-type"] == "application/json"
        assert test_client.get("/api/storylines", params={"limit": 100}).content == listing.content
        story_id = _seed_storyline(test_client)["id"]
        detail = test_client.get(f"/api/storylines/{story_id}").content
        assert test_client.get(f"/api/storylines/{story_id}").content == detail
        assert json.loads(detail)["events"]

        text = "A new report on a new story: " + "the council met on Tuesday and voted on the budget. " * 4
        batch = {"articles": [{"title": "Cache test", "text": text, "lang": "en"}]}
        assert test_client.post("/api/articles", json=batch, headers=KEY).json()["stored"]
        relisted = test_client.get("/api/storylines", params={"limit": 100})
        assert relisted.content != listing.content
        assert sum(story["article_count"] for story in relisted.json()["items"]) == 5


def test_search_says_nothing_for_nonsense(client: TestClient) -> None:
    found = client.get("/api/search", params={"q": "xqzvbnmqq"}).json()
    assert found["articles"]["total"] == 0 and found["articles"]["items"] == [] and found["storylines"] == []


@pytest.mark.parametrize("query", ["Putin Syria", "Путин Сирия", "普京 叙利亚"])
def test_seed_storyline_comes_first_in_any_script(client: TestClient, query: str) -> None:
    found = client.get("/api/search", params={"q": query}).json()
    assert found["storylines"][0]["storyline_id"] == _seed_storyline(client)["id"]
    relevance = [hit["relevance"] for hit in found["articles"]["items"]]
    assert relevance[0] == 1.0 and all(0 < value <= 1 for value in relevance)


@pytest.mark.parametrize(
    "params",
    [{"entity": "Путин"}, {"entity": "普京"}, {"entity": "PUTIN"}, {"place": "Сирия"}, {"place": "Сирии"},
     {"lang": "BG"}],
)  # fmt: skip
def test_filters_take_any_script_inflection_and_case(client: TestClient, params: dict[str, str]) -> None:
    ids = {story["id"] for story in client.get("/api/storylines", params=params).json()["items"]}
    assert _seed_storyline(client)["id"] in ids, params


def test_ranking_and_period_parameters(client: TestClient) -> None:
    for sort in ("hot", "size", "recent"):
        assert client.get("/api/storylines", params={"sort": sort}).json()["total"] >= 1
    assert client.get("/api/storylines", params={"period": "week"}).json()["total"] >= 1
    assert client.get("/api/storylines", params={"sort": "loudest"}).status_code == 422
    assert client.get("/api/storylines", params={"period": "decade"}).status_code == 422


def test_titles_in_the_readers_language_when_a_member_has_one(client: TestClient) -> None:
    story = _seed_storyline(client)
    bulgarian = client.get(f"/api/storylines/{story['id']}", params={"hl": "bg"}).json()
    assert bulgarian["title_lang"] == "bg" and "Путин" in bulgarian["title"]
    assert client.get(f"/api/storylines/{story['id']}", params={"hl": "en"}).json()["title_lang"] == "en"


def test_non_articles_are_stored_flagged_and_never_listed_or_found(writable_db: Path) -> None:
    block = (
        "We are sorry, but we recorded a huge amount of connections from the IP address you are connecting "
        'from. If you want to connect with us, select "I AM NOT A ROBOT". Your IP address: 207.241.233.113'
    )
    with TestClient(create_app(writable_db, api_key=API_KEY)) as test_client:
        before = test_client.get("/api/storylines", params={"limit": 100}).json()["total"]
        stored = test_client.post(
            "/api/articles", json={"articles": [{"title": "Blocked", "text": block}]}, headers=KEY
        ).json()["stored"]
        article = test_client.get(f"/api/articles/{stored[0]['article_id']}").json()
        assert article["not_article"].startswith("block page")
        test_client.app.state.services.catalog.refresh(force=True)
        assert test_client.get("/api/storylines", params={"limit": 100}).json()["total"] == before
        found = test_client.get("/api/search", params={"q": "connections robot"}).json()
        assert found["articles"]["total"] == 0


def test_feeds_are_valid_atom_even_for_control_characters(client: TestClient) -> None:
    import feedparser

    story = _seed_storyline(client)
    for path, params in [
        ("/feeds/storylines.atom", {"entity": "Putin"}),
        (f"/feeds/storylines/{story['id']}.atom", {}),
        ("/feeds/search.atom", {"q": "Putin\x0bSyria\x01"}),
    ]:
        response = client.get(path, params=params)
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom")
        feed = feedparser.parse(response.content)
        assert not feed.bozo and feed.entries, path


def test_posts_neither_re_enrich_stored_articles_nor_rewrite_the_vector_index(writable_db: Path) -> None:
    index_file = writable_db.parent / f"{writable_db.name}.faiss"
    saved = index_file.stat().st_mtime_ns
    app = create_app(writable_db, api_key=API_KEY)
    report = {"title": "Index test", "text": "A report on a harbour strike in Gdansk.", "lang": "en"}
    batch = {"articles": [report]}
    with TestClient(app) as test_client:
        assert test_client.post("/api/articles", json=batch, headers=KEY).json()["stored"]
        service = app.state.services.ingest._service
        enriched: list[str] = []
        pipeline = service.pipeline
        service.pipeline = lambda article: enriched.append(article.id) or pipeline(article)
        assert test_client.post("/api/articles", json=batch, headers=KEY).json()["already_stored"]
        assert enriched == [] and index_file.stat().st_mtime_ns == saved
    assert index_file.stat().st_mtime_ns != saved  # snapshotted once, on shutdown
