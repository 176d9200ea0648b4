"""What the side-by-side benchmarks share: the data arguments, and timing a side's process.

Each benchmark runs every side in a fresh process of its own, so no side inherits another's
thread pools, caches or compiled programs; these helpers keep that one way everywhere.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """--dataset and --data-dir (default $HPSEARCH_DATA_DIR), as every benchmark takes them."""
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir", default=os.environ.get("HPSEARCH_DATA_DIR"),
                        help="IDX files of full Fashion-MNIST (default: $HPSEARCH_DATA_DIR)")


def data_flags(args: argparse.Namespace) -> list[str]:
    """The data arguments again, to pass on to a side's process."""
    return ["--dataset", args.dataset] + (["--data-dir", args.data_dir] if args.data_dir else [])


def timed_run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run one side's process; -> (wall seconds, its stdout). A failing side stops the run."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return time.perf_counter() - start, done.stdout
