"""Tabulated spline-logistic models give the same probabilities as scikit-learn, missing values included."""

from __future__ import annotations

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer

from storylines.cluster.event_judge import JoinModel
from storylines.compare.additive import AdditiveLogit


def test_tables_match_the_pipeline_with_missing_values() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 3))
    y = (np.sin(2 * x[:, 0]) + x[:, 1] ** 2 - 1 > 0).astype(int)
    x[rng.random(x.shape) < 0.1] = np.nan
    pipeline = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        SplineTransformer(n_knots=5),
        LogisticRegression(max_iter=2000),
    ).fit(x, y)
    tables = AdditiveLogit.of(pipeline)
    probe = rng.normal(scale=2, size=(200, 3))
    probe[rng.random(probe.shape) < 0.2] = np.nan
    assert tables.max_error(pipeline, probe) < 1e-4 and tables.probe_error < 1e-4


def test_the_shipped_join_model_reads_its_tables() -> None:
    model = JoinModel.load()
    rows = [[0.9, 0.8, 3, 1.5, 0.5, 0.95, 0.0, 1.0, 2.4], [0.1, 0.1, 1, 3.0, 0.05, 0.7, np.nan, np.nan, 0.1]]
    fast = model.probabilities(rows)
    assert np.allclose(fast, model.classifier.predict_proba(np.array(rows))[:, 1], atol=1e-4)
    assert fast[0] > 0.5 > fast[1]


def test_regressor_tables_match_the_pipeline_for_every_output() -> None:
    from sklearn.linear_model import RidgeCV

    from storylines.compare.additive import AdditiveRegressor

    rng = np.random.default_rng(4)
    x = rng.normal(size=(400, 3))
    y = np.column_stack([np.sin(2 * x[:, 0]) + x[:, 1] ** 2, np.cos(x[:, 2]) - x[:, 0]])
    x[rng.random(x.shape) < 0.1] = np.nan
    pipeline = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True), SplineTransformer(n_knots=5), RidgeCV()
    ).fit(x, y)
    tables = AdditiveRegressor.of(pipeline)
    probe = rng.normal(scale=2, size=(200, 3))
    probe[rng.random(probe.shape) < 0.2] = np.nan
    assert tables.predict(probe).shape == (200, 2)
    assert tables.max_error(pipeline, probe) < 1e-4


def test_the_shipped_compare_model_predicts_from_its_tables_as_scikit_learn_does() -> None:
    import pickle

    from storylines.compare.model import CompareModel, predict_scores

    model = CompareModel.load()
    rng = np.random.default_rng(5)
    rows = rng.uniform(0, 1, size=(64, len(model.feature_names)))
    rows[rng.random(rows.shape) < 0.15] = np.nan
    fast = model.predict(rows)
    slow = predict_scores(model.regressor, model.fallback, rows)
    for column, target in enumerate(model.targets):
        np.testing.assert_allclose(fast[target], slow[:, column], atol=1e-4)
    assert "_tables" not in pickle.loads(pickle.dumps(model)).__dict__  # derived tables are not saved
