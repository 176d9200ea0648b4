"""TensorBoard HParams logging: every fold of a trial becomes a run with its hparams."""

from __future__ import annotations

from pathlib import Path

from hpsearch.search.tensorboard import hparam_values, log_trial, run_dir


def _events(directory: Path) -> list:
    import tensorflow as tf

    events = []
    for path in sorted(directory.rglob("events.out.tfevents.*")):
        events += [(path, e) for e in tf.compat.v1.train.summary_iterator(str(path))]
    return events


def test_hparam_values_keep_scalars_and_encode_the_rest():
    values = hparam_values({"units": 64, "lr": 1e-3, "act": "relu", "bn": True,
                            "hidden": [64, 32], "units_3": None, "tuner/epochs": 3})
    assert values == {"units": 64, "lr": 1e-3, "act": "relu", "bn": True, "hidden": "[64, 32]"}


def test_every_fold_is_logged_with_its_hparams(tmp_path, small_data):
    from tensorboard.plugins.hparams import metadata

    from hpsearch.config import ModelConfig
    from hpsearch.search.project import TrialRecord, fold_summary
    from hpsearch.training.evaluate import Protocol, evaluate

    params = {"units_0": 16, "learning_rate": 0.01, "activation": "relu", "hidden": [16]}
    cfg = ModelConfig(hidden=[16], epochs=2, patience=0, batch_size=128)
    result = evaluate(cfg, small_data, Protocol.kfold(2), seed=0)
    record = TrialRecord("7", params, cfg.to_dict(), status="ok",
                         folds=[fold_summary(f) for f in result.folds])
    log_trial(tmp_path, record)
    for fold in (0, 1):
        directory = run_dir(tmp_path, "7", fold)
        assert directory == tmp_path / "trial_7" / f"fold_{fold}"
        events = _events(directory)
        plugin = [v for _, e in events for v in e.summary.value
                  if v.metadata.plugin_data.plugin_name == metadata.PLUGIN_NAME]
        starts = [metadata.parse_session_start_info_plugin_data(v.metadata.plugin_data.content)
                  for v in plugin if v.tag == metadata.SESSION_START_INFO_TAG]
        assert len(starts) == 1
        hparams = starts[0].hparams
        assert hparams["fold"].number_value == fold
        assert hparams["trial_id"].string_value == "7"
        assert hparams["units_0"].number_value == 16
        assert hparams["activation"].string_value == "relu"
        assert hparams["hidden"].string_value == "[16]"
        assert any(v.tag == metadata.SESSION_END_INFO_TAG for v in plugin)
        validation = [v.tag for p, e in events if "validation" in p.parts
                      for v in e.summary.value]
        assert "epoch_accuracy" in validation  # per-epoch validation curves for Scalars
