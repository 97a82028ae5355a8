"""The engine: the one place where the parts are chosen and put together.

``Engine.open(db)`` opens the store named by a file path or a ``postgresql://`` URL, takes its
vector index (owned by the store, so the clusterer and search share one), picks the comparer
(passed in explicitly; ``$STORYLINES_COMPARER`` is a convenience read here and only here), checks
that the store was filled with that comparer and embedder, and loads the settings saved with the
store.  Every entry point (CLI, API, ``eval clusters``, tests, benchmarks) opens one.
"""

from __future__ import annotations

import importlib
import os
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from storylines.settings import ClusterSettings, SettingsError, load_settings
from storylines.store import Store, VectorIndex, open_store

if TYPE_CHECKING:
    from storylines.cluster.online import OnlineStoryClusterer
    from storylines.compare.types import Comparer

COMPARER_ENV = "STORYLINES_COMPARER"
EMBEDDER_KEY = "embedder_id"


def comparer_from_spec(spec: str | None = None) -> Comparer:
    """The comparer named ``"module:Class"`` (default: $STORYLINES_COMPARER), else the product's.

    The variable plugs in another judge (a bigger model, or a cheap one for crash tests) from the
    command line; code passes a comparer to :meth:`Engine.open` instead.
    """
    spec = spec or os.environ.get(COMPARER_ENV)
    if spec:
        module, _, name = spec.partition(":")
        return getattr(importlib.import_module(module), name)()
    from storylines.compare import load_comparer

    return load_comparer()


def _embedder_id(comparer: Comparer) -> str | None:
    embedder = getattr(comparer, "embedder", None)
    return getattr(embedder, "model_id", None)


class Engine:
    """Holds the store, its vector index, the comparer, the settings and the clusterer."""

    def __init__(self, store: Store, comparer: Comparer, settings: ClusterSettings):
        self.store = store
        self.comparer = comparer
        self.settings = settings
        self.index: VectorIndex = store.vector_index(comparer.dim)

    @classmethod
    def open(
        cls,
        db: str | Path | None = None,
        comparer: Comparer | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> Engine:
        """Open the store at ``db`` (path, ``postgresql://`` URL, $STORYLINES_DB or the default).

        Raises :class:`~storylines.settings.SettingsError` when the store belongs to another
        comparer model or embedder: their vectors and scores do not mix.
        """
        store = open_store(db)
        try:
            comparer = comparer or comparer_from_spec()
            settings = load_settings(store, comparer.model_id, overrides)
            _claim_embedder(store, comparer)
            return cls(store, comparer, settings)
        except BaseException:
            store.close()
            raise

    @property
    def url(self) -> str:
        return self.store.url

    @cached_property
    def clusterer(self) -> OnlineStoryClusterer:
        from storylines.cluster.online import OnlineStoryClusterer

        return OnlineStoryClusterer(self.comparer, self.store, self.settings, index=self.index)

    def close(self) -> None:
        """Persist the vector index where it is a cache, then close the store."""
        self.index.save()
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _claim_embedder(store: Store, comparer: Comparer) -> None:
    """A comparer model is calibrated on one embedder; a store remembers which one filled it."""
    embedder_id = _embedder_id(comparer)
    if embedder_id is None:
        return
    stored = store.get_meta(EMBEDDER_KEY)
    if stored is None:
        with store.transaction():
            store.set_meta(EMBEDDER_KEY, embedder_id)
    elif stored != embedder_id:
        raise SettingsError(f"{store.url} holds vectors of embedder {stored!r}, not {embedder_id!r}")
