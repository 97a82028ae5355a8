"""The learned judge: feature rows -> SemEval scores, plus the calibrated decision thresholds.

The bundle is trained by ``scripts/train_compare.py`` and shipped as package data
(``compare_model.joblib``), so installing the package needs no training and no data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from storylines.compare.additive import AdditiveRegressor
from storylines.compare.features import FEATURE_NAMES, FIRST_VIEW_COLUMNS
from storylines.compare.packaged import PackagedModel

MODEL_FILE = "compare_model.joblib"
DIMENSIONS = ["geography", "entities", "time", "narrative"]
TARGETS = ["overall", *DIMENSIONS]


@dataclass
class CompareModel(PackagedModel):
    """One multi-output regressor over :data:`storylines.compare.features.FEATURE_NAMES`.

    A spline-expanded ridge: as good as gradient boosting in cross-validation here, and one
    call predicts every target, which keeps ``compare`` near a millisecond.
    """

    PACKAGE: ClassVar[str] = "storylines.compare"
    FILE: ClassVar[str] = MODEL_FILE

    view: str  # which text is embedded (see ``views.py``); representations depend on it
    embedder_id: str
    feature_names: list[str]
    regressor: Any  # fitted scikit-learn regressor, one output column per entry of ``targets``
    targets: list[str]
    same_story_threshold: float  # predicted overall at or below this means "same story"
    near_duplicate: dict[str, float]  # lower limits on cos_doc, names_jaccard and minhash
    report: dict[str, Any] = field(default_factory=dict)  # how it was trained and validated
    # the same regressor fitted without the second view's features, for pairs it cannot judge
    fallback: Any = None

    @property
    def model_id(self) -> str:
        return f"{self.embedder_id}:{self.view}:{len(self.feature_names)}f"

    def predict(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Scores on the 1-4 scale for each target, one per row (from tabulated curves: the
        clusterer calls this several times per article, where scikit-learn's per-call checks and
        transforms cost milliseconds)."""
        regressor, fallback = self._tables
        scores = predict_scores(regressor, fallback, rows).reshape(len(rows), len(self.targets))
        return {target: scores[:, column] for column, target in enumerate(self.targets)}

    @cached_property
    def _tables(self) -> tuple[Any, Any]:
        fallback = AdditiveRegressor.of(self.fallback) if self.fallback is not None else None
        return AdditiveRegressor.of(self.regressor), fallback

    def out_of_fold(
        self, rows: np.ndarray, gold: np.ndarray, groups: Sequence[str], folds: int = 5
    ) -> Iterator[tuple[np.ndarray, CompareModel]]:
        """(held-out row indices, this model refitted on the other rows) per grouped fold, so a
        measurement on the held-out pairs uses a model that never saw them."""
        from sklearn.base import clone
        from sklearn.model_selection import GroupKFold

        for fit, held in GroupKFold(folds).split(rows, groups=groups):
            fallback = self.fallback
            if fallback is not None:
                fallback = clone(fallback).fit(rows[fit][:, FIRST_VIEW_COLUMNS], gold[fit])
            regressor = clone(self.regressor).fit(rows[fit], gold[fit])
            yield held, replace(self, regressor=regressor, fallback=fallback)

    def is_near_duplicate(self, features: dict[str, float], titles_only: bool = False) -> bool:
        """Same-language copy (shared shingles) or translation (close vectors, the same names).

        Short titles reach high cosines without being copies, so a pair where either side is
        only a title must share its text (MinHash of character shingles) to count.
        """
        limits = self.near_duplicate
        if features["minhash"] >= limits["minhash"]:
            return True
        if titles_only:
            return False
        names = features["names_jaccard"]
        same_names = bool(np.isnan(names) or names >= limits["names_jaccard"])
        return bool(features["cos_doc"] >= limits["cos_doc"] and same_names)


def predict_scores(regressor: Any, fallback: Any, rows: np.ndarray) -> np.ndarray:
    """Scores clipped to 1-4; rows without the second view (a language USE v3 lacks, such as
    Bulgarian) go to ``fallback``, which never learnt to expect that view."""
    if fallback is None:
        return np.clip(regressor.predict(rows), 1.0, 4.0)
    missing = np.isnan(rows[:, FEATURE_NAMES.index("use_cos")])
    parts = [
        (subset, model.predict(rows[subset][:, columns]))
        for subset, model, columns in (
            (~missing, regressor, slice(None)),
            (missing, fallback, FIRST_VIEW_COLUMNS),
        )
        if subset.any()
    ]
    scores = np.empty((len(rows), *parts[0][1].shape[1:]))
    for subset, predicted in parts:
        scores[subset] = predicted
    return np.clip(scores, 1.0, 4.0)
