"""The live dashboard's routes: the page, a JSON snapshot, and files of the one directory.

The page polls ``/api/dash/state`` about once a second; every poll re-reads the project, so
a search killed and resumed in another process simply shows up on the next poll.
"""

from __future__ import annotations

from pathlib import Path

from hpsearch.reports.writer import detect

from .server import STATIC_DIR, App, Request, Response, file_response


def dashboard_app(directory: Path) -> App:
    """The routes of ``hpsearch report DIR --serve``; ProjectError if DIR is not a project.

    Args:
        directory: a tune project or a study directory (may still be empty of trials).

    Example:
        >>> dashboard_app(Path("tune-project"))  # doctest: +SKIP
    """
    from .dashboard_data import snapshot

    directory = Path(directory)
    detect(directory)  # fail before serving: a wrong path is a one-line CLI error

    def page(request: Request) -> Response:
        request.params({})
        return file_response(STATIC_DIR / "dashboard.html")

    def state(request: Request) -> Response:
        request.params({})
        return Response.json(snapshot(directory))

    return App({("GET", "/"): page, ("GET", "/api/dash/state"): state}, files_root=directory)
