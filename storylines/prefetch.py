"""Run ingest's stages as a pipeline of threads, each a batch ahead of the next.

Embedding (ONNX Runtime, numpy's BLAS) releases the GIL, so reading and enriching the next batch
in one thread and embedding the one after in another, while the caller places the batch before,
keeps both cores busy instead of leaving one idle between stages.  The queues are bounded: at most
``depth`` prepared batches wait after each stage, so memory stays flat on any input size.  Errors
raised in a thread are raised again in the caller, in order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")
_DONE = object()


def staged(
    batches: Iterable[Any], stages: Sequence[Callable[[Any], Any]], threads: bool = True, depth: int = 2
) -> Iterator[Any]:
    """Every batch through ``stages`` in order; with ``threads``, each stage runs in its own thread."""
    for stage in stages:
        batches = read_ahead(batches, stage, depth) if threads else map(stage, batches)
    return iter(batches)


def read_ahead(batches: Iterable[In], prepare: Callable[[In], Out], depth: int = 2) -> Iterator[Out]:
    """``prepare(batch)`` for every batch, computed up to ``depth`` batches ahead of the consumer."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        iterator = iter(batches)
        try:
            for batch in iterator:
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
        finally:
            close = getattr(iterator, "close", None)
            if close:  # an earlier stage's generator: let its thread end too
                close()

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
