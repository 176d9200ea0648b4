"""Training: the only package that imports TensorFlow (besides Keras Tuner's glue).

- `towers`: the one builder, k >= 1 towers of one config, and the plain `Sequential` a kept
  model becomes;
- `loop`: the one training loop (passes compiled by XLA when that pays, reused across fits of
  the same shapes; schedule, early stopping, divergence);
- `evaluate`: protocols, folds and repeats, `Result`;
- `rows`: the shared copy of the training rows; `session`: hygiene between fits.

Nothing here is imported by `import hpsearch`; TensorFlow loads on the first fit. TensorFlow's
settings are applied here, where it is first imported (every module that imports TensorFlow,
Keras or Keras Tuner imports this package first), so `import hpsearch` changes no environment
variable. Each is a default: a value the user set wins.
"""

import os
import sys

# TensorFlow prints C++ start-up chatter to stderr; users of a CLI should see only our lines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow turns its oneDNN kernels on by default only for CPUs with AVX-512/AMX; on an
# AVX2 CPU (like our 2-core benchmark machine) they train our small MLPs ~20% faster than
# the default Eigen kernels (scripts/bench_tune.py). Read once, when TensorFlow loads; set
# TF_ENABLE_ONEDNN_OPTS=0 to get TensorFlow's choice back.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def import_tensorflow_quietly() -> None:
    """Import TensorFlow (with the settings above) with the process's stderr at /dev/null.

    With oneDNN on, TensorFlow logs "oneDNN custom operations are on" from C++ before its
    logging is set up, so TF_CPP_MIN_LOG_LEVEL cannot silence it; a terminal or notebook user
    should see only our lines. An import error is still raised, after stderr is back.
    """
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)
