"""Does a new report belong to an existing event?  Judged against the event as a whole.

Joining an event because one member looks alike (single link) lets events chain into each
other.  Here a candidate event is described by what all of its retrieved members say
(strongest and mean same-event probability, how many of its members were retrieved), by the
new report's cosine to the event's mean vector, by its size and by the days since its first and
last report; a small classifier learned on a real stream (``scripts/train_events.py``, OG2021
titles, trained on the states the clusterer itself reaches) turns that into a probability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from storylines.compare.additive import AdditiveLogit
from storylines.compare.packaged import PackagedModel

MODEL_FILE = "join_model.joblib"
EVENT_FEATURES = [
    "max_p",
    "mean_p",
    "n_hits",
    "log_size",
    "coverage",
    "cos_centroid",
    "days_since_last",
    "days_since_first",
    "sum_p",
]


def event_features(
    probabilities: list[float],
    size: int,
    cos_centroid: float,
    days_since_last: float | None,
    days_since_first: float | None,
    candidates: int,
) -> list[float]:
    """One row of :data:`EVENT_FEATURES`; unknown gaps stay NaN (the model imputes them)."""
    p = np.asarray(probabilities, dtype=np.float64)
    return [
        float(p.max()),
        float(p.mean()),
        float(len(p)),
        math.log1p(size),
        len(p) / max(min(size, candidates), 1),
        cos_centroid,
        float("nan") if days_since_last is None else days_since_last,
        float("nan") if days_since_first is None else days_since_first,
        float(p.sum()),
    ]


@dataclass
class JoinModel(PackagedModel):
    PACKAGE: ClassVar[str] = "storylines.cluster"
    FILE: ClassVar[str] = MODEL_FILE
    classifier: Any  # fitted scikit-learn classifier over EVENT_FEATURES rows
    threshold: float  # join probability at or above which a report joins its best event
    report: dict[str, Any] = field(default_factory=dict)  # how it was trained and validated

    @cached_property
    def _tables(self) -> Any:
        return AdditiveLogit.of(self.classifier)

    def probabilities(self, rows: list[list[float]]) -> np.ndarray:
        """P(join) per row, from the classifier's tabulated curves (see ``compare/additive.py``)."""
        return self._tables.predict_proba(np.asarray(rows, dtype=np.float64))[:, 1]
