"""PostgreSQL backend: one database shared by several processes and machines.

Vectors are pgvector ``halfvec`` rows with an HNSW index (inner product on unit vectors =
cosine), so the database is the vector index: every writer and reader sees the same one, and
nothing needs to be saved.  A new vector waits in a small unindexed table until a background
thread adds it to the graph (:class:`GraphFiller`); searches read both, so it is found at once.
Keyword search is PostgreSQL's own (``tsvector`` + GIN) over terms made by
:func:`~storylines.store.base.text_terms`, which index Chinese, Japanese, Korean and Thai by
characters and character pairs, so every script is searchable without a language-specific
parser.  Each transaction is one PostgreSQL transaction (one per
article: a crash leaves all or none of its rows).  Placement is serialised across processes by
an advisory lock, which blocks other placements only, never readers.
"""

from __future__ import annotations

import copy
import logging
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
    lang text, day text, data text NOT NULL, representation bytea NOT NULL,
    terms tsvector NOT NULL, duplicate_of text, event_id bigint REFERENCES events(id),
    added_at text NOT NULL);
CREATE INDEX IF NOT EXISTS articles_event ON articles(event_id);
CREATE INDEX IF NOT EXISTS articles_terms ON articles USING gin(terms);
CREATE TABLE IF NOT EXISTS history(
    seq bigserial PRIMARY KEY, subject text NOT NULL, target_id bigint NOT NULL,
    reason text NOT NULL, at text NOT NULL);
CREATE INDEX IF NOT EXISTS history_subject ON history(subject);
CREATE TABLE IF NOT EXISTS article_vectors(rowid bigint PRIMARY KEY, vector halfvec NOT NULL);
CREATE TABLE IF NOT EXISTS recent_vectors(rowid bigint PRIMARY KEY, vector halfvec NOT NULL);
CREATE OR REPLACE VIEW vector_rows AS
    SELECT rowid, vector FROM article_vectors UNION ALL SELECT rowid, vector FROM recent_vectors;
"""

HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
# pgvector's default.  An HNSW scan returns at most this many rows, so the exact re-rank sees 40
# even where the clusterer asks for more.  At 1M articles 64 found 1–6 points more of a report's
# event mates (news-shaped vectors) for ~1–3 ms more per placement (BENCHMARKS.md, issue 10).
HNSW_EF_SEARCH = 40
# Vectors moved from ``recent_vectors`` into the graph per statement by :class:`GraphFiller`.
GRAPH_BATCH = 32

logger = logging.getLogger(__name__)

VECTOR_CHECKS = {
    "articles without a vector": "SELECT count(*) FROM articles a"
    " WHERE NOT EXISTS (SELECT 1 FROM vector_rows v WHERE v.rowid = a.rowid)",
    "vectors without an article": "SELECT count(*) FROM vector_rows v"
    " WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.rowid = v.rowid)",
}


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


def move_to_graph(db: psycopg.Connection[Any], limit: int) -> int:
    """Move up to ``limit`` of the oldest waiting vectors into the indexed table, in one statement
    (so a search, which reads both tables in one snapshot, sees each vector exactly once); rows
    another process is moving are skipped, not waited for.  Returns how many moved."""
    moved = db.execute(
        "WITH moved AS (DELETE FROM recent_vectors WHERE rowid IN"
        " (SELECT rowid FROM recent_vectors ORDER BY rowid LIMIT %s FOR UPDATE SKIP LOCKED)"
        " RETURNING rowid, vector)"
        " INSERT INTO article_vectors SELECT rowid, vector FROM moved",
        (int(limit),),
    )
    return int(moved.rowcount)


class GraphFiller:
    """Adds new vectors to the HNSW graph on its own connection and thread.

    pgvector's graph insert (a search with ``ef_construction`` plus rewrites of neighbour pages)
    was the largest single cost of a placement at 1M articles (~12 ms mean); done here, the
    placement only writes its vector to ``recent_vectors``, which searches scan exactly, as
    Lucene and Milvus search a small unindexed segment beside their indexed ones.  Every process
    that stores articles runs one; ``SKIP LOCKED`` keeps them off each other's rows, and rows
    left by a stopped process are moved by the next one."""

    def __init__(self, url: str):
        self._url = url
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="storylines-graph-filler", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the batch being moved (committed rows stay where they are: both are read)."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as db:
                    db.execute("SET synchronous_commit = off")
                    while not self._stopping.is_set():
                        self._wake.wait(timeout=1.0)
                        self._wake.clear()
                        while not self._stopping.is_set() and move_to_graph(db, GRAPH_BATCH) == GRAPH_BATCH:
                            pass
            except psycopg.Error as error:  # the server went away or restarts: try again
                logger.warning("adding vectors to the HNSW graph failed (%s); retrying", error)
                self._stopping.wait(5.0)


class PgVectorIndex:
    """The HNSW index of ``article_vectors`` and the unindexed ``recent_vectors``, seen through the
    :class:`VectorIndex` protocol."""

    def __init__(self, store: PostgresStore, dim: int):
        self.dim = dim
        self._store = store
        self._cast = f"halfvec({int(dim)})"
        self._exact = True  # until the store holds more than EXACT_SEARCH_LIMIT articles
        self._filler: GraphFiller | None = None
        with store.placement():
            self._create()
        if store._one("SELECT EXISTS (SELECT 1 FROM recent_vectors)"):
            self._start_filler()  # left waiting by a process that stopped

    @property
    def name(self) -> str:
        return f"article_vectors_{int(self.dim)}"

    def _create(self) -> None:
        self._store._execute(
            f"CREATE INDEX IF NOT EXISTS {self.name} ON article_vectors USING hnsw"
            f" ((vector::{self._cast}) halfvec_ip_ops)"
            f" WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
        )

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """For loading many rows at once: the HNSW index is dropped and built once afterwards
        (pgvector builds a graph in memory, within ``maintenance_work_mem``, far faster than it
        grows one row at a time), then the tables are analysed.  Searches meanwhile scan."""
        with self._store.placement():
            self._store._execute(f"DROP INDEX IF EXISTS {self.name}")
            try:
                yield
            finally:
                while move_to_graph(self._store._db, 100_000):
                    pass
                self._create()
                self._store._execute("ANALYZE articles")
                self._store._execute("ANALYZE article_vectors")

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """The vectors wait in ``recent_vectors`` (written with their articles); the filler adds
        them to the graph."""
        if self._filler is None:
            self._start_filler()
        self._filler.wake()  # type: ignore[union-attr]

    def _start_filler(self) -> None:
        self._filler = GraphFiller(self._store.url)

    def stop(self) -> None:
        if self._filler is not None:
            self._filler.stop()
            self._filler = None

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``RERANK_DEPTH`` times deeper than asked, re-ranked exactly (:func:`exact_top_k`): one
        query, over the HNSW index and the vectors not yet in it, or scanning every row while the
        store is small enough (``EXACT_SEARCH_LIMIT``: the same candidates as SQLite's flat scan)."""
        query, depth = HalfVector(np.asarray(vector, dtype=np.float32)), int(k) * RERANK_DEPTH
        if self._small():
            # The rowid breaks ties (copies) as the re-rank does.
            sql, params = (
                "SELECT rowid, vector FROM vector_rows ORDER BY vector <#> %s, rowid LIMIT %s",
                (query, depth),
            )
        else:
            sql = (  # the cast matches the index's expression, so the planner uses the graph
                f"(SELECT rowid, vector FROM article_vectors ORDER BY vector::{self._cast} <#> %s LIMIT %s)"
                " UNION ALL (SELECT rowid, vector FROM recent_vectors ORDER BY vector <#> %s LIMIT %s)"
            )
            params = (query, depth, query, depth)
        rows = self._store._db.execute(
            sql, params, binary=True
        ).fetchall()  # binary: text parsing was ~0.5 ms a row
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        vectors = np.vstack([r[1].to_numpy() for r in rows]) if rows else np.empty(0)
        return exact_top_k(vector, ids, vectors, k)

    def _small(self) -> bool:
        """At most ``EXACT_SEARCH_LIMIT`` articles stored; counted until there are more, as a
        store never shrinks."""
        if self._exact:
            counted = "SELECT count(*) FROM (SELECT 1 FROM vector_rows LIMIT ?) AS a"
            self._exact = int(self._store._one(counted, (EXACT_SEARCH_LIMIT + 1,))) <= EXACT_SEARCH_LIMIT
        return self._exact

    def catch_up(self) -> None:
        """Nothing to do: every connection searches the same tables."""

    def save(self) -> None:
        """Nothing to do: the index is part of the database."""

    def nbytes(self) -> int:
        return int(self._store._one("SELECT pg_relation_size(?::regclass)", (self.name,)))


class PostgresStore(SQLStore):
    """The :class:`~storylines.store.base.Store` over a PostgreSQL database with pgvector."""

    _vector_rows = "vector_rows"

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
            self._move_vectors_out_of_articles()
            if self.get_meta("store_uuid") is None:
                self.set_meta("store_uuid", uuid.uuid4().hex)
        register_vector(self._db)

    def _move_vectors_out_of_articles(self) -> None:
        """Stores written before 2026-12-08 kept vectors (and the HNSW index) in ``articles``,
        where every ``UPDATE`` of a row also rewrote its graph entry: move them to their own
        table; the graph is rebuilt there when the store's index is first opened."""
        has_column = (
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = 'articles' AND column_name = 'vector'"
        )
        if self._db.execute(has_column).fetchone():
            logger.warning("moving this store's vectors to their own table; the HNSW index is then rebuilt")
            self._db.execute("INSERT INTO article_vectors SELECT rowid, vector FROM articles")
            self._db.execute("ALTER TABLE articles DROP COLUMN vector")  # and with it the old index
            self._db.execute("ANALYZE article_vectors")

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
        if self._index is not None:
            self._index.stop()
        self._db.close()

    def vector_index(self, dim: int) -> PgVectorIndex:
        if self._index is None or self._index.dim != dim:
            if self._index is not None:
                self._index.stop()
            self._index = PgVectorIndex(self, dim)
        return self._index

    # --- backend specifics ----------------------------------------------------------------
    def _insert_article(self, article: Article, row: dict[str, Any], vector: np.ndarray) -> int:
        """The vector is written at once (it reserves the rowid); inside a transaction the article
        row waits for its event (:meth:`assign_article`): an ``UPDATE`` of ``event_id`` (indexed,
        so never HOT) would write the row version again in every index.  Any statement that reads
        ``articles`` first writes the waiting rows, and so does the commit."""
        row["terms"] = tsvector_literal(text_terms(f"{article.title}\n{article.body}"))
        with self.transaction():
            row["rowid"] = self._db.execute(  # not through _execute: writing waiting rows is not needed
                "INSERT INTO recent_vectors(rowid, vector)"
                " VALUES (nextval(pg_get_serial_sequence('articles', 'rowid')), %s) RETURNING rowid",
                (HalfVector(np.asarray(vector, dtype=np.float32)),),
            ).fetchone()[0]  # type: ignore[index]
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
        return self._consistency_problems(VECTOR_CHECKS)


__all__ = ["PgVectorIndex", "PostgresStore"]
