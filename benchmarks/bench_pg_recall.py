"""Recall of the PostgreSQL candidate search against an exact scan, per ``hnsw.ef_search``.

The clusterer asks the store for its ``k`` nearest articles; PostgreSQL answers with the HNSW
graph's ``k × RERANK_DEPTH`` nearest, re-ranked exactly (``PgVectorIndex.search``).  Here, for
queries near stored vectors (a stored vector plus noise, as a new report of a known event is),
that answer is compared with the true top ``k`` of a full scan of every stored vector: recall@k, and
how many of the query article's event mates that the exact top ``k`` holds the search finds too.

Run: PYTHONPATH=. python benchmarks/bench_pg_recall.py --db postgresql://… [--queries 100]
     [--ef 40,64]   (on a store filled by bench_cluster_growth.py, e.g. 1M articles)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from pgvector import HalfVector

from storylines.store import open_store
from storylines.store.index import exact_top_k
from storylines.store.postgres import PostgresStore


def exact_neighbours(store: PostgresStore, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The true top ``k`` and their similarities (the uncast column matches no index, so every row
    is read)."""
    rows = store._db.execute(
        "SELECT rowid, vector FROM vector_rows ORDER BY vector <#> %s, rowid LIMIT %s",
        (HalfVector(query), k * 4),
        binary=True,
    ).fetchall()
    return exact_top_k(query, np.array([r[0] for r in rows]), np.vstack([r[1].to_numpy() for r in rows]), k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--ef", default="40,64")
    args = parser.parse_args()
    store = open_store(args.db)
    assert isinstance(store, PostgresStore), "a PostgreSQL store"
    dim = len(store._db.execute("SELECT vector FROM article_vectors LIMIT 1").fetchone()[0].to_numpy())
    index = store.vector_index(dim)
    rng = np.random.default_rng(0)
    drawn = rng.integers(1, store.max_rowid() + 1, size=args.queries * 2).tolist()
    stored = store._db.execute(
        "SELECT v.vector, (SELECT array_agg(m.rowid) FROM articles m WHERE m.event_id = a.event_id)"
        " FROM vector_rows v JOIN articles a USING (rowid) WHERE v.rowid = ANY(%s) LIMIT %s",
        (drawn, args.queries),
        binary=True,
    ).fetchall()
    queries, mates = [], []
    for vector, event in stored:
        noisy = vector.to_numpy() + 0.5 * rng.standard_normal(dim).astype(np.float32) / np.sqrt(dim)
        queries.append(noisy / np.linalg.norm(noisy))
        mates.append(set(event))
    started = time.perf_counter()
    truth = [set(exact_neighbours(store, q, args.k)[0].tolist()) for q in queries]
    ceiling = sum(len(m & t) for m, t in zip(mates, truth, strict=True))
    scans = time.perf_counter() - started
    print(
        f"{len(queries)} queries (a stored article plus noise), exact scans {scans:.0f} s;"
        f" the exact top {args.k} holds {ceiling} of their {sum(map(len, mates))} event mates"
    )
    for ef in (int(e) for e in args.ef.split(",")):
        store._db.execute(f"SET hnsw.ef_search = {ef}")
        recalls, found, seconds = [], 0, []
        for query, true_ids, event in zip(queries, truth, mates, strict=True):
            started = time.perf_counter()
            ids = set(index.search(query, args.k)[0].tolist())
            seconds.append(time.perf_counter() - started)
            recalls.append(len(ids & true_ids) / len(true_ids))
            found += len(ids & event & true_ids)
        print(
            f"ef_search {ef}: recall@{args.k} {np.mean(recalls):.4f}; event mates found {found}/{ceiling}"
            f" ({found / max(ceiling, 1):.1%}); search p50 {np.percentile(seconds, 50) * 1000:.2f} ms,"
            f" p99 {np.percentile(seconds, 99) * 1000:.2f} ms"
        )
    store.close()


if __name__ == "__main__":
    main()
