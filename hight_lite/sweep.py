r"""Sweeps: the grid κ × seeds × learners for one target, as independent tasks.

Each :class:`Task` is self-contained (target, learner, κ, seed) and is run by
:func:`run_task` with its own generators:

* the teacher comes from ``seed`` alone, so every learner and every κ of one seed faces
  the same teacher (paired comparisons);
* the data (train ``n = ⌊d^κ⌋``, validation, test) and the learner's randomness come from
  streams derived from ``(seed, n)``.

:func:`run_sweep` runs a list of tasks with a progress bar and returns a
:class:`SweepResult`, whose ``table`` is tidy (one row per task and metric).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence, Union

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .kernels import KernelConfig, fit_kernel_ridge
from .metrics import first_layer_overlap, mse
from .targets import TargetConfig, integer_power
from .two_layer import TwoLayerConfig, train_two_layer

LearnerConfig = Union[KernelConfig, TwoLayerConfig]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def seeded_generator(*keys: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A generator whose seed is derived from integer ``keys`` (via numpy's SeedSequence)."""
    seed = int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1, dtype=np.uint64)[0])
    return torch.Generator(device=device).manual_seed(seed)


@dataclass(frozen=True)
class Task:
    """One cell of a sweep: train ``learner`` on ``n = ⌊d^κ⌋`` samples of ``target`` with ``seed``.

    Args:
        target: the target's configuration.
        learner: a name for the learner (``"kernel"``, ``"two-layer"``, ...), used in tables.
        config: the learner's configuration; its type selects the training routine.
        kappa: κ = log n / log d.
        seed: the repetition; it fixes the teacher.
        n_validation, n_test: sizes of the validation and test sets (the paper: 1000 each).
        dtype: ``"float32"`` or ``"float64"``.
        device: where the computation runs.
    """

    target: TargetConfig
    learner: str
    config: LearnerConfig
    kappa: float
    seed: int
    n_validation: int = 1000
    n_test: int = 1000
    dtype: str = "float32"
    device: str = "cpu"

    def __post_init__(self) -> None:
        if not isinstance(self.config, (KernelConfig, TwoLayerConfig)):
            raise ValueError(f"config must be a KernelConfig or TwoLayerConfig, got {type(self.config).__name__}")
        if not 0 < self.kappa < 10:
            raise ValueError(f"kappa must lie in (0, 10), got {self.kappa!r}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {tuple(_DTYPES)}, got {self.dtype!r}")
        for name in ("n_validation", "n_test"):
            if getattr(self, name) < 2:
                raise ValueError(f"{name} must be an integer >= 2, got {getattr(self, name)!r}")

    @property
    def n(self) -> int:
        """Training-set size ``⌊d^κ⌋`` (at least 1)."""
        return max(1, integer_power(self.target.d, self.kappa))


@dataclass
class TaskResult:
    """What one task produced.

    Attributes:
        task: the :class:`Task`.
        test_error: mean squared error on ``n_test`` fresh samples (NaN if diverged).
        diverged, diverged_stage, diverged_step: whether and where a loss blew up.
        overlaps: final overlaps, e.g. ``{"overlap_W_0": 0.83}`` (empty for kernels).
        history: the learner's checkpoint rows (empty for kernels).
        seconds: wall time of the task.
    """

    task: Task
    test_error: float
    diverged: bool = False
    diverged_stage: str | None = None
    diverged_step: int | None = None
    overlaps: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    seconds: float = 0.0

    def rows(self) -> list[dict]:
        """Tidy rows: one per metric."""
        base = dict(
            d=self.task.target.d, learner=self.task.learner, kappa=self.task.kappa, n=self.task.n,
            seed=self.task.seed, diverged=self.diverged,
        )
        metrics = {"test_error": self.test_error, **self.overlaps, "seconds": self.seconds}
        return [dict(base, metric=k, value=float(v)) for k, v in metrics.items()]


def run_task(task: Task) -> TaskResult:
    """Draw the teacher and data for ``task``, train its learner, and measure it."""
    start = time.perf_counter()
    dtype = _DTYPES[task.dtype]
    n = task.n
    target = task.target.build(seeded_generator(task.seed, 0), device=task.device, dtype=dtype)
    data_gen = seeded_generator(task.seed, n, 1)
    train = target.sample(n, data_gen)
    validation = target.sample(task.n_validation, data_gen)
    test = target.sample(task.n_test, data_gen)

    if isinstance(task.config, KernelConfig):
        model = fit_kernel_ridge(train.x, train.y, task.config)
        error = mse(model.predict(test.x), test.y)
        return TaskResult(task, error, seconds=time.perf_counter() - start)

    result = train_two_layer(train, task.config, seeded_generator(task.seed, n, 2), target=target, validation=validation)
    record = result.record
    overlaps = {
        f"overlap_W_{m}": v
        for m, v in enumerate(first_layer_overlap(result.network.w1, target.teacher, task.target.branches).tolist())
    }
    error = math.nan if record.diverged else mse(result.network(test.x), test.y)
    return TaskResult(
        task, error, record.diverged, record.diverged_stage, record.diverged_step, overlaps, record.rows,
        time.perf_counter() - start,
    )


def make_tasks(
    target: TargetConfig,
    learners: dict[str, LearnerConfig],
    kappas: Iterable[float],
    seeds: Iterable[int] | int,
    **task_options,
) -> list[Task]:
    """The grid ``kappas × seeds × learners`` as a list of tasks (``seeds`` may be a count)."""
    seeds = range(seeds) if isinstance(seeds, int) else list(seeds)
    return [
        Task(target, name, config, float(kappa), int(seed), **task_options)
        for kappa in kappas
        for seed in seeds
        for name, config in learners.items()
    ]


@dataclass
class SweepResult:
    """The results of a sweep.

    Attributes:
        results: one :class:`TaskResult` per task, in the order of the tasks.
    """

    results: list[TaskResult]

    @property
    def table(self) -> pd.DataFrame:
        """Tidy table: columns ``d, learner, kappa, n, seed, diverged, metric, value``."""
        return pd.DataFrame([row for r in self.results for row in r.rows()])

    def summary(self, metric: str = "test_error") -> pd.DataFrame:
        """Median, quartiles and counts of ``metric`` over seeds, per learner and κ.

        Diverged runs are left out of the statistics and counted in ``diverged``.
        """
        table = self.table
        table = table[table.metric == metric]
        grouped = table.groupby(["learner", "kappa", "n"])
        ok = table[~table.diverged].groupby(["learner", "kappa", "n"]).value
        out = pd.DataFrame(
            {
                "median": ok.median(),
                "q25": ok.quantile(0.25),
                "q75": ok.quantile(0.75),
                "seeds": ok.count(),
            }
        )
        out["diverged"] = grouped.diverged.sum().reindex(out.index, fill_value=0).astype(int)
        return out.reset_index()

    def histories(self) -> pd.DataFrame:
        """Every checkpoint row of every task, with the task's learner, κ and seed."""
        rows = []
        for r in self.results:
            for row in r.history:
                rows.append(dict(learner=r.task.learner, kappa=r.task.kappa, n=r.task.n, seed=r.task.seed, **row))
        return pd.DataFrame(rows)


def run_sweep(tasks: Sequence[Task], progress: bool = True) -> SweepResult:
    """Run ``tasks`` one after the other, with a tqdm progress bar."""
    results = [run_task(task) for task in tqdm(tasks, desc="sweep", disable=not progress, leave=False)]
    return SweepResult(results)
