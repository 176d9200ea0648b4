"""The Bayesian oracle's model of the search: an encoding, the scores it learns, and a pick.

Why not Keras Tuner's own: docs/SEARCH.md measured its Gaussian process on our space. It embeds
each choice as an ordinal point in [0, 1] (sgd, adam, rmsprop at 1/6, 1/2, 5/6: an order that
means nothing), fits one isotropic length scale with a fixed, tiny noise term, and learns a
pruned trial's partial score as if the trial had finished. The length scale collapsed to its
lower bound in every seed (the GP explained the scores as noise and predicted their mean
everywhere), so its acquisition was random search drawn to the box's corners, and the slow
starters the median rule stopped early were taught as bad configs. This module fixes the three:

- `Encoding`: numeric knobs as Keras Tuner's own position in their range (log-scaled where the
  knob is), choices one-hot, an inactive knob (a layer the trial does not have) at its default
  or all-zero, so the kernel sees categories as categories.
- `training_set`: finished trials at their CV score; a pruned trial at its mean at the epoch it
  stopped plus the median gain finished trials made from that epoch to their end (the measured
  bias of a partial score is 0.02-0.04); a running trial (another worker's) at the worst score,
  so the next pick moves away from it.
- `Surrogate`: a Matern-5/2 kernel with one length scale per encoded column (ARD), bounded
  away from collapse, plus a learned white-noise term for the CV noise; the next trial is the
  candidate of highest expected improvement among random configs and neighbours of the best
  configs so far (mixed spaces have no gradient over a category, so SMAC's random-plus-local
  candidates instead of L-BFGS-B).

Everything is seeded by the search seed and the number of trials so far, so a resumed search
makes the same next pick as the killed one would have.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from hpsearch.search.trial_record import TrialRecord

RANDOM_CANDIDATES = 1000  # random configs scored per pick
NEIGHBOURS = 100  # ... plus this many neighbours of each of the best TOP configs
TOP = 5
STEP = 0.1  # a neighbour's move in a numeric knob, as a fraction of its (log) range


def fit_quietly(gpr: Any, x: np.ndarray, y: np.ndarray) -> bool:
    """Fit the GP; scikit-learn's ConvergenceWarnings are kept off the terminal.

    Why: on a long search the kernel's hyperparameters often end on a bound or L-BFGS stops
    early ("ABNORMAL"); sklearn then warns on stderr at every fit, even under --quiet, about a
    fit that is still usable (the acquisition only needs a reasonable surrogate). Other
    warnings pass through unchanged.

    Args:
        gpr: a scikit-learn GaussianProcessRegressor.
        x, y: the training points and their objective values.

    Returns:
        True when the fit raised no ConvergenceWarning.

    Example:
        >>> from sklearn.gaussian_process import GaussianProcessRegressor
        >>> x = np.array([[0.0], [1.0]])
        >>> fit_quietly(GaussianProcessRegressor(), x, np.ones(2))  # length scale on its bound
        False
    """
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gpr.fit(x, y)
    converged = True
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            converged = False
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    return converged


def _kind(hp: Any) -> str:
    name = type(hp).__name__
    return {"Boolean": "Choice"}.get(name, name)


def _choices(hp: Any) -> list[Any]:
    return [False, True] if type(hp).__name__ == "Boolean" else list(hp.values)


class _Knob:
    """One knob's lookups, done once per `Encoding` instead of once per candidate."""

    __slots__ = ("hp", "name", "kind", "choices", "conditions")

    def __init__(self, hp: Any) -> None:
        self.hp, self.name, self.kind = hp, hp.name, _kind(hp)
        self.choices = _choices(hp) if self.kind == "Choice" else None
        self.conditions = list(hp.conditions)

    def active(self, values: dict[str, Any]) -> bool:
        """Whether the knob exists given the values of the knobs before it."""
        return all(condition.is_active(values) for condition in self.conditions)


class Encoding:
    """Knob values ⇄ points of the GP's input space, and random or nearby configs.

    Args:
        space: the oracle's Keras Tuner hyperparameters (`oracle.hyperparameters.space`), in
            declaration order (a knob's conditions name knobs declared before it).

    Example:
        >>> import keras_tuner as kt
        >>> hps = kt.HyperParameters()
        >>> _ = hps.Choice("optimizer", ["adam", "sgd", "rmsprop"])
        >>> _ = hps.Float("learning_rate", 1e-4, 1e-1, sampling="log")
        >>> Encoding(hps.space).encode({"optimizer": "sgd", "learning_rate": 1e-1}).tolist()
        [0.0, 1.0, 0.0, 1.0]
    """

    def __init__(self, space: list[Any]) -> None:
        self.space = list(space)
        # Each knob's kind, choices and conditions, looked up once: a pick samples and
        # encodes ~1,500 candidates, and repeating these lookups per knob per candidate was
        # half the time of doing so (docs/SEARCH.md, run AJ).
        self.knobs = [_Knob(hp) for hp in self.space]
        self.searched_knobs = [knob for knob in self.knobs if knob.kind != "Fixed"]
        self.searched = [knob.hp for knob in self.searched_knobs]
        self.width = sum(1 if knob.choices is None else len(knob.choices)
                         for knob in self.searched_knobs)

    def encode(self, values: dict[str, Any]) -> np.ndarray:
        """One config as a point: [0, 1] per numeric knob, one-hot per choice."""
        point: list[float] = []
        for knob in self.searched_knobs:
            on = knob.active(values) and knob.name in values
            if knob.choices is not None:
                point += [float(on and values[knob.name] == c) for c in knob.choices]
            else:
                hp = knob.hp
                value = values[knob.name] if on else hp.default
                point.append(min(max(float(hp.value_to_prob(value)), 0.0), 1.0))
        return np.asarray(point)

    def value_at(self, hp: Any, position: float, kind: str | None = None) -> Any:
        """The knob value at `position` in [0, 1] of its range, kept inside the range
        (`kind`: the knob's kind when the caller already knows it)."""
        value = hp.prob_to_value(min(max(float(position), 0.0), 1.0 - 1e-9))
        if (kind or _kind(hp)) in ("Int", "Float"):  # prob_to_value can round past the top
            value = type(value)(min(max(value, hp.min_value), hp.max_value))
        return value

    def sample(self, rng: np.random.RandomState, near: dict[str, Any] | None = None,
               one: bool = False) -> dict[str, Any]:
        """A random config, or (given `near`) a neighbour of it.

        A neighbour moves every numeric knob by a normal step of `STEP` of its range and
        switches about one choice to another value; with `one`, it changes one knob only
        (SMAC's one-exchange neighbourhood: a choice to another value, a number by a normal
        step). Knobs it switches on get random values.
        """
        values: dict[str, Any] = {}
        switch = 1.0 / max(1, sum(k.choices is not None for k in self.searched_knobs))
        moved, kept = None, set()  # with `one`: the knob that changes, the ones copied
        if near is not None and one:
            movable = [k.name for k in self.searched_knobs if k.name in near]
            moved = movable[rng.randint(len(movable))] if movable else None
            kept = set(near) - {moved}
        for knob in self.knobs:
            if not knob.active(values):
                continue
            hp, name, kind, choices = knob.hp, knob.name, knob.kind, knob.choices
            if kind == "Fixed":
                values[name] = hp.value
            elif name in kept:
                values[name] = near[name]
            elif name == moved and choices is not None:
                others = [c for c in choices if c != near[name]] or choices
                values[name] = others[rng.randint(len(others))]
            elif near is None or name not in near:
                if choices is not None:
                    values[name] = choices[rng.randint(len(choices))]
                else:
                    values[name] = self.value_at(hp, rng.uniform(), kind)
            elif choices is not None:
                values[name] = choices[rng.randint(len(choices))] \
                    if rng.uniform() < switch else near[name]
            else:
                position = hp.value_to_prob(near[name]) + rng.normal(0.0, STEP)
                values[name] = self.value_at(hp, position, kind)
        return values


def imputed_score(partial_curve: list[float], finished: list[tuple[list[float], float]]
                  ) -> float | None:
    """A pruned trial's expected final score: its mean at the epoch it stopped, plus the
    median gain that finished trials made from that epoch to their final score.

    Args:
        partial_curve: the pruned trial's mean validation accuracy per epoch.
        finished: each finished trial's (curve, final score).

    Returns:
        The estimate, or None when no finished trial reached that epoch.

    Example:
        >>> imputed_score([0.5, 0.6], [([0.55, 0.62, 0.7], 0.70), ([0.5, 0.6, 0.66], 0.66)])
        0.67
    """
    epoch = len(partial_curve)
    gains = [score - curve[epoch - 1] for curve, score in finished if len(curve) >= epoch]
    if epoch == 0 or not gains:
        return None
    return round(float(partial_curve[-1] + np.median(gains)), 12)


@dataclass
class Observation:
    """What the surrogate learns from one trial."""

    values: dict[str, Any]
    score: float
    running: bool = False


def training_set(trials: list[tuple[dict[str, Any], str, float | None, TrialRecord | None]]
                 ) -> list[Observation]:
    """The surrogate's observations from Keras Tuner's trials and hpsearch's records.

    Args:
        trials: per trial: its values, Keras Tuner status, Keras Tuner score, and record.

    Returns:
        Finished trials at their score, pruned ones at `imputed_score`, running ones at the
        worst score so far (failed trials teach nothing and are left out).
    """
    from hpsearch.search.pruning import mean_curve

    def curve(record: TrialRecord | None) -> list[float]:
        return mean_curve([f["history"] for f in record.folds]) \
            if record is not None and record.folds else []

    curves = {id(r): curve(r) for _, _, _, r in trials if r is not None}  # each once
    finished = [(curves[id(r)], float(s), r.epochs_budget) for _, status, s, r in trials
                if status == "COMPLETED" and s is not None and r is not None
                and r.status == "ok" and curves[id(r)]]
    observed: list[Observation] = []
    running: list[dict[str, Any]] = []
    for values, status, score, record in trials:
        if status == "RUNNING":
            running.append(values)
        elif status == "COMPLETED" and score is not None and np.isfinite(score):
            if record is not None and record.status == "pruned":
                # gains of trials as long as this one (a searched length: another cosine
                # schedule), or of every finished trial when none is
                same = [(c, f) for c, f, b in finished if b == record.epochs_budget]
                imputed = imputed_score(curves[id(record)],
                                        same or [(c, f) for c, f, _ in finished])
                score = score if imputed is None else imputed
            observed.append(Observation(values, float(score)))
    worst = min((o.score for o in observed), default=0.0)
    return observed + [Observation(v, worst, running=True) for v in running]


class Surrogate:
    """An ARD Gaussian process over `Encoding`, and the expected-improvement pick.

    Args:
        encoding: the space's encoding.
        seed: the search seed (the kernel fit's restarts and the candidates derive from it).
    """

    def __init__(self, encoding: Encoding, seed: int) -> None:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        self.encoding = encoding
        width = max(1, encoding.width)
        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
            length_scale=np.full(width, 0.5), length_scale_bounds=(5e-2, 2e1), nu=2.5) \
            + WhiteKernel(0.1, (1e-4, 1.0))
        self.gpr = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2,
                                            random_state=seed)
        self.fit_warnings = 0

    def fit(self, observations: list[Observation]) -> None:
        x = np.vstack([self.encoding.encode(o.values) for o in observations])
        y = np.asarray([o.score for o in observations])
        if not fit_quietly(self.gpr, x, y):
            self.fit_warnings += 1

    def expected_improvement(self, points: np.ndarray, best: float) -> np.ndarray:
        """EI over `best` (higher is better) at each row of `points`."""
        from scipy.stats import norm

        mu, sigma = self.gpr.predict(points, return_std=True)
        sigma = np.maximum(sigma, 1e-12)
        z = (mu - best) / sigma
        return np.asarray((mu - best) * norm.cdf(z) + sigma * norm.pdf(z))

    def pick(self, observations: list[Observation], rng: np.random.RandomState,
             local: bool = False) -> dict[str, Any]:
        """The next config: fit on `observations`, score candidates, return the best new one.

        Args:
            observations: from `training_set` (at least one finished trial).
            rng: the seeded generator for the candidates.
            local: pick among the neighbours of the best trial only (a local step, as SMAC
                interleaves local search with its global one): with 14 knobs and a noisy
                score, expected improvement over the whole space keeps exploring far
                regions, and a warm start's near neighbours, which can beat it, wait
                (docs/SEARCH.md, lever g).

        Returns:
            The values of the candidate with the highest expected improvement that no trial
            has tried yet (a local pick with every neighbour tried falls back to all).
        """
        self.fit(observations)
        done = [o for o in observations if not o.running]
        top = sorted(done, key=lambda o: -o.score)[:TOP]
        candidates = [self.encoding.sample(rng) for _ in range(RANDOM_CANDIDATES)]
        # the best trial's neighbours change one knob each (SMAC's one-exchange local
        # search): a move in all 14 knobs at once rarely tries "the best, with gelu"
        candidates += [self.encoding.sample(rng, near=o.values, one=rank == 0)
                       for rank, o in enumerate(top) for _ in range(NEIGHBOURS)]
        tried = {self.encoding.encode(o.values).round(6).tobytes() for o in observations}
        points = np.vstack([self.encoding.encode(c) for c in candidates])
        keys = [p.round(6).tobytes() for p in points]
        gain = self.expected_improvement(points, max(o.score for o in done))
        gain[[k in tried for k in keys]] = -np.inf
        if local:  # the best trial's neighbours come right after the random candidates
            nearest = gain[RANDOM_CANDIDATES:RANDOM_CANDIDATES + NEIGHBOURS]
            if np.isfinite(nearest).any():
                return candidates[RANDOM_CANDIDATES + int(np.argmax(nearest))]
        return candidates[int(np.argmax(gain))]
