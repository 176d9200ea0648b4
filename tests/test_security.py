"""Security promises: loopback oracle by default, safe model loading, configs read as data,
and no path from a file can send output outside the directory the user chose.

(The listening socket of a real chief is checked in tests/test_reliability_workers.py.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

PAYLOAD = "__import__('os').system('touch PWNED')"
TUNE = ["--dataset", "fashion-mnist-sample", "-q", "-k", "2", "--epochs", "1",
        "--max-trials", "1", "--fix", "hidden=16", "--fix", "batch_size=256"]


# ------------------------------------------------------------------ oracle address


@pytest.mark.parametrize("extra, served, connect", [
    ([], "127.0.0.1", "127.0.0.1"),  # default: loopback only
    (["--bind", "0.0.0.0"], "0.0.0.0", "127.0.0.1"),  # only when the user asks
])
def test_oracle_listens_on_loopback_unless_asked(cli, tmp_path, monkeypatch, extra, served,
                                                 connect) -> None:
    import hpsearch.search.distributed as distributed

    seen: dict[str, object] = {}

    def fake_serve(tuner, settings, project, workers, connect_to, port, quiet) -> None:
        # Keras Tuner's chief binds f"{KERASTUNER_ORACLE_IP}:{KERASTUNER_ORACLE_PORT}"
        seen.update(ip=os.environ["KERASTUNER_ORACLE_IP"], connect=connect_to,
                    role=os.environ["KERASTUNER_TUNER_ID"])

    monkeypatch.setattr(distributed, "_serve_and_watch", fake_serve)
    code, _, err = cli("tune", "-o", str(tmp_path / "p"), "--workers", "1", *extra, *TUNE)
    assert code == 0, err
    assert seen == {"ip": served, "connect": connect, "role": "chief"}
    assert "KERASTUNER_ORACLE_IP" not in os.environ  # set only for the duration of the call


def test_bind_default_is_loopback_in_the_cli() -> None:
    import inspect

    from hpsearch.cli.tune import tune

    assert inspect.signature(tune).parameters["bind"].default == "127.0.0.1"


# ------------------------------------------------------------------ safe model loading


def test_exported_models_load_with_safe_mode_on(tmp_path) -> None:
    """A .keras archive with a Lambda layer (arbitrary Python bytecode) is refused."""
    import keras

    from hpsearch.errors import ProjectError
    from hpsearch.training.export import load_model

    inputs = keras.Input((2,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    path = tmp_path / "evil.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ProjectError, match="safe_mode"):
        load_model(path)
    # the same file loads when safe mode is explicitly turned off: the refusal is safe_mode's
    assert keras.saving.load_model(path, safe_mode=False) is not None


# ------------------------------------------------------------------ configs are data


@pytest.mark.parametrize("kind, args_for", [
    ("toml config", lambda t: ["train", "--config", str(_write(
        t / "c.toml", f'activation = "{PAYLOAD}"\n'))]),
    ("json config", lambda t: ["train", "--config", str(_write(
        t / "c.json", json.dumps({"optimizer": PAYLOAD})))]),
    ("--set", lambda t: ["train", "--set", f"loss={PAYLOAD}"]),
    ("space file", lambda t: ["tune", "-o", str(t / "p"), *TUNE, "--space", str(_write(
        t / "s.toml", f'[activation]\nvalues = ["{PAYLOAD}"]\n'))]),
    ("--fix", lambda t: ["tune", "-o", str(t / "p"), *TUNE, "--fix", f"optimizer={PAYLOAD}"]),
    ("study values", lambda t: ["study", "optimizer", "--values", PAYLOAD,
                                "--out", str(t / "s"), "--dataset", "fashion-mnist-sample"]),
    ("number field", lambda t: ["train", "--config", str(_write(
        t / "n.json", json.dumps({"epochs": "__import__('os').getpid()"})))]),
])
def test_code_in_configs_is_an_unknown_value_never_evaluated(cli, tmp_path, monkeypatch,
                                                             kind, args_for) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(*args_for(tmp_path), "--quiet")
    assert code == 2, err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "__import__" in err  # echoed back as the unknown value it is
    assert not (tmp_path / "PWNED").exists() and "Traceback" not in out + err


def test_config_parsers_never_call_eval() -> None:
    root = Path(__file__).resolve().parents[1]
    for module in ("hpsearch/config.py", "hpsearch/search/space.py", "hpsearch/studies/plan.py",
                   "hpsearch/data/load.py", "hpsearch/data/idx.py", "hpsearch/search/project.py",
                   "hpsearch/studies/store.py", "hpsearch/search/distributed.py",
                   "playground/config.py"):
        source = (root / module).read_text()
        for call in ("eval(", "exec(", "pickle.load", "yaml.load", "allow_pickle=True"):
            assert call not in source, f"{module} uses {call}"


# ------------------------------------------------------------------ paths from files


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("key", ["out", "directory", "data_dir", "path", "output_dir"])
def test_config_files_cannot_name_a_path(cli, tmp_path, key) -> None:
    """No ModelConfig field is a path: a path-like key is an unknown field, refused."""
    cfg = _write(tmp_path / "c.toml", f'hidden = [16]\n{key} = "../../escaped"\n')
    code, _, err = cli("train", "--config", str(cfg), "--quiet")
    assert code == 2 and key in err and "unknown" in err.lower(), err
    assert not (tmp_path.parent / "escaped").exists()


@pytest.mark.parametrize("text", [
    '[directory]\nvalue = "../../escaped"\n',
    '[space.output]\nvalue = "/tmp/escaped"\n',
    '[activation]\nvalues = ["relu"]\npath = "../escaped"\n',
])
def test_space_files_cannot_name_a_path(cli, tmp_path, text) -> None:
    space = _write(tmp_path / "s.toml", text)
    code, _, err = cli("tune", "-o", str(tmp_path / "p"), *TUNE, "--space", str(space))
    assert code == 2 and "unknown" in err, err
    assert not (tmp_path / "p").exists()


def test_file_names_built_from_values_stay_inside_the_output_dir(tmp_path) -> None:
    """Study run files are named after variants; trial records after trial ids."""
    from hpsearch.search.project import Project
    from hpsearch.studies.store import run_path

    out = tmp_path / "out"
    for name in ("../../etc/passwd", "/abs/path", "..", "a/../../b", "c:\\x"):
        path = run_path(out, name, 0).resolve()
        assert path.parent == (out / "runs").resolve(), name
    project = Project(out)
    assert project.record_path("0").parent == out / "trials"
