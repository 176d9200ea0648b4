"""The private Keras Tuner members we rely on, and the oracle registry's one hook.

If a Keras Tuner release moves a private member, `test_every_private_member_still_exists`
names it (and why we need it) instead of a search failing half-way through.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hpsearch.search import kt_adapter
from hpsearch.search.oracles import ORACLES, make_oracle, oracle_class
from hpsearch.search.oracles.base import CVOracle
from hpsearch.search.space import build_space
from hpsearch.search.spec import TuneSpec

ROOT = Path(__file__).resolve().parents[1] / "hpsearch"


def test_every_private_member_still_exists() -> None:
    missing = kt_adapter.missing_members()
    assert not missing, "keras-tuner moved members hpsearch needs:\n" + "\n".join(missing)


def test_the_check_notices_a_member_that_is_gone(monkeypatch) -> None:
    gone = kt_adapter.PrivateMember("keras_tuner.Oracle", "_no_such_member", "method", "x")
    monkeypatch.setattr(kt_adapter, "PRIVATE_MEMBERS", kt_adapter.PRIVATE_MEMBERS + (gone,))
    assert [m for m in kt_adapter.missing_members() if "_no_such_member" in m]


def _private_names_used(path: Path) -> set[str]:
    """Names `_x` read as `something._x` or defined as `def _x` in a Keras Tuner subclass."""
    tree = ast.parse(path.read_text())
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr.startswith("_")
            and not node.attr.startswith("__")}
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        used |= {f.name for f in cls.body if isinstance(f, ast.FunctionDef)
                 and f.name.startswith("_") and not f.name.startswith("__")}
    return used


def test_no_private_keras_tuner_member_is_touched_outside_the_adapter() -> None:
    named = {m.name for m in kt_adapter.PRIVATE_MEMBERS}
    ours = {"_live", "_gate", "_parent_weights", "_save_fold_weights", "_finish",
            "_kt_config", "_dist_utils"}  # the tuner's own helpers; the adapter's aliases
    for path in [ROOT / "search" / "tuner.py", *sorted((ROOT / "search" / "oracles").glob("*.py"))]:
        stray = _private_names_used(path) - named - ours
        assert not stray, f"{path.name} touches {sorted(stray)}: name them in kt_adapter"
    for path in ROOT.rglob("*.py"):
        if path.name != "kt_adapter.py":
            assert "keras_tuner.src" not in path.read_text(), path


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_each_registered_oracle_is_a_module_level_cv_oracle(name: str) -> None:
    cls = oracle_class(name)
    assert issubclass(cls, CVOracle) and cls.name == name
    assert cls.__qualname__ == cls.__name__  # a module-level class, not built in a factory
    settings = TuneSpec(tuner=name, max_trials=7, seed=3)
    space = build_space()
    oracle = make_oracle(space, settings)
    assert type(oracle) is cls and oracle.max_trials == 7


def test_only_hyperband_continues_a_parent_and_skips_the_median_rule() -> None:
    flags = {name: (oracle_class(name).continues_parent, oracle_class(name).median_pruning)
             for name in ORACLES}
    assert flags == {"random": (False, True), "bayesian": (False, True),
                     "grid": (False, True), "hyperband": (True, False), "tpe": (False, True)}


def test_an_unknown_tuner_is_one_clear_error() -> None:
    from hpsearch.errors import ConfigError

    with pytest.raises(ConfigError, match="choose one of random, bayesian"):
        oracle_class("annealing")
