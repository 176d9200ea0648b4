"""`cv`, `tune` and the architectures study (the study that scores by CV) never read the test
set: its images are a sentinel that raises on any access to its values.

Why a sentinel and not only NaN: NaN proves the scores do not *depend* on the test set, a
sentinel proves it is never even read (no scoring, no scaling, no peek), so a leak that
happened to be harmless today still fails here.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import hpsearch as hp

SPACE = ["batch_size=256", "layers=1", "units=32", "optimizer=adam", "dropout=none"]


class ReadOfTheTestSet(AssertionError):
    pass


class Sentinel:
    """Stands in for a test array: its shape, dtype and length can be looked at, its values
    cannot (indexing, iteration, NumPy conversion, ufuncs, array functions and every other
    attribute raise)."""

    def __init__(self, like: np.ndarray):
        self.shape, self.dtype, self.ndim, self.size = like.shape, like.dtype, like.ndim, like.size

    def __len__(self) -> int:
        return self.shape[0]

    def _refuse(self, *args, **kwargs):
        raise ReadOfTheTestSet("the test set was read")

    __getitem__ = __array__ = __iter__ = __array_ufunc__ = __array_function__ = _refuse
    __add__ = __sub__ = __mul__ = __truediv__ = __eq__ = __float__ = _refuse
    __hash__ = None

    def __getattr__(self, name: str):  # .sum(), .astype(), .copy(), ...: any other attribute
        self._refuse()


def poisoned(data):
    out = copy.copy(data)  # Dataset itself checks its arrays: swap them in on a copy
    object.__setattr__(out, "x_test", Sentinel(data.x_test))
    object.__setattr__(out, "y_test", Sentinel(data.y_test))
    # A study fingerprints its data (sha256 over every array, to refuse a resume on other
    # data); that digest is the one read allowed, so it is computed on the real arrays.
    digest = data.checksum()
    object.__setattr__(out, "checksum", lambda: digest)
    return out


def test_the_sentinel_refuses_every_read(small_data):
    x = poisoned(small_data).x_test
    for read in (lambda: x[0], lambda: np.asarray(x) + 0, lambda: x.sum(), lambda: list(x),
                 lambda: x.astype(np.float64), lambda: np.isnan(x)):
        with pytest.raises(ReadOfTheTestSet):
            read()
    assert x.shape == small_data.x_test.shape  # its metadata stays readable


def test_cv_never_reads_the_test_set(small_data):
    cv = hp.cross_validate({"a": hp.preset("model1")}, poisoned(small_data), folds=2, epochs=1,
                           quiet=True)
    assert len(cv.scores()["a"]) == 2


def test_tune_never_reads_the_test_set(tmp_path, small_data):
    search = hp.tune(tmp_path / "t", poisoned(small_data), max_trials=2, epochs=1, fix=SPACE,
                     prune=False, quiet=True)
    results = search.results()
    assert len(results) == 2 and search.best_config is not None


def test_the_cv_study_never_reads_the_test_set(tmp_path, small_data, monkeypatch):
    """The study's CV picks the winner blind to the test set; only then is the winner
    exported (trained on all training rows, scored once on the test set), so that last step
    is handed the real test set and must come after every CV run."""
    from hpsearch.training import export

    exported = []

    def export_on_real_data(cfg, data, *args, **kwargs):
        exported.append(cfg)
        return real_export(cfg, small_data, *args, **kwargs)

    real_export = export.export_model
    monkeypatch.setattr(export, "export_model", export_on_real_data)
    st = hp.study("architectures", poisoned(small_data), repeats=1, epochs=1, folds=2,
                  out=tmp_path / "s", quiet=True)
    assert len(st.summary()) >= 2 and len(exported) == 1
