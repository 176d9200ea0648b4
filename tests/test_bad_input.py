"""A catalogue of user mistakes across every command.

Each mistake must give exit code 2, exactly one line on stderr that starts with `error:` and
names the problem, no traceback, and leave whatever already sits in the directories involved
byte-for-byte unchanged. (tests/test_cli_core.py, test_tuner.py, test_study.py, test_space.py
and test_report.py pin further cases; this file covers the rest, end to end through the CLI.)
"""

from __future__ import annotations

import gzip
import json
import os
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

SAMPLE = ["--dataset", "fashion-mnist-sample", "--quiet"]
TUNE = ["--dataset", "fashion-mnist-sample", "-q", "-k", "2", "--epochs", "1",
        "--max-trials", "2", "--fix", "hidden=16", "--fix", "batch_size=256"]

# ------------------------------------------------------------------ fixtures on disk


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _idx(path: Path, magic: int, dims: tuple[int, ...], body: bytes) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)
    path.write_bytes(gzip.compress(header + body))


def _idx_dir(tmp: Path, broken: str) -> Path:
    """A Fashion-MNIST IDX directory whose first file read (train images) is broken one way;
    the others have valid headers (their bodies are never reached)."""
    d = tmp / "idx"
    d.mkdir()
    for prefix, n in (("train", 60000), ("t10k", 10000)):
        _idx(d / f"{prefix}-images-idx3-ubyte.gz", 0x0803, (n, 28, 28), bytes(28 * 28))
        _idx(d / f"{prefix}-labels-idx1-ubyte.gz", 0x0801, (n,), bytes(range(10)))
    first = d / "train-images-idx3-ubyte.gz"
    if broken == "missing":
        first.unlink()
    elif broken == "magic":
        _idx(first, 0x0801, (60000, 28, 28), bytes(28 * 28))
    elif broken == "count":
        _idx(first, 0x0803, (10, 28, 28), bytes(10 * 28 * 28))
    elif broken == "header":
        first.write_bytes(gzip.compress(b"\x00\x00\x08"))
    elif broken == "gzip":
        first.write_bytes(b"\x1f\x8b this is not gzip")
    return d


def _npz(tmp: Path, **overrides: np.ndarray | None) -> Path:
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.random((20, 4, 4)), "y_train": np.arange(20) % 2,
              "x_test": rng.random((10, 4, 4)), "y_test": np.arange(10) % 2}
    for key, value in overrides.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    path = tmp / "data.npz"
    np.savez(path, **arrays)
    return path


def _tune_project(tmp: Path, **meta: object) -> Path:
    """A tune project on disk (identity + one finished trial), without running a search."""
    d = tmp / "proj"
    _write(d / "project.json", json.dumps({
        "kind": "hpsearch-tune", "fingerprint": "f", "tuner": "random", "folds": 2,
        "dataset": "fashion-mnist-sample", "seed": 0, "prune": True, **meta}))
    _write(d / "trials" / "trial_0.json", json.dumps({
        "trial_id": "0", "params": {}, "config": {}, "status": "running", "folds": []}))
    _write(d / "results.csv", "trial_id,status\n0,running\n")
    return d


def _study_dir(tmp: Path) -> Path:
    d = tmp / "study"
    _write(d / "study.json", json.dumps({"format": 1, "study": "batch-size",
                                         "field": "batch_size", "variants": ["32"]}))
    _write(d / "results.csv", "study,variant\nbatch-size,32\n")
    return d


def _blocked(tmp: Path) -> Path:
    """A path below a regular file: no directory can ever be created there."""
    return _write(tmp / "blocker", "x") / "sub"


# ------------------------------------------------------------------ the catalogue
# (id, argv builder, distinctive words in the message). The builder gets tmp_path and may put
# files there; everything under tmp_path is snapshotted before the call and compared after.
Case = tuple[str, Callable[[Path], list[str]], str]

CASES: list[Case] = [
    # ---- train / cv / export: option values and types
    ("validation-split>1", lambda t: ["train", "--validation-split", "1.5", *SAMPLE],
     "validation"),
    ("batch_size=0", lambda t: ["train", "--set", "batch_size=0", *SAMPLE],
     "batch_size must be positive"),
    ("negative lr", lambda t: ["train", "--set", "learning_rate=-1", *SAMPLE],
     "learning_rate must be > 0"),
    ("dropout_rate>=1", lambda t: ["train", "--set", "dropout=dropout",
                                   "--set", "dropout_rate=1.5", *SAMPLE],
     "dropout_rate must be in (0, 1)"),
    ("unknown field", lambda t: ["train", "--set", "neurons=5", *SAMPLE], "neurons"),
    ("epochs not a number", lambda t: ["train", "--set", "epochs=abc", *SAMPLE], "epochs"),
    ("--set without =", lambda t: ["train", "--set", "epochs", *SAMPLE], "key=value"),
    ("unknown output activation",
     lambda t: ["train", "--set", "output_activation=sigmoidal", *SAMPLE], "sigmoidal"),
    ("cv --folds 0", lambda t: ["cv", "--preset", "model1", "--folds", "0", *SAMPLE],
     "--folds must be at least 2"),
    ("preset and config", lambda t: ["train", "--preset", "model1", "--config",
                                     str(_write(t / "c.toml", "epochs = 1\n")), *SAMPLE],
     "either --preset or --config"),
    # ---- config files: malformed or contradictory
    ("malformed TOML", lambda t: ["train", "--config", str(_write(t / "c.toml", "hidden = [1,\n"
                                                                  )), *SAMPLE],
     "is not valid TOML"),
    ("malformed JSON", lambda t: ["train", "--config", str(_write(t / "c.json", "{\"hidden\": ")),
                                  *SAMPLE], "is not valid JSON"),
    ("config not a table", lambda t: ["train", "--config", str(_write(t / "c.json", "[1, 2]")),
                                      *SAMPLE], "expected a table"),
    ("config wrong extension", lambda t: ["train", "--config", str(_write(t / "c.yaml", "a: 1")),
                                          *SAMPLE], "use a .toml or .json"),
    ("config unknown key", lambda t: ["train", "--config", str(_write(
        t / "c.toml", "hidden = [16]\nlayers_count = 3\n")), *SAMPLE], "layers_count"),
    ("config contradictory regularizer", lambda t: ["train", "--config", str(_write(
        t / "c.toml", 'kernel_regularizer = "l2"\nkernel_rate = 0\n')), *SAMPLE],
     "kernel_rate is 0"),
    ("config contradictory activity layers", lambda t: ["train", "--config", str(_write(
        t / "c.json", json.dumps({"hidden": [16], "activity_regularizer": "l2",
                                  "activity_rate": 0.01, "activity_layers": [0, 3]}))),
        *SAMPLE], "do not exist"),
    ("config wrong type", lambda t: ["train", "--config", str(_write(
        t / "c.toml", 'hidden = "lots"\n')), *SAMPLE], "hidden"),
    # ---- data: IDX files via --data-dir, user .npz
    ("IDX file missing", lambda t: ["train", "--dataset", "fashion-mnist", "--data-dir",
                                    str(_idx_dir(t, "missing")), "-q"], "missing"),
    ("IDX bad magic", lambda t: ["train", "--dataset", "fashion-mnist", "--data-dir",
                                 str(_idx_dir(t, "magic")), "-q"], "bad magic number"),
    ("IDX wrong count", lambda t: ["train", "--dataset", "fashion-mnist", "--data-dir",
                                   str(_idx_dir(t, "count")), "-q"], "expected 60000"),
    ("IDX truncated header", lambda t: ["train", "--dataset", "fashion-mnist", "--data-dir",
                                        str(_idx_dir(t, "header")), "-q"], "truncated header"),
    ("IDX truncated body", lambda t: ["train", "--dataset", "fashion-mnist", "--data-dir",
                                      str(_idx_dir(t, "body")), "-q"], "truncated ("),
    ("IDX corrupt gzip", lambda t: ["train", "--dataset", "fashion-mnist", "--data-dir",
                                    str(_idx_dir(t, "gzip")), "-q"], "cannot be read"),
    ("npz missing key", lambda t: ["train", "--dataset", str(_npz(t, y_test=None)), "-q"],
     "missing arrays y_test"),
    ("npz row mismatch", lambda t: ["train", "--dataset",
                                    str(_npz(t, y_train=np.arange(7) % 2)), "-q"],
     "20 rows but y_train has 7"),
    ("npz float labels", lambda t: ["train", "--dataset",
                                    str(_npz(t, y_train=np.linspace(0, 1, 20))), "-q"],
     "integer class labels"),
    ("npz negative labels", lambda t: ["train", "--dataset",
                                       str(_npz(t, y_test=-(np.arange(10) % 2))), "-q"],
     "negative labels"),
    ("npz shape mismatch", lambda t: ["train", "--dataset",
                                      str(_npz(t, x_test=np.zeros((10, 5, 5)))), "-q"],
     "x_test rows"),
    ("npz not an npz", lambda t: ["train", "--dataset", str(_write(t / "d.npz", "hello")),
                                  "-q"], "not a readable .npz"),
    # ---- output locations
    ("train --out unwritable", lambda t: ["train", "--set", "hidden=4", "--set", "epochs=1",
                                          "--out", str(_blocked(t) / "m.keras"), *SAMPLE],
     "cannot write"),
    ("export --from empty project", lambda t: ["export", "--from", str(_tune_project(t)),
                                               "--out", str(t / "e"), "-q"],
     "no completed trial"),
    ("export --from a study", lambda t: ["export", "--from", str(_study_dir(t)), "-q"],
     "not an hpsearch tune project"),
    # ---- tune
    ("tune --workers -1", lambda t: ["tune", "-o", str(t / "p"), "--workers", "-1", *TUNE],
     "--workers must be 0 or more"),
    ("tune --port 70000", lambda t: ["tune", "-o", str(t / "p"), "--workers", "1", "--port",
                                     "70000", *TUNE], "--port must be in 0..65535"),
    ("tune --max-failures 0", lambda t: ["tune", "-o", str(t / "p"), "--max-failures", "0",
                                         *TUNE], "--max-failures must be at least 1"),
    ("tune --epochs 0", lambda t: ["tune", "-o", str(t / "p"), *TUNE, "--epochs", "0"],
     "epochs must be positive"),
    ("tune --max-trials abc", lambda t: ["tune", "-o", str(t / "p"), "--max-trials", "abc"],
     "Invalid value for '--max-trials'"),
    ("tune --fix unknown knob", lambda t: ["tune", "-o", str(t / "p"), *TUNE,
                                           "--fix", "colour=red"], "colour"),
    ("tune --fix unknown optimizer", lambda t: ["tune", "-o", str(t / "p"), *TUNE,
                                                "--fix", "optimizer=adamw2"], "adamw2"),
    ("space malformed TOML", lambda t: ["tune", "-o", str(t / "p"), *TUNE, "--space",
                                        str(_write(t / "s.toml", "[layers\nmin=1"))],
     "is not valid TOML"),
    ("space unknown knob", lambda t: ["tune", "-o", str(t / "p"), *TUNE, "--space",
                                      str(_write(t / "s.toml", "[depth]\nmin = 1\nmax = 2\n"))],
     "unknown knob 'depth'"),
    ("space unknown key", lambda t: ["tune", "-o", str(t / "p"), *TUNE, "--space",
                                     str(_write(t / "s.toml", "[layers]\nmin = 1\nmaxx = 2\n"))],
     "unknown key"),
    ("space min > max", lambda t: ["tune", "-o", str(t / "p"), *TUNE, "--space",
                                   str(_write(t / "s.toml", "[layers]\nmin = 3\nmax = 1\n"))],
     "min 3 > max 1"),
    ("space empty values", lambda t: ["tune", "-o", str(t / "p"), *TUNE, "--space",
                                      str(_write(t / "s.toml", "[activation]\nvalues = []\n"))],
     "non-empty list"),
    ("space negative rate", lambda t: ["tune", "-o", str(t / "p"), *TUNE, "--space",
                                       str(_write(t / "s.toml",
                                                  "[learning_rate]\nvalue = -0.1\n"))],
     "must be > 0"),
    ("space JSON file", lambda t: ["tune", "-o", str(t / "p"), *TUNE, "--space",
                                   str(_write(t / "s.json", "{}"))], "use a .toml file"),
    ("tune into an existing project", lambda t: ["tune", "-o", str(_tune_project(t)),
                                                 "--tuner", "random", *TUNE],
     "already holds a tune project"),
    ("tune --resume a different search", lambda t: ["tune", "-o", str(_tune_project(
        t, tuner="bayesian")), "--tuner", "random", "--resume", *TUNE], "different search"),
    ("tune --overwrite a study dir", lambda t: ["tune", "-o", str(_study_dir(t)),
                                                "--overwrite", *TUNE],
     "not an hpsearch tune project"),
    ("tune -o unwritable", lambda t: ["tune", "-o", str(_blocked(t)), *TUNE],
     "choose a writable --directory"),
    ("tune --tensorboard with --workers", lambda t: ["tune", "-o", str(t / "p"), "--workers",
                                                     "1", "--tensorboard", str(t / "tb"),
                                                     *TUNE], "--tensorboard"),
    ("worker bad --oracle", lambda t: ["worker", "--oracle", "localhost", "--directory",
                                       str(_tune_project(t))], "write HOST:PORT"),
    ("worker --oracle-timeout 0", lambda t: ["worker", "--oracle", "127.0.0.1:1",
                                             "--directory", str(_tune_project(t)),
                                             "--oracle-timeout", "0"],
     "--oracle-timeout must be positive"),
    ("worker on a non-project", lambda t: ["worker", "--oracle", "127.0.0.1:1",
                                           "--directory", str(_study_dir(t))],
     "not an hpsearch tune project"),
    # ---- study
    ("study unknown", lambda t: ["study", "learning-rate", "--out", str(t / "s")],
     "unknown study 'learning-rate'"),
    ("study unknown optimizer value", lambda t: ["study", "optimizer", "--values",
                                                 "sgd,nadamx", "--out", str(t / "s"), *SAMPLE],
     "nadamx"),
    ("study --repeats 0", lambda t: ["study", "optimizer", "--repeats", "0",
                                     "--out", str(t / "s"), *SAMPLE],
     "--repeats must be at least 1"),
    ("study --folds 1", lambda t: ["study", "architectures", "--folds", "1",
                                   "--out", str(t / "s"), *SAMPLE], "--folds must be at least 2"),
    ("study all --base", lambda t: ["study", "all", "--base", "model2", "--out", str(t / "s"),
                                    *SAMPLE], "--base applies to a single study"),
    ("study unknown base preset", lambda t: ["study", "optimizer", "--base", "model9",
                                             "--out", str(t / "s"), *SAMPLE], "model9"),
    ("study zero batch size", lambda t: ["study", "batch-size", "--values", "0,32",
                                         "--out", str(t / "s"), *SAMPLE], "batch_size"),
    ("study --resume a different study", lambda t: ["study", "optimizer", "--resume",
                                                    "--out", str(_study_dir(t)), *SAMPLE],
     "holds a study with different"),
    ("study into an existing study", lambda t: ["study", "optimizer",
                                                "--out", str(_study_dir(t)), *SAMPLE],
     "already holds a study"),
    ("study into a foreign dir", lambda t: ["study", "optimizer", "--out",
                                            str(_write(t / "mine" / "notes.txt", "x").parent),
                                            *SAMPLE], "not an empty directory"),
    # ---- report
    ("report on a non-project", lambda t: ["report", str(_write(t / "d" / "x.txt", "x").parent)],
     "neither a tune project"),
    ("report --top 0", lambda t: ["report", str(_tune_project(t)), "--top", "0"],
     "--top must be at least 1"),
    # ---- playground
    ("playground 9 nodes", lambda t: ["playground", "--nodes", "9"], "9"),
    ("playground unknown data set", lambda t: ["playground", "--dataset", "moons"], "moons"),
    ("playground negative reg rate", lambda t: ["playground", "--reg", "l2",
                                                "--reg-rate", "-1"], "reg"),
    ("playground batch 0", lambda t: ["playground", "--batch-size", "0"], "batch"),
    ("playground nodes and layers", lambda t: ["playground", "--nodes", "2", "--layers", "2,2"],
     "not both"),
    ("playground sweep 0 seeds", lambda t: ["playground", "sweep", "--seeds", "0"], "seeds"),
    ("playground sweep bad nodes", lambda t: ["playground", "sweep", "--nodes", "two"],
     "integers"),
]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_mistake_is_one_line_exit_2_and_changes_nothing(case: Case, cli, tmp_path,
                                                        monkeypatch) -> None:
    _, build, words = case
    monkeypatch.chdir(tmp_path)  # anything written by accident lands where we look
    args = build(tmp_path)
    before = _snapshot(tmp_path)
    code, out, err = cli(*args)
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert words in lines[0], lines[0]
    assert "Traceback" not in out + err
    after = _snapshot(tmp_path)
    assert after == before, sorted(set(after) ^ set(before))


def test_catalogue_is_large_enough_and_covers_every_command(tmp_path) -> None:
    commands = set()
    for i, (_, build, _) in enumerate(CASES):
        (tmp_path / str(i)).mkdir()
        commands.add(build(tmp_path / str(i))[0])
    assert len(CASES) >= 30
    assert commands == {"train", "cv", "export", "tune", "worker", "study", "report",
                        "playground"}


def test_unwritable_directory_is_refused_before_training(cli, tmp_path) -> None:
    """A read-only existing directory (not just a path under a file)."""
    if os.geteuid() == 0:
        pytest.skip("root can write to read-only directories")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = cli("export", "--preset", "model1", *SAMPLE, "--out", str(locked / "x"))
        assert code == 2 and "cannot write" in err and len(err.strip().splitlines()) == 1
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)
