r"""What a sweep task costs: its floating-point work counted from the shapes, and the machine's matmul rate.

Every learner of :mod:`hight_lite` spends its time in matrix products. A product of an
``(M × K)`` matrix by a ``(K × N)`` one costs :math:`2MKN` flops (one multiply and one add
per term); factorisations are counted separately (Cholesky :math:`p^3/3`, a triangular
solve pair :math:`2p^2`, the teacher's QR :math:`2dD^2`). Element-wise work (ReLU, masks,
Hermite polynomials, the mini-batch gather) is not counted: it is memory traffic, not
arithmetic. It is what separates the achieved rate from the matmul limit in the benchmarks
(``benchmarks/README.md``); :mod:`hight_lite.layers` keeps it to as few passes as it can.

Notation for a task: ``n`` training samples, ``m = max(1, ⌊f n⌋)`` per mini-batch (f = 0.7),
``d`` inputs, ``D = r ⌊d^{ε₁}⌋`` teacher directions, ``p`` (two-layer) or ``p₁, p₂``
(three-layer) hidden units, ``n_v`` validation and ``n_t`` test points, ``n_π = 1000``
probe inputs for :math:`M_h`, ``S = ⌊T/f⌋`` steps for ``T`` epochs and ``C`` checkpoints
(``len(checkpoint_steps(S, checkpoints))``). Per gradient step:

=================  ============================================================
two-layer          :math:`4mdp + 2mp`
layerwise, stage 1 :math:`4mdp_1 + 4mp_1p_2 + 2mp_2`
layerwise, stage 2 :math:`4mp_1p_2 + 2mp_2` (first-layer features computed once, :math:`2ndp_1`)
joint              :math:`4mdp_1 + 6mp_1p_2 + 4mp_2`
=================  ============================================================

(forward products, the back-propagated error through :math:`W_2`, and one product per
trained weight matrix). A checkpoint evaluates the network on the training and validation
sets, :math:`M_W` (:math:`2p_1dD`) and, for three layers, the second-layer pre-activations on
the probe. The kernel costs :math:`2nD_2^2 + D_2^3/3` in the primal (features of dimension
:math:`D_2 = 1 + d + d(d+1)/2`, when ``n > D₂``) and :math:`2n^2d + n^3/3` in the dual.

Drawing the data costs :math:`2(n + n_v + n_t)dD` (:math:`h_1 = W^\star x`).

The model counts what the package's code does (``hight_lite/{kernels,two_layer,three_layer}.py``);
``tests/test_costs.py`` checks it against ``torch.utils.flop_counter.FlopCounterMode``.
A batched run of ``S`` seeds does ``S`` times the work of one. :func:`matmul_gflops` measures
the rate ``torch.matmul`` reaches on one shape: the limit the benchmarks and chapter 11
compare training with.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field

import pandas as pd
import torch

from .kernels import KernelConfig
from .sweep import Task
from .three_layer import LayerwiseConfig, train_layerwise
from .training import checkpoint_steps
from .two_layer import TwoLayerConfig

__all__ = ["FlopCount", "Product", "matmul_gflops", "task_flops", "tasks_table"]


@dataclass(frozen=True)
class Product:
    """``count`` matrix products ``(M × K) @ (K × N)`` made at every training step."""

    M: int
    K: int
    N: int
    count: int = 1

    @property
    def flops(self) -> float:
        return 2.0 * self.M * self.K * self.N * self.count

    @property
    def is_vector(self) -> bool:
        """A matrix-vector product (torch may run it as ``mv``, which its flop counter skips)."""
        return self.N == 1 or self.M == 1


@dataclass
class FlopCount:
    """The work of one task, in flops, by where it is spent.

    Attributes:
        steps: matrix products of the gradient steps (the training loops).
        checkpoints: matrix products of the checkpoints (losses and overlaps).
        other: the remaining products (data, frozen features, readouts, test predictions).
        solve: factorisations and triangular solves (not matrix products).
        vector: the part of ``steps + checkpoints + other`` made of matrix-vector products.
        step_products: the products of one gradient step, per stage: ``{stage: (steps, [Product])}``.
    """

    steps: float = 0.0
    checkpoints: float = 0.0
    other: float = 0.0
    solve: float = 0.0
    vector: float = 0.0
    step_products: dict = field(default_factory=dict)

    @property
    def matmul(self) -> float:
        """All matrix products (matrix-matrix and matrix-vector)."""
        return self.steps + self.checkpoints + self.other

    @property
    def total(self) -> float:
        return self.matmul + self.solve

    def add(self, part: str, products) -> None:
        for p in products:
            setattr(self, part, getattr(self, part) + p.flops)
            if p.is_vector:
                self.vector += p.flops


def _n_probe() -> int:
    return int(inspect.signature(train_layerwise).parameters["n_probe"].default)


def _checkpoint_count(steps: int, count: int) -> int:
    return len(checkpoint_steps(steps, count))


def _batch(n: int, fraction: float) -> int:
    return max(1, int(n * fraction))


def _three_layer_forward(rows: int, d: int, p1: int, p2: int, features_known: bool = False) -> list[Product]:
    """Predictions on ``rows`` inputs (first layer skipped if its features are known)."""
    out = [] if features_known else [Product(rows, d, p1)]
    return out + [Product(rows, p1, p2), Product(rows, p2, 1)]


def _three_layer_log(task: Task, n: int, features_known: bool) -> list[Product]:
    """One checkpoint of :func:`train_layerwise` / :func:`hl.train_joint`."""
    cfg, d, dim = task.config, task.target.d, task.target.total_widths[0]
    p1, p2, probe = cfg.width1, cfg.width2, _n_probe()
    return (
        _three_layer_forward(n, d, p1, p2, features_known)                 # training loss
        + _three_layer_forward(task.n_validation, d, p1, p2)               # validation loss
        + [Product(p1, d, dim)]                                            # M_W
        + [Product(probe, d, p1), Product(probe, p1, p2)]                  # probe pre-activations
        + [Product(p2, probe, task.target.branches)]                       # M_h
    )


def task_flops(task: Task) -> FlopCount:
    """The flops of :func:`~hight_lite.sweep.run_task` on ``task`` (one seed), by part (see the module docs)."""
    cfg, d, n = task.config, task.target.d, task.n
    dim = task.target.total_widths[0]
    out = FlopCount()
    samples = n + task.n_validation + task.n_test
    if task.fresh_data:
        samples += 2 * n
    out.add("other", [Product(samples, d, dim)])
    out.solve += 2.0 * d * dim**2                                          # QR of the teacher

    if isinstance(cfg, KernelConfig):
        primal = cfg.solver == "primal" or (cfg.solver == "auto" and cfg.has_primal and n > cfg.feature_dimension(d))
        if primal:
            big = cfg.feature_dimension(d)
            out.add("other", [Product(big, n, big), Product(big, n, 1), Product(task.n_test, big, 1)])
            out.solve += big**3 / 3 + 2.0 * big**2
        else:
            out.add("other", [Product(n, d, n), Product(task.n_test, d, n), Product(task.n_test, n, 1)])
            out.solve += n**3 / 3 + 2.0 * n**2
        return out

    f = cfg.batch_fraction
    m = _batch(n, f)
    if isinstance(cfg, TwoLayerConfig):
        p = cfg.width
        steps = cfg.steps
        per_step = [Product(m, d, p), Product(m, p, 1), Product(p, m, d)]
        out.step_products["first layer"] = (steps, per_step)
        out.add("steps", [Product(x.M, x.K, x.N, steps) for x in per_step])
        log = [Product(n, d, p), Product(n, p, 1), Product(task.n_validation, d, p), Product(task.n_validation, p, 1),
               Product(p, d, dim)]
        logs = _checkpoint_count(steps, cfg.checkpoints) + 1              # + the log after the readout
        out.add("checkpoints", [Product(x.M, x.K, x.N, logs) for x in log])
        out.add("other", [Product(n, d, p), Product(p, n, p), Product(p, n, 1)])   # ridge readout
        out.solve += p**3 / 3 + 2.0 * p**2
        out.add("other", [Product(task.n_test, d, p), Product(task.n_test, p, 1)])
        return out

    p1, p2 = cfg.width1, cfg.width2
    probe = _n_probe()
    out.add("other", [Product(probe, d, dim)])                            # the probe's inputs
    if isinstance(cfg, LayerwiseConfig):
        steps1, steps2 = int(cfg.epochs1 / f), int(cfg.epochs2 / f)
        stage1 = [Product(m, d, p1), Product(m, p1, p2), Product(m, p2, 1), Product(m, p2, p1), Product(p1, m, d)]
        stage2 = [Product(m, p1, p2), Product(m, p2, 1), Product(p2, m, p1)]
        out.step_products["first layer"] = (steps1, stage1)
        out.step_products["second layer"] = (steps2, stage2)
        out.add("steps", [Product(x.M, x.K, x.N, steps1) for x in stage1])
        out.add("steps", [Product(x.M, x.K, x.N, steps2) for x in stage2])
        logs1 = _checkpoint_count(steps1, cfg.checkpoints)
        logs2 = _checkpoint_count(steps2, cfg.checkpoints)
        out.add("checkpoints", [Product(x.M, x.K, x.N, logs1 + 1) for x in _three_layer_log(task, n, False)])
        out.add("checkpoints", [Product(x.M, x.K, x.N, logs2) for x in _three_layer_log(task, n, True)])
        out.add("other", [Product(n, d, p1)])                             # frozen features, once
        out.add("other", _three_layer_forward(n, d, p1, p2)[:2] + [Product(p2, n, p2), Product(p2, n, 1)])  # ridge
        out.solve += p2**3 / 3 + 2.0 * p2**2
    else:
        steps = int(cfg.epochs / f)
        joint = [Product(m, d, p1), Product(m, p1, p2), Product(m, p2, 1), Product(p2, m, 1), Product(p2, m, p1),
                 Product(m, p2, p1), Product(p1, m, d)]
        out.step_products["joint"] = (steps, joint)
        out.add("steps", [Product(x.M, x.K, x.N, steps) for x in joint])
        logs = _checkpoint_count(steps, cfg.checkpoints)
        out.add("checkpoints", [Product(x.M, x.K, x.N, logs) for x in _three_layer_log(task, n, False)])
    out.add("other", _three_layer_forward(task.n_test, d, p1, p2))       # test error
    return out


def tasks_table(tasks) -> pd.DataFrame:
    """One row per task: learner, κ, n, seed and its flops by part (columns ``steps ... total``)."""
    rows = []
    for t in tasks:
        c = task_flops(t)
        rows.append(dict(d=t.target.d, learner=t.learner, kappa=t.kappa, n=t.n, seed=t.seed, steps=c.steps,
                         checkpoints=c.checkpoints, other=c.other, solve=c.solve, matmul=c.matmul, total=c.total))
    return pd.DataFrame(rows)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_gflops(
    M: int, K: int, N: int, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
    repeats: int = 5, seconds: float = 0.05,
) -> float:
    """Best measured GFLOP/s of ``torch.matmul`` on ``(M × K) @ (K × N)``, with this process's threads.

    Each of ``repeats`` timings runs the product for about ``seconds``; the best is kept
    (the least disturbed by other work on the machine).
    """
    for name, value in (("M", M), ("K", K), ("N", N), ("repeats", repeats)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    device = torch.device(device)
    a = torch.randn(M, K, device=device, dtype=dtype)
    b = torch.randn(K, N, device=device, dtype=dtype)
    out = torch.empty(M, N, device=device, dtype=dtype)
    torch.matmul(a, b, out=out)  # warm-up
    _synchronize(device)
    start = time.perf_counter()
    torch.matmul(a, b, out=out)
    _synchronize(device)
    once = max(time.perf_counter() - start, 1e-7)
    iterations = max(1, min(10_000, int(seconds / once)))
    best = float("inf")
    for _ in range(repeats):
        _synchronize(device)
        start = time.perf_counter()
        for _ in range(iterations):
            torch.matmul(a, b, out=out)
        _synchronize(device)
        best = min(best, (time.perf_counter() - start) / iterations)
    return 2.0 * M * K * N / best / 1e9
