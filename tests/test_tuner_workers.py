"""`tune --workers 2`: Keras Tuner chief in the tune process, two worker subprocesses."""

from __future__ import annotations

import csv

import pytest

from hpsearch.errors import ConfigError
from hpsearch.search.distributed import parse_address


@pytest.mark.slow
def test_two_workers_on_loopback_complete(tmp_path, cli) -> None:
    project = tmp_path / "p"
    code, out, err = cli("tune", "-o", str(project), "--workers", "2", "--tuner", "random",
                         "--max-trials", "3", "-k", "2", "--epochs", "1", "--dataset",
                         "fashion-mnist-sample", "--fix", "batch_size=256", "--fix",
                         "layers=1", "--fix", "units=32", "-q")
    assert code == 0, err
    with open(project / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["trial_id"] for r in rows) == ["0", "1", "2"]
    assert all(r["status"] in ("ok", "pruned") for r in rows)
    assert {r["worker"] for r in rows} <= {"worker0", "worker1"}


def test_oracle_address_is_validated() -> None:
    assert parse_address("127.0.0.1:8000") == ("127.0.0.1", 8000)
    for bad in ("8000", "host:", "host:99999", ":80"):
        with pytest.raises(ConfigError):
            parse_address(bad)
