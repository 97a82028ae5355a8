"""One read connection shared by the server's worker threads, one call at a time.

Python's sqlite3 lets a connection cross threads but not be used by two at once, and a
connection per thread would multiply caches and file handles; reads take well under a
millisecond, so a lock costs little.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any


class LockedStore:
    """Proxy that runs every store method under one lock (generators: each step under it)."""

    def __init__(self, store: Any):
        self._store = store
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute
        return self._locked(attribute)

    def _locked(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                result = method(*args, **kwargs)
            return self._stepwise(result) if inspect.isgenerator(result) else result

        return call

    def _stepwise(self, generator: Iterator[Any]) -> Iterator[Any]:
        while True:
            with self._lock:
                try:
                    item = next(generator)
                except StopIteration:
                    return
            yield item
