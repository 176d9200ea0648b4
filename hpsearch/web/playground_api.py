"""The Playground page's routes: one LiveSession per open page, frames of what to draw.

The page sends the site's control names (``/api/play/set?sid=..&noise=10``) and gets back a
frame: losses, the output map on the site's 100x100 grid, every neuron's 10x10 thumbnail,
weights, biases and dead links, and the hash to show. All numbers come from the engine.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections import OrderedDict

import numpy as np

from .server import STATIC_DIR, App, BadRequest, Request, Response, file_response, positive_int
from .site_state import SiteState, parse_hash

MAX_SESSIONS = 32  # open pages remembered; the oldest idle one is forgotten first
_STATE_KEYS = tuple(SiteState.__dataclass_fields__)


class Sessions:
    """Live pages by id, least recently used last out; thread-safe."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._items: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit

    def add(self, session) -> str:
        sid = secrets.token_hex(8)
        with self._lock:
            self._items[sid] = session
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
        return sid

    def get(self, sid: object):
        with self._lock:
            session = self._items.get(str(sid))
            if session is None:
                raise BadRequest(f"unknown or expired session {sid!r}; reload the page", 410)
            self._items.move_to_end(str(sid))
            return session


def _f32(values: np.ndarray) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode()


def frame(session, losses: list[tuple[float, float]] | None = None) -> dict:
    """What the page draws now; ``losses`` = the epochs just stepped (None: a full frame).

    A full frame (after load, reset, a control change) also carries the points, the input
    feature thumbnails, the network's shape and the whole loss history.
    """
    from playground.grid import grid_maps, thumbnail

    features, nodes = grid_maps(session.as_result())
    lay = session.layout
    train, test = session.history[-1]
    out = {
        "epoch": session.epoch, "train_loss": train, "test_loss": test, "hash": session.hash,
        "output": _f32(nodes[-1]),
        "nodes": [thumbnail(m).round(4).ravel().tolist() for m in nodes],
        "weights": [m.tolist() for m in lay.weight_matrices(session.w[:, 0])],
        "biases": session.b[:, 0].tolist(),
        "dead": [m.astype(int).tolist() for m in lay.weight_matrices(session.dead[:, 0])],
    }
    if losses is not None:
        out["losses"] = losses
        return out
    data = session.data

    def points(xy: np.ndarray, y: np.ndarray) -> list[list[float]]:
        return np.column_stack([xy, y]).round(5).tolist()

    out |= {"full": True, "history": session.history, "shape": lay.sizes.tolist(),
            "features": list(session.config.features),
            "inputs": [thumbnail(m).round(4).ravel().tolist() for m in features],
            "points": {"train": points(data.train_xy, data.train_y),
                       "test": points(data.test_xy, data.test_y)},
            "regression": session.config.is_regression}
    return out


def playground_app() -> App:
    """The routes of ``hpsearch playground serve``.

    Example:
        >>> app = playground_app()
        >>> app.handle(Request("POST", "/api/play/new", {"state": "seed=0.1"})).status
        200
    """
    from .playground_session import LiveSession

    sessions = Sessions()

    def session_of(request: Request, extra: dict | None = None) -> tuple[object, dict]:
        params = request.params({"sid": str, **(extra or {})})
        if "sid" not in params:
            raise BadRequest("missing query parameter 'sid'")
        return sessions.get(params.pop("sid")), params

    def page(request: Request) -> Response:
        request.params({})
        response = file_response(STATIC_DIR / "playground.html")
        return response

    def new(request: Request) -> Response:
        params = request.params({"state": str})
        session = LiveSession(parse_hash(str(params.get("state", ""))))
        with session.lock:
            return Response.json({"sid": sessions.add(session), **frame(session)})

    def step(request: Request) -> Response:
        session, params = session_of(request, {"n": positive_int})
        with session.lock:
            return Response.json(frame(session, session.step(int(params.get("n", 1)))))

    def reset(request: Request) -> Response:
        session, _ = session_of(request)
        with session.lock:
            session.reset()
            return Response.json(frame(session))

    def regenerate(request: Request) -> Response:
        session, _ = session_of(request)
        with session.lock:
            session.regenerate()
            return Response.json(frame(session))

    def change(request: Request) -> Response:
        session, params = session_of(request, dict.fromkeys(_STATE_KEYS, str))
        with session.lock:
            rebuilt = session.apply({k: str(v) for k, v in params.items()})
            return Response.json({"rebuilt": rebuilt, **frame(session)})

    def export(request: Request) -> Response:
        session, _ = session_of(request)
        with session.lock:
            return Response.json(session.export())

    def multiseed(request: Request) -> Response:
        from .playground_multiseed import multi_seed

        session, params = session_of(request, {"seeds": positive_int, "epochs": positive_int})
        with session.lock:
            config = session.config
        return Response.json(multi_seed(config, int(params.get("seeds", 20)),
                                        int(params.get("epochs", 300))))

    return App({("GET", "/"): page, ("POST", "/api/play/new"): new,
                ("POST", "/api/play/step"): step, ("POST", "/api/play/reset"): reset,
                ("POST", "/api/play/regenerate"): regenerate, ("POST", "/api/play/set"): change,
                ("GET", "/api/play/export"): export, ("POST", "/api/play/multiseed"): multiseed})


def warm_up() -> None:
    """Load the engine's compiled kernels while the first page paints (a throwaway run)."""
    from .playground_session import LiveSession

    session = LiveSession(SiteState(seed="0.5"))
    frame(session, session.step(1))
