"""P(same event) per view: the title classifier with the title encoder's cosine, the body curve."""

from __future__ import annotations

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer

from storylines.compare.comparer import title_cosines
from storylines.compare.features import FEATURE_NAMES
from storylines.compare.representation import ArticleRepresentation
from storylines.compare.same_event import SameEventModel


def _model() -> SameEventModel:
    """A title classifier that reads one ordinary feature and the title cosine (last column)."""
    rng = np.random.default_rng(0)
    cosine = rng.uniform(-1, 1, 400)
    rows = np.column_stack([rng.uniform(0, 1, 400), cosine])
    classifier = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        SplineTransformer(n_knots=4, degree=3),
        LogisticRegression(max_iter=2000),
    ).fit(rows, cosine > 0.3)
    return SameEventModel(["minhash"], classifier, (-3.0, 6.0), reads_title_cosine=True)


def test_title_pairs_read_the_title_cosine_and_body_pairs_the_curve():
    model = _model()
    rows = np.zeros((2, len(FEATURE_NAMES)))
    overall = np.array([1.2, 3.8])
    cosines = np.array([0.95, -0.5])

    titles = model.probabilities(rows, FEATURE_NAMES, overall, np.array([True, True]), cosines)
    assert titles[0] > 0.9 > 0.1 > titles[1]

    bodies = model.probabilities(rows, FEATURE_NAMES, overall, np.array([False, False]), cosines)
    np.testing.assert_allclose(bodies, 1 / (1 + np.exp(-(-3.0 * overall + 6.0))))


def test_a_missing_title_vector_is_imputed_not_an_error():
    titles = _model().probabilities(
        np.zeros((1, len(FEATURE_NAMES))),
        FEATURE_NAMES,
        np.array([2.0]),
        np.array([True]),
        np.array([np.nan]),
    )
    assert 0.0 < titles[0] < 1.0


def _rep(article_id: str, title_vector: np.ndarray | None) -> ArticleRepresentation:
    empty = np.zeros((0, 2), np.float32)
    return ArticleRepresentation(
        article_id, np.ones(2, np.float32), empty, [], np.zeros(4, np.uint32), title_vector=title_vector
    )


def test_title_cosines_are_nan_where_a_side_has_no_title_vector():
    unit = np.array([1.0, 0.0], np.float32)
    a = _rep("a", unit)
    others = [_rep("b", unit), _rep("c", None), _rep("d", np.array([0.0, 1.0], np.float32))]
    np.testing.assert_allclose(title_cosines(a, others), [1.0, np.nan, 0.0])
    assert np.isnan(title_cosines(_rep("e", None), others)).all()


def test_the_shipped_model_reads_the_title_encoder():
    model = SameEventModel.load()
    assert model.reads_title_cosine
