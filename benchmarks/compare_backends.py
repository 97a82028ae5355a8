"""Do SQLite and PostgreSQL give the same events and storylines for the same input?

Ingests the same articles, in the same order, into a fresh SQLite file and an empty PostgreSQL
database, then compares the two partitions (sets of article-id sets, so ids may differ): are they
identical, and if not, how many articles sit in a group that differs and what B-cubed F1 one
scores against the other.  Articles an ingest skipped (its report says why) are listed, and so
are the placements whose candidates (the clusterer's nearest stored articles) differ, with the
first of them: where the two runs part.  Up to ``EXACT_SEARCH_LIMIT`` articles both backends scan
every vector, so their candidates are the same; above it their HNSW graphs (faiss over 8-bit
vectors, pgvector over half floats) each miss some true neighbours (``store/index.py``).
Input: a labelled CSV/JSONL (``eval clusters`` format, clustered in time order) or files/folders.

Run: PYTHONPATH=. python benchmarks/compare_backends.py --db postgresql://… INPUT...
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from storylines.article import Article
from storylines.engine import Engine
from storylines.service import IngestService


def read_input(inputs: list[str]) -> list[Article]:
    from storylines.cluster.evaluate import read_labelled
    from storylines.ingest import read_paths

    if len(inputs) == 1 and inputs[0].endswith((".jsonl", ".csv")):
        items = sorted(read_labelled(inputs[0]), key=lambda item: (item.time is None, item.time or ""))
        return [item.article for item in items]
    return [item for item in read_paths(inputs) if isinstance(item, Article)]


@dataclass
class Partitions:
    events: set[frozenset[str]]
    storylines: set[frozenset[str]]
    skipped: set[str]  # articles the ingest skipped (each with a reason in its report)
    seconds: float
    candidates: list[tuple[str, ...]]  # per placement, in order: the candidates' article ids


def traced_candidates(engine: Engine) -> list[tuple[str, ...]]:
    """Record the candidates (article ids, best first) the clusterer's index proposes per placement."""
    index, store = engine.clusterer.index, engine.store
    search = index.search
    seen: list[tuple[str, ...]] = []

    def recording(vector, k):  # noqa: ANN001, ANN202 - a transparent wrapper
        ids, sims = search(vector, k)
        seen.append(tuple(ref.id for ref in store.get_refs([int(i) for i in ids])))
        return ids, sims

    index.search = recording
    return seen


def partitions(db: str, articles: list[Article]) -> Partitions:
    started = time.perf_counter()
    events: dict[int, set[str]] = defaultdict(set)
    storylines: dict[int, set[str]] = defaultdict(set)
    skipped = set()
    with Engine.open(db) as engine:
        candidates = traced_candidates(engine)
        report = IngestService(engine).run(articles)
        for article in articles:
            stored = engine.store.get_article(article.id)
            if stored is None:
                skipped.add(article.id)
                continue
            events[stored.event_id].add(article.id)
            storylines[stored.storyline_id].add(article.id)
    if report.skipped.total:
        print(f"{db}: {report.skipped.total} skipped, first: {report.skipped.first[:3]}")
    return Partitions(
        {frozenset(s) for s in events.values()},
        {frozenset(s) for s in storylines.values()},
        skipped,
        time.perf_counter() - started,
        candidates,
    )


def agreement(a: set[frozenset[str]], b: set[frozenset[str]]) -> tuple[int, float]:
    """Articles whose group differs between the partitions, and B-cubed F1 of ``b`` against ``a``."""
    from storylines.cluster.evaluate import bcubed

    moved = sum(len(group) for group in a - b)
    label_a = {article_id: i for i, group in enumerate(a) for article_id in group}
    label_b = {article_id: i for i, group in enumerate(b) for article_id in group}
    ids = sorted(label_a.keys() & label_b.keys())  # articles stored by both
    precision, recall = bcubed([str(label_a[i]) for i in ids], [label_b[i] for i in ids])
    p, r = sum(precision) / len(ids), sum(recall) / len(ids)
    return moved, 2 * p * r / (p + r)


def print_first_divergence(a: list[tuple[str, ...]], b: list[tuple[str, ...]]) -> None:
    """How many placements were offered different candidates, and the first of them."""
    differing = [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    print(f"placements with different candidates: {len(differing)} of {min(len(a), len(b))}")
    if differing:
        first = differing[0]
        print(f"first at placement {first}: sqlite {a[first]}\n  postgres {b[first]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--db", required=True, help="an empty PostgreSQL database")
    args = parser.parse_args()
    articles = read_input(args.inputs)
    with tempfile.TemporaryDirectory() as folder:
        sqlite = partitions(str(Path(folder) / "reference.db"), articles)
    postgres = partitions(args.db, articles)
    for name in ("events", "storylines"):
        a, b = getattr(sqlite, name), getattr(postgres, name)
        moved, f1 = agreement(a, b)
        print(
            f"{name}: sqlite {len(a)}, postgres {len(b)}, "
            f"identical: {a == b}, articles in differing groups: {moved}, B-cubed F1 {f1:.4f}"
        )
    print_first_divergence(sqlite.candidates, postgres.candidates)
    skipped = f"sqlite {sorted(sqlite.skipped)}, postgres {sorted(postgres.skipped)}"
    print(
        f"{len(articles)} articles; skipped: {skipped};"
        f" seconds: sqlite {sqlite.seconds:.0f}, postgres {postgres.seconds:.0f}"
    )


if __name__ == "__main__":
    main()
