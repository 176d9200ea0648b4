"""`hpsearch report DIR`: parse, call `hpsearch.reports.writer.write_report`, print the path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hpsearch.cli.options import Json, emit
from hpsearch.errors import ConfigError


def report(
    directory: Annotated[Path, typer.Argument(
        help="A `hpsearch tune` --directory or a `hpsearch study` --out (also `study all`'s "
             "lab-report directory); running or interrupted ones too.", show_default=False)],
    top: Annotated[int, typer.Option(help="Trials in the top-k table and parallel "
                                          "coordinates (search reports).")] = 10,
    json_out: Json = False,
    serve: Annotated[bool, typer.Option("--serve", help="Serve a live dashboard of DIR "
                                        "instead (updates while tune/study runs; Ctrl-C "
                                        "stops).")] = False,
    port: Annotated[int, typer.Option(min=0, max=65535, help="With --serve: port "
                                      "(0 picks a free one).")] = 8765,
    host: Annotated[str, typer.Option(help="With --serve: address to bind; anything but "
                                      "127.0.0.1 is reachable by others (no "
                                      "authentication).")] = "127.0.0.1",
    open_browser: Annotated[bool, typer.Option("--open", help="With --serve: open the "
                                               "page in the default browser.")] = False,
) -> None:
    """Write report.md (with PNG figures and CSV tables beside it) and one self-contained
    report.html (figures inlined; opens offline) for a search or a study.

    Example: hpsearch report runs/t1 && xdg-open runs/t1/report.html
    (live: hpsearch report runs/t1 --serve --open)
    """
    if serve:
        from hpsearch.web import serve_dashboard  # no TensorFlow, no matplotlib

        serve_dashboard(directory, host, port, open_browser)
        return
    from hpsearch.reports.writer import write_report

    if top < 1:
        raise ConfigError(f"--top must be at least 1, got {top}")
    written = write_report(directory, top)
    payload = {"kind": written.kind, "directory": str(written.directory),
               "markdown": str(written.markdown), "html": str(written.html),
               "figures": [str(p) for p in written.figures],
               "tables": [str(p) for p in written.tables], "summary": written.summary}

    def render() -> None:
        typer.echo(f"{written.kind} report: {written.summary}")
        typer.echo(f"wrote {written.html} (self-contained) and {written.markdown} "
                   f"(+ {len(written.figures)} figures, {len(written.tables)} CSV tables)")

    emit(payload, json_out, render)


# registered on the app, in this order, by hpsearch.cli._register
COMMANDS = (report,)
