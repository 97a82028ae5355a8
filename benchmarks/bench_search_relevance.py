"""Does search say "nothing" for nonsense and find the story for real queries?  With timings.

Needs a store ingested for real (by the product comparer), e.g. the seeds plus SemEval dev texts:

    python benchmarks/bench_search_relevance.py --db dev.db            # the default query set
    python benchmarks/bench_search_relevance.py --db dev.db "Brexit"   # your own queries

For each query: how many articles and storylines come back, the best vector hit's standout (its
cosine to the query minus its mean cosine to contentless queries; hits need ≥ MIN_STANDOUT), the
top storyline, and the search time (first run embeds the query; the second hits the cache).
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from storylines.compare import load_comparer
from storylines.serve.search import MIN_STANDOUT, HybridSearcher
from storylines.store import open_store

QUERIES = [
    "xqzvbnmqq",
    "asdf qwer zxcv",
    "blorf gnarp",
    "earthquake",
    "Putin Syria",
    "Путин Сирия",
    "普京 叙利亚",
    "Путин Обама Сирия",
    "coronavirus vaccine",
    "Hong Kong protests",
]


ALPHABETS = {  # letters to draw nonsense from, in five scripts
    "latin": "abcdefghijklmnopqrstuvwxyz",
    "cyrillic": "абвгдежзийклмнопрстуфхцчшщыэюя",
    "greek": "αβγδεζηθικλμνξοπρστυφχψω",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "han": "".join(chr(code) for code in range(0x4E00, 0x9FA6, 97)),
}


def nonsense_queries(n: int, seed: int = 0) -> list[str]:
    """Random strings of one to three "words" in one script each: queries no story can match."""
    rng = random.Random(seed)
    queries = []
    for i in range(n):
        letters = list(ALPHABETS.values())[i % len(ALPHABETS)]
        size = (1, 3) if letters == ALPHABETS["han"] else (3, 9)
        words = ("".join(rng.choices(letters, k=rng.randint(*size))) for _ in range(rng.randint(1, 3)))
        queries.append(" ".join(words))
    return queries


def best_standout(searcher: HybridSearcher, query: str) -> float:
    vector = searcher._embed_cached(query)
    rowids, cosines = searcher._index.search(vector, 30)
    if len(rowids) == 0:
        return float("nan")
    return float((cosines / np.linalg.norm(vector) - searcher._hubness[rowids]).max())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", required=True)
    parser.add_argument("queries", nargs="*", default=QUERIES)
    parser.add_argument("--nonsense", type=int, default=100, help="random queries to calibrate against")
    parser.add_argument("--seed", type=int, default=0, help="of the random queries (another one: held out)")
    args = parser.parse_args()
    searcher = HybridSearcher(open_store(args.db), load_comparer().query_embedder)
    searcher.catch_up()
    print(f"MIN_STANDOUT = {MIN_STANDOUT}")
    if args.nonsense:
        queries = nonsense_queries(args.nonsense, args.seed)
        standouts = np.array([best_standout(searcher, query) for query in queries])
        print(
            f"{args.nonsense} random queries in {len(ALPHABETS)} scripts: best standout"
            f" max {standouts.max():.3f}, p95 {np.percentile(standouts, 95):.3f},"
            f" median {np.median(standouts):.3f};"
            f" {(standouts >= MIN_STANDOUT).sum()} would find something"
        )
    for query in args.queries:
        started = time.perf_counter()
        result = searcher.search(query)
        first = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        searcher.search(query)
        again = (time.perf_counter() - started) * 1000
        top = result.storylines[0].title[:50] if result.storylines else "—"
        print(
            f"{query[:24]:24s} articles={len(result.articles):3d} storylines={len(result.storylines):3d}"
            f" standout={best_standout(searcher, query):6.3f} ms={first:6.1f}/{again:5.1f}  top: {top}"
        )


if __name__ == "__main__":
    main()
