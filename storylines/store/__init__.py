"""Storage: the :class:`Store` interface and its backends, chosen by the URL given to :func:`open_store`."""

from __future__ import annotations

import os
from pathlib import Path

from storylines.store.base import (
    ArticleRef,
    EventRecord,
    MembershipChange,
    SearchHit,
    Store,
    StoreCounts,
    StoredArticle,
    StorylineRecord,
    TextQuery,
    VectorIndex,
)
from storylines.store.sqlite import SQLiteStore

DB_ENV = "STORYLINES_DB"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def default_db_path() -> Path:
    """``storylines.db`` in the user's data folder (platformdirs), created on demand."""
    import platformdirs

    folder = Path(platformdirs.user_data_dir("storylines"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "storylines.db"


def resolve_db(db: str | Path | None = None) -> str:
    """The store to use: ``db``, else $STORYLINES_DB, else the user data folder's file."""
    return str(db or os.environ.get(DB_ENV) or default_db_path())


def is_postgres(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


def open_store(db: str | Path | None = None) -> Store:
    """Open (creating the schema if needed) a store: a ``postgresql://`` URL or a SQLite file path."""
    url = resolve_db(db)
    if is_postgres(url):
        from storylines.store.postgres import PostgresStore

        return PostgresStore(url)
    return SQLiteStore(url)


__all__ = [
    "DB_ENV",
    "ArticleRef",
    "EventRecord",
    "MembershipChange",
    "SQLiteStore",
    "SearchHit",
    "Store",
    "StoreCounts",
    "StoredArticle",
    "StorylineRecord",
    "TextQuery",
    "VectorIndex",
    "default_db_path",
    "is_postgres",
    "open_store",
    "resolve_db",
]
