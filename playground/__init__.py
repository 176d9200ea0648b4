"""A faithful TensorFlow Playground simulator (numpy + numba, never TensorFlow).

Follows the site's own rules (src/nn.ts, dataset.ts, playground.ts); see docs/PLAYGROUND.md.
"""

from .config import PlaygroundConfig
from .errors import PlaygroundError

_LAZY = {"RunResult", "Trainer", "simulate"}  # the trainer pulls in numba: load on first use


def __getattr__(name: str):
    if name in _LAZY:
        from . import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module 'playground' has no attribute {name!r}")


__all__ = ["PlaygroundConfig", "PlaygroundError", "RunResult", "Trainer", "simulate"]
