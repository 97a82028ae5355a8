"""Throughput of `storylines inspect` work (read + clean + enrich, no embedding).

Builds N ~2 kB articles from the SemEval dev texts (or the bundled samples when ../shared is absent),
warms the pipeline up, then times each stage separately and the whole pipeline.

    python benchmarks/bench_inspect.py [--n 600]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import time
from collections import defaultdict
from pathlib import Path

from storylines.article import Article
from storylines.pipeline import default_pipeline

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT.parent / "shared" / "data" / "semeval2022-task8" / "pairs.csv"


def load_texts(n: int) -> list[tuple[str, str]]:
    """(title, ~2 kB body) pairs: dev texts concatenated to 2 kB, else the samples repeated."""
    texts: list[str] = []
    if PAIRS.exists():
        csv.field_size_limit(10**8)
        with PAIRS.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts.extend([row["text1"], row["text2"]])
    else:
        texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "samples").glob("*.txt"))]
    articles = []
    for i in range(n):
        body = texts[i % len(texts)]
        while len(body) < 2000:
            body += "\n" + texts[(i + len(body)) % len(texts)]
        title, _, rest = body[:2000].partition("  ")
        articles.append((title[:200], rest or body[:2000]))
    return articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=600)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    samples = load_texts(args.n)
    pipeline = default_pipeline()
    for title, text in samples[:20]:  # warm-up: lazy model and gazetteer loads
        pipeline(Article(source="warmup", title=title, raw_text=text))
    per_stage: dict[str, float] = defaultdict(float)
    start = time.perf_counter()
    for i, (title, text) in enumerate(samples):
        article = Article(source=f"bench-{i}", title=title, raw_text=text)
        for stage in pipeline.stages:
            t0 = time.perf_counter()
            article = stage(article)
            per_stage[stage.name] += time.perf_counter() - t0
    total = time.perf_counter() - start
    chars = sum(len(t) + len(x) for t, x in samples) / len(samples)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, one process")
    print(f"articles: {len(samples)}, mean size {chars:.0f} chars")
    for name, seconds in per_stage.items():
        print(f"  {name:10s} {1000 * seconds / len(samples):7.2f} ms/article")
    print(f"total: {total:.2f} s, {len(samples) / total:.1f} articles/s on one core")


if __name__ == "__main__":
    main()
