"""Progress of a long ingest, on a terminal (a bar with ETA) and in a log (periodic lines).

100k articles at ~8/s take hours: the user must see how far it got and when it will end,
including when stderr goes to a file, where a spinner writes nothing useful.
"""

from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from storylines.ingest import ReadProgress

if TYPE_CHECKING:
    from storylines.service import IngestReport

LOG_EVERY_S = 10.0  # seconds between progress lines when stderr is not a terminal
MB = 2**20


def _eta(elapsed: float, progress: ReadProgress) -> str:
    if not progress.total or not progress.done or progress.done >= progress.total:
        return "?"
    seconds = elapsed * (progress.total - progress.done) / progress.done
    return str(timedelta(seconds=round(seconds)))


def progress_line(report: IngestReport, progress: ReadProgress, elapsed: float) -> str:
    """One line: bytes read of the total, counts, rate and ETA."""
    share = f"{progress.done / MB:.1f} MB"
    if progress.total:
        share += f" of {progress.total / MB:.1f} MB ({100 * progress.done / progress.total:.0f}%)"
    rate = report.read / elapsed if elapsed > 0 else 0.0
    return (
        f"ingest: {share} · read {report.read} · stored {report.stored} · skipped {len(report.skipped)}"
        f" · {rate:.1f} articles/s · elapsed {timedelta(seconds=round(elapsed))}"
        f" · ETA {_eta(elapsed, progress)}"
    )


class IngestProgress(AbstractContextManager["IngestProgress"]):
    """Call :meth:`update` after each batch; draws a bar on a terminal, logs lines elsewhere."""

    def __init__(self, progress: ReadProgress, stream: TextIO | None = None, every: float = LOG_EVERY_S):
        self.progress = progress
        self.stream = stream or sys.stderr
        self.every = every
        self.started = time.monotonic()
        self._last_line = self.started
        self._bar = None
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._task = self._bar.add_task("ingesting", total=None)

    def __enter__(self) -> IngestProgress:
        if self._bar:
            self._bar.start()
        return self

    def update(self, report: IngestReport) -> None:
        now = time.monotonic()
        if self._bar:
            rate = report.read / max(now - self.started, 1e-9)
            self._bar.update(
                self._task,
                total=self.progress.total or None,
                completed=self.progress.done,
                description=f"read {report.read} · stored {report.stored} · skipped {len(report.skipped)}"
                f" · {rate:.1f}/s",
            )
        elif now - self._last_line >= self.every:
            self._last_line = now
            print(progress_line(report, self.progress, now - self.started), file=self.stream, flush=True)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar:
            self._bar.stop()
