"""Import a benchmark or fault-matrix script from scripts/ as a module, for its tests.

The scripts are run as files, not installed, so a test puts scripts/ on sys.path only for the
import and takes it off again (other tests must not see a `bench_common` by accident).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def script(name: str) -> ModuleType:
    """The module scripts/<name>.py (imported once, then cached in sys.modules)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(SCRIPTS))
