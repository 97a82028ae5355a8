"""Learned spline models, evaluated in microseconds instead of milliseconds.

The decision models (impute → cubic splines per feature → logistic regression) and the compare
model (the same, ending in a multi-output ridge) are additive in their inputs: each output is a
constant plus one curve per feature.  scikit-learn spends ~1–8 ms
per ``predict_proba`` call on validation and transforms, several times per placed article; here
each curve is tabulated once on a fine grid over the spline's range (constant beyond it, as the
splines extrapolate), with its value for a missing input kept apart, and then read back with
``np.interp``.  ``max_error`` reports the largest difference to the original on probe rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

GRID = 2_049


class AdditiveTables:
    """Every output's curve per input of a fitted impute → spline → linear pipeline.

    ``response(pipeline, rows)`` is the additive quantity: the logit of a classifier, the
    predictions of a regressor.
    """

    def __init__(self, pipeline: Any, response: Callable[[Any, np.ndarray], np.ndarray], grid: int = GRID):
        splines = pipeline.named_steps["splinetransformer"]
        n_features = pipeline.n_features_in_
        low = np.array([b.t[b.k] for b in splines.bsplines_[:n_features]])
        high = np.array([b.t[-b.k - 1] for b in splines.bsplines_[:n_features]])
        self.grids = np.linspace(low, high, grid).T  # (features, grid)
        reference = np.asarray(pipeline.named_steps["simpleimputer"].statistics_, dtype=np.float64)
        base = _columns(response(pipeline, reference[None, :]))[0]
        rows = np.repeat(reference[None, :], n_features * (grid + 1), axis=0)
        for feature in range(n_features):
            block = slice(feature * (grid + 1), (feature + 1) * (grid + 1))
            rows[block, feature] = [*self.grids[feature], np.nan]
        curves = (_columns(response(pipeline, rows)) - base).reshape(n_features, grid + 1, len(base))
        self.tables, self.missing = curves[:, :grid], curves[:, grid]  # (features, grid|, outputs)
        self.intercept = base

    @classmethod
    def of(cls, model: Any) -> Any:
        """Tables (of the subclass's kind) for a tabulable pipeline; any other model as it is."""
        return cls(model) if cls.tabulable(model) else model

    @staticmethod
    def tabulable(model: Any) -> bool:
        """A spline pipeline whose imputer kept every column (a dropped all-missing column shifts
        the spline columns, which the tables cannot follow)."""
        steps = getattr(model, "named_steps", {})
        if "splinetransformer" not in steps or "simpleimputer" not in steps:
            return False
        return not np.isnan(steps["simpleimputer"].statistics_).any()

    def values(self, rows: np.ndarray) -> np.ndarray:
        """(rows, outputs): the tabulated response, read off the uniform grids by linear
        interpolation (clamped at the ends, as ``np.interp`` does) for all features at once."""
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        low, high = self.grids[:, 0], self.grids[:, -1]
        steps = self.grids.shape[1] - 1
        missing = np.isnan(rows)
        span = np.maximum(high - low, np.finfo(np.float64).tiny)
        position = np.clip((np.where(missing, low, rows) - low) / span * steps, 0, steps)
        below = np.minimum(position.astype(np.intp), steps - 1)
        weight = (position - below)[..., None]
        features = np.arange(len(low))
        curve = self.tables[features, below] * (1 - weight) + self.tables[features, below + 1] * weight
        curve = np.where(missing[..., None], self.missing[None, :, :], curve)  # (rows, features, outputs)
        return self.intercept + curve.sum(axis=1)


class AdditiveLogit(AdditiveTables):
    """``predict_proba``-compatible tables of a fitted impute → spline → logistic pipeline."""

    def __init__(self, pipeline: Any, grid: int = GRID):
        super().__init__(pipeline, lambda model, rows: model.decision_function(rows), grid)
        low, high = self.grids[:, 0], self.grids[:, -1]
        self.probe_error = self.max_error(pipeline, _probe_rows(low, high))

    def logit(self, rows: np.ndarray) -> np.ndarray:
        return self.values(rows)[:, 0]

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        positive = 1.0 / (1.0 + np.exp(-self.logit(rows)))
        return np.column_stack([1.0 - positive, positive])

    def max_error(self, pipeline: Any, rows: np.ndarray) -> float:
        """Largest probability difference to the pipeline itself on ``rows``."""
        return float(np.abs(self.predict_proba(rows)[:, 1] - pipeline.predict_proba(rows)[:, 1]).max())


class AdditiveRegressor(AdditiveTables):
    """``predict``-compatible tables of a fitted impute → spline → linear regression pipeline."""

    def __init__(self, pipeline: Any, grid: int = GRID):
        super().__init__(pipeline, lambda model, rows: model.predict(rows), grid)
        self.single_output = np.ndim(pipeline.predict(self.grids[:, :1].T)) == 1

    def predict(self, rows: np.ndarray) -> np.ndarray:
        values = self.values(rows)
        return values[:, 0] if self.single_output else values

    def max_error(self, pipeline: Any, rows: np.ndarray) -> float:
        """Largest difference to the pipeline's own predictions on ``rows``."""
        return float(np.abs(self.predict(rows) - pipeline.predict(rows)).max())


def _columns(values: np.ndarray) -> np.ndarray:
    """A response as (rows, outputs)."""
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(len(values), -1)


def _probe_rows(low: np.ndarray, high: np.ndarray, n: int = 512) -> np.ndarray:
    """Random rows over (and a little beyond) each feature's range, some values missing."""
    rng = np.random.default_rng(0)
    span = high - low
    rows = rng.uniform(low - 0.1 * span, high + 0.1 * span, size=(n, len(low)))
    rows[rng.random(rows.shape) < 0.1] = np.nan
    return rows
