"""`TuneSpec`: every setting of a tune, its only defaults, its validation, and resume.

The CLI builds one from the flags the user typed, the API from the keyword arguments the
caller passed (`TuneSpec.given`); nothing else constructs settings. `project.json` stores it
once (under "spec"), and `TuneSpec.resume` is the one place a resumed search compares what was
given with what was stored. Library errors name settings in backticks (`max_trials`); the CLI
shows each as its flag (--max-trials).

Example:
    >>> spec = TuneSpec(tuner="random", max_trials=5)
    >>> spec.folds, spec.to_dict()["tuner"]
    (2, 'random')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING

from hpsearch.errors import ConfigError, ProjectError
from hpsearch.search.pruning import DEFAULT_MIN_TRIALS, PRUNERS

if TYPE_CHECKING:
    from hpsearch.search.space import Space

# May differ on resume: more trials, a new failure limit or time budget.
RESUMABLE = ("max_trials", "max_failures", "time_budget")

Value = str | int | float | bool | tuple[str, ...] | dict[str, object] | None


@dataclass(frozen=True)
class TuneSpec:
    """What decides a search; each field's default is the one default of that setting.

    Attributes:
        tuner: the algorithm, a key of `search.oracles.ORACLES`.
        max_trials: configs to try.
        folds: stratified CV folds per trial (k >= 2).
        epochs: epochs per fold (Hyperband: the most per trial); a space file may search
            a trial's length instead (`[epochs] values = [15, 30]`).
        patience: early stopping on validation loss (0 = off).
        space_file: a TOML file that replaces or narrows knobs of the default space.
        fix: pinned knobs or config fields, `("optimizer=adam", ...)`.
        prune: stop hopeless trials early, per epoch (not with Hyperband).
        pruner: the rule: "median" (Optuna's MedianPruner) or "asha" (asynchronous
            successive halving: keep the top third at epochs 1, 3, 9, ...).
        prune_min_trials: peers at an epoch before it can prune.
        prune_peers: whose values make the median: "finished" (Optuna's MedianPruner) or
            "all" trials that reached the epoch, pruned ones included (ASHA: always all).
        seed: fixes the folds, the oracle and the initial weights.
        max_failures: stop after this many failed trials in a row.
        hyperband_factor: Hyperband's reduction factor.
        initial_points: Bayesian: random trials before the Gaussian process takes over.
        warm_start: the first trial is every knob's default (off only where a search must
            sample exactly what plain Keras Tuner samples: scripts/bench_tune.py).
        dataset: a data set name or table path (what `load_dataset` takes).
        data_dir: where the named data set lives.
        time_budget: seconds; start no trial that would end after it.
        data_options: a table's target, test, test_size, scale and one_hot.
    """

    tuner: str = "bayesian"
    max_trials: int = 30
    folds: int = 2
    epochs: int = 15
    patience: int = 0
    space_file: str | None = None
    fix: tuple[str, ...] = ()
    prune: bool = True
    pruner: str = "median"
    prune_min_trials: int = DEFAULT_MIN_TRIALS
    prune_peers: str = "finished"
    seed: int = 0
    max_failures: int = 5
    hyperband_factor: int = 3
    initial_points: int = 8
    warm_start: bool = True
    dataset: str = "fashion-mnist"
    data_dir: str | None = None
    time_budget: float | None = None
    data_options: dict[str, object] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fix", tuple(self.fix or ()))
        self.check()

    def check(self) -> None:
        """Refuse values no search can use, naming the setting (ConfigError)."""
        from hpsearch.search.oracles import ORACLES

        for ok, message in (
                (self.tuner in ORACLES, f"`tuner` {self.tuner!r} is unknown; choose one of "
                                        f"{', '.join(ORACLES)}"),
                (self.max_trials >= 1, f"`max_trials` must be at least 1, got {self.max_trials}"),
                (self.folds >= 2, f"`folds` must be at least 2 for k-fold CV, got {self.folds}"),
                (self.max_failures >= 1, "`max_failures` must be at least 1, got "
                                         f"{self.max_failures}"),
                (self.pruner in PRUNERS,
                 f"`pruner` must be one of {', '.join(PRUNERS)}, got {self.pruner!r}"),
                (not (self.tuner == "hyperband" and self.pruner == "asha"),
                 "`pruner` asha: hyperband runs its own successive halving (its brackets set "
                 "each trial's epochs); drop `pruner`, or choose another `tuner`"),
                (self.prune_peers in ("finished", "all"),
                 f"`prune_peers` must be finished or all, got {self.prune_peers!r}"),
                (self.time_budget is None or self.time_budget > 0,
                 f"`time_budget` must be positive, got {self.time_budget}")):
            if not ok:
                raise ConfigError(message)

    # ------------------------------------------------------------------ building
    @classmethod
    def given(cls, values: Mapping[str, Value]) -> dict[str, Value]:
        """The settings a caller gave: None means "not given" (the default, or on resume the
        stored value); a list `fix` becomes a tuple; a name that is no setting is refused."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"`{unknown[0]}` is not a tune setting; choose from "
                              f"{', '.join(sorted(names))}")
        return absolute_data_paths({k: (tuple(v) if k == "fix" and isinstance(v, list | tuple)
                                        else v) for k, v in values.items() if v is not None})

    def space(self) -> Space:
        """The search space these settings describe (the default space, the file, the fixes)."""
        from hpsearch.config import ModelConfig
        from hpsearch.search.space import build_space

        return build_space(self.space_file, list(self.fix),
                           ModelConfig(epochs=self.epochs, patience=self.patience),
                           search_length=self.tuner != "hyperband")

    # ------------------------------------------------------------------ stored form
    def to_dict(self) -> dict[str, object]:
        """The JSON form stored in project.json ("spec")."""
        return asdict(self) | {"fix": list(self.fix)}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> TuneSpec:
        """Back from `to_dict` (unknown keys, from a newer hpsearch, are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]

    @classmethod
    def from_meta(cls, meta: Mapping[str, object]) -> TuneSpec:
        """The spec a project.json holds: "spec", or, in projects written before it existed,
        the settings scattered over "settings", "options" and the top level.

        Raises:
            ConfigError: the stored settings are not valid settings.
        """
        spec = meta.get("spec")
        if isinstance(spec, Mapping):
            return cls.from_dict(spec)
        merged: dict[str, object] = {}
        space = meta.get("space")
        base = space.get("base") if isinstance(space, Mapping) else None
        if isinstance(base, Mapping):
            merged |= {k: base[k] for k in ("epochs", "patience") if base.get(k) is not None}
        merged |= {k: meta[k] for k in ("tuner", "folds", "seed", "prune", "dataset",
                                        "data_dir", "max_trials") if meta.get(k) is not None}
        for key in ("settings", "options"):
            part = meta.get(key)
            if isinstance(part, Mapping):
                merged |= {k: v for k, v in part.items() if v is not None}
        return cls.from_dict(merged)

    # ------------------------------------------------------------------ resume
    def resume(self, given: Mapping[str, Value], fingerprint: str | None,
               directory: object) -> TuneSpec:
        """These stored settings, with the resumable ones `given` now; anything else given
        that differs from the stored value is refused, naming both (a value equal to the
        default counts: `folds=2` against a stored 3 is a conflict).

        Args:
            given: the settings the caller gave (`TuneSpec.given`).
            fingerprint: the stored space's fingerprint (a given `space_file`/`fix` must
                build the same space).
            directory: the project, for the message.

        Raises:
            ProjectError: a given setting conflicts with the stored one.
        """
        # a project from before paths were stored absolute: its relative paths meant the
        # directory resume runs in (the data is loaded from there), so they become absolute
        stored = replace(self, **absolute_data_paths(
            {k: getattr(self, k) for k in DATA_PATH_KEYS if getattr(self, k) is not None}))
        conflicts = [k for k, v in given.items() if k not in RESUMABLE
                     and k not in ("space_file", "fix") and _stored(stored, k, v) != v]
        if "space_file" in given or "fix" in given:  # compare what they build, not names
            rebuilt = replace(stored, **{k: given[k] for k in ("space_file", "fix")
                                       if k in given})
            if rebuilt.space().fingerprint() != fingerprint:
                conflicts += [k for k in ("space_file", "fix") if k in given]
        if conflicts:
            what = "; ".join(f"`{k}` {_show(_stored(stored, k, given[k]))} -> {_show(given[k])}"
                             for k in conflicts)
            raise ProjectError(f"cannot resume {directory}: it was started with a different "
                               f"search ({what}); `resume` reuses the stored settings, so drop "
                               "the setting, or use another `directory` or `overwrite`")
        return replace(stored, **{k: v for k, v in given.items() if k in RESUMABLE})


DATA_PATH_KEYS = ("dataset", "data_dir", "data_options")


def absolute_data_paths(values: Mapping[str, Value]) -> dict[str, Value]:
    """`values` with the data's files as absolute paths: a `dataset` that is a file (.npz or
    a table), `data_dir` and a table's `test` file in `data_options`.

    Why: project.json stores them, and `export --from`, workers, the printed export command
    and `resume` read them again, maybe from another directory; names such as
    `fashion-mnist-sample` and in-memory data's names stay as they are.

    Example:
        >>> absolute_data_paths({"dataset": "fashion-mnist-sample", "folds": 3})
        {'dataset': 'fashion-mnist-sample', 'folds': 3}
        >>> absolute_data_paths({"dataset": "/data/../t.csv"})["dataset"]
        '/t.csv'
    """
    from pathlib import Path

    from hpsearch.data.load import is_data_file

    def absolute(path: object) -> str:
        return str(Path(str(path)).expanduser().resolve())

    out = dict(values)
    dataset = out.get("dataset")
    if isinstance(dataset, str) and is_data_file(dataset):
        out["dataset"] = absolute(dataset)
    if out.get("data_dir") is not None:
        out["data_dir"] = absolute(out["data_dir"])
    options = out.get("data_options")
    if isinstance(options, Mapping) and options.get("test") is not None:
        out["data_options"] = dict(options) | {"test": absolute(options["test"])}
    return out


def _stored(stored: TuneSpec, key: str, given: Value) -> Value:
    """The stored value to compare with a given one; of a dict setting (`data_options`) only
    the keys given, so `--resume --scale none` names just the scale."""
    value = getattr(stored, key)
    if isinstance(given, dict):
        return {k: (value or {}).get(k) for k in given}
    return value


def _show(value: Value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, tuple):
        return ",".join(value) or "(none)"
    return str(value)


def parse_duration(text: str | float | int | None) -> float | None:
    """`"20m"`, `"1h30m"`, `"90s"`, `"2h"` or a number of seconds -> seconds (None stays None).

    Example:
        >>> parse_duration("1h30m")
        5400.0
    """
    if text is None or isinstance(text, int | float):
        return None if text is None else float(text)
    parts = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*"
                         r"(?:(\d+(?:\.\d+)?)s?)?\s*", text)
    if not text.strip() or parts is None or not any(parts.groups()):
        raise ConfigError(f"`time_budget` {text!r}: write a duration like 20m, 1h30m or 90s")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in parts.groups())
    return hours * 3600 + minutes * 60 + seconds
