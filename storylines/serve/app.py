"""The REST API and the web page, one FastAPI app over one store.

Reads go through an in-memory :class:`~storylines.serve.catalog.Catalog` and a shared read
connection; writes (ingest) go through :class:`~storylines.serve.ingest.LiveIngest`, which owns
the only write connection.  Every write endpoint needs the API key in ``X-API-Key``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import threading
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from functools import cached_property
from pathlib import Path as FilePath
from pathlib import PurePath
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storylines.serve.catalog import Catalog, Filters, Period, Sort
from storylines.serve.feeds import ATOM, articles_feed, search_feed, storylines_feed
from storylines.serve.ingest import MAX_UPLOAD_UNPACKED, IngestBusy, LiveIngest, article_from_input
from storylines.serve.locked import LockedStore
from storylines.serve.models import (
    ArticleDetail,
    ArticleSummary,
    ComparisonOut,
    ErrorOut,
    IngestRequest,
    IngestResult,
    Page,
    SearchHitOut,
    SearchResponse,
    StorylineDetail,
    StorylineSummary,
    UpdatedOut,
)
from storylines.serve.search import MAX_QUERY_CHARS, HybridSearcher, SearchResult, server_query_embedder
from storylines.skips import one_line, printable

if TYPE_CHECKING:
    from storylines.engine import Engine

T = TypeVar("T")
STATIC = FilePath(__file__).with_name("static")
API_KEY_ENV = "STORYLINES_API_KEY"
DOCS_ASSETS = "/docs-assets"
DEFAULT_MAX_BODY = 10 * 1024 * 1024
MAX_PAGE = 100
MAX_FEED_ARTICLES = 200
SEARCH_CACHE = 4096  # remembered search results, all store versions together
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self';"
    " img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none';"
    " frame-ancestors 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}

ENCODED_SECURITY_HEADERS = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=10**9, description="Items to skip.")]
Lang = Annotated[str | None, Query(max_length=20, description="Language code, e.g. en, bg, zh.")]
HL = Annotated[str | None, Query(max_length=20, description="Reader's language: titles in it if any.")]
NOT_FOUND = {404: {"model": ErrorOut}}
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="Needed by every write endpoint."
)


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` (413) before a handler reads them into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            return await _too_large(send, self.max_bytes)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:  # chunked bodies declare no length
                raise HTTPException(413, f"request body over {self.max_bytes} bytes")
            return message

        await self.app(scope, counted, send)


class SecurityHeaders:
    """Adds the CSP and friends to every response (plain ASGI: no per-request task, unlike
    ``@app.middleware``)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                present = {name.lower() for name, _ in headers}  # /docs sets its own CSP
                added = [(name, value) for name, value in ENCODED_SECURITY_HEADERS if name not in present]
                message["headers"] = [*headers, *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    """422 for every malformed request, NaN, ±Infinity, 1e999999 and lone surrogates included.

    FastAPI's own handler echoes the offending input back, and JSON cannot encode those values:
    it answered 500.  Here only where (``loc``), what (``msg``) and the error type are returned.
    """
    detail = [
        {
            "loc": [part if isinstance(part, int) else printable(str(part)) for part in problem["loc"]],
            "msg": one_line(str(problem.get("msg", "invalid"))),
            "type": printable(str(problem.get("type", "value_error"))),
        }
        for problem in error.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


def _docs_page(openapi_url: str) -> HTMLResponse:
    """Swagger UI from the bundled assets (the page's CSP allows no CDN), its one inline script
    allowed by hash: the CSP is relaxed for this page only."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title="storylines API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
    )
    inline = re.findall(rb"<script>(.*?)</script>", page.body, re.DOTALL)
    digests = (base64.b64encode(hashlib.sha256(script).digest()).decode() for script in inline)
    hashes = " ".join(f"'sha256-{digest}'" for digest in digests)
    csp = SECURITY_HEADERS["content-security-policy"]
    csp = csp.replace("script-src 'self'", f"script-src 'self' {hashes}")
    csp = csp.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")  # Swagger UI styles inline
    return HTMLResponse(page.body, headers={"content-security-policy": csp})


async def _too_large(send: Send, max_bytes: int) -> None:
    body = json.dumps({"detail": f"request body over {max_bytes} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Recent(Generic[T]):
    """A bounded map that forgets its oldest entries first; keys carry the store version, so the
    entries of an older version simply age out."""

    def __init__(self, size: int):
        self.size = size
        self._items: dict[Hashable, T] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> T | None:
        return self._items.get(key)

    def put(self, key: Hashable, value: T) -> T:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.pop(next(iter(self._items)))
        return value


class Services:
    """What the endpoints share: a read connection, the catalog, and the engine (its own write
    connection, the vector index, the comparer), opened on first use (loading models is slow)."""

    def __init__(self, db: str, embedder: Any = None, comparer: Any = None):
        from storylines.store import open_store

        self.db = db
        self.store = LockedStore(open_store(db))
        self.catalog = Catalog(self.store)
        self.ingest = LiveIngest(lambda: self.engine, on_stored=lambda: self.catalog.refresh(force=True))
        self._embedder = embedder
        self._comparer = comparer
        self._engine: Engine | None = None
        self._opening = threading.Lock()
        self.search_results: Recent[SearchResult] = Recent(SEARCH_CACHE)
        self.search_bodies: Recent[bytes] = Recent(SEARCH_CACHE)  # JSON pages of those results

    @property
    def engine(self) -> Engine:
        from storylines.engine import Engine

        with self._opening:  # a search and an ingest arriving together open one engine
            if self._engine is None:
                self._engine = Engine.open(self.db, self._comparer)
            return self._engine

    def search(self, query: str, lang: str | None) -> SearchResult:
        """A search, remembered per store version: under load many readers ask the same few
        queries, and a remembered result costs no embedding and no SQL."""
        key = self.search_key(query, lang)
        found = self.search_results.get(key)
        if found is None:
            found = self.search_results.put(key, self.searcher.search(key[1], lang=key[2]))
        return found

    async def search_async(self, query: str, lang: str | None) -> SearchResult:
        """:meth:`search` from the event loop: a remembered result directly, a new one in a thread."""
        found = self.search_results.get(self.search_key(query, lang))
        return found or await run_in_threadpool(self.search, query, lang)

    def search_key(self, query: str, lang: str | None) -> tuple[str, str, str | None]:
        return self.catalog.version, query.strip(), (lang or "").casefold() or None

    @cached_property
    def searcher(self) -> HybridSearcher:
        """The comparer's model (same vectors), run as suits queries (see ``server_query_embedder``)."""
        embedder = self._embedder or server_query_embedder(self.engine.comparer.query_embedder)
        return HybridSearcher(self.store, embedder, self.engine.index)

    @property
    def comparer(self) -> Any:
        return self.engine.comparer

    def close(self) -> None:
        """Snapshot the vector index (where it is a cache) and close both connections."""
        if self._engine is not None:
            self._engine.close()
        self.store.close()


def require_key(request: Request, given: Annotated[str | None, Security(API_KEY_HEADER)]) -> None:
    """403 when the server has no key (writes off), 401 when the caller's key is missing or wrong."""
    key = request.app.state.api_key
    if key is None:
        raise HTTPException(403, f"writes are disabled: start the server with an API key (${API_KEY_ENV})")
    if given is None or not secrets.compare_digest(given.encode(), key.encode()):
        raise HTTPException(401, "missing or wrong X-API-Key")


def _plain(value: Any) -> Any:
    """Evidence as plain JSON: numpy scalars and arrays become numbers and lists."""
    return json.loads(json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


def _article_hit(hit: Any) -> SearchHitOut:
    return SearchHitOut(
        kind="article",
        id=hit.article_id,
        title=hit.title,
        snippet=hit.snippet,
        lang=hit.lang,
        storyline_id=hit.storyline_id,
        score=hit.score,
        relevance=hit.relevance,
        matched_by=hit.matched_by,
        day=hit.day,
    )


def _search_response(
    query: str, result: SearchResult, catalog: Catalog, limit: int, offset: int
) -> SearchResponse:
    storylines = []
    for group in result.storylines[:limit]:
        summary = catalog.summary(group.storyline_id)
        storylines.append(
            SearchHitOut(
                kind="storyline",
                id=str(group.storyline_id),
                title=summary.title if summary else group.title,
                lang=None,
                storyline_id=group.storyline_id,
                score=group.score,
                relevance=group.relevance,
                matched_by=group.matched_by,
                snippet=f"{len(group.article_ids)} matching articles",
            )
        )
    page = [_article_hit(hit) for hit in result.articles[offset : offset + limit]]
    return SearchResponse(
        query=query,
        storylines=storylines,
        articles=Page(items=page, total=len(result.articles), limit=limit, offset=offset),
    )


def create_app(
    db: str | FilePath,
    api_key: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    embedder: Any = None,
    comparer: Any = None,
) -> FastAPI:
    """The API and page over the store ``db`` (a SQLite file or a ``postgresql://`` URL); writes
    need ``api_key`` (or $STORYLINES_API_KEY).

    With no key configured the write endpoints answer 403: an open ingest endpoint would let
    anyone fill the store.  ``embedder`` replaces the query embedder (default: the comparer's),
    ``comparer`` the engine's comparer (default: the product's, or $STORYLINES_COMPARER).
    """
    services = Services(str(db), embedder, comparer)
    import swagger_ui_bundle

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    app = FastAPI(
        lifespan=lifespan,
        title="storylines",
        version="0.1.0",
        description="Which news reports tell the same story, in any language.",
        docs_url=None,
    )
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")
    docs_page = _docs_page(app.openapi_url or "/openapi.json")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return docs_page

    app.state.services = services
    app.state.api_key = api_key or os.environ.get(API_KEY_ENV) or None  # empty = no key
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

    app.add_middleware(SecurityHeaders)

    def run_ingest(items: list[Any]) -> IngestResult:
        try:
            return services.ingest.ingest(items)
        except IngestBusy as busy:
            raise HTTPException(503, str(busy), headers={"Retry-After": "5"}) from busy

    write_errors: dict[int | str, dict[str, Any]] = {
        401: {"model": ErrorOut},
        403: {"model": ErrorOut},
        413: {"model": ErrorOut},
        503: {"model": ErrorOut},
    }

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # The three reads below are served from the in-memory catalog: async, so that they skip the
    # thread pool and are answered in arrival order (the catalog checks the store in a thread).
    # List and detail return the catalog's cached JSON bytes (rendered once per store version from
    # the same pydantic models), so a hit skips validation and serialisation; ``response_model``
    # still documents them in the OpenAPI schema.
    @app.get("/api/updated", response_model=UpdatedOut, summary="What the page polls for changes")
    async def updated() -> UpdatedOut:
        version, counts = services.catalog.version, services.catalog.counts
        return UpdatedOut(version=version, articles=counts.articles, storylines=counts.storylines)

    @app.get("/api/storylines", response_model=Page[StorylineSummary], summary="List and filter storylines")
    async def storylines(
        limit: Limit = 20,
        offset: Offset = 0,
        lang: Lang = None,
        entity: Annotated[str | None, Query(max_length=200, description="Entity id or name.")] = None,
        place: Annotated[str | None, Query(max_length=200, description="Place id or name.")] = None,
        since: Annotated[
            str | None, Query(max_length=10, description="ISO day: span ends on or after.")
        ] = None,
        until: Annotated[
            str | None, Query(max_length=10, description="ISO day: span starts on or before.")
        ] = None,
        period: Annotated[
            Period | None, Query(description="Reports in the last day, week or month before the newest.")
        ] = None,
        sort: Annotated[
            Sort, Query(description="hot: recency-weighted volume; size: most articles; recent: newest.")
        ] = "hot",
        hl: HL = None,
    ) -> Response:
        filters = Filters(
            lang=lang, entity=entity, place=place, since=since, until=until, period=period, sort=sort, hl=hl
        )
        return _json(services.catalog.storylines_json(filters, limit, offset))

    @app.get(
        "/api/storylines/{storyline_id}",
        response_model=StorylineDetail,
        responses=NOT_FOUND,
        summary="One storyline with its events and entities",
    )
    async def storyline(storyline_id: int, hl: HL = None) -> Response:
        found = services.catalog.storyline_json(storyline_id, hl)
        if found is None:
            raise HTTPException(404, f"no storyline {storyline_id}")
        return _json(found)

    @app.get(
        "/api/storylines/{storyline_id}/articles",
        response_model=Page[ArticleSummary],
        responses=NOT_FOUND,
        summary="Articles of one storyline, in timeline order",
    )
    def storyline_articles(
        storyline_id: int, limit: Limit = 20, offset: Offset = 0, lang: Lang = None
    ) -> Page[ArticleSummary]:
        found = services.catalog.storyline_articles(storyline_id, lang, limit, offset)
        if found is None:
            raise HTTPException(404, f"no storyline {storyline_id}")
        return Page(items=found[0], total=found[1], limit=limit, offset=offset)

    @app.get(
        "/api/articles/{article_id}",
        response_model=ArticleDetail,
        responses=NOT_FOUND,
        summary="One article: original and clean text, removed boilerplate, entities",
    )
    def article(article_id: Annotated[str, Path(max_length=64)]) -> ArticleDetail:
        found = services.catalog.article(article_id)
        if found is None:
            raise HTTPException(404, f"no article {article_id}")
        return found

    @app.get("/api/search", response_model=SearchResponse, summary="Hybrid keyword + cross-lingual search")
    async def search(
        q: Annotated[
            str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="Words in any language.")
        ],
        lang: Lang = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Response:
        """Relevant articles and storylines only: nonsense or an absent topic gives empty lists.
        A repeated query is answered from remembered JSON, without leaving the event loop."""
        key = (*services.search_key(q, lang), limit, offset)
        body = services.search_bodies.get(key)
        if body is None:
            result = await services.search_async(q, lang)
            page = _search_response(q, result, services.catalog, limit, offset)
            body = services.search_bodies.put(key, page.model_dump_json().encode())
        return _json(body)

    def atom(body: bytes) -> Response:
        return Response(content=body, media_type=ATOM)

    @app.get("/feeds/storylines.atom", summary="Atom feed of the front page", response_class=Response)
    async def front_page_feed(
        request: Request,
        lang: Lang = None,
        entity: Annotated[str | None, Query(max_length=200)] = None,
        place: Annotated[str | None, Query(max_length=200)] = None,
        period: Annotated[Period | None, Query()] = None,
        sort: Annotated[Sort, Query()] = "hot",
    ) -> Response:
        filters = Filters(lang=lang, entity=entity, place=place, period=period, sort=sort)
        stories, _ = services.catalog.storylines(filters, MAX_PAGE, 0)
        return atom(storylines_feed(_base(request), str(request.url), stories))

    @app.get(
        "/feeds/storylines/{storyline_id}.atom",
        summary="Atom feed of one storyline: its articles",
        response_class=Response,
        responses=NOT_FOUND,
    )
    def storyline_feed(request: Request, storyline_id: int) -> Response:
        story = services.catalog.summary(storyline_id)
        found = services.catalog.storyline_articles(storyline_id, None, MAX_FEED_ARTICLES, 0)
        if story is None or found is None:
            raise HTTPException(404, f"no storyline {storyline_id}")
        base = _base(request)
        page = f"{base}/#/storyline/{storyline_id}"
        return atom(articles_feed(base, str(request.url), story.title or "(untitled)", page, found[0]))

    @app.get("/feeds/search.atom", summary="Atom feed of a saved search", response_class=Response)
    async def search_feed_endpoint(
        request: Request,
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
        lang: Lang = None,
    ) -> Response:
        result = await services.search_async(q, lang)
        hits = _search_response(q, result, services.catalog, MAX_PAGE, 0).articles.items
        return atom(search_feed(_base(request), str(request.url), q, hits))

    @app.get(
        "/api/compare",
        response_model=ComparisonOut,
        responses=NOT_FOUND,
        summary="Do two stored articles tell the same story?",
    )
    def compare(
        a: Annotated[str, Query(max_length=64)], b: Annotated[str, Query(max_length=64)]
    ) -> ComparisonOut:
        blobs = {
            side: services.store.get_representation(article_id) for side, article_id in (("a", a), ("b", b))
        }
        missing = [
            f"{side}: no article {article_id}"
            for (side, article_id) in (("a", a), ("b", b))
            if blobs[side] is None
        ]
        if missing:
            raise HTTPException(404, "; ".join(missing))
        comparer = services.comparer
        result = comparer.compare(*(comparer.representation_from_bytes(blobs[side]) for side in ("a", "b")))
        return ComparisonOut(
            a=a,
            b=b,
            overall=result.overall,
            dimensions=_plain(result.dimensions),
            same_story=result.same_story,
            near_duplicate=result.near_duplicate,
            evidence=_plain(result.evidence),
        )

    @app.post(
        "/api/articles",
        response_model=IngestResult,
        responses=write_errors,
        dependencies=[Depends(require_key)],
        summary="Ingest a JSON batch; clusters live",
    )
    def ingest_json(batch: IngestRequest) -> IngestResult:
        return run_ingest([article_from_input(item) for item in batch.articles])

    @app.post(
        "/api/upload",
        response_model=IngestResult,
        responses={**write_errors, 400: {"model": ErrorOut}},
        dependencies=[Depends(require_key)],
        summary="Ingest one file (txt, html, jsonl, csv, feed, warc)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def ingest_file(
        request: Request,
        filename: Annotated[str, Query(min_length=1, max_length=200, description="Tells the format.")],
    ) -> IngestResult:
        from storylines.ingest import read_bytes

        data = await request.body()  # parsed in memory: an upload never touches the disk
        if not data:
            raise HTTPException(400, "empty upload")
        name = PurePath(filename.replace("\\", "/")).name or "upload"
        items = read_bytes(data, name, max_unpacked=MAX_UPLOAD_UNPACKED)  # read lazily, batch by batch
        return await run_in_threadpool(lambda: run_ingest(items))

    return app
