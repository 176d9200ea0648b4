"""The lab's experiments as data: each study is a base config plus named variants.

A one-factor study varies exactly one `ModelConfig` field and `build_plan` checks that every
variant differs from the base in that field only, so the lab's unfair comparisons (extra layers,
kernel instead of activity regularizers) cannot be expressed. `architectures` is the exception
by design: it compares whole presets by k-fold CV (lab Tasks 1-3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpsearch.config import (
    HEAD_FIELDS,
    HEADS,
    PRESETS,
    ModelConfig,
    head_of,
    load_config_file,
    preset,
)
from hpsearch.errors import ConfigError

ARCHITECTURES = "architectures"
ALL = "all"


@dataclass(frozen=True)
class Study:
    """How one lab question is turned into variants of a base config."""

    name: str
    question: str
    field: str  # the one ModelConfig field that varies ("preset" for architectures)
    base: str  # default base preset (the lab's)
    values: tuple[str, ...]  # default values, as a user would type them in --values
    rate_field: str | None = None  # what --rate sets on the base (same for every variant)
    default_rate: float | None = None
    lab_task: str = ""
    lab_reported: dict[str, str] = field(default_factory=dict)  # variant -> the lab's one run

    @property
    def is_kfold(self) -> bool:
        return self.name == ARCHITECTURES


STUDIES: dict[str, Study] = {s.name: s for s in (
    Study(ARCHITECTURES, "Which of the three architectures is best by k-fold CV on the training "
          "data, and how does the winner do on the test set after a refit on all training data?",
          "preset", "model1", ("model1", "model2", "model3"), lab_task="Tasks 1-3",
          lab_reported={"model1": "CV acc 0.902 (last fold only)",
                        "model2": "CV acc 0.678 (last fold only)",
                        "model3": "CV acc 0.764 (last fold only)"}),
    Study("batch-size", "How does the batch size change training and test accuracy and the "
          "training time?", "batch_size", "model1", ("32", "128", "512"), lab_task="Task 4",
          lab_reported={"32": "test acc 0.8569 in 9.64 s", "128": "test acc 0.8311 in 3.46 s",
                        "512": "test acc 0.7896 in 1.81 s"}),
    Study("optimizer", "Which optimizer trains fastest, and is the fastest also the most "
          "accurate?", "optimizer", "model1", ("sgd", "adam", "rmsprop"), lab_task="Task 5",
          lab_reported={"sgd": "test acc 0.8610 in 9.95 s", "adam": "test acc 0.8471 in 12.28 s",
                        "rmsprop": "test acc 0.7586 in 11.18 s"}),
    Study("kernel-regularization", "What do L1 and L2 weight (kernel) penalties on every dense "
          "layer do to training and test loss/accuracy?", "kernel_regularizer", "model_d",
          ("none", "l1", "l2"), rate_field="kernel_rate", default_rate=0.001,
          lab_task="Task 7 as the notebook coded it"),
    Study("activity-regularization", "Which is best on test: no activity regularization, L1 or "
          "L2 activity regularization on the first two dense layers (same rate)?",
          "activity_regularizer", "model_d", ("none", "l1", "l2"), rate_field="activity_rate",
          default_rate=0.001, lab_task="Task 7",
          lab_reported={"none": "test loss 0.3546 / acc 0.8858",
                        "l1": "test loss 0.5802 / acc 0.8410",
                        "l2": "test loss 0.5886 / acc 0.8351"}),
    Study("dropout", "Does a Dropout or a GaussianDropout layer (same rate) before the final "
          "dense layer help on test?", "dropout", "model_d", ("none", "dropout", "gaussian"),
          rate_field="dropout_rate", default_rate=0.2, lab_task="Task 8",
          lab_reported={"none": "test loss 0.3686 / acc 0.8715",
                        "dropout": "test loss 0.3536 / acc 0.8802",
                        "gaussian": "test loss 0.3744 / acc 0.8712"}),
)}
STUDIES["loss"] = Study(
    "loss", "Which output layer and loss of the lab's pipeline() train model 1 best: softmax + "
    "categorical cross-entropy, sigmoid + binary cross-entropy (pipeline()'s default) or "
    "softmax + MSE? (Accuracy is always the 10-class argmax accuracy.)", "head", "model1",
    ("softmax-cce", "sigmoid-bce", "softmax-mse"), lab_task="pipeline() losses",
    lab_reported={"sigmoid-bce": "the lab's default; its 'accuracy' was binary accuracy"})
STUDY_NAMES = (*STUDIES, ALL)



@dataclass(frozen=True)
class Variant:
    """One arm of a study: a label, the value of the varied field, and its full config."""

    name: str
    value: str
    config: ModelConfig
    is_base: bool = False


@dataclass(frozen=True)
class StudyPlan:
    """A study made concrete: base config and variants, ready to run."""

    study: Study
    base: ModelConfig
    base_source: str
    variants: tuple[Variant, ...]

    @property
    def reference(self) -> Variant:
        """The arm every other is compared with (the base; the first preset for architectures)."""
        return next(v for v in self.variants if v.is_base)


def get_study(name: str) -> Study:
    try:
        return STUDIES[name]
    except KeyError:
        raise ConfigError(f"unknown study {name!r}; choose one of "
                          f"{', '.join(STUDY_NAMES)}") from None


def load_base(spec: str | None, study: Study) -> tuple[ModelConfig, str]:
    """`--base` is a preset name or a .toml/.json file; default: the lab's base for the study."""
    spec = spec or study.base
    if spec in PRESETS:
        return preset(spec), spec
    if Path(spec).suffix in (".toml", ".json") or Path(spec).exists():
        return load_config_file(spec), spec
    raise ConfigError(f"--base {spec!r} is neither a preset ({', '.join(PRESETS)}) nor a "
                      ".toml/.json config file")


def parse_values(text: str | None, study: Study) -> tuple[str, ...]:
    """`"32,128,512"` -> ("32", "128", "512"); empty items and duplicates are errors."""
    if text is None:
        return study.values
    items = tuple(item.strip().lower() for item in text.split(","))
    if not items or any(not item for item in items):
        raise ConfigError(f"--values {text!r}: give a comma-separated list without empty items, "
                          f"e.g. --values {','.join(study.values)}")
    duplicates = sorted({item for item in items if items.count(item) > 1})
    if duplicates:
        raise ConfigError(f"--values {text!r}: {', '.join(duplicates)} given twice")
    return items


def _one_field_variant(study: Study, base: ModelConfig, value: str) -> ModelConfig:
    if study.field == "head":
        if value not in HEADS:
            raise ConfigError(f"--values: {value!r} is not an output head; choose from "
                              f"{', '.join(HEADS)}")
        overrides: dict[str, Any] = dict(zip(HEAD_FIELDS, HEADS[value], strict=True))
        allowed = set(HEAD_FIELDS)
    else:
        overrides, allowed = {study.field: value}, {study.field}
    try:
        cfg = base.with_overrides(overrides)
    except ConfigError as exc:
        raise ConfigError(f"--values: {value!r} is not a valid {study.field} ({exc})") from None
    changed = [k for k, v in cfg.to_dict().items() if base.to_dict()[k] != v]
    if not set(changed) <= allowed:  # a guard against future fields that couple
        raise ConfigError(f"variant {value!r} changes {', '.join(changed)}; a study may change "
                          f"only {study.field}")
    return cfg


def _label(value: Any) -> str:
    return str(value).lower()


def _value_of(study: Study, cfg: ModelConfig) -> str:
    return head_of(cfg) if study.field == "head" else _label(getattr(cfg, study.field))


def build_plan(name: str, base_spec: str | None = None, values: str | None = None,
               rate: float | None = None, epochs: int | None = None) -> StudyPlan:
    """Resolve a study into a base config and its variants.

    `--rate` is set on the base (e.g. `activity_rate`) so the variants differ only in the varied
    field; `--epochs` is set on the base too, so every variant trains equally long.
    """
    study = get_study(name)
    if rate is not None and study.rate_field is None:
        raise ConfigError(f"--rate does not apply to study {name}; it sets the rate of the "
                          "regularization and dropout studies")
    if study.is_kfold and base_spec is not None:
        raise ConfigError("--base does not apply to architectures; choose the presets to compare "
                          "with --values model1,model2,model3")
    base, source = load_base(base_spec, study)
    overrides: dict[str, Any] = {}
    if epochs is not None:
        overrides["epochs"] = epochs
    if study.rate_field is not None and (rate is not None
                                         or getattr(base, study.rate_field) == 0):
        overrides[study.rate_field] = rate if rate is not None else study.default_rate
    base = base.with_overrides(overrides) if overrides else base
    chosen = parse_values(values, study)
    if study.is_kfold:
        variants = tuple(Variant(v, v, _preset_with(v, overrides), is_base=i == 0)
                         for i, v in enumerate(chosen))
        return StudyPlan(study, base, source, variants)
    base_value = _value_of(study, base)
    configs = {v: _one_field_variant(study, base, v) for v in chosen}
    labels = {v: _value_of(study, cfg) for v, cfg in configs.items()}
    if base_value not in labels.values():  # the reference arm is always run
        configs = {base_value: base} | configs
        labels = {base_value: base_value} | labels
    variants = tuple(Variant(labels[v], labels[v], cfg, is_base=labels[v] == base_value)
                     for v, cfg in configs.items())
    if len({v.name for v in variants}) != len(variants):
        raise ConfigError(f"--values {values!r}: two values mean the same {study.field}")
    return StudyPlan(study, base, source, variants)


def _preset_with(name: str, overrides: dict[str, Any]) -> ModelConfig:
    if name not in PRESETS:
        raise ConfigError(f"--values: {name!r} is not a preset; the architectures study compares "
                          f"presets ({', '.join(PRESETS)})")
    return preset(name).with_overrides(overrides) if overrides else preset(name)
