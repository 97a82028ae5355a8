"""``storylines ingest`` end to end: crash safety under SIGKILL, and the four seeds as one storyline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storylines.store import SQLiteStore

REPO = Path(__file__).resolve().parents[1]
DOUBLE = "tests.test_cluster_double:CosineComparer"
TOPICS = ["syria ceasefire talks", "dairy farmers protest", "olympic marathon record", "central bank rates"]


def storylines_cli(*args: str, comparer: str | None = None, **popen: object) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if comparer:
        env["STORYLINES_COMPARER"] = comparer
    return subprocess.Popen(
        [sys.executable, "-m", "storylines", *args],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def stored_count(db: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(db, timeout=1) as connection:
            return connection.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def write_corpus(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        body = f"Report number {i} on {topic}. " + " ".join(f"{topic} detail{i}-{j}" for j in range(20))
        (folder / f"{i:04}.txt").write_text(f"Headline {i}: {topic}\n\n{body}\n", encoding="utf-8")


def test_sigkill_mid_ingest_leaves_a_consistent_store_that_a_rerun_completes(tmp_path: Path) -> None:
    corpus, db, n = tmp_path / "corpus", tmp_path / "k.db", 300
    write_corpus(corpus, n)
    process = storylines_cli("ingest", "--db", str(db), "--batch-size", "4", str(corpus), comparer=DOUBLE)
    deadline = time.monotonic() + 40
    while stored_count(db) < 20 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read()

    store = SQLiteStore(str(db))
    killed_at = store.counts().articles
    assert 20 <= killed_at < n, "the kill must land mid-way"
    assert store.check_integrity() == []
    store.close()

    rerun = storylines_cli("ingest", "--db", str(db), str(corpus), comparer=DOUBLE)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert f"stored {n - killed_at} " in out and f"duplicates {killed_at} already stored" in out

    store = SQLiteStore(str(db))
    assert store.counts().articles == n and store.check_integrity() == []
    sources = {store.get_article(ref.id).article.source for ref in store.get_refs(range(1, n + 1))}
    assert sources == {str(corpus / f"{i:04}.txt") for i in range(n)}
    assert store.vector_index(64).ntotal == n


@pytest.mark.slow
def test_seeds_make_one_storyline_of_four_events(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    ingest = storylines_cli("ingest", "--db", str(db), "samples/")
    out, err = ingest.communicate(timeout=300)
    assert ingest.returncode == 0, err
    assert "stored 4 " in out
    listing = storylines_cli("stories", "--db", str(db), "--json")
    out, err = listing.communicate(timeout=60)
    assert listing.returncode == 0, err
    (storyline,) = json.loads(out)
    assert len(storyline["events"]) == 4
    seeds = {a["source"][:3] for event in storyline["events"] for a in event["articles"]}
    assert seeds == {"000", "001", "002", "003"}
    assert set(storyline["languages"]) >= {"en", "bg"}
    story = storylines_cli("story", str(storyline["id"]), "--db", str(db))
    out, _ = story.communicate(timeout=60)
    assert f"Storyline {storyline['id']}" in out and "6 July 2016" in out


def test_bad_inputs_are_skipped_with_reasons_and_stored_articles_survive(tmp_path: Path) -> None:
    corpus, db = tmp_path / "corpus", tmp_path / "b.db"
    write_corpus(corpus, 4)
    first = storylines_cli("ingest", "--db", str(db), str(corpus), comparer=DOUBLE)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (bad / "broken.jsonl").write_text('{"title": "unterminated"\n', encoding="utf-8")
    second = storylines_cli("ingest", "--db", str(db), str(bad), str(corpus), comparer=DOUBLE)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 2, "skipped inputs must show in the exit status"
    assert "skipped 3" in out and "duplicates 4 already stored" in out
    assert all(name in err for name in ("empty.txt", "binary.txt", "broken.jsonl:1"))
    store = SQLiteStore(str(db))
    assert store.counts().articles == 4 and store.check_integrity() == []


def test_a_store_inside_the_ingested_folder_is_not_read_as_input(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 3)
    for _ in range(2):  # the second run finds the store's own files in the folder
        run = storylines_cli("ingest", "--db", str(corpus / "s.db"), str(corpus), comparer=DOUBLE)
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        assert "skipped 0" in out
