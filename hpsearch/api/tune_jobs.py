"""The tune commands' other jobs: a dry run's budget and a worker joining a chief.

They sit beside `api.tuning` (the search itself) so that `hpsearch tune --dry-run` and
`hpsearch worker` call the API like every other command, instead of the CLI reaching into
`search.budget` and `search.distributed`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hpsearch.data import Dataset
from hpsearch.search.spec import TuneSpec, parse_duration


def tune_budget(directory: str | Path, *, resume: bool = False, overwrite: bool = False,
                load: Callable[[TuneSpec], Dataset] | None = None,
                **given: object) -> dict[str, Any]:
    """What a tune would cost, timed on a slice of its data, without running a trial.

    The settings are checked first (like `tune_settings`), so a bad flag or a conflicting
    resume fails before any data loads.

    Args:
        directory: the project directory the tune would use.
        resume: compare with the settings stored there.
        overwrite: the search there would start again.
        load: loads the data set the settings name (default: `spec_dataset`); the CLI passes
            its own loader so data problems read as its one-line errors.
        **given: `TuneSpec` fields, as for `tune_settings`; `time_budget` may be a duration
            like "20m".

    Returns:
        The budget and the time estimate (median, fastest and slowest trial; total), with a
        one-line `summary`.

    Example:
        >>> tune_budget("runs/t1", dataset="fashion-mnist-sample")["summary"]  # doctest: +SKIP
    """
    from hpsearch.api.tuning import spec_dataset, tune_settings
    from hpsearch.search.budget import calibrate

    given = given | {"time_budget": parse_duration(given.get("time_budget"))}  # type: ignore[arg-type]
    spec = tune_settings(directory, resume=resume, overwrite=overwrite, **given)
    data = (load or spec_dataset)(spec)
    return calibrate(spec.space(), spec, data, spec.time_budget)


def join_search(oracle: str, directory: str | Path, worker_id: str, threads: int = 0,
                oracle_timeout: float = 60.0) -> None:
    """Run trials for the chief at `oracle` (Keras Tuner's gRPC protocol) until it says stop.

    Args:
        oracle: the chief's HOST:PORT.
        directory: the chief's project directory (a shared file system).
        worker_id: a unique name; an unfinished trial waits for a worker with the same name.
        threads: CPU threads for TensorFlow (0 = all).
        oracle_timeout: seconds without an answer from the chief before the worker stops.

    Example:
        >>> join_search("10.0.0.5:8000", "/shared/runs/t1", "worker-a")  # doctest: +SKIP
    """
    from hpsearch.search.distributed import run_worker

    run_worker(oracle, Path(directory), worker_id, threads, oracle_timeout)
