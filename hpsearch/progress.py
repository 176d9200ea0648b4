"""Progress bars with ETA for long work, drawn on stderr so `--json` stdout stays clean."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Tracker:
    """One progress bar counting units (epochs, runs); a no-op when quiet."""

    def __init__(self, progress: Progress | None, total: int, description: str) -> None:
        self._progress = progress
        self._task = progress.add_task(description, total=total) if progress else None

    def advance(self, amount: int = 1, description: str | None = None) -> None:
        if self._progress is not None and self._task is not None:
            kwargs: dict[str, Any] = {"advance": amount}
            if description:
                kwargs["description"] = description
            self._progress.update(self._task, **kwargs)

    def describe(self, description: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=description)

    def epoch_hook(self, label: str = "") -> Any:
        """An `evaluate(on_epoch=...)` hook: one step per fit-epoch (each tower, each epoch:
        the folds or repeats trained together), accuracy in the description."""
        def hook(tower: int, epoch: int, logs: dict[str, float]) -> None:
            acc = logs.get("val_accuracy", logs.get("accuracy"))
            text = f"{label} #{tower + 1} epoch {epoch}" + (f" acc {acc:.3f}" if acc else "")
            self.advance(1, text.strip())
        return hook


@contextmanager
def tracker(total: int, description: str, quiet: bool = False) -> Iterator[Tracker]:
    if quiet:
        yield Tracker(None, total, description)
        return
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        yield Tracker(progress, total, description)
