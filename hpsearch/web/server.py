"""The one small local web server behind `playground serve` and `report --serve`.

The standard library's ThreadingHTTPServer is enough: a few JSON routes and static files for
one user on one machine, no new dependency, and one thread per request lets several browsers
watch at once. It serves only its own assets (``static/``) and, for the dashboard, files under
the one directory it was given; every other path is a 404, and a request whose Host is not the
loopback address it is bound to is refused (DNS rebinding).
"""

from __future__ import annotations

import json
import mimetypes
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from hpsearch import stop_signal
from hpsearch.errors import HpsearchError

STATIC_DIR = Path(__file__).parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_BODY = 1 << 20
REQUEST_TIMEOUT_S = 10.0  # seconds a client may stall mid-request before it is dropped


class BadRequest(HpsearchError):  # noqa: N818 - the HTTP name says what the client gets
    """A request the server cannot serve: answered with ``status`` and one line of text."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ServeError(HpsearchError):
    """The server cannot start (port in use, bad host); the CLI prints it and exits 2."""


@dataclass
class Request:
    """What a route sees: method, path, the query (one value per key) and the body."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def params(self, allowed: dict[str, Callable[[str], object]]) -> dict[str, object]:
        """The query converted by ``allowed``'s parsers; an unknown or bad key is a 400.

        Example:
            >>> Request("GET", "/", {"n": "3"}).params({"n": int})
            {'n': 3}
        """
        unknown = sorted(set(self.query) - set(allowed))
        if unknown:
            raise BadRequest(f"unknown query parameter {unknown[0]!r}; this route takes "
                             f"{', '.join(sorted(allowed)) or 'none'}")
        out = {}
        for name, raw in self.query.items():
            try:
                out[name] = allowed[name](raw)
            except (TypeError, ValueError) as exc:
                raise BadRequest(f"bad value for {name}: {raw!r} ({exc})") from None
        return out


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, payload: object, status: int = 200) -> Response:
        return cls(status, json.dumps(payload, allow_nan=False).encode())


Route = Callable[[Request], Response]


def positive_int(text: str) -> int:
    """A query value that must be a whole number >= 1 (else ValueError, i.e. a 400)."""
    value = int(text)
    if value < 1:
        raise ValueError("must be >= 1")
    return value


def safe_file(root: Path, relative: str) -> Path:
    """``root/relative`` if it is a file inside ``root``; BadRequest 404 for anything else.

    Refuses absolute paths, ``..`` segments, backslashes and NUL, and symlinks that lead
    outside ``root`` (checked on the resolved path).

    Example:
        >>> safe_file(STATIC_DIR, "playground.html").name
        'playground.html'
    """
    parts = relative.split("/")
    if (not relative or relative.startswith("/") or "\\" in relative or "\0" in relative
            or any(p in ("", ".", "..") for p in parts)):
        raise BadRequest(f"no such file: /{relative}", 404)
    base = root.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise BadRequest(f"no such file: /{relative}", 404)
    return path


class App:
    """Routes plus where files may come from; ``handle`` turns a Request into a Response.

    Args:
        routes: ``{(method, path): route}``; ``("GET", "/")`` is the page.
        files_root: the directory whose files ``/files/...`` may serve (None: no such route).
    """

    def __init__(self, routes: dict[tuple[str, str], Route], files_root: Path | None = None):
        self.routes = routes
        self.files_root = files_root

    def handle(self, request: Request) -> Response:
        try:
            route = self.routes.get((request.method, request.path))
            if route is not None:
                return route(request)
            if request.method == "GET" and request.path.startswith("/static/"):
                return file_response(safe_file(STATIC_DIR, request.path[len("/static/"):]))
            if (request.method == "GET" and self.files_root is not None
                    and request.path.startswith("/files/")):
                return file_response(safe_file(self.files_root, request.path[len("/files/"):]))
            if any(path == request.path for _, path in self.routes):
                raise BadRequest(f"{request.method} is not allowed on {request.path}", 405)
            raise BadRequest(f"no such page: {request.path}", 404)
        except BadRequest as exc:
            return Response(exc.status, (str(exc) + "\n").encode(), "text/plain; charset=utf-8")
        except HpsearchError as exc:  # a library error caused by the request's values
            return Response(400, (str(exc) + "\n").encode(), "text/plain; charset=utf-8")
        except ValueError as exc:  # PlaygroundError is a ValueError
            return Response(400, (str(exc) + "\n").encode(), "text/plain; charset=utf-8")


def file_response(path: Path) -> Response:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    return Response(200, path.read_bytes(), kind)


def _content_length(header: str | None) -> int:
    """The body's length from its header; BadRequest (400) unless it is a plain integer >= 0.

    Why: ``int()`` alone raises on ``abc`` (a traceback and no response) and accepts ``-5``,
    which slipped under the size limit and made ``rfile.read`` wait for a body forever.
    """
    text = (header or "0").strip()
    if not text.isdigit():
        raise BadRequest("Content-Length must be a whole number of bytes (0 or more)")
    return int(text)


def _handler(app: App, allowed_hosts: set[str] | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "hpsearch"
        sys_version = ""
        # A client that opens a connection and then stalls (no request line, a body shorter
        # than its Content-Length) is dropped after this many seconds instead of holding a
        # thread forever; http.server applies it to the socket and closes on TimeoutError.
        timeout = REQUEST_TIMEOUT_S

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            try:
                if allowed_hosts is not None and self.headers.get("Host") not in allowed_hosts:
                    raise BadRequest("unexpected Host header; open the URL the server printed",
                                     403)
                pairs = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
                if any(len(v) > 1 for v in pairs.values()):
                    raise BadRequest("a query parameter is given twice")
                length = _content_length(self.headers.get("Content-Length"))
                if length > MAX_BODY:
                    raise BadRequest("request body too large", 413)
                body = self.rfile.read(length) if length else b""
                request = Request(method, unquote(parts.path),
                                  {k: v[0] for k, v in pairs.items()}, body)
                response = app.handle(request)
            except BadRequest as exc:
                response = Response(exc.status, (str(exc) + "\n").encode(),
                                    "text/plain; charset=utf-8")
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy",
                             "default-src 'self'; img-src 'self' data: blob:; "
                             "style-src 'self' 'unsafe-inline'")
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(response.body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's names
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass  # quiet: the terminal shows only the URL and the stop line

    return Handler


def make_server(app: App, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """Bind ``app`` to host:port (port 0 picks a free one); ServeError if that fails.

    Example:
        >>> server = make_server(App({}), port=0); server.server_close()
    """
    loopback = host in LOOPBACK
    try:
        server = ThreadingHTTPServer((host, port), _handler(app, None))
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pass "
                         "--port N (0 picks a free port)") from None
    server.daemon_threads = True
    bound = server.server_address[1]
    if loopback:
        names = {"127.0.0.1", "localhost", "[::1]"}
        allowed = {f"{name}:{bound}" for name in names}
        server.RequestHandlerClass = _handler(app, allowed)
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    return f"http://{shown}:{port}/"


def serve(app: App, host: str, port: int, what: str, open_browser: bool = False,
          on_ready: Callable[[], None] | None = None) -> None:
    """Print the URL, serve until Ctrl-C, then close the socket and say so.

    Args:
        app: the routes.
        host, port: where to listen; a host that is not loopback gets a warning (no auth).
        what: shown in the first line ("Playground", "dashboard of DIR").
        open_browser: open the URL in the default browser.
        on_ready: called in a thread once the URL is printed (e.g. to warm the engine).
    """
    server = make_server(app, host, port)
    url = url_of(server)
    if host not in LOOPBACK:
        print(f"warning: listening on {host} without authentication: anyone who can reach "
              "this address can use the page", file=sys.stderr, flush=True)
    try:  # from the URL on: a Ctrl-C or SIGTERM right after it is a clean stop too
        print(f"serving {what} at {url}  (Ctrl-C stops)", flush=True)
        if on_ready is not None:
            threading.Thread(target=on_ready, daemon=True).start()
        if open_browser:
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        stop_signal.consume()
        print("stopped", file=sys.stderr, flush=True)
    finally:
        server.server_close()


__all__ = ["App", "BadRequest", "HTTPStatus", "Request", "Response", "ServeError", "make_server",
           "positive_int", "safe_file", "serve", "url_of"]
