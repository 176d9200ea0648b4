"""`cross_validate`, `train` and `export`: score, fit or ship one or more configs.

These are the library behind `hpsearch cv`, `hpsearch train` and `hpsearch export`; the CLI
parses flags, calls them and prints what they return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpsearch.api.display import Shown, frame
from hpsearch.config import PRESETS, ModelConfig, preset
from hpsearch.data import Dataset, load_dataset
from hpsearch.errors import ConfigError, TrialFailed
from hpsearch.progress import tracker
from hpsearch.records import fold_record
from hpsearch.stats import SD_LABEL, PairedTest, Ranking, rank, sample_std

Configs = ModelConfig | str | Sequence[ModelConfig | str] | Mapping[str, ModelConfig | str]


def as_data(data: Dataset | str | Path | Callable[[], Dataset],
            folds: int | None = None) -> Dataset:
    """A `Dataset`, a name/path loaded with `load_dataset`, or a loader called now (a lazily
    loaded data set: the caller's settings are checked before it loads); checked for `folds`.

    Every caller is about to train, so TensorFlow is loaded here, without its C++ start-up
    lines on stderr (a notebook would show them in the cell).
    """
    from hpsearch.training import import_tensorflow_quietly

    import_tensorflow_quietly()
    if isinstance(data, Dataset):
        out = data
    elif callable(data):
        out = data()
    else:
        out = load_dataset(str(data))
    if folds is not None:
        out.check_folds(folds)
    return out


def named_configs(configs: Configs, epochs: int | None = None) -> dict[str, ModelConfig]:
    """name -> config: preset names stay names, a config that is a preset gets its name, any
    other is `config1`, `config2`, ...; `epochs` replaces every config's epochs."""
    if isinstance(configs, ModelConfig | str):
        configs = [configs]
    items = configs.items() if isinstance(configs, Mapping) else (
        (c if isinstance(c, str) else _name_of(c, i), c) for i, c in enumerate(configs))
    out = {}
    for name, cfg in items:
        cfg = preset(cfg) if isinstance(cfg, str) else cfg
        if not isinstance(cfg, ModelConfig):
            raise ConfigError(f"{name}: expected a ModelConfig or a preset name, got "
                              f"{type(cfg).__name__}")
        out[str(name)] = cfg if epochs is None else cfg.replace(epochs=epochs)
    if not out:
        raise ConfigError("nothing to compare; pass at least one config or preset name")
    return out


def _name_of(cfg: ModelConfig, i: int) -> str:
    return next((n for n, p in PRESETS.items() if p == cfg), f"config{i + 1}")


@dataclass(repr=False)
class CVResult(Shown):
    """k-fold CV of several configs on the same folds, with the one rule for "best".

    Attributes:
        results: name -> `hpsearch.training.evaluate.Result` (per-fold scores, curves).
        failed: name -> why that config failed (its loss diverged).
        ranking: the leader and its Holm-adjusted intervals against every other config.
    """

    results: dict[str, Any]
    failed: dict[str, str]
    ranking: Ranking
    test: PairedTest
    folds: int
    seed: int
    dataset: str

    @property
    def best(self) -> str | None:
        """The winner's name, or None when its lead is inside the noise."""
        return self.ranking.best

    @property
    def verdict(self) -> str:
        return self.ranking.headline("validation accuracy", "folds")

    def scores(self) -> dict[str, list[float]]:
        return {n: [f.val_accuracy for f in r.folds] for n, r in self.results.items()}

    def table(self) -> Any:
        """One row per config like scikit-learn's `cv_results_`: `param_*` for the fields
        that differ, `split{i}_val_accuracy`, mean/std (sample std, n-1) and rank."""
        return frame(cv_rows(self.results, self.ranking), index="config")

    def plot(self) -> Any:
        """Every fold's validation accuracy per config, with the mean: a matplotlib Figure."""
        from hpsearch.reports.figures import fold_scores_figure

        return fold_scores_figure(self.scores(), f"{self.folds}-fold CV on {self.dataset}")

    def to_dict(self) -> dict[str, Any]:
        """What `hpsearch cv --json` prints."""
        scores = self.scores()
        return {"dataset": self.dataset, "folds": self.folds, "seed": self.seed,
                "verdict": self.verdict, "test": self.test.name, "std": "sample std (ddof 1)",
                "failed": self.failed, "scores": scores, **self.ranking.to_dict(),
                "results": [{"name": n} | r.to_dict()
                            | {"std_val_accuracy": sample_std(scores[n]),
                               "std_val_loss": sample_std([f.val_loss for f in r.folds]),
                               "folds": [fold_record(f) for f in r.folds]}
                            for n, r in self.results.items()]}

    def _title(self) -> str:
        return (f"CVResult: {len(self.results)} config(s), {self.folds}-fold CV on "
                f"{self.dataset} ({SD_LABEL})")


def cv_rows(results: Mapping[str, Any], ranking: Ranking) -> list[dict[str, Any]]:
    """The `cv_results_`-shaped rows of `CVResult.table` (also the fold-record columns of a
    tune project's results table: split{i}_val_accuracy, mean_/std_/rank_val_accuracy)."""
    dicts = {n: r.config.to_dict() for n, r in results.items()}
    varied = [k for k in next(iter(dicts.values()))
              if len({repr(d[k]) for d in dicts.values()}) > 1]
    order = {name: i + 1 for i, name in enumerate(ranking.order)}
    rows = []
    for name, result in results.items():
        accuracy = [f.val_accuracy for f in result.folds]
        row: dict[str, Any] = {"config": name, "describe": result.config.describe()}
        row |= {f"param_{k}": dicts[name][k] for k in varied}
        row |= {f"split{f.fold}_val_accuracy": f.val_accuracy for f in result.folds}
        row |= {"mean_val_accuracy": result.mean_val_accuracy,
                "std_val_accuracy": sample_std(accuracy),
                "rank_val_accuracy": order.get(name),
                "mean_val_loss": result.mean_val_loss,
                "std_val_loss": sample_std([f.val_loss for f in result.folds]),
                "mean_best_epoch": result.mean_best_epoch,
                "mean_fit_time": result.fit_time / max(len(result.folds), 1)}
        rows.append(row)
    return rows


def cross_validate(configs: Configs, data: Dataset | str | Callable[[], Dataset],
                   folds: int = 5,
                   epochs: int | None = None, seed: int = 0, quiet: bool = False) -> CVResult:
    """Cross-validate configs on the training data (a fresh model per fold) and compare them.

    Every config sees the same folds, so differences are paired per fold and judged by the
    Nadeau-Bengio corrected t (folds share training data), Holm-adjusted over the others; the
    best is named only when its lead is outside the noise. The test set is never read.

    Args:
        configs: a `ModelConfig`, a preset name, a list of either, or a dict name -> config.
        data: a `Dataset`, a name/path for `load_dataset`, or a loader called once the
            settings are checked (`folds` is refused before any data loads).
        folds: stratified folds (at least 2).
        epochs: epochs for every config (default: each config's own).
        seed: fixes the folds, initial weights and shuffles.
        quiet: no progress bar.

    Returns:
        A `CVResult`: `.table()`, `.best`, `.verdict`, `.plot()`.

    Raises:
        ConfigError: no configs, or an invalid one. DataError: a class too small for `folds`.
        TrialFailed: every config failed.

    Example:
        >>> import hpsearch as hp
        >>> cv = hp.cross_validate(["model1", "model2"], "fashion-mnist-sample", folds=3,
        ...                        epochs=2)  # doctest: +SKIP
        >>> cv.best, cv.table()["mean_val_accuracy"]  # doctest: +SKIP
    """
    from hpsearch.training.evaluate import Protocol, evaluate

    candidates = named_configs(configs, epochs)
    protocol = Protocol.kfold(folds)
    data = as_data(data, folds)
    total = sum(cfg.epochs for cfg in candidates.values()) * protocol.num_fits
    results, failed = {}, {}
    with tracker(total, "cross-validating", quiet) as bar:
        for name, cfg in candidates.items():
            try:
                results[name] = evaluate(cfg, data, protocol, seed,
                                         on_epoch=bar.epoch_hook(name))
            except TrialFailed as exc:
                failed[name] = str(exc)
    if not results:
        raise TrialFailed("every config failed: " + "; ".join(failed.values()))
    # each fold's accuracy is measured on about len(y_train)/folds images: the binomial floor
    test = PairedTest.kfold(folds).accuracies_on(len(data.y_train) // folds)
    scores = {n: [f.val_accuracy for f in r.folds] for n, r in results.items()}
    return CVResult(results, failed, rank(scores, test), test, folds, seed, data.name)


@dataclass(repr=False)
class TrainResult(Shown):
    """One config trained on the training set and tested once.

    Attributes:
        result: the `Result` (its one fold holds train/validation scores and the curves).
        model: the trained Keras `Sequential` (save it with `model.save("m.keras")`).
        predictor: `model` with the data's encoding: `.predict(rows)` gives original labels.
    """

    result: Any
    model: Any
    dataset: str
    history: dict[str, list[float]] = field(default_factory=dict)
    predictor: Any = None

    def predict(self, rows: Any) -> Any:
        """The trained model's answers on raw rows (encoded and scaled as the training rows
        were), as the original class labels."""
        return self.predictor.predict(rows)

    @property
    def config(self) -> ModelConfig:
        return self.result.config

    @property
    def test_accuracy(self) -> float:
        return self.result.test_accuracy

    @property
    def test_loss(self) -> float:
        return self.result.test_loss

    @property
    def verdict(self) -> str:
        fold = self.result.folds[0]
        return (f"test accuracy {self.test_accuracy:.4f}, test loss {self.test_loss:.4f} after "
                f"{fold.epochs_run} epochs ({fold.fit_time:.1f} s); the test set was read "
                "once, after training")

    def table(self) -> Any:
        fold = self.result.folds[0]
        rows = [{"split": "train", "loss": fold.train_loss, "accuracy": fold.train_accuracy}]
        if fold.val_loss is not None:
            rows.append({"split": "validation", "loss": fold.val_loss,
                         "accuracy": fold.val_accuracy})
        rows.append({"split": "test", "loss": self.test_loss, "accuracy": self.test_accuracy})
        return frame(rows, index="split")

    def plot(self) -> Any:
        """The learning curves (loss and accuracy per epoch): a matplotlib Figure."""
        from hpsearch.reports.figures import history_figure

        return history_figure(self.history, self.config.describe())

    def _title(self) -> str:
        return f"TrainResult: {self.config.describe()} on {self.dataset}"


def train(config: ModelConfig | str, data: Dataset | str, epochs: int | None = None,
          seed: int = 0, validation_split: float = 0.0, quiet: bool = False) -> TrainResult:
    """Train one config on all training data (or all but `validation_split`), test it once.

    Args:
        config: a `ModelConfig` or a preset name.
        data: a `Dataset` or a name/path for `load_dataset`.
        epochs: replaces the config's epochs.
        seed: fixes the initial weights and shuffles.
        validation_split: hold out this share of the training data for validation curves.
        quiet: no progress bar.

    Returns:
        A `TrainResult`: `.test_accuracy`, `.test_loss`, `.history`, `.model`.

    Raises:
        TrialFailed: the loss diverged. ConfigError: an invalid config.

    Example:
        >>> import hpsearch as hp
        >>> fit = hp.train("model1", "fashion-mnist-sample", epochs=2)  # doctest: +SKIP
        >>> fit.test_accuracy  # doctest: +SKIP
    """
    from hpsearch.training.evaluate import Protocol, evaluate

    cfg = next(iter(named_configs(config, epochs).values()))
    data = as_data(data)
    with tracker(cfg.epochs, "training", quiet) as bar:
        result, model = evaluate(cfg, data, Protocol.train_test(validation_split), seed,
                                 on_epoch=bar.epoch_hook(), keep_model=True)
    from hpsearch.training.predict import Predictor

    return TrainResult(result, model, data.name, dict(result.folds[0].history),
                       Predictor.for_data(model, data))
