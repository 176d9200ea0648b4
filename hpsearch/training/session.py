"""Process-level TensorFlow hygiene between fits, and the one rule for "this fit diverged".

Every fit in hpsearch goes through `training.loop`, which calls `fresh_session` before it
builds its towers and `diverged` on every loss it sees; nothing else decides either.
"""

from __future__ import annotations

import gc
import math

# A cross-entropy far above chance level (ln 10 = 2.3) means the weights blew up: with learning
# rate 10 the loss jumps past 1e5 and the network ends dead at chance, which is a failure to
# report, not a score to rank.
DIVERGED_LOSS = 1e3


def diverged(loss: float) -> bool:
    """True for a loss that is NaN, infinite or above `DIVERGED_LOSS`.

    Args:
        loss: a mean training loss.

    Returns:
        Whether the fit that produced it has blown up.

    Example:
        >>> diverged(float("nan")), diverged(0.4)
        (True, False)
    """
    return not math.isfinite(loss) or loss > DIVERGED_LOSS


def divergence_message(what: str, loss: float, epoch: int) -> str:
    """The one wording of a divergence failure (CV folds, study repeats and refits alike)."""
    return (f"training diverged in {what} (loss {loss:.4g} at epoch {epoch}, NaN, infinite or "
            f"above {DIVERGED_LOSS:g}); lower the learning rate")


def quiet_tensorflow() -> None:
    """TF's Python logger warns about retracing when many small models are built in a row,
    which is exactly what a search does; the warning is noise for our users."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")


def fresh_session(thaw: bool = False) -> None:
    """Free the previous fit's graph and weights before the next model is built.

    One garbage collection, then the survivors are frozen (`gc.freeze`): with TensorFlow and
    Keras loaded the heap holds ~400,000 long-lived objects, so every full collection, ours
    or one Python starts itself while a fit is being traced, took ~0.2-0.3 s just to walk
    them again. Frozen objects are still freed by reference counting; only cycles among what
    was alive here escape the cycle collector. Most of what is alive between fits is the
    process's long-lived state (modules, data, the tuner), but the loop also keeps the last
    few fits' towers for reuse: once it has dropped some of those (frozen cycles, ~13 MiB
    each), it asks for `thaw`, one full collection of everything.

    Args:
        thaw: unfreeze first, so the collection also frees frozen objects now unreachable.
    """
    import keras

    keras.backend.clear_session(free_memory=False)  # we collect once, below
    forget_custom_gradients()
    if thaw:
        gc.unfreeze()
    gc.collect()
    gc.freeze()


def forget_custom_gradients() -> None:
    """Drop the gradient functions TensorFlow registered for earlier fits' traced graphs.

    In graph mode every `tf.custom_gradient` call (Keras uses some in each training step)
    adds an entry to a process-wide registry that is never removed, and each entry keeps its
    whole traced graph alive: ~5 MB per fit, the growth Keras Tuner users report (its issues
    395 and 873). Called between fits, when no traced graph of an earlier model is in use.
    Uses a private TensorFlow attribute, so it does nothing if that ever moves.
    """
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
    except (ImportError, AttributeError):  # pragma: no cover - another TF layout
        return
    for name in [name for name in registry if str(name).startswith("CustomGradient-")]:
        del registry[name]
