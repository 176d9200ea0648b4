"""CV learns a table's feature scaling on each fold's training rows only, as a scikit-learn
`Pipeline` inside `cross_val_score` does; the final fit keeps the model card's scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import hpsearch as hp
from hpsearch.config import ModelConfig
from hpsearch.data import Dataset
from hpsearch.training.evaluate import Protocol, evaluate_seeds, split_indices
from hpsearch.training.towers import predict_rows, to_sequential

CFG = ModelConfig(hidden=(4,), epochs=1, batch_size=32)


def outlier_table(outliers=(0, 1, 2), n: int = 90
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three numeric columns; column a is 1000 on the `outliers` rows, far off everyone else's
    ~N(0, 1), so a fold validating on them has its mean and sd moved by them unless its
    scaling is learned without them. Column c is 1 on those rows and constant 0 elsewhere."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 3))
    x[:, 2] = 0.0
    x[list(outliers), 0] = 1000.0
    x[list(outliers), 2] = 1.0
    return x, np.arange(n) % 2, rng.normal(size=(20, 3))


@pytest.mark.parametrize("scale, scaler", [("standard", StandardScaler), ("minmax", MinMaxScaler)])
@pytest.mark.parametrize("protocol", [Protocol.kfold(3), Protocol.holdout(0.25)],
                         ids=["kfold", "holdout"])
def test_each_fold_reads_rows_scaled_on_its_own_training_rows(scale, scaler, protocol):
    first_val = split_indices(protocol, np.arange(90) % 2, 0)[0][1]
    x, y, x_test = outlier_table(first_val[:3])  # only the first fold validates on them
    frame = pd.DataFrame(x, columns=list("abc"))
    data = hp.Dataset.from_arrays(frame, y, pd.DataFrame(x_test, columns=list("abc")),
                                  np.arange(20) % 2, scale=scale)
    results, outcome = evaluate_seeds(CFG, data, protocol, [0], keep_model=True)
    towers = outcome.towers
    splits = split_indices(protocol, data.y_train, 0)
    seen = np.asarray(towers.inputs(data.x_train))  # (towers, rows, inputs)
    for j, (train, _) in enumerate(splits):
        expected = scaler().fit(x[train]).transform(x)  # the pipeline's scaling of this fold
        np.testing.assert_allclose(seen[j], expected, rtol=1e-5, atol=1e-4)
        if j == 0:
            # the old way (learned on all training rows) put this fold's training rows on a
            # scale set by its validation rows' outliers
            old = data.x_train[train]
            if scale == "standard":
                assert abs(old[:, 0].std() - 1) > 0.5
                np.testing.assert_allclose(seen[j][train].mean(axis=0), 0, atol=1e-5)
                np.testing.assert_allclose(seen[j][train][:, :2].std(axis=0), 1, atol=1e-5)
            else:
                assert old[:, 0].max() < 0.5
                np.testing.assert_allclose(seen[j][train][:, :2].min(axis=0), 0, atol=1e-6)
                np.testing.assert_allclose(seen[j][train][:, :2].max(axis=0), 1, atol=1e-6)
    # a kept fold model reads the data set's rows (the card's scaling): the fold's own
    # scaling is folded into its first layer
    last = len(splits) - 1
    model = to_sequential(CFG, towers, last, data.input_shape, data.num_classes)
    np.testing.assert_allclose(model.predict(data.x_train, verbose=0),
                               predict_rows(towers, data.x_train)[:, last], atol=1e-5)
    assert all(r.folds for r in results)


def test_final_fit_keeps_the_card_scaling_and_pixel_data_gets_no_rescaling():
    x, y, x_test = outlier_table()
    data = hp.Dataset.from_arrays(x, y, x_test, np.arange(20) % 2)
    _, refit = evaluate_seeds(CFG, data, Protocol.train_test(0.2), [0], keep_model=True)
    assert refit.towers._inputs == []  # train/export: the card's scaling, learned on all rows
    unscaled = hp.Dataset.from_arrays(x, y, x_test, np.arange(20) % 2, scale="none")
    _, cv = evaluate_seeds(CFG, unscaled, Protocol.kfold(2), [0], keep_model=True)
    assert cv.towers._inputs == []
    rng = np.random.default_rng(0)
    pixels = Dataset("px", rng.integers(0, 256, (60, 4, 4)) / 255.0, np.arange(60) % 3,
                     rng.integers(0, 256, (9, 4, 4)) / 255.0, np.arange(9) % 3)
    assert pixels.features is None
    _, cv = evaluate_seeds(CFG, pixels, Protocol.kfold(2), [0], keep_model=True)
    assert cv.towers._inputs == []  # no rescaling op in the image path's graph
