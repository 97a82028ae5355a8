"""Default :class:`~storylines.store.base.Store`: one SQLite file in WAL mode, no server.

Vectors are kept as float16 (768 bytes at 384-d): they only feed the 8-bit vector index and
the event centroids, so half precision loses nothing that matters and halves the disk cost.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np

from storylines.article import Article
from storylines.store.base import (
    ArticleRef,
    EventRecord,
    MembershipChange,
    SearchHit,
    StoreCounts,
    StoredArticle,
    StorylineRecord,
)
from storylines.store.words import segment_for_index

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS storylines(
    id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, merged_into INTEGER REFERENCES storylines(id));
CREATE TABLE IF NOT EXISTS events(
    id INTEGER PRIMARY KEY, storyline_id INTEGER NOT NULL REFERENCES storylines(id),
    size INTEGER NOT NULL DEFAULT 0, centroid BLOB NOT NULL, stats TEXT NOT NULL,
    created_at TEXT NOT NULL, merged_into INTEGER REFERENCES events(id));
CREATE INDEX IF NOT EXISTS events_storyline ON events(storyline_id);
CREATE TABLE IF NOT EXISTS articles(
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, text TEXT NOT NULL,
    lang TEXT, day TEXT, data TEXT NOT NULL, representation BLOB NOT NULL, vector BLOB NOT NULL,
    duplicate_of TEXT, event_id INTEGER REFERENCES events(id), added_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS articles_event ON articles(event_id);
CREATE TABLE IF NOT EXISTS history(
    seq INTEGER PRIMARY KEY, subject TEXT NOT NULL, target_id INTEGER NOT NULL,
    reason TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_subject ON history(subject);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    title, text, content='articles', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS articles_vocab USING fts5vocab(articles_fts, row);
"""

_REF_COLUMNS = "a.rowid, a.id, a.event_id, e.storyline_id, a.day, a.duplicate_of"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


class SQLiteStore:
    """Articles, representations, events, storylines and their history in one SQLite file."""

    def __init__(self, path: str):
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA cache_size=-65536")  # 64 MB: candidate rows are random reads
        self._depth = 0
        self._db.executescript(SCHEMA)
        with self.transaction():
            if self.get_meta("store_uuid") is None:
                self.set_meta("store_uuid", uuid.uuid4().hex)

    # --- transactions -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Nested calls join the outermost transaction; it commits or rolls back as a whole."""
        if self._depth == 0:
            self._db.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("ROLLBACK")
            raise
        self._depth -= 1
        if self._depth == 0:
            self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    # --- articles -----------------------------------------------------------------------
    def add_article(
        self,
        article: Article,
        representation: bytes,
        vector: np.ndarray,
        day: str | None,
        duplicate_of: str | None = None,
    ) -> int:
        data = json.dumps(article.to_dict(), ensure_ascii=False)
        cursor = self._db.execute(
            "INSERT INTO articles(id, title, text, lang, day, data, representation, vector, duplicate_of,"
            " added_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                article.id,
                article.title,
                article.body,
                article.lang,
                day,
                data,
                representation,
                np.asarray(vector, dtype=np.float16).tobytes(),
                duplicate_of,
                _now(),
            ),
        )
        rowid = int(cursor.lastrowid or 0)
        self._db.execute(
            "INSERT INTO articles_fts(rowid, title, text) VALUES (?,?,?)",
            (rowid, segment_for_index(article.title), segment_for_index(article.body)),
        )
        return rowid

    def has_article(self, article_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM articles WHERE id=?", (article_id,)).fetchone() is not None

    def _stored(self, where: str, params: Sequence[Any]) -> list[StoredArticle]:
        rows = self._db.execute(
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
        found = {s.id: s for s in self._stored(f"a.id IN ({_placeholders(article_ids)})", list(article_ids))}
        return [found[i] for i in article_ids if i in found]

    def articles_of_event(self, event_id: int) -> list[StoredArticle]:
        return self._stored("a.event_id = ? ORDER BY a.rowid", (event_id,))

    def get_refs(self, rowids: Sequence[int]) -> list[ArticleRef]:
        rows = self._db.execute(
            f"SELECT {_REF_COLUMNS}, a.representation FROM articles a LEFT JOIN events e ON e.id = a.event_id"
            f" WHERE a.rowid IN ({_placeholders(rowids)})",
            list(rowids),
        ).fetchall()
        by_rowid = {row[0]: ArticleRef(*row) for row in rows}
        return [by_rowid[r] for r in rowids if r in by_rowid]

    def get_representation(self, article_id: str) -> bytes | None:
        row = self._db.execute("SELECT representation FROM articles WHERE id=?", (article_id,)).fetchone()
        return row[0] if row else None

    def iter_vectors(
        self, after_rowid: int = 0, batch: int = 10_000
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        while True:
            rows = self._db.execute(
                "SELECT rowid, vector FROM articles WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (after_rowid, batch),
            ).fetchall()
            if not rows:
                return
            rowids = np.array([r[0] for r in rows], dtype=np.int64)
            vectors = np.vstack([np.frombuffer(r[1], dtype=np.float16) for r in rows]).astype(np.float32)
            yield rowids, vectors
            after_rowid = int(rowids[-1])

    def max_rowid(self) -> int:
        return int(self._db.execute("SELECT coalesce(max(rowid), 0) FROM articles").fetchone()[0])

    def rowids(self, after_rowid: int = 0) -> np.ndarray:
        rows = self._db.execute("SELECT rowid FROM articles WHERE rowid > ? ORDER BY rowid", (after_rowid,))
        return np.fromiter((row[0] for row in rows), dtype=np.int64)

    def vectors_of(self, rowids: Sequence[int]) -> np.ndarray:
        wanted = [int(r) for r in rowids]
        by_rowid: dict[int, bytes] = {}
        for start in range(0, len(wanted), 10_000):  # SQLite caps the number of bound parameters
            chunk = wanted[start : start + 10_000]
            by_rowid.update(
                self._db.execute(
                    f"SELECT rowid, vector FROM articles WHERE rowid IN ({_placeholders(chunk)})", chunk
                ).fetchall()
            )
        vectors = [np.frombuffer(by_rowid[r], dtype=np.float16) for r in wanted]
        return np.vstack(vectors).astype(np.float32) if vectors else np.empty((0, 0), dtype=np.float32)

    # --- events and storylines ----------------------------------------------------------
    def create_storyline(self) -> int:
        return int(
            self._db.execute("INSERT INTO storylines(created_at) VALUES (?)", (_now(),)).lastrowid or 0
        )

    def create_event(self, storyline_id: int, centroid: np.ndarray, stats: dict[str, Any]) -> int:
        cursor = self._db.execute(
            "INSERT INTO events(storyline_id, size, centroid, stats, created_at) VALUES (?,0,?,?,?)",
            (storyline_id, np.asarray(centroid, dtype=np.float32).tobytes(), json.dumps(stats), _now()),
        )
        event_id = int(cursor.lastrowid or 0)
        self._log(f"event:{event_id}", storyline_id, "new")
        return event_id

    def _events(self, where: str, params: Sequence[Any]) -> list[EventRecord]:
        rows = self._db.execute(
            "SELECT id, storyline_id, size, centroid, stats, created_at, merged_into FROM events"
            f" WHERE {where}",
            params,
        ).fetchall()
        return [
            EventRecord(
                id=row[0],
                storyline_id=row[1],
                size=row[2],
                centroid=np.frombuffer(row[3], dtype=np.float32).copy(),
                stats=json.loads(row[4]),
                created_at=row[5],
                merged_into=row[6],
            )
            for row in rows
        ]

    def get_event(self, event_id: int) -> EventRecord | None:
        found = self._events("id = ?", (event_id,))
        return found[0] if found else None

    def events_of_storyline(self, storyline_id: int) -> list[EventRecord]:
        return self._events("storyline_id = ? AND merged_into IS NULL ORDER BY id", (storyline_id,))

    def save_event(self, event: EventRecord) -> None:
        self._db.execute(
            "UPDATE events SET size=?, centroid=?, stats=? WHERE id=?",
            (
                event.size,
                np.asarray(event.centroid, dtype=np.float32).tobytes(),
                json.dumps(event.stats),
                event.id,
            ),
        )

    def assign_article(self, article_id: str, event_id: int, reason: str) -> None:
        self._db.execute("UPDATE articles SET event_id=? WHERE id=?", (event_id, article_id))
        self._log(article_id, event_id, reason)

    def merge_events(self, source_id: int, target_id: int) -> list[str]:
        moved = [r[0] for r in self._db.execute("SELECT id FROM articles WHERE event_id=?", (source_id,))]
        self._db.execute("UPDATE articles SET event_id=? WHERE event_id=?", (target_id, source_id))
        self._db.execute("UPDATE events SET merged_into=?, size=0 WHERE id=?", (target_id, source_id))
        self._db.executemany(
            "INSERT INTO history(subject, target_id, reason, at) VALUES (?,?,?,?)",
            [(article_id, target_id, f"event {source_id} merged", _now()) for article_id in moved],
        )
        return moved

    def merge_storylines(self, source_id: int, target_id: int) -> list[int]:
        moved = [
            r[0]
            for r in self._db.execute(
                "SELECT id FROM events WHERE storyline_id=? AND merged_into IS NULL", (source_id,)
            )
        ]
        self._db.execute("UPDATE events SET storyline_id=? WHERE storyline_id=?", (target_id, source_id))
        self._db.execute("UPDATE storylines SET merged_into=? WHERE id=?", (target_id, source_id))
        for event_id in moved:
            self._log(f"event:{event_id}", target_id, f"storyline {source_id} merged")
        return moved

    def _log(self, subject: str, target_id: int, reason: str) -> None:
        self._db.execute(
            "INSERT INTO history(subject, target_id, reason, at) VALUES (?,?,?,?)",
            (subject, target_id, reason, _now()),
        )

    def list_storylines(self, limit: int = 100, offset: int = 0) -> list[StorylineRecord]:
        rows = self._db.execute(
            "SELECT s.id, s.created_at, coalesce(sum(e.size), 0) AS n FROM storylines s"
            " LEFT JOIN events e ON e.storyline_id = s.id AND e.merged_into IS NULL"
            " WHERE s.merged_into IS NULL GROUP BY s.id ORDER BY n DESC, s.id LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [StorylineRecord(id=row[0], created_at=row[1], size=row[2]) for row in rows]

    def get_storyline(self, storyline_id: int) -> StorylineRecord | None:
        row = self._db.execute(
            "SELECT s.id, s.created_at, s.merged_into, coalesce(sum(e.size), 0) FROM storylines s"
            " LEFT JOIN events e ON e.storyline_id = s.id AND e.merged_into IS NULL"
            " WHERE s.id=? GROUP BY s.id",
            (storyline_id,),
        ).fetchone()
        if row is None:
            return None
        return StorylineRecord(id=row[0], created_at=row[1], merged_into=row[2], size=row[3])

    def history(self, subject: str) -> list[MembershipChange]:
        rows = self._db.execute(
            "SELECT subject, target_id, reason, at FROM history WHERE subject=? ORDER BY seq", (subject,)
        ).fetchall()
        return [MembershipChange(*row) for row in rows]

    # --- reading ------------------------------------------------------------------------
    def counts(self) -> StoreCounts:
        ((articles, duplicates),) = self._db.execute(
            "SELECT count(*), count(duplicate_of) FROM articles"
        ).fetchall()
        events = self._db.execute("SELECT count(*) FROM events WHERE merged_into IS NULL").fetchone()[0]
        storylines = self._db.execute("SELECT count(*) FROM storylines WHERE merged_into IS NULL").fetchone()[
            0
        ]
        return StoreCounts(articles=articles, duplicates=duplicates, events=events, storylines=storylines)

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        rows = self._db.execute(
            "SELECT a.id, a.title, snippet(articles_fts, 1, '[', ']', '…', 16), bm25(articles_fts) AS rank"
            " FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid"
            " WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?",
            (query, limit),
        ).fetchall()
        return [SearchHit(article_id=r[0], title=r[1], snippet=r[2], score=-r[3]) for r in rows]

    def term_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        rows = self._db.execute(
            f"SELECT term, doc FROM articles_vocab WHERE term IN ({_placeholders(terms)})", list(terms)
        ).fetchall()
        return {term: 0 for term in terms} | dict(rows)

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)", (key, value))

    def check_integrity(self) -> list[str]:
        """Problems found (empty when sound): SQLite's own check, orphans, unassigned articles."""
        problems = [r[0] for r in self._db.execute("PRAGMA integrity_check") if r[0] != "ok"]
        checks = {
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
        for name, sql in checks.items():
            count = self._db.execute(sql).fetchone()[0]
            if count:
                problems.append(f"{count} {name}")
        try:
            self._db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as error:
            problems.append(f"search index: {error}")
        return problems
