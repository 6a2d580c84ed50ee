r"""Three-layer networks trained layer by layer or jointly, with the paper's numerical protocol.

The network is :math:`\hat f(x) = w_3\cdot\mathrm{ReLU}\big(W_2\,\mathrm{ReLU}(W_1 x + b_1) + b_2\big)`,
with widths ``p1`` and ``p2``. Initialisation (the authors' ``ThreeLayerNN``):
:math:`W_1 \sim \mathcal{N}(0, 1/d)`, :math:`W_2 \sim \varepsilon\,\mathcal{N}(0, 1/p_1)`,
:math:`w_3 \sim \varepsilon\,\mathcal{N}(0, 1/p_2)`, fixed biases :math:`b_1 \sim U(-1, 1)` and
:math:`b_2 \sim \varepsilon\,U(-1, 1)`, with :math:`\varepsilon = \varepsilon_\mathrm{init} = 0.2`.

All gradients are of :math:`\mathcal{L} = \frac{1}{2}\sum_{\mu\in B}(\hat f(x_\mu) - y_\mu)^2 / N`
on a random mini-batch ``B`` holding a fraction ``f = 0.7`` of the ``n`` samples. The
authors normalise :math:`\nabla W_1` by the batch size, :math:`N = |B|`, but
:math:`\nabla W_2` and :math:`\nabla w_3` by the full training set, :math:`N = n` (an effective
step ``f`` times smaller). ``gradient_normalization="reference"`` (the default) reproduces
that; ``"minibatch"`` uses :math:`N = |B|` everywhere.

**Layerwise** (:func:`train_layerwise`), ``T`` epochs meaning ``int(T / f)`` steps:

1. :math:`W_1 \leftarrow W_1 - \eta\big(\tfrac{\sqrt{p_1}}{\varepsilon^2}\nabla_{W_1}\mathcal{L} + \lambda_1 W_1\big)` for ``T1 = int(15 ln d)`` epochs;
2. :math:`W_2 \leftarrow W_2 - c_2\,\eta\big(\tfrac{\sqrt{p_2}}{\varepsilon\,p_1}\nabla_{W_2}\mathcal{L} + \tfrac{\lambda_2}{d^{3/2}} W_2\big)`
   with ``c_2 = 4`` for ``T2 = int(5 d^1.5)`` epochs, :math:`W_1` frozen (its features are computed once);
3. :math:`w_3 = (H_2^\top H_2 + \lambda n I)^{-1} H_2^\top y` (ridge, λ = 1).

**Joint** (:func:`train_joint`): every layer at once for ``T2`` epochs, each with the step
above times ``c_J = 0.15`` (:math:`W_2` without the factor 4) and
:math:`w_3 \leftarrow w_3 - c_J\,\eta\big(\tfrac{1}{\varepsilon p_2}\nabla_{w_3}\mathcal{L} + \lambda_3 w_3\big)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Sequence

import torch

from .layers import affine, relu_backward, rowwise_dot
from .metrics import first_layer_overlap, mse_per_seed, second_layer_overlap
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

GradientNormalization = Literal["reference", "minibatch"]


def _check_common(config) -> None:
    check_positive_int(config.width1, "width1")
    check_positive_int(config.width2, "width2")
    check_positive(config.lr, "lr")
    check_positive(config.init_scale, "init_scale")
    check_fraction(config.batch_fraction, "batch_fraction")
    check_nonnegative(config.bias_range, "bias_range")
    check_positive_int(config.checkpoints, "checkpoints", minimum=2)
    if config.gradient_normalization not in ("reference", "minibatch"):
        raise ValueError(
            f"gradient_normalization must be 'reference' or 'minibatch', got {config.gradient_normalization!r}"
        )


def _paper_widths(n_max: int, width_exponent: float) -> int:
    return max(1, int(n_max**width_exponent))


@dataclass(frozen=True)
class LayerwiseConfig:
    """Every constant of layerwise training; defaults are the authors' code.

    Args:
        width1: ``p1``; the authors use ``int(n_max ** 0.9)`` for the largest ``n`` of the sweep.
        width2: ``p2`` (code: 100; the appendix: 600).
        epochs1: ``T1``, epochs of stage 1 (authors: ``int(15 ln d)``).
        epochs2: ``T2``, epochs of stage 2 (authors: ``int(5 d^1.5)``).
        lr: η (authors: 1).
        init_scale: ε_init (authors: 0.2).
        batch_fraction: mini-batch fraction ``f`` (authors: 0.7).
        weight_decay1: λ₁ on ``W1`` (authors: 0).
        weight_decay2: λ₂ on ``W2``, applied as ``λ₂ / d^1.5`` (authors: 0).
        second_layer_lr_factor: ``c_2`` (code: 4; the appendix: 2).
        ridge: λ of the readout (authors: 1).
        bias_range: ``b1 ~ U(-bias_range, bias_range)``; ``b2`` gets ``init_scale`` times that.
        gradient_normalization: ``"reference"`` (authors: ``∇W2`` over the full ``n``) or ``"minibatch"``.
        reinitialize: draw ``W2`` and ``w3`` afresh before stage 2 (the re-initialisation ablation).
        checkpoints: log-spaced checkpoints per stage where losses and overlaps are recorded.
    """

    width1: int
    epochs1: int
    epochs2: int
    width2: int = 100
    lr: float = 1.0
    init_scale: float = 0.2
    batch_fraction: float = 0.7
    weight_decay1: float = 0.0
    weight_decay2: float = 0.0
    second_layer_lr_factor: float = 4.0
    ridge: float = 1.0
    bias_range: float = 1.0
    gradient_normalization: GradientNormalization = "reference"
    reinitialize: bool = False
    checkpoints: int = 10

    def __post_init__(self) -> None:
        _check_common(self)
        check_positive_int(self.epochs1, "epochs1", minimum=0)
        check_positive_int(self.epochs2, "epochs2", minimum=0)
        check_nonnegative(self.weight_decay1, "weight_decay1")
        check_nonnegative(self.weight_decay2, "weight_decay2")
        check_positive(self.second_layer_lr_factor, "second_layer_lr_factor")
        check_ridge(self.ridge)

    @classmethod
    def paper(
        cls,
        d: int,
        n_max: int,
        width_exponent: float = 0.9,
        epochs1_coefficient: float = 15.0,
        epochs_coefficient: float = 5.0,
        **overrides,
    ) -> "LayerwiseConfig":
        """The authors' sizes: ``p1 = int(n_max^0.9)``, ``T1 = int(15 ln d)``, ``T2 = int(5 d^1.5)``."""
        fields = dict(
            width1=_paper_widths(n_max, width_exponent),
            epochs1=int(epochs1_coefficient * math.log(d)),
            epochs2=int(epochs_coefficient * d**1.5),
        )
        fields.update(overrides)
        return cls(**fields)


@dataclass(frozen=True)
class JointConfig:
    """Every constant of joint training; defaults are the authors' code.

    Args:
        width1, width2: ``p1`` and ``p2`` as for :class:`LayerwiseConfig`.
        epochs: ``T``, epochs of joint training (authors: ``int(5 d^1.5)``).
        lr, init_scale, batch_fraction, bias_range, gradient_normalization, checkpoints:
            as for :class:`LayerwiseConfig`.
        joint_lr_factor: ``c_J`` multiplying every layer's step (code: 0.15; the appendix: 0.2).
        weight_decay1: λ₁ on ``W1`` (authors: 0).
        weight_decay2: λ₂ on ``W2``, applied as ``λ₂ / d^1.5`` (authors: 0.01).
        weight_decay3: λ₃ on ``w3`` (authors: 0).
    """

    width1: int
    epochs: int
    width2: int = 100
    lr: float = 1.0
    init_scale: float = 0.2
    batch_fraction: float = 0.7
    joint_lr_factor: float = 0.15
    weight_decay1: float = 0.0
    weight_decay2: float = 0.01
    weight_decay3: float = 0.0
    bias_range: float = 1.0
    gradient_normalization: GradientNormalization = "reference"
    checkpoints: int = 10

    def __post_init__(self) -> None:
        _check_common(self)
        check_positive_int(self.epochs, "epochs", minimum=0)
        check_positive(self.joint_lr_factor, "joint_lr_factor")
        for name in ("weight_decay1", "weight_decay2", "weight_decay3"):
            check_nonnegative(getattr(self, name), name)

    @classmethod
    def paper(
        cls, d: int, n_max: int, width_exponent: float = 0.9, epochs_coefficient: float = 5.0, **overrides
    ) -> "JointConfig":
        """The authors' sizes: ``p1 = int(n_max^0.9)``, ``T = int(5 d^1.5)``."""
        fields = dict(width1=_paper_widths(n_max, width_exponent), epochs=int(epochs_coefficient * d**1.5))
        fields.update(overrides)
        return cls(**fields)


_PARAMETERS = ("w1", "b1", "w2", "b2", "w3")


@dataclass
class ThreeLayerNetwork:
    r""":math:`\hat f(x) = w_3\cdot\mathrm{ReLU}(W_2\,\mathrm{ReLU}(W_1x + b_1) + b_2)`.

    Attributes:
        w1 ``(p1, d)``, b1 ``(p1,)``, w2 ``(p2, p1)``, b2 ``(p2,)``, w3 ``(p2,)``; a stack of
        ``S`` networks (one per seed, :meth:`stack`) has a leading dimension ``S`` on each.
    """

    w1: torch.Tensor
    b1: torch.Tensor
    w2: torch.Tensor
    b2: torch.Tensor
    w3: torch.Tensor

    @staticmethod
    def draw_w2(p1: int, p2: int, init_scale: float, generator: torch.Generator, dtype) -> torch.Tensor:
        return init_scale * torch.randn(p2, p1, generator=generator, device=generator.device, dtype=dtype) / math.sqrt(p1)

    @staticmethod
    def draw_w3(p2: int, init_scale: float, generator: torch.Generator, dtype) -> torch.Tensor:
        return init_scale * torch.randn(p2, generator=generator, device=generator.device, dtype=dtype) / math.sqrt(p2)

    @classmethod
    def init(cls, d: int, config, generator: torch.Generator, device=None, dtype=torch.float32) -> "ThreeLayerNetwork":
        """The authors' initialisation from ``generator`` (drawn on its device), moved to ``device``."""
        g_dev = generator.device
        p1, p2, eps = config.width1, config.width2, config.init_scale
        w1 = torch.randn(p1, d, generator=generator, device=g_dev, dtype=dtype) / math.sqrt(d)
        w2 = cls.draw_w2(p1, p2, eps, generator, dtype)
        w3 = cls.draw_w3(p2, eps, generator, dtype)
        b1 = config.bias_range * (2 * torch.rand(p1, generator=generator, device=g_dev, dtype=dtype) - 1)
        b2 = eps * config.bias_range * (2 * torch.rand(p2, generator=generator, device=g_dev, dtype=dtype) - 1)
        device = device if device is not None else g_dev
        return cls(*(t.to(device) for t in (w1, b1, w2, b2, w3)))

    @classmethod
    def stack(cls, networks) -> "ThreeLayerNetwork":
        """Networks of several seeds stacked along a leading dimension (``w1`` becomes ``(S, p1, d)``)."""
        networks = list(networks)
        return cls(*(torch.stack([getattr(net, k) for net in networks]) for k in _PARAMETERS))

    def select(self, index: int) -> "ThreeLayerNetwork":
        """Seed ``index`` of a stacked network."""
        return ThreeLayerNetwork(*(getattr(self, k)[index] for k in _PARAMETERS))

    def features1(self, x: torch.Tensor) -> torch.Tensor:
        """First-layer activations, ``(..., n, p1)`` for ``x`` ``(..., n, d)``."""
        return affine(x, self.w1, self.b1).relu_()

    def preactivation2(self, h1: torch.Tensor) -> torch.Tensor:
        """Second-layer pre-activations ``W2 h1 + b2`` from first-layer activations, ``(..., n, p2)``."""
        return affine(h1, self.w2, self.b2)

    def features2(self, x: torch.Tensor) -> torch.Tensor:
        """Second-layer activations, ``(..., n, p2)``."""
        return self.preactivation2(self.features1(x)).relu_()

    def readout(self, h2: torch.Tensor) -> torch.Tensor:
        """``w3 · h2`` for second-layer activations ``(..., n, p2)``, giving ``(..., n)``."""
        return rowwise_dot(h2, self.w3)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions ``(..., n)`` for ``x`` ``(..., n, d)``."""
        return self.readout(self.features2(x))


@dataclass
class ThreeLayerResult:
    """A trained three-layer network and what happened while training it."""

    network: ThreeLayerNetwork
    record: TrainingRecord
    config: LayerwiseConfig | JointConfig

    @property
    def diverged(self) -> bool:
        return self.record.diverged


def gradients(
    net: ThreeLayerNetwork,
    x: torch.Tensor | None,
    y: torch.Tensor,
    h1: torch.Tensor | None = None,
    need: Sequence[str] = ("w1", "w2", "w3"),
    full_n: int | None = None,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    r"""Hand-written gradients of :math:`\frac12\sum_\mu(\hat f - y)^2/N` for the parameters in ``need``.

    Leading dimensions (seeds) are independent problems: with a stacked network, ``x`` is
    ``(S, m, d)`` and every gradient has a leading ``S``.

    Args:
        net: the network.
        x: the batch ``(..., m, d)`` (may be ``None`` when ``h1`` is given and ``w1`` is not needed).
        y: ``(..., m)``.
        h1: first-layer activations of the batch, if already known (frozen first layer).
        need: which of ``"w1"``, ``"w2"``, ``"w3"`` to return.
        full_n: if given, ``∇W2`` and ``∇w3`` are divided by it instead of ``m`` (the authors'
            convention); ``∇W1`` is always divided by ``m``.

    Returns:
        ``({name: gradient}, mean squared error of the batch (...))``.
    """
    m = y.shape[-1]
    if h1 is None:
        h1 = net.features1(x)
    h2 = net.preactivation2(h1).relu_()
    error = net.readout(h2) - y
    outer = full_n if full_n is not None else m
    grads: dict[str, torch.Tensor] = {}
    if "w3" in need:
        grads["w3"] = rowwise_dot(h2.mT, error) / outer
    grad_pre2 = relu_backward(error.unsqueeze(-1) * net.w3.unsqueeze(-2), h2)
    if "w2" in need:
        grads["w2"] = (grad_pre2.mT @ h1).div_(outer)
    if "w1" in need:
        grad_pre1 = relu_backward(grad_pre2 @ net.w2, h1)
        grads["w1"] = (grad_pre1.mT @ x).div_(m)
    return grads, (error**2).mean(-1)


class _Logger:
    """Records losses and overlaps of every seed at checkpoints; watches for divergence.

    Everything is computed for all seeds at once and copied to the host in one transfer per
    checkpoint. A seed whose loss diverged stops being recorded; the others go on.
    """

    def __init__(self, net, train, validation, targets, probe, records, batch_fraction):
        self.net, self.train, self.validation, self.probe = net, train, validation, probe
        self.records, self.batch_fraction = records, batch_fraction
        self.teacher = torch.stack([t.teacher for t in targets]) if targets is not None else None
        self.branches = targets[0].config.branches if targets is not None else 1
        self.watch = DivergenceWatch(train.x.device, len(records))
        self.alive = [True] * len(records)
        self.offset = 0

    def __call__(self, stage: str, step: int, h1_train: torch.Tensor | None = None) -> bool:
        """Record a checkpoint; ``False`` once every seed has diverged."""
        net = self.net
        h1 = h1_train if h1_train is not None else net.features1(self.train.x)
        columns = {"train_loss": mse_per_seed(net.readout(net.preactivation2(h1).relu_()), self.train.y)}
        if self.validation is not None:
            columns["validation_loss"] = mse_per_seed(net(self.validation.x), self.validation.y)
        if self.teacher is not None:
            m_w = first_layer_overlap(net.w1, self.teacher, self.branches)  # (S, r)
            m_h = second_layer_overlap(net.preactivation2(net.features1(self.probe.x)), self.probe.h)  # (S, r)
            columns.update({f"overlap_W_{m}": m_w[:, m] for m in range(m_w.shape[1])})
            columns.update({f"overlap_h_{m}": m_h[:, m] for m in range(m_h.shape[1])})
        table = torch.stack(list(columns.values()), dim=1).tolist()  # (S, metrics): one transfer
        bad = self.watch.first_bad_steps
        for s, record in enumerate(self.records):
            if not self.alive[s]:
                continue
            row = dict(stage=stage, step=step, global_step=self.offset + step, epoch=step * self.batch_fraction)
            row.update(zip(columns, table[s]))
            record.add(**row)
            if bad[s] is not None or not math.isfinite(row["train_loss"]):
                record.mark_diverged(stage, bad[s] if bad[s] is not None else step)
                self.alive[s] = False
        return any(self.alive)

    def mask(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` ``(S, ...)`` with the rows of diverged seeds set to zero."""
        keep = torch.tensor(self.alive, device=values.device).reshape(-1, *([1] * (values.ndim - 1)))
        return torch.where(keep, values, torch.zeros((), dtype=values.dtype, device=values.device))


def _stage_samples(train: TargetSample | Sequence[TargetSample]) -> tuple[TargetSample, TargetSample, TargetSample]:
    if isinstance(train, TargetSample):
        return train, train, train
    train = tuple(train)
    if len(train) != 3 or not all(isinstance(s, TargetSample) for s in train):
        raise ValueError("train must be one TargetSample (data reused by every stage) or three, one per stage")
    return train


def _stack_optional(samples: Sequence[TargetSample] | None) -> TargetSample | None:
    return None if samples is None else TargetSample.stack(samples)


def _probes(targets, n: int, generators) -> TargetSample | None:
    """``n`` fresh probe points per seed (for ``M_h``), drawn from each seed's generator."""
    return None if targets is None else TargetSample.stack(t.sample(n, g) for t, g in zip(targets, generators))


def _single(train, config, generator, target, validation, n_probe, batched):
    return batched(
        [train], config, [generator], None if target is None else [target],
        None if validation is None else [validation], n_probe,
    )[0]


@torch.no_grad()
def train_layerwise(
    train: TargetSample | Sequence[TargetSample],
    config: LayerwiseConfig,
    generator: torch.Generator,
    target: HierarchicalTarget | None = None,
    validation: TargetSample | None = None,
    n_probe: int = 1000,
) -> ThreeLayerResult:
    """Layerwise training (see the module docs); :func:`train_layerwise_batch` with one seed.

    Args:
        train: one sample reused by all three stages, or three samples (fresh data per stage).
        config: a :class:`LayerwiseConfig`.
        generator: draws the initialisation, the mini-batches and the probe inputs.
        target: if given, ``M_W`` and ``M_h`` are recorded at every checkpoint, ``M_h`` on
            ``n_probe`` fresh inputs.
        validation: if given, its loss is recorded at every checkpoint.
    """
    return _single(train, config, generator, target, validation, n_probe, train_layerwise_batch)


@torch.no_grad()
def train_layerwise_batch(
    train: Sequence[TargetSample | Sequence[TargetSample]],
    config: LayerwiseConfig,
    generators: Sequence[torch.Generator],
    targets: Sequence[HierarchicalTarget] | None = None,
    validation: Sequence[TargetSample] | None = None,
    n_probe: int = 1000,
) -> list[ThreeLayerResult]:
    """Layerwise training of ``S`` seeds as one batched computation.

    Entry ``s`` of each argument belongs to seed ``s`` (``train[s]`` is one sample or three,
    as in :func:`train_layerwise`); seed ``s``'s result is the one :func:`train_layerwise`
    gives for it alone. All seeds must share ``n``, ``d``, dtype and device.
    """
    seeds = len(train)
    check_seed_batch(train, generators, targets, validation)
    per_seed = [_stage_samples(t) for t in train]
    s1, s2, s3 = (TargetSample.stack(stage) for stage in zip(*per_seed))  # each (S, n, ...)
    d = s1.x.shape[-1]
    dtype, device = s1.x.dtype, s1.x.device
    net = ThreeLayerNetwork.stack(ThreeLayerNetwork.init(d, config, g, device=device, dtype=dtype) for g in generators)
    probe = _probes(targets, n_probe, generators)
    records = [TrainingRecord() for _ in range(seeds)]
    log = _Logger(net, s1, _stack_optional(validation), targets, probe, records, config.batch_fraction)
    reference = config.gradient_normalization == "reference"
    f = config.batch_fraction
    results = lambda: [ThreeLayerResult(net.select(s), records[s], config) for s in range(seeds)]  # noqa: E731

    # Stage 1: first layer.
    n = s1.x.shape[-2]
    steps = int(config.epochs1 / f)
    batch = max(1, int(n * f))
    scale1 = math.sqrt(config.width1) / config.init_scale**2
    marks = set(checkpoint_steps(steps, config.checkpoints))
    stream = MinibatchStream(n, batch, generators, device, steps)
    for step in range(steps + 1):
        if step in marks and not log("first layer", step):
            return results()
        if step == steps:
            break
        idx = stream.next()
        grads, loss = gradients(net, gather_rows(s1.x, idx), gather_rows(s1.y, idx), need=("w1",))
        log.watch.update(step, loss)
        net.w1.sub_(config.lr * (scale1 * grads["w1"] + config.weight_decay1 * net.w1))
    log.offset += steps

    # Stage 2: second layer on frozen first-layer features, computed once.
    if config.reinitialize:
        net.w2 = torch.stack([
            ThreeLayerNetwork.draw_w2(config.width1, config.width2, config.init_scale, g, dtype) for g in generators
        ]).to(device)
        net.w3 = torch.stack([ThreeLayerNetwork.draw_w3(config.width2, config.init_scale, g, dtype) for g in generators]).to(device)
    n = s2.x.shape[-2]
    h1 = net.features1(s2.x)  # (S, n, p1)
    log.train = s2
    steps = int(config.epochs2 / f)
    batch = max(1, int(n * f))
    scale2 = math.sqrt(config.width2) / (config.init_scale * config.width1)
    decay2 = config.weight_decay2 / d**1.5
    marks = set(checkpoint_steps(steps, config.checkpoints))
    stream = MinibatchStream(n, batch, generators, device, steps)
    for step in range(steps + 1):
        if step in marks and not log("second layer", step, h1_train=h1):
            return results()
        if step == steps:
            break
        idx = stream.next()
        grads, loss = gradients(
            net, None, gather_rows(s2.y, idx), h1=gather_rows(h1, idx), need=("w2",), full_n=n if reference else None
        )
        log.watch.update(step, loss)
        net.w2.sub_(config.second_layer_lr_factor * config.lr * (scale2 * grads["w2"] + decay2 * net.w2))
    log.offset += steps
    del h1

    # Stage 3: ridge readout.
    net.w3 = ridge_solve(log.mask(net.features2(s3.x)), s3.y, config.ridge)
    log.train = s3
    log("readout", 0)
    return results()


@torch.no_grad()
def train_joint(
    train: TargetSample,
    config: JointConfig,
    generator: torch.Generator,
    target: HierarchicalTarget | None = None,
    validation: TargetSample | None = None,
    n_probe: int = 1000,
) -> ThreeLayerResult:
    """Joint training of all three layers by backpropagation (see the module docs).

    :func:`train_joint_batch` with one seed.
    """
    return _single(train, config, generator, target, validation, n_probe, train_joint_batch)


@torch.no_grad()
def train_joint_batch(
    train: Sequence[TargetSample],
    config: JointConfig,
    generators: Sequence[torch.Generator],
    targets: Sequence[HierarchicalTarget] | None = None,
    validation: Sequence[TargetSample] | None = None,
    n_probe: int = 1000,
) -> list[ThreeLayerResult]:
    """Joint training of ``S`` seeds as one batched computation (entry ``s`` of each argument is seed ``s``)."""
    seeds = len(train)
    check_seed_batch(train, generators, targets, validation)
    data = TargetSample.stack(train)
    d = data.x.shape[-1]
    dtype, device = data.x.dtype, data.x.device
    net = ThreeLayerNetwork.stack(ThreeLayerNetwork.init(d, config, g, device=device, dtype=dtype) for g in generators)
    probe = _probes(targets, n_probe, generators)
    records = [TrainingRecord() for _ in range(seeds)]
    log = _Logger(net, data, _stack_optional(validation), targets, probe, records, config.batch_fraction)
    n = data.x.shape[-2]
    f = config.batch_fraction
    steps = int(config.epochs / f)
    batch = max(1, int(n * f))
    full_n = n if config.gradient_normalization == "reference" else None
    c = config.joint_lr_factor * config.lr
    scale1 = math.sqrt(config.width1) / config.init_scale**2
    scale2 = math.sqrt(config.width2) / (config.init_scale * config.width1)
    scale3 = 1.0 / (config.init_scale * config.width2)
    decay2 = config.weight_decay2 / d**1.5
    marks = set(checkpoint_steps(steps, config.checkpoints))
    stream = MinibatchStream(n, batch, generators, device, steps)
    for step in range(steps + 1):
        if step in marks and not log("joint", step):
            break
        if step == steps:
            break
        idx = stream.next()
        grads, loss = gradients(net, gather_rows(data.x, idx), gather_rows(data.y, idx), full_n=full_n)
        log.watch.update(step, loss)
        net.w1.sub_(c * (scale1 * grads["w1"] + config.weight_decay1 * net.w1))
        net.w2.sub_(c * (scale2 * grads["w2"] + decay2 * net.w2))
        net.w3.sub_(c * (scale3 * grads["w3"] + config.weight_decay3 * net.w3))
    return [ThreeLayerResult(net.select(s), records[s], config) for s in range(seeds)]
