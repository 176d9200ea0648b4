"""`hpsearch tune --tensorboard DIR` logs every fold of every trial."""

from __future__ import annotations


def test_tune_logs_each_fold_for_tensorboard(cli, tmp_path):
    logs = tmp_path / "tb"
    code, _, err = cli("tune", "--directory", str(tmp_path / "proj"), "--tuner", "random",
                       "--max-trials", "1", "--folds", "2", "--epochs", "1", "--no-prune",
                       "--fix", "hidden=16", "--fix", "batch_size=256",
                       "--dataset", "fashion-mnist-sample", "--tensorboard", str(logs),
                       "--quiet")
    assert code == 0, err
    for fold in (0, 1):
        events = list((logs / "trial_0" / f"fold_{fold}").rglob("events.out.tfevents.*"))
        assert events, f"no event files for fold {fold}"


def test_tensorboard_with_workers_is_refused(cli, tmp_path):
    code, _, err = cli("tune", "--directory", str(tmp_path / "p"), "--workers", "2",
                       "--tensorboard", str(tmp_path / "tb"), "--dataset",
                       "fashion-mnist-sample")
    assert code == 2 and "--tensorboard" in err and len(err.strip().splitlines()) == 1
