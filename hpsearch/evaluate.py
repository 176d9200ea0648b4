"""Compatibility path: scoring lives in `hpsearch.training.evaluate`."""

from hpsearch.training.evaluate import (  # noqa: F401
    PROTOCOL_KINDS,
    FoldResult,
    Protocol,
    Result,
    evaluate,
    evaluate_seeds,
    fold_seed,
    split_indices,
)
from hpsearch.training.loop import EpochGate, EpochHook  # noqa: F401
