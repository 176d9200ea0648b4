"""`ModelConfig`: the one description of a network and how to train it.

Every command works on a `ModelConfig`, so every variant of the lab is one field away and an
unfair comparison (extra layers, wrong regularizer kind) needs an explicit change that shows.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import tomli_w

from hpsearch.errors import ConfigError

REGULARIZERS = ("none", "l1", "l2", "l1_l2")
ACTIVITY_REGULARIZERS = ("none", "l1", "l2")
DROPOUT_KINDS = ("none", "dropout", "gaussian")
DROPOUT_POSITIONS = ("before_output", "every_hidden")
# The lab's pipeline() vocabulary. Whatever the loss, the accuracy hpsearch reports is the
# k-class (argmax) accuracy.
LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
          "mean_squared_error")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "swish", "silu", "softplus",
               "softsign", "leaky_relu", "relu6", "mish", "linear", "hard_sigmoid", "exponential")
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", "linear")
# An output head: an output activation and a loss, which only make sense together (the
# loss study varies them as one factor; the tune space has them as one opt-in knob).
HEADS: dict[str, tuple[str, str]] = {
    "softmax-cce": ("softmax", "categorical_crossentropy"),
    "sigmoid-bce": ("sigmoid", "binary_crossentropy"),
    "softmax-mse": ("softmax", "mean_squared_error"),
    "sigmoid-cce": ("sigmoid", "categorical_crossentropy"),
    "softmax-bce": ("softmax", "binary_crossentropy"),
    "sigmoid-mse": ("sigmoid", "mean_squared_error"),
    "linear-mse": ("linear", "mean_squared_error"),
}
HEAD_FIELDS = ("output_activation", "loss")
LR_SCHEDULES = ("constant", "cosine")
INPUT_SCALINGS = ("none", "standard")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "ftrl",
              "lion")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture + regularization + training knobs of one fully connected network."""

    hidden: tuple[int, ...] = (64, 32)
    # standard: every input centred and scaled by its mean and sd over the fit's own training
    # rows (a CV fold's only), with the sd floored (`hpsearch.data.features.input_standard`);
    # the exported model folds it into its first layer, so it reads the rows as before.
    # none: the rows as the data set gives them (pixels / 255), the lab's way.
    input_scaling: str = "none"
    activation: str = "relu"
    output_activation: str = "softmax"
    optimizer: str = "sgd"
    learning_rate: float | None = 1e-2  # None: the optimizer's Keras default
    lr_schedule: str = "constant"  # cosine: decay to ~0 over `epochs` (per epoch)
    loss: str = "categorical_crossentropy"
    # Targets y(1 - e) + e/classes (binary cross-entropy: e/2, as Keras smooths it): the
    # network stops pushing its logits apart once it is right; 0.1 lifted the tune's warm
    # start by +0.0025 test accuracy on Fashion-MNIST (docs/SEARCH.md, lever e). 0 = off,
    # Keras' default.
    label_smoothing: float = 0.0
    kernel_regularizer: str = "none"
    kernel_rate: float = 0.0
    activity_regularizer: str = "none"
    activity_rate: float = 0.0
    activity_layers: tuple[int, ...] = (0, 1)  # indices of the hidden layers it applies to
    dropout: str = "none"
    dropout_rate: float = 0.2
    dropout_position: str = "before_output"
    batch_size: int = 32
    epochs: int = 10
    patience: int = 0  # early stopping on validation loss; 0 = off
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(u) for u in self.hidden))
        object.__setattr__(self, "activity_layers", tuple(int(i) for i in self.activity_layers))
        for name in ("optimizer", "activation", "output_activation", "loss",
                     "kernel_regularizer", "activity_regularizer", "dropout",
                     "dropout_position", "lr_schedule", "input_scaling"):
            object.__setattr__(self, name, str(getattr(self, name)).lower())
        validate(self)

    def weight_count(self, inputs: int = 784, classes: int = 10) -> int:
        """Trainable weights (kernels and biases) of one network of this config.

        Example:
            >>> ModelConfig(hidden=(10,)).weight_count(inputs=4, classes=3)
            83
        """
        sizes = [inputs, *self.hidden, classes]
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:], strict=False))

    # ------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["hidden"] = list(self.hidden)
        data["activity_layers"] = list(self.activity_layers)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown field(s) {', '.join(unknown)}; "
                              f"valid fields are {', '.join(sorted(known))}")
        try:
            return cls(**{k: _coerce(k, v) for k, v in data.items()})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: {exc}") from exc

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_toml(self) -> str:
        # TOML has no null: an unset learning rate is written as "default"
        data = self.to_dict()
        if data["learning_rate"] is None:
            data["learning_rate"] = "default"
        return tomli_w.dumps(data)

    def replace(self, **changes: Any) -> ModelConfig:
        """A copy with some fields changed, validated like any config (frozen: never in place).

        Args:
            **changes: `ModelConfig` fields and their new values.

        Returns:
            The new config.

        Raises:
            ConfigError: an unknown field or an invalid value, named.

        Example:
            >>> preset("model1").replace(epochs=3, optimizer="adam").epochs
            3
        """
        return self.with_overrides(changes)

    def with_overrides(self, overrides: dict[str, Any]) -> ModelConfig:
        merged = self.to_dict() | overrides
        return ModelConfig.from_dict(merged, source="override")

    def describe(self) -> str:
        """Short human label, used in tables."""
        extra = []
        if self.kernel_regularizer != "none":
            extra.append(f"kernel {self.kernel_regularizer}={self.kernel_rate:.3g}")
        if self.activity_regularizer != "none":
            extra.append(f"activity {self.activity_regularizer}={self.activity_rate:.3g}")
        if self.dropout != "none":
            extra.append(f"{self.dropout} {self.dropout_rate:.3g}")
        if (self.output_activation, self.loss) != ("softmax", "categorical_crossentropy"):
            extra.append(f"{self.output_activation} + {self.loss}")  # the loss acts: show it
        if self.label_smoothing:
            extra.append(f"label smoothing {self.label_smoothing:.3g}")
        if self.input_scaling != "none":
            extra.append(f"{self.input_scaling} inputs")
        lr = "default" if self.learning_rate is None else f"{self.learning_rate:.3g}"
        if self.lr_schedule != "constant":
            lr += f", {self.lr_schedule}"
        base = (f"{list(self.hidden)} {self.activation} {self.optimizer}(lr={lr}) "
                f"batch {self.batch_size}")
        return base + (" " + ", ".join(extra) if extra else "")


def _coerce(name: str, value: Any) -> Any:
    if name in ("hidden", "activity_layers"):
        if isinstance(value, str):
            value = [v for v in value.replace("[", "").replace("]", "").split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ValueError(f"{name} must be a list of integers, e.g. 64,32")
        try:
            return tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a list of integers, got {value!r}") from None
    if name == "learning_rate" and (value is None or str(value).lower() in ("none", "default")):
        return None
    if name in ("learning_rate", "kernel_rate", "activity_rate", "dropout_rate",
                "label_smoothing"):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    if name in ("batch_size", "epochs", "patience", "seed"):
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, got {value!r}")
    return value


# The rates whose range is not just "positive": one rule, read by `validate` (configs) and by
# the search space's value check (space files), so the two cannot drift apart.
RATE_RANGES = {"dropout_rate": (False, "(0, 1)"),  # (0 allowed?, as written)
               "label_smoothing": (True, "[0, 1) (0 = off; 0.1 is usual)")}


def rate_problem(name: str, value: float) -> str | None:
    """What is wrong with `value` for a rate of `RATE_RANGES`, or None when it is allowed.

    Example:
        >>> rate_problem("dropout_rate", 1.5)
        'dropout_rate must be in (0, 1), got 1.5'
        >>> rate_problem("label_smoothing", 0.0) is None
        True
    """
    zero_ok, written = RATE_RANGES[name]
    if (0 <= value if zero_ok else 0 < value) and value < 1:
        return None
    return f"{name} must be in {written}, got {value!r}"


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} {value!r} is not supported; choose one of "
                          f"{', '.join(allowed)}")


def validate(cfg: ModelConfig) -> None:
    """Refuse configs that cannot train or that would silently measure the wrong thing."""
    if not cfg.hidden:
        raise ConfigError("hidden must list at least one layer size, e.g. hidden=64,32")
    if any(u <= 0 for u in cfg.hidden):
        raise ConfigError(f"hidden layer sizes must be positive, got {list(cfg.hidden)}")
    _one_of("activation", cfg.activation, ACTIVATIONS)
    _one_of("output_activation", cfg.output_activation, OUTPUT_ACTIVATIONS)
    _one_of("optimizer", cfg.optimizer, OPTIMIZERS)
    _one_of("loss", cfg.loss, LOSSES)
    _one_of("kernel_regularizer", cfg.kernel_regularizer, REGULARIZERS)
    _one_of("activity_regularizer", cfg.activity_regularizer, ACTIVITY_REGULARIZERS)
    _one_of("dropout", cfg.dropout, DROPOUT_KINDS)
    _one_of("dropout_position", cfg.dropout_position, DROPOUT_POSITIONS)
    _one_of("lr_schedule", cfg.lr_schedule, LR_SCHEDULES)
    _one_of("input_scaling", cfg.input_scaling, INPUT_SCALINGS)
    if problem := rate_problem("label_smoothing", cfg.label_smoothing):
        raise ConfigError(problem)
    if cfg.learning_rate is not None and not cfg.learning_rate > 0:
        raise ConfigError(f"learning_rate must be > 0, got {cfg.learning_rate}")
    for name in ("kernel_rate", "activity_rate"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"{name} must be >= 0, got {getattr(cfg, name)}")
    if cfg.kernel_regularizer != "none" and cfg.kernel_rate == 0:
        raise ConfigError("kernel_regularizer is set but kernel_rate is 0; set kernel_rate > 0 "
                          "or kernel_regularizer=none")
    if cfg.activity_regularizer != "none" and cfg.activity_rate == 0:
        raise ConfigError("activity_regularizer is set but activity_rate is 0; set "
                          "activity_rate > 0 or activity_regularizer=none")
    bad_layers = [i for i in cfg.activity_layers if not 0 <= i < len(cfg.hidden)]
    if cfg.activity_regularizer != "none" and bad_layers:
        raise ConfigError(f"activity_layers {bad_layers} do not exist: the network has "
                          f"{len(cfg.hidden)} hidden layers (indices 0..{len(cfg.hidden) - 1})")
    if cfg.dropout != "none" and (problem := rate_problem("dropout_rate", cfg.dropout_rate)):
        raise ConfigError(problem)
    if cfg.batch_size <= 0:
        raise ConfigError(f"batch_size must be positive, got {cfg.batch_size}")
    if cfg.epochs <= 0:
        raise ConfigError(f"epochs must be positive, got {cfg.epochs}")
    if cfg.patience < 0:
        raise ConfigError(f"patience must be >= 0 (0 turns early stopping off), got "
                          f"{cfg.patience}")


def notes(cfg: ModelConfig) -> list[str]:
    """One-line notes about choices that train but are easy to misread (not errors).

    Args:
        cfg: the config.

    Returns:
        Zero or more sentences for the user.

    Example:
        >>> notes(ModelConfig(loss="binary_crossentropy", output_activation="sigmoid"))[0][:40]
        'loss binary_crossentropy treats each of '
    """
    out = []
    if cfg.loss == "binary_crossentropy":
        out.append("loss binary_crossentropy treats each of the outputs as its own yes/no "
                   "problem; hpsearch reports the true argmax accuracy over all classes (Keras' "
                   "\"accuracy\" would switch to binary accuracy, ~0.9 for any 10-class model)")
    if cfg.output_activation == "linear" and cfg.loss != "mean_squared_error":
        out.append(f"output_activation linear with {cfg.loss}: Keras clips the outputs into "
                   "(0, 1) as if they were probabilities, so training may stall; softmax is "
                   "the usual choice")
    return out


# ---------------------------------------------------------------- presets
PRESETS: dict[str, ModelConfig] = {
    "model1": ModelConfig(hidden=(64, 32), activation="relu", optimizer="sgd"),
    "model2": ModelConfig(hidden=(128, 64, 32), activation="tanh", optimizer="adam"),
    "model3": ModelConfig(hidden=(256, 128), activation="relu", optimizer="rmsprop"),
    "model_d": ModelConfig(hidden=(128, 128, 128, 128), activation="relu", optimizer="adam",
                           learning_rate=None),
}


def preset(name: str) -> ModelConfig:
    """One of the lab's configs by name.

    Args:
        name: model1, model2, model3 or model_d (see `PRESETS`).

    Returns:
        The `ModelConfig`.

    Raises:
        ConfigError: an unknown name, listing the known ones.

    Example:
        >>> preset("model1").hidden
        (64, 32)
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; choose one of "
                          f"{', '.join(PRESETS)} or pass --config FILE") from None


def load_config_file(path: str | Path) -> ModelConfig:
    """Read a config from TOML or JSON. Parsed as data only, never evaluated."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        elif path.suffix == ".toml":
            data = tomllib.loads(text)
        else:
            raise ConfigError(f"config file {path}: use a .toml or .json file")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid {path.suffix[1:].upper()}: "
                          f"{exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a table of fields at the top level")
    data = data.get("model", data)  # allow a [model] table
    return ModelConfig.from_dict(data, source=str(path))


def parse_overrides(items: list[str] | None) -> dict[str, str]:
    """`["epochs=5", "hidden=128,64"]` -> dict; values are coerced by `from_dict`."""
    overrides: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: write key=value, e.g. --set epochs=5")
        overrides[key.strip()] = value.strip()
    return overrides


def resolve_config(preset_name: str | None = None, config_file: str | Path | None = None,
                   overrides: list[str] | None = None) -> ModelConfig:
    """Preset or file (not both), then `--set` overrides."""
    if preset_name and config_file:
        raise ConfigError("pass either --preset or --config, not both")
    cfg = load_config_file(config_file) if config_file else preset(preset_name or "model1")
    return cfg.with_overrides(parse_overrides(overrides)) if overrides else cfg


def save_config(cfg: ModelConfig, path: str | Path) -> None:
    path = Path(path)
    text = cfg.to_json() if path.suffix == ".json" else cfg.to_toml()
    path.write_text(text, encoding="utf-8")


def head_of(cfg: ModelConfig) -> str:
    """The name of a config's output activation and loss, e.g. "softmax-cce".

    Example:
        >>> head_of(ModelConfig(output_activation="sigmoid", loss="binary_crossentropy"))
        'sigmoid-bce'
    """
    loss = "categorical_crossentropy" if cfg.loss == "sparse_categorical_crossentropy" \
        else cfg.loss
    for name, pair in HEADS.items():
        if pair == (cfg.output_activation, loss):
            return name
    return f"{cfg.output_activation}-{cfg.loss}"
