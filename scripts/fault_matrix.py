"""Fault matrix: every tuner x Ctrl-C / SIGTERM / kill -9 x one process / `--workers 2`.

Each cell runs a tiny `hpsearch tune` on the shipped sample, interrupts it once a trial has
finished and another is running, and then runs `hpsearch tune --directory DIR --resume` (with
`--workers 2` again in the workers rows: a run-time option, not a stored setting). A cell
passes when:

- the interruption: Ctrl-C (SIGINT to the whole process group, as a terminal sends it) and
  SIGTERM (to the chief only, as Kubernetes or `kill` send it) exit 130 / 143 with exactly the
  one line naming the resume command; `kill -9` (the chief only, as the OOM killer does) leaves
  no worker behind either: no process of the search is alive 10 s later;
- `--resume` alone finishes: exit 0, no traceback, no process left behind;
- every trial is recorded once: as many trial records as the search asks for, none `running`,
  one `results.csv` row each, every Keras Tuner trial ended; a grid holds each of its points
  exactly once;
- no finished trial is trained again: every record that was final after the interruption is
  byte-for-byte the same after the resume.

`tests/test_fault_matrix.py` runs a few cells in CI; this script runs all of them (about 30
cells, 20-80 s each: about 22 min on the loaded 2-core machine) and prints the table that
`docs/RELIABILITY.md` holds.

Usage:
    python scripts/fault_matrix.py                       # every cell, a table at the end
    python scripts/fault_matrix.py --tuners grid --interruptions kill-9 --modes workers
    python scripts/fault_matrix.py --markdown            # the table as docs/RELIABILITY.md has it
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

INTERRUPTIONS = ("ctrl-c", "sigterm", "kill-9")
MODES = ("one process", "workers")
TRIALS = 6  # per search; the grid below has 6 points too
# Hyperband: 9 one-epoch trials, then 3 promoted to 3 epochs from their parents' checkpoints
HYPERBAND = {"trials": 12, "epochs": 9}
WAIT_S = 300  # for any one process
GONE_S = 10  # every process of the search must be gone this long after it was stopped
ENV = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
GRID_SPACE = """\
[layers]
value = 1
[units]
values = [16, 32, 64]
[activation]
values = ["relu", "tanh"]
[optimizer]
value = "adam"
[learning_rate]
value = 0.001
[batch_size]
value = 256
[kernel_regularizer]
value = "none"
[activity_regularizer]
value = "none"
[dropout]
value = "none"
"""


def tuners() -> tuple[str, ...]:
    """Every tuner `hpsearch tune --tuner` knows (new oracles join the matrix by themselves)."""
    from hpsearch.search.tuner import TUNERS

    return tuple(TUNERS)


@dataclass
class Cell:
    """One cell's outcome: `problems` is empty when every check passed."""

    tuner: str
    interruption: str
    mode: str
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    trials: int = 0  # records at the end
    kept: int = 0  # final records after the interruption, unchanged by the resume

    @property
    def ok(self) -> bool:
        return not self.problems


def search_command(tuner: str, project: Path, workers: bool) -> list[str]:
    """The interrupted search: tiny (2 folds x 2 epochs, 16 units) on the shipped sample;
    the grid searches units x activation (6 points), the others the default space."""
    epochs = HYPERBAND["epochs"] if tuner == "hyperband" else 2
    command = [sys.executable, "-m", "hpsearch", "tune", "--directory", str(project),
               "--tuner", tuner, "--max-trials", str(trials(tuner)), "-k", "2", "--epochs",
               str(epochs), "--dataset", "fashion-mnist-sample", "-q"]
    if tuner == "grid":
        space = project.parent / "grid.toml"
        space.write_text(GRID_SPACE)
        command += ["--space", str(space)]
    else:
        command += ["--fix", "hidden=16", "--fix", "batch_size=256"]
    return command + (["--workers", "2"] if workers else [])


def trials(tuner: str) -> int:
    """How many trial records the finished search holds."""
    return HYPERBAND["trials"] if tuner == "hyperband" else TRIALS


def resume_command(project: Path, workers: bool) -> list[str]:
    return [sys.executable, "-m", "hpsearch", "tune", "--directory", str(project), "--resume",
            "-q"] + (["--workers", "2"] if workers else [])


def run_cell(tuner: str, interruption: str, mode: str, root: Path) -> Cell:
    """Interrupt one search, resume it, and check both ends (see the module docstring).

    Args:
        tuner: one of `tuners()`.
        interruption: "ctrl-c", "sigterm" or "kill-9".
        mode: "one process" or "workers" (`--workers 2`).
        root: an empty directory for the project and the logs.

    Returns:
        The `Cell`, with one line per failed check in `problems`.

    Example:
        >>> run_cell("grid", "kill-9", "workers", Path("/tmp/cell")).ok  # doctest: +SKIP
        True
    """
    cell, start = Cell(tuner, interruption, mode), time.monotonic()
    project, workers = root / "project", mode == "workers"
    root.mkdir(parents=True, exist_ok=True)
    proc = _start(search_command(tuner, project, workers), root / "search.log")
    try:
        reached = _wait_mid_trial(proc, project)
        if not reached:
            cell.problems.append(f"the search ended (exit {proc.returncode}) before a trial "
                                 "was running after a finished one")
            return cell
        _interrupt(proc, interruption)
        code = _wait(proc)
    finally:
        _stop(proc)
    cell.problems += _check_stop(interruption, code, (root / "search.log").read_text(), project)
    cell.problems += _check_gone(proc.pid, "the interrupted search")
    kept = {k: v for k, v in _records(project).items() if _final(v)}
    cell.kept = len(kept)

    resumed = _start(resume_command(project, workers), root / "resume.log")
    try:
        code = _wait(resumed)
    finally:
        _stop(resumed)
    log = (root / "resume.log").read_text()
    if code != 0:
        cell.problems.append(f"--resume exited {code}: {_last_line(log)}")
    if "Traceback" in log:
        cell.problems.append("--resume printed a traceback")
    cell.problems += _check_gone(resumed.pid, "--resume")
    after = _records(project)
    cell.trials = len(after)
    cell.problems += _check_end(tuner, project, kept, after)
    cell.seconds = time.monotonic() - start
    return cell


# ------------------------------------------------------------------ running


def _start(command: list[str], log: Path) -> subprocess.Popen:
    with open(log, "w") as out:  # own session: Ctrl-C goes to its group, leftovers are found
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=ENV,
                                start_new_session=True, cwd=log.parent,
                                preexec_fn=_sigint_as_in_a_terminal)


def _sigint_as_in_a_terminal() -> None:
    """A job started in the background (`script &`, nohup, CI) inherits SIGINT ignored, and
    Python then never raises KeyboardInterrupt; a search in a terminal has it at default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_mid_trial(proc: subprocess.Popen, project: Path) -> bool:
    """Wait until a trial is running after at least one finished; False if it ended first."""
    deadline = time.monotonic() + WAIT_S
    while proc.poll() is None and time.monotonic() < deadline:
        statuses = [json.loads(text).get("status") for text in _records(project).values()]
        if "running" in statuses and any(s != "running" for s in statuses):
            return True
        time.sleep(0.02)
    return False


def _interrupt(proc: subprocess.Popen, interruption: str) -> None:
    if interruption == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole foreground group
    elif interruption == "sigterm":
        proc.send_signal(signal.SIGTERM)
    else:
        proc.kill()


def _wait(proc: subprocess.Popen) -> int | None:
    try:
        return proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        return None


def _stop(proc: subprocess.Popen) -> None:
    """Leave nothing running whatever happened (the checks have looked before this)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for pid in _session(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _session(sid: int) -> list[int]:
    """Live processes of session `sid` (Linux /proc; zombies count as gone)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


# ------------------------------------------------------------------ checks


def _check_stop(interruption: str, code: int | None, log: str, project: Path) -> list[str]:
    expected = {"ctrl-c": 130, "sigterm": 143, "kill-9": -signal.SIGKILL}[interruption]
    problems = [] if code == expected else [f"the interrupted search exited {code}, not "
                                            f"{expected}"]
    if "Traceback" in log:
        problems.append("the interrupted search printed a traceback")
    if interruption != "kill-9":
        lines = [line for line in log.splitlines() if line.strip()]
        line = (f"interrupted: the finished trials are saved in {project}; continue with "
                f"hpsearch tune --directory {project} --resume")
        if lines != [line]:
            problems.append(f"the interrupted search printed {lines[-3:]!r}, not its one "
                            "resume line")
    return problems


def _check_gone(sid: int, what: str) -> list[str]:
    deadline = time.monotonic() + GONE_S
    while _session(sid):
        if time.monotonic() > deadline:
            return [f"{len(_session(sid))} process(es) of {what} alive {GONE_S} s after it "
                    "ended"]
        time.sleep(0.1)
    return []


def _check_end(tuner: str, project: Path, kept: dict[str, str],
               after: dict[str, str]) -> list[str]:
    problems = []
    changed = [k for k, text in kept.items() if after.get(k) != text]
    if changed:
        problems.append(f"finished trials trained again or changed: {sorted(changed)}")
    records = {k: json.loads(v) for k, v in after.items()}
    running = [k for k, r in records.items() if r["status"] == "running"]
    if running:
        problems.append(f"trials left running: {sorted(running)}")
    if len(records) != trials(tuner):
        problems.append(f"{len(records)} trial records, not {trials(tuner)}")
    rows = _csv_ids(project)
    if sorted(rows) != sorted(r["trial_id"] for r in records.values()):
        problems.append(f"results.csv lists {sorted(rows)}, the records "
                        f"{sorted(r['trial_id'] for r in records.values())}")
    kt = _kt_statuses(project)
    if sorted(kt) != sorted(r["trial_id"] for r in records.values()) or \
            set(kt.values()) - {"COMPLETED", "FAILED"}:
        problems.append(f"Keras Tuner's trials do not match the records: {kt}")
    if tuner == "grid":
        points = {(r["params"].get("units_0"), r["params"].get("activation"))
                  for r in records.values()}
        if len(points) != len(records) or len(points) != 6:
            problems.append(f"the grid's 6 points are not each there once: "
                            f"{sorted(map(str, points))}")
    return problems


def _records(project: Path) -> dict[str, str]:
    """trial file stem -> its text, for the records that parse."""
    out = {}
    for path in (project / "trials").glob("trial_*.json"):
        try:
            text = path.read_text()
            json.loads(text)
        except (OSError, ValueError):
            continue
        out[path.stem] = text
    return out


def _final(text: str) -> bool:
    return json.loads(text).get("status") != "running"


def _csv_ids(project: Path) -> list[str]:
    try:
        with open(project / "results.csv", newline="") as handle:
            return [row["trial_id"] for row in csv.DictReader(handle)]
    except OSError:
        return []


def _kt_statuses(project: Path) -> dict[str, str]:
    out = {}
    for path in (project / "kt").glob("trial_*/trial.json"):
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        out[state["trial_id"]] = state["status"]
    return out


def _last_line(log: str) -> str:
    lines = [line for line in log.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


# ------------------------------------------------------------------ the table


def table(cells: list[Cell], markdown: bool) -> str:
    """One row per tuner and mode, one column per interruption: `ok` or what failed."""
    rows = sorted({(c.tuner, c.mode) for c in cells}, key=lambda r: (tuners().index(r[0])
                                                                     if r[0] in tuners()
                                                                     else 99, r[1]))
    by = {(c.tuner, c.mode, c.interruption): c for c in cells}
    head = ["tuner", "mode", *INTERRUPTIONS]
    lines = []
    for tuner, mode in rows:
        row = [tuner, "--workers 2" if mode == "workers" else mode]
        for interruption in INTERRUPTIONS:
            cell = by.get((tuner, mode, interruption))
            row.append("-" if cell is None else
                       f"ok ({cell.kept} kept, {cell.trials} trials, {cell.seconds:.0f} s)"
                       if cell.ok else "FAIL: " + "; ".join(cell.problems))
        lines.append(row)
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(out + ["| " + " | ".join(r) + " |" for r in lines])
    return "\n".join("  ".join(r) for r in [head, *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tuners", nargs="+", default=None, help="default: every tuner")
    parser.add_argument("--interruptions", nargs="+", choices=INTERRUPTIONS,
                        default=list(INTERRUPTIONS))
    parser.add_argument("--modes", nargs="+", choices=("one-process", "workers"),
                        default=["one-process", "workers"])
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    chosen = args.tuners or list(tuners())
    unknown = sorted(set(chosen) - set(tuners()))
    if unknown:
        parser.error(f"unknown tuner(s) {', '.join(unknown)}; choose from {', '.join(tuners())}")
    modes = [m.replace("-", " ") for m in args.modes]
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped: clean up like Ctrl-C
    cells = []
    with tempfile.TemporaryDirectory(prefix="fault-matrix-") as tmp:
        plan = [(t, i, m) for t in chosen for m in modes for i in args.interruptions]
        for n, (tuner, interruption, mode) in enumerate(plan, 1):
            cell = run_cell(tuner, interruption, mode,
                            Path(tmp) / f"{tuner}-{interruption}-{mode.replace(' ', '-')}")
            cells.append(cell)
            print(f"[{n}/{len(plan)}] {tuner:9} {interruption:7} {mode:11} "
                  f"{'ok' if cell.ok else 'FAIL'} ({cell.seconds:.0f} s)"
                  + ("" if cell.ok else ": " + "; ".join(cell.problems)), flush=True)
    print()
    print(table(cells, args.markdown))
    failed = sum(not c.ok for c in cells)
    print(f"\n{len(cells) - failed} of {len(cells)} cells pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
