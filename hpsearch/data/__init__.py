"""Data: every source (Keras cache, IDX files, the shipped sample, a user's `.npz`) becomes
one validated `Dataset`, so the rest of hpsearch never needs to know where the data came from.

- `load`: `Dataset` and `load_dataset`; the sample ships beside it (fashion-mnist-sample.npz);
- `idx`: Fashion-MNIST's IDX files read directly (`--data-dir`);
- `checks`: what every source must pass, and `check_folds` for k-fold CV.
"""

from hpsearch.data.checks import check_folds, validate_arrays
from hpsearch.data.idx import DATA_DIR_ENV, IDX_FILES, load_idx_dir, parse_idx
from hpsearch.data.load import (
    DATASET_NAMES,
    FASHION_CLASSES,
    SAMPLE_RESOURCE,
    Dataset,
    load_dataset,
)

__all__ = ["DATASET_NAMES", "DATA_DIR_ENV", "FASHION_CLASSES", "IDX_FILES", "SAMPLE_RESOURCE",
           "Dataset", "check_folds", "load_dataset", "load_idx_dir", "parse_idx",
           "validate_arrays"]
