"""A kill between Keras Tuner's two state writes must not lose a trial on resume."""

from __future__ import annotations

import json

from hpsearch.search.space import build_space
from hpsearch.search.spec import TuneSpec
from hpsearch.search.tuner import make_oracle


def test_trial_orphaned_between_state_writes_is_retried(tmp_path):
    space = build_space(None, ["hidden=16"], None)
    settings = TuneSpec(tuner="random", max_trials=2)
    oracle = make_oracle(space, settings)
    oracle._set_project_dir(str(tmp_path), "kt")
    oracle.save()
    before = json.loads((tmp_path / "kt" / "oracle.json").read_text())
    trial = oracle.create_trial("tuner0")
    # Simulate SIGKILL after trial.json was written but before oracle.json was: restore the
    # oracle state as it was before create_trial.
    (tmp_path / "kt" / "oracle.json").write_text(json.dumps(before))

    resumed = make_oracle(space, settings)
    resumed._set_project_dir(str(tmp_path), "kt")
    resumed.reload()
    assert trial.trial_id in resumed.trials
    again = resumed.create_trial("tuner1")
    assert again.trial_id == trial.trial_id and again.status == "RUNNING"
