"""Study plans change one field only; runs persist as they end and --resume skips them."""

from __future__ import annotations

import pytest

from hpsearch.errors import ConfigError, ProjectError, TrialFailed
from hpsearch.studies import runner as study_runner
from hpsearch.studies.plan import HEAD_FIELDS, STUDIES, build_plan
from hpsearch.studies.runner import RunSettings, run_study
from hpsearch.studies.store import read_csv
from hpsearch.training.evaluate import FoldResult, Result


@pytest.mark.parametrize("name", [n for n in STUDIES if n != "architectures"])
def test_every_variant_differs_from_the_base_in_one_field(name):
    plan = build_plan(name)
    base = plan.base.to_dict()
    assert sum(v.is_base for v in plan.variants) == 1
    fields = set(HEAD_FIELDS) if plan.study.field == "head" else {plan.study.field}
    for variant in plan.variants:
        changed = {k for k, v in variant.config.to_dict().items() if base[k] != v}
        assert changed <= fields
        assert variant.is_base == (changed == set())


def test_the_loss_study_compares_the_lab_heads_on_model1():
    plan = build_plan("loss", epochs=2)
    assert [(v.name, v.config.output_activation, v.config.loss) for v in plan.variants] == [
        ("softmax-cce", "softmax", "categorical_crossentropy"),
        ("sigmoid-bce", "sigmoid", "binary_crossentropy"),
        ("softmax-mse", "softmax", "mean_squared_error")]
    assert plan.reference.name == "softmax-cce" and plan.base.hidden == (64, 32)
    with pytest.raises(ConfigError, match="not an output head"):
        build_plan("loss", values="softmax-hinge")


def test_the_base_is_always_run_and_rate_is_shared():
    plan = build_plan("activity-regularization", values="l1,l2", rate=0.01)
    assert [v.name for v in plan.variants] == ["none", "l1", "l2"]
    assert {v.config.activity_rate for v in plan.variants} == {0.01}
    assert [v.name for v in build_plan("batch-size", values="0128,512").variants] == [
        "32", "128", "512"]
    with pytest.raises(ConfigError):
        build_plan("batch-size", values="128,0128")


class FakeEvaluate:
    """Stands in for `evaluate_seeds`: instant, counts the (variant, seed) runs it is asked
    for (one call per variant: its seeds train together), can fail or be interrupted."""

    def __init__(self, interrupt_at: int | None = None, fail_variant: str | None = None):
        self.calls: list[tuple[str, int]] = []
        self.invocations = 0
        self.interrupt_at = interrupt_at
        self.fail_variant = fail_variant

    def __call__(self, cfg, data, protocol, seeds, on_epoch=None):
        self.invocations += 1
        if self.interrupt_at is not None and self.invocations == self.interrupt_at:
            raise KeyboardInterrupt
        self.calls += [(cfg.optimizer, seed) for seed in seeds]
        return [self._one(cfg, protocol, seed) for seed in seeds], None

    def _one(self, cfg, protocol, seed):
        if cfg.optimizer == self.fail_variant:
            return TrialFailed("the training loss became NaN")
        acc = 0.8 + 0.01 * seed + (0.05 if cfg.optimizer == "adam" else 0.0)
        fold = FoldResult(0, {"loss": [0.5], "accuracy": [acc], "val_loss": [0.6],
                              "val_accuracy": [acc]}, 0.5, acc, 0.6, acc, 1, 1, 1.0, [1.0],
                          80, 20, "x")
        return Result(cfg, protocol, seed, [fold], test_loss=0.6, test_accuracy=acc)


@pytest.fixture
def plan():
    return build_plan("optimizer", values="sgd,adam", epochs=1)


def test_resume_skips_finished_runs(monkeypatch, tmp_path, plan, small_data):
    out = tmp_path / "study"
    interrupted = FakeEvaluate(interrupt_at=2)  # inside the second variant (adam)
    monkeypatch.setattr(study_runner, "evaluate_seeds", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_study(plan, small_data, out, RunSettings((0, 1)))
    assert len(read_csv(out / "results.csv")) == 2  # the first variant's runs were saved
    with pytest.raises(ProjectError, match="--resume"):
        run_study(plan, small_data, out, RunSettings((0, 1)))
    resumed = FakeEvaluate()
    monkeypatch.setattr(study_runner, "evaluate_seeds", resumed)
    records = run_study(plan, small_data, out, RunSettings((0, 1)), resume=True)
    assert resumed.calls == [("adam", 0), ("adam", 1)]  # only the unfinished runs
    assert len(records) == 4 and len(read_csv(out / "results.csv")) == 4
    more = FakeEvaluate()
    monkeypatch.setattr(study_runner, "evaluate_seeds", more)
    run_study(plan, small_data, out, RunSettings((0, 1, 2)), resume=True)
    assert more.calls == [("sgd", 2), ("adam", 2)]  # more repeats: only the new seed
    again = FakeEvaluate()
    monkeypatch.setattr(study_runner, "evaluate_seeds", again)
    run_study(plan, small_data, out, RunSettings((0, 1, 2)), resume=True)
    assert again.calls == []


def test_resume_refuses_a_different_study(monkeypatch, tmp_path, plan, small_data):
    monkeypatch.setattr(study_runner, "evaluate_seeds", FakeEvaluate())
    run_study(plan, small_data, tmp_path, RunSettings((0,)))
    other = build_plan("optimizer", values="sgd,rmsprop", epochs=1)
    with pytest.raises(ProjectError, match="different variants"):
        run_study(other, small_data, tmp_path, RunSettings((0,)), resume=True)


def test_a_failed_run_is_recorded_and_the_study_goes_on(monkeypatch, tmp_path, plan,
                                                        small_data):
    monkeypatch.setattr(study_runner, "evaluate_seeds", FakeEvaluate(fail_variant="adam"))
    run_study(plan, small_data, tmp_path, RunSettings((0, 1)))
    rows = read_csv(tmp_path / "results.csv")
    assert [r["status"] for r in rows] == ["ok", "ok", "failed", "failed"]
    assert "NaN" in rows[-1]["error"]
