"""End-to-end ingest throughput (articles/s) of real ~2 kB articles, split by stage.

Articles: the SemEval-2022 Task 8 dev texts are cut to about 1 kB, so each benchmark article
joins the two texts of one same-language pair the annotators scored as one story
(Overall ≤ 2): real news text, one topic, about 2 kB.  They are written as .txt files and go
through exactly what ``storylines ingest`` runs: readers → clean/enrich → embed → cluster →
store, into a fresh temporary store.  The embedding cache is pointed at an empty temporary
folder so nothing is served from an earlier run.

Run: python benchmarks/bench_ingest.py [--n 200] [--pairs PATH]
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

PAIRS = Path(__file__).resolve().parents[2] / "shared/data/semeval2022-task8/pairs.csv"


def write_articles(pairs: Path, folder: Path, n: int) -> float:
    """Write n .txt articles; returns their mean size in bytes."""
    sizes = []
    with pairs.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if len(sizes) == n:
                break
            if row["lang1"] != row["lang2"] or float(row["Overall"]) > 2:
                continue
            text = f"{row['text1'].strip()}\n\n{row['text2'].strip()}\n"
            path = folder / f"{len(sizes):05}.txt"
            path.write_text(text, encoding="utf-8")
            sizes.append(len(text.encode()))
    return sum(sizes) / max(len(sizes), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["STORYLINES_CACHE_DIR"] = str(Path(folder) / "cache")
        from storylines.article import Article
        from storylines.engine import Engine
        from storylines.ingest import read_paths
        from storylines.service import IngestService

        corpus = Path(folder) / "corpus"
        corpus.mkdir()
        mean_bytes = write_articles(args.pairs, corpus, args.n)
        started = time.perf_counter()
        with Engine.open(Path(folder) / "bench.db") as engine:
            service = IngestService(engine)
            warm_up = Article(source="warm-up", title="Models load on first use", raw_text="Not timed.")
            engine.comparer.represent_many([service.pipeline(warm_up)])
            loaded = time.perf_counter()
            report = service.run(read_paths([str(corpus)]))
            wall = time.perf_counter() - loaded
    print(f"{report.stored} articles, mean {mean_bytes:.0f} bytes, models loaded in {loaded - started:.1f} s")
    print(f"end-to-end {report.stored / wall:.1f} articles/s ({wall:.1f} s)")
    for stage in ("read", "enrich", "embed", "cluster", "store"):
        seconds = report.seconds[stage]
        per_article = 1000 * seconds / report.stored
        print(f"  {stage:<8} {seconds:7.2f} s  {seconds / wall:6.1%}  {per_article:7.1f} ms/article")


if __name__ == "__main__":
    main()
