"""Assignment latency and memory as the store grows (1k → 10k → 100k → 1M articles).

Synthetic 384-d vectors drawn around random event centres (cosine ≈ 0.8 inside an event, ≈ 0
across) and the tests' cosine comparer stand in for the model, so what is timed is the
clusterer itself: ANN search, ``candidates`` comparisons and one store transaction per article
(embedding excluded); "decide" (search + compare) and "store" (transaction + index insert)
are the mean split of that time.  Between checkpoints the store is filled in bulk (many articles per
transaction, the index grown in batches; on PostgreSQL with ``COPY`` and the HNSW index built
once after the fill), because placing a million articles one by one would
take about half an hour here; at each checkpoint ``--measure`` new articles — half of them
continuing existing events, half starting new ones — are placed one at a time through
``OnlineStoryClusterer.place`` and timed.

Run: PYTHONPATH=. python benchmarks/bench_cluster_growth.py [--sizes 1000,10000,100000,1000000]
     [--db postgresql://…]   (an empty PostgreSQL database; default: a temporary SQLite file)
     [--resume]   (--db was filled by an earlier run: e.g. --sizes 10000,1000000,1000000 times the
                   last checkpoint again)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np

from storylines.article import Article
from storylines.cluster.online import EVENT_SAMPLE, OnlineStoryClusterer
from storylines.store import Store, VectorIndex, is_postgres, open_store
from tests.test_cluster_double import CosineComparer, VectorRepresentation

DIM, EVENT_SIZE, SPREAD = 384, 5, 0.5
# --vectors news: |mean|² 0.64 + event spread 0.26 + article spread 0.10 ≈ 1, so unrelated
# articles meet at cosine ~0.64 and event mates at ~0.9 (the dev data's e5 figures).
NEWS_MEAN_NORM, NEWS_EVENT_SPREAD, NEWS_ARTICLE_SPREAD, NEWS_DECAY = 0.8, 0.26**0.5, 0.10**0.5, -0.9


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Synthetic:
    """Articles as (Article, representation) around event centres, reproducible by seed.

    ``shape`` "random": centres drawn uniformly on the sphere, so an article is close to its event
    mates and at cosine 0 ± 0.05 to everything else (no structure between events: the hardest
    case for a graph index).  "news": shaped like the e5 vectors of the dev data (measured on
    9,275 of them: their mean has norm 0.80, unrelated pairs sit at cosine 0.64 ± 0.06, and the
    spread around the mean falls off as rank^-0.9, an effective dimension of ~80), with event mates
    at cosine ~0.9.
    """

    def __init__(self, seed: int = 0, shape: str = "random"):
        self.rng = np.random.default_rng(seed)
        self.centres: list[np.ndarray] = []
        self.count = 0
        self.shape = shape
        spectrum = np.arange(1, DIM + 1, dtype=np.float64) ** NEWS_DECAY
        self._axes = np.sqrt(spectrum / spectrum.sum()).astype(np.float32)  # unit total variance
        mean = np.random.default_rng(seed + 1).standard_normal(DIM).astype(np.float32)  # own stream
        self._mean = NEWS_MEAN_NORM * mean / np.linalg.norm(mean)

    def _centre(self) -> np.ndarray:
        if self.shape == "random":
            return self.rng.standard_normal(DIM).astype(np.float32)
        return self._mean + NEWS_EVENT_SPREAD * self._axes * self.rng.standard_normal(DIM).astype(np.float32)

    def vector(self, centre: int) -> np.ndarray:
        while centre >= len(self.centres):
            self.centres.append(self._centre())
        noise = self.rng.standard_normal(DIM).astype(np.float32)
        spread = SPREAD * noise if self.shape == "random" else NEWS_ARTICLE_SPREAD * self._axes * noise
        vector = self.centres[centre] + spread
        self.count += 1
        return vector / np.linalg.norm(vector)

    def article(self, centre: int) -> tuple[Article, VectorRepresentation]:
        vector = self.vector(centre)
        article = Article(source=f"synthetic/{self.count}", title=f"Synthetic report {self.count}", lang="en")
        return article, VectorRepresentation(article.id, vector)

    def measured_centres(self, n: int) -> Iterator[int]:
        """The centres of a checkpoint's ``n`` timed articles: every other one an existing event."""
        known = len(self.centres)
        for i in range(n):
            yield int(self.rng.integers(0, known)) if i % 2 == 0 else len(self.centres)

    def replay(self, until: int, measured: int, batch: int = 20_000) -> None:
        """Draw what a checkpoint filled up to ``until`` and then placed, storing nothing (``--resume``)."""
        while self.count < until:
            for _ in range(min(batch, until - self.count) // EVENT_SIZE or 1):
                centre = len(self.centres)
                for _ in range(EVENT_SIZE):
                    self.vector(centre)
        for centre in self.measured_centres(measured):
            self.vector(centre)


def bulk_fill(store: Store, index: VectorIndex, data: Synthetic, until: int, batch: int = 20_000) -> None:
    """Grow the store to ``until`` articles, EVENT_SIZE per event, many per transaction."""
    while data.count < until:
        rowids, vectors = [], []
        with store.transaction():
            for _ in range(min(batch, until - data.count) // EVENT_SIZE or 1):
                centre = len(data.centres)
                storyline = store.create_storyline()
                event = store.create_event(storyline, np.zeros(DIM, dtype=np.float32), {})
                members = []
                for _ in range(EVENT_SIZE):
                    article, representation = data.article(centre)
                    members.append(
                        store.add_article(article, representation.to_bytes(), representation.vector, None)
                    )
                    vectors.append(representation.vector)
                    store.assign_article(article.id, event, "bulk")
                record = store.get_event(event)
                record.size = EVENT_SIZE
                record.stats = {"sample": members[:EVENT_SAMPLE]}  # what online placement keeps
                store.save_event(record)
                rowids.extend(members)
        index.add(np.array(rowids), np.vstack(vectors))


def bulk_fill_postgres(
    store: Store, index: VectorIndex, data: Synthetic, until: int, batch: int = 20_000
) -> None:
    """The same rows as :func:`bulk_fill`, written with ``COPY`` on a second connection while the
    HNSW index is dropped, then built once (``PgVectorIndex.bulk_load``)."""
    import psycopg
    from pgvector.psycopg import register_vector

    if data.count >= until:
        return
    started = time.perf_counter()
    with index.bulk_load(), psycopg.connect(store.url) as connection:  # type: ignore[attr-defined]
        register_vector(connection)
        while data.count < until:
            events = min(batch, until - data.count) // EVENT_SIZE or 1
            with connection.transaction():
                copy_events(connection, data, events)
        copied = time.perf_counter()
    built = time.perf_counter() - copied
    print(f"# up to {until}: COPY {copied - started:.0f} s, HNSW build and ANALYZE {built:.0f} s", flush=True)


def reserve(connection: object, table: str, column: str, count: int) -> list[int]:
    """``count`` fresh ids of a serial column (the rows that take them are copied in later)."""
    rows = connection.execute(  # type: ignore[attr-defined]
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", (table, column, count)
    )
    return [row[0] for row in rows]


def copy_events(connection: object, data: Synthetic, events: int) -> None:
    """``events`` events of EVENT_SIZE articles each, each in its own storyline."""
    from storylines.store.base import text_terms
    from storylines.store.postgres import tsvector_literal
    from storylines.store.sql import now

    storyline_ids = reserve(connection, "storylines", "id", events)
    event_ids = reserve(connection, "events", "id", events)
    rowids = iter(reserve(connection, "articles", "rowid", events * EVENT_SIZE))
    at, zeros = now(), np.zeros(DIM, dtype=np.float32).tobytes()
    articles, vectors, event_rows, history = [], [], [], []
    for storyline, event in zip(storyline_ids, event_ids, strict=True):
        centre, members = len(data.centres), []
        history.append((f"event:{event}", storyline, "new", at))
        for _ in range(EVENT_SIZE):
            article, representation = data.article(centre)
            rowid = next(rowids)
            members.append(rowid)
            terms = tsvector_literal(text_terms(f"{article.title}\n{article.body}"))
            data_json = json.dumps(article.to_dict(), ensure_ascii=False)
            vectors.append((rowid, halfvec_text(representation.vector)))
            articles.append(
                (
                    rowid,
                    article.id,
                    article.title,
                    article.body,
                    article.lang,
                    None,
                    data_json,
                    representation.to_bytes(),
                    terms,
                    event,
                    at,
                )
            )
            history.append((article.id, event, "bulk", at))
        event_rows.append(
            (event, storyline, EVENT_SIZE, zeros, json.dumps({"sample": members[:EVENT_SAMPLE]}), at)
        )
    columns = {
        "storylines": ("id", "created_at"),
        "events": ("id", "storyline_id", "size", "centroid", "stats", "created_at"),
        "articles": (
            "rowid",
            "id",
            "title",
            "text",
            "lang",
            "day",
            "data",
            "representation",
            "terms",
            "event_id",
            "added_at",
        ),
        "history": ("subject", "target_id", "reason", "at"),
        "article_vectors": ("rowid", "vector"),
    }
    rows = {
        "storylines": [(s, at) for s in storyline_ids],
        "events": event_rows,
        "articles": articles,
        "history": history,
        "article_vectors": vectors,
    }
    for table, names in columns.items():
        copy_rows(connection, table, names, rows[table])


@cache
def _half_float_texts() -> list[str]:
    """The text of every half float, by bit pattern (formatting 384 floats one by one was most of
    the fill's time)."""
    return [str(value) for value in np.arange(2**16, dtype=np.uint16).view(np.float16)]


def halfvec_text(vector: np.ndarray) -> str:
    """A vector as pgvector's ``halfvec`` text, ``[x,y,…]``."""
    texts = _half_float_texts()
    return "[" + ",".join([texts[bits] for bits in vector.astype(np.float16).view(np.uint16).tolist()]) + "]"


def copy_rows(connection: object, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def measure(clusterer: OnlineStoryClusterer, data: Synthetic, n: int) -> np.ndarray:
    latencies = []
    for centre in data.measured_centres(n):
        article, representation = data.article(centre)
        started = time.perf_counter()
        with clusterer.store.placement():  # as the ingest service places
            clusterer.place(article, representation)
        latencies.append(time.perf_counter() - started)
    return np.array(latencies) * 1000


def report_graph_backlog(store: Store) -> None:
    """PostgreSQL adds new vectors to its HNSW graph in the background (``GraphFiller``): how many
    still waited when the timed placements ended, and how long the filler took to catch up."""
    started, waiting = time.perf_counter(), store._one("SELECT count(*) FROM recent_vectors")  # type: ignore[attr-defined]
    while store._one("SELECT count(*) FROM recent_vectors"):  # type: ignore[attr-defined]
        time.sleep(0.1)
    print(
        f"# {waiting} vectors waited for the graph; all in after {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--measure", type=int, default=1000, help="articles placed and timed per checkpoint")
    parser.add_argument("--folder", default=None, help="where the store goes (default: a temp folder)")
    parser.add_argument("--db", default=None, help="an empty store to fill (e.g. postgresql://…)")
    parser.add_argument(
        "--vectors",
        choices=("random", "news"),
        default="random",
        help="synthetic vectors: independent random events (default, as in earlier figures) or shaped"
        " like real news embeddings (see Synthetic)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="--db holds an earlier run's articles (same --sizes and --measure): skip the checkpoints it"
        " went through and go on from there, e.g. to time new code on a store that took an hour to fill",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        store = open_store(args.db or Path(folder) / "growth.db")
        comparer = CosineComparer(dim=DIM)
        index = store.vector_index(DIM)
        clusterer = OnlineStoryClusterer(comparer, store, index=index)
        clusterer.settings.save_index_every = 10**12  # snapshots are not part of the per-article cost
        data = Synthetic(shape=args.vectors)
        base_rss = rss_mb()
        print(
            f"{'articles':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'decide ms':>9} {'store ms':>8} "
            f"{'index B/art':>11} "
            f"{'RSS MB':>7} {'RSS-start MB':>12} {'fill s':>7}",
            flush=True,
        )
        stored = store.counts().articles if args.resume else 0
        for size in (int(s) for s in args.sizes.split(",")):
            if data.count < stored:
                data.replay(size, args.measure)
                continue
            started = time.perf_counter()
            fill = bulk_fill_postgres if is_postgres(store.url) else bulk_fill
            fill(store, index, data, size)
            filled = time.perf_counter() - started
            before = dict(clusterer.timings)
            latencies = measure(clusterer, data, args.measure)
            if is_postgres(store.url):
                report_graph_backlog(store)
            decide, write = (
                1000 * (clusterer.timings[stage] - before.get(stage, 0)) / args.measure
                for stage in ("cluster", "store")
            )
            count = store.counts().articles
            print(
                f"{count:>9} {np.percentile(latencies, 50):>7.2f} "
                f"{np.percentile(latencies, 99):>7.2f} {latencies.max():>7.1f} {decide:>9.2f} {write:>8.2f} "
                f"{index.nbytes() / count:>11.0f} {rss_mb():>7.0f} {rss_mb() - base_rss:>12.0f} "
                f"{filled:>7.0f}",
                flush=True,
            )
        store.close()


if __name__ == "__main__":
    main()
