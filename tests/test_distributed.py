"""Dask ingest: the CPU stages on workers give the clusters of a plain run, and a re-run skips all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storylines.engine import Engine
from storylines.ingest import read_paths
from storylines.service import IngestService
from tests.test_cluster_double import CosineComparer
from tests.test_ingest_cli import write_corpus

pytest.importorskip("distributed", reason="Dask ingest needs the distributed extra")


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    from storylines.distributed import open_client

    with open_client(workers=2) as dask_client:
        yield dask_client


def partition(engine: Engine, ids: list[str]) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for article_id in ids:
        groups.setdefault(engine.store.get_article(article_id).event_id, set()).add(article_id)
    return {frozenset(group) for group in groups.values()}


@pytest.mark.slow
def test_workers_give_the_clusters_of_one_process_and_resume(tmp_path: Path, client: object) -> None:
    from storylines.distributed import FILES_PER_TASK, run_distributed

    corpus = tmp_path / "corpus"
    write_corpus(corpus, 3 * FILES_PER_TASK + 5)  # several tasks, the last one short
    (corpus / "empty.txt").write_text("")
    ids = [item.id for item in read_paths([str(corpus)]) if hasattr(item, "id")]
    with Engine.open(tmp_path / "one.db", CosineComparer()) as engine:
        IngestService(engine).run(read_paths([str(corpus)]))
        expected = partition(engine, ids)
    with Engine.open(tmp_path / "dask.db", CosineComparer()) as engine:
        report = run_distributed(IngestService(engine), [str(corpus)], client)
        assert report.stored == len(ids) and [s.reason for s in report.skipped.first] == ["empty file"]
        assert partition(engine, ids) == expected and engine.store.check_integrity() == []
        again = run_distributed(IngestService(engine), [str(corpus)], client)
        assert again.stored == 0 and again.already_stored == len(ids)
