"""hpsearch: honest hyperparameter search for fully connected Keras networks.

The public API, for notebooks and scripts (the CLI is a thin layer over it)::

    import hpsearch as hp

    data = hp.load_dataset("fashion-mnist-sample")   # or hp.Dataset.from_arrays(df, df_y)
    cv = hp.cross_validate(["model1", "model2"], data, folds=3, epochs=3)
    cv.best, cv.verdict, cv.table()
    fit = hp.train(hp.preset("model1").replace(optimizer="adam"), data, epochs=3)
    search = hp.tune("runs/t1", data, max_trials=10, epochs=5, time_budget="10m")
    search.results(), search.best_config, search.export("runs/t1/export")
    st = hp.study("optimizer", data, repeats=3, epochs=3, out="studies/opt")
    st.summary(), st.verdict
    hp.report("runs/t1")

Importing hpsearch loads no TensorFlow and changes no environment variable: every name is
imported on first use (like Optuna's lazy subpackages), and TensorFlow's settings are applied
by `hpsearch.training`, where TensorFlow is first imported.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute)
_API = {
    "load_dataset": ("hpsearch.data", "load_dataset"),
    "Dataset": ("hpsearch.data", "Dataset"),
    "ModelConfig": ("hpsearch.config", "ModelConfig"),
    "preset": ("hpsearch.config", "preset"),
    "PRESETS": ("hpsearch.config", "PRESETS"),
    "load_config": ("hpsearch.config", "load_config_file"),
    "cross_validate": ("hpsearch.api.evaluation", "cross_validate"),
    "CVResult": ("hpsearch.api.evaluation", "CVResult"),
    "train": ("hpsearch.api.evaluation", "train"),
    "TrainResult": ("hpsearch.api.evaluation", "TrainResult"),
    "export": ("hpsearch.api.exporting", "export"),
    "predict": ("hpsearch.api.prediction", "predict"),
    "load_export": ("hpsearch.training.predict", "load_export"),
    "Predictor": ("hpsearch.training.predict", "Predictor"),
    "Exported": ("hpsearch.api.exporting", "Exported"),
    "tune": ("hpsearch.api.tuning", "tune"),
    "tune_settings": ("hpsearch.api.tuning", "tune_settings"),
    "TuneSpec": ("hpsearch.search.spec", "TuneSpec"),
    "tune_budget": ("hpsearch.api.tune_jobs", "tune_budget"),
    "Search": ("hpsearch.api.tuning", "Search"),
    "load_search": ("hpsearch.api.tuning", "load_search"),
    "study": ("hpsearch.api.study", "study"),
    "StudyResult": ("hpsearch.api.study", "StudyResult"),
    "STUDIES": ("hpsearch.studies.plan", "STUDY_NAMES"),
    "report": ("hpsearch.api.tuning", "report"),
    "HpsearchError": ("hpsearch.errors", "HpsearchError"),
    "ConfigError": ("hpsearch.errors", "ConfigError"),
    "DataError": ("hpsearch.errors", "DataError"),
    "ProjectError": ("hpsearch.errors", "ProjectError"),
    "TrialFailed": ("hpsearch.errors", "TrialFailed"),
}
__all__ = ["__version__", *_API]

def __getattr__(name: str) -> Any:
    try:
        module, attribute = _API[name]
    except KeyError:
        raise AttributeError(f"module 'hpsearch' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
