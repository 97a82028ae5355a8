"""Learn the clusterer's same-event decisions from data and ship them as package models.

    python scripts/train_events.py                   # fit on the earlier 60 % of OG2021 dev, report the rest
    python scripts/train_events.py --holdout 0 --save # fit on all of it: the two package models
    python scripts/train_events.py --body-curve --holdout 0 --save  # after the compare model changed

Run ``scripts/train_title_encoder.py`` with the same ``--holdout`` first: the stream's neighbours
and event centroids come from the vectors the product's index holds (the title encoder's), by that
split's encoder (for ``--holdout 0`` with ``--ship`` or ``--halves-only``, the packaged one).
Either way the two models are written next to that split's title adapters (``title_tuning.training_dir``), so
``STORYLINES_MODEL_DIR=<that folder> storylines eval clusters … --holdout 0.4`` scores the protocol's
models with the product; ``--save`` also copies them into the package.

1. Title view (``compare/same_event_model.joblib``): a classifier over the comparer's pair
   features, fitted on the title pairs the clusterer actually judges: each OG2021 title against
   its nearest earlier titles, labelled by the human-verified events; plus the cosine of the
   title encoder fine-tuned on those titles (``scripts/train_title_encoder.py``, run first), out of
   fold: each time half's pairs scored by the encoder fitted on the other half.
2. Body view: a logistic curve from predicted Overall to P(annotators' Overall ≤ 1.5) on the
   SemEval pairs, with Overall predicted out of fold (5 folds grouped by base pair id).
3. Event join (``cluster/join_model.joblib``): a classifier over event-level features
   (``cluster/event_judge.py``), fitted on a simulated run of the stream, first on the gold
   state, then twice more on the states its own decisions reach (DAgger), so it has seen
   impure events.  Probabilities of step 1 are cross-fitted (5 time blocks) for this.

Only the earlier part of OG2021 is used for fitting; the figure printed for the later part is a
simulation (exact neighbours); the product's figure is ``storylines eval clusters --holdout``.
The shipped models are refitted on everything with the settings the protocol chose.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import SplineTransformer

from storylines.cluster.evaluate import holdout_split, read_labelled, read_semeval_pairs, score
from storylines.cluster.event_judge import MODEL_FILE as JOIN_FILE
from storylines.cluster.event_judge import JoinModel, event_features
from storylines.cluster.timeline import article_day, days_apart
from storylines.compare import StoryComparer, load_comparer
from storylines.compare.evaluate import base_pair_id
from storylines.compare.features import FEATURE_NAMES, pair_features
from storylines.compare.representation import ArticleRepresentation
from storylines.compare.same_event import MODEL_FILE as SAME_EVENT_FILE
from storylines.compare.same_event import SameEventModel
from storylines.embed.title_encoder import load_title_encoder
from storylines.embed.title_tuning import half_adapter_path, training_dir, whole_adapter_path
from storylines.pipeline import default_pipeline
from storylines.settings import ClusterSettings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data"
SAME_EVENT_GOLD = 1.5  # SemEval Overall at or below this: one event ("very similar")
JOIN_THRESHOLD = 0.5  # the natural decision point of a calibrated probability; not tuned on held-out data
BLOCKS = 5
# Features made of the title encoder's cosine (it embeds the view too): on the training titles the
# split's encoder has seen, they are in-sample, so the title classifier leaves them out and reads the
# encoder's cosine out of fold instead.
TITLE_ENCODER_FEATURES = [
    "cos_doc",
    "passage_best_mean",
    "cos_doc_same_lang",
    "cos_doc_other_lang",
    "cos_mean",
    "tuned_cos",
]


def make_classifier(c: float = 0.3) -> Pipeline:
    """Logistic regression on cubic splines of each feature; missing values imputed and flagged."""
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        SplineTransformer(n_knots=4, degree=3),
        LogisticRegression(C=c, max_iter=3000),
    )


class Stream:
    """Titles in time order with their representations, days and gold events."""

    def __init__(self, items: list, reps: list[ArticleRepresentation]):
        self.gold = [item.cluster_id for item in items]
        self.titles = [rep.title for rep in reps]
        self.days = [article_day(item.article) for item in items]
        self.reps = reps
        self.vectors = np.stack([rep.retrieval_vector for rep in reps])  # what the product's index holds

    def neighbours(self, k: int) -> list[np.ndarray]:
        """Exact top-k earlier items by cosine (what the ANN index approximates)."""
        return [np.argsort(-(self.vectors[:a] @ self.vectors[a]))[:k] for a in range(len(self.reps))]

    def pair_rows(self, tops: list[np.ndarray]) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray]:
        pairs = [(a, int(b)) for a, top in enumerate(tops) for b in top]
        rows = np.vstack([pair_features(self.reps[a], self.reps[b]) for a, b in pairs])
        labels = np.array([self.gold[a] == self.gold[b] for a, b in pairs])
        return pairs, rows, labels


def simulate(
    stream: Stream,
    tops: list[np.ndarray],
    prob: dict,
    settings: ClusterSettings,
    join: JoinModel | None,
    mode: str,
) -> tuple[list, list]:
    """Run the event decisions over the stream; ``mode`` teacher|dagger collects training rows."""
    event_of: list = []
    members: dict = defaultdict(list)
    sums: dict = {}
    span: dict = {}
    rows: list = []
    for a in range(len(stream.reps)):
        hits = defaultdict(list)
        for b in tops[a]:
            hits[event_of[b]].append(int(b))
        day = stream.days[a]
        candidates, features = [], []
        for event, members_hit in hits.items():
            gap_last = days_apart(day, span[event][1])
            if gap_last is not None and gap_last > settings.event_days:
                continue
            centroid = sums[event] / np.linalg.norm(sums[event])
            candidates.append(event)
            features.append(
                event_features(
                    [prob[a, b] for b in members_hit],
                    len(members[event]),
                    float(stream.vectors[a] @ centroid),
                    gap_last,
                    days_apart(day, span[event][0]),
                    settings.candidates,
                )
            )
        if mode != "predict":
            for event, row in zip(candidates, features, strict=True):
                majority = Counter(stream.gold[m] for m in members[event]).most_common(1)[0][0]
                rows.append((row, stream.gold[a] == (event if mode == "teacher" else majority)))
        chosen = None
        if mode == "teacher":
            chosen = stream.gold[a]
        elif features and join is not None:
            p = join.probabilities(features)
            best = int(np.argmax(p))
            chosen = candidates[best] if p[best] >= join.threshold else None
        if chosen is None:
            chosen = ("new", a)
        event_of.append(chosen)
        members[chosen].append(a)
        sums[chosen] = sums.get(chosen, 0) + stream.vectors[a]
        first, last = span.get(chosen, (day, day))
        span[chosen] = (
            min(first, day) if first and day else first or day,
            max(last, day) if last and day else last or day,
        )
    return [str(e) for e in event_of], rows


def represent_og(path: Path, holdout: float) -> tuple[list, list[ArticleRepresentation]]:
    """The stream's representations, their tuned (retrieval) vectors by this split's title encoder:
    the packaged one may have seen the held-out titles."""
    items = sorted(read_labelled(path), key=lambda item: (item.time is None, item.time or ""))
    pipeline = default_pipeline()
    articles = [pipeline(item.article) for item in items]
    comparer = StoryComparer(title_encoder=fitted_encoder(whole_adapter_path(holdout)))
    if comparer.embedder.model_id != comparer.title_encoder.model_id:
        sys.exit("the compare model was not fitted on the title encoder's view: run train_compare.py --save")
    return items, comparer.represent_many(articles)


def fitted_encoder(path: Path) -> Any:
    if not path.exists():
        sys.exit(f"no {path}: run scripts/train_title_encoder.py with the same --holdout first")
    return load_title_encoder(path)


def title_cosines(stream: Stream, pairs: np.ndarray, half: int, holdout: float, start: int = 0) -> np.ndarray:
    """Out-of-fold title-encoder cosines: a pair whose later title lies in one time half of the
    training part (titles before ``half`` or from it on) is scored by the encoder fitted on the other
    half (``scripts/train_title_encoder.py --holdout``); ``start``: where ``stream`` begins in the
    training part."""
    later_half = (pairs[:, 0] + start >= half).astype(int)
    cosines = np.zeros(len(pairs), np.float32)
    for part in (0, 1):
        vectors = fitted_encoder(half_adapter_path(1 - part, holdout)).embed_passages(stream.titles)
        chosen = pairs[later_half == part]
        cosines[later_half == part] = (vectors[chosen[:, 0]] * vectors[chosen[:, 1]]).sum(1)
    return cosines


def fit_title_view(train: Stream, tops: list[np.ndarray], half: int, holdout: float) -> tuple:
    """(feature names used, classifier, cross-fitted probabilities by pair); features that titles
    never have (e.g. the USE view, computed from bodies) are left out, and so is the title
    encoder's cosine of the view: for a bare title it is the title cosine, which the classifier
    reads out of fold instead (the packaged encoder's has seen these titles)."""
    pairs, all_rows, labels = train.pair_rows(tops)
    observed = [
        i
        for i in range(all_rows.shape[1])
        if not np.isnan(all_rows[:, i]).all() and FEATURE_NAMES[i] not in TITLE_ENCODER_FEATURES
    ]
    held_out_cosines = title_cosines(train, np.array(pairs), half, holdout)
    print(f"title encoder, out of fold: AUC {roc_auc_score(labels, held_out_cosines):.3f}")
    rows = np.column_stack([all_rows[:, observed], held_out_cosines])
    blocks = np.array([a * BLOCKS // len(train.reps) for a, _ in pairs])
    crossfit = np.zeros(len(pairs))
    for block in range(BLOCKS):
        model = make_classifier().fit(rows[blocks != block], labels[blocks != block])
        crossfit[blocks == block] = model.predict_proba(rows[blocks == block])[:, 1]
    print(
        f"title pairs {len(pairs)} ({labels.mean():.1%} same event); cross-fitted AUC "
        f"{roc_auc_score(labels, crossfit):.3f} (cosine {roc_auc_score(labels, rows[:, 0]):.3f})"
    )
    names = [FEATURE_NAMES[i] for i in observed]
    return names, make_classifier().fit(rows, labels), dict(zip(pairs, crossfit, strict=True))


def fit_join(train: Stream, tops: list[np.ndarray], crossfit: dict, settings: ClusterSettings) -> JoinModel:
    """The join model: fitted on the gold states of a simulated run, then twice more on the states its
    own decisions reach (DAgger)."""
    _, teacher_rows = simulate(train, tops, crossfit, settings, None, "teacher")
    collected = list(teacher_rows)
    for _ in range(3):
        x = np.array([row for row, _ in collected])
        y = np.array([label for _, label in collected])
        join = JoinModel(make_classifier().fit(x, y), JOIN_THRESHOLD)
        _, more = simulate(train, tops, crossfit, settings, join, "dagger")
        collected += more
    return join


def fit_body_curve(pairs_csv: Path) -> tuple[float, float]:
    """Logistic of out-of-fold predicted Overall against annotators' Overall ≤ 1.5."""
    comparer = load_comparer()
    articles, pairs = read_semeval_pairs(pairs_csv)
    pipeline = default_pipeline()
    reps = dict(zip(articles, comparer.represent_many([pipeline(a) for a in articles.values()]), strict=True))
    rows = np.vstack([pair_features(reps[p.first], reps[p.second]) for p in pairs])
    gold = np.array([p.scores(comparer.model.targets) for p in pairs])
    groups = [base_pair_id(p.pair_id) for p in pairs]
    predicted = np.zeros(len(pairs))
    for held, fold_model in comparer.model.out_of_fold(rows, gold, groups):
        predicted[held] = fold_model.predict(rows[held])["overall"]
    same = gold[:, 0] <= SAME_EVENT_GOLD
    curve = LogisticRegression().fit(predicted.reshape(-1, 1), same)
    print(
        f"body pairs {len(pairs)} ({same.mean():.1%} with Overall ≤ {SAME_EVENT_GOLD}); "
        f"AUC of out-of-fold Overall {roc_auc_score(same, -predicted):.3f}"
    )
    return float(curve.coef_[0, 0]), float(curve.intercept_[0])


def refit_body_curve(pairs_csv: Path, holdout: float, save: bool) -> None:
    """Step 2 alone, for when only the compare model changed: steps 1 and 3 are fitted on bare
    title pairs, which never read predicted Overall, so they stay as they are."""
    paths = [training_dir(holdout) / SAME_EVENT_FILE]
    if save:
        paths.append(ROOT / "storylines/compare" / SAME_EVENT_FILE)
    curve = fit_body_curve(pairs_csv)
    for path in paths:
        if not path.exists():
            print(f"skipped {path}: no model there (run without --body-curve first)")
            continue
        model = SameEventModel.load(path)
        print(f"{path}: body curve {model.full_curve} -> {curve}")
        model.full_curve = curve
        model.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--og", type=Path, default=DATA / "og2021-dev/og2021_dev.csv")
    parser.add_argument("--pairs", type=Path, default=DATA / "semeval2022-task8/pairs.csv")
    parser.add_argument("--holdout", type=float, default=0.4, help="later share of the stream held out")
    parser.add_argument("--save", action="store_true", help="also write the package models")
    parser.add_argument(
        "--body-curve",
        action="store_true",
        help="refit only the body view's curve (step 2) in the models this run would write",
    )
    args = parser.parse_args()
    if args.body_curve:
        refit_body_curve(args.pairs, args.holdout, args.save)
        return
    if not args.og.exists():
        sys.exit(f"no OG2021 file at {args.og}")
    settings = ClusterSettings()
    items, reps = represent_og(args.og, args.holdout)
    train_n, _ = holdout_split(len(items), args.holdout)
    train = Stream(items[:train_n], reps[:train_n])
    train_tops = train.neighbours(settings.candidates)
    title_names, title_classifier, crossfit = fit_title_view(train, train_tops, train_n // 2, args.holdout)
    same_event = SameEventModel(
        title_names, title_classifier, fit_body_curve(args.pairs), reads_title_cosine=True
    )
    join = fit_join(train, train_tops, crossfit, settings)
    runs = [("train (cross-fitted)", train, train_tops, crossfit)]
    if train_n < len(items):
        test = Stream(items[train_n:], reps[train_n:])
        fitted = (title_names, title_classifier)
        runs.append(("held-out", test, *held_out_probabilities(test, settings, *fitted, args.holdout)))
    results = {}
    for name, stream, tops, prob in runs:
        predicted, _ = simulate(stream, tops, prob, settings, join, "predict")
        result = score(stream.gold, predicted)
        print(
            f"{name}: B-cubed F1 {result['bcubed_f1']:.3f} "
            f"(P {result['bcubed_p']:.3f} R {result['bcubed_r']:.3f}), "
            f"pairwise F1 {result['pairwise_f1']:.3f}, "
            f"largest {result['largest']} (gold {result['largest_gold']})"
        )
        results[name] = {k: round(v, 4) for k, v in result.items() if isinstance(v, float)}
    join.report = same_event.report = {
        "trained_on": f"OG2021 dev, first {train_n} titles",
        "simulated": results,
    }
    folder = training_dir(args.holdout)
    same_event.save(folder / SAME_EVENT_FILE)
    join.save(folder / JOIN_FILE)
    print(f"wrote {SAME_EVENT_FILE} and {JOIN_FILE} in {folder}")
    if args.save:
        same_event.save(ROOT / "storylines/compare" / SAME_EVENT_FILE)
        join.save(ROOT / "storylines/cluster" / JOIN_FILE)
        print("and in the package")
    print(
        f"join threshold {join.threshold}; candidates {settings.candidates}; "
        f"window {settings.event_days} days"
    )


def held_out_probabilities(
    test: Stream, settings: ClusterSettings, names: list[str], classifier: Any, holdout: float
) -> tuple[list[np.ndarray], dict]:
    """The held-out part's neighbours and pair probabilities, its title cosines from the encoder
    fitted on the training part of this split (the packaged one may have seen these titles)."""
    tops = test.neighbours(settings.candidates)
    pairs, rows, labels = test.pair_rows(tops)
    vectors = fitted_encoder(whole_adapter_path(holdout)).embed_passages(test.titles)
    cosines = np.array([vectors[a] @ vectors[b] for a, b in pairs])
    probabilities = title_pair_probabilities(classifier, names, rows, cosines)
    print(
        f"held-out title pairs: AUC {roc_auc_score(labels, probabilities):.3f} "
        f"(cosine {roc_auc_score(labels, rows[:, 0]):.3f})"
    )
    return tops, dict(zip(pairs, probabilities, strict=True))


def title_pair_probabilities(
    classifier: Any, names: list[str], rows: np.ndarray, cosines: np.ndarray
) -> np.ndarray:
    """The title classifier's P(same event) for pair-feature rows and their title-encoder cosines."""
    columns = [FEATURE_NAMES.index(name) for name in names]
    return classifier.predict_proba(np.column_stack([rows[:, columns], cosines]))[:, 1]


if __name__ == "__main__":
    main()
