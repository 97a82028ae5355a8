"""Storage: the :class:`Store` interface, its SQLite backend and the vector index beside it."""

from __future__ import annotations

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


def open_store(path: str | Path | None = None) -> Store:
    """Open (creating if needed) the store at ``path``, or the default one."""
    return SQLiteStore(str(path or default_db_path()))


__all__ = [
    "ArticleRef",
    "EventRecord",
    "MembershipChange",
    "SQLiteStore",
    "SearchHit",
    "Store",
    "StoreCounts",
    "StoredArticle",
    "StorylineRecord",
    "default_db_path",
    "open_store",
]
