"""PostgreSQL backend: one database shared by several processes and machines.

Vectors are pgvector ``halfvec`` columns with an HNSW index (inner product on unit vectors =
cosine), so the database is the vector index: every writer and reader sees the same one, and
nothing needs to be caught up or saved.  Keyword search is PostgreSQL's own (``tsvector`` +
GIN) over terms made by :func:`~storylines.store.base.text_terms`, which index Chinese,
Japanese, Korean and Thai by characters and character pairs, so every script is searchable
without a language-specific parser.  Each transaction is one PostgreSQL transaction (one per
article: a crash leaves all or none of its rows).  Placement is serialised across processes by
an advisory lock, which blocks other placements only, never readers.
"""

from __future__ import annotations

import copy
import threading
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from storylines.article import Article
from storylines.store.base import ArticleRef, EventRecord, SearchHit, TextQuery, text_terms, word_terms
from storylines.store.index import EXACT_SEARCH_LIMIT, RERANK_DEPTH, exact_top_k
from storylines.store.sql import SQLStore, event_record

try:
    import psycopg
    from pgvector import HalfVector
    from pgvector.psycopg import register_vector
except ImportError as missing:  # pragma: no cover - only without the postgres extra
    raise ImportError(
        "PostgreSQL stores need psycopg and pgvector: pip install 'storylines[postgres]'"
    ) from missing

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS storylines(
    id bigserial PRIMARY KEY, created_at text NOT NULL, merged_into bigint REFERENCES storylines(id));
CREATE TABLE IF NOT EXISTS events(
    id bigserial PRIMARY KEY, storyline_id bigint NOT NULL REFERENCES storylines(id),
    size integer NOT NULL DEFAULT 0, centroid bytea NOT NULL, stats text NOT NULL,
    created_at text NOT NULL, merged_into bigint REFERENCES events(id));
CREATE INDEX IF NOT EXISTS events_storyline ON events(storyline_id);
CREATE TABLE IF NOT EXISTS articles(
    rowid bigserial PRIMARY KEY, id text NOT NULL UNIQUE, title text NOT NULL, text text NOT NULL,
    lang text, day text, data text NOT NULL, representation bytea NOT NULL, vector halfvec NOT NULL,
    terms tsvector NOT NULL, duplicate_of text, event_id bigint REFERENCES events(id),
    added_at text NOT NULL);
CREATE INDEX IF NOT EXISTS articles_event ON articles(event_id);
CREATE INDEX IF NOT EXISTS articles_terms ON articles USING gin(terms);
CREATE TABLE IF NOT EXISTS history(
    seq bigserial PRIMARY KEY, subject text NOT NULL, target_id bigint NOT NULL,
    reason text NOT NULL, at text NOT NULL);
CREATE INDEX IF NOT EXISTS history_subject ON history(subject);
"""

HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 64


def ts_query(query: TextQuery) -> str:
    """A ``tsquery`` literal: each word's terms AND-ed (a CJK word is a sequence of pairs), the
    words AND-ed or OR-ed.  Terms are letters and digits only, so quoting them is enough."""
    groups = []
    for word in query.words:
        terms = word_terms(word)
        pairs = [t for t in terms if len(t) > 1] if len(terms) > 1 else terms
        groups.append("(" + " & ".join(f"'{term}'" for term in pairs) + ")")
    return f" {'&' if query.match_all else '|'} ".join(groups)


def tsvector_literal(terms: list[str]) -> str:
    """Terms with their positions (ranking counts them), taken as they are: no parser re-splits
    them.  PostgreSQL caps positions at 16383; the terms hold no quotes to escape."""
    return " ".join(f"'{term}':{min(i, 16_383)}" for i, term in enumerate(terms, start=1))


class PgVectorIndex:
    """The articles table's HNSW index, seen through the :class:`VectorIndex` protocol."""

    def __init__(self, store: PostgresStore, dim: int):
        self.dim = dim
        self._store = store
        self._cast = f"halfvec({int(dim)})"
        self._exact = True  # until the store holds more than EXACT_SEARCH_LIMIT articles
        with store.placement():
            self._create()

    @property
    def name(self) -> str:
        return f"articles_vector_{int(self.dim)}"

    def _create(self) -> None:
        self._store._execute(
            f"CREATE INDEX IF NOT EXISTS {self.name} ON articles USING hnsw"
            f" ((vector::{self._cast}) halfvec_ip_ops)"
            f" WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
        )

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """For loading many rows at once: the HNSW index is dropped and built once afterwards
        (pgvector builds a graph in memory, within ``maintenance_work_mem``, far faster than it
        grows one row at a time), then the table is analysed.  Searches meanwhile scan the table."""
        with self._store.placement():
            self._store._execute(f"DROP INDEX IF EXISTS {self.name}")
            try:
                yield
            finally:
                self._create()
                self._store._execute("ANALYZE articles")

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Nothing to do: the row's insert updated the HNSW index in the same transaction."""

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``RERANK_DEPTH`` times deeper than asked, re-ranked exactly (:func:`exact_top_k`): one
        query, over the HNSW index, or scanning every row while the store is small enough
        (``EXACT_SEARCH_LIMIT``: the same candidates as SQLite's flat scan)."""
        self._store._insert_waiting()
        # The uncast column does not match the index's expression, so the planner scans the table;
        # the rowid breaks ties (copies) as the re-rank does.
        order = "vector <#> %s, rowid" if self._small() else f"vector::{self._cast} <#> %s"
        rows = self._store._db.execute(  # binary: parsing 40 vectors from text cost ~0.5 ms each
            f"SELECT rowid, vector FROM articles ORDER BY {order} LIMIT %s",
            (HalfVector(np.asarray(vector, dtype=np.float32)), int(k) * RERANK_DEPTH),
            binary=True,
        ).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        vectors = np.vstack([r[1].to_numpy() for r in rows]) if rows else np.empty(0)
        return exact_top_k(vector, ids, vectors, k)

    def _small(self) -> bool:
        """At most ``EXACT_SEARCH_LIMIT`` articles stored; counted until there are more, as a
        store never shrinks."""
        if self._exact:
            counted = "SELECT count(*) FROM (SELECT 1 FROM articles LIMIT ?) AS a"
            self._exact = int(self._store._one(counted, (EXACT_SEARCH_LIMIT + 1,))) <= EXACT_SEARCH_LIMIT
        return self._exact

    def catch_up(self) -> None:
        """Nothing to do: every connection searches the same index."""

    def save(self) -> None:
        """Nothing to do: the index is part of the database."""

    def nbytes(self) -> int:
        return int(self._store._one("SELECT pg_relation_size(?::regclass)", (self.name,)))


class PostgresStore(SQLStore):
    """The :class:`~storylines.store.base.Store` over a PostgreSQL database with pgvector."""

    def __init__(self, url: str):
        self.url = url
        self._db = psycopg.connect(url, autocommit=True)
        self._depth = 0
        self._index: PgVectorIndex | None = None
        self._placed_events: dict[int, EventRecord] | None = None  # held while placing
        self._waiting: dict[str, dict[str, Any]] = {}  # article rows waiting for their event
        self._waiting_lock = threading.RLock()  # the ingest service reads from a second thread
        self._reading = threading.local()  # .others: a read that cannot see the waiting rows
        # Like SQLite's synchronous=NORMAL in WAL mode: a commit does not wait for its WAL flush.
        # A server crash may lose the last few articles, never part of one (each is a
        # transaction), and a re-run stores them again.  Per article this saves an fsync.
        self._db.execute("SET synchronous_commit = off")
        self._db.execute(f"SET hnsw.ef_search = {HNSW_EF_SEARCH}")
        # One advisory lock per database and schema: placing articles, and creating what is
        # missing (two processes opening a new store at once would otherwise race).
        schema = self._one("SELECT current_schema()")
        self._lock_key = zlib.crc32(f"storylines:{schema}".encode()) - 2**31
        with self.placement(), self._db.transaction():
            self._db.execute("CREATE EXTENSION IF NOT EXISTS vector")
            self._db.execute(SCHEMA)
            if self.get_meta("store_uuid") is None:
                self.set_meta("store_uuid", uuid.uuid4().hex)
        register_vector(self._db)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        if self._waiting and "articles" in sql and not getattr(self._reading, "others", False):
            self._insert_waiting()  # so that the statement sees them
        return self._db.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    # --- transactions -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Nested calls join the outermost transaction; it commits or rolls back as a whole."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            # No pipeline mode here: it is a state of the whole connection, and the ingest service
            # reads (has_article) from another thread while a placement's transaction is open.
            with self._db.transaction():
                yield
                self._insert_waiting()
        except BaseException:
            self._forget_events()  # what this transaction wrote to them is rolled back
            with self._waiting_lock:
                self._waiting = {}
            raise
        finally:
            self._depth = 0

    @contextmanager
    def placement(self) -> Iterator[None]:
        """A session advisory lock: other placements wait, readers and searches do not.

        While it is held no other process places articles, so the candidates' events, read with
        the candidates (:meth:`get_refs`), stay current: :meth:`get_event` answers from them
        instead of one round trip per event."""
        self._db.execute("SELECT pg_advisory_lock(%s)", (self._lock_key,))
        outer = self._placed_events
        self._placed_events = {}
        try:
            yield
        finally:
            self._placed_events = outer
            self._db.execute("SELECT pg_advisory_unlock(%s)", (self._lock_key,))

    def close(self) -> None:
        self._db.close()

    def vector_index(self, dim: int) -> PgVectorIndex:
        if self._index is None or self._index.dim != dim:
            self._index = PgVectorIndex(self, dim)
        return self._index

    # --- backend specifics ----------------------------------------------------------------
    def _insert_article(self, article: Article, row: dict[str, Any], vector: np.ndarray) -> int:
        """Inside a transaction the row waits for its event (:meth:`assign_article`) with its rowid
        reserved: an UPDATE of ``event_id`` (indexed, so never HOT) would add the new row version to
        the HNSW index a second time, which cost 6 ms p50 at 1M articles.  Any statement that reads
        ``articles`` first writes the waiting rows, and so does the commit."""
        row["vector"] = HalfVector(np.asarray(vector, dtype=np.float32))
        row["terms"] = tsvector_literal(text_terms(f"{article.title}\n{article.body}"))
        if not self._depth:
            return self._insert_row(row)
        row["rowid"] = int(self._one("SELECT nextval(pg_get_serial_sequence('articles', 'rowid'))"))
        with self._waiting_lock:
            self._waiting[article.id] = row
        return int(row["rowid"])

    def _insert_row(self, row: dict[str, Any]) -> int:
        values = ", ".join("%s::tsvector" if name == "terms" else "%s" for name in row)
        sql = f"INSERT INTO articles({', '.join(row)}) VALUES ({values}) RETURNING rowid"
        return int(self._db.execute(sql, list(row.values())).fetchone()[0])  # type: ignore[index]

    def _insert_waiting(self) -> None:
        with self._waiting_lock:  # held while writing: an UPDATE must not overtake its INSERT
            rows, self._waiting = list(self._waiting.values()), {}
            for row in rows:
                self._insert_row(row)

    def _ref_rows(self, rowids: Sequence[int], event_columns: str = "") -> list[Any]:
        """Waiting rows are written first only when asked for: a storyline core's articles are
        older ones, and writing the new row early would bring back the UPDATE it waits to avoid."""
        with self._waiting_lock:
            if {row["rowid"] for row in self._waiting.values()}.intersection(int(r) for r in rowids):
                self._insert_waiting()
            self._reading.others = True
            try:
                return super()._ref_rows(rowids, event_columns)
            finally:
                self._reading.others = False

    def assign_article(self, article_id: str, event_id: int, reason: str) -> None:
        with self._waiting_lock:
            row = self._waiting.pop(article_id, None)
            if row is None:
                super().assign_article(article_id, event_id, reason)
                return
            row["event_id"] = event_id
            self._insert_row(row)
        self._log(article_id, event_id, reason)

    @staticmethod
    def _decode_vector(value: Any) -> np.ndarray:
        return value.to_numpy()

    # --- events read with the candidates, while placing -----------------------------------
    def get_refs(self, rowids: Sequence[int]) -> list[ArticleRef]:
        """Candidate rows; while placing, with their events in the same query (see :meth:`placement`)."""
        if self._placed_events is None:
            return super().get_refs(rowids)
        rows = self._ref_rows(
            rowids, ", e.id, e.storyline_id, e.size, e.centroid, e.stats, e.created_at, e.merged_into"
        )
        for row in rows:
            if row[7] is not None:
                self._placed_events[row[7]] = event_record(row[7:])
        return [ArticleRef(*row[:6], bytes(row[6])) for row in rows]

    def get_event(self, event_id: int) -> EventRecord | None:
        known = self._placed_events.get(event_id) if self._placed_events else None
        return copy.deepcopy(known) if known else super().get_event(event_id)

    def save_event(self, event: EventRecord) -> None:
        super().save_event(event)
        if self._placed_events is not None and event.id in self._placed_events:
            self._placed_events[event.id] = copy.deepcopy(event)

    def merge_events(self, source_id: int, target_id: int) -> list[str]:
        self._forget_events()
        return super().merge_events(source_id, target_id)

    def merge_storylines(self, source_id: int, target_id: int) -> list[int]:
        self._forget_events()
        return super().merge_storylines(source_id, target_id)

    def move_event(self, event_id: int, storyline_id: int, reason: str) -> None:
        self._forget_events()
        super().move_event(event_id, storyline_id, reason)

    def _forget_events(self) -> None:
        if self._placed_events:
            self._placed_events = {}

    def search(self, query: TextQuery, limit: int = 20) -> list[SearchHit]:
        rows = self._execute(
            "SELECT id, title, ts_headline('simple', text, q,"
            " 'StartSel=[, StopSel=], MaxWords=16, MinWords=6, MaxFragments=1, FragmentDelimiter=…'),"
            " ts_rank(terms, q) AS rank FROM articles, CAST(? AS tsquery) AS q"
            " WHERE terms @@ q ORDER BY rank DESC, rowid LIMIT ?",
            (ts_query(query), limit),
        ).fetchall()
        return [SearchHit(article_id=r[0], title=r[1], snippet=r[2], score=float(r[3])) for r in rows]

    def term_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        """Articles holding each word (its terms, as :func:`ts_query` matches them); GIN-indexed."""
        return {
            term: int(
                self._one(
                    "SELECT count(*) FROM articles WHERE terms @@ CAST(? AS tsquery)",
                    (ts_query(TextQuery((term,))),),
                )
            )
            for term in terms
        }

    def check_integrity(self) -> list[str]:
        """Orphans and stale counts (PostgreSQL guards its own pages and indexes)."""
        return self._consistency_problems()


__all__ = ["PgVectorIndex", "PostgresStore"]
