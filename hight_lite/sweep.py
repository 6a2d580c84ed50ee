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

import concurrent.futures
import contextlib
import dataclasses
import functools
import hashlib
import json
import math
import multiprocessing
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence, Union

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .kernels import KernelConfig, fit_kernel_ridge
from .metrics import mse
from .targets import TargetConfig, integer_power
from .three_layer import JointConfig, LayerwiseConfig, train_joint_batch, train_layerwise_batch
from .two_layer import TwoLayerConfig, train_two_layer_batch

LearnerConfig = Union[KernelConfig, TwoLayerConfig, LayerwiseConfig, JointConfig]
_LEARNER_TYPES = (KernelConfig, TwoLayerConfig, LayerwiseConfig, JointConfig)

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
        fresh_data: layerwise only: each of the three stages gets its own ``n`` fresh
            samples instead of reusing one training set (the data-reuse ablation).
        dtype: ``"float32"`` (default) or ``"float64"``.
        device: where the computation runs (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...).
        tf32: allow TensorFloat-32 matrix products (CUDA only; faster, about 3 digits).
    """

    target: TargetConfig
    learner: str
    config: LearnerConfig
    kappa: float
    seed: int
    n_validation: int = 1000
    n_test: int = 1000
    fresh_data: bool = False
    dtype: str = "float32"
    device: str = "cpu"
    tf32: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.config, _LEARNER_TYPES):
            names = ", ".join(t.__name__ for t in _LEARNER_TYPES)
            raise ValueError(f"config must be one of {names}, got {type(self.config).__name__}")
        if self.fresh_data and not isinstance(self.config, LayerwiseConfig):
            raise ValueError("fresh_data applies to layerwise training only (a LayerwiseConfig)")
        if not 0 < self.kappa < 10:
            raise ValueError(f"kappa must lie in (0, 10), got {self.kappa!r}")
        if self.tf32 and not str(self.device).startswith("cuda"):
            raise ValueError(f"tf32 applies to CUDA devices only, got device={self.device!r}")
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
            seed=self.task.seed, diverged=self.diverged, seconds=self.seconds,
        )
        metrics = {"test_error": self.test_error, **self.overlaps}
        return [dict(base, metric=k, value=float(v)) for k, v in metrics.items()]


def run_task(task: Task) -> TaskResult:
    """Draw the teacher and data for ``task``, train its learner, and measure it."""
    return run_task_group([task])[0]


def _group_key(task: Task) -> str:
    """Tasks with the same key differ only in their seed and can be trained as one batch."""
    return repr(dataclasses.replace(task, seed=0))


def run_task_group(tasks: Sequence[Task]) -> list[TaskResult]:
    """Run tasks that differ only in their seed, training all seeds as one batched computation.

    Each seed gets exactly the teacher, data and learner randomness :func:`run_task` would
    give it (see the module docs), so the results equal those of running the tasks one by
    one; what changes is that the seeds' matrix products are batched. Kernels are fitted
    seed by seed. ``seconds`` of each result is the group's wall time divided by its size.
    """
    tasks = list(tasks)
    if not tasks:
        return []
    if len({_group_key(t) for t in tasks}) != 1:
        raise ValueError("run_task_group needs tasks that differ only in their seed")
    task0 = tasks[0]
    start = time.perf_counter()
    dtype = _DTYPES[task0.dtype]
    n = task0.n
    targets, trains, validations, tests, learner_gens = [], [], [], [], []
    with _tf32(task0.tf32):
        for task in tasks:
            target = task.target.build(seeded_generator(task.seed, 0), device=task.device, dtype=dtype)
            data_gen = seeded_generator(task.seed, n, 1)
            train = target.sample(n, data_gen)
            validations.append(target.sample(task.n_validation, data_gen))
            tests.append(target.sample(task.n_test, data_gen))
            if task.fresh_data:
                train = (train, target.sample(n, data_gen), target.sample(n, data_gen))
            targets.append(target)
            trains.append(train)
            learner_gens.append(seeded_generator(task.seed, n, 2))

        config = task0.config
        if isinstance(config, KernelConfig):
            errors = []
            for train, test in zip(trains, tests):
                model = fit_kernel_ridge(train.x, train.y, config)
                errors.append(mse(model.predict(test.x), test.y))
            seconds = (time.perf_counter() - start) / len(tasks)
            return [TaskResult(task, error, seconds=seconds) for task, error in zip(tasks, errors)]

        if isinstance(config, TwoLayerConfig):
            runs = train_two_layer_batch(trains, config, learner_gens, targets=targets, validation=validations)
        elif isinstance(config, LayerwiseConfig):
            runs = train_layerwise_batch(trains, config, learner_gens, targets=targets, validation=validations)
        else:
            runs = train_joint_batch(trains, config, learner_gens, targets=targets, validation=validations)
        test_errors = [math.nan if run.record.diverged else mse(run.network(test.x), test.y) for run, test in zip(runs, tests)]
    seconds = (time.perf_counter() - start) / len(tasks)
    out = []
    for task, run, error in zip(tasks, runs, test_errors):
        record = run.record
        overlaps = {k: v for k, v in record.rows[-1].items() if k.startswith("overlap_")} if record.rows else {}
        out.append(TaskResult(
            task, error, record.diverged, record.diverged_stage, record.diverged_step, overlaps, record.rows, seconds,
        ))
    return out


@contextlib.contextmanager
def _tf32(enabled: bool):
    """Allow TF32 matrix products on CUDA inside the block when ``enabled`` (restored afterwards)."""
    if not enabled:
        yield
        return
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous


def group_tasks(tasks: Sequence[Task], max_seeds: int | None = None) -> list[list[int]]:
    """Indices of ``tasks`` grouped into batches that differ only in the seed (at most ``max_seeds`` each)."""
    groups: dict[str, list[int]] = {}
    for i, task in enumerate(tasks):
        groups.setdefault(_group_key(task), []).append(i)
    out = []
    for members in groups.values():
        size = max_seeds or len(members)
        out += [members[k : k + size] for k in range(0, len(members), size)]
    return out


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
        """Tidy table: columns ``d, learner, kappa, n, seed, diverged, seconds, metric, value``."""
        return pd.DataFrame([row for r in self.results for row in r.rows()])

    def summary(self, metric: str = "test_error") -> pd.DataFrame:
        """Median, quartiles and counts of ``metric`` over seeds, per learner and κ.

        Diverged runs are left out of the statistics and counted in ``diverged``.
        """
        table = self.table
        table = table[table.metric == metric]
        keys = ["learner", "kappa", "n"]
        ok = table[~table.diverged].groupby(keys).value
        out = pd.DataFrame(index=table.groupby(keys).size().index)
        out["median"] = ok.median()
        out["q25"] = ok.quantile(0.25)
        out["q75"] = ok.quantile(0.75)
        out["seeds"] = ok.count().reindex(out.index, fill_value=0).astype(int)
        out["diverged"] = table.groupby(keys).diverged.sum().astype(int)
        return out.reset_index()

    def histories(self) -> pd.DataFrame:
        """Every checkpoint row of every task, with the task's learner, κ and seed."""
        rows = []
        for r in self.results:
            for row in r.history:
                rows.append(dict(learner=r.task.learner, kappa=r.task.kappa, n=r.task.n, seed=r.task.seed, **row))
        return pd.DataFrame(rows)


CACHE_ENV_VAR = "HIGHT_LITE_CACHE"


def default_cache_dir() -> Path:
    """Where chapters cache sweeps: ``$HIGHT_LITE_CACHE``, else ``~/.cache/hight_lite``."""
    return Path(os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "hight_lite")


@functools.lru_cache(maxsize=1)
def _source_digest() -> str:
    """A hash of the package's source files: results computed by other code are never reused."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def task_key(task: Task) -> str:
    """A stable hash of the task's full configuration, the package version and its source (the cache key)."""
    from . import __version__

    return hashlib.sha256(f"{__version__}|{_source_digest()}|{task!r}".encode()).hexdigest()[:32]


def _result_to_json(result: TaskResult) -> dict:
    return dict(
        task=repr(result.task), test_error=result.test_error, diverged=result.diverged,
        diverged_stage=result.diverged_stage, diverged_step=result.diverged_step,
        overlaps=result.overlaps, history=result.history, seconds=result.seconds,
    )


def _result_from_json(task: Task, data: dict) -> TaskResult:
    if data.get("task") != repr(task):
        raise ValueError("the cached result belongs to another task")
    return TaskResult(
        task, float(data["test_error"]), bool(data["diverged"]), data["diverged_stage"], data["diverged_step"],
        dict(data["overlaps"]), list(data["history"]), float(data["seconds"]),
    )


class ResultCache:
    """One JSON file per finished task under ``folder``, keyed by :func:`task_key`.

    Files are written atomically (a temporary file, then a rename), so an interrupted
    sweep leaves only whole results behind. A file that cannot be read back is reported
    with a warning and its task is computed again.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, task: Task) -> Path:
        return self.folder / f"{task_key(task)}.json"

    def load(self, task: Task) -> TaskResult | None:
        path = self.path(task)
        if not path.exists():
            return None
        try:
            return _result_from_json(task, json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            warnings.warn(f"corrupt cache file {path} ({exc}); computing the task again", RuntimeWarning, stacklevel=2)
            return None

    def save(self, result: TaskResult) -> None:
        path = self.path(result.task)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=path.stem, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(_result_to_json(result), handle)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def run_sweep(
    tasks: Sequence[Task],
    cache_dir: str | os.PathLike | None = None,
    executor=None,
    progress: bool = True,
    batch_seeds: bool | int | None = None,
) -> SweepResult:
    """Run ``tasks`` and collect their results, in task order.

    Args:
        tasks: from :func:`make_tasks`, or any list of :class:`Task`.
        cache_dir: if given, each finished task is saved there at once and tasks already
            saved are not run again: an interrupted sweep resumes, a finished one returns
            immediately.
        executor: ``None`` runs the tasks here, one after the other. Otherwise any object
            with ``submit(fn, *args)`` returning a future with ``result()``: a
            :class:`concurrent.futures.ProcessPoolExecutor` (see :func:`process_pool`), a
            Dask ``Client.get_executor()``, or a submitit executor (SLURM).
        progress: show a tqdm progress bar over the tasks.
        batch_seeds: ``True`` trains the seeds of each sweep cell (tasks that differ only in
            the seed) as one batched computation (:func:`run_task_group`); an integer caps
            the seeds per batch (memory grows with it); ``False`` runs every task alone.
            ``None`` (the default) batches the tasks that run on a GPU, where batching is
            what fills the device, and runs CPU tasks alone. With one CPU thread the numbers
            are bitwise the same either way; with several, the BLAS may split a batched
            product's sums differently from a single one, so float32 results can differ in
            the last bits (and training amplifies that). The CPU default keeps every seed's
            numbers those of a single run, whatever the thread count.
    """
    tasks = list(tasks)
    if batch_seeds is None or isinstance(batch_seeds, bool):
        max_seeds = None if batch_seeds else 1
    elif isinstance(batch_seeds, int) and batch_seeds >= 1:
        max_seeds = batch_seeds
    else:
        raise ValueError(f"batch_seeds must be None, True, False or an integer >= 1, got {batch_seeds!r}")
    cache = ResultCache(cache_dir) if cache_dir is not None else None
    results: list[TaskResult | None] = [cache.load(t) if cache else None for t in tasks]
    todo = [i for i, r in enumerate(results) if r is None]
    if batch_seeds is None:  # batch on GPUs, one task at a time on CPUs
        on_gpu = [i for i in todo if str(tasks[i].device).startswith("cuda")]
        on_cpu = [i for i in todo if not str(tasks[i].device).startswith("cuda")]
        parts = [(on_gpu, None), (on_cpu, 1)]
    else:
        parts = [(todo, max_seeds)]
    groups = [[part[k] for k in group] for part, cap in parts for group in group_tasks([tasks[i] for i in part], cap)]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="sweep", disable=not progress, leave=False)

    def finish(group: list[int], group_results: list[TaskResult]) -> None:
        for i, result in zip(group, group_results):
            results[i] = result
            if cache is not None:
                cache.save(result)
        bar.update(len(group))

    try:
        if executor is None:
            for group in groups:
                finish(group, run_task_group([tasks[i] for i in group]))
        else:
            futures = {executor.submit(run_task_group, [tasks[i] for i in group]): k for k, group in enumerate(groups)}
            if all(isinstance(f, concurrent.futures.Future) for f in futures):
                for future in concurrent.futures.as_completed(futures):
                    finish(groups[futures[future]], future.result())
            else:
                for future, k in futures.items():
                    finish(groups[k], future.result())
    finally:
        bar.close()
    return SweepResult(results)  # type: ignore[arg-type]


def _limit_threads(threads: int) -> None:
    torch.set_num_threads(threads)


def process_pool(workers: int | None = None, threads_per_worker: int | None = None) -> concurrent.futures.ProcessPoolExecutor:
    """A process pool for :func:`run_sweep` whose workers split the machine's cores between them.

    Workers are started with ``spawn`` (safe with torch's thread pools) and each uses
    ``threads_per_worker`` threads (default: cores // workers).
    """
    cores = os.cpu_count() or 1
    workers = workers or cores
    threads = threads_per_worker or max(1, cores // workers)
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_limit_threads, initargs=(threads,),
    )


def standard_learners(d: int, kappas: Sequence[float], epochs_coefficient: float = 5.0) -> dict[str, LearnerConfig]:
    """The paper's four learners, sized for the largest ``n = ⌊d^κ⌋`` of the sweep.

    ``kernel`` (quadratic, λ = 1), ``two-layer`` (``p1 / 15`` wide), ``layerwise`` and ``joint``
    three-layer networks (``p1 = ⌊n_max^0.9⌋``, ``p2 = 100``); training lasts
    ``int(epochs_coefficient · d^1.5)`` epochs.
    """
    n_max = integer_power(d, max(kappas))
    return {
        "kernel": KernelConfig(),
        "two-layer": TwoLayerConfig.paper(d, n_max, epochs_coefficient=epochs_coefficient),
        "layerwise": LayerwiseConfig.paper(d, n_max, epochs_coefficient=epochs_coefficient),
        "joint": JointConfig.paper(d, n_max, epochs_coefficient=epochs_coefficient),
    }
