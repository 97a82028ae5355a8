"""Shared fixtures of the serve tests: the four samples ingested for real, once per session.

Embedding is the slow part (about a second per article), so the store is built once and every
test that writes gets its own copy of the files.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from storylines.serve.app import create_app

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
# Development data beside the repository (../shared); tests that need it skip without it.
DEV_PAIRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval2022-task8" / "pairs.csv"
API_KEY = "test-key-1234"
XSS_TITLE = '<script>window.__pwned = "title"</script><img src=x onerror="window.__pwned = \'img\'">'
XSS_TEXT = (  # unrelated to the seeds, so it forms a storyline of its own
    "A bakery in Springfield won the county prize for rye bread. "
    "<img src=x onerror=\"window.__pwned = 'body'\"> "
    "<script>window.__pwned = 'body-script'</script> The owner said the recipe came from her grandmother."
)


@cache
def _build_sample_store(session_tmp: Path) -> Path:
    """Cached on the session's temp root: modules importing the fixture share one build."""
    from storylines.cluster.online import OnlineStoryClusterer
    from storylines.compare import load_comparer
    from storylines.ingest import read_paths
    from storylines.pipeline import default_pipeline
    from storylines.store import open_store

    pipeline = default_pipeline()
    articles = [pipeline(item) for item in read_paths([str(SAMPLES / name) for name in _seed_names()])]
    folder = session_tmp / "sample-store"
    folder.mkdir()
    store = open_store(folder / "samples.db")
    clusterer = OnlineStoryClusterer(load_comparer(), store)
    clusterer.partial_fit(articles)
    clusterer.close()
    store.close()  # checkpoints the WAL so that copying the .db file copies everything
    return folder / "samples.db"


def _seed_names() -> list[str]:
    return sorted(path.name for path in SAMPLES.glob("00[0-3]_*.txt"))


def copy_store(source: Path, folder: Path) -> Path:
    """A private copy of a closed store and its vector index."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in source.parent.glob(f"{source.name}*"):
        shutil.copy(path, folder / path.name)
    return folder / source.name


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four seeds, read, enriched, embedded and clustered by the real engine (read-only)."""
    return _build_sample_store(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def client(sample_db: Path) -> Iterator[TestClient]:
    """A read-only client over the shared sample store."""
    with TestClient(create_app(sample_db, api_key=API_KEY)) as test_client:
        yield test_client


@pytest.fixture
def writable_db(sample_db: Path, tmp_path: Path) -> Path:
    return copy_store(sample_db, tmp_path / "store")
