"""Every adversarial case (``tests/adversarial.py``) between good records: no crash, no hang, bounded
memory, every good record stored; and ``storylines inspect`` lists every good record too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.adversarial import CASES, write_corpus

REPO = Path(__file__).resolve().parents[1]
DOUBLE = "tests.test_cluster_double:CosineComparer"
MAX_CASE_SECONDS = 30
MAX_RSS_BYTES = 2**30


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "STORYLINES_COMPARER": DOUBLE}
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        text=True,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("adversarial")
    write_corpus(out)
    return out


@pytest.mark.slow
def test_every_case_between_good_records_is_survived(corpus: Path, tmp_path: Path) -> None:
    started = time.perf_counter()
    done = _run(
        ["-m", "tests.adversarial", "run", str(corpus), str(tmp_path / "adv.db")],
        timeout=MAX_CASE_SECONDS * len(CASES),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    *results, last = [json.loads(line) for line in done.stdout.splitlines()]
    peak = last["peak_rss_bytes"]
    assert len(results) == len(CASES)
    for index, (name, result) in enumerate(zip(CASES, results, strict=True)):
        stored = result["stored_titles"]
        assert f"Good report before {index}" in stored and f"Good report after {index}" in stored, name
        assert result["seconds"] <= MAX_CASE_SECONDS, name
    kept = [title for result in results for title in result["stored_titles"] if title.startswith("Kept")]
    assert len(kept) == 12  # the good records inside bad files: gz, csv, jsonl, nul ×3, deep line, …
    assert peak <= MAX_RSS_BYTES, f"peak RSS {peak / 2**20:.0f} MB"
    print(f"{len(CASES)} cases in {time.perf_counter() - started:.1f} s, peak RSS {peak / 2**20:.0f} MB")


@pytest.mark.slow
def test_inspect_lists_every_good_record(corpus: Path) -> None:
    done = _run(["-m", "storylines", "inspect", str(corpus)], timeout=MAX_CASE_SECONDS * len(CASES))
    assert done.returncode == 2, done.stderr[-3000:]  # some inputs were skipped, each with its reason
    for index in range(len(CASES)):
        assert f"Good report before {index}" in done.stdout and f"Good report after {index}" in done.stdout
    assert "\x1b" not in done.stderr + done.stdout  # the ANSI escape in a file name is shown escaped
