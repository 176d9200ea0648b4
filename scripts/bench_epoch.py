"""Epoch cost of the lab's model 1: hand-written numpy loop vs plain Keras vs hpsearch.

One epoch of model 1 ([64, 32] relu, softmax, SGD lr 0.01, batch 32) over the training set,
three ways, in one process, interleaved over `--repeats` rounds:

- numpy: a hand-written forward/backward loop (the floor a Python program can reach without a
  framework: three matmuls forward, five back, per batch);
- keras: plain `Model.fit` with Keras' defaults;
- hpsearch: `hpsearch.training` (the one loop every command uses), k = 1 tower.

Each side runs in its own process (TensorFlow's thread pools slowed the numpy loop up to 10x
when they shared one) and trains `--epochs` epochs from scratch per round; the median steady
epoch (the last one: no tracing or compilation) is compared, and the first epoch is printed.
The test accuracy of each side after its epochs shows all three learn the same thing.

    python scripts/bench_epoch.py --data-dir /path/to/fashion-mnist
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from bench_common import add_data_arguments, data_flags

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench this checkout


SIDES = ("numpy", "keras", "hpsearch")
# numpy's fastest setting here: one BLAS thread (with two, OpenBLAS's threads fight over
# 32-row matmuls: 2.7-6 s per epoch instead of 0.47 s). The floor should be a real floor.
NUMPY_FASTEST = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def numpy_side(x: np.ndarray, y: np.ndarray, xt: np.ndarray, yt: np.ndarray, epochs: int,
               seed: int) -> tuple[list[float], float]:
    """Model 1 by hand: Glorot-uniform init, softmax cross-entropy, plain SGD."""
    rng = np.random.default_rng(seed)
    sizes = [x.shape[1], 64, 32, 10]
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        limit = np.sqrt(6 / (fan_in + fan_out))
        weights.append([rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                        np.zeros(fan_out, np.float32)])
    lr, batch, times = np.float32(0.01), 32, []
    onehot = np.eye(10, dtype=np.float32)
    for _ in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(len(x))
        for lo in range(0, len(x), batch):
            rows = order[lo:lo + batch]
            a0, target = x[rows], onehot[y[rows]]
            (w1, b1), (w2, b2), (w3, b3) = weights
            z1 = a0 @ w1 + b1
            a1 = np.maximum(z1, 0)
            z2 = a1 @ w2 + b2
            a2 = np.maximum(z2, 0)
            z3 = a2 @ w3 + b3
            p = np.exp(z3 - z3.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            d3 = (p - target) / np.float32(len(rows))
            d2 = (d3 @ w3.T) * (z2 > 0)
            d1 = (d2 @ w2.T) * (z1 > 0)
            for (w, b), a, d in ((weights[2], a2, d3), (weights[1], a1, d2),
                                 (weights[0], a0, d1)):
                w -= lr * (a.T @ d)
                b -= lr * d.sum(axis=0)
        times.append(time.perf_counter() - start)
    a = xt
    for n, (w, b) in enumerate(weights):
        a = a @ w + b
        if n < 2:
            a = np.maximum(a, 0)
    return times, float(np.mean(a.argmax(axis=1) == yt))


def keras_side(data, epochs: int, seed: int) -> tuple[list[float], float]:
    """Plain Keras, its defaults: Sequential + compile + fit."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(data.input_shape), keras.layers.Flatten(),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    times: list[float] = []
    model.fit(data.x_train, data.y_train, batch_size=32, epochs=epochs, verbose=0,
              callbacks=[Timer()])
    _, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=1024, verbose=0)
    return times, float(accuracy)


def hpsearch_side(data, epochs: int, seed: int) -> tuple[list[float], float]:
    """hpsearch's loop, as `hpsearch train --preset model1` runs it."""
    from hpsearch.config import preset
    from hpsearch.training.evaluate import Protocol, evaluate

    cfg = preset("model1").with_overrides({"epochs": epochs})
    result = evaluate(cfg, data, Protocol.train_test(), seed=seed)
    return list(result.folds[0].epoch_times), float(result.test_accuracy)


def one_side(args: argparse.Namespace) -> None:
    """Run one side once in this process and print its times and accuracy as JSON."""
    from hpsearch.data import load_dataset

    data = load_dataset(args.dataset, args.data_dir)
    if args.side == "numpy":
        x = data.x_train.reshape(len(data.x_train), -1).astype(np.float32)
        xt = data.x_test.reshape(len(data.x_test), -1).astype(np.float32)
        times, accuracy = numpy_side(x, data.y_train, xt, data.y_test, args.epochs, args.seed)
    else:
        import keras  # noqa: F401  - imported before the clock starts, on both TF sides

        from hpsearch.training import towers  # noqa: F401

        side = keras_side if args.side == "keras" else hpsearch_side
        times, accuracy = side(data, args.epochs, args.seed)
    print(json.dumps({"times": times, "accuracy": accuracy}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--side", choices=("numpy", "keras", "hpsearch"), default=None,
                        help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        one_side(args)
        return
    common = ["--epochs", str(args.epochs), *data_flags(args)]
    runs: dict[str, list[tuple[list[float], float]]] = {n: [] for n in SIDES}
    for repeat in range(args.repeats):  # interleaved: drifts in machine speed hit all sides
        for name in SIDES:  # each side in its own process: no thread pools shared
            env = os.environ | (NUMPY_FASTEST if name == "numpy" else {})
            out = subprocess.run([sys.executable, __file__, "--side", name, "--seed",
                                  str(repeat), *common], capture_output=True, text=True,
                                 check=True, env=env).stdout
            result = json.loads(out.strip().splitlines()[-1])
            runs[name].append((result["times"], result["accuracy"]))
            print(f"round {repeat + 1} {name:8s} epochs "
                  f"{[round(t, 2) for t in result['times']]} s, test accuracy "
                  f"{result['accuracy']:.4f}", flush=True)
    steady = {name: statistics.median(r[0][-1] for r in rs) for name, rs in runs.items()}
    summary = {
        "dataset": args.dataset, "epochs": args.epochs,
        "repeats": args.repeats, "steady_epoch_s": {k: round(v, 3) for k, v in steady.items()},
        "first_epoch_s": {name: round(statistics.median(r[0][0] for r in rs), 3)
                          for name, rs in runs.items()},
        "test_accuracy": {name: round(statistics.mean(r[1] for r in rs), 4)
                          for name, rs in runs.items()},
        "hpsearch_over_numpy": round(steady["hpsearch"] / steady["numpy"], 2),
        "keras_over_numpy": round(steady["keras"] / steady["numpy"], 2),
        "keras_over_hpsearch": round(steady["keras"] / steady["hpsearch"], 2),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
