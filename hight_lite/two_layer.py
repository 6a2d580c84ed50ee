r"""Two-layer networks trained with the paper's numerical protocol.

The network is :math:`\hat f(x) = w_2 \cdot \mathrm{ReLU}(W_1 x + b_1)` with width ``p``.
Initialisation: :math:`W_1 \sim \mathcal{N}(0, 1/d)`, :math:`w_2 \sim \varepsilon_\mathrm{init}\,\mathcal{N}(0, 1/p)`,
fixed biases :math:`b_1 \sim U(-1, 1)`.

Training (the authors' ``TwoLayerNN``): for ``T = epochs`` "epochs", i.e. ``int(T / f)``
steps with a random fraction ``f`` of the ``n`` samples each, only :math:`W_1` moves:

.. math::
    W_1 \leftarrow W_1 - \eta\Big(\frac{\sqrt{p}}{\varepsilon_\mathrm{init}}\,\nabla_{W_1}\mathcal{L}_B + \lambda_1 W_1\Big),
    \qquad \mathcal{L}_B = \frac{1}{2|B|}\sum_{\mu \in B}\big(\hat f(x_\mu) - y_\mu\big)^2,

then :math:`w_2` is refit by ridge regression on the first-layer features,
:math:`(H^\top H + \lambda n I) w_2 = H^\top y`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from .layers import affine, relu_backward, rowwise_dot
from .metrics import first_layer_overlap, mse_per_seed
from .ridge import check_ridge, ridge_solve
from .targets import HierarchicalTarget, TargetSample
from .training import (
    DivergenceWatch,
    MinibatchStream,
    TrainingRecord,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_seed_batch,
    checkpoint_steps,
    gather_rows,
)


@dataclass(frozen=True)
class TwoLayerConfig:
    """Every constant of the two-layer protocol; defaults are the authors' code.

    Args:
        width: hidden width ``p``. The authors use ``int(p_1 / 15)`` with
            ``p_1 = int(n_max ** 0.9)`` (the appendix says ``p_1 / 25``); see :meth:`paper`.
        epochs: ``T``; the run takes ``int(T / batch_fraction)`` steps. Authors: ``int(5 d^1.5)``.
        lr: η (authors: 1).
        init_scale: ε_init, the scale of the readout at initialisation (authors: 0.2).
        weight_decay: λ₁ on :math:`W_1` (authors: 0.01 for the two-layer network).
        batch_fraction: fraction of the training set in each step's mini-batch (authors: 0.7).
        ridge: λ of the ridge readout (authors: 1).
        bias_range: first-layer biases are drawn from U(-bias_range, bias_range) (authors: 1).
        checkpoints: number of log-spaced checkpoints where losses and ``M_W`` are recorded.
    """

    width: int
    epochs: int
    lr: float = 1.0
    init_scale: float = 0.2
    weight_decay: float = 0.01
    batch_fraction: float = 0.7
    ridge: float = 1.0
    bias_range: float = 1.0
    checkpoints: int = 10

    def __post_init__(self) -> None:
        check_positive_int(self.width, "width")
        check_positive_int(self.epochs, "epochs", minimum=0)
        check_positive(self.lr, "lr")
        check_positive(self.init_scale, "init_scale")
        check_nonnegative(self.weight_decay, "weight_decay")
        check_fraction(self.batch_fraction, "batch_fraction")
        check_ridge(self.ridge)
        check_nonnegative(self.bias_range, "bias_range")
        check_positive_int(self.checkpoints, "checkpoints", minimum=2)

    @property
    def steps(self) -> int:
        """Number of gradient steps, ``int(epochs / batch_fraction)``."""
        return int(self.epochs / self.batch_fraction)

    @classmethod
    def paper(
        cls,
        d: int,
        n_max: int,
        width_exponent: float = 0.9,
        width_divisor: float = 15.0,
        epochs_coefficient: float = 5.0,
        **overrides,
    ) -> "TwoLayerConfig":
        """The authors' sizes: ``p = int(int(n_max**width_exponent) / width_divisor)``, ``T = int(5 d^1.5)``.

        ``width_exponent`` is ``1 - δ`` with the code's ``δ = 0.1``; the appendix's width is
        ``width_divisor=25``. ``n_max`` is the largest sample size of the sweep.
        """
        p1 = int(n_max**width_exponent)
        fields = dict(width=max(1, int(p1 / width_divisor)), epochs=int(epochs_coefficient * d**1.5))
        fields.update(overrides)
        return cls(**fields)


@dataclass
class TwoLayerNetwork:
    r""":math:`\hat f(x) = w_2\cdot\mathrm{ReLU}(W_1 x + b_1)`.

    Attributes:
        w1: ``(p, d)``; b1: ``(p,)``; w2: ``(p,)``.
    """

    w1: torch.Tensor
    b1: torch.Tensor
    w2: torch.Tensor

    @classmethod
    def stack(cls, networks) -> "TwoLayerNetwork":
        """Networks of several seeds stacked along a leading dimension (``w1`` becomes ``(S, p, d)``)."""
        networks = list(networks)
        return cls(*(torch.stack([getattr(net, k) for net in networks]) for k in ("w1", "b1", "w2")))

    def select(self, index: int) -> "TwoLayerNetwork":
        """Seed ``index`` of a stacked network."""
        return TwoLayerNetwork(self.w1[index], self.b1[index], self.w2[index])

    @classmethod
    def init(cls, d: int, config: TwoLayerConfig, generator: torch.Generator, device=None, dtype=torch.float32):
        """The authors' initialisation, drawn from ``generator`` (on its device), moved to ``device``."""
        g_dev = generator.device
        p = config.width
        w1 = torch.randn(p, d, generator=generator, device=g_dev, dtype=dtype) / math.sqrt(d)
        w2 = config.init_scale * torch.randn(p, generator=generator, device=g_dev, dtype=dtype) / math.sqrt(p)
        b1 = config.bias_range * (2 * torch.rand(p, generator=generator, device=g_dev, dtype=dtype) - 1)
        device = device if device is not None else g_dev
        return cls(w1.to(device), b1.to(device), w2.to(device))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """First-layer activations ``ReLU(x W1ᵀ + b1)``, ``(..., n, p)`` for ``x`` ``(..., n, d)``."""
        return affine(x, self.w1, self.b1).relu_()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions ``(..., n)`` for ``x`` ``(..., n, d)``."""
        return rowwise_dot(self.features(x), self.w2)


def first_layer_gradient(net: TwoLayerNetwork, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\nabla_{W_1}` of :math:`\frac{1}{2m}\sum(\hat f - y)^2` on a batch ``x`` ``(..., m, d)``, and the loss ``2·L``.

    Hand-written (no autograd graph): :math:`\nabla_{W_1} = \frac1m \big[(e\,w_2^\top)\odot \mathbb{1}[W_1x+b_1>0]\big]^\top X`
    with :math:`e = \hat f - y`. Leading dimensions (seeds) are independent problems.
    Returns ``(gradient (..., p, d), mean squared error (...))``.
    """
    h = net.features(x)
    error = rowwise_dot(h, net.w2) - y
    grad_pre = relu_backward(error.unsqueeze(-1) * net.w2.unsqueeze(-2), h)
    return (grad_pre.mT @ x).div_(x.shape[-2]), (error**2).mean(-1)


@dataclass
class TwoLayerResult:
    """A trained two-layer network and what happened while training it."""

    network: TwoLayerNetwork
    record: TrainingRecord
    config: TwoLayerConfig

    @property
    def diverged(self) -> bool:
        return self.record.diverged


@torch.no_grad()
def train_two_layer(
    train: TargetSample,
    config: TwoLayerConfig,
    generator: torch.Generator,
    target: HierarchicalTarget | None = None,
    validation: TargetSample | None = None,
) -> TwoLayerResult:
    """Train a two-layer network on ``train`` with the paper's protocol (see the module docs).

    Args:
        train: the ``n`` training samples (their device and dtype are used throughout).
        config: a :class:`TwoLayerConfig`.
        generator: draws the initialisation, biases and mini-batches.
        target: if given, ``M_W`` (per branch) is recorded at every checkpoint.
        validation: if given, its loss is recorded at every checkpoint.

    Returns:
        A :class:`TwoLayerResult`. If a loss becomes NaN or infinite, training stops, the
        record says so (stage and step) and the readout is not fitted.

    This is :func:`train_two_layer_batch` with one seed.
    """
    return train_two_layer_batch(
        [train], config, [generator], None if target is None else [target], None if validation is None else [validation]
    )[0]


@torch.no_grad()
def train_two_layer_batch(
    train: Sequence[TargetSample],
    config: TwoLayerConfig,
    generators: Sequence[torch.Generator],
    targets: Sequence[HierarchicalTarget] | None = None,
    validation: Sequence[TargetSample] | None = None,
) -> list[TwoLayerResult]:
    """Train ``S`` independent two-layer networks (one per seed) as one batched computation.

    Seed ``s`` trains on ``train[s]`` with randomness from ``generators[s]``; its result is
    the one :func:`train_two_layer` gives for that seed alone (batched matrix products
    over a leading seed dimension fill the hardware when each problem is small). All
    samples must share ``n``, ``d``, dtype and device. A seed whose loss diverges stops
    being recorded (its record says where); the others go on.
    """
    seeds = len(train)
    check_seed_batch(train, generators, targets, validation)
    stacked = TargetSample.stack(train)
    x, y = stacked.x, stacked.y  # (S, n, d), (S, n)
    val = TargetSample.stack(validation) if validation is not None else None
    teacher = torch.stack([t.teacher for t in targets]) if targets is not None else None
    n, d = x.shape[-2:]
    net = TwoLayerNetwork.stack(
        TwoLayerNetwork.init(d, config, g, device=x.device, dtype=x.dtype) for g in generators
    )
    records = [TrainingRecord() for _ in range(seeds)]
    alive = [True] * seeds
    batch = max(1, int(n * config.batch_fraction))
    scale = math.sqrt(config.width) / config.init_scale
    checkpoints = set(checkpoint_steps(config.steps, config.checkpoints))
    watch = DivergenceWatch(x.device, seeds)
    stream = MinibatchStream(n, batch, generators, x.device, config.steps)

    def log(stage: str, step: int) -> bool:
        columns = {"train_loss": mse_per_seed(net(x), y)}
        if val is not None:
            columns["validation_loss"] = mse_per_seed(net(val.x), val.y)
        if teacher is not None:
            overlaps = first_layer_overlap(net.w1, teacher, targets[0].config.branches)  # (S, r)
            columns.update({f"overlap_W_{m}": overlaps[:, m] for m in range(overlaps.shape[1])})
        table = torch.stack(list(columns.values()), dim=1).tolist()  # (S, metrics), one sync
        bad = watch.first_bad_steps
        for s in range(seeds):
            if not alive[s]:
                continue
            row = dict(stage=stage, step=step, epoch=step * config.batch_fraction, **dict(zip(columns, table[s])))
            records[s].add(**row)
            if bad[s] is not None or not math.isfinite(row["train_loss"]):
                records[s].mark_diverged(stage, bad[s] if bad[s] is not None else step)
                alive[s] = False
        return any(alive)

    for step in range(config.steps + 1):
        if step in checkpoints and not log("first layer", step):
            break
        if step == config.steps:
            break
        idx = stream.next()
        grad, loss = first_layer_gradient(net, gather_rows(x, idx), gather_rows(y, idx))
        watch.update(step, loss)
        net.w1.sub_(config.lr * (scale * grad + config.weight_decay * net.w1))

    if any(alive):
        keep = torch.tensor(alive, device=x.device)[:, None, None]
        features = torch.where(keep, net.features(x), torch.zeros((), dtype=x.dtype, device=x.device))
        net.w2 = ridge_solve(features, y, config.ridge)
        log("readout", config.steps)
    return [TwoLayerResult(net.select(s), records[s], config) for s in range(seeds)]
