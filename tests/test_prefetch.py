"""Read-ahead of the cheap ingest stages in a thread (storylines/prefetch.py)."""

from __future__ import annotations

import threading
import time

import pytest

from storylines.prefetch import read_ahead, staged


def test_results_come_in_order_and_work_runs_off_the_calling_thread():
    caller = threading.get_ident()
    seen_threads: set[int] = set()

    def prepare(batch: list[int]) -> list[int]:
        seen_threads.add(threading.get_ident())
        return [value * 2 for value in batch]

    batches = [[i, i + 1] for i in range(0, 20, 2)]
    assert list(read_ahead(batches, prepare)) == [[2 * v for v in b] for b in batches]
    assert caller not in seen_threads


def test_prepares_at_most_depth_batches_ahead():
    prepared: list[int] = []

    def prepare(batch: int) -> int:
        prepared.append(batch)
        return batch

    results = read_ahead(range(100), prepare, depth=2)
    assert next(results) == 0
    time.sleep(0.3)
    assert len(prepared) <= 4  # the one taken, two queued, one waiting to be queued
    results.close()


def test_errors_of_the_thread_reach_the_caller_after_earlier_results():
    def prepare(batch: int) -> int:
        if batch == 3:
            raise ValueError("bad batch")
        return batch

    got = []
    with pytest.raises(ValueError, match="bad batch"):
        for value in read_ahead(range(10), prepare):
            got.append(value)
    assert got == [0, 1, 2]


def test_stopping_early_ends_the_thread():
    before = threading.active_count()
    for value in read_ahead(range(1000), lambda batch: batch):
        if value == 5:
            break
    time.sleep(0.3)
    assert threading.active_count() == before


def test_staged_runs_each_stage_in_its_own_thread_and_keeps_order():
    caller = threading.get_ident()
    threads: dict[str, set[int]] = {"double": set(), "label": set()}

    def double(batch: int) -> int:
        threads["double"].add(threading.get_ident())
        return 2 * batch

    def label(batch: int) -> str:
        threads["label"].add(threading.get_ident())
        return f"#{batch}"

    expected = [f"#{2 * b}" for b in range(30)]
    assert list(staged(range(30), [double, label])) == expected
    assert len(threads["double"]) == len(threads["label"]) == 1
    assert threads["double"].isdisjoint(threads["label"])
    assert caller not in threads["double"] | threads["label"]
    assert list(staged(range(30), [double, label], threads=False)) == expected


def test_an_error_in_an_early_stage_reaches_the_caller_and_every_thread_ends():
    def check(batch: int) -> int:
        if batch == 5:
            raise ValueError("bad batch")
        return batch

    before = threading.active_count()
    got = []
    with pytest.raises(ValueError, match="bad batch"):
        for value in staged(range(100), [check, lambda batch: batch + 1]):
            got.append(value)
    assert got == [1, 2, 3, 4, 5]
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before
