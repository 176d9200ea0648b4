"""The search space: which `ModelConfig` knobs a tuner varies, over which values.

A space is a small table of `Knob`s that (1) declares itself as Keras Tuner `HyperParameters`
and (2) turns the values a tuner picked back into a validated `ModelConfig`. Keeping both
directions here means a tuner never builds a model itself: it only ever hands `evaluate` a config.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from hpsearch.config import (
    ACTIVATIONS,
    HEAD_FIELDS,
    HEADS,
    INPUT_SCALINGS,
    LR_SCHEDULES,
    OPTIMIZERS,
    RATE_RANGES,
    ModelConfig,
    rate_problem,
)
from hpsearch.errors import ConfigError, SpaceError

INT_KNOBS = ("layers", "units", "batch_size", "epochs")
FLOAT_KNOBS = ("learning_rate", "kernel_rate", "activity_rate", "dropout_rate",
               "label_smoothing")
CHOICE_KNOBS = {
    "activation": ACTIVATIONS,
    "optimizer": OPTIMIZERS,
    "lr_schedule": LR_SCHEDULES,
    "kernel_regularizer": ("none", "l1", "l2", "l1_l2"),
    "activity_regularizer": ("none", "l1", "l2"),
    "dropout": ("none", "dropout", "gaussian"),
    "head": tuple(HEADS),  # output activation + loss, as the loss study names them
    "input_scaling": INPUT_SCALINGS,
}
KNOB_NAMES = (*INT_KNOBS, *FLOAT_KNOBS, *CHOICE_KNOBS)
# A rate only matters when its switch is on: it is declared conditionally on it.
CONDITIONS = {"kernel_rate": ("kernel_regularizer", ("l1", "l2", "l1_l2")),
              "activity_rate": ("activity_regularizer", ("l1", "l2")),
              "dropout_rate": ("dropout", ("dropout", "gaussian"))}
SPEC_KEYS = {"min", "max", "step", "sampling", "values", "value", "default"}
UNDECLARED_WHEN_PINNED = ("epochs", "label_smoothing", "input_scaling")  # `Space.declare` says why


@dataclass(frozen=True)
class Knob:
    """One searched knob: a fixed value, a list of choices, or a [min, max] range."""

    name: str
    values: tuple[Any, ...] = ()  # choices (or the single pinned value)
    min: float | None = None
    max: float | None = None
    step: float | None = None
    sampling: str = "linear"  # linear | log
    default: Any = None  # what the first (warm-start) trial uses

    @property
    def fixed(self) -> bool:
        return len(self.values) == 1

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(self).items() if v not in (None, ())}


# The default space covers every knob the issue lists, centred where Fashion-MNIST MLPs do well
# and trimmed where a value only costs time (batch 32 is ~3x slower per epoch than 128).
DEFAULT_SPACE: dict[str, Knob] = {
    "layers": Knob("layers", min=1, max=4, default=2),
    "units": Knob("units", min=32, max=512, step=2, sampling="log", default=512),
    "activation": Knob("activation", ("relu", "elu", "gelu", "tanh", "sigmoid"), default="relu"),
    "optimizer": Knob("optimizer", ("adam", "rmsprop", "sgd"), default="adam"),
    "learning_rate": Knob("learning_rate", min=1e-4, max=3e-2, sampling="log", default=1e-3),
    # Pinned: cosine annealing beat a constant rate by ~1 point at equal epochs; a space
    # file with values = ["cosine", "constant"] searches it.
    "lr_schedule": Knob("lr_schedule", ("cosine",), default="cosine"),
    "batch_size": Knob("batch_size", (64, 128, 256, 512), default=128),
    "kernel_regularizer": Knob("kernel_regularizer", ("none", "l2", "l1", "l1_l2"),
                               default="none"),
    "kernel_rate": Knob("kernel_rate", min=1e-6, max=1e-3, sampling="log", default=1e-5),
    "activity_regularizer": Knob("activity_regularizer", ("none", "l2", "l1"), default="none"),
    "activity_rate": Knob("activity_rate", min=1e-6, max=1e-3, sampling="log", default=1e-5),
    "dropout": Knob("dropout", ("dropout", "none", "gaussian"), default="dropout"),
    "dropout_rate": Knob("dropout_rate", min=0.05, max=0.5, default=0.2),
    # Opt-in: the output activation and loss (pipeline()'s vocabulary), pinned to softmax +
    # cross-entropy; `--fix head=sigmoid-bce` or a space file with
    # values = ["softmax-cce", "sigmoid-bce", "softmax-mse"] searches them.
    "head": Knob("head", ("softmax-cce",), default="softmax-cce"),
    # Pinned at 0.1: on the main job's folds it beat no smoothing in 6 of 6 paired folds
    # (+0.0029 CV) and its refit in 3 of 3 seeds (+0.0025 test; scripts/
    # bench_label_smoothing.py), while a search given the knob from 0 did not find it
    # (docs/SEARCH.md, lever e). A space file with min = 0.0, max = 0.2 searches it.
    "label_smoothing": Knob("label_smoothing", (0.1,), default=0.1),
    # Pinned to standard: each input centred and scaled on the fit's own training rows
    # (sd floored at 0.05) beat the rows as given (pixels / 255) in every paired fold of the
    # main job's first trial (scripts/bench_input_scaling.py; docs/SEARCH.md, lever f).
    # A space file with values = ["none", "standard"] searches it.
    "input_scaling": Knob("input_scaling", ("standard",), default="standard"),
}


# ---------------------------------------------------------------- building and validating
def _check_value(name: str, value: Any, where: str) -> Any:
    """One value of a knob: right type, allowed name, positive size."""
    if name in CHOICE_KNOBS:
        if not isinstance(value, str) or value.lower() not in CHOICE_KNOBS[name]:
            raise SpaceError(f"{where}: {name} value {value!r} is not supported; choose from "
                             f"{', '.join(CHOICE_KNOBS[name])}")
        return value.lower()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpaceError(f"{where}: {name} values must be numbers, got {value!r}")
    if name in INT_KNOBS:
        if not float(value).is_integer() or value < 1:
            raise SpaceError(f"{where}: {name} values must be whole numbers >= 1, got {value!r}")
        return int(value)
    if name in RATE_RANGES and (problem := rate_problem(name, value)):
        raise SpaceError(f"{where}: {problem}")
    if value <= 0 and name not in RATE_RANGES:
        raise SpaceError(f"{where}: {name} must be > 0, got {value!r}")
    return float(value)


def make_knob(name: str, spec: Any, where: str = "space") -> Knob:
    """A knob from a TOML table (or a bare value, which pins it). Raises SpaceError."""
    if name not in KNOB_NAMES:
        raise SpaceError(f"{where}: unknown knob {name!r}; valid knobs are "
                         f"{', '.join(KNOB_NAMES)}")
    if not isinstance(spec, dict):
        spec = {"value": spec}
    unknown = sorted(set(spec) - SPEC_KEYS)
    if unknown:
        raise SpaceError(f"{where}: [{name}] has unknown key(s) {', '.join(unknown)}; use "
                         f"{', '.join(sorted(SPEC_KEYS))}")
    kinds = [k for k in ("value", "values", "min") if k in spec]
    if len(kinds) != 1 or ("min" in spec) != ("max" in spec):
        raise SpaceError(f"{where}: [{name}] needs exactly one of value = X, values = [..] "
                         "or min = A + max = B")
    if "value" in spec:
        value = _check_value(name, spec["value"], where)
        return Knob(name, (value,), default=value)
    if "values" in spec:
        values = spec["values"]
        if not isinstance(values, list) or not values:
            raise SpaceError(f"{where}: [{name}] values must be a non-empty list")
        checked = tuple(dict.fromkeys(_check_value(name, v, where) for v in values))
        default = _check_value(name, spec.get("default", _documented(name, checked)), where)
        if default not in checked:
            raise SpaceError(f"{where}: [{name}] default {default!r} is not one of its values")
        return Knob(name, checked, default=default)
    if name in CHOICE_KNOBS:
        raise SpaceError(f"{where}: [{name}] is a choice; write values = [...]")
    low, high = (_check_value(name, spec[k], where) for k in ("min", "max"))
    if low > high:
        raise SpaceError(f"{where}: [{name}] min {low} > max {high}; swap them")
    sampling = spec.get("sampling", "linear")
    if sampling not in ("linear", "log"):
        raise SpaceError(f"{where}: [{name}] sampling must be linear or log, got {sampling!r}")
    step = spec.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int | float)
                             or step <= 0 or (sampling == "log" and step <= 1)):
        raise SpaceError(f"{where}: [{name}] step must be a number > 0 (> 1 for log "
                         f"sampling, where it is a factor), got {step!r}")
    if low == high:
        return Knob(name, (low,), default=low)
    default = _check_value(name, spec.get("default", _documented(name, (), (low, high))), where)
    if not low <= default <= high:
        raise SpaceError(f"{where}: [{name}] default {default} is outside [{low}, {high}]")
    return Knob(name, min=low, max=high, step=step, sampling=sampling, default=default)


def _documented(name: str, values: tuple[Any, ...], bounds: tuple[Any, Any] | None = None
                ) -> Any:
    """The warm-start value of a knob a space file redefines without `default`: the default
    space's default (docs/TUNE.md) when it is one of the values or inside the (low, high)
    range, else the first value or the nearer end of the range. Taking the minimum of every
    range made the first trial the worst config ([32] relu sgd lr=1e-4)."""
    known = DEFAULT_SPACE[name].default if name in DEFAULT_SPACE else None
    if bounds is None:
        return known if known in values else values[0]
    low, high = bounds
    return low if known is None or isinstance(known, str) else min(max(known, low), high)


def load_space_file(path: str | Path) -> dict[str, Any]:
    """Read a space TOML file as data (never evaluated): {knob: spec}."""
    path = Path(path)
    if not path.is_file():
        raise SpaceError(f"space file {path} does not exist")
    if path.suffix != ".toml":
        raise SpaceError(f"space file {path}: use a .toml file (format in docs/TUNE.md)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        raise SpaceError(f"space file {path} is not valid TOML: {exc}") from exc
    return data.get("space", data) if isinstance(data.get("space"), dict) else data


@dataclass(frozen=True)
class Space:
    """Knobs to search plus the base config that supplies every other field."""

    knobs: dict[str, Knob]
    base: ModelConfig
    hidden: tuple[int, ...] | None = None  # `--fix hidden=256,128` pins every layer's size

    # ------------------------------------------------------------ description
    def to_dict(self) -> dict[str, Any]:
        return {"knobs": {n: k.to_dict() for n, k in self.knobs.items()},
                "base": self.base.to_dict(),
                "hidden": list(self.hidden) if self.hidden else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Space:
        """Inverse of `to_dict` (a worker rebuilds the chief's space from project.json)."""
        knobs = {n: Knob(**(k | {"values": tuple(k.get("values", ()))}))
                 for n, k in data["knobs"].items()}
        hidden = tuple(data["hidden"]) if data.get("hidden") else None
        return cls(knobs, ModelConfig.from_dict(data["base"]), hidden)

    def fingerprint(self) -> str:
        """Identifies the space: a project directory refuses to resume under another one."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def searched(self) -> list[str]:
        return [n for n, k in self.knobs.items() if not k.fixed]

    def longest_trial(self) -> int:
        """The most epochs any trial of this space trains (progress bars and budgets)."""
        knob = self.knobs.get("epochs")
        if knob is None:
            return self.base.epochs
        return int(max(knob.values) if knob.values else knob.max)

    def trial_epochs(self, values: dict[str, Any]) -> int:
        """How many epochs a trial with these values trains (the `epochs` knob's value, its
        default, or the base config's for a space stored before it was a knob)."""
        knob = self.knobs.get("epochs")
        if knob is None:
            return self.base.epochs
        return int(values.get("epochs", knob.values[0] if knob.fixed else knob.default))

    # ------------------------------------------------------------ Keras Tuner side
    def declare(self, hp: Any | None = None) -> Any:
        """Declare the knobs on a KT `HyperParameters` (conditional where a switch gates them)."""
        from hpsearch.search.kt_adapter import kt  # TensorFlow's settings first

        hp = hp or kt.HyperParameters()
        # A pinned knob added after searches existed (the training length, label smoothing)
        # is no hyperparameter: declared, it would take a step of Keras Tuner's seeded draws,
        # so the same seed would draw other configs than a space without it (the default main
        # job did: 6 trials finished, then 10, 476 s not 227 s), and a grid would list it.
        # Its value comes from the knob (`to_config`, `trial_epochs`) either way.
        names = [n for n in self.knobs if n not in ("layers", "units")
                 and not (n in UNDECLARED_WHEN_PINNED and self.knobs[n].fixed)]
        for name in ("layers", *names):
            if name in CONDITIONS:  # a rate exists only where its switch is on
                parent, on = CONDITIONS[name]
                active = [v for v in self.knobs[parent].values if v in on]
                if active and self.knobs[parent].fixed:
                    self._declare_one(hp, name, self.knobs[name])
                elif active:
                    with hp.conditional_scope(parent, active):
                        self._declare_one(hp, name, self.knobs[name])
                continue
            self._declare_one(hp, name, self.knobs[name])
        if self.hidden:
            return hp
        low, high = self._layer_range()
        for index in range(high):
            knob = replace(self.knobs["units"], name=f"units_{index}")
            if index < low:
                self._declare_one(hp, knob.name, knob)
            else:
                with hp.conditional_scope("layers", list(range(index + 1, high + 1))):
                    self._declare_one(hp, knob.name, knob)
        return hp

    def _layer_range(self) -> tuple[int, int]:
        knob = self.knobs["layers"]
        if knob.values:
            return int(min(knob.values)), int(max(knob.values))
        return int(knob.min), int(knob.max)

    @staticmethod
    def _declare_one(hp: Any, name: str, knob: Knob) -> None:
        if knob.fixed:
            hp.Fixed(name, knob.values[0])
        elif knob.values:
            hp.Choice(name, list(knob.values), default=knob.default)
        elif isinstance(knob.min, int) and isinstance(knob.max, int):
            step = int(knob.step) if knob.step else None
            hp.Int(name, knob.min, knob.max, step=step, sampling=knob.sampling,
                   default=knob.default)
        else:
            hp.Float(name, float(knob.min), float(knob.max), step=knob.step,
                     sampling=knob.sampling, default=knob.default)

    # ------------------------------------------------------------ back to a config
    def to_config(self, values: dict[str, Any], epochs: int | None = None) -> ModelConfig:
        """The `ModelConfig` for one trial's values; raises ConfigError if they clash."""
        pick = {n: values.get(n, k.values[0] if k.fixed else k.default)
                for n, k in self.knobs.items() if n != "units"}
        layers = int(pick.pop("layers"))
        if self.hidden:
            hidden = self.hidden
        else:
            units = self.knobs["units"]
            hidden = tuple(int(values.get(f"units_{i}", units.values[0] if units.fixed
                                          else units.default)) for i in range(layers))
        overrides: dict[str, Any] = {"hidden": hidden, **pick}
        overrides.update(zip(HEAD_FIELDS, HEADS[overrides.pop("head", "softmax-cce")],
                             strict=True))
        for rate, (switch, _) in CONDITIONS.items():
            if overrides.get(switch) == "none" and rate in overrides:
                overrides[rate] = self.base.to_dict()[rate]
        if overrides.get("kernel_regularizer", "none") == "none":
            overrides["kernel_rate"] = 0.0
        if overrides.get("activity_regularizer", "none") == "none":
            overrides["activity_rate"] = 0.0
        overrides["activity_layers"] = [i for i in self.base.activity_layers if i < layers] \
            or [0]
        if epochs is not None:
            overrides["epochs"] = epochs
        return self.base.with_overrides(overrides)


def build_space(space_file: str | Path | None = None, fixes: list[str] | None = None,
                base: ModelConfig | None = None, search_length: bool = True) -> Space:
    """Default space, narrowed/replaced knob by knob by a file, then pinned by `--fix`.

    The training length (`epochs`) is a knob too: pinned to `base.epochs` (the tune's
    --epochs) unless a space file searches it (`[epochs] values = [15, 30]`: each trial
    trains its own length, is pruned against trials of that length, and the export refits
    what CV chose); with `search_length` False (Hyperband, which sets each trial's length
    itself) a space file or --fix may not set it.
    """
    knobs = dict(DEFAULT_SPACE)
    hidden: tuple[int, ...] | None = None
    if space_file is not None:
        for name, spec in load_space_file(space_file).items():
            knobs[name] = make_knob(name, spec, where=f"space file {space_file}")
    base_overrides: dict[str, Any] = {}
    for item in fixes or []:
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key or not raw:
            raise SpaceError(f"--fix {item!r}: write knob=value, e.g. --fix optimizer=adam")
        if key == "hidden":
            sizes = [s for s in raw.replace("[", "").replace("]", "").split(",") if s.strip()]
            if not sizes or not all(s.strip().isdigit() for s in sizes):
                raise SpaceError(f"--fix hidden={raw}: write layer sizes, e.g. hidden=256,128")
            knobs["layers"] = make_knob("layers", len(sizes), "--fix")
            knobs.pop("units", None)
            hidden = tuple(int(s) for s in sizes)
            continue
        if key in KNOB_NAMES:
            knobs[key] = make_knob(key, _parse_scalar(raw), where=f"--fix {item}")
        else:
            base_overrides[key] = raw
    try:
        base_cfg = (base or ModelConfig()).with_overrides(base_overrides)
    except ConfigError as exc:
        raise SpaceError(f"--fix: {exc}") from exc
    if not search_length and "epochs" in knobs:
        raise SpaceError("hyperband sets each trial's training length itself (up to "
                         "--epochs): drop the epochs knob ([epochs] in the space file, "
                         "--fix epochs=N)")
    if "epochs" not in knobs:
        knobs["epochs"] = Knob("epochs", (base_cfg.epochs,), default=base_cfg.epochs)
    space = Space(knobs, base_cfg, hidden)
    try:  # the warm-start config must be valid, or every trial would fail the same way
        space.to_config({})
    except ConfigError as exc:
        raise SpaceError(f"the search space gives an invalid config: {exc}") from exc
    return space


def _parse_scalar(raw: str) -> Any:
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    return raw
