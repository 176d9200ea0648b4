"""Run-epochs per second: vectorized sweep vs. a per-run loop vs. Keras, side by side.

The network is the lab's Task 6 one (circle, 2 -> 4 tanh -> 1 tanh, lr 0.03, batch 10,
L2 0.003, 250 training points). Keras is imported only here; if it is missing, its column
is skipped. Rates are per CPU-second of this process, so they stay comparable when other
jobs share the machine; ``--task6`` also prints the wall time, the CPU time (all threads)
and the load average; ``--commands N`` times the user-facing commands end to end (``hpsearch
playground task6`` and one 500-epoch run with and without pictures), N times each,
interleaved, and prints min / median / max wall seconds. Usage:
python scripts/bench_playground.py [--runs 100] [--epochs 200] [--task6] [--commands 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from playground.config import PlaygroundConfig
from playground.sweep import TASK6_CONFIGS, run_sweep
from playground.trainer import Trainer, worker_count


def bench_vectorized(config: PlaygroundConfig, runs: int, epochs: int) -> float:
    """Run-epochs per CPU second, all runs in one block (one thread)."""
    Trainer(config, range(min(runs, 16))).train(1)  # load compiled kernels
    trainer = Trainer(config, range(runs), blocks=1)
    start = time.process_time()
    trainer.train(epochs, record_every=epochs)
    return runs * epochs / (time.process_time() - start)


def bench_loop(config: PlaygroundConfig, runs: int, epochs: int) -> float:
    Trainer(config).train(1)
    trainers = [Trainer(config, [seed]) for seed in range(runs)]
    start = time.process_time()
    for trainer in trainers:  # one run at a time, same kernel
        trainer.train(epochs, record_every=epochs)
    return runs * epochs / (time.process_time() - start)


def bench_keras(config: PlaygroundConfig, runs: int, epochs: int) -> float | None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import keras
    except Exception as exc:  # noqa: BLE001 - any import failure means "skip"
        print(f"Keras column skipped: cannot import keras ({exc.__class__.__name__})")
        return None
    data = Trainer(config).data[0]
    x, y = data.train_xy.astype("float32"), data.train_y.astype("float32")
    reg = keras.regularizers.L2(config.reg_rate / 2)  # Keras L2 is rate*w^2; site 0.5*rate*w^2
    model = keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(config.hidden[0], activation="tanh", kernel_regularizer=reg),
        keras.layers.Dense(1, activation="tanh", kernel_regularizer=reg),
    ])
    model.compile(optimizer=keras.optimizers.SGD(config.learning_rate), loss="mse")
    model.fit(x, y, batch_size=config.batch_size, epochs=1, verbose=0, shuffle=False)
    start = time.process_time()
    model.fit(x, y, batch_size=config.batch_size, epochs=epochs, verbose=0, shuffle=False)
    return epochs / (time.process_time() - start)  # one run; Keras trains one model at a time


def bench_commands(repeats: int) -> None:
    """Wall time of whole `hpsearch playground` commands, as a user runs them (start-up
    included), interleaved so that the machine's drift hits each command alike."""
    entry = [sys.executable, "-c", "from hpsearch.cli import main; main()", "playground"]
    with tempfile.TemporaryDirectory() as out:
        commands = {
            "task6 (target <= 4 s)": [*entry, "task6", "--quiet"],
            "500 epochs + pictures (target < 2 s)": [*entry, "--nodes", "3", "--epochs", "500",
                                                     "--out", out, "--quiet"],
            "500 epochs, no pictures": [*entry, "--nodes", "3", "--epochs", "500", "--no-plots",
                                        "--quiet"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        load = os.getloadavg()[0]
        for _ in range(repeats):
            for name, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True)
                times[name].append(time.perf_counter() - start)
    print(f"{'command (wall s)':<38} {'min':>6} {'median':>7} {'max':>6}   ({repeats} runs each, "
          f"load average before {load:.2f}, after {os.getloadavg()[0]:.2f})")
    for name, values in times.items():
        print(f"{name:<38} {min(values):6.2f} {statistics.median(values):7.2f} "
              f"{max(values):6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--keras-epochs", type=int, default=20)
    parser.add_argument("--task6", action="store_true", help="also time the full Task 6 sweep")
    parser.add_argument("--commands", type=int, default=0, metavar="N",
                        help="also time the CLI commands end to end, N times each")
    args = parser.parse_args()
    config = PlaygroundConfig(dataset="circle", hidden=(4,), regularization="l2",
                              reg_rate=0.003, epochs=args.epochs)
    vec = bench_vectorized(config, args.runs, args.epochs)
    loop = bench_loop(config, max(4, args.runs // 10), args.epochs)
    keras_rate = bench_keras(config, 1, args.keras_epochs)
    print(f"{'engine (per CPU second)':<34} {'run-epochs/s':>14} {'vs keras':>9}")
    rows = [(f"vectorized sweep ({args.runs} runs)", vec), ("per-run loop (same kernel)", loop)]
    if keras_rate is not None:
        rows.append(("keras (one model, model.fit)", keras_rate))
    for name, rate in rows:
        ratio = f"{rate / keras_rate:8.0f}x" if keras_rate else "      n/a"
        print(f"{name:<34} {rate:>14,.0f} {ratio}")
    print(f"vectorized / per-run loop: {vec / loop:.1f}x")
    if args.task6:
        base = PlaygroundConfig(dataset="circle", hidden=(2,), epochs=1000)
        load = os.getloadavg()[0]
        start, cpu = time.perf_counter(), time.process_time()
        run_sweep(base, TASK6_CONFIGS, seeds=100, epochs=1000)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"Task 6 sweep (4 configs x 100 seeds x 1000 epochs): {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU on {worker_count()} threads; load average before "
              f"{load:.2f}, after {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    if args.commands:
        bench_commands(args.commands)


if __name__ == "__main__":
    main()
