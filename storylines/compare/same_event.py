"""P(same event) for a pair of reports, calibrated per view: titles only, or texts with bodies.

The Overall model is fitted on ~1,000-character SemEval texts; on title-only pairs its scores
rank "same event" worse than plain cosine.  So each view gets its own calibration, learned by
``scripts/train_events.py``: a classifier over the same pair features fitted on title pairs of a
real stream (OG2021), and a logistic curve over predicted Overall for pairs with bodies (SemEval
pairs, Overall ≤ 1.5 counting as one event).  Which one applies depends on what both sides hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from storylines.compare.additive import AdditiveLogit
from storylines.compare.packaged import PackagedModel

MODEL_FILE = "same_event_model.joblib"
BODY_MIN_CHARS = 80  # text beyond the title below which a report counts as title-only


def title_only(length: int, title: str) -> bool:
    """A report whose text adds fewer than ``BODY_MIN_CHARS`` characters to its title."""
    return length < len(title) + BODY_MIN_CHARS


@dataclass
class SameEventModel(PackagedModel):
    PACKAGE: ClassVar[str] = "storylines.compare"
    FILE: ClassVar[str] = MODEL_FILE
    feature_names: list[str]  # columns of the pair-feature row the title classifier reads
    title_classifier: Any  # fitted scikit-learn classifier: title-pair features -> P(same event)
    full_curve: tuple[float, float]  # (slope, intercept) of the logistic over predicted Overall
    report: dict[str, Any] = field(default_factory=dict)
    # the classifier's last column is the title encoder's cosine (embed/title_encoder.py)
    reads_title_cosine: bool = False

    @cached_property
    def _title_tables(self) -> Any:
        return AdditiveLogit.of(self.title_classifier)

    def probabilities(
        self,
        rows: np.ndarray,
        all_names: list[str],
        overall: np.ndarray,
        titles_only: np.ndarray,
        title_cosines: np.ndarray,
    ) -> np.ndarray:
        """One probability per pair row; ``titles_only`` marks pairs where a side has no body;
        ``title_cosines``: the title encoder's cosine per pair (NaN where a side has none)."""
        slope, intercept = self.full_curve
        result = 1.0 / (1.0 + np.exp(-(slope * overall + intercept)))
        if titles_only.any():
            columns = [all_names.index(name) for name in self.feature_names]
            picked = rows[titles_only][:, columns]
            if self.reads_title_cosine:
                picked = np.column_stack([picked, title_cosines[titles_only]])
            result[titles_only] = self._title_tables.predict_proba(picked)[:, 1]
        return result
