"""A study with repeats, side by side: a plain Keras loop vs `hpsearch study batch-size`.

- plain: for each batch size (32, 128, 512) and each of `--repeats` seeds, a fresh model 1
  (Keras defaults: SGD lr 0.01, 10 epochs), `fit` with the lab's `validation_split=0.2` for the
  curves, then `evaluate` on the test set;
- hpsearch: `hpsearch study batch-size --repeats N`, the command users type, as a subprocess
  timed end to end (imports included); each variant's repeats train together as towers.

Both print the mean and sample std of the test accuracy per batch size.

    python scripts/bench_study.py --data-dir /path/to/fashion-mnist --repeats 5
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench_common import add_data_arguments, data_flags, timed_run

ROOT = Path(__file__).resolve().parent.parent
BATCHES = (32, 128, 512)


def plain_side(args: argparse.Namespace) -> dict:
    import keras
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from hpsearch.data import load_dataset

    data = load_dataset(args.dataset, args.data_dir)
    out: dict[str, list[float]] = {}
    for batch in BATCHES:
        scores = []
        for seed in range(args.repeats):
            keras.utils.set_random_seed(seed)
            model = keras.Sequential([keras.Input(data.input_shape), keras.layers.Flatten(),
                                      keras.layers.Dense(64, activation="relu"),
                                      keras.layers.Dense(32, activation="relu"),
                                      keras.layers.Dense(10, activation="softmax")])
            model.compile(optimizer=keras.optimizers.SGD(0.01),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            model.fit(data.x_train, data.y_train, batch_size=batch, epochs=args.epochs,
                      validation_split=0.2, verbose=0)
            scores.append(float(model.evaluate(data.x_test, data.y_test, verbose=0)[1]))
        out[str(batch)] = [float(np.mean(scores)), float(np.std(scores, ddof=1))]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--side", choices=("both", "plain"), default="both")
    args = parser.parse_args()
    if args.side == "plain":
        print(json.dumps(plain_side(args)))
        return
    common = data_flags(args)
    plain_s, plain_out = timed_run([sys.executable, __file__, "--side", "plain", "--repeats",
                                    str(args.repeats), "--epochs", str(args.epochs), *common])
    print(f"plain Keras loop: {plain_s:.1f} s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        ours_s, _ = timed_run([sys.executable, "-m", "hpsearch", "study", "batch-size",
                               "--repeats", str(args.repeats), "--epochs", str(args.epochs),
                               "--out", str(Path(tmp) / "s"), "-q", *common])
        summary_csv = (Path(tmp) / "s" / "summary.csv").read_text()
    print(f"hpsearch study batch-size: {ours_s:.1f} s", flush=True)
    print(json.dumps({"repeats": args.repeats, "epochs": args.epochs,
                      "plain_s": round(plain_s, 1), "hpsearch_s": round(ours_s, 1),
                      "speedup": round(plain_s / ours_s, 2),
                      "plain_test_accuracy": json.loads(plain_out.strip().splitlines()[-1])},
                     indent=2))
    print("hpsearch summary.csv:\n" + summary_csv)


if __name__ == "__main__":
    main()
