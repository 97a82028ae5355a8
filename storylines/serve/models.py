"""Pydantic shapes of the REST API: the OpenAPI schema and the web page both rest on them."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

ItemT = TypeVar("ItemT")

# Bounds that keep one request cheap and one stored article sane.
MAX_TITLE_CHARS = 2_000
MAX_TEXT_CHARS = 200_000
MAX_BATCH_ARTICLES = 100


class Page(BaseModel, Generic[ItemT]):
    """One page of a longer list; ``total`` counts every match, not just this page."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int


class EntityOut(BaseModel):
    id: str
    name: str
    type: str
    count: int = 1


class VolumePoint(BaseModel):
    """Articles published on one day: one bar of the storyline's volume chart."""

    day: str
    count: int


class ArticleSummary(BaseModel):
    id: str
    title: str
    source: str = Field(description="Where the engine read it: a URL, a file and line, or 'api'.")
    outlet: str = Field("", description="The publisher: the URL's host, else the input's name.")
    url: str | None = None
    lang: str | None = None
    page_languages: list[str] = Field(default_factory=list, description="Every language the page holds.")
    published: str | None = None
    day: str | None = None
    event_id: int | None = None
    storyline_id: int | None = None
    duplicate_of: str | None = None
    not_article: str | None = Field(None, description="Why ingest flagged this page as no report.")


class LanguageSpanOut(BaseModel):
    lang: str
    start: int
    end: int


class EventDateOut(BaseModel):
    date: str
    text: str
    source: str


class ArticleDetail(ArticleSummary):
    """Everything the engine knows about one article, original and cleaned text included."""

    raw_text: str
    text: str
    removed: list[str]
    languages: list[LanguageSpanOut]
    published_source: str | None = None
    event_dates: list[EventDateOut]
    entities: list[EntityOut]


class StorylineSummary(BaseModel):
    id: int
    title: str
    title_lang: str | None = None
    languages: list[str]
    article_count: int
    source_count: int
    event_count: int
    start: str | None = None
    end: str | None = None
    top_entities: list[EntityOut]
    places: list[EntityOut]
    volume: list[VolumePoint]


class EventOut(BaseModel):
    id: int
    title: str
    start: str | None = None
    end: str | None = None
    languages: list[str]
    article_count: int


class StorylineDetail(StorylineSummary):
    events: list[EventOut]
    entities: list[EntityOut]


class SearchHitOut(BaseModel):
    """One fused search result; ``matched_by`` says which retrievers found it."""

    kind: Literal["article", "storyline"]
    id: str
    title: str
    snippet: str = ""
    lang: str | None = None
    storyline_id: int | None = None
    score: float
    relevance: float = Field(0.0, description="0–1: how closely it matches the query (best hit 1).")
    day: str | None = Field(None, description="The article's day (ISO, or --MM-DD without a year).")
    matched_by: list[Literal["keyword", "vector"]]


class SearchResponse(BaseModel):
    query: str
    articles: Page[SearchHitOut]
    storylines: list[SearchHitOut]


class ComparisonOut(BaseModel):
    """SemEval-2022 Task 8 scale: 1 = same story … 4 = unrelated."""

    a: str
    b: str
    overall: float
    dimensions: dict[str, float]
    same_story: bool
    near_duplicate: bool
    evidence: dict[str, Any]


class ArticleIn(BaseModel):
    """One article posted to the ingest endpoint."""

    title: str = Field("", max_length=MAX_TITLE_CHARS)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    source: str = Field("api", min_length=1, max_length=500)
    url: str | None = Field(None, max_length=2_000)
    published: str | None = Field(None, max_length=100)
    lang: str | None = Field(None, max_length=20)


class IngestRequest(BaseModel):
    articles: list[ArticleIn] = Field(min_length=1, max_length=MAX_BATCH_ARTICLES)


class SkippedOut(BaseModel):
    source: str
    reason: str


class AssignmentOut(BaseModel):
    article_id: str
    event_id: int | None
    storyline_id: int | None
    duplicate_of: str | None = None


class IngestResult(BaseModel):
    stored: list[AssignmentOut]
    already_stored: list[str]
    skipped: list[SkippedOut] = Field(description="The first 100 skipped inputs with their reasons.")
    skipped_total: int = Field(0, description="All skipped inputs, counted.")


class UpdatedOut(BaseModel):
    """What the page polls to know when to refresh."""

    version: str
    articles: int
    storylines: int


class ErrorOut(BaseModel):
    detail: str
