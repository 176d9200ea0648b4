"""The local web UI: a live Playground page and a live dashboard, on one small server.

Nothing here imports TensorFlow: the Playground page drives ``playground/`` (numpy + numba)
and the dashboard reads project files through the tune and study readers.
"""

from __future__ import annotations

from pathlib import Path


def serve_playground(host: str = "127.0.0.1", port: int = 8765,
                     open_browser: bool = False) -> None:
    """Serve the Playground page until Ctrl-C (the engine's kernels load meanwhile).

    Example:
        serve_playground(port=0)  # prints "serving the Playground at http://127.0.0.1:PORT/"
    """
    from .playground_api import playground_app, warm_up
    from .server import serve

    serve(playground_app(), host, port, "the Playground", open_browser, on_ready=warm_up)


def serve_dashboard(directory: str | Path, host: str = "127.0.0.1", port: int = 8765,
                    open_browser: bool = False) -> None:
    """Serve the live dashboard of a tune project or study directory until Ctrl-C.

    Example:
        serve_dashboard("tune-project", port=0)
    """
    from .dashboard_api import dashboard_app
    from .server import serve

    app = dashboard_app(Path(directory))
    serve(app, host, port, f"the dashboard of {directory}", open_browser)
