"""Data: every source (Keras cache, IDX files, the shipped sample, a user's `.npz`, arrays,
DataFrames or a CSV/parquet table) becomes
one validated `Dataset`, so the rest of hpsearch never needs to know where the data came from.

- `load`: `Dataset` and `load_dataset`; the sample ships beside it (fashion-mnist-sample.npz);
- `idx`: Fashion-MNIST's IDX files read directly (`--data-dir`);
- `checks`: what every source must pass, and `check_folds` for k-fold CV;
- `arrays`: `from_arrays` (numpy, pandas, lists, any labels); `table`: CSV/TSV/parquet files;
- `features`: label encoding and the feature encoding/scaling an exported model card carries.
"""

from hpsearch.data.arrays import from_arrays
from hpsearch.data.checks import check_arrays, check_folds, validate_arrays
from hpsearch.data.features import Features, encode_labels
from hpsearch.data.idx import DATA_DIR_ENV, IDX_FILES, load_idx_dir, parse_idx
from hpsearch.data.load import (
    DATASET_NAMES,
    FASHION_CLASSES,
    SAMPLE_RESOURCE,
    Dataset,
    is_data_file,
    load_dataset,
    reloadable,
)
from hpsearch.data.table import load_table

__all__ = ["DATASET_NAMES", "DATA_DIR_ENV", "FASHION_CLASSES", "IDX_FILES", "SAMPLE_RESOURCE",
           "Dataset", "Features", "check_arrays", "check_folds", "encode_labels",
           "from_arrays", "is_data_file", "load_dataset", "load_idx_dir", "load_table",
           "parse_idx", "reloadable", "validate_arrays"]
