"""Recall of the PostgreSQL candidate search against an exact scan, per ``hnsw.ef_search``.

The clusterer asks the store for its ``k`` nearest articles; PostgreSQL answers with the HNSW
graph's ``k × RERANK_DEPTH`` nearest, re-ranked exactly (``PgVectorIndex.search``).  Here, for
queries near stored vectors (a stored vector plus noise, as a new report of a known event is),
that answer is compared with the true top ``k`` of a full scan of every stored vector.

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
    parser.add_argument(
        "--close",
        type=float,
        default=0.5,
        help="true neighbours at least this similar are the ones that matter (the synthetic store's"
        " event mates are ~0.7; its unrelated articles ~0 ± 0.05, so a top 10 past the mates is noise)",
    )
    args = parser.parse_args()
    store = open_store(args.db)
    assert isinstance(store, PostgresStore), "a PostgreSQL store"
    dim = len(store._db.execute("SELECT vector FROM article_vectors LIMIT 1").fetchone()[0].to_numpy())
    index = store.vector_index(dim)
    rng = np.random.default_rng(0)
    drawn = rng.integers(1, store.max_rowid() + 1, size=args.queries * 2).tolist()
    stored = store._db.execute(
        "SELECT vector FROM vector_rows WHERE rowid = ANY(%s) LIMIT %s", (drawn, args.queries), binary=True
    ).fetchall()
    queries = []
    for (vector,) in stored:
        noisy = vector.to_numpy() + 0.5 * rng.standard_normal(dim).astype(np.float32) / np.sqrt(dim)
        queries.append(noisy / np.linalg.norm(noisy))
    started = time.perf_counter()
    truth = [exact_neighbours(store, q, args.k) for q in queries]
    print(f"{len(queries)} queries, exact scans {time.perf_counter() - started:.0f} s, k={args.k}")
    for ef in (int(e) for e in args.ef.split(",")):
        store._db.execute(f"SET hnsw.ef_search = {ef}")
        recalls, close_found, close_total, seconds = [], 0, 0, []
        for query, (true_ids, true_sims) in zip(queries, truth, strict=True):
            started = time.perf_counter()
            ids, _ = index.search(query, args.k)
            seconds.append(time.perf_counter() - started)
            recalls.append(len(set(ids.tolist()) & set(true_ids.tolist())) / len(true_ids))
            close = set(true_ids[true_sims >= args.close].tolist())
            close_found += len(close & set(ids.tolist()))
            close_total += len(close)
        print(
            f"ef_search {ef}: true neighbours with similarity ≥ {args.close} found "
            f"{close_found}/{close_total} ({close_found / max(close_total, 1):.2%}); recall@{args.k} "
            f"{np.mean(recalls):.4f}; search p50 "
            f"{np.percentile(seconds, 50) * 1000:.2f} ms, p99 {np.percentile(seconds, 99) * 1000:.2f} ms"
        )
    store.close()


if __name__ == "__main__":
    main()
