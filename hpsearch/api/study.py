"""`study`: one of the lab's experiments (or all of them) with repeats, paired verdicts and a
report; and the `StudyResult` it returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsearch.api.display import Shown, frame
from hpsearch.api.evaluation import as_data
from hpsearch.data import Dataset


@dataclass(repr=False)
class StudyResult(Shown):
    """A finished study: per-variant summary, the verdict, figures and files in `out`.

    Attributes:
        name: the study (or `all`).
        out: its directory (results.csv, summary.csv, verdict.json, summary.md, *.png).
        digests: one per study run: {study, out, summary, verdict}.
    """

    name: str
    out: Path
    digests: list[dict[str, Any]]

    def summary(self) -> Any:
        """One row per variant (per study for `all`): mean and sample std (n-1) of train and
        test (or CV) accuracy and loss, time, n, and the paired difference to the base."""
        rows = [{"study": d["study"]} | row for d in self.digests for row in d["summary"]]
        out = frame(rows)
        if len(self.digests) == 1:
            out = out.drop(columns="study").set_index("variant")
        return out

    def table(self) -> Any:
        keep = ("variant", "is_base", "n", "train_accuracy_mean", "test_accuracy_mean",
                "test_accuracy_std", "val_accuracy_mean", "val_accuracy_std",
                "epoch_time_s_mean", "epoch_time_s_std")
        out = self.summary()
        return out[[c for c in out.columns if c in keep or c == "study"]]

    @property
    def verdict(self) -> str:
        """The accuracy verdict sentence (one per study for `all`)."""
        return " ".join(d["verdict"]["accuracy"]["text"] for d in self.digests)

    @property
    def verdicts(self) -> dict[str, dict[str, Any]]:
        """study -> {accuracy, loss, time: {text, best, comparisons}} as in verdict.json."""
        return {d["study"]: d["verdict"] for d in self.digests}

    def plot(self, study: str | None = None) -> Any:
        """Accuracy per variant, mean ± sample std over the repeats: a matplotlib Figure."""
        from hpsearch.reports.figures import bars_figure

        digest = next((d for d in self.digests if d["study"] == study), self.digests[0])
        split = "val" if digest["study"] == "architectures" else "test"
        rows = digest["summary"]
        return bars_figure([r["variant"] for r in rows],
                           [r.get(f"{split}_accuracy_mean") or float("nan") for r in rows],
                           [r.get(f"{split}_accuracy_std") or 0.0 for r in rows],
                           f"{split} accuracy", f"study {digest['study']}")

    def _title(self) -> str:
        return f"StudyResult {self.name} -> {self.out}"


def study(name: str, data: Dataset | str, repeats: int | None = None,
          epochs: int | None = None, out: str | Path | None = None, *, base: str | None = None,
          values: str | list[Any] | None = None, rate: float | None = None, folds: int = 5,
          seed: int = 0, resume: bool = False, overwrite: bool = False,
          quiet: bool = False) -> StudyResult:
    """Run one of the lab's experiments properly: one field varied, repeated over seeds, a 95%
    paired interval per variant, and a winner named only outside the noise.

    Args:
        name: `architectures`, `batch-size`, `optimizer`, `kernel-regularization`,
            `activity-regularization`, `dropout` (see `hp.STUDIES`), or `all`.
        data: a `Dataset` or a name/path for `load_dataset`.
        repeats: seeds per variant, shared by all variants (paired); default 5 (1 for
            architectures, whose folds give the pairs).
        epochs: epochs for every variant (default: the base config's).
        out: the directory (default studies/NAME; lab-report for all).
        base: base preset or config file (default: the lab's).
        values: the varied field's values, e.g. `[32, 128, 512]` or `"sgd,adam"`.
        rate: regularization or dropout rate for every variant.
        folds: CV folds (architectures only).
        seed: the first seed; repeats use seed, seed+1, ...
        resume: continue a study in `out`, skipping finished runs.
        overwrite: delete an earlier study in `out` and start again.
        quiet: no progress bar.

    Returns:
        `StudyResult`: `.summary()`, `.verdict`, `.plot()`.

    Raises:
        ConfigError: an unknown study or invalid setting. ProjectError: `out` holds another
            study (pass `resume` or `overwrite`).

    Example:
        >>> import hpsearch as hp
        >>> st = hp.study("optimizer", "fashion-mnist-sample", repeats=3, epochs=2,
        ...               out="studies/opt")  # doctest: +SKIP
        >>> st.summary(), st.verdict  # doctest: +SKIP
    """
    from hpsearch.api.study_jobs import default_out, max_folds, plan_jobs, run_jobs

    if isinstance(values, list | tuple):
        values = ",".join(str(v) for v in values)
    out = Path(out) if out is not None else default_out(name)
    jobs = plan_jobs(name, base, values, rate, repeats, epochs, folds, seed, out)
    data = as_data(data, max_folds(jobs))
    digests = run_jobs(name, jobs, out, data, resume=resume, overwrite=overwrite, quiet=quiet)
    return StudyResult(name, out, digests)
