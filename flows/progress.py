"""Progress of a run: windows done, rows and rate per (project, stream).

The engine reports a `StreamResult` after each window; `RunProgress` aggregates them. The CLI
shows a rich progress bar on a terminal and plain log lines otherwise; the Prefect layer turns
the same numbers into a progress artifact. The hook travels in a context variable so flow
parameters stay plain, serialisable values.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from flows import console
from flows.core.summary import StreamResult

ProgressHook = Callable[[StreamResult], None]
_current: ContextVar[ProgressHook | None] = ContextVar("ubiops_etl_progress", default=None)


def current_progress() -> ProgressHook | None:
    """The hook the entry point installed for this run, if any."""
    return _current.get()


class RunProgress:
    """Totals over every (project, stream) reported so far."""

    def __init__(self) -> None:
        self._streams: dict[tuple[str, str], StreamResult] = {}
        self.started = time.monotonic()

    def update(self, result: StreamResult) -> None:
        self._streams[(result.project, result.stream)] = result

    @property
    def windows(self) -> tuple[int, int]:
        done = sum(r.windows_done for r in self._streams.values())
        return done, sum(r.windows_total for r in self._streams.values())

    @property
    def rows(self) -> int:
        return sum(r.rows_in for r in self._streams.values())

    def line(self, result: StreamResult) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        done, total = self.windows
        return (
            f"{result.stream} {result.project}: {result.windows_done}/{result.windows_total} "
            f"windows; run {done}/{total} windows, {self.rows:,} rows, "
            f"{self.rows / elapsed:,.0f} rows/s"
        )


@contextmanager
def reporting() -> Iterator[RunProgress]:
    """Install a progress hook: a live bar on a terminal, a log line per window otherwise."""
    tracker = RunProgress()
    if console.interactive():
        bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} windows"),
            TextColumn("{task.fields[rows]:,} rows"),
            TimeElapsedColumn(),
            console=console.err,
            transient=True,
        )
        tasks: dict[tuple[str, str], TaskID] = {}

        def show(result: StreamResult) -> None:
            tracker.update(result)
            key = (result.project, result.stream)
            if key not in tasks:
                tasks[key] = bar.add_task(f"{result.stream} {result.project}", rows=0)
            bar.update(
                tasks[key],
                completed=result.windows_done,
                total=max(result.windows_total, 1),
                rows=result.rows_in,
            )

        with bar:
            token = _current.set(show)
            try:
                yield tracker
            finally:
                _current.reset(token)
        return

    def log_line(result: StreamResult) -> None:
        tracker.update(result)
        console.log.info(tracker.line(result))

    token = _current.set(log_line)
    try:
        yield tracker
    finally:
        _current.reset(token)
