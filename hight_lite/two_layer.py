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

import torch

from .metrics import first_layer_overlap, mse
from .ridge import check_ridge, ridge_solve
from .targets import HierarchicalTarget, TargetSample
from .training import (
    DivergenceWatch,
    TrainingRecord,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_positive_int,
    checkpoint_steps,
    minibatch_indices,
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
        """First-layer activations ``ReLU(x W1ᵀ + b1)``, ``(n, p)``."""
        return torch.relu(x @ self.w1.T + self.b1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions ``(n,)`` for ``x`` ``(n, d)``."""
        return self.features(x) @ self.w2


def first_layer_gradient(net: TwoLayerNetwork, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\nabla_{W_1}` of :math:`\frac{1}{2m}\sum(\hat f - y)^2` on a batch ``x`` ``(m, d)``, and the loss ``2·L``.

    Hand-written (no autograd graph): :math:`\nabla_{W_1} = \frac1m \big[(e\,w_2^\top)\odot \mathbb{1}[W_1x+b_1>0]\big]^\top X`
    with :math:`e = \hat f - y`. Returns ``(gradient (p, d), mean squared error ())``.
    """
    pre = x @ net.w1.T + net.b1
    error = torch.relu(pre) @ net.w2 - y
    grad_pre = (error[:, None] * net.w2) * (pre > 0)
    return grad_pre.T @ x / x.shape[0], (error**2).mean()


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
    """
    x, y = train.x, train.y
    n, d = x.shape
    net = TwoLayerNetwork.init(d, config, generator, device=x.device, dtype=x.dtype)
    record = TrainingRecord()
    batch = max(1, int(n * config.batch_fraction))
    scale = math.sqrt(config.width) / config.init_scale
    checkpoints = set(checkpoint_steps(config.steps, config.checkpoints))
    watch = DivergenceWatch(x.device)

    def log(stage: str, step: int) -> bool:
        row = dict(stage=stage, step=step, epoch=step * config.batch_fraction, train_loss=mse(net(x), y))
        if validation is not None:
            row["validation_loss"] = mse(net(validation.x), validation.y)
        if target is not None:
            for m, value in enumerate(first_layer_overlap(net.w1, target.teacher, target.config.branches).tolist()):
                row[f"overlap_W_{m}"] = value
        record.add(**row)
        bad = watch.first_bad_step
        if bad is not None or not math.isfinite(row["train_loss"]):
            record.mark_diverged(stage, bad if bad is not None else step)
            return False
        return True

    for step in range(config.steps + 1):
        if step in checkpoints and not log("first layer", step):
            return TwoLayerResult(net, record, config)
        if step == config.steps:
            break
        idx = minibatch_indices(n, batch, generator, x.device)
        grad, loss = first_layer_gradient(net, x[idx], y[idx])
        watch.update(step, loss)
        net.w1.sub_(config.lr * (scale * grad + config.weight_decay * net.w1))

    net.w2 = ridge_solve(net.features(x), y, config.ridge)
    log("readout", config.steps)
    return TwoLayerResult(net, record, config)

