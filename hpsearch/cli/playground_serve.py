"""`hpsearch playground serve`: the live Playground page, served by `hpsearch.web`.

It lives here, not in `playground/cli.py`, so that imports run one way: the web UI imports
the simulator, never the reverse (`playground/` knows nothing of the web). `cli/__init__`
adds it to the playground's Typer app when it registers that app.
"""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    port: Annotated[int, typer.Option(min=0, max=65535,
                                      help="Port to listen on (0 picks a free one).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind; anything but 127.0.0.1 is "
                                      "reachable by others (no authentication).")
                    ] = "127.0.0.1",
    open_browser: Annotated[bool, typer.Option("--open", help="Open the page in the "
                                               "default browser.")] = False,
) -> None:
    """Serve the live Playground page (the site's controls on this exact engine).

    Paste a playground.tensorflow.org hash after the URL to replay the site's run.
    Example: hpsearch playground serve --open
    """
    from hpsearch.web import serve_playground  # the server loads only when asked for
    from playground.errors import PlaygroundError

    try:
        serve_playground(host, port, open_browser)
    except PlaygroundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
