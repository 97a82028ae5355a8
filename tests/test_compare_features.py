"""Pair features, lexical signals and the representation's byte format."""

from __future__ import annotations

import math

import numpy as np
from sklearn.dummy import DummyRegressor

from storylines.compare.features import (
    FEATURE_NAMES,
    SECOND_VIEW_FEATURES,
    days_apart,
    jaccard,
    pair_features,
)
from storylines.compare.lexical import minhash_signature, minhash_similarity, name_keys, numbers
from storylines.compare.model import predict_scores
from storylines.compare.representation import ArticleRepresentation


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def make_rep(article_id: str, text: str, vectors: list[np.ndarray], **extra) -> ArticleRepresentation:
    rows = np.vstack(vectors).astype(np.float32)
    mean = rows.mean(axis=0)
    return ArticleRepresentation(
        article_id=article_id,
        vector=(mean / np.linalg.norm(mean)).astype(np.float32),
        passage_vectors=rows,
        passages=[f"s{i}" for i in range(len(rows))],
        minhash=minhash_signature(text),
        name_keys=name_keys(text),
        numbers=numbers(text),
        length=len(text),
        **extra,
    )


def test_names_match_across_scripts_and_case_endings():
    russian = name_keys("Президент России Владимир Путин поговорил с Бараком Обамой")
    english = name_keys("Russian President Vladimir Putin spoke with Barack Obama")
    assert {"puti", "obam", "bara", "vlad"} <= set(russian) & set(english)


def test_numbers_ignore_separators_and_single_digits():
    assert numbers("On 14 February 2016, 1,500 troops and 3 jets") == ["14", "1500", "2016"]


def test_minhash_estimates_shingle_overlap():
    text = "Russian and US presidents discussed the ceasefire in Syria by telephone on Sunday."
    assert minhash_similarity(minhash_signature(text), minhash_signature(text)) == 1.0
    other = minhash_signature("A completely different report about football transfers in Spain.")
    assert minhash_similarity(minhash_signature(text), other) < 0.2


def test_jaccard_is_nan_when_there_is_nothing_to_compare():
    assert math.isnan(jaccard(set(), set()))
    assert jaccard({"a", "b"}, {"b"}) == 0.5


def test_days_apart_uses_the_closest_dates_and_skips_unknown_years():
    assert days_apart(["2016-02-14", "2016-03-01"], ["2016-02-16"]) == 2.0
    assert math.isnan(days_apart(["--02-14"], ["2016-02-14"]))
    assert math.isnan(days_apart([None], ["2016-02-14"]))


def test_pair_features_are_symmetric_and_named():
    a = make_rep(
        "a",
        "Putin called Obama on 14 February 2016.",
        [unit(1, 0, 0), unit(1, 1, 0)],
        entities={"Q:putin": "person", "place:syria": "place"},
        lang="en",
        published="2016-02-14",
    )
    b = make_rep(
        "b",
        "Путин позвонил Обаме 14 февраля 2016 года.",
        [unit(1, 0.1, 0)],
        entities={"Q:putin": "person"},
        lang="ru",
        published="2016-02-15",
    )
    forward, backward = pair_features(a, b), pair_features(b, a)
    np.testing.assert_allclose(forward, backward, equal_nan=True)
    named = dict(zip(FEATURE_NAMES, forward, strict=True))
    assert len(forward) == len(FEATURE_NAMES)
    assert named["people_jaccard"] == 1.0 and named["places_jaccard"] == 0.0
    assert named["published_days"] == 1.0 and named["same_lang"] == 0.0
    assert named["numbers_shared"] == 2.0 and named["names_shared"] == 1.0
    assert 0.0 < named["passage_best_mean"] <= 1.0


def test_representation_round_trips_through_bytes():
    rep = make_rep(
        "abc",
        "Ердоган и Путин в Сочи 2016",
        [unit(1, 2, 3), unit(3, 2, 1)],
        entities={"Q:putin": "person"},
        entity_names={"Q:putin": "Владимир Путин"},
        event_dates=["2016-07-06"],
        lang="ru",
        title="Заголовок",
    )
    blob = rep.to_bytes()
    back = ArticleRepresentation.from_bytes(blob)
    np.testing.assert_array_equal(back.vector, rep.vector)
    np.testing.assert_allclose(back.passage_vectors, rep.passage_vectors, atol=1e-3)
    np.testing.assert_array_equal(back.minhash, rep.minhash)
    assert (back.entities, back.entity_names, back.title) == (rep.entities, rep.entity_names, rep.title)
    assert back.lang == "ru" and back.passages == rep.passages
    assert len(blob) < 2000 + 2 * 384 * len(rep.passages)


def test_second_view_round_trips_and_older_blobs_read_without_it():
    older = make_rep("old", "Putin called Obama.", [unit(1, 0, 0)], lang="en")
    blob = older.to_bytes()
    assert b"use_dim" not in blob  # a representation without the view is byte for byte the old format
    assert ArticleRepresentation.from_bytes(blob).use_vector is None
    newer = make_rep("new", "Putin called Obama.", [unit(1, 0, 0)], lang="en", use_vector=unit(3, 4))
    back = ArticleRepresentation.from_bytes(newer.to_bytes())
    np.testing.assert_allclose(back.use_vector, unit(3, 4), atol=1e-3)
    np.testing.assert_array_equal(back.minhash, newer.minhash)


def test_title_vector_round_trips_with_or_without_the_second_view():
    for extra in ({}, {"use_vector": unit(3, 4)}, {"tuned_vector": unit(2, 0, 1)}):
        rep = make_rep("t", "Putin called Obama.", [unit(1, 0, 0)], title_vector=unit(1, 2, 2), **extra)
        back = ArticleRepresentation.from_bytes(rep.to_bytes())
        np.testing.assert_allclose(back.title_vector, unit(1, 2, 2), atol=1e-3)
        assert (back.use_vector is None) == (rep.use_vector is None)
        assert (back.tuned_vector is None) == (rep.tuned_vector is None)
    assert ArticleRepresentation.from_bytes(make_rep("u", "x", [unit(1, 0)]).to_bytes()).title_vector is None


def test_every_optional_vector_comes_back_where_it_was():
    """Each optional vector has its own length in the header, so any subset reads back in place."""
    vectors = {"use_vector": unit(3, 4), "title_vector": unit(1, 2, 2), "tuned_vector": unit(1, 1, 1, 1)}
    for missing in [None, *vectors]:
        extra = {name: vector for name, vector in vectors.items() if name != missing}
        back = ArticleRepresentation.from_bytes(make_rep("v", "x", [unit(1, 0)], **extra).to_bytes())
        for name, vector in vectors.items():
            if name == missing:
                assert getattr(back, name) is None
            else:
                np.testing.assert_allclose(getattr(back, name), vector, atol=1e-3)


def test_the_tuned_cosine_is_missing_where_a_side_was_stored_without_it():
    a = make_rep("a", "Putin called Obama.", [unit(1, 0, 0)], tuned_vector=unit(1, 0))
    b = make_rep("b", "Putin phoned Obama.", [unit(1, 0.2, 0)], tuned_vector=unit(1, 1))
    old = make_rep("c", "Putin phoned Obama.", [unit(1, 0.2, 0)])
    tuned = FEATURE_NAMES.index("tuned_cos")
    assert math.isclose(pair_features(a, b)[tuned], float(unit(1, 0) @ unit(1, 1)), rel_tol=1e-6)
    assert math.isnan(pair_features(a, old)[tuned])


def test_second_view_features_are_missing_when_one_side_lacks_it():
    english = make_rep("en", "Putin called Obama.", [unit(1, 0, 0)], lang="en", use_vector=unit(1, 0))
    other = make_rep("en2", "Putin phoned Obama.", [unit(1, 0.2, 0)], lang="en", use_vector=unit(1, 1))
    bulgarian = make_rep("bg", "Путин се обади на Обама.", [unit(1, 0.1, 0)], lang="bg")
    both = dict(zip(FEATURE_NAMES, pair_features(english, other), strict=True))
    assert math.isclose(both["use_cos"], float(unit(1, 0) @ unit(1, 1)), rel_tol=1e-6)
    assert both["use_cos_other_lang"] == 0.0
    one = dict(zip(FEATURE_NAMES, pair_features(english, bulgarian), strict=True))
    assert all(math.isnan(one[name]) for name in SECOND_VIEW_FEATURES)
    assert not math.isnan(one["cos_doc"])


def test_pairs_without_the_second_view_are_judged_by_the_fallback():
    rows = np.ones((3, len(FEATURE_NAMES)))
    rows[1, FEATURE_NAMES.index("use_cos")] = np.nan
    constant = [1.5, 3.5]  # what the main regressor and the fallback always answer
    regressor, fallback = (DummyRegressor(constant=[c]).fit(rows[:1, :2], [c]) for c in constant)
    scores = predict_scores(regressor, fallback, rows)
    assert scores.tolist() == [1.5, 3.5, 1.5]
