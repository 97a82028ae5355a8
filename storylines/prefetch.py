"""Run the next batches' cheap stages in a thread while the current batch is embedded.

Embedding (ONNX Runtime, numpy's BLAS) releases the GIL, so reading and enriching the next
batches in a background thread keeps the second core busy instead of leaving it idle between
embedding calls.  The queue is bounded: at most ``depth`` prepared batches wait, so memory stays
flat on any input size.  Errors raised in the thread are raised again in the caller, in order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")
_DONE = object()


def read_ahead(batches: Iterable[In], prepare: Callable[[In], Out], depth: int = 2) -> Iterator[Out]:
    """``prepare(batch)`` for every batch, computed up to ``depth`` batches ahead of the consumer."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for batch in batches:
                prepared = prepare(batch)
                while not stop.is_set():
                    try:
                        ready.put(prepared, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, who raises it
            ready.put(error)

    worker = threading.Thread(target=work, name="storylines-read-ahead", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # the consumer stopped early (error, break): let the thread end
        while worker.is_alive():
            try:
                ready.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.1)
