"""Storage: the :class:`Store` interface, its SQLite backend and the vector index beside it."""

from __future__ import annotations

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
)
from storylines.store.sqlite import SQLiteStore


def default_db_path() -> Path:
    """``storylines.db`` in the user's data folder (platformdirs), created on demand."""
    import platformdirs

    folder = Path(platformdirs.user_data_dir("storylines"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "storylines.db"


class StoreError(Exception):
    """A store that cannot be used (missing folder, not a database, another model's vectors);
    ``str(exc)`` is a one-line message for the user."""


def open_store(path: str | Path | None = None) -> Store:
    """Open (creating if needed) the store at ``path``, or the default one."""
    path = Path(path or default_db_path())
    if path.is_dir():
        raise StoreError(f"cannot open store {path}: it is a folder, not a store file")
    if not path.parent.is_dir():
        raise StoreError(f"cannot open store {path}: folder {path.parent} does not exist")
    try:
        return SQLiteStore(str(path))
    except sqlite3.Error as error:
        raise StoreError(f"cannot open store {path}: {error}") from error


__all__ = [
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
    "default_db_path",
    "open_store",
]
