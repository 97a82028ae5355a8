"""Pair features: what the learned model sees when judging two representations."""

from __future__ import annotations

from datetime import date

import numpy as np

from storylines.compare.lexical import minhash_similarity
from storylines.compare.representation import ArticleRepresentation

FEATURE_NAMES = [
    "cos_doc",
    "passage_best_mean",
    "minhash",
    "numbers_jaccard",
    "numbers_shared",
    "names_jaccard",
    "names_shared",
    "entities_jaccard",
    "people_jaccard",
    "orgs_jaccard",
    "places_jaccard",
    "entities_shared",
    "published_days",
    "event_days",
    "length_ratio",
    "same_lang",
    "same_script",
    "log_min_length",
    "log_max_length",
    "cos_doc_same_lang",
    "cos_doc_other_lang",
    "use_cos",
    "use_cos_other_lang",
    "cos_mean",
    "tuned_cos",
]


# The second view's features: missing for a language USE v3 lacks, where the model falls back
# to its regressor over the other features (CompareModel.fallback).
SECOND_VIEW_FEATURES = ["use_cos", "use_cos_other_lang", "cos_mean"]
FIRST_VIEW_COLUMNS = [i for i, name in enumerate(FEATURE_NAMES) if name not in SECOND_VIEW_FEATURES]


def jaccard(a: set[str], b: set[str]) -> float:
    """NaN when both sides are empty: "nothing to compare" is not "no overlap"."""
    union = len(a | b)
    return len(a & b) / union if union else float("nan")


def passage_similarities(a: ArticleRepresentation, b: ArticleRepresentation) -> np.ndarray:
    """Cosine of every embedded passage of ``a`` against every one of ``b``."""
    return a.passage_vectors @ b.passage_vectors.T


def best_match_mean(sims: np.ndarray) -> float:
    """How well each side's passages find a partner on the other side, averaged both ways."""
    if not sims.size:
        return float("nan")
    return float((sims.max(axis=1).mean() + sims.max(axis=0).mean()) / 2)


def _days(value: str | None) -> date | None:
    if not value or value.startswith("--"):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def days_apart(a: list[str | None], b: list[str | None]) -> float:
    """Smallest distance in days between any date of ``a`` and any of ``b``; NaN if either has none."""
    dates_a = [d for d in map(_days, a) if d]
    dates_b = [d for d in map(_days, b) if d]
    if not dates_a or not dates_b:
        return float("nan")
    return float(min(abs((x - y).days) for x in dates_a for y in dates_b))


def _entities_of(rep: ArticleRepresentation, kind: str | None) -> set[str]:
    return {eid for eid, etype in rep.entities.items() if kind is None or etype == kind}


def _cosine(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """NaN (imputed by the model) where a side lacks the vector: a language USE v3 does not know,
    or a representation stored before the vector existed."""
    return float(a @ b) if a is not None and b is not None else float("nan")


def pair_features(a: ArticleRepresentation, b: ArticleRepresentation) -> np.ndarray:
    """One row of :data:`FEATURE_NAMES`, symmetric in ``a`` and ``b``."""
    names_a, names_b = set(a.name_keys), set(b.name_keys)
    numbers_a, numbers_b = set(a.numbers), set(b.numbers)
    lengths = sorted([max(a.length, 1), max(b.length, 1)])
    cosine = float(a.vector @ b.vector)
    same_lang = bool(a.lang and a.lang == b.lang)
    use_cosine = _cosine(a.use_vector, b.use_vector)
    row = [
        cosine,
        best_match_mean(passage_similarities(a, b)),
        minhash_similarity(a.minhash, b.minhash),
        jaccard(numbers_a, numbers_b),
        float(len(numbers_a & numbers_b)),
        jaccard(names_a, names_b),
        float(len(names_a & names_b)),
        jaccard(_entities_of(a, None), _entities_of(b, None)),
        jaccard(_entities_of(a, "person"), _entities_of(b, "person")),
        jaccard(_entities_of(a, "org"), _entities_of(b, "org")),
        jaccard(_entities_of(a, "place"), _entities_of(b, "place")),
        float(len(_entities_of(a, None) & _entities_of(b, None))),
        days_apart([a.published], [b.published]),
        days_apart(list(a.event_dates), list(b.event_dates)),
        lengths[0] / lengths[1],
        float(a.lang == b.lang) if a.lang and b.lang else float("nan"),
        float(a.script == b.script) if a.script and b.script else float("nan"),
        float(np.log(lengths[0])),
        float(np.log(lengths[1])),
        # cosine runs lower across languages: the interactions let the additive model shift it
        cosine * same_lang,
        cosine * (not same_lang),
        # USE v3 separates stories across languages better than e5, e5 within one language
        use_cosine,
        use_cosine * (not same_lang),
        (cosine + use_cosine) / 2,
        # the title encoder's cosine of the same view: fine-tuned on event titles, it separates
        # stories better than e5 itself (Pearson 0.75 against 0.67 alone on the SemEval dev pairs)
        _cosine(a.tuned_vector, b.tuned_vector),
    ]
    return np.asarray(row, dtype=np.float64)
