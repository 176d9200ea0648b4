"""One validated description of a playground run (the site's controls, as a frozen dataclass)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .datasets import REGRESSION, check_dataset
from .errors import (
    InvalidValueError,
    NetworkShapeError,
    UnknownActivationError,
    UnknownRegularizationError,
)
from .features import DEFAULT_FEATURES, parse_features
from .rng import parse_seed

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
REGULARIZATIONS = ("none", "l1", "l2")
MAX_LAYERS = 6
MAX_NEURONS = 8


@dataclass(frozen=True)
class PlaygroundConfig:
    """Every knob of the site; defaults are the site's (circle, [4, 2], tanh, lr 0.03, batch 10)."""

    dataset: str = "circle"
    features: tuple[str, ...] = DEFAULT_FEATURES
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    learning_rate: float = 0.03
    regularization: str = "none"
    reg_rate: float = 0.0
    batch_size: int = 10
    noise: float = 0
    ratio: float = 50
    epochs: int = 500
    seed: str | int = field(default=0)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "dataset", check_dataset(self.dataset))
        set_(self, "features", parse_features(self.features))
        set_(self, "hidden", check_hidden(self.hidden))
        set_(self, "activation", check_choice(self.activation, ACTIVATIONS, "activation",
                                              UnknownActivationError))
        set_(self, "regularization", check_choice(self.regularization, REGULARIZATIONS,
                                                  "regularization", UnknownRegularizationError))
        if not self.learning_rate > 0:
            raise InvalidValueError(f"learning rate {self.learning_rate} must be > 0 (site: 0.03)")
        if not self.reg_rate >= 0:
            raise InvalidValueError(f"regularization rate {self.reg_rate} must be >= 0")
        if isinstance(self.batch_size, bool) or int(self.batch_size) != self.batch_size \
                or self.batch_size < 1:
            raise InvalidValueError(f"batch size {self.batch_size} must be an integer >= 1")
        if not 0 <= self.noise <= 100:
            raise InvalidValueError(f"noise {self.noise} must be in 0..100 (site slider: 0..50)")
        if not 0 < self.ratio < 100:
            raise InvalidValueError(f"train ratio {self.ratio} must be in 1..99 percent")
        if int(self.epochs) != self.epochs or self.epochs < 0:
            raise InvalidValueError(f"epochs {self.epochs} must be an integer >= 0")
        set_(self, "seed", parse_seed(self.seed))

    @property
    def is_regression(self) -> bool:
        return self.dataset in REGRESSION

    @property
    def shape(self) -> tuple[int, ...]:
        """[inputs] + hidden + [1], like the site's networkShape."""
        return (len(self.features), *self.hidden, 1)

    def slug(self) -> str:
        """A folder name that tells runs apart: data set, layers, every setting that differs
        from the site's default, epochs and seed (e.g. `circle_h3_l1-0.003_e500_seed0.12345`).

        Example:
            >>> PlaygroundConfig(hidden=(3,), regularization="l1", reg_rate=0.003).slug()
            'circle_h3_l1-0.003_e500_seed0'
        """
        site = PlaygroundConfig()
        parts = [self.dataset, "h" + ("-".join(map(str, self.hidden)) or "0")]
        if self.features != site.features:
            short = {"x1^2": "x1sq", "x2^2": "x2sq", "x1*x2": "x1x2", "sin(x1)": "sinx1",
                     "sin(x2)": "sinx2"}
            parts.append("+".join(short.get(f, f) for f in self.features))
        if self.activation != site.activation:
            parts.append(self.activation)
        if self.learning_rate != site.learning_rate:
            parts.append(f"lr{self.learning_rate:g}")
        if self.regularization != "none":
            parts.append(f"{self.regularization}-{self.reg_rate:g}")
        for name, value, default in (("batch", self.batch_size, site.batch_size),
                                     ("noise", self.noise, site.noise),
                                     ("ratio", self.ratio, site.ratio)):
            if value != default:
                parts.append(f"{name}{value:g}")
        return "_".join([*parts, f"e{self.epochs}", f"seed{self.seed}"])

    def to_dict(self) -> dict:
        data = asdict(self)
        data["features"] = list(self.features)
        data["hidden"] = list(self.hidden)
        return data


def check_choice(value: str, choices: tuple[str, ...], what: str, error: type) -> str:
    key = str(value).strip().lower()
    if key not in choices:
        raise error(f"unknown {what} {value!r}; choose from {', '.join(choices)}")
    return key


def check_hidden(hidden) -> tuple[int, ...]:
    """0..6 hidden layers of 1..8 neurons each (the site's limits)."""
    sizes = tuple(hidden)
    if len(sizes) > MAX_LAYERS:
        raise NetworkShapeError(f"{len(sizes)} hidden layers; the site allows 0..{MAX_LAYERS}")
    for size in sizes:
        if isinstance(size, bool) or int(size) != size or not 1 <= size <= MAX_NEURONS:
            raise NetworkShapeError(
                f"hidden layer of {size} neurons; each layer needs 1..{MAX_NEURONS} neurons"
            )
    return tuple(int(s) for s in sizes)


def parse_layers(text: str) -> tuple[int, ...]:
    """"4,2" -> (4, 2); "" / "none" / "0" -> no hidden layer."""
    cleaned = text.strip().lower()
    if cleaned in ("", "none", "0", "[]"):
        return ()
    try:
        return check_hidden(int(part) for part in cleaned.strip("[]").split(","))
    except ValueError as exc:
        if isinstance(exc, NetworkShapeError):
            raise
        raise NetworkShapeError(
            f"cannot read layers {text!r}; give neurons per hidden layer like 4,2"
        ) from None
