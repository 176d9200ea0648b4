"""Build the Fashion-MNIST sample shipped inside the package (hpsearch/data/).

A stratified sample (600 train + 100 test images per class, seed 0) of the full data, so every
command and every test can run offline on real images. Run once from the full IDX files:

    python scripts/make_sample.py --data-dir ../shared/data/fashion-mnist
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from hpsearch.data import SAMPLE_RESOURCE, load_idx_dir


def stratified(x: np.ndarray, y: np.ndarray, size: int, seed: int) -> tuple[np.ndarray, ...]:
    """Pick `size` examples with the class proportions of `y` (sklearn does the stratifying)."""
    _, x_part, _, y_part = train_test_split(x, y, test_size=size, stratify=y, random_state=seed)
    return x_part, y_part


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="directory with the four IDX files")
    parser.add_argument("--train", type=int, default=6000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    arrays = load_idx_dir(args.data_dir)
    x_train, y_train = stratified(arrays["x_train"], arrays["y_train"], args.train, args.seed)
    x_test, y_test = stratified(arrays["x_test"], arrays["y_test"], args.test, args.seed)
    out = Path(__file__).resolve().parents[1] / "hpsearch" / "data" / SAMPLE_RESOURCE
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): "
          f"{len(y_train)} train / {len(y_test)} test, counts per class "
          f"{np.bincount(y_train).tolist()} / {np.bincount(y_test).tolist()}")


if __name__ == "__main__":
    main()
