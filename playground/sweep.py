"""Many seeds of several configurations at once, summarised per configuration.

Each configuration trains all its seeds in one call of the run-vectorized kernel; integer
seeds 0..n-1 use numpy streams, so ``sweep`` run k equals a single run with ``--seed k``.
"""

from __future__ import annotations

import itertools
import textwrap
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .config import PlaygroundConfig, check_choice, check_hidden
from .errors import InvalidValueError, UnknownRegularizationError
from .trainer import Trainer, run_jobs, worker_count

SEPARATED_BELOW = 0.05  # test loss under this counts as "separated"

#: Lab Task 6: circle, one hidden layer, tanh, lr 0.03 (nodes, regularization, rate).
TASK6_CONFIGS: tuple[tuple[int, str, float], ...] = (
    (2, "none", 0.0), (3, "none", 0.0), (4, "l1", 0.003), (4, "l2", 0.003),
)
#: What the lab reported from the site (one run each, epochs unknown): (train, test).
TASK6_LAB = {(2, "none"): (0.167, 0.282), (3, "none"): (0.006, 0.009),
             (4, "l1"): (0.009, 0.016), (4, "l2"): (0.011, 0.020)}


@dataclass
class SweepRow:
    """Summary of one configuration over all seeds."""

    nodes: int
    reg: str
    reg_rate: float
    train_loss: np.ndarray = field(repr=False)  # final train loss per seed
    test_loss: np.ndarray = field(repr=False)
    dead_links: np.ndarray = field(repr=False)  # dead links per seed

    def summary(self) -> dict:
        q = lambda a, p: float(np.quantile(a, p))  # noqa: E731
        return {
            "nodes": self.nodes, "reg": self.reg, "reg_rate": self.reg_rate,
            "train_loss_median": q(self.train_loss, 0.5),
            "test_loss_median": q(self.test_loss, 0.5),
            "train_loss_q10": q(self.train_loss, 0.1), "train_loss_q90": q(self.train_loss, 0.9),
            "test_loss_q10": q(self.test_loss, 0.1), "test_loss_q90": q(self.test_loss, 0.9),
            "separated_fraction": float(np.mean(self.test_loss < SEPARATED_BELOW)),
            "runs": int(self.test_loss.size),
            "dead_links_median": float(np.median(self.dead_links)),
        }

    @property
    def label(self) -> str:
        reg = "no reg" if self.reg == "none" else f"{self.reg.upper()} {self.reg_rate:g}"
        return f"{self.nodes} neurons, {reg}"


def grid(nodes: Sequence[int], regs: Sequence[str], reg_rate: float
         ) -> list[tuple[int, str, float]]:
    """nodes x regularizations; 'none' always gets rate 0 (the rate does nothing there)."""
    check_hidden(nodes)
    if reg_rate < 0:
        raise InvalidValueError(f"regularization rate {reg_rate} must be >= 0")
    combos = []
    for n, reg in itertools.product(nodes, regs):
        reg = check_choice(reg, ("none", "l1", "l2"), "regularization",
                           UnknownRegularizationError)
        combos.append((int(n), reg, 0.0 if reg == "none" else float(reg_rate)))
    return combos


def run_sweep(base: PlaygroundConfig, combos: Sequence[tuple[int, str, float]],
              seeds: int | Sequence[int | str], epochs: int,
              on_config: Callable[[int, int], None] | None = None) -> list[SweepRow]:
    """Train every (nodes, reg, rate) for every seed: vectorized over seeds, blocks on threads.

    ``on_config(done, total)`` is called (from a worker thread) as each configuration ends.
    """
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise InvalidValueError("--seeds must be at least 1")
    if epochs < 1:
        raise InvalidValueError(f"epochs {epochs} must be >= 1 for a sweep")
    # Whole configurations are the units of work when there are enough to keep every thread
    # busy: one wide block vectorizes better than two half-width ones (~15 % per run).
    blocks = max(1, -(-worker_count() // len(combos)))
    trainers = [Trainer(replace(base, hidden=(nodes,), regularization=reg, reg_rate=rate,
                                epochs=epochs), seed_list, blocks=blocks)
                for nodes, reg, rate in combos]
    # Every block of every configuration is one job; biggest first, so the threads finish
    # together (configurations train concurrently, not one after the other).
    work = [(trainer, *trainer.train_jobs(epochs, record_every=epochs)) for trainer in trainers]
    jobs = sorted(((trainer.block_cost, i, k, job) for i, (trainer, blocks, _) in enumerate(work)
                   for k, job in enumerate(blocks)), key=lambda item: (-item[0], item[1], item[2]))
    left = [len(blocks) for _, blocks, _ in work]
    done = [0]
    lock = threading.Lock()

    def tracked(i: int, job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            job()
            with lock:
                left[i] -= 1
                if left[i] == 0:
                    done[0] += 1
                    if on_config is not None:
                        on_config(done[0], len(combos))
        return run

    run_jobs([tracked(i, job) for _, i, _, job in jobs])
    rows = []
    for (nodes, reg, rate), (trainer, _, finish) in zip(combos, work, strict=True):
        final = finish()[:, -1, :]
        rows.append(SweepRow(nodes, reg, rate, final[:, 0].copy(), final[:, 1].copy(),
                             trainer.dead_links().sum(axis=1)))
    return rows


def format_table(rows: Sequence[SweepRow]) -> str:
    """One line per configuration: medians, 10-90 % ranges, separated share."""
    head = (f"{'configuration':<24} {'train median':>12} {'train 10-90%':>15} "
            f"{'test median':>11} {'test 10-90%':>15} {'test<0.05':>9}")
    lines = [head, "-" * len(head)]
    for row in rows:
        s = row.summary()
        lines.append(
            f"{row.label:<24} {s['train_loss_median']:>12.3f} "
            f"{s['train_loss_q10']:>7.3f}-{s['train_loss_q90']:<7.3f} "
            f"{s['test_loss_median']:>11.3f} {s['test_loss_q10']:>7.3f}-{s['test_loss_q90']:<7.3f}"
            f"{s['separated_fraction']:>9.0%}"
        )
    return "\n".join(lines)


TASK6_EXPLANATION = """\
Why 2 neurons cannot enclose the disc and 3 can
-----------------------------------------------
Each tanh hidden unit h_k = tanh(w_k . p + b_k) is constant along lines: a soft half-plane.
The output is tanh(c + v_1 h_1 + v_2 h_2 + ...), so "inside" is wherever that weighted sum
is high.
* 2 units: if w_1 and w_2 are parallel the output varies along one direction only (a band or
  a half-plane). Otherwise pick the direction e with w_2 . e = 0 and v_1 (w_1 . e) > 0: moving
  along e keeps h_2 fixed and never lowers the sum, so every point called "inside" drags a
  whole ray with it. The inside region is unbounded; a region that covers the disc (r < 2.5)
  then sweeps a strip about 5 wide through the outer ring (3.5 < r < 5) and misclassifies
  roughly a fifth of it. Training settles on a band/corner compromise:
  {two_units}.
* 3 units: three half-planes can bound a region. The sum is high only where all three are on,
  a triangle with rounded corners: at a corner two units are near their midpoint, the sum
  drops below threshold and the corner is cut off before it reaches the outer ring. The
  boundary then runs through the empty gap 2.5 < r < 3.5, the classes separate and the loss
  keeps falling towards 0.
* 4 units + L1/L2 (rate 0.003): the extra unit is not needed; the penalty keeps the weights
  small, so the loss stays a little above the 3-neuron value. L1 pushes weights exactly to 0
  (dead links: a sparser network); L2 shrinks all weights smoothly without removing any."""


def task6_explanation(rows: Sequence[SweepRow]) -> str:
    """`TASK6_EXPLANATION` with the 2-unit losses of *this* run, not numbers fixed in advance.

    Args:
        rows: the sweep's rows (the 2-neuron, no-regularization one is described).

    Returns:
        The explanation text.
    """
    two = next((r for r in rows if r.nodes == 2 and r.reg == "none"), None)
    if two is None:
        return TASK6_EXPLANATION.format(two_units="its loss stays well above 0")
    s = two.summary()
    stuck = float(np.mean(two.test_loss > 0.05))
    return TASK6_EXPLANATION.format(two_units="\n  ".join(textwrap.wrap(
        f"in this run the 2-unit test loss has median {s['test_loss_median']:.3f} (10-90 % of "
        f"seeds: {s['test_loss_q10']:.3f}-{s['test_loss_q90']:.3f}), and {stuck:.0%} of "
        "seeds stay above 0.05", 88)))


def lab_versus_run(rows: Sequence[SweepRow]) -> str:
    """Where each of the lab's single site runs falls against this run's 10-90 % ranges.

    Args:
        rows: the sweep's rows.

    Returns:
        One line per lab configuration found in `rows`, e.g. "2 neurons, no reg: train 0.167
        below 0.176-0.233; test 0.282 inside 0.233-0.310".
    """
    def where(value: float, low: float, high: float) -> str:
        side = "inside" if low <= value <= high else ("below" if value < low else "above")
        return f"{value:.3f} {side} {low:.4f}-{high:.4f}"

    lines = []
    for row in rows:
        lab = TASK6_LAB.get((row.nodes, row.reg))
        if lab is None:
            continue
        s = row.summary()
        lines.append(f"{row.label}: train "
                     f"{where(lab[0], s['train_loss_q10'], s['train_loss_q90'])}; test "
                     f"{where(lab[1], s['test_loss_q10'], s['test_loss_q90'])}")
    return "\n".join(lines)
