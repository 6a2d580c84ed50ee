r"""Deep ReLU networks for deep hierarchical targets, trained layer by layer.

The network has ``L`` hidden layers of widths :math:`p_1, \dots, p_L` and a linear readout,

.. math::
    \hat f(x) = w_\mathrm{out}\cdot \mathrm{ReLU}\big(W_L \cdots \mathrm{ReLU}(W_2\,\mathrm{ReLU}(W_1 x + b_1) + b_2) \cdots + b_L\big),

with :math:`W_1 \in \mathbb{R}^{p_1\times d}`, :math:`W_\ell \in \mathbb{R}^{p_\ell\times p_{\ell-1}}`. With
``L = 2`` it is the three-layer network of :mod:`hight_lite.three_layer`, and everything below
reduces to its layerwise protocol (the same random draws in the same order, the same steps).

**Initialisation** (the authors' rules, extended layer by layer), with :math:`\varepsilon = \varepsilon_\mathrm{init}`:
:math:`W_1 \sim \mathcal{N}(0, 1/d)`, :math:`W_\ell \sim \varepsilon\,\mathcal{N}(0, 1/p_{\ell-1})` for
``ℓ >= 2``, :math:`w_\mathrm{out} \sim \varepsilon\,\mathcal{N}(0, 1/p_L)`, fixed biases
:math:`b_1 \sim U(-1, 1)` and :math:`b_\ell \sim \varepsilon\,U(-1, 1)`. The draws happen in the
order ``W_1, ..., W_L, w_out, b_1, ..., b_L``.

**Layerwise training**: ``L`` gradient stages, then a ridge readout. Stage ℓ moves :math:`W_\ell`
only, for :math:`T_\ell` "epochs" (``int(T_ℓ / f)`` steps on random mini-batches ``B`` holding a
fraction ``f = 0.7`` of the ``n`` samples). The layers below are frozen, so their features
:math:`H_{\ell-1}` (``H_0 = x``) are computed once per stage; the layers above stay at their
initial values. With :math:`\mathcal{L} = \frac1{2N}\sum_{\mu\in B}(\hat f(x_\mu) - y_\mu)^2`,

.. math::
    W_1 &\leftarrow W_1 - \eta\Big(\frac{\sqrt{p_1}}{\varepsilon^{q_1}}\nabla_{W_1}\mathcal{L} + \lambda_1 W_1\Big),
    \qquad N = |B|, \\
    W_\ell &\leftarrow W_\ell - c_2\,\eta\Big(\frac{\sqrt{p_\ell}}{\varepsilon^{q_\ell}\,p_{\ell-1}}\nabla_{W_\ell}\mathcal{L}
    + \frac{\lambda_2}{d^{3/2}} W_\ell\Big), \qquad N = n \text{ ("reference") or } |B| \text{ ("minibatch")},

for ``T_1 = int(15 ln d)`` and ``T_ℓ = int(5 d^1.5)`` epochs, ``c_2 = 4``; finally
:math:`w_\mathrm{out} = (H_L^\top H_L + \lambda n I)^{-1} H_L^\top y` with λ = 1.

The exponents :math:`q_\ell` are those of the three-layer protocol by default, :math:`q_1 = 2` and
:math:`q_\ell = 1` for every ``ℓ >= 2`` (``step_exponents=None``): the paper's constants used as
they are. In the three-layer network they compensate the random layers *above* the trained
one: the gradient reaching :math:`W_\ell` carries one factor :math:`\varepsilon` per random
matrix above it (``W_{ℓ+1}, ..., W_L`` and ``w_out``). A deeper network has more of them;
``step_exponents=(L, L-1, ..., 1)`` compensates all of them (equal to the default when
``L = 2``), at the price of much larger steps for the lower layers.

**Overlaps**, recorded at log-spaced checkpoints of every stage (and after the readout):

* layer 1, ``overlap_W_<m>``: :math:`\|M_W\|_F/\sqrt{p_1}` of branch ``m``
  (:func:`hight_lite.metrics.first_layer_overlap`);
* layer ``ℓ >= 2`` (for ``ℓ`` up to the target's depth), ``overlap_h<ℓ>_<m>``: the
  :func:`level_overlap` between the layer's pre-activations and the target's level-ℓ latent
  features of branch ``m``, on ``n_probe`` fresh inputs. For the top level (one component per
  branch) this is :math:`\|M_h\|_F/\sqrt{p}` of :func:`hight_lite.metrics.second_layer_overlap`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal, Sequence

import torch

from .layers import affine, relu_backward, rowwise_dot
from .metrics import first_layer_overlap, mse, random_second_layer_overlap
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

__all__ = [
    "DeepLayerwiseConfig",
    "DeepLayerwiseResult",
    "DeepNetwork",
    "deep_layer_gradient",
    "level_overlap",
    "random_level_overlap",
    "train_deep_layerwise",
]

GradientNormalization = Literal["reference", "minibatch"]


def _check_int_tuple(values, name: str, minimum: int) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a tuple of integers >= {minimum}, got {values!r}")
    values = tuple(values)
    for i, v in enumerate(values):
        check_positive_int(v, f"{name}[{i}]", minimum=minimum)
    return tuple(int(v) for v in values)


@dataclass(frozen=True)
class DeepLayerwiseConfig:
    r"""Every constant of layerwise training of a deep network; defaults follow the authors' code.

    Args:
        widths: ``(p_1, ..., p_L)``, the hidden widths; ``L = len(widths) >= 1`` hidden layers.
            The authors' three-layer network: ``(int(n_max^0.9), 100)``.
        epochs: ``(T_1, ..., T_L)``, the epochs of each stage (one per hidden layer); the
            authors: ``T_1 = int(15 ln d)``, ``T_ℓ = int(5 d^1.5)`` for ``ℓ >= 2``.
        lr: η (authors: 1).
        init_scale: ε = ε_init, the scale of ``W_ℓ`` (``ℓ >= 2``), ``w_out`` and ``b_ℓ`` at
            initialisation (authors: 0.2).
        batch_fraction: mini-batch fraction ``f`` (authors: 0.7).
        weight_decay1: λ₁ on ``W_1`` (authors: 0).
        weight_decay2: λ₂ on every later ``W_ℓ``, applied as ``λ₂ / d^1.5`` (authors: 0).
        later_lr_factor: ``c_2``, multiplying the step of every stage ``ℓ >= 2`` (code: 4;
            the appendix: 2).
        ridge: λ of the readout (authors: 1).
        bias_range: ``b_1 ~ U(-bias_range, bias_range)``; ``b_ℓ`` (``ℓ >= 2``) gets
            ``init_scale`` times that (authors: 1). Biases are never trained.
        gradient_normalization: ``"reference"`` (the authors: ``∇W_ℓ``, ``ℓ >= 2``, divided
            by the full ``n``, ``∇W_1`` by the batch size) or ``"minibatch"`` (batch size everywhere).
        step_exponents: ``(q_1, ..., q_L)``, the powers of ε dividing each stage's step; ``None``
            (default) means the three-layer constants ``(2, 1, ..., 1)``; ``(L, L-1, ..., 1)``
            compensates every random layer above the trained one.
        checkpoints: log-spaced checkpoints per stage where losses and overlaps are recorded.
    """

    widths: tuple[int, ...]
    epochs: tuple[int, ...]
    lr: float = 1.0
    init_scale: float = 0.2
    batch_fraction: float = 0.7
    weight_decay1: float = 0.0
    weight_decay2: float = 0.0
    later_lr_factor: float = 4.0
    ridge: float = 1.0
    bias_range: float = 1.0
    gradient_normalization: GradientNormalization = "reference"
    step_exponents: tuple[int, ...] | None = None
    checkpoints: int = 10

    def __post_init__(self) -> None:
        widths = _check_int_tuple(self.widths, "widths", minimum=1)
        epochs = _check_int_tuple(self.epochs, "epochs", minimum=0)
        if not widths:
            raise ValueError("widths must hold at least one hidden width p_1 (got an empty tuple)")
        if len(epochs) != len(widths):
            raise ValueError(
                f"epochs must have one entry per hidden layer (len(widths) = {len(widths)}), got {len(epochs)}"
            )
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "epochs", epochs)
        check_positive(self.lr, "lr")
        check_positive(self.init_scale, "init_scale")
        check_fraction(self.batch_fraction, "batch_fraction")
        check_nonnegative(self.weight_decay1, "weight_decay1")
        check_nonnegative(self.weight_decay2, "weight_decay2")
        check_positive(self.later_lr_factor, "later_lr_factor")
        check_ridge(self.ridge)
        check_nonnegative(self.bias_range, "bias_range")
        if self.gradient_normalization not in ("reference", "minibatch"):
            raise ValueError(
                f"gradient_normalization must be 'reference' or 'minibatch', got {self.gradient_normalization!r}"
            )
        if self.step_exponents is not None:
            exponents = _check_int_tuple(self.step_exponents, "step_exponents", minimum=0)
            if len(exponents) != len(widths):
                raise ValueError(
                    f"step_exponents must have one entry per hidden layer (len(widths) = {len(widths)}), "
                    f"got {len(exponents)}"
                )
            object.__setattr__(self, "step_exponents", exponents)
        check_positive_int(self.checkpoints, "checkpoints", minimum=2)

    @property
    def depth(self) -> int:
        """``L``, the number of hidden layers (the three-layer network has ``L = 2``)."""
        return len(self.widths)

    def step_exponent(self, layer: int) -> int:
        r""":math:`q_\ell` of the module docs for ``layer`` ℓ (from 1)."""
        if self.step_exponents is not None:
            return self.step_exponents[layer - 1]
        return 2 if layer == 1 else 1

    def gradient_scale(self, layer: int) -> float:
        r"""The factor of :math:`\nabla_{W_\ell}\mathcal{L}` in the step of ``layer`` ℓ (from 1), before η and ``c_2``.

        :math:`\sqrt{p_1}/\varepsilon^{q_1}` for ℓ = 1 and
        :math:`\sqrt{p_\ell}/(\varepsilon^{q_\ell} p_{\ell-1})` for ℓ ≥ 2.
        """
        check_positive_int(layer, "layer")
        if layer > self.depth:
            raise ValueError(f"layer must be an integer in [1, {self.depth}], got {layer!r}")
        eps = self.init_scale ** self.step_exponent(layer)
        if layer == 1:
            return math.sqrt(self.widths[0]) / eps
        return math.sqrt(self.widths[layer - 1]) / (eps * self.widths[layer - 2])

    def lr_factor(self, layer: int) -> float:
        """1 for the first layer, ``c_2 = later_lr_factor`` for every later one."""
        return 1.0 if layer == 1 else self.later_lr_factor

    @classmethod
    def paper(
        cls,
        d: int,
        n_max: int,
        depth: int,
        width_exponent: float = 0.9,
        hidden_width: int = 100,
        epochs1_coefficient: float = 15.0,
        epochs_coefficient: float = 5.0,
        **overrides,
    ) -> "DeepLayerwiseConfig":
        """The authors' sizes for ``depth`` hidden layers.

        ``p_1 = int(n_max^width_exponent)``, ``p_ℓ = hidden_width`` (100) for ``ℓ >= 2``,
        ``T_1 = int(15 ln d)`` and ``T_ℓ = int(epochs_coefficient · d^1.5)``. With ``depth=2``
        this is :meth:`hight_lite.LayerwiseConfig.paper`.
        """
        check_positive_int(d, "d", minimum=2)
        check_positive_int(n_max, "n_max")
        check_positive_int(depth, "depth")
        check_positive_int(hidden_width, "hidden_width")
        check_positive(width_exponent, "width_exponent")
        check_nonnegative(epochs1_coefficient, "epochs1_coefficient")
        check_nonnegative(epochs_coefficient, "epochs_coefficient")
        later = int(epochs_coefficient * d**1.5)
        fields = dict(
            widths=(max(1, int(n_max**width_exponent)),) + (hidden_width,) * (depth - 1),
            epochs=(int(epochs1_coefficient * math.log(d)),) + (later,) * (depth - 1),
        )
        fields.update(overrides)
        return cls(**fields)


@dataclass
class DeepNetwork:
    r""":math:`\hat f(x) = w_\mathrm{out}\cdot\mathrm{ReLU}(W_L \cdots \mathrm{ReLU}(W_1 x + b_1) \cdots + b_L)`.

    Attributes:
        weights: ``(W_1, ..., W_L)``; ``W_1`` is ``(p_1, d)``, ``W_ℓ`` is ``(p_ℓ, p_{ℓ-1})``.
        biases: ``(b_1, ..., b_L)``, ``b_ℓ`` of shape ``(p_ℓ,)``.
        readout: ``w_out``, ``(p_L,)``.
    """

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    readout: torch.Tensor

    @property
    def depth(self) -> int:
        """``L``, the number of hidden layers."""
        return len(self.weights)

    @classmethod
    def init(
        cls, d: int, config: DeepLayerwiseConfig, generator: torch.Generator, device=None, dtype=torch.float32
    ) -> "DeepNetwork":
        """The initialisation of the module docs, drawn from ``generator`` (on its device), moved to ``device``.

        Draw order ``W_1, ..., W_L, w_out, b_1, ..., b_L``: for ``L = 2`` the same numbers as
        :meth:`hight_lite.ThreeLayerNetwork.init`.
        """
        g_dev = generator.device
        eps, widths = config.init_scale, config.widths
        weights = [torch.randn(widths[0], d, generator=generator, device=g_dev, dtype=dtype) / math.sqrt(d)]
        for p_prev, p in pairwise(widths):
            weights.append(eps * torch.randn(p, p_prev, generator=generator, device=g_dev, dtype=dtype) / math.sqrt(p_prev))
        readout = eps * torch.randn(widths[-1], generator=generator, device=g_dev, dtype=dtype) / math.sqrt(widths[-1])
        biases = [config.bias_range * (2 * torch.rand(widths[0], generator=generator, device=g_dev, dtype=dtype) - 1)]
        for p in widths[1:]:
            biases.append(eps * config.bias_range * (2 * torch.rand(p, generator=generator, device=g_dev, dtype=dtype) - 1))
        device = device if device is not None else g_dev
        return cls([w.to(device) for w in weights], [b.to(device) for b in biases], readout.to(device))

    def preactivation(self, features: torch.Tensor, layer: int) -> torch.Tensor:
        """``W_ℓ h_{ℓ-1} + b_ℓ`` for ``layer`` ℓ (from 1), from the features below, ``(n, p_ℓ)``."""
        return affine(features, self.weights[layer - 1], self.biases[layer - 1])

    def features(self, x: torch.Tensor, layer: int | None = None) -> torch.Tensor:
        """Activations of hidden ``layer`` (default: the last), ``(n, p_ℓ)``; ``layer=0`` gives ``x``."""
        layer = self.depth if layer is None else layer
        h = x
        for ell in range(1, layer + 1):
            h = self.preactivation(h, ell).relu_()
        return h

    def preactivations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Pre-activations of every hidden layer, ``[(n, p_1), ..., (n, p_L)]``."""
        out, h = [], x
        for ell in range(1, self.depth + 1):
            a = self.preactivation(h, ell)
            out.append(a)
            h = torch.relu(a)
        return out

    def output_from(self, features: torch.Tensor, layer: int) -> torch.Tensor:
        """Predictions ``(n,)`` from the activations of hidden ``layer`` (``0``: from ``x``)."""
        h = features
        for ell in range(layer + 1, self.depth + 1):
            h = self.preactivation(h, ell).relu_()
        return rowwise_dot(h, self.readout)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions ``(n,)`` for ``x`` ``(n, d)``."""
        return self.output_from(x, 0)


@dataclass
class DeepLayerwiseResult:
    """A trained deep network, what happened while training it, and the configuration used."""

    network: DeepNetwork
    record: TrainingRecord
    config: DeepLayerwiseConfig

    @property
    def diverged(self) -> bool:
        return self.record.diverged


def deep_layer_gradient(
    net: DeepNetwork,
    features: torch.Tensor,
    y: torch.Tensor,
    layer: int,
    normalizer: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Hand-written :math:`\nabla_{W_\ell}` of :math:`\frac1{2N}\sum_\mu(\hat f(x_\mu) - y_\mu)^2`, for one ``layer``.

    With :math:`a_k = W_k h_{k-1} + b_k`, :math:`h_k = \mathrm{ReLU}(a_k)` and :math:`e = \hat f - y`:
    :math:`\delta_L = e\,w_\mathrm{out}\odot\mathbb{1}[a_L > 0]`,
    :math:`\delta_k = (W_{k+1}^\top\delta_{k+1})\odot\mathbb{1}[a_k > 0]` down to ``k = ℓ``, and
    :math:`\nabla_{W_\ell} = \frac1N\sum_\mu \delta_{\ell,\mu} h_{\ell-1,\mu}^\top`.

    Args:
        net: the network.
        features: :math:`h_{\ell-1}` of the batch, ``(m, p_{ℓ-1})`` (``x`` itself, ``(m, d)``, for ``ℓ = 1``).
        y: ``(m,)``.
        layer: ℓ, from 1 to ``net.depth``.
        normalizer: ``N`` (default: the batch size ``m``).

    Returns:
        ``(gradient (p_ℓ, p_{ℓ-1}), mean squared error of the batch)``.
    """
    if not 1 <= layer <= net.depth:
        raise ValueError(f"layer must be an integer in [1, {net.depth}], got {layer!r}")
    activations, h = [], features  # h_ℓ .. h_L (h_k > 0 exactly where a_k > 0)
    for k in range(layer, net.depth + 1):
        h = net.preactivation(h, k).relu_()
        activations.append(h)
    error = rowwise_dot(h, net.readout) - y
    delta = relu_backward(error[:, None] * net.readout, activations[-1])
    for k in range(net.depth - 1, layer - 1, -1):  # from layer L-1 down to ℓ
        delta = relu_backward(delta @ net.weights[k], activations[k - layer])
    n = normalizer if normalizer is not None else y.shape[0]
    return (delta.T @ features).div_(n), (error**2).mean()


def level_overlap(preactivations: torch.Tensor, level: torch.Tensor, branches: int = 1) -> torch.Tensor:
    r"""How much of each unit's pre-activation lies along a target level's features, per branch.

    With :math:`C_{ik} = \cos(u_i, h_k)`, the uncentred cosine over the probe inputs between
    unit ``i``'s pre-activation and component ``k`` of the level (as in :math:`M_h`), the
    summary for branch ``m`` is the root mean square over units of the *norm over the branch's
    components*,

    .. math:: \Big(\frac1p\sum_{i=1}^p \sum_{k \in \text{branch } m} C_{ik}^2\Big)^{1/2}.

    When the components are orthogonal (disjoint blocks of a standardised target are
    uncorrelated), :math:`\sum_k C_{ik}^2` is the squared cosine between the unit and the span
    of the branch's components. For a level with one component per branch (the top level) it
    is exactly :math:`\|M_h\|_F/\sqrt p` (:func:`hight_lite.second_layer_overlap`). For units
    unrelated to the level it is about :math:`\sqrt{D_\ell/n_\mathrm{probe}}`.

    Args:
        preactivations: ``(n, p)``.
        level: the level's features on the same inputs, ``(n, r * D_ℓ)``, branch after branch.
        branches: ``r``.

    Returns:
        ``(r,)``.
    """
    if preactivations.ndim != 2 or level.ndim != 2 or preactivations.shape[0] != level.shape[0]:
        raise ValueError(
            "preactivations (n, p) and level (n, r * D) must be matrices sharing n, "
            f"got {tuple(preactivations.shape)} and {tuple(level.shape)}"
        )
    check_positive_int(branches, "branches")
    if level.shape[1] % branches != 0:
        raise ValueError(f"the level's {level.shape[1]} components cannot be split into branches = {branches}")
    tiny = torch.finfo(preactivations.dtype).tiny
    u = preactivations / preactivations.norm(dim=0, keepdim=True).clamp_min(tiny)
    h = level / level.norm(dim=0, keepdim=True).clamp_min(tiny)
    cos2 = (u.T @ h).pow(2)  # (p, r * D)
    return cos2.reshape(cos2.shape[0], branches, -1).sum(-1).mean(0).sqrt()


def random_level_overlap(components: int, n_probe: int) -> float:
    r""":math:`\sqrt{D_\ell/n_\mathrm{probe}}`: the typical :func:`level_overlap` of units unrelated to a level.

    Each of the ``components`` (per branch) contributes a squared cosine of about
    :math:`1/n_\mathrm{probe}`; for one component this is
    :func:`hight_lite.metrics.random_second_layer_overlap`.
    """
    check_positive_int(components, "components")
    return math.sqrt(components) * random_second_layer_overlap(n_probe)


def _stage_samples(train, stages: int) -> tuple[TargetSample, ...]:
    if isinstance(train, TargetSample):
        return (train,) * stages
    train = tuple(train)
    if len(train) != stages or not all(isinstance(s, TargetSample) for s in train):
        raise ValueError(
            f"train must be one TargetSample (data reused by every stage) or {stages}, one per stage "
            f"({stages - 1} layers and the readout), got {len(train)}"
        )
    return train


class _Logger:
    """Records losses and overlaps at checkpoints; watches for divergence."""

    def __init__(self, net: DeepNetwork, validation, target, probe, record, batch_fraction):
        self.net, self.validation, self.target, self.probe = net, validation, target, probe
        self.record, self.batch_fraction = record, batch_fraction
        self.watch = DivergenceWatch(next(iter(net.weights)).device)
        self.offset = 0
        self.levels = range(2, min(net.depth, target.config.depth) + 1) if target is not None else range(0)

    def __call__(self, stage: str, step: int, features: torch.Tensor, y: torch.Tensor, layer: int) -> bool:
        net = self.net
        row = dict(
            stage=stage, step=step, global_step=self.offset + step, epoch=step * self.batch_fraction,
            train_loss=mse(net.output_from(features, layer), y),
        )
        if self.validation is not None:
            row["validation_loss"] = mse(net(self.validation.x), self.validation.y)
        if self.target is not None:
            branches = self.target.config.branches
            for m, v in enumerate(first_layer_overlap(net.weights[0], self.target.teacher, branches).tolist()):
                row[f"overlap_W_{m}"] = v
            pres = net.preactivations(self.probe.x)
            for ell in self.levels:
                values = level_overlap(pres[ell - 1], self.probe.levels[ell - 1], branches).tolist()
                for m, v in enumerate(values):
                    row[f"overlap_h{ell}_{m}"] = v
        self.record.add(**row)
        bad = self.watch.first_bad_step
        if bad is not None or not math.isfinite(row["train_loss"]):
            self.record.mark_diverged(stage, bad if bad is not None else step)
            return False
        return True


@torch.no_grad()
def train_deep_layerwise(
    train: TargetSample | Sequence[TargetSample],
    config: DeepLayerwiseConfig,
    generator: torch.Generator,
    target: HierarchicalTarget | None = None,
    validation: TargetSample | None = None,
    n_probe: int = 1000,
) -> DeepLayerwiseResult:
    """Layerwise training of a deep network (see the module docs).

    Args:
        train: one sample reused by every stage (the paper's data reuse), or ``L + 1``
            samples, one per stage (``L`` layers, then the readout).
        config: a :class:`DeepLayerwiseConfig`.
        generator: draws the initialisation, then the probe inputs (if ``target`` is given),
            then the mini-batches, in this order (as :func:`hight_lite.train_layerwise`).
        target: if given, ``overlap_W_<m>`` and ``overlap_h<ℓ>_<m>`` (``2 <= ℓ <= min(L, target depth)``)
            are recorded at every checkpoint, on ``n_probe`` fresh inputs.
        validation: if given, its loss is recorded at every checkpoint.

    Returns:
        A :class:`DeepLayerwiseResult`; its record has stages ``"layer 1"``, ..., ``"layer L"``,
        ``"readout"``. If a loss becomes NaN or infinite, training stops there and the record
        says where (the readout is then not fitted).
    """
    if not isinstance(config, DeepLayerwiseConfig):
        raise ValueError(f"config must be a DeepLayerwiseConfig, got {type(config).__name__}")
    check_positive_int(n_probe, "n_probe")
    L = config.depth
    samples = _stage_samples(train, L + 1)
    d = samples[0].x.shape[1]
    dtype, device = samples[0].x.dtype, samples[0].x.device
    net = DeepNetwork.init(d, config, generator, device=device, dtype=dtype)
    probe = None if target is None else target.sample(n_probe, generator)
    record = TrainingRecord()
    log = _Logger(net, validation, target, probe, record, config.batch_fraction)
    reference = config.gradient_normalization == "reference"
    f = config.batch_fraction
    decay2 = config.weight_decay2 / d**1.5

    for layer in range(1, L + 1):
        stage = f"layer {layer}"
        sample = samples[layer - 1]
        n = sample.x.shape[0]
        below = net.features(sample.x, layer - 1)  # frozen features, computed once per stage
        steps = int(config.epochs[layer - 1] / f)
        batch = max(1, int(n * f))
        scale = config.gradient_scale(layer)
        normalizer = n if (reference and layer >= 2) else None
        decay = config.weight_decay1 if layer == 1 else decay2
        weight = net.weights[layer - 1]
        marks = set(checkpoint_steps(steps, config.checkpoints))
        for step in range(steps + 1):
            if step in marks and not log(stage, step, below, sample.y, layer - 1):
                return DeepLayerwiseResult(net, record, config)
            if step == steps:
                break
            idx = minibatch_indices(n, batch, generator, device)
            grad, loss = deep_layer_gradient(net, below[idx], sample.y[idx], layer, normalizer)
            log.watch.update(step, loss)
            if layer == 1:
                weight.sub_(config.lr * (scale * grad + decay * weight))
            else:  # the same floating-point expression as the three-layer code
                weight.sub_(config.later_lr_factor * config.lr * (scale * grad + decay * weight))
        log.offset += steps

    readout_sample = samples[L]
    top = net.features(readout_sample.x)
    net.readout = ridge_solve(top, readout_sample.y, config.ridge)
    log("readout", 0, top, readout_sample.y, L)
    return DeepLayerwiseResult(net, record, config)
