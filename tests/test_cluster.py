"""Online clusterer: determinism, no chaining, storylines over events, time, labels, settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from storylines.article import Article, Entity, EventDate
from storylines.cluster.labels import label, merge_stats
from storylines.cluster.online import Assignment, OnlineStoryClusterer
from storylines.cluster.timeline import article_day, days_apart
from storylines.settings import ClusterSettings, SettingsError, parse_overrides
from storylines.store import open_store
from tests.test_cluster_double import AVERAGE_LINK, CosineComparer, VectorRepresentation, word_vector

SYRIA = "putin obama syria ceasefire kremlin coordination military talks"
DAIRY = "cheese farmers normandy protest supermarket margins milk"


def art(words: str, day: str | None = "2016-07-06", lang: str = "en", title: str = "") -> Article:
    return Article(source=f"{lang}.txt", title=title, raw_text=words, published=day, lang=lang)


def clusterer(tmp_path: Path, name: str = "c.db", **settings: float) -> OnlineStoryClusterer:
    """The tests' cosine comparer with plain average link, so the decisions are easy to follow."""
    store = open_store(tmp_path / name)
    return OnlineStoryClusterer(CosineComparer(), store, ClusterSettings(**settings), join_model=AVERAGE_LINK)


def test_same_input_order_gives_same_clusters(tmp_path: Path) -> None:
    stream = [art(f"{SYRIA} extra{i % 3}") for i in range(6)] + [art(f"{DAIRY} w{i}") for i in range(6)]
    runs = [clusterer(tmp_path, f"{n}.db").partial_fit(stream) for n in range(2)]
    assert runs[0] == runs[1]
    assert len({a.event_id for a in runs[0]}) == 2


def test_a_bridging_article_joins_one_event_and_merges_nothing(tmp_path: Path) -> None:
    model = clusterer(tmp_path)
    first, second = model.partial_fit([art("alpha beta gamma delta"), art("epsilon zeta eta theta")])
    assert first.event_id != second.event_id
    model.partial_fit([art("alpha beta gamma delta epsilon zeta eta theta")])
    for event_id in (first.event_id, second.event_id):
        assert model.store.get_event(event_id).merged_into is None
        assert len(model.store.articles_of_event(event_id)) in {1, 2}
    assert model.store.check_integrity() == []


def test_an_event_is_judged_as_a_whole_not_by_its_newest_member(tmp_path: Path) -> None:
    """A chain a → ab → b: each step looks like the last, but b is far from the event as a whole.

    The double's probabilities are word-overlap cosines, not calibrated ones: the threshold is pinned
    so that b (close to one member of three) stays out under average link, as it would join under
    single link at any threshold its newest-member cosine clears."""
    model = clusterer(tmp_path, body_join=0.4)
    words_a, words_b = "alpha beta gamma delta epsilon zeta", "omega psi chi phi upsilon tau"
    stream = [art(words_a), art(f"{words_a} {words_b[:13]}"), art(f"{words_a[:17]} {words_b}"), art(words_b)]
    placed = model.partial_fit(stream)
    assert placed[0].event_id == placed[1].event_id
    assert placed[3].event_id != placed[0].event_id


def test_near_duplicate_joins_its_twin_and_triggers_nothing(tmp_path: Path) -> None:
    model = clusterer(tmp_path)
    original, other = model.partial_fit([art(SYRIA), art(DAIRY)])
    (copy,) = model.partial_fit([art(f"{SYRIA}.")])
    assert copy.duplicate_of == original.article_id and copy.event_id == original.event_id
    assert not copy.new_event and not copy.new_storyline and other.event_id != copy.event_id


def test_related_events_weeks_apart_share_a_storyline(tmp_path: Path) -> None:
    model = clusterer(tmp_path)
    call, briefing, dairy = model.partial_fit(
        [art(SYRIA, "2016-07-06"), art(f"{SYRIA} peskov briefing", "2016-07-14"), art(DAIRY, "2016-07-07")]
    )
    assert call.event_id != briefing.event_id, "eight days apart: two events"
    assert briefing.new_event and not briefing.new_storyline
    assert call.storyline_id == briefing.storyline_id != dairy.storyline_id


def test_storylines_do_not_chain_through_a_bridging_article(tmp_path: Path) -> None:
    model = clusterer(tmp_path, storyline_overall=2.2)
    a, b = model.partial_fit(
        [art("alpha beta gamma delta", "2016-01-01"), art("epsilon zeta eta theta", "2016-02-01")]
    )
    assert a.storyline_id != b.storyline_id
    (bridge,) = model.partial_fit([art("alpha beta gamma delta epsilon zeta eta theta", "2016-03-01")])
    assert model.store.get_storyline(b.storyline_id).merged_into is None
    assert bridge.storyline_id in {a.storyline_id, b.storyline_id} or bridge.new_storyline


def test_a_new_event_must_fit_the_storyline_core(tmp_path: Path) -> None:
    """Drifting one word at a time, later events stop fitting the storyline's founding reports."""
    model = clusterer(tmp_path, storyline_overall=2.0, event_days=0)
    words = [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "zeta",
        "eta",
        "theta",
        "iota",
        "kappa",
        "lambda",
        "mu",
    ]
    days = [f"2016-01-{d:02d}" for d in range(1, 13)]
    placed = model.partial_fit([art(" ".join(words[i : i + 6]), days[i]) for i in range(6)])
    assert placed[1].storyline_id == placed[0].storyline_id
    assert placed[5].storyline_id != placed[0].storyline_id


def test_year_less_dates_still_separate_events_and_unknown_ones_do_not(tmp_path: Path) -> None:
    model = clusterer(tmp_path)
    feb, jul, undated = model.partial_fit(
        [art(f"{SYRIA} {n}", day) for n, day in [("a", "--02-14"), ("b", "2016-07-06"), ("c", None)]]
    )
    assert feb.event_id != jul.event_id and feb.storyline_id == jul.storyline_id
    assert undated.event_id in {feb.event_id, jul.event_id}


def test_a_day_the_text_mentions_is_bounded_by_the_wider_window(tmp_path: Path) -> None:
    """Ten days apart: two events between publication days, one between days read from the text;
    months apart still separate them."""

    def mentioned(words: str, day: str) -> Article:
        return Article(source="en.txt", raw_text=words, lang="en", event_dates=[EventDate(day, day)])

    model = clusterer(tmp_path, event_days=3, mentioned_event_days=30)
    published = model.partial_fit([art(f"{SYRIA} a", "2016-07-06"), art(f"{SYRIA} b", "2016-07-16")])
    assert published[0].event_id != published[1].event_id
    texts = model.partial_fit(
        [
            mentioned(f"{DAIRY} a", "--03-01"),
            mentioned(f"{DAIRY} b", "--03-11"),
            mentioned(f"{DAIRY} c", "--09-11"),
        ]
    )
    assert texts[0].event_id == texts[1].event_id != texts[2].event_id
    assert model.store.get_event(texts[0].event_id).stats["published_days"] == []


class TitleRetrievalComparer(CosineComparer):
    """Judges bodies, but finds neighbours by titles: what the index holds is the representation's
    retrieval vector, not its judged vector."""

    def represent_many(self, articles: list[Article]) -> list[VectorRepresentation]:
        reps = super().represent_many(articles)
        for rep, article in zip(reps, articles, strict=True):
            rep.retrieval = word_vector(article.title, self.dim)
        return reps


def test_the_index_holds_retrieval_vectors(tmp_path: Path) -> None:
    comparer = TitleRetrievalComparer()
    model = OnlineStoryClusterer(comparer, open_store(tmp_path / "r.db"), join_model=AVERAGE_LINK)
    article = art(SYRIA, title="dairy farmers protest")
    model.partial_fit([article])
    stored = model.store.get_article(article.id)
    expected = word_vector("dairy farmers protest", comparer.dim)
    assert np.allclose(model.store.vectors_of([stored.rowid])[0], expected, atol=1e-3)  # kept as float16
    ids, _ = model.index.search(expected, 1)
    assert list(ids) == [stored.rowid]


def test_article_day_prefers_publication_then_text_dates() -> None:
    dated = Article("s", "t", "x", published="2016-07-14T10:00:00")
    from_text = Article("s", "t", "x", event_dates=[EventDate("--07-06", "July 6")])
    assert (article_day(dated), article_day(from_text), article_day(Article("s"))) == (
        "2016-07-14",
        "--07-06",
        None,
    )
    assert days_apart("--12-30", "2016-01-02") == 3 and days_apart("2016-01-01", None) is None


def test_labels_prefer_english_title_and_count_everything(tmp_path: Path) -> None:
    model = clusterer(tmp_path, body_join=0.3)
    bg = art(SYRIA, lang="bg", title="Путин и Обама")
    bg.entities = [Entity("Q:putin", "Putin", "person"), Entity("Q:syria", "Syria", "place")]
    en = art(f"{SYRIA} call", lang="en", title="Putin and Obama talk Syria")
    en.entities = [Entity("Q:putin", "Putin", "person")]
    first, second = model.partial_fit([bg, en])
    assert first.event_id == second.event_id
    event_label = label(model.store.get_event(first.event_id).stats)
    assert event_label.title == "Putin and Obama talk Syria" and event_label.languages == {"bg": 1, "en": 1}
    assert event_label.entities == ["Putin"] and event_label.places == ["Syria"]
    assert (event_label.first_day, event_label.last_day) == ("2016-07-06", "2016-07-06")
    assert (
        label(merge_stats({}, {"langs": {"bg": 2}, "titles": {"bg": ["Заглавие", 1.0]}})).title_lang == "bg"
    )


def test_reports_with_bodies_join_by_their_own_threshold_not_the_title_views(tmp_path: Path) -> None:
    stream = [art("alpha beta gamma delta"), art("alpha beta epsilon zeta")]
    first, second = CosineComparer().represent_many(stream)
    cosine = float(first.vector @ second.vector)  # the double's same-event probability
    loose = clusterer(tmp_path, "loose.db", body_join=cosine - 0.01, event_join=0.99).partial_fit(stream)
    strict = clusterer(tmp_path, "strict.db", body_join=cosine + 0.01, event_join=0.01).partial_fit(stream)
    assert loose[0].event_id == loose[1].event_id
    assert strict[0].event_id != strict[1].event_id


def test_assignment_of_stored_article_is_reported_not_redone(tmp_path: Path) -> None:
    model = clusterer(tmp_path)
    (first,) = model.partial_fit([art(SYRIA)])
    calls = model.comparer.compare_calls
    (again,) = model.partial_fit([art(SYRIA)])
    assert again == Assignment(first.article_id, first.event_id, first.storyline_id, already_stored=True)
    assert model.comparer.compare_calls == calls


def test_settings_are_saved_with_the_store_and_validated(tmp_path: Path) -> None:
    clusterer(tmp_path, event_days=2.0).close()
    reopened = OnlineStoryClusterer(CosineComparer(), open_store(tmp_path / "c.db"))
    assert reopened.settings.event_days == 2.0
    with pytest.raises(SettingsError, match="event_days"):
        reopened.settings.with_overrides({"event_days": -1})
    with pytest.raises(SettingsError, match="NAME=VALUE"):
        parse_overrides(["event_days"])
    assert parse_overrides(["candidates=30", "event_join=0.4"]) == {"candidates": 30, "event_join": 0.4}


def test_a_store_refuses_another_comparer(tmp_path: Path) -> None:
    clusterer(tmp_path).close()
    with pytest.raises(SettingsError, match="holds vectors of model"):
        OnlineStoryClusterer(CosineComparer(dim=32), open_store(tmp_path / "c.db"))
