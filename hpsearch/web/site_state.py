"""The site's URL state (src/state.ts): read and write its hash, map it to a PlaygroundConfig.

The page and the server agree on one format, the site's own, so a hash copied from
playground.tensorflow.org loads here unchanged and our page's hash pastes back into the site.
Parsing and serialising live only here (the page sends and receives hash strings), so there is
one implementation of the format, and a bad value is a typed error the server turns into a 400.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal
from urllib.parse import unquote

from playground.config import PlaygroundConfig
from playground.errors import PlaygroundError

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
REGULARIZATIONS = {"none": "none", "L1": "l1", "L2": "l2"}  # site key -> engine name
DATASETS = ("circle", "xor", "gauss", "spiral")
REG_DATASETS = ("reg-plane", "reg-gauss")
PROBLEMS = ("classification", "regression")
#: Site feature flags in node order -> engine feature names (cosX/cosY have no node).
FEATURE_FLAGS = {"x": "x1", "y": "x2", "xSquared": "x1^2", "ySquared": "x2^2",
                 "xTimesY": "x1*x2", "sinX": "sin(x1)", "sinY": "sin(x2)"}
#: Changing one of these makes new data (new seed) and rebuilds the network.
NEW_DATA = frozenset({"dataset", "regDataset", "noise", "percTrainData", "problem"})
#: Changing one of these only changes the display or the next updates: no rebuild.
NO_RESET = frozenset({"learningRate", "showTestData", "discretize", "collectStats", "hideText",
                      "tutorial"})


class SiteStateError(PlaygroundError):
    """A hash key or value the site's state cannot hold (the server answers 400)."""


@dataclass(frozen=True)
class SiteState:
    """The site's State object; fields in the order state.ts serialises them.

    ``regularization`` is "none" for the site's null (which it leaves out of the hash);
    ``seed`` is "" until the page picks one.
    """

    activation: str = "tanh"
    regularization: str = "none"
    batchSize: int = 10  # noqa: N815 - the site's key names are the format
    dataset: str = "circle"
    regDataset: str = "reg-plane"  # noqa: N815
    learningRate: float = 0.03  # noqa: N815
    regularizationRate: float = 0.0  # noqa: N815
    noise: float = 0
    networkShape: tuple[int, ...] = (4, 2)  # noqa: N815
    seed: str = ""
    showTestData: bool = False  # noqa: N815
    discretize: bool = False
    percTrainData: float = 50  # noqa: N815
    x: bool = True
    y: bool = True
    xTimesY: bool = False  # noqa: N815
    xSquared: bool = False  # noqa: N815
    ySquared: bool = False  # noqa: N815
    cosX: bool = False  # noqa: N815
    sinX: bool = False  # noqa: N815
    cosY: bool = False  # noqa: N815
    sinY: bool = False  # noqa: N815
    collectStats: bool = False  # noqa: N815
    tutorial: str = ""
    problem: str = "classification"
    initZero: bool = False  # noqa: N815
    hideText: bool = False  # noqa: N815

    @property
    def is_regression(self) -> bool:
        return self.problem == "regression"

    def to_config(self) -> PlaygroundConfig:
        """The engine's config for this state (validates every value the site's way).

        Example:
            >>> parse_hash("networkShape=3&seed=0.1").to_config().hidden
            (3,)
        """
        features = [name for flag, name in FEATURE_FLAGS.items() if getattr(self, flag)]
        if not features:
            raise SiteStateError("no input feature is on; turn on at least one of "
                                 + ", ".join(FEATURE_FLAGS))
        return PlaygroundConfig(
            dataset=self.regDataset if self.is_regression else self.dataset,
            features=tuple(features), hidden=self.networkShape, activation=self.activation,
            learning_rate=self.learningRate, regularization=self.regularization,
            reg_rate=self.regularizationRate, batch_size=self.batchSize, noise=self.noise,
            ratio=self.percTrainData, epochs=0, seed=f"site:{self.seed or '0'}")


_KINDS = {f.name: f.type for f in fields(SiteState)}


def js_number(value: float) -> str:
    """A number as JavaScript's String(n) writes it (0.03, 1e-7, 10), for hash round trips.

    Example:
        >>> js_number(0.00001), js_number(1e-7), js_number(10.0)
        ('0.00001', '1e-7', '10')
    """
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    sign, digits, exp = Decimal(repr(float(value))).normalize().as_tuple()
    text = "".join(map(str, digits))
    point = len(text) + exp  # position of the decimal point in the shortest digits
    head = "-" if sign else ""
    if 0 < point <= 21:
        return head + (text[:point] + "." + text[point:] if point < len(text)
                       else text + "0" * (point - len(text)))
    if -6 < point <= 0:
        return head + "0." + "0" * -point + text
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{head}{mantissa}e{'+' if point - 1 > 0 else '-'}{abs(point - 1)}"


def _parse_value(name: str, raw: str):
    """One hash value into the field's type, with the site's key maps; errors name the key."""
    kind = _KINDS[name]
    choices = {"activation": ACTIVATIONS, "dataset": DATASETS, "regDataset": REG_DATASETS,
               "problem": PROBLEMS}
    if name == "regularization":
        if raw not in REGULARIZATIONS:
            raise SiteStateError(f"regularization={raw!r}: choose from none, L1, L2")
        return REGULARIZATIONS[raw]
    if name in choices:
        if raw not in choices[name]:
            raise SiteStateError(f"{name}={raw!r}: choose from {', '.join(choices[name])}")
        return raw
    if kind == "bool":
        return raw != "false"  # the site: anything but "false" is true
    if kind == "str":
        return raw
    try:
        if name == "networkShape":
            return tuple(int(part) for part in raw.split(",")) if raw else ()
        number = float(raw)
    except ValueError:
        raise SiteStateError(f"{name}={raw!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise SiteStateError(f"{name}={raw!r} is not a finite number")
    if name == "batchSize":
        if number != int(number):
            raise SiteStateError(f"batchSize={raw!r} must be a whole number")
        return int(number)
    return number


def parse_pairs(pairs: dict[str, str], base: SiteState | None = None) -> SiteState:
    """Apply key=value pairs (site names) to ``base``; unknown keys raise SiteStateError.

    Example:
        >>> parse_pairs({"noise": "10"}).noise
        10.0
    """
    base = base or SiteState()
    changes = {}
    for name, raw in pairs.items():
        if name not in _KINDS:
            raise SiteStateError(f"unknown playground setting {name!r}")
        changes[name] = _parse_value(name, raw)
    state = replace(base, **changes)
    state.to_config()  # validate now, before anything uses it
    return state


def parse_hash(text: str) -> SiteState:
    """A site hash (``#activation=tanh&...``, with or without ``#``) into a SiteState.

    Keys the site does not know are ignored, as the site ignores them; bad values raise.

    Example:
        >>> parse_hash("#activation=relu&networkShape=4,2&seed=0.12345").activation
        'relu'
    """
    pairs = {}
    for item in unquote(text.lstrip("#")).split("&"):
        name, _, raw = item.partition("=")
        if name in _KINDS:
            pairs[name] = raw
    return parse_pairs(pairs)


def to_hash(state: SiteState) -> str:
    """The site's serializeState(): every set property in order, without the leading '#'.

    Example:
        >>> to_hash(SiteState(seed="0.5")).startswith("activation=tanh&batchSize=10&")
        True
    """
    parts = []
    for name in _KINDS:
        value = getattr(state, name)
        if (name == "regularization" and value == "none") or (name == "tutorial" and not value):
            continue  # the site's null: not serialised
        if name == "regularization":
            value = value.upper()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, tuple):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, int | float):
            value = js_number(value)
        parts.append(f"{name}={value}")
    return "&".join(parts)
