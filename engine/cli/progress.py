"""The progress bar of long evaluations: records done, rate and time left, on stderr.

Shown when stderr is a terminal (or with --progress), never with --quiet; rich is imported only
when the bar is shown, so short runs do not pay for it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

_LINE_COUNTED = {".csv": 1, ".jsonl": 0, ".ndjson": 0}  # suffix -> header lines


def estimate_records(paths: list[str]) -> int | None:
    """Rows in the input, counted by lines (fast); None when some file is not line-based."""
    total = 0
    for p in paths:
        path = Path(p)
        header = _LINE_COUNTED.get(path.suffix.lower())
        if header is None:
            return None
        n = 0
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                n += block.count(b"\n")
        total += max(0, n - header)
    return total


class Progress:
    """A rich progress bar, or nothing."""

    def __init__(self, bar: Any = None, task: Any = None):
        self._bar, self._task = bar, task

    @classmethod
    def start(cls, paths: list[str], wanted: bool | None) -> Progress:
        show = sys.stderr.isatty() if wanted is None else wanted
        if not show:
            return cls()
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        bar = Bar(
            TextColumn("审查 evaluating"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]} 条/s"),
            TimeElapsedColumn(),
            TextColumn("剩余"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
            auto_refresh=False,
        )  # no refresh thread: worker processes are forked meanwhile
        task = bar.add_task("records", total=estimate_records(paths), rate="—")
        bar.start()
        return cls(bar, task)

    def advance(self, chunk: Any) -> None:
        if self._bar is None:
            return
        self._bar.advance(self._task, len(chunk.records) + len(chunk.errors))
        task = self._bar.tasks[0]
        elapsed = task.elapsed or 0.0
        self._bar.update(self._task, rate=f"{task.completed / elapsed:,.0f}" if elapsed > 0 else "—")
        self._bar.refresh()

    def echo(self, line: str) -> None:
        """A line on stderr that does not break up the bar (printed above it while it is shown)."""
        if self._bar is None:
            import click

            click.echo(line, err=True)
        else:
            self._bar.console.print(line, markup=False, highlight=False)
            self._bar.refresh()

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
