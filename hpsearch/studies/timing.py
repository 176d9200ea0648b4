"""Time per epoch with real repeats: the measurement behind a study's time verdict.

A study's accuracy runs train a variant's repeats together as towers of one model, so each
run's time is its share of one measurement: the same for every seed, nothing to pair, and a
paired t over those shares would see zero spread. So after the accuracy runs, each variant is
timed on its own (k = 1 tower) for `TIMED_EPOCHS` epochs on the rows its runs train on,
interleaved across variants (A B C A B C ...) and repeated `TIMING_REPEATS` times; repeat r
uses seed `seeds[r % len(seeds)]` for every variant, so a repeat is a pair. Interleaving spreads
a machine that slows down (another process, thermal throttling) over every variant alike.
The first epoch (tracing, XLA compilation) is left out: the figure is seconds per steady epoch.

Each timed fit is written to `timing.csv` the moment it ends, so `--resume` times only what
is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.config import ModelConfig
from hpsearch.data import Dataset
from hpsearch.fileio import atomic_write_text
from hpsearch.studies.plan import StudyPlan
from hpsearch.studies.store import read_csv, to_csv
from hpsearch.training.evaluate import Protocol, split_indices
from hpsearch.training.loop import EpochHook

TIMING_FILE = "timing.csv"
TIMING_REPEATS = 5  # interleaved rounds: the paired t over rounds has 4 degrees of freedom
TIMED_EPOCHS = 3  # one warm-up epoch (left out) + 2 steady epochs
TIMING_COLUMNS = ("variant", "repeat", "seed", "steady_epochs", "epoch_time_s")


def timing_config(cfg: ModelConfig) -> ModelConfig:
    """`cfg` for a timed fit: `TIMED_EPOCHS` epochs, no early stopping (every epoch runs)."""
    return replace(cfg, epochs=TIMED_EPOCHS, patience=0)


def time_epochs(cfg: ModelConfig, data: Dataset, protocol: Protocol, seed: int,
                n_epochs_planned: int, on_epoch: EpochHook | None = None) -> tuple[float, int]:
    """Seconds per steady epoch of one tower of `cfg` on the rows a run of `protocol` trains on.

    Args:
        cfg: the variant's config (its epochs are replaced by `TIMED_EPOCHS`).
        data: the study's data; only training rows are read (the test set is not touched).
        protocol: the study's protocol; its first split's training rows are used.
        seed: initial weights and shuffle.
        n_epochs_planned: the variant's real epoch count, so the pass is compiled (XLA) or not
            as a real single fit of this variant would be (`loop.use_xla`).
        on_epoch: progress hook; it runs after an epoch's clock has stopped.

    Returns:
        (mean seconds of the steady epochs, how many steady epochs were timed).

    Example:
        >>> time_epochs(cfg, data, Protocol.train_test(0.2), 0, 10)  # doctest: +SKIP
        (0.84, 2)
    """
    from hpsearch.training.evaluate import fold_seed
    from hpsearch.training.loop import fit_towers, use_xla

    train = split_indices(protocol, data.y_train, seed)[0][0]
    rows = data.x_train.reshape(len(data.x_train), -1)
    xla = use_xla(replace(cfg, epochs=n_epochs_planned), len(train), 1, rows.shape[1],
                  data.num_classes)
    outcome = fit_towers(timing_config(cfg), rows, data.y_train, [train], None,
                         [fold_seed(seed, 0)], data.num_classes, xla=xla, on_epoch=on_epoch)
    steady = outcome.epoch_times[1:] or outcome.epoch_times
    return float(np.mean(steady)), len(steady)


def pending_timing_epochs(plan: StudyPlan, out: Path, repeats: int = TIMING_REPEATS) -> int:
    """Epochs the timing still has to run in `out` (for a progress bar's total)."""
    done = {(r["variant"], int(r["repeat"])) for r in read_timing(out)}
    return TIMED_EPOCHS * sum((v.name, r) not in done for r in range(repeats)
                              for v in plan.variants)


def read_timing(out: Path) -> list[dict[str, str]]:
    """The timed fits so far (empty when the study was never timed)."""
    path = out / TIMING_FILE
    return read_csv(path) if path.is_file() else []


def time_variants(plan: StudyPlan, data: Dataset, out: Path, protocol: Protocol,
                  seeds: tuple[int, ...], repeats: int = TIMING_REPEATS,
                  hook_for: Callable[[str], EpochHook | None] | None = None,
                  ) -> list[dict[str, Any]]:
    """Time every variant `repeats` times, interleaved (round r: A B C), saving each fit.

    Args:
        plan: the study's variants.
        data: the study's data.
        out: the study directory (`timing.csv` is read back and extended).
        protocol: the study's protocol (which rows a run trains on).
        seeds: the study's seeds; round r uses `seeds[r % len(seeds)]` for every variant.
        repeats: rounds (>= 2 for an interval; 5 by default).
        hook_for: label -> per-epoch progress hook of a timed fit (as for the runs).

    Returns:
        Every timing row, finished ones included.
    """
    rows = read_timing(out)
    done = {(r["variant"], int(r["repeat"])) for r in rows}
    # a round begun before a resume keeps its seed, even if --repeats changed the seed list
    begun = {int(r["repeat"]): int(r["seed"]) for r in rows}
    for repeat in range(repeats):
        seed = begun.get(repeat, seeds[repeat % len(seeds)])
        for variant in plan.variants:
            if (variant.name, repeat) in done:
                continue
            label = f"{plan.study.name}: timing {variant.name} round {repeat + 1}/{repeats}"
            seconds, steady = time_epochs(variant.config, data, protocol, seed,
                                          variant.config.epochs,
                                          hook_for(label) if hook_for else None)
            rows.append({"variant": variant.name, "repeat": repeat, "seed": seed,
                         "steady_epochs": steady, "epoch_time_s": seconds})
            atomic_write_text(out / TIMING_FILE, to_csv(TIMING_COLUMNS, rows))
    return rows


def timing_scores(rows: list[dict[str, Any]]) -> dict[str, dict[tuple[int, int], float]]:
    """variant -> (repeat, 0) -> seconds per epoch: pairs keyed by round, for `decide`."""
    scores: dict[str, dict[tuple[int, int], float]] = {}
    for row in rows:
        scores.setdefault(str(row["variant"]), {})[(int(row["repeat"]), 0)] = \
            float(row["epoch_time_s"])
    return scores


def time_finished_study(out: Path, data: Dataset, repeats: int = TIMING_REPEATS,
                        hook_for: Callable[[str], EpochHook | None] | None = None,
                        ) -> list[dict[str, Any]]:
    """Add the timing repeats to a study directory written before they existed.

    The variants, seeds and protocol are read from its `study.json`; `data` must be the data
    set the study ran on (its checksum is compared). The accuracy runs are not touched.

    Args:
        out: a finished study directory.
        data: the study's data set.
        repeats: timing rounds.
        hook_for: progress, as for `time_variants`.

    Returns:
        Every timing row.

    Raises:
        ProjectError: `data` is not the data set the study ran on.
    """
    from hpsearch.config import ModelConfig
    from hpsearch.errors import ProjectError
    from hpsearch.studies.plan import STUDIES, StudyPlan, Variant
    from hpsearch.studies.store import read_study

    meta = read_study(out)
    if meta["dataset"].get("sha256") != data.checksum():
        raise ProjectError(f"{out}: the study ran on {meta['dataset']['name']} (sha256 "
                           f"{meta['dataset']['sha256'][:12]}), not on {data.name}; pass the "
                           "same data set")
    variants = tuple(Variant(v["name"], v["value"], ModelConfig.from_dict(v["config"]),
                             v["is_base"]) for v in meta["variants"])
    plan = StudyPlan(STUDIES[meta["study"]], ModelConfig.from_dict(meta["base_config"]),
                     meta["base_source"], variants)
    protocol = Protocol(meta["protocol"]["kind"], meta["protocol"]["folds"],
                        meta["protocol"]["validation_fraction"])
    return time_variants(plan, data, out, protocol, tuple(meta["seeds"]), repeats, hook_for)
