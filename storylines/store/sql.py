"""What the SQL backends share: every query that reads the same in SQLite and PostgreSQL.

Both speak DB-API with ``RETURNING`` and ``ON CONFLICT``, so a backend only supplies its
connection, its transactions, how it stores an article's vector and search terms, keyword
search and the vector index.  Queries are written with ``?`` placeholders.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from storylines.article import Article
from storylines.store.base import (
    ArticleRef,
    EventRecord,
    MembershipChange,
    StoreCounts,
    StoredArticle,
    StorylineRecord,
)

_REF_COLUMNS = "a.rowid, a.id, a.event_id, e.storyline_id, a.day, a.duplicate_of"

INTEGRITY_CHECKS = {
    "articles without event": "SELECT count(*) FROM articles WHERE event_id IS NULL",
    "articles in missing or merged events": "SELECT count(*) FROM articles a LEFT JOIN events e"
    " ON e.id = a.event_id"
    " WHERE a.event_id IS NOT NULL AND (e.id IS NULL OR e.merged_into IS NOT NULL)",
    "events in missing storylines": "SELECT count(*) FROM events e LEFT JOIN storylines s"
    " ON s.id = e.storyline_id WHERE s.id IS NULL",
    "live events in merged storylines": "SELECT count(*) FROM events e JOIN storylines s"
    " ON s.id = e.storyline_id WHERE e.merged_into IS NULL AND s.merged_into IS NOT NULL",
    "event sizes out of date": "SELECT count(*) FROM events e"
    " WHERE e.merged_into IS NULL"
    " AND e.size != (SELECT count(*) FROM articles a WHERE a.event_id = e.id)",
}


_EVENT_COLUMNS = "id, storyline_id, size, centroid, stats, created_at, merged_into"


def event_record(row: Sequence[Any]) -> EventRecord:
    """An :class:`EventRecord` from a row of ``_EVENT_COLUMNS``."""
    return EventRecord(
        id=row[0],
        storyline_id=row[1],
        size=row[2],
        centroid=np.frombuffer(bytes(row[3]), dtype=np.float32).copy(),
        stats=json.loads(row[4]),
        created_at=row[5],
        merged_into=row[6],
    )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


class SQLStore(ABC):
    """Events, storylines, history and article reads, over a backend's ``_execute``."""

    url: str
    # Where ``(rowid, vector)`` rows are read: the articles table, or a backend's own vector rows.
    _vector_rows = "articles"

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement written with ``?`` placeholders; returns a DB-API cursor."""

    @abstractmethod
    def _insert_article(self, article: Article, row: dict[str, Any], vector: np.ndarray) -> int:
        """Insert the article row (with the backend's vector and search columns); its rowid."""

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self._execute(sql, params).fetchone()
        return row[0] if row else None

    # --- articles -----------------------------------------------------------------------
    def add_article(
        self,
        article: Article,
        representation: bytes,
        vector: np.ndarray,
        day: str | None,
        duplicate_of: str | None = None,
    ) -> int:
        row = {
            "id": article.id,
            "title": article.title,
            "text": article.body,
            "lang": article.lang,
            "day": day,
            "data": json.dumps(article.to_dict(), ensure_ascii=False),
            "representation": representation,
            "duplicate_of": duplicate_of,
            "added_at": now(),
        }
        return self._insert_article(article, row, vector)

    def has_article(self, article_id: str) -> bool:
        return self._one("SELECT 1 FROM articles WHERE id=?", (article_id,)) is not None

    def _stored(self, where: str, params: Sequence[Any]) -> list[StoredArticle]:
        rows = self._execute(
            f"SELECT {_REF_COLUMNS}, a.data FROM articles a LEFT JOIN events e ON e.id = a.event_id"
            f" WHERE {where}",
            params,
        ).fetchall()
        return [
            StoredArticle(
                rowid=row[0],
                article=Article.from_dict(json.loads(row[6])),
                event_id=row[2],
                storyline_id=row[3],
                day=row[4],
                duplicate_of=row[5],
            )
            for row in rows
        ]

    def get_article(self, article_id: str) -> StoredArticle | None:
        found = self._stored("a.id = ?", (article_id,))
        return found[0] if found else None

    def get_articles(self, article_ids: Sequence[str]) -> list[StoredArticle]:
        if not article_ids:
            return []
        found = {s.id: s for s in self._stored(f"a.id IN ({placeholders(article_ids)})", list(article_ids))}
        return [found[i] for i in article_ids if i in found]

    def articles_of_event(self, event_id: int) -> list[StoredArticle]:
        return self._stored("a.event_id = ? ORDER BY a.rowid", (event_id,))

    def get_refs(self, rowids: Sequence[int]) -> list[ArticleRef]:
        return [ArticleRef(*row[:6], bytes(row[6])) for row in self._ref_rows(rowids)]

    def _ref_rows(self, rowids: Sequence[int], event_columns: str = "") -> list[Any]:
        """Candidate rows in the order asked: the ref's columns, then ``event_columns`` of its event."""
        if not len(rowids):
            return []
        rows = self._execute(
            f"SELECT {_REF_COLUMNS}, a.representation{event_columns}"
            " FROM articles a LEFT JOIN events e ON e.id = a.event_id"
            f" WHERE a.rowid IN ({placeholders(rowids)})",
            [int(r) for r in rowids],
        ).fetchall()
        by_rowid = {row[0]: row for row in rows}
        return [by_rowid[r] for r in rowids if r in by_rowid]

    def get_representation(self, article_id: str) -> bytes | None:
        blob = self._one("SELECT representation FROM articles WHERE id=?", (article_id,))
        return bytes(blob) if blob is not None else None

    def max_rowid(self) -> int:
        return int(self._one("SELECT coalesce(max(rowid), 0) FROM articles"))

    def rowids(self, after_rowid: int = 0) -> np.ndarray:
        rows = self._execute("SELECT rowid FROM articles WHERE rowid > ? ORDER BY rowid", (after_rowid,))
        return np.fromiter((row[0] for row in rows), dtype=np.int64)

    def vectors_of(self, rowids: Sequence[int]) -> np.ndarray:
        wanted = [int(r) for r in rowids]
        by_rowid: dict[int, Any] = {}
        for start in range(0, len(wanted), 10_000):  # SQLite caps the number of bound parameters
            chunk = wanted[start : start + 10_000]
            sql = f"SELECT rowid, vector FROM {self._vector_rows} WHERE rowid IN ({placeholders(chunk)})"
            by_rowid.update(self._execute(sql, chunk))
        vectors = [self._decode_vector(by_rowid[r]) for r in wanted]
        return np.vstack(vectors).astype(np.float32) if vectors else np.empty((0, 0), dtype=np.float32)

    # Days are ISO ``YYYY-MM-DD`` (text order is time order) or year-less ``--MM-DD``, not full days
    # (tested by their first character: a LIKE pattern's % would be a placeholder to psycopg).
    def newest_times(self) -> tuple[str | None, str | None]:
        row = self._execute(
            "SELECT (SELECT max(day) FROM articles WHERE substr(day, 1, 1) != '-'),"
            " (SELECT max(added_at) FROM articles WHERE day IS NULL OR substr(day, 1, 1) = '-')"
        ).fetchone()
        return row[0], row[1]

    def dated_since(self, day: str, ingested: str) -> list[StoredArticle]:
        return self._stored(
            "(a.day >= ? AND substr(a.day, 1, 1) != '-')"
            " OR ((a.day IS NULL OR substr(a.day, 1, 1) = '-') AND a.added_at >= ?) ORDER BY a.rowid",
            (day, ingested),
        )

    # --- events and storylines ----------------------------------------------------------
    def create_storyline(self) -> int:
        return int(self._one("INSERT INTO storylines(created_at) VALUES (?) RETURNING id", (now(),)))

    def create_event(self, storyline_id: int, centroid: np.ndarray, stats: dict[str, Any]) -> int:
        event_id = int(
            self._one(
                "INSERT INTO events(storyline_id, size, centroid, stats, created_at) VALUES (?,0,?,?,?)"
                " RETURNING id",
                (storyline_id, np.asarray(centroid, dtype=np.float32).tobytes(), json.dumps(stats), now()),
            )
        )
        self._log(f"event:{event_id}", storyline_id, "new")
        return event_id

    def _events(self, where: str, params: Sequence[Any]) -> list[EventRecord]:
        rows = self._execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE {where}", params).fetchall()
        return [event_record(row) for row in rows]

    def get_event(self, event_id: int) -> EventRecord | None:
        found = self._events("id = ?", (event_id,))
        return found[0] if found else None

    def events_of_storyline(self, storyline_id: int) -> list[EventRecord]:
        return self._events("storyline_id = ? AND merged_into IS NULL ORDER BY id", (storyline_id,))

    def save_event(self, event: EventRecord) -> None:
        self._execute(
            "UPDATE events SET size=?, centroid=?, stats=? WHERE id=?",
            (
                event.size,
                np.asarray(event.centroid, dtype=np.float32).tobytes(),
                json.dumps(event.stats),
                event.id,
            ),
        )

    def assign_article(self, article_id: str, event_id: int, reason: str) -> None:
        self._execute("UPDATE articles SET event_id=? WHERE id=?", (event_id, article_id))
        self._log(article_id, event_id, reason)

    def merge_events(self, source_id: int, target_id: int) -> list[str]:
        moved = [
            r[0]
            for r in self._execute("SELECT id FROM articles WHERE event_id=? ORDER BY rowid", (source_id,))
        ]
        self._execute("UPDATE articles SET event_id=? WHERE event_id=?", (target_id, source_id))
        self._execute("UPDATE events SET merged_into=?, size=0 WHERE id=?", (target_id, source_id))
        for article_id in moved:
            self._log(article_id, target_id, f"event {source_id} merged")
        return moved

    def merge_storylines(self, source_id: int, target_id: int) -> list[int]:
        moved = [
            r[0]
            for r in self._execute(
                "SELECT id FROM events WHERE storyline_id=? AND merged_into IS NULL ORDER BY id", (source_id,)
            )
        ]
        self._execute("UPDATE events SET storyline_id=? WHERE storyline_id=?", (target_id, source_id))
        self._execute("UPDATE storylines SET merged_into=? WHERE id=?", (target_id, source_id))
        for event_id in moved:
            self._log(f"event:{event_id}", target_id, f"storyline {source_id} merged")
        return moved

    def move_event(self, event_id: int, storyline_id: int, reason: str) -> None:
        self._execute("UPDATE events SET storyline_id=? WHERE id=?", (storyline_id, event_id))
        self._log(f"event:{event_id}", storyline_id, reason)

    def set_duplicate_of(self, article_id: str, duplicate_of: str | None) -> None:
        self._execute("UPDATE articles SET duplicate_of=? WHERE id=?", (duplicate_of, article_id))

    def _log(self, subject: str, target_id: int, reason: str) -> None:
        self._execute(
            "INSERT INTO history(subject, target_id, reason, at) VALUES (?,?,?,?)",
            (subject, target_id, reason, now()),
        )

    def list_storylines(self, limit: int = 100, offset: int = 0) -> list[StorylineRecord]:
        rows = self._execute(
            "SELECT s.id, s.created_at, coalesce(sum(e.size), 0) AS n FROM storylines s"
            " LEFT JOIN events e ON e.storyline_id = s.id AND e.merged_into IS NULL"
            " WHERE s.merged_into IS NULL GROUP BY s.id ORDER BY n DESC, s.id LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [StorylineRecord(id=row[0], created_at=row[1], size=int(row[2])) for row in rows]

    def get_storyline(self, storyline_id: int) -> StorylineRecord | None:
        row = self._execute(
            "SELECT s.id, s.created_at, s.merged_into, coalesce(sum(e.size), 0) FROM storylines s"
            " LEFT JOIN events e ON e.storyline_id = s.id AND e.merged_into IS NULL"
            " WHERE s.id=? GROUP BY s.id",
            (storyline_id,),
        ).fetchone()
        if row is None:
            return None
        return StorylineRecord(id=row[0], created_at=row[1], merged_into=row[2], size=int(row[3]))

    def history(self, subject: str) -> list[MembershipChange]:
        rows = self._execute(
            "SELECT subject, target_id, reason, at FROM history WHERE subject=? ORDER BY seq", (subject,)
        ).fetchall()
        return [MembershipChange(*row) for row in rows]

    # --- reading ------------------------------------------------------------------------
    def counts(self) -> StoreCounts:
        articles, duplicates = self._execute("SELECT count(*), count(duplicate_of) FROM articles").fetchone()
        events = self._one("SELECT count(*) FROM events WHERE merged_into IS NULL")
        storylines = self._one("SELECT count(*) FROM storylines WHERE merged_into IS NULL")
        return StoreCounts(articles=articles, duplicates=duplicates, events=events, storylines=storylines)

    def get_meta(self, key: str) -> str | None:
        return self._one("SELECT value FROM meta WHERE key=?", (key,))

    def set_meta(self, key: str, value: str) -> None:
        self._execute(
            "INSERT INTO meta(key, value) VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def _consistency_problems(self, own_checks: dict[str, str] | None = None) -> list[str]:
        """Orphans and stale counts, the checks every backend runs, plus the backend's own
        (name → a query counting the rows that break it)."""
        problems = []
        for name, sql in {**INTEGRITY_CHECKS, **(own_checks or {})}.items():
            count = self._one(sql)
            if count:
                problems.append(f"{count} {name}")
        return problems

    def iter_vectors(
        self, after_rowid: int = 0, batch: int = 10_000
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        while True:
            rows = self._execute(
                f"SELECT rowid, vector FROM {self._vector_rows} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (after_rowid, batch),
            ).fetchall()
            if not rows:
                return
            rowids = np.array([r[0] for r in rows], dtype=np.int64)
            yield rowids, np.vstack([self._decode_vector(r[1]) for r in rows]).astype(np.float32)
            after_rowid = int(rowids[-1])

    @staticmethod
    @abstractmethod
    def _decode_vector(value: Any) -> np.ndarray:
        """A stored vector column value as a numpy array."""
