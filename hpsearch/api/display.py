"""How results show themselves: a `repr` that says what they are and, in Jupyter, their table
and verdict as HTML (`_repr_html_`). Every result class builds on `Shown`."""

from __future__ import annotations

import html
from typing import Any


class Shown:
    """A result with a table (a pandas DataFrame) and a verdict sentence.

    Subclasses define `table()` (or `summary()`), `verdict` and `_title()`.
    """

    def table(self) -> Any:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def verdict(self) -> str:
        return ""

    def _title(self) -> str:
        return type(self).__name__

    def _repr_html_(self) -> str:
        frame = self.table()
        verdict = f"<p>{html.escape(self.verdict)}</p>" if self.verdict else ""
        return (f"<div><b>{html.escape(self._title())}</b>"
                f"{frame.to_html(float_format=lambda v: f'{v:.4f}', max_rows=30)}"
                f"{verdict}</div>")

    def __repr__(self) -> str:
        head = f"<{self._title()}>"
        return head + (f"\n{self.verdict}" if self.verdict else "")


def frame(rows: list[dict[str, Any]], index: str | None = None) -> Any:
    """rows -> DataFrame (pandas is imported only when a table is asked for)."""
    import pandas as pd

    out = pd.DataFrame(rows)
    return out.set_index(index) if index and index in out else out
