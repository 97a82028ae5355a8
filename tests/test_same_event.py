"""P(same event) per view: the title classifier with its learned projection, the body curve."""

from __future__ import annotations

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer

from storylines.compare.features import FEATURE_NAMES
from storylines.compare.same_event import SameEventModel, project

DIM = 8


def _model(projection: np.ndarray) -> SameEventModel:
    """A title classifier that reads one ordinary feature and the projected cosine (last column)."""
    rng = np.random.default_rng(0)
    cosine = rng.uniform(-1, 1, 400)
    rows = np.column_stack([rng.uniform(0, 1, 400), cosine])
    classifier = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        SplineTransformer(n_knots=4, degree=3),
        LogisticRegression(max_iter=2000),
    ).fit(rows, cosine > 0.3)
    return SameEventModel(["minhash"], classifier, (-3.0, 6.0), title_projection=projection)


def test_project_maps_and_normalises_rows():
    rng = np.random.default_rng(1)
    vectors, projection = rng.normal(size=(5, DIM)), rng.normal(size=(DIM, DIM))
    mapped = project(vectors, projection)
    np.testing.assert_allclose(np.linalg.norm(mapped, axis=1), 1.0, rtol=1e-5)
    expected = vectors @ projection
    np.testing.assert_allclose(mapped, expected / np.linalg.norm(expected, axis=1, keepdims=True), rtol=1e-4)


def test_title_pairs_read_the_projected_cosine_and_body_pairs_the_curve():
    # the projection keeps only the first axis: vectors that agree there are "the same" after it
    projection = np.zeros((DIM, DIM), np.float32)
    projection[0, 0], projection[1, 1] = 1.0, 0.01
    model = _model(projection)
    first = np.eye(DIM, dtype=np.float32)[0] + np.eye(DIM, dtype=np.float32)[1]
    others = np.stack([np.eye(DIM)[0], -np.eye(DIM)[0] + np.eye(DIM)[1] * 0.1]).astype(np.float32)
    rows = np.zeros((2, len(FEATURE_NAMES)))
    overall = np.array([1.2, 3.8])

    titles = model.probabilities(rows, FEATURE_NAMES, overall, np.array([True, True]), (first, others))
    assert titles[0] > 0.9 > 0.1 > titles[1]

    bodies = model.probabilities(rows, FEATURE_NAMES, overall, np.array([False, False]), (first, others))
    np.testing.assert_allclose(bodies, 1 / (1 + np.exp(-(-3.0 * overall + 6.0))))


def test_the_shipped_model_carries_its_title_projection():
    model = SameEventModel.load()
    assert model.title_projection is not None
    assert model.title_projection.shape == (384, 384)
