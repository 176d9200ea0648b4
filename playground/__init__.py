"""A faithful TensorFlow Playground simulator (numpy + numba, never TensorFlow).

Follows the site's own rules (src/nn.ts, dataset.ts, playground.ts); see docs/PLAYGROUND.md.
"""

from .config import PlaygroundConfig
from .errors import PlaygroundError
from .trainer import RunResult, Trainer, simulate

__all__ = ["PlaygroundConfig", "PlaygroundError", "RunResult", "Trainer", "simulate"]
