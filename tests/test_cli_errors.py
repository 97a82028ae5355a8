"""Every CLI misuse ends in one clear line on stderr and a documented exit code, not a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from storylines.cli import main
from storylines.store import SQLiteStore
from tests.test_ingest_cli import DOUBLE


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["storylines", *args])
    with pytest.raises(SystemExit) as ended:
        main()
    return int(ended.value.code or 0), capsys.readouterr().err


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "a.txt"
    path.write_text("Title\n\nThe council met in Lyon on Monday.\n")
    return path


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ingest", "--batch-size", "0", "{txt}"], 2, "--batch-size"),
        (["ingest", "--batch-size", "-1", "{txt}"], 2, "--batch-size"),
        (["ingest", "--reference-date", "yesterday", "{txt}"], 2, "not an ISO date"),
        (["inspect", "--reference-date", "2024-13-45", "{txt}"], 2, "not an ISO date"),
        (["story", "99999999999999999999"], 2, "less than or equal"),
        (["ingest", "--db", "{tmp}/missing/x.db", "{txt}"], 1, "does not exist"),
        (["ingest", "--db", "{txt}", "{txt}"], 1, "not a database"),
        (["ingest", "--db", "{tmp}", "{txt}"], 1, "is a folder"),
        (["stories", "--db", "{txt}"], 1, "not a database"),
    ],
)
def test_misuse_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    text_file: Path,
    args: list[str],
    code: int,
    message: str,
) -> None:
    monkeypatch.setenv("STORYLINES_COMPARER", DOUBLE)
    filled = [arg.format(txt=text_file, tmp=tmp_path) for arg in args]
    status, err = run_main(monkeypatch, capsys, *filled)
    assert status == code and message in err and "Traceback" not in err


def test_store_of_another_model(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, text_file: Path
) -> None:
    db = tmp_path / "other.db"
    store = SQLiteStore(str(db))
    with store.transaction():
        store.set_meta("model_id", "some-other-model")
    store.close()
    monkeypatch.setenv("STORYLINES_COMPARER", DOUBLE)
    status, err = run_main(monkeypatch, capsys, "ingest", "--db", str(db), str(text_file))
    assert status == 1 and "some-other-model" in err and len(err.strip().splitlines()) == 1


def test_progress_in_a_log_is_periodic_lines_with_rate_and_eta() -> None:
    import io

    from storylines.cli.progress import IngestProgress
    from storylines.ingest import ReadProgress
    from storylines.service import IngestReport

    log = io.StringIO()  # not a terminal
    read = ReadProgress(total=4 * 2**20)
    with IngestProgress(read, stream=log, every=0) as progress:
        for done in (1, 2):
            read.done = done * 2**20
            progress.update(IngestReport(read=10 * done, stored=9 * done))
    lines = log.getvalue().splitlines()
    assert len(lines) == 2
    assert "1.0 MB of 4.0 MB (25%)" in lines[0] and "read 10 · stored 9" in lines[0]
    assert "articles/s" in lines[1] and "ETA 0:" in lines[1]
