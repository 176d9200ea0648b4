"""train / cv / export from the command line, and one-line errors for user mistakes."""

from __future__ import annotations

import json

import pytest

SAMPLE = ["--dataset", "fashion-mnist-sample", "--quiet"]
FAST = ["--set", "hidden=16", "--set", "epochs=1", "--set", "batch_size=128"]


def test_train_json_and_saved_model(cli, tmp_path):
    code, out, err = cli("train", "--preset", "model1", *FAST, *SAMPLE, "--json",
                         "--out", str(tmp_path / "m.keras"))
    assert code == 0, err
    payload = json.loads(out)
    assert payload["config"]["hidden"] == [16]
    assert 0 < payload["test_accuracy"] <= 1 and payload["train_loss"] > 0
    assert (tmp_path / "m.keras").is_file()


def test_cv_compares_presets_with_a_verdict(cli):
    code, out, err = cli("cv", "--preset", "model1", "--preset", "model3", *FAST,
                         "--folds", "2", *SAMPLE, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert [r["name"] for r in payload["results"]] == ["model1", "model3"]
    assert all(len(r["folds"]) == 2 for r in payload["results"])
    assert "best on" in payload["verdict"] or "no clear winner" in payload["verdict"]
    assert "Nadeau-Bengio corrected t (2-fold)" in payload["verdict"]
    assert payload["test"] == "Nadeau-Bengio corrected t (2-fold)"
    assert set(payload["scores"]) == {"model1", "model3"}
    (pair,) = payload["comparisons"]
    assert {pair["a"], pair["b"]} == {"model1", "model3"} and pair["low"] <= pair["high"]


def test_cv_table_is_human_readable(cli):
    code, out, _ = cli("cv", "--preset", "model1", *FAST, "--folds", "2", *SAMPLE)
    assert code == 0 and "±" in out and "only one candidate" in out


def test_export_writes_model_and_card(cli, tmp_path):
    code, out, err = cli("export", "--preset", "model1", *FAST, *SAMPLE,
                         "--out", str(tmp_path))
    assert code == 0, err
    assert (tmp_path / "model.keras").is_file() and (tmp_path / "model_card.json").is_file()
    code, _, err = cli("export", "--preset", "model1", *FAST, *SAMPLE, "--out", str(tmp_path))
    assert code == 2 and "--overwrite" in err


@pytest.mark.parametrize("args, message", [
    (["train", "--preset", "nope"], "unknown preset 'nope'"),
    (["train", "--set", "epochs=0"], "epochs must be positive"),
    (["train", "--set", "optimizer=sgdd"], "optimizer 'sgdd'"),
    (["train", "--set", "activation=relux"], "activation 'relux'"),
    (["train", "--set", "hidden=-4"], "must be positive"),
    (["train", "--set", "loss=hinge"], "loss 'hinge' is not supported"),
    (["train", "--seed", "abc"], "Invalid value for '--seed'"),
    (["train", "--bogus"], "No such option"),
    (["train", "--config", "missing.toml"], "does not exist"),
    (["train", "--dataset", "mnist"], "unknown dataset 'mnist'"),
    (["train", "--dataset", "missing.npz"], "no such file"),
    (["train", "--out", "model.h5"], "must end in .keras"),
    (["cv", "--preset", "model1", "--folds", "1"], "--folds must be at least 2"),
    (["cv"], "nothing to compare"),
    (["train", "--preset", "model1", "--preset", "model2"], "one --preset"),
    (["train", "--dataset", "fashion-mnist", "--data-dir", "/nonexistent/dir"],
     "does not exist"),
])
def test_bad_input_is_one_line_exit_2(cli, args, message):
    code, out, err = cli(*args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert message in lines[0]
    assert "Traceback" not in err + out


def test_unwritable_export_dir(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = cli("export", "--preset", "model1", *SAMPLE, "--out", str(blocker / "sub"))
    assert code == 2 and "cannot write" in err and len(err.strip().splitlines()) == 1


def test_a_training_command_writes_nothing_but_its_result():
    """Our oneDNN default makes TensorFlow log a line at import that its log level cannot
    silence; the CLI imports TensorFlow with stderr muted so a terminal shows only our lines."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "hpsearch", "train", "--dataset",
                           "fashion-mnist-sample", "--set", "epochs=1", "--set", "hidden=8",
                           "--quiet", "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout)["test_accuracy"] > 0.1


def test_binary_cross_entropy_trains_with_a_one_line_note(cli):
    code, out, err = cli("train", "--preset", "model1", "--set", "loss=binary_crossentropy",
                         "--set", "output_activation=sigmoid", "--set", "hidden=16",
                         "--set", "epochs=2", "--set", "optimizer=adam", "--set",
                         "learning_rate=0.003", "--dataset", "fashion-mnist-sample", "--json",
                         "-q")
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "argmax accuracy" in notes[0]
    import json

    assert json.loads(out)["test_accuracy"] > 0.3  # the 10-class accuracy, well above chance
