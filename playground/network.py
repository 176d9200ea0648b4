"""Network layout and the site's weight initialisation, as flat arrays for the kernel.

Weights of layer l (from node layer l to l+1) sit row-major by destination node, one column
per incoming link in source order, which is exactly the order buildNetwork draws them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rng import RandomStream

INIT_BIAS = 0.1  # every hidden and output bias starts here; biases are never regularized


@dataclass(frozen=True)
class Layout:
    """Offsets of each layer's weights, biases and node slots in the flat arrays."""

    sizes: np.ndarray  # [inputs, hidden..., 1]
    woff: np.ndarray  # start of weight block l (len L+1, last = total)
    boff: np.ndarray  # start of bias block l (len L+1, last = total)
    noff: np.ndarray  # start of node layer l in node buffers (len L+2, last = total)

    @classmethod
    def from_shape(cls, shape: tuple[int, ...]) -> Layout:
        sizes = np.asarray(shape, dtype=np.int64)
        wcounts = sizes[:-1] * sizes[1:]
        return cls(
            sizes=sizes,
            woff=np.concatenate([[0], np.cumsum(wcounts)]).astype(np.int64),
            boff=np.concatenate([[0], np.cumsum(sizes[1:])]).astype(np.int64),
            noff=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        )

    @property
    def n_weights(self) -> int:
        return int(self.woff[-1])

    @property
    def n_biases(self) -> int:
        return int(self.boff[-1])

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers + 1)."""
        return len(self.sizes) - 1

    def weight_matrices(self, flat: np.ndarray) -> list[np.ndarray]:
        """Per layer (dest, source) matrices, views into ``flat``."""
        return [
            flat[self.woff[k]:self.woff[k + 1]].reshape(int(self.sizes[k + 1]), int(self.sizes[k]))
            for k in range(self.n_layers)
        ]

    def bias_vectors(self, flat: np.ndarray) -> list[np.ndarray]:
        return [flat[self.boff[k]:self.boff[k + 1]] for k in range(self.n_layers)]


def init_weights(layout: Layout, rng: RandomStream) -> tuple[np.ndarray, np.ndarray]:
    """Link weights = Math.random() - 0.5 in buildNetwork's order; all biases 0.1."""
    weights = rng.randoms(layout.n_weights) - 0.5
    biases = np.full(layout.n_biases, INIT_BIAS)
    return weights, biases
