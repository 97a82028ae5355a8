"""The ingest service isolates records: a failure at any stage skips one article, not the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from storylines.article import Article
from storylines.engine import Engine
from storylines.service import IngestService
from tests.test_cluster_double import CosineComparer

POISON = "poison"


class FragileComparer(CosineComparer):
    """Embedding raises for any batch holding a poisoned article."""

    def represent_many(self, articles: list[Article]) -> list:
        if any(POISON in article.title for article in articles):
            raise RuntimeError("embedder crashed")
        return super().represent_many(articles)


def _articles(titles: list[str]) -> list[Article]:
    return [Article(source=f"{title}.txt", title=title, raw_text=f"{title} report body") for title in titles]


def test_a_failing_stage_skips_only_its_article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Engine.open(tmp_path / "s.db", FragileComparer()) as engine:

        def enrich(article: Article) -> Article:
            if "bad enrichment" in article.title:
                raise ValueError("stage broke")
            return article

        service = IngestService(engine, pipeline=enrich, batch_size=4)  # type: ignore[arg-type]
        place = engine.clusterer.place

        def fragile_place(article: Article, representation: object) -> object:
            if "bad placement" in article.title:
                raise RuntimeError("disk full")
            return place(article, representation)

        monkeypatch.setattr(engine.clusterer, "place", fragile_place)
        titles = ["alpha", "bad enrichment", POISON, "beta", "bad placement", "gamma"]
        report = service.run(_articles(titles))
        assert report.read == 6 and report.stored == 3 and report.skipped.total == 3
        assert sorted(item.reason.split(":")[0] for item in report.skipped.first) == [
            "embedding failed",
            "enrichment failed",
            "storing failed",
        ]
        assert engine.store.counts().articles == 3 and engine.store.check_integrity() == []
        known = _articles(["alpha", "beta"])
        again = service.run(known)
        assert again.already_stored == 2 and again.already_stored_ids == [a.id for a in known]


def _partition(engine: Engine) -> list[tuple[str, int | None]]:
    return sorted(
        (article.id, article.event_id)
        for storyline in engine.store.list_storylines(limit=1000)
        for event in engine.store.events_of_storyline(storyline.id)
        for article in engine.store.articles_of_event(event.id)
    )


def _ingest_tally(db: Path, titles: list[str], overlap: bool) -> tuple:
    """What a run reports (counts, skips, known ids, reads seen per batch) and stores (the partition)."""
    with Engine.open(db, FragileComparer()) as engine:
        service = IngestService(engine, pipeline=lambda article: article, batch_size=3)  # type: ignore[arg-type]
        seen_reads: list[int] = []
        report = service.run(_articles(titles), on_batch=lambda r: seen_reads.append(r.read), overlap=overlap)
        skips = [(item.source, item.reason) for item in report.skipped.first]
        counts = (report.read, report.stored, report.already_stored, report.skipped.total, report.new_events)
        return counts, skips, report.already_stored_ids, seen_reads, _partition(engine)


def test_the_pipelined_run_stores_and_reports_what_the_serial_run_does(tmp_path: Path) -> None:
    topics = ["Putin Obama call Syria talks", "Dairy farmers protest cheese prices", "Storm floods coast"]
    titles = [f"{topics[i % 3]} {i}" for i in range(40)] + [POISON, "alpha", "alpha"]
    results = [_ingest_tally(tmp_path / f"{overlap}.db", titles, overlap) for overlap in (False, True)]
    assert results[0] == results[1]
    counts, skips, known, seen_reads, _ = results[0]
    assert counts[:4] == (43, 41, 1, 1) and len(skips) == 1 and len(known) == 1
    assert seen_reads == sorted(seen_reads) and seen_reads[-1] == 43
