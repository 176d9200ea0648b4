"""tune --bind beyond loopback warns, as the web servers do: the oracle has no authentication."""

from __future__ import annotations

import pytest

from hpsearch.search.distributed import exposure_warning


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_is_quiet(host):
    assert exposure_warning(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "node7"])
def test_any_other_address_warns(host):
    warning = exposure_warning(host)
    assert warning is not None and warning.startswith("warning:")
    assert host in warning and "without authentication" in warning
