"""Online clusterer: determinism, merges by a late article, storylines, time, labels."""

from __future__ import annotations

from pathlib import Path

from storylines.article import Article, Entity, EventDate
from storylines.cluster.labels import label, merge_stats
from storylines.cluster.online import Assignment, ClusterSettings, OnlineStoryClusterer
from storylines.cluster.timeline import article_day, days_apart
from storylines.store import open_store
from tests.test_cluster_double import CosineComparer

SYRIA = "putin obama syria ceasefire kremlin coordination military talks"
DAIRY = "cheese farmers normandy protest supermarket margins milk"


def art(words: str, day: str | None = "2016-07-06", lang: str = "en", title: str = "") -> Article:
    return Article(source=f"{lang}.txt", title=title, raw_text=words, published=day, lang=lang)


def clusterer(tmp_path: Path, name: str = "c.db", **settings: float) -> OnlineStoryClusterer:
    return OnlineStoryClusterer(CosineComparer(), open_store(tmp_path / name), ClusterSettings(**settings))


def test_same_input_order_gives_same_clusters(tmp_path: Path) -> None:
    stream = [art(f"{SYRIA} extra{i % 3}") for i in range(6)] + [art(f"{DAIRY} w{i}") for i in range(6)]
    runs = [clusterer(tmp_path, f"{n}.db").partial_fit(stream) for n in range(2)]
    assert runs[0] == runs[1]
    assert len({a.event_id for a in runs[0]}) == 2


def test_late_article_merges_two_events(tmp_path: Path) -> None:
    model = clusterer(tmp_path, event_overall=2.1, merge_overall=2.1)
    first, second = model.partial_fit([art("alpha beta gamma delta"), art("epsilon zeta eta theta")])
    assert first.event_id != second.event_id
    (bridge,) = model.partial_fit([art("alpha beta gamma delta epsilon zeta eta theta")])
    assert bridge.merged_events == [second.event_id] and bridge.event_id == first.event_id
    members = model.store.articles_of_event(first.event_id)
    assert len(members) == 3 and model.store.get_event(second.event_id).merged_into == first.event_id
    assert model.store.check_integrity() == []


def test_related_events_weeks_apart_share_a_storyline(tmp_path: Path) -> None:
    model = clusterer(tmp_path)
    call, briefing, dairy = model.partial_fit(
        [art(SYRIA, "2016-07-06"), art(f"{SYRIA} peskov briefing", "2016-07-14"), art(DAIRY, "2016-07-07")]
    )
    assert call.event_id != briefing.event_id, "eight days apart: two events"
    assert briefing.new_event and not briefing.new_storyline
    assert call.storyline_id == briefing.storyline_id != dairy.storyline_id


def test_storylines_link_through_a_bridging_article(tmp_path: Path) -> None:
    model = clusterer(tmp_path, storyline_overall=2.2)
    a, b = model.partial_fit(
        [art("alpha beta gamma delta", "2016-01-01"), art("epsilon zeta eta theta", "2016-02-01")]
    )
    assert a.storyline_id != b.storyline_id
    (bridge,) = model.partial_fit([art("alpha beta gamma delta epsilon zeta eta theta", "2016-03-01")])
    assert bridge.merged_storylines == [b.storyline_id] and bridge.storyline_id == a.storyline_id
    assert [c.reason for c in model.store.history(f"event:{b.event_id}")][
        -1
    ] == f"storyline {b.storyline_id} merged"


def test_year_less_dates_still_separate_events_and_unknown_ones_do_not(tmp_path: Path) -> None:
    model = clusterer(tmp_path)
    feb, jul, undated = model.partial_fit(
        [art(f"{SYRIA} {n}", day) for n, day in [("a", "--02-14"), ("b", "2016-07-06"), ("c", None)]]
    )
    assert feb.event_id != jul.event_id and feb.storyline_id == jul.storyline_id
    assert undated.event_id in {feb.event_id, jul.event_id}


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
    model = clusterer(tmp_path, event_overall=2.5)
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


def test_assignment_of_stored_article_is_reported_not_redone(tmp_path: Path) -> None:
    model = clusterer(tmp_path)
    (first,) = model.partial_fit([art(SYRIA)])
    calls = model.comparer.compare_calls
    (again,) = model.partial_fit([art(SYRIA)])
    assert again == Assignment(first.article_id, first.event_id, first.storyline_id, already_stored=True)
    assert model.comparer.compare_calls == calls
