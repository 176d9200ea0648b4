"""Fashion-MNIST's IDX files: parsing with magic-number, count, shape and label checks.

Read directly (not through Keras) when `--data-dir`/HPSEARCH_DATA_DIR points at the four files,
for machines without internet.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from hpsearch.errors import DataError

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
EXPECTED_COUNTS = {"x_train": 60000, "y_train": 60000, "x_test": 10000, "y_test": 10000}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
DATA_DIR_ENV = "HPSEARCH_DATA_DIR"


def _open_idx(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as exc:  # gzip raises BadGzipFile (an OSError) or EOFError
        raise DataError(f"{path}: cannot be read ({exc}); re-download the file") from exc


def parse_idx(raw: bytes, path: Path, kind: str, expected_count: int | None) -> np.ndarray:
    """Parse one IDX file, checking magic number, count, shape and label range."""
    images = kind.startswith("x")
    magic = IMAGE_MAGIC if images else LABEL_MAGIC
    header_len = 16 if images else 8
    if len(raw) < header_len:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes); re-download the file")
    found_magic = int.from_bytes(raw[0:4], "big")
    if found_magic != magic:
        what = "image" if images else "label"
        raise DataError(f"{path}: bad magic number {found_magic} (an IDX {what} file has "
                        f"{magic}); is this the right file?")
    count = int.from_bytes(raw[4:8], "big")
    if expected_count is not None and count != expected_count:
        raise DataError(f"{path}: holds {count} items, expected {expected_count}; "
                        "use the original Fashion-MNIST files")
    shape: tuple[int, ...] = (count,)
    if images:
        rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        if (rows, cols) != (28, 28):
            raise DataError(f"{path}: images are {rows}x{cols}, expected 28x28")
        shape = (count, rows, cols)
    needed = int(np.prod(shape))
    body = np.frombuffer(raw, dtype=np.uint8, offset=header_len)
    if body.size < needed:
        raise DataError(f"{path}: truncated ({body.size} of {needed} data bytes); "
                        "re-download the file")
    array = body[:needed].reshape(shape)
    if not images and array.size and array.max() > 9:
        raise DataError(f"{path}: label {int(array.max())} is outside 0-9")
    return array


def _find_idx(directory: Path, stem: str) -> Path:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    raise DataError(f"{directory / (stem + '.gz')}: missing; put the four Fashion-MNIST IDX "
                    "files (.gz or raw) in that directory")


def load_idx_dir(directory: str | Path, name: str = "fashion-mnist") -> dict[str, np.ndarray]:
    """Read the four Fashion-MNIST IDX files from a directory (uint8 arrays)."""
    return _load_idx(directory)[0]


def _load_idx(directory: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The four IDX arrays and the file each came from."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataError(f"data directory {directory} does not exist; pass --data-dir DIR "
                        f"with the four IDX files or unset {DATA_DIR_ENV}")
    arrays, files = {}, {}
    for key, stem in IDX_FILES.items():
        path = _find_idx(directory, stem)
        arrays[key] = parse_idx(_open_idx(path), path, key, EXPECTED_COUNTS[key])
        files[key] = str(path)
    return arrays, files
