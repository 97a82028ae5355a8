"""Bad input gives one Skipped with a one-line reason, and the run goes on."""

from __future__ import annotations

import gzip
import itertools
import json
import time
import tracemalloc
from pathlib import Path
from random import Random

import pytest

from storylines.article import Article, Skipped
from storylines.ingest import read_bytes, read_paths

MB = 2**20
NAMES = ["a.txt", "a.html", "a.jsonl", "a.json", "a.csv", "a.rss", "a.warc", "upload"]


def one_skipped(items) -> Skipped:
    items = list(items)
    assert len(items) == 1 and isinstance(items[0], Skipped), items
    assert items[0].reason and "\n" not in items[0].reason
    return items[0]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("data", [b"", b"  \n\r\n\t "], ids=["zero-bytes", "whitespace"])
def test_empty_file(name: str, data: bytes) -> None:
    assert "empty" in one_skipped(read_bytes(data, name)).reason


@pytest.mark.parametrize("name", [name for name in NAMES if name != "a.warc"])
def test_binary_file_with_nul_bytes(name: str) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    assert "binary" in one_skipped(read_bytes(png, name)).reason


def test_binary_without_nul_bytes_is_not_text() -> None:
    noise = bytes(byte for byte in Random(3).randbytes(4096) if byte)
    reason = one_skipped(read_bytes(noise, "noise.txt")).reason
    assert reason.startswith(("binary", "not text"))


def test_invalid_utf8_that_no_encoding_fits() -> None:
    data = b"Title\n\n" + bytes(range(0x80, 0x100)) * 8  # read as UTF-8: only U+FFFD is left
    assert one_skipped(read_bytes(data, "bad.txt")).reason.startswith(("binary", "empty article"))


@pytest.mark.parametrize(("name", "limit"), [("huge.txt", "8 MB limit"), ("huge.html", "50 MB limit")])
def test_one_document_over_the_size_limit(tmp_path: Path, name: str, limit: str) -> None:
    path = tmp_path / name
    with path.open("wb") as sparse:
        sparse.write(b"Title\n\n" + b"Body text.\n" * (MB // 10))
        sparse.truncate(200 * MB)  # a sparse tail: nothing slow is written
    assert limit in one_skipped(read_paths([str(path)])).reason


def test_big_jsonl_streams(tmp_path: Path) -> None:
    """200 MB of JSON Lines: the first articles come at once and memory stays small."""
    path = tmp_path / "huge.jsonl"
    line = json.dumps({"title": "Kremlin", "text": "Moscow is ready to coordinate efforts. " * 20}) + "\n"
    with path.open("wb") as big:
        big.write(line.encode() * (128 * 2**10 // len(line)))
        big.truncate(200 * MB)  # the sparse tail is one long line of NULs, never reached here
    tracemalloc.start()
    started = time.perf_counter()
    first = list(itertools.islice(read_paths([str(path)]), 100))
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert all(isinstance(item, Article) for item in first) and len(first) == 100
    assert peak < 5 * MB and elapsed < 5


def test_overlong_jsonl_line_is_skipped_alone() -> None:
    good = json.dumps({"title": "T", "text": "Body"}).encode()
    long_line = b'{"text": "' + b"x" * (9 * MB) + b'"}'
    items = list(read_bytes(b"\n".join([good, long_line, good]), "long.jsonl"))
    assert [type(item) for item in items] == [Article, Skipped, Article]
    assert "longer than 8 MB" in items[1].reason


def test_truncated_gzip_text() -> None:
    data = gzip.compress(Random(1).randbytes(300_000).hex().encode())
    assert "truncated or corrupt gzip" in one_skipped(read_bytes(data[:-100], "cut.txt.gz")).reason


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"just words, no markup at all", "plain.html", "malformed HTML"),
        (b"{not json", "bad.json", "invalid JSON"),
        (b'[{"title": "A"', "bad.json", "invalid JSON"),
        (b"<feed><title>cut", "bad.atom", "malformed feed"),
        (b"WARC/1.0\r\nnonsense\r\n\r\n", "bad.warc", "WARC"),
        (b"\x1f\x8b\x08\x00garbage", "bad.warc.gz", "WARC"),
    ],
)
def test_malformed_documents(data: bytes, name: str, reason: str) -> None:
    assert reason in one_skipped(read_bytes(data, name)).reason


def test_a_run_goes_on_past_bad_files(tmp_path: Path) -> None:
    (tmp_path / "1-empty.txt").write_bytes(b"")
    (tmp_path / "2-binary.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "3-good.txt").write_text("Title\n\nBody")
    (tmp_path / "4-bad.json").write_text("{")
    (tmp_path / "5-good.jsonl").write_text('{"title": "T", "text": "Body"}\n')
    items = list(read_paths([str(tmp_path), str(tmp_path / "missing")]))
    assert [type(item) for item in items] == [Skipped, Skipped, Article, Skipped, Article, Skipped]


def test_a_file_deleted_during_the_run_is_reported(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(f"Title {name}\n\nBody of {name}.\n")
    items = read_paths([str(tmp_path)])
    first = next(items)
    (tmp_path / "b.txt").unlink()
    (gone,) = list(items)
    assert isinstance(first, Article) and isinstance(gone, Skipped)
    assert gone.reason.startswith("vanished before it was read")


def test_skips_are_counted_but_only_the_first_are_kept() -> None:
    from storylines.skips import KEPT_REASONS, SkipTally

    tally = SkipTally()
    for number in range(10 * KEPT_REASONS):
        tally.add(Skipped(f"f:{number}", "invalid JSON: at column 1" if number % 2 else "empty article"))
    assert len(tally) == 10 * KEPT_REASONS and len(tally.first) == KEPT_REASONS
    assert tally.kinds == {"invalid JSON": 5 * KEPT_REASONS, "empty article": 5 * KEPT_REASONS}
