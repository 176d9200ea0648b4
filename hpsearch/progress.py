"""Progress bars with ETA for long work: on stderr in a terminal (so `--json` stdout stays
clean), and in a notebook one HTML bar updated in place (a display handle), so a cell never
fills with lines. The notebook bar needs only IPython, not ipywidgets.
"""

from __future__ import annotations

import html
import sys
import time
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


def fmt_duration(seconds: float) -> str:
    """`1 h 05 min`, `3 min 07 s`: every estimate and budget hpsearch prints.

    Example:
        >>> fmt_duration(187)
        '3 min 07 s'
    """
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


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


class NotebookBar:
    """The part of rich's `Progress` a `Tracker` uses, drawn as one updating HTML bar."""

    REFRESH_S = 0.5  # at most two redraws a second: each is a message to the browser

    def __init__(self, total: int, description: str) -> None:
        from IPython.display import HTML, display

        self._html, self._total, self._done = HTML, max(total, 1), 0
        self._description, self._start, self._drawn = description, time.monotonic(), 0.0
        self._handle = display(HTML(self._render()), display_id=True)

    def add_task(self, description: str, total: int) -> int:
        return 0

    def update(self, task: int, advance: int = 0, description: str | None = None) -> None:
        self._done = min(self._total, self._done + advance)
        self._description = description or self._description
        if time.monotonic() - self._drawn >= self.REFRESH_S or self._done >= self._total:
            self.draw()

    def draw(self) -> None:
        self._drawn = time.monotonic()
        if self._handle is not None:
            self._handle.update(self._html(self._render()))

    def _render(self) -> str:
        elapsed = time.monotonic() - self._start
        share = self._done / self._total
        eta = f", ETA {elapsed / share - elapsed:.0f} s" if 0 < share < 1 else ""
        return (f"<div><progress value='{self._done}' max='{self._total}' "
                f"style='width:40%'></progress> {self._done}/{self._total} "
                f"{html.escape(self._description)} ({elapsed:.0f} s{eta})</div>")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where stderr bars would print a line per refresh)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return type(shell).__name__ == "ZMQInteractiveShell"


@contextmanager
def tracker(total: int, description: str, quiet: bool = False) -> Iterator[Tracker]:
    """A progress bar for `total` units: rich on stderr, or one HTML bar in a notebook.

    Example:
        >>> with tracker(10, "training", quiet=True) as bar:
        ...     bar.advance(1)
    """
    if quiet:
        yield Tracker(None, total, description)
        return
    if in_notebook():
        bar = NotebookBar(total, description)
        yield Tracker(bar, total, description)  # type: ignore[arg-type]
        bar.draw()
        return
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        yield Tracker(progress, total, description)
