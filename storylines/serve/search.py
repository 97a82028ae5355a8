"""Hybrid search: the store's keyword search and cross-lingual vectors, fused by reciprocal rank.

Keywords find exact names and rare words in the query's own script; the e5 query vector finds
reports in any language ("Путин Обама Сирия" → English wire copy).  Reciprocal rank fusion
(Cormack et al. 2009) merges the two ranked lists without calibrating their scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import numpy as np

from storylines.store.base import TextQuery

if TYPE_CHECKING:
    from storylines.store import Store, VectorIndex

RRF_K = 60  # the constant from the RRF paper; damps the weight of the very top ranks
MAX_QUERY_CHARS = 500


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


@dataclass
class StorylineHit:
    storyline_id: int
    title: str
    score: float
    article_ids: list[str]
    matched_by: list[str]


@dataclass
class SearchResult:
    articles: list[ArticleHit]
    storylines: list[StorylineHit]


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


class HybridSearcher:
    """Searches one store with its vector index (pass the engine's, so a server holds one copy)."""

    def __init__(self, store: Store, embedder: QueryEmbedder, index: VectorIndex | None = None):
        self.store = store
        self.embedder = embedder
        self._index = index or store.vector_index(embedder.dim)
        self._embed_cached = lru_cache(maxsize=1024)(self._embed)

    def search(self, query: str, lang: str | None = None, depth: int = 30) -> SearchResult:
        """Articles (best first, up to ``depth`` from each retriever) and their storylines."""
        query = query.strip()[:MAX_QUERY_CHARS]
        keyword_ids, snippets = self._keyword_ranking(query, depth)
        fused = reciprocal_rank_fusion({"keyword": keyword_ids, "vector": self._vector_ranking(query, depth)})
        ranked = sorted(fused.items(), key=lambda item: -item[1][0])
        hits = [
            self._article_hit(article_id, score, sources, snippets) for article_id, (score, sources) in ranked
        ]
        hits = [hit for hit in hits if hit is not None and (lang is None or hit.lang == lang)]
        return SearchResult(articles=hits, storylines=self._storylines(hits))

    def _keyword_ranking(self, query: str, depth: int) -> tuple[list[str], dict[str, str]]:
        """Article ids best first, and the FTS snippet of each.

        Articles holding every word come first; any-word matches fill up only when those are too
        few.  Besides ranking the precise matches higher, this keeps common words cheap: bm25 ranks
        every match, and an OR of frequent words can match a large share of the store."""
        match = TextQuery.from_text(query, match_all=True)
        found = self.store.search(match, limit=depth) if match else []
        if match and len(found) < depth and len(match.words) > 1:
            seen = {hit.article_id for hit in found}
            any_word = self.store.search(TextQuery(match.words, match_all=False), limit=depth)
            found = (found + [hit for hit in any_word if hit.article_id not in seen])[:depth]
        return [hit.article_id for hit in found], {hit.article_id: hit.snippet for hit in found}

    def _vector_ranking(self, query: str, depth: int) -> list[str]:
        if not query:
            return []
        self._index.catch_up()  # articles another process stored meanwhile
        rowids, _ = self._index.search(self._embed_cached(query), depth)
        return [ref.id for ref in self.store.get_refs([int(r) for r in rowids])]

    def _embed(self, query: str) -> np.ndarray:
        return self.embedder.embed_queries([query])[0]

    def _article_hit(
        self, article_id: str, score: float, sources: list[str], snippets: dict[str, str]
    ) -> ArticleHit | None:
        stored = self.store.get_article(article_id)
        if stored is None:
            return None
        article = stored.article
        return ArticleHit(
            article_id=article_id,
            title=article.title,
            lang=article.lang,
            storyline_id=stored.storyline_id,
            score=score,
            snippet=snippets.get(article_id) or article.body[:200],
            matched_by=sources,
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
        return sorted(grouped.values(), key=lambda group: -group.score)
