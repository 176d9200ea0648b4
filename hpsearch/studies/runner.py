"""Run a study: every variant x seed through `evaluate`, each run saved the moment it ends.

Runs go variant by variant, each variant's seeds trained together as towers of one model (so
their times are shares of one measurement, not repeats). Time is then measured apart, with
real repeats interleaved across variants (`studies/timing.py`). Finished runs and timed fits
are read back instead of re-run, which is all `--resume` needs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hpsearch.data import Dataset
from hpsearch.errors import TrialFailed
from hpsearch.records import fold_record
from hpsearch.studies.plan import StudyPlan, Variant
from hpsearch.studies.store import DirCheck, load_run, prepare_dir, save_run, write_tables
from hpsearch.studies.timing import TIMING_REPEATS, time_variants
from hpsearch.training.evaluate import Protocol, Result, evaluate_seeds
from hpsearch.training.export import library_versions
from hpsearch.training.loop import EpochHook

VALIDATION_FRACTION = 0.2  # the lab's validation_split: curves without touching the test set


@dataclass(frozen=True)
class RunSettings:
    """How every variant of a study is trained and scored (the same for all of them)."""

    seeds: tuple[int, ...]
    folds: int = 5  # architectures only
    timing_repeats: int = TIMING_REPEATS  # interleaved timing rounds after the accuracy runs

    def protocol(self, plan: StudyPlan) -> Protocol:
        if plan.study.is_kfold:
            return Protocol.kfold(self.folds)
        return Protocol.train_test(VALIDATION_FRACTION)


def seeds_for(seed: int, repeats: int) -> tuple[int, ...]:
    """The same seeds for every variant, so runs pair up across variants."""
    return tuple(seed + i for i in range(repeats))


def thread_settings() -> dict[str, Any]:
    """Recorded with the timings: times are only comparable under the same thread settings."""
    import tensorflow as tf

    return {"cpu_count": os.cpu_count(),
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()}


def study_meta(plan: StudyPlan, settings: RunSettings, data: Dataset) -> dict[str, Any]:
    """Everything needed to read (or resume) the study; written as study.json."""
    study = plan.study
    return {
        "study": study.name, "question": study.question, "lab_task": study.lab_task,
        "field": study.field, "base_source": plan.base_source,
        "base_config": plan.base.to_dict(), "reference": plan.reference.name,
        "primary_metric": "val_accuracy" if study.is_kfold else "test_accuracy",
        "variants": [{"name": v.name, "value": v.value, "is_base": v.is_base,
                      "config": v.config.to_dict(), "description": v.config.describe()}
                     for v in plan.variants],
        "seeds": list(settings.seeds), "repeats": len(settings.seeds),
        "epochs": plan.base.epochs, "protocol": asdict(settings.protocol(plan)),
        "dataset": {"name": data.name, "n_train": int(len(data.y_train)),
                    "n_test": int(len(data.y_test)), "sha256": data.checksum()},
        "lab_reported": dict(study.lab_reported),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": library_versions(), "threads": thread_settings(),
    }


def run_record(plan: StudyPlan, variant: Variant, seed: int, result: Result | None,
               error: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "study": plan.study.name, "variant": variant.name, "value": variant.value,
        "is_base": variant.is_base, "seed": seed, "config": variant.config.to_dict(),
        "status": "failed" if result is None else "ok", "error": error,
        "test_loss": None, "test_accuracy": None, "wall_time_s": None, "folds": [],
    }
    if result is None:
        return record
    record.update(test_loss=result.test_loss, test_accuracy=result.test_accuracy,
                  wall_time_s=result.wall_time)
    record["folds"] = [fold_record(f) for f in result.folds]
    return record


HookFactory = Callable[[str], EpochHook | None]  # label -> per-epoch progress hook


def pending_runs(plan: StudyPlan, settings: RunSettings, out: Path) -> list[tuple[Variant, int]]:
    """(variant, seed) pairs not yet finished in `out`, in the order they will run: variant
    by variant, each variant's seeds trained together as towers of one model."""
    return [(v, s) for v in plan.variants for s in settings.seeds
            if load_run(out, v.name, s) is None]


def run_study(plan: StudyPlan, data: Dataset, out: Path, settings: RunSettings, *,
              resume: bool = False, overwrite: bool = False,
              hook_for: HookFactory | None = None,
              on_run: Callable[[dict[str, Any]], None] | None = None,
              checked: DirCheck | None = None) -> list[dict[str, Any]]:
    """Run every unfinished (variant, seed), then time the variants with real repeats
    (`timing.time_variants`); return all run records, in plan order.

    A variant's pending seeds are one fit of k towers (`evaluate_seeds`): each repeat keeps its
    own seed, initial weights, shuffle and dropout masks, and the k repeats share each step's
    fixed costs. A run whose loss turns NaN is recorded as failed (it would fail again with the
    same seed) and the study goes on; summaries leave it out and say so. Runs are saved when
    their variant's fit ends, so a kill loses at most the variant in progress. `checked` is
    the caller's `check_dir` of `out` for this run (its study.json is then not read again);
    `prepare_dir` records in it the settings it writes.
    """
    prepare_dir(out, study_meta(plan, settings, data), resume, overwrite, checked)
    protocol = settings.protocol(plan)
    finished = {(v.name, s): load_run(out, v.name, s)
                for s in settings.seeds for v in plan.variants}
    write_tables(out, _ordered(plan, settings, finished))
    pending = pending_runs(plan, settings, out)
    for variant in plan.variants:
        seeds = [seed for v, seed in pending if v is variant]
        if not seeds:
            continue
        label = f"{plan.study.name}: {variant.name} x{len(seeds)} seeds"
        results, _ = evaluate_seeds(variant.config, data, protocol, seeds,
                                    on_epoch=hook_for(label) if hook_for else None)
        for seed, result in zip(seeds, results, strict=True):
            record = (run_record(plan, variant, seed, None, str(result))
                      if isinstance(result, TrialFailed) else
                      run_record(plan, variant, seed, result))
            save_run(out, record)
            finished[(variant.name, seed)] = record
            if on_run is not None:
                on_run(record)
        write_tables(out, _ordered(plan, settings, finished))
    if settings.timing_repeats:
        time_variants(plan, data, out, protocol, settings.seeds, settings.timing_repeats,
                      hook_for)
    return _ordered(plan, settings, finished)


def _ordered(plan: StudyPlan, settings: RunSettings,
             finished: dict[tuple[str, int], dict[str, Any] | None]) -> list[dict[str, Any]]:
    records = (finished.get((v.name, s)) for v in plan.variants for s in settings.seeds)
    return [r for r in records if r is not None]


def select_and_export(plan: StudyPlan, data: Dataset, out: Path, records: list[dict[str, Any]],
                      seed: int, hook: EpochHook | None = None) -> dict[str, Any]:
    """Lab Tasks 2-3: pick the best CV accuracy, refit it on all training data, test once.

    The config with the highest mean CV accuracy is refit even when its lead is inside the
    noise (someone has to be exported); the model card's `cv.verdict` says whether the choice
    was clear. A finished export for the same config and seed is reused on resume.
    """
    from hpsearch.studies.store import result_rows
    from hpsearch.studies.verdict import collect, decide
    from hpsearch.training.export import export_model, read_card

    rows = [row for record in records for row in result_rows(record)]
    verdict = decide(collect(rows, "val_accuracy"), plan.reference.name, "val_accuracy")
    if verdict.leader is None:
        raise TrialFailed("no variant finished a CV run, so there is no config to refit and "
                          "test; see the failed runs in results.csv and rerun with --resume")
    winner = next(v for v in plan.variants if v.name == verdict.leader)
    scores = list(collect(rows, "val_accuracy")[winner.name].values())
    cv = {"folds": settings_folds(records), "seeds": sorted({r["seed"] for r in records}),
          "val_accuracy_mean": sum(scores) / len(scores), "n": len(scores),
          "clear_winner": verdict.best is not None, "verdict": verdict.text()}
    export_dir = out / "export"
    card = read_card(export_dir)  # a damaged card counts as absent: export again
    if card is not None and card.get("config") == winner.config.to_dict() \
            and card.get("seed") == seed:
        return card
    return export_model(winner.config, data, export_dir, seed, cv=cv,
                        source=f"study architectures: {winner.name}", overwrite=True,
                        on_epoch=hook)


def settings_folds(records: list[dict[str, Any]]) -> int:
    return max((len(r["folds"]) for r in records), default=0)
