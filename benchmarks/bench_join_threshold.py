"""Which join threshold?  Chosen on an inner split of OG2021's training part, never the held-out part.

The training part (the earlier 60 % by time) is split again: the title classifier and the join model
are fitted on its first 60 % exactly as ``scripts/train_events.py`` fits them on the whole training
part, then the event decisions are simulated (exact neighbours) on the rest at several thresholds.
Title cosines come from the half encoders of ``scripts/train_title_encoder.py`` (run it first): the
validation titles are scored by the encoder fitted on the first half, which never saw them.  (issue 8)

Run:  PYTHONPATH=. python benchmarks/bench_join_threshold.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import train_events  # noqa: E402 - the training script's own functions, so both fit the same way

from storylines.cluster.evaluate import holdout_split, score  # noqa: E402
from storylines.settings import ClusterSettings  # noqa: E402

THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
INNER = 0.6  # share of the training part the models are fitted on
HOLDOUT = 0.4  # the protocol's held-out share: its adapters (train_title_encoder.py) are used


def main() -> None:
    settings = ClusterSettings()
    items, reps = train_events.represent_og(train_events.DATA / "og2021-dev/og2021_dev.csv", HOLDOUT)
    train_n, _ = holdout_split(len(items), HOLDOUT)
    inner_n = int(train_n * INNER)
    inner = train_events.Stream(items[:inner_n], reps[:inner_n])
    valid = train_events.Stream(items[inner_n:train_n], reps[inner_n:train_n])
    inner_tops, valid_tops = inner.neighbours(settings.candidates), valid.neighbours(settings.candidates)
    names, classifier, crossfit = train_events.fit_title_view(inner, inner_tops, train_n // 2, HOLDOUT)
    join = train_events.fit_join(inner, inner_tops, crossfit, settings)
    pairs, rows, labels = valid.pair_rows(valid_tops)
    cosines = train_events.title_cosines(valid, np.array(pairs), train_n // 2, HOLDOUT, start=inner_n)
    probabilities = train_events.title_pair_probabilities(classifier, names, rows, cosines)
    print(f"validation: {len(valid.reps)} titles, title pairs AUC {roc_auc_score(labels, probabilities):.3f}")
    by_pair = dict(zip(pairs, probabilities, strict=True))
    for threshold in THRESHOLDS:
        join.threshold = threshold
        predicted, _ = train_events.simulate(valid, valid_tops, by_pair, settings, join, "predict")
        result = score(valid.gold, predicted)
        print(
            f"join threshold {threshold}: B-cubed F1 {result['bcubed_f1']:.3f} (P {result['bcubed_p']:.3f} "
            f"R {result['bcubed_r']:.3f}), largest {result['largest']}"
        )


if __name__ == "__main__":
    main()
