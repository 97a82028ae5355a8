"""Adversarial input corpus: one case per class of input that once crashed, hung or blew memory.

``python -m tests.adversarial OUT`` writes the corpus; ``python -m tests.adversarial run OUT DB``
ingests each case between two known-good records (through the same read → enrich → store path as
``storylines ingest``) and prints one JSON line per case with its time and outcome.  The test in
``tests/test_adversarial.py`` runs that in a child process to measure its peak memory.

The classes follow the reliability campaign of issue 12: items 1 (one record aborts the run),
2 (small inputs, unbounded memory), 4 (good records lost for file-level reasons) and 8 (Korean).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

MB = 2**20
CaseWriter = Callable[[Path], list[Path]]


def _good(index: int, where: str) -> str:
    return (
        f"Good report {where} {index}\n\n"
        f"The city council of Lyon met on Tuesday to approve case {index} of the {where} budget plan. "
        f"Mayor Grégory Doucet said the vote on item {index} was a relief for {where} residents.\n"
    )


def good_title(index: int, where: str) -> str:
    return f"Good report {where} {index}"


def _write(path: Path, data: bytes | str) -> list[Path]:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return [path]


def _jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def _kept(tag: str) -> dict:
    """A good record inside a bad file: it must be stored."""
    return {"title": f"Kept {tag}", "text": f"Parliament in Madrid voted on Monday on budget line {tag}."}


def _deep(levels: int) -> dict:
    root: dict = {}
    node = root
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]
    return root


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _bad_lines_gz(lines: int) -> bytes:
    """Bad lines that compress ~1000:1: a small file that once kept every skip in memory."""
    return gzip.compress(b"{not json at all}\n" * lines + json.dumps(_kept("gz")).encode() + b"\n", 9)


def _big_field_csv(folder: Path) -> list[Path]:
    kept = _kept("csv")
    rows = [["title", "text"], ["Huge", "x" * (10 * MB)], [kept["title"], kept["text"]]]
    return _write(folder / "big_field.csv", _csv(rows))


def _long_text(folder: Path, name: str, size: int) -> list[Path]:
    return _write(folder / name, "Title\n\n" + "Words of a long text. " * (size // 22))


def _fifo(folder: Path) -> list[Path]:
    path = folder / "fifo.txt"
    os.mkfifo(path)
    return [path]


def _html_paragraphs(count: int) -> str:
    paragraphs = "".join(f"<p>Paragraph {i} of an endless page.</p>" for i in range(count))
    return f"<html><head><title>Endless</title></head><body><article>{paragraphs}</article></body></html>"


# name -> writer of the case's files (a case may add more than one file)
CASES: dict[str, CaseWriter] = {
    # 1. one record aborted the whole run
    "latin_6mb.txt": lambda d: _write(d / "latin_6mb.txt", "T\n" + "The council met on Monday. " * 240_000),
    "cyrillic_6mb.txt": lambda d: _write(d / "cyrillic_6mb.txt", "Т\n" + "Совет собрался. " * 200_000),
    "year_one.jsonl": lambda d: _write(
        d / "year_one.jsonl", _jsonl([{**_kept("year one"), "published": "0001-01-01T00:00:00Z"}])
    ),
    "meta_600_deep.jsonl": lambda d: _write(
        d / "meta_600_deep.jsonl", _jsonl([{"title": "Deep", "text": "Talks in Rome.", "meta": _deep(600)}])
    ),
    "name_not_utf8.txt": lambda d: _write(
        Path(os.fsdecode(bytes(d) + b"/name_\xff\xfe_\x1b[31mred.txt")), "Kept odd name\n\nFloods, Madrid.\n"
    ),
    # 2. small inputs, unbounded memory or time
    "nested_400kb.json": lambda d: _write(d / "nested_400kb.json", "[" * 200_000 + "]" * 200_000),
    "bad_lines.jsonl.gz": lambda d: _write(d / "bad_lines.jsonl.gz", _bad_lines_gz(200_000)),
    "bad_rows.csv.gz": lambda d: _write(
        d / "bad_rows.csv.gz", gzip.compress(b"title,text\n" + b'"unclosed,"x\n"a","b","c"\n' * 100_000, 9)
    ),
    "field_10mb.jsonl": lambda d: _write(
        d / "field_10mb.jsonl", _jsonl([{"title": "Huge", "text": "x" * (10 * MB)}, _kept("jsonl")])
    ),
    "field_10mb.csv": _big_field_csv,
    "text_20mb.txt": lambda d: _long_text(d, "text_20mb.txt", 20 * MB),
    "text_50mb.txt": lambda d: _long_text(d, "text_50mb.txt", 50 * MB),
    "html_200k_paragraphs.html": lambda d: _write(d / "html_200k_paragraphs.html", _html_paragraphs(200_000)),
    # 4. good records dropped for file-level reasons
    "nul_in_head.jsonl": lambda d: _write(
        d / "nul_in_head.jsonl", '{"text": "a\x00b"}\n' + _jsonl([_kept(f"after nul {i}") for i in range(3)])
    ),
    "deep_line.jsonl": lambda d: _write(
        d / "deep_line.jsonl", "[" * 100_000 + "]" * 100_000 + "\n" + _jsonl([_kept("after deep line")])
    ),
    "utf16_no_bom.txt": lambda d: _write(
        d / "utf16_no_bom.txt", "Kept UTF-16\n\nСовет Москвы собрался в понедельник.\n".encode("utf-16-le")
    ),
    "utf8_and_cp1251.txt": lambda d: _write(
        d / "utf8_and_cp1251.txt",
        "Kept mixed\n\nСовет Москвы собрался.\n".encode() + "Вторая строка в cp1251.\n".encode("cp1251"),
    ),
    "zero_width_only.txt": lambda d: _write(d / "zero_width.txt", "\u200b\u200c\n\n\u200d\u2060\ufeff\n"),
    "fifo.txt": _fifo,
    # 8. real pages crashed the date extractor
    "korean.txt": lambda d: _write(
        d / "korean.txt", "Kept 서울시의회 회의\n\n서울시의회는 2019년 3월 5일 서울에서 예산안을 처리했다.\n"
    ),
}


def write_corpus(out: Path) -> dict[str, list[Path]]:
    """Every case in its own folder, with a good record before and after it."""
    written: dict[str, list[Path]] = {}
    for index, (name, writer) in enumerate(CASES.items()):
        folder = out / f"{index:02}"
        folder.mkdir(parents=True)
        before = _write(folder / "0_before.txt", _good(index, "before"))
        after = _write(folder / "9_after.txt", _good(index, "after"))
        written[name] = [*before, *writer(folder), *after]
    return written


def run(out: Path, db: Path) -> None:
    """Ingest case by case into one store; one JSON line per case."""
    from storylines.engine import Engine
    from storylines.ingest import read_paths
    from storylines.service import IngestService

    with Engine.open(db) as engine:
        service = IngestService(engine)
        # load the language, date and entity models before the clock starts: the per-case limit
        # is about the case, and a first-use model load on a busy machine took 38 s on its own
        warm_up = _write(out.parent / f"{out.name}-warm-up.txt", _good(-1, "warm-up"))
        service.run(read_paths([str(path) for path in warm_up]))
        for folder in sorted(path for path in out.iterdir() if path.is_dir()):
            started = time.perf_counter()
            files = sorted(str(path) for path in folder.iterdir())  # named one by one: the FIFO too
            report = service.run(read_paths(files))
            stored = map(engine.store.get_article, report.assignments)
            line = {
                "case": folder.name,
                "seconds": round(time.perf_counter() - started, 2),
                "stored_titles": [found.article.title for found in stored if found],
                "skipped": [f"{item.source}: {item.reason}" for item in report.skipped.first],
            }
            print(json.dumps(line, ensure_ascii=False), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports kB
    print(json.dumps({"peak_rss_bytes": peak}))


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        write_corpus(Path(sys.argv[1]))
