"""The one storage interface every backend implements: SQLite (embedded) and PostgreSQL.

The clusterer, the CLI, search and the REST API talk only to :class:`Store`.  Everything an
implementation needs to hold is here: articles with their enrichment and comparer
representation, events and storylines, the membership of articles in events (with history)
and of events in storylines (with history), keyword search (:class:`TextQuery`, no query
syntax of any backend outside ``store/``) and the nearest-neighbour index (:class:`VectorIndex`).

Writes happen inside :meth:`Store.transaction`; a backend must make each transaction atomic so
that a crash leaves either all or none of one article's rows (crash safety of ``ingest``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import regex

from storylines.article import Article


@dataclass
class StoredArticle:
    """An article as stored, with where it currently belongs."""

    rowid: int  # dense integer key, also the article's id in the vector index
    article: Article
    day: str | None  # the date the clusterer used: ISO, "--MM-DD" or None
    event_id: int | None
    storyline_id: int | None
    duplicate_of: str | None  # id of the near-duplicate group's first article

    @property
    def id(self) -> str:
        return self.article.id


@dataclass
class ArticleRef:
    """The few columns the clusterer needs about a candidate, without parsing the article."""

    rowid: int
    id: str
    event_id: int | None
    storyline_id: int | None
    day: str | None
    duplicate_of: str | None
    representation: bytes


@dataclass
class EventRecord:
    """One happening.  ``stats`` holds the incrementally updated label counters."""

    id: int
    storyline_id: int
    size: int
    centroid: np.ndarray  # sum of member vectors (not normalised)
    stats: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    merged_into: int | None = None


@dataclass
class StorylineRecord:
    id: int
    created_at: str = ""
    merged_into: int | None = None
    size: int = 0  # articles in its live events


@dataclass
class MembershipChange:
    """One line of history: an article (or an event) moved to an event (or a storyline)."""

    subject: str  # article id, or "event:<id>"
    target_id: int  # event id for an article, storyline id for an event
    reason: str  # "new", "joined", "merged", ...
    at: str


@dataclass
class SearchHit:
    article_id: str
    title: str
    snippet: str
    score: float  # backend rank, higher is better


_WORD = regex.compile(r"[\p{L}\p{N}]+")
# Scripts written without spaces: a "word" of the regex is a whole phrase, so terms are characters
# and character pairs (the usual bigram indexing of CJK search engines).
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")


def word_terms(word: str) -> list[str]:
    """Index terms of one word: the word itself, or its characters and character pairs."""
    if not _UNSPACED.search(word):
        return [word]
    return [*word, *(word[i : i + 2] for i in range(len(word) - 1))]


def text_terms(text: str) -> list[str]:
    """Index terms of a text in any script (backends without their own word breaker use these)."""
    return [term for word in _WORD.findall(text.lower()) for term in word_terms(word)]


@dataclass(frozen=True)
class TextQuery:
    """Words a keyword search looks for: all of them (``match_all``) or any.  Backends turn it
    into their own syntax, so user text never reaches a query language (no operator injection)."""

    words: tuple[str, ...]
    match_all: bool = True

    @classmethod
    def from_text(cls, text: str, match_all: bool = True) -> TextQuery | None:
        words = tuple(dict.fromkeys(_WORD.findall(text.lower())))
        return cls(words, match_all) if words else None


@runtime_checkable
class VectorIndex(Protocol):
    """Nearest stored articles by cosine, keyed by article rowid; owned by the store."""

    dim: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Index vectors of articles just stored (a no-op where the store indexes on insert)."""
        ...

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rowids, cosine similarities) of the k nearest, best first."""
        ...

    def catch_up(self) -> None:
        """Take in articles other connections stored since this index last looked."""
        ...

    def save(self) -> None:
        """Persist what is only cached in memory (a no-op where the store is the index)."""
        ...

    def nbytes(self) -> int:
        """Bytes the index takes (RAM for faiss, disk pages for HNSW in PostgreSQL)."""
        ...


@dataclass
class StoreCounts:
    articles: int
    duplicates: int
    events: int
    storylines: int


@runtime_checkable
class Store(Protocol):
    """Narrow storage interface; see :class:`storylines.store.sqlite.SQLiteStore`."""

    url: str  # what ``open_store`` was given: a file path or a ``postgresql://`` URL

    # --- transactions -------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside one ``with`` commit together or not at all."""
        ...

    def placement(self) -> AbstractContextManager[None]:
        """Held around deciding and storing one article, so that concurrent writers (several
        processes on one PostgreSQL) place one at a time and each sees the others' articles."""
        ...

    def close(self) -> None: ...

    def vector_index(self, dim: int) -> VectorIndex:
        """The store's vector index (one per store object, shared by the clusterer and search)."""
        ...

    # --- articles -----------------------------------------------------------------------
    def add_article(
        self,
        article: Article,
        representation: bytes,
        vector: np.ndarray,
        day: str | None,
        duplicate_of: str | None = None,
    ) -> int:
        """Store a new article; returns its rowid.  Callers check :meth:`has_article` first."""
        ...

    def has_article(self, article_id: str) -> bool: ...

    def get_article(self, article_id: str) -> StoredArticle | None: ...

    def get_articles(self, article_ids: Sequence[str]) -> list[StoredArticle]:
        """Several articles in one read, in the order asked; missing ones left out (search hits)."""
        ...

    def get_refs(self, rowids: Sequence[int]) -> list[ArticleRef]:
        """Candidate rows by rowid (vector index ids), in the order asked; missing ones left out."""
        ...

    def get_representation(self, article_id: str) -> bytes | None: ...

    def iter_vectors(
        self, after_rowid: int = 0, batch: int = 10_000
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(rowids, float32 vectors) in rowid order; rebuilds or catches up the vector index."""
        ...

    def max_rowid(self) -> int: ...

    def rowids(self, after_rowid: int = 0) -> np.ndarray:
        """Every article rowid above ``after_rowid``, ascending: the truth the vector index is checked
        against (ids, not a watermark: concurrent writers interleave their rowids)."""
        ...

    def vectors_of(self, rowids: Sequence[int]) -> np.ndarray:
        """float32 vectors of these rowids, in the order asked (all must exist)."""
        ...

    def newest_times(self) -> tuple[str | None, str | None]:
        """The newest full day of any article, and the newest ingest time of articles without one."""
        ...

    def dated_since(self, day: str, ingested: str) -> list[StoredArticle]:
        """Articles whose full day is ``day`` (ISO) or later, and those without one ingested at
        ``ingested`` (ISO timestamp, UTC) or later, by rowid: the window ``recluster`` re-places."""
        ...

    # --- events and storylines ----------------------------------------------------------
    def create_storyline(self) -> int: ...

    def create_event(self, storyline_id: int, centroid: np.ndarray, stats: dict[str, Any]) -> int: ...

    def get_event(self, event_id: int) -> EventRecord | None: ...

    def save_event(self, event: EventRecord) -> None:
        """Write back size, centroid, stats and storyline of an event (history kept on moves)."""
        ...

    def assign_article(self, article_id: str, event_id: int, reason: str) -> None:
        """Set an article's current event and append the change to its history."""
        ...

    def merge_events(self, source_id: int, target_id: int) -> list[str]:
        """Move every article of ``source_id`` into ``target_id``; returns the moved ids."""
        ...

    def merge_storylines(self, source_id: int, target_id: int) -> list[int]:
        """Move every event of ``source_id`` into ``target_id``; returns the moved event ids."""
        ...

    def move_event(self, event_id: int, storyline_id: int, reason: str) -> None:
        """Set an event's storyline and append the change to its history (``recluster``)."""
        ...

    def set_duplicate_of(self, article_id: str, duplicate_of: str | None) -> None:
        """Set (or clear) the near-duplicate group an article belongs to (``recluster``)."""
        ...

    def list_storylines(self, limit: int = 100, offset: int = 0) -> list[StorylineRecord]:
        """Live (not merged-away) storylines, largest first."""
        ...

    def get_storyline(self, storyline_id: int) -> StorylineRecord | None: ...

    def events_of_storyline(self, storyline_id: int) -> list[EventRecord]: ...

    def articles_of_event(self, event_id: int) -> list[StoredArticle]: ...

    def history(self, subject: str) -> list[MembershipChange]:
        """Membership history of an article id or of ``"event:<id>"``, oldest first."""
        ...

    # --- reading ------------------------------------------------------------------------
    def counts(self) -> StoreCounts: ...

    def search(self, query: TextQuery, limit: int = 20) -> list[SearchHit]:
        """Keyword search over title and text, best first; snippets mark matches with [ ]."""
        ...

    def term_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        """How many articles hold each (lower-cased) keyword-index term: lets search skip the
        common words of an any-word query instead of ranking every article that holds them."""
        ...

    def check_integrity(self) -> list[str]:
        """Problems found; empty when the store is consistent."""
        ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...
