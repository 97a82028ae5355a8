"""Train, cross-validate and ship the "same story?" model on SemEval-2022 Task 8 pairs.

    python scripts/train_compare.py --cv            # 5-fold CV table next to the cosine baseline
    python scripts/train_compare.py --views         # quality vs token cost of each embedded view
    python scripts/train_compare.py --save          # CV, then fit on all pairs, write the package model
    python scripts/train_compare.py --cv --encoder e5   # the view embedded by plain e5 instead

The view is embedded by the title encoder (``--encoder title``, the default): its vectors score
as well alone as e5's and its own together (CV 0.811 against 0.810, BENCHMARKS.md issue 9), so ingest
embeds each article once instead of twice.  The model records which encoder it was fitted on.

Folds are grouped by BASE pair id: ``1498601317zh_1483894995`` is a machine translation
of one side of ``1498601317_1483894995`` and must never be split from it.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import RidgeCV
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import SplineTransformer

from storylines.compare.comparer import StoryComparer
from storylines.compare.evaluate import (
    GOLD_COLUMNS,
    PairData,
    featurize_pairs,
    pearson,
    pearson_by_dimension,
    pearson_by_pair,
    read_pairs,
)
from storylines.compare.features import FEATURE_NAMES, FIRST_VIEW_COLUMNS, SECOND_VIEW_FEATURES, pair_features
from storylines.compare.model import MODEL_FILE, CompareModel, predict_scores
from storylines.compare.views import VIEWS
from storylines.embed import Embedder, default_embedder
from storylines.embed.title_encoder import load_title_encoder, title_adapter

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared/data/semeval2022-task8/pairs.csv"
PACKAGE_MODEL = Path(__file__).resolve().parents[1] / "storylines/compare" / MODEL_FILE
DEFAULT_VIEW = "head128"  # CV 0.796 against 0.791 for head96 with e5 int8 + USE v3 (BENCHMARKS.md)
SAME_STORY_GOLD = 2.0  # gold Overall at or below this counts as "same story"
FOLDS = 5


def make_regressor() -> Pipeline:
    """Ridge on cubic splines of each feature; missing values imputed and flagged.

    In 5-fold CV it matched gradient boosting + ridge averaged (0.762 vs 0.759 Pearson on
    head96) while predicting all targets in one call; boosting's per-call cost was ~4 ms.
    """
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        SplineTransformer(n_knots=4, degree=3),
        RidgeCV(alphas=np.logspace(-2, 3, 12), alpha_per_target=True),
    )


def gold_matrix(frame: pd.DataFrame) -> np.ndarray:
    return frame[list(GOLD_COLUMNS.values())].to_numpy()


ENCODERS = ("title", "e5")


def view_encoder(name: str) -> Embedder:
    """What embeds the view: the title encoder (its packaged adapter, or $STORYLINES_MODEL_DIR's) or e5."""
    return load_title_encoder(title_adapter()) if name == "title" else default_embedder()


def load(csv: Path, view: str, enrich: bool, encoder: str = "title") -> PairData:
    comparer = StoryComparer(embedder=view_encoder(encoder), view=view)
    return featurize_pairs(read_pairs(csv), comparer, enrich)


def fit(features: np.ndarray, gold: np.ndarray) -> tuple[Pipeline, Pipeline]:
    """The regressor over all features and its fallback without the second view's."""
    return make_regressor().fit(features, gold), make_regressor().fit(features[:, FIRST_VIEW_COLUMNS], gold)


def cross_validate(data: PairData, fallback_only: bool = False) -> dict[str, np.ndarray]:
    """Out-of-fold predictions for every target, folds grouped by base pair id.

    ``fallback_only`` predicts every pair as if USE v3 knew neither language (what Bulgarian gets)."""
    gold = gold_matrix(data.frame)
    predicted = np.zeros_like(gold)
    for train, test in GroupKFold(n_splits=FOLDS).split(data.features, groups=data.frame.base_id):
        regressor, fallback = fit(data.features[train], gold[train])
        rows = data.features[test].copy()
        if fallback_only:
            rows[:, [FEATURE_NAMES.index(name) for name in SECOND_VIEW_FEATURES]] = np.nan
        predicted[test] = predict_scores(regressor, fallback, rows)
    return {target: predicted[:, column] for column, target in enumerate(GOLD_COLUMNS)}


def print_table(data: PairData, predictions: dict[str, np.ndarray], cosine: np.ndarray) -> dict:
    """CV Pearson of the model next to Pearson of -cosine of full-text embeddings."""
    frame = data.frame
    model_by_pair = pearson_by_pair(frame, predictions["overall"])
    cosine_by_pair = pearson_by_pair(frame, -cosine)
    rows = {
        "overall": (
            len(frame),
            pearson(predictions["overall"], frame.Overall.to_numpy()),
            pearson(-cosine, frame.Overall.to_numpy()),
        )
    }
    rows |= {lp: (v["n"], v["pearson"], cosine_by_pair[lp]["pearson"]) for lp, v in model_by_pair.items()}
    cosine_dims = pearson_by_dimension(frame, dict.fromkeys(GOLD_COLUMNS, -cosine))
    rows |= {
        f"dim:{d}": (len(frame), r, cosine_dims[d])
        for d, r in pearson_by_dimension(frame, predictions).items()
    }
    print(f"{'':18}{'n':>6}{'model':>8}{'-cosine':>9}")
    for name, (n, model_r, cosine_r) in rows.items():
        print(f"{name:18}{n:>6}{model_r:>8.3f}{cosine_r:>9.3f}")
    return {name: {"n": n, "model": m, "cosine": c} for name, (n, m, c) in rows.items()}


def choose_threshold(predicted: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """Predicted-Overall cut with the best F1 for gold "same story"; returns (threshold, F1)."""
    truth = gold <= SAME_STORY_GOLD
    candidates = np.round(np.arange(1.5, 3.01, 0.05), 2)
    scores = [f1_score(truth, predicted <= cut) for cut in candidates]
    best = int(np.argmax(scores))
    return float(candidates[best]), float(scores[best])


def translation_pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(original, machine translation): the one kind of true near-duplicate the data has."""
    by_id = frame.drop_duplicates("pair_id").set_index("pair_id")
    pairs = []
    for row in frame[frame.machine_translated].itertuples():
        if row.base_id not in by_id.index:
            continue
        base = by_id.loc[row.base_id]
        first, second = row.pair_id.split("_")
        if re.search(r"[a-z]", first):
            pairs.append((base.text1, row.text1))
        if re.search(r"[a-z]", second):
            pairs.append((base.text2, row.text2))
    return pairs


def near_duplicate_limits(data: PairData) -> tuple[dict[str, float], dict[str, float]]:
    """Cosine limit that flags at most 1% of different-story pairs; report how many translations pass."""
    pairs = translation_pairs(data.frame)
    rows = np.vstack([pair_features(data.reps[a], data.reps[b]) for a, b in pairs])
    column = FEATURE_NAMES.index
    gold = data.frame.Overall.to_numpy()
    different = data.features[gold > SAME_STORY_GOLD]
    limits = {
        "cos_doc": float(np.quantile(different[:, column("cos_doc")], 0.99)),
        "names_jaccard": float(np.nanquantile(rows[:, column("names_jaccard")], 0.05)),
        "minhash": 0.5,
    }
    judge = CompareModel("", "", FEATURE_NAMES, None, list(GOLD_COLUMNS), 0.0, limits)

    def flagged(feature_rows: np.ndarray) -> float:
        return float(
            np.mean([judge.is_near_duplicate(dict(zip(FEATURE_NAMES, r, strict=True))) for r in feature_rows])
        )

    rates = {
        "translations": len(pairs),
        "translations_flagged": flagged(rows),
        "same_story_pairs_flagged": flagged(data.features[gold <= SAME_STORY_GOLD]),
        "different_story_pairs_flagged": flagged(data.features[gold > SAME_STORY_GOLD]),
    }
    return limits, rates


def measure_views(csv: Path, views: list[str], enrich: bool, encoder: str) -> None:
    """CV Pearson of -cosine and of the whole model for each view, next to its token cost."""
    embedder = view_encoder(encoder)
    print(f"{'view':12}{'tokens/doc':>11}{'-cos r':>9}{'model r':>9}")
    for view in views:
        data = load(csv, view, enrich, encoder)
        tokens = np.mean([sum(embedder.count_tokens(p) for p in rep.passages) for rep in data.reps.values()])
        gold = data.frame.Overall.to_numpy()
        cos_r = pearson(-data.features[:, FEATURE_NAMES.index("cos_doc")], gold)
        model_r = pearson(cross_validate(data)["overall"], gold)
        print(f"{view:12}{tokens:>11.0f}{cos_r:>9.3f}{model_r:>9.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--view", default=DEFAULT_VIEW, choices=sorted(VIEWS))
    parser.add_argument("--cv", action="store_true", help="print the 5-fold CV table")
    parser.add_argument("--views", nargs="*", help="measure these views (all when none given)")
    parser.add_argument(
        "--save", action="store_true", help="also fit on all pairs and write the package model"
    )
    parser.add_argument(
        "--baseline-view", default="full", choices=sorted(VIEWS), help="text for the -cosine column"
    )
    parser.add_argument("--no-enrich", action="store_true", help="skip entity/date extraction")
    parser.add_argument("--encoder", default="title", choices=ENCODERS, help="what embeds the view")
    parser.add_argument("--out", type=Path, default=PACKAGE_MODEL)
    args = parser.parse_args()
    enrich = not args.no_enrich
    if not (args.cv or args.save or args.views is not None):
        parser.error("choose --cv, --save or --views")
    if args.views is not None:
        measure_views(args.csv, args.views or list(VIEWS), enrich, args.encoder)
        return
    started = time.perf_counter()
    data = load(args.csv, args.view, enrich, args.encoder)
    took = time.perf_counter() - started
    print(f"{len(data.frame)} pairs, view {args.view} by {args.encoder}, represented in {took:.0f} s")
    predictions = cross_validate(data)
    baseline = load(args.csv, args.baseline_view, enrich=False, encoder="e5")
    cosine = baseline.features[:, FEATURE_NAMES.index("cos_doc")]
    print(f"-cosine baseline: view {args.baseline_view}")
    table = print_table(data, predictions, cosine)
    without = pearson(cross_validate(data, fallback_only=True)["overall"], data.frame.Overall.to_numpy())
    print(f"overall CV without the second view (the fallback, for languages USE v3 lacks): {without:.3f}")
    threshold, f1 = choose_threshold(predictions["overall"], data.frame.Overall.to_numpy())
    limits, rates = near_duplicate_limits(data)
    print(
        f"same_story: predicted overall <= {threshold} (CV F1 {f1:.3f} vs gold Overall <= {SAME_STORY_GOLD})"
    )
    print(f"near_duplicate limits {limits}: {rates}")
    if args.save:
        regressor, fallback = fit(data.features, gold_matrix(data.frame))
        report = {
            "cv_pearson": table,
            "cv_pearson_fallback": without,
            "same_story_cv_f1": f1,
            "near_duplicate": rates,
            "pairs": len(data.frame),
        }
        embedder_id = view_encoder(args.encoder).model_id
        model = CompareModel(
            args.view,
            embedder_id,
            FEATURE_NAMES,
            regressor,
            list(GOLD_COLUMNS),
            threshold,
            limits,
            report,
            fallback,
        )
        model.save(args.out)
        print(f"saved {args.out} ({args.out.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
