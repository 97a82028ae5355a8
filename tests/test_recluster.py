"""``storylines recluster``: re-placing a window in time order repairs order damage, keeps ids by
majority, leaves everything outside the window alone, and is a no-op when run again."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from storylines.article import Article
from storylines.cli import main
from storylines.cluster.recluster import majority_mapping, parse_since, recluster, window_articles
from storylines.engine import Engine
from tests.test_cli_errors import run_main
from tests.test_cluster_double import CosineComparer
from tests.test_ingest_cli import DOUBLE

CORE = "alpha beta gamma delta epsilon zeta eta theta"
# Cosines with the test double: P·Q 0.42 (apart: two events), each of them 0.56-0.60 with R and R2.
P = CORE + " " + " ".join(f"pn{i}" for i in range(8))
Q = CORE + " " + " ".join(f"qn{i}" for i in range(8))
R, R2 = f"{CORE} iota", f"{CORE} kappa"
DAIRY = "cheese farmers normandy protest supermarket margins milk"
# average link at 0.5 for both views: the cosines above are set around it
AT_HALF = {"event_join": 0.5, "body_join": 0.5}


def art(words: str, day: str | None) -> Article:
    return Article(source=f"{words[:12]}.txt", title="", raw_text=words, published=day, lang="en")


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """Average link at 0.5 (the decision rule the clusterer applies to full texts), the double."""
    with Engine.open(store_url, CosineComparer(), AT_HALF) as opened:
        yield opened


def place(engine: Engine, articles: list[Article]) -> dict[str, tuple[int, int]]:
    return {a.article_id: (a.event_id, a.storyline_id) for a in engine.clusterer.partial_fit(articles)}


def events_now(engine: Engine, articles: list[Article]) -> list[int | None]:
    return [engine.store.get_article(a.id).event_id for a in articles]


def test_time_order_repairs_an_event_split_by_arrival_order(engine: Engine) -> None:
    old = art(DAIRY, "2016-06-20")
    p, q, r, r2 = art(P, "2016-07-05"), art(Q, "2016-07-05"), art(R, "2016-07-04"), art(R2, "2016-07-04")
    before = place(engine, [old, p, q, r, r2])  # the later reports first: Q cannot join P
    assert len({before[a.id][0] for a in (p, q, r, r2)}) == 2
    majority = before[q.id]  # Q, R and R2 formed one event, P one of its own

    report = recluster(engine, timedelta(days=3))

    assert events_now(engine, [p, q, r, r2]) == [majority[0]] * 4
    assert (report.articles, report.moved) == (4, 1)
    assert (report.events_kept, report.events_created, report.events_removed) == (1, 0, 1)
    assert (report.storylines_kept, report.storylines_removed) == (1, 1)
    split_off = engine.store.get_event(before[p.id][0])
    assert split_off.merged_into == majority[0] and split_off.size == 0
    assert engine.store.get_storyline(before[p.id][1]).merged_into == majority[1]
    assert engine.store.get_event(majority[0]).size == 4
    assert [c.reason for c in engine.store.history(p.id)][-1] == "reclustered"
    assert engine.store.get_article(old.id).event_id == before[old.id][0]
    assert engine.store.history(old.id)[-1].reason == "new event"
    assert engine.store.check_integrity() == []


def test_a_second_pass_changes_nothing(engine: Engine) -> None:
    articles = damaged(engine)
    first = recluster(engine, timedelta(days=3))
    history = {a.id: engine.store.history(a.id) for a in articles}
    second = recluster(engine, timedelta(days=3))
    assert second.assignments == first.assignments
    assert (second.moved, second.events_created, second.events_removed, second.storylines_created) == (0,) * 4
    assert {a.id: engine.store.history(a.id) for a in articles} == history


def test_an_undamaged_clustering_keeps_every_id(engine: Engine) -> None:
    articles = [art(R, "2016-07-04"), art(R2, "2016-07-04"), art(DAIRY, "2016-07-05")]
    before = place(engine, articles)
    report = recluster(engine, timedelta(days=7))
    assert report.assignments == before and report.moved == 0
    assert (report.events_kept, report.events_created, report.events_removed) == (2, 0, 0)


def test_articles_outside_the_window_stay_and_their_events_keep_their_ids(engine: Engine) -> None:
    """An event straddling the window start keeps its id and its older members; window articles
    are placed against it as it stands without them."""
    outside = art(f"{CORE} lambda", "2016-07-03")
    inside = [art(P, "2016-07-05"), art(R, "2016-07-04")]
    before = place(engine, [outside, *inside])
    assert {e for e, _ in before.values()} == {before[outside.id][0]}
    window, start, end = window_articles(engine.store, timedelta(days=1))
    assert [a.id for a in window] == [inside[1].id, inside[0].id]  # in time order
    assert (start, end) == ("2016-07-04T00:00:00+00:00", "2016-07-05T00:00:00+00:00")

    report = recluster(engine, timedelta(days=1))

    assert report.articles == 2 and report.moved == 0 and report.events_kept == 1
    assert engine.store.history(outside.id)[-1].reason == "new event"
    assert engine.store.get_event(before[outside.id][0]).size == 3


def test_one_days_reports_are_replayed_by_the_time_their_input_gave(engine: Engine) -> None:
    evening, morning, feed, unparsed = (
        art(R, "2016-07-04"),
        art(R2, "2016-07-04"),
        art(P, "2016-07-04"),
        art(Q, "2016-07-04"),
    )
    evening.published_hint, morning.published_hint = "2016-07-04 21:00:00", "2016-07-04T08:00:00+00:00"
    feed.published_hint, unparsed.published_hint = "Mon, 04 Jul 2016 12:00:00 GMT", "4 July 2016"
    place(engine, [evening, morning, feed, unparsed])
    window, _, _ = window_articles(engine.store, timedelta(days=1))
    assert [a.id for a in window] == [
        unparsed.id,
        morning.id,
        feed.id,
        evening.id,
    ]  # no time: the day's start


def test_undated_articles_are_windowed_by_ingest_time(engine: Engine) -> None:
    old, undated = art(DAIRY, "2016-07-01"), art(R, None)
    place(engine, [old, undated])
    window, _, _ = window_articles(engine.store, timedelta(hours=12))
    assert [a.id for a in window] == [undated.id]  # ingested now, long after the dated one's day


def test_empty_store_has_an_empty_window(engine: Engine) -> None:
    report = recluster(engine, timedelta(days=3))
    assert report.articles == 0 and report.start is None


def test_majority_mapping_takes_the_largest_overlaps_first_and_each_id_once() -> None:
    from collections import Counter

    overlaps = Counter({(10, 1): 3, (11, 1): 5, (11, 2): 1, (12, 2): 2, (13, 3): 1})
    assert majority_mapping(overlaps) == {11: 1, 12: 2, 13: 3}


@pytest.mark.parametrize(("text", "hours"), [("12h", 12), ("3d", 72), ("1.5d", 36), (" 7D ", 168)])
def test_since_reads_hours_and_days(text: str, hours: float) -> None:
    assert parse_since(text) == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["", "3", "0d", "-1d", "3w", "d3", "3 days"])
def test_since_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="12h or 3d"):
        parse_since(text)


def test_cli_reclusters_and_refuses_a_bad_since(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "cli.db"
    with Engine.open(db, CosineComparer(), AT_HALF) as opened:
        place(
            opened, [art(P, "2016-07-05"), art(Q, "2016-07-05"), art(R, "2016-07-04"), art(R2, "2016-07-04")]
        )
    monkeypatch.setenv("STORYLINES_COMPARER", DOUBLE)
    status, err = run_main(monkeypatch, capsys, "recluster", "--db", str(db), "--since", "3 weeks")
    assert status == 2 and "--since" in err and "12h or 3d" in err and "Traceback" not in err
    monkeypatch.setattr(sys, "argv", ["storylines", "recluster", "--db", str(db), "--since", "2d"])
    with pytest.raises(SystemExit) as ended:
        main()
    out = capsys.readouterr().out
    assert not ended.value.code and "reclustered 4 articles" in out and "1 moved" in out


def damaged(engine: Engine) -> list[Article]:
    """Four reports of one event stored later-first, so that the online pass split them."""
    articles = [art(P, "2016-07-05"), art(Q, "2016-07-05"), art(R, "2016-07-04"), art(R2, "2016-07-04")]
    place(engine, articles)
    return articles


def test_a_crash_while_writing_leaves_the_old_clustering(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = damaged(engine)
    before = ({a.id: engine.store.get_article(a.id) for a in articles}, engine.store.counts())
    histories = {a.id: engine.store.history(a.id) for a in articles}

    def crash(*_: object) -> None:
        raise RuntimeError("crash after the articles moved")

    monkeypatch.setattr(engine.store, "merge_events", crash)
    with pytest.raises(RuntimeError):
        recluster(engine, timedelta(days=3))
    assert ({a.id: engine.store.get_article(a.id) for a in articles}, engine.store.counts()) == before
    assert {a.id: engine.store.history(a.id) for a in articles} == histories
    assert engine.store.check_integrity() == []


def test_articles_stored_meanwhile_stop_the_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second writer on a SQLite file (PostgreSQL's placement lock makes it wait instead)."""
    from storylines.cluster import recluster as module

    db = tmp_path / "busy.db"
    with Engine.open(db, CosineComparer(), AT_HALF) as opened:
        articles = damaged(opened)
        events = events_now(opened, articles)
        replay = module._WindowView.replay

        def replay_while_another_writes(view: module._WindowView, engine: Engine) -> None:
            replay(view, engine)
            with Engine.open(db, CosineComparer()) as other:
                place(other, [art(DAIRY, "2016-07-05")])

        monkeypatch.setattr(module._WindowView, "replay", replay_while_another_writes)
        with pytest.raises(module.ReclusterConflict, match="run it again"):
            recluster(opened, timedelta(days=3))
        assert events_now(opened, articles) == events
