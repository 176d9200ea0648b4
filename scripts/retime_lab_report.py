"""Add the timing repeats to a lab report run before they existed, and rebuild its reports.

    python scripts/retime_lab_report.py docs/lab-report batch-size optimizer ...

Each named study directory gets its `timing.csv` (`studies.timing.time_finished_study`: the
product's own interleaved k = 1 timing, 5 rounds), then its summary/verdict/figures are
rebuilt from the files on disk and the combined `report.md` is rewritten. The accuracy runs are
not re-run. Studies are done one at a time, in the order given, each saved when it ends.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hpsearch.data import load_dataset
from hpsearch.reports.lab import write_lab_report
from hpsearch.reports.study_summary import write_report
from hpsearch.studies.store import read_study
from hpsearch.studies.timing import time_finished_study


def main(root: Path, names: list[str]) -> None:
    data = load_dataset(read_study(root / names[0])["dataset"]["name"])
    for name in names:
        start = time.perf_counter()
        time_finished_study(root / name, data,
                            hook_for=lambda label: lambda *_: print(label, flush=True))
        write_report(root / name)
        print(f"{name}: timed and reported in {time.perf_counter() - start:.0f} s", flush=True)
    order = read_study(root)["studies"]
    write_lab_report(root, [root / n for n in order if (root / n / "study.json").is_file()])


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
