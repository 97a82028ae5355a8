"""Storage: the :class:`Store` interface and its backends, chosen by the URL given to :func:`open_store`."""

from __future__ import annotations

import os
import sqlite3
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


class StoreError(Exception):
    """A store that cannot be used (missing folder, not a database, another model's vectors);
    ``str(exc)`` is a one-line message for the user."""


def resolve_db(db: str | Path | None = None) -> str:
    """The store to use: ``db``, else $STORYLINES_DB, else the user data folder's file."""
    return str(db or os.environ.get(DB_ENV) or default_db_path())


def is_postgres(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


def open_store(db: str | Path | None = None) -> Store:
    """Open (creating the schema if needed) a store: a ``postgresql://`` URL or a SQLite file path."""
    url = resolve_db(db)
    if is_postgres(url):
        from storylines.store.postgres import PostgresStore, psycopg

        try:
            return PostgresStore(url)
        except psycopg.OperationalError as error:
            raise StoreError(f"cannot open store {url}: {str(error).strip().splitlines()[0]}") from error
    path = Path(url)
    if path.is_dir():
        raise StoreError(f"cannot open store {path}: it is a folder, not a store file")
    if not path.parent.is_dir():
        raise StoreError(f"cannot open store {path}: folder {path.parent} does not exist")
    try:
        return SQLiteStore(url)
    except sqlite3.Error as error:
        raise StoreError(f"cannot open store {path}: {error}") from error


__all__ = [
    "DB_ENV",
    "ArticleRef",
    "EventRecord",
    "MembershipChange",
    "SQLiteStore",
    "SearchHit",
    "Store",
    "StoreCounts",
    "StoreError",
    "StoredArticle",
    "StorylineRecord",
    "TextQuery",
    "VectorIndex",
    "default_db_path",
    "is_postgres",
    "open_store",
    "resolve_db",
]
