r"""Theorem 1's protocol (Algorithm 1 of the paper): spherical online SGD, one pre-conditioned step, ridge.

The network is a three-layer net without biases,

.. math::  \hat f(x) = \frac{1}{\sqrt{p_2}}\, w_3^\top \sigma\big(W_2\, \sigma(W_1 x)\big),
   \qquad W_1 \in \mathbb{R}^{p_1\times d},\ W_2 \in \mathbb{R}^{p_2\times p_1},\ w_3 \in \mathbb{R}^{p_2},

with an analytic activation :math:`\sigma` (:class:`TheoremActivation`), trained on the
correlation loss :math:`\mathcal{L} = -\hat f(x)\,y` with fresh data in every phase:

1. **Phase 1** (:func:`phase_one`): :math:`W_2 = I_{p_1}`, :math:`w_3 = \mathbf 1`, rows of
   :math:`W_1` uniform on the unit sphere; ``T₁ = ⌈c log d⌉`` steps of neuron-wise spherical
   online SGD, each on a fresh batch of :math:`n_1 = \lfloor d^{\kappa_1}\rfloor`,
   :math:`\kappa_1 = 1 + \varepsilon_1 + \delta` (:func:`spherical_step`).
2. **Phase 2** (:func:`phase_two`): :math:`W_2 = 0`, :math:`w_3 \sim \mathcal N(0, I_{p_2})`; one
   pre-conditioned step on a fresh batch of :math:`n_2 = \lfloor d^{\kappa_2}\rfloor`,
   :math:`\kappa_2 = k\varepsilon_1 + \delta` (:func:`preconditioned_step`).
3. **Phase 3** (:func:`phase_three`): ridge regression for :math:`w_3` on a fresh batch of
   :math:`n_3 = \lfloor d^{\kappa_3}\rfloor`.

:func:`train_theorem_one` runs the three phases and measures the test error on fresh data.

Choices this module makes where the paper's digest is silent or uncertain, each a named
constant of :class:`TheoremConfig`:

* the output scale :math:`1/\sqrt{p_2}` (during phase 1, :math:`p_2 = p_1`), which makes the
  digest's step :math:`\eta_1 \propto \sqrt{p_2}\sqrt{d_\mathrm{eff}}` a step of order
  :math:`\sqrt{d_\mathrm{eff}}` for every neuron;
* the ridge of the pre-conditioner, :math:`\lambda_2 = c\,p_1/n_2` **[uncertain]**;
* the second step :math:`\eta_2 = c\,\sqrt{p_2}/|\sigma'(0)|` and the readout ridge.

The theorem's target has all teacher signs :math:`a^\star_i = 1` (``teacher_signs="ones"``).
With the Rademacher signs of the paper's numerics, phase 1 pulls every neuron into the
span of the directions whose sign matches the activation's (half of :math:`W^\star`); see
chapter 8 of the book.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd
import torch

from .hermite import gaussian_expectation, hermite_coefficients
from .metrics import first_layer_overlap, mse, second_layer_overlap
from .ridge import ridge_solve
from .targets import HierarchicalTarget, TargetConfig, TargetSample, integer_power
from .theory import gaussian_limit_variances, random_level
from .training import check_nonnegative, check_positive, check_positive_int

__all__ = [
    "TheoremActivation",
    "TheoremConfig",
    "TheoremSizes",
    "TheoremNetwork",
    "PhaseOneResult",
    "PhaseTwoResult",
    "PhaseThreeResult",
    "TheoremOneResult",
    "phase_one_target_signal",
    "predict_phase_one",
    "spherical_step",
    "second_layer_gradient",
    "preconditioned_step",
    "phase_one",
    "phase_two",
    "phase_three",
    "train_theorem_one",
]

#: Quadrature order of every expectation in this module.
_ORDER = 200
#: ``|E[σ(σ(z)) z]|`` below this counts as zero.
_ZERO_TOL = 1e-9
#: ``|σ'(0)|`` and the Hermite coefficients that must not vanish must exceed this.
_NONZERO_TOL = 1e-3


def _tanh(z):
    return torch.tanh(z) if isinstance(z, torch.Tensor) else np.tanh(z)


# ---------------------------------------------------------------------------------------
# The activation
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TheoremActivation:
    r"""The analytic activation :math:`\sigma(z) = \tanh(z + a) - b z - c` of Theorem 1.

    Conditions imposed (and reported by :meth:`conditions`), with :math:`z\sim\mathcal N(0,1)`
    and :math:`\varphi = \sigma\circ\sigma`, the activation a first-layer neuron sees in phase 1
    (where :math:`W_2 = I`):

    1. :math:`\mathbb{E}[\sigma(\sigma(z))\,z] = 0`: :math:`\varphi` has no linear Hermite component,
       so a neuron is driven by the degree-2 part of the target (information exponent 2) and
       not pulled towards the single direction :math:`\mathbb{E}[y\,x]`;
    2. :math:`\sigma'(0) = 1 - \tanh^2 a - b \ne 0`: phase 2 starts from :math:`W_2 = 0`, where the
       gradient on :math:`W_2` is proportional to :math:`\sigma'(0)`;
    3. :math:`c_2(\varphi) = \mathbb{E}[\varphi(z)\,\mathrm{He}_2(z)]/\sqrt 2 \ne 0`, of the sign
       ``he2_sign`` (the phase-1 signal: its sign times the target's decides whether neurons
       move towards :math:`W^\star` or away from it);
    4. the Hermite coefficients :math:`c_j(\sigma)`, ``j = 2..k``, do not vanish, so that
       features :math:`\sigma(w\cdot z)` span the polynomials of degree ``k`` in ``z`` phase 2 needs;
    5. **our addition** (``centered=True``, the default): :math:`\mathbb{E}[\sigma(z)] = 0`, i.e.
       :math:`c = \mathbb{E}[\tanh(z + a)]`. Without it, a combination
       :math:`\sum_j \alpha_j\sigma(w_j\cdot z)` of unit-norm neurons has mean
       :math:`c_0(\sigma)\sum_j\alpha_j` tied to the trace :math:`\sum_j\alpha_j` of its quadratic
       part, so the radial part :math:`\propto \sum_i \mathrm{He}_2(z_i)` of :math:`h^\star` (all of
       its degree-2 part when :math:`a^\star = \mathbf 1`) comes with a large constant and the
       bias-free phase 2 cannot build it. The digest's family is ``centered=False`` (:math:`c = 0`).

    Condition 1 fixes ``b`` given ``a`` (a root in ``b``, Brent's method); ``a`` maximises the
    phase-1 signal-to-noise ratio :math:`|\rho|`, :math:`\rho = c_2(\varphi)/\sqrt{\mathbb{E}[\varphi'(z)^2]}`
    (:meth:`solve`). Flipping :math:`(a, c) \to (-a, -c)` maps :math:`\sigma(z) \to -\sigma(-z)` and
    :math:`\varphi(z) \to -\varphi(-z)`: the conditions still hold and :math:`c_2(\varphi)` changes sign.

    Attributes:
        a: the shift inside the tanh.
        b: the slope subtracted.
        c: the constant subtracted (``E[tanh(z + a)]`` when centred, else 0).
    """

    a: float
    b: float
    c: float = 0.0

    def __post_init__(self) -> None:
        for name in ("a", "b", "c"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))

    # ---- evaluation (NumPy arrays or torch tensors) --------------------------------------
    def __call__(self, z):
        r""":math:`\sigma(z) = \tanh(z + a) - b z - c`, element-wise."""
        return _tanh(z + self.a) - self.b * z - self.c

    def derivative(self, z):
        r""":math:`\sigma'(z) = 1 - \tanh^2(z + a) - b`, element-wise."""
        return 1.0 - _tanh(z + self.a) ** 2 - self.b

    def composite(self, z):
        r""":math:`\varphi(z) = \sigma(\sigma(z))`."""
        return self(self(z))

    def composite_derivative(self, z):
        r""":math:`\varphi'(z) = \sigma'(\sigma(z))\,\sigma'(z)`."""
        return self.derivative(self(z)) * self.derivative(z)

    # ---- Gaussian quantities -------------------------------------------------------------
    @property
    def slope_at_zero(self) -> float:
        r""":math:`\sigma'(0)`."""
        return float(self.derivative(np.zeros(1))[0])

    @property
    def centered(self) -> bool:
        r"""Whether :math:`|\mathbb{E}[\sigma(z)]|` is below the tolerance."""
        return abs(self.mean()) < _ZERO_TOL

    def mean(self, order: int = _ORDER) -> float:
        r""":math:`\mathbb{E}[\sigma(z)]`."""
        return gaussian_expectation(self, order=order)

    def composite_linear_moment(self, order: int = _ORDER) -> float:
        r""":math:`\mathbb{E}[\sigma(\sigma(z))\,z]` by Gauss–Hermite quadrature."""
        return gaussian_expectation(lambda z: self.composite(z) * z, order=order)

    def composite_hermite(self, max_degree: int = 4, order: int = _ORDER) -> np.ndarray:
        r"""Orthonormal Hermite coefficients of :math:`\varphi = \sigma\circ\sigma`, degrees ``0..max_degree``."""
        return hermite_coefficients(self.composite, max_degree, "orthonormal", order)

    def hermite(self, max_degree: int = 4, order: int = _ORDER) -> np.ndarray:
        r"""Orthonormal Hermite coefficients of :math:`\sigma`, degrees ``0..max_degree``."""
        return hermite_coefficients(self, max_degree, "orthonormal", order)

    def composite_derivative_energy(self, order: int = _ORDER) -> float:
        r""":math:`\mathbb{E}[\varphi'(z)^2]`: the size of a neuron's gradient noise in phase 1."""
        return gaussian_expectation(lambda z: self.composite_derivative(z) ** 2, order=order)

    def signal_to_noise(self, order: int = _ORDER) -> float:
        r""":math:`\rho = c_2(\varphi)/\sqrt{\mathbb{E}[\varphi'(z)^2]}`, the phase-1 signal-to-noise ratio."""
        return float(self.composite_hermite(2, order)[2] / math.sqrt(self.composite_derivative_energy(order)))

    def conditions(self, max_degree: int = 3, he2_sign: float = 1.0, order: int = _ORDER) -> pd.DataFrame:
        """The conditions on σ (see the class docs), each computed by quadrature.

        Args:
            max_degree: ``k``, the degree of the target's polynomial: the coefficients of σ
                of degrees ``2..k`` must not vanish.
            he2_sign: the required sign of :math:`c_2(\\varphi)`.

        Returns:
            A table with columns ``condition``, ``value``, ``requirement``, ``holds``.
        """
        c_phi = self.composite_hermite(2, order)
        c_sigma = self.hermite(max_degree, order)
        linear = self.composite_linear_moment(order)
        mean = self.mean(order)
        rows = [
            ("E[σ(σ(z)) z]", linear, f"= 0 (|·| < {_ZERO_TOL:g})", abs(linear) < _ZERO_TOL),
            ("σ'(0)", self.slope_at_zero, f"≠ 0 (|·| > {_NONZERO_TOL:g})", abs(self.slope_at_zero) > _NONZERO_TOL),
            ("c₂(σ∘σ) = E[σ(σ(z)) He₂(z)]/√2", float(c_phi[2]),
             f"sign {'+' if he2_sign > 0 else '−'}, |·| > {_NONZERO_TOL:g}",
             bool(np.sign(c_phi[2]) == np.sign(he2_sign) and abs(c_phi[2]) > _NONZERO_TOL)),
        ]
        for j in range(2, max_degree + 1):
            rows.append((f"c{j}(σ) = E[σ(z) He{j}(z)]/√({j}!)", float(c_sigma[j]), f"≠ 0 (|·| > {_NONZERO_TOL:g})",
                         abs(c_sigma[j]) > _NONZERO_TOL))
        rows.append(("E[σ(z)] (our addition)", mean, f"= 0 (|·| < {_ZERO_TOL:g})", abs(mean) < _ZERO_TOL))
        return pd.DataFrame(rows, columns=["condition", "value", "requirement", "holds"])

    def satisfies(self, max_degree: int = 3, he2_sign: float = 1.0) -> bool:
        """Whether every row of :meth:`conditions` holds."""
        return bool(self.conditions(max_degree, he2_sign).holds.all())

    # ---- construction ----------------------------------------------------------------------
    @staticmethod
    def offset_for(a: float, centered: bool = True) -> float:
        r"""``c``: :math:`\mathbb{E}[\tanh(z + a)]` if ``centered``, else 0."""
        return gaussian_expectation(lambda z: np.tanh(z + a)) if centered else 0.0

    @staticmethod
    def slope_for(a: float, centered: bool = True, b_range: tuple[float, float] = (-1.0, 2.0), grid: int = 151) -> float:
        r"""The root ``b`` of :math:`\mathbb{E}[\sigma(\sigma(z))z] = 0` in ``b_range`` with the largest :math:`|\rho|`.

        Raises:
            ValueError: if there is no root in ``b_range``.
        """
        from scipy.optimize import brentq

        c = TheoremActivation.offset_for(a, centered)

        def moment(b: float) -> float:
            return TheoremActivation(a, b, c).composite_linear_moment()

        bs = np.linspace(b_range[0], b_range[1], grid)
        values = np.array([moment(b) for b in bs])
        roots = [float(bs[i]) if values[i] == 0.0 else float(brentq(moment, bs[i], bs[i + 1], xtol=1e-14, rtol=1e-14))
                 for i in np.nonzero(np.sign(values[:-1]) * np.sign(values[1:]) <= 0)[0]]
        if not roots:
            raise ValueError(f"a = {a}: E[σ(σ(z)) z] has no root for b in {b_range}; choose another a")
        return max(roots, key=lambda b: abs(TheoremActivation(a, b, c).signal_to_noise()))

    @classmethod
    def solve(
        cls,
        a: float | None = None,
        he2_sign: float = 1.0,
        centered: bool = True,
        a_bounds: tuple[float, float] = (0.05, 3.0),
    ) -> "TheoremActivation":
        r"""The activation meeting the conditions, with the largest phase-1 signal-to-noise ratio.

        Args:
            a: fix :math:`|a|` and solve only for ``b`` (and ``c``); ``None`` maximises
                :math:`|\rho(a)|` over ``a_bounds`` (a grid, then ``scipy.optimize.minimize_scalar``).
            he2_sign: the sign wanted for :math:`c_2(\sigma\circ\sigma)` (``+1`` or ``-1``); it fixes the sign of ``a``.
            centered: impose :math:`\mathbb{E}[\sigma(z)] = 0` (condition 5); ``False`` is the digest's
                :math:`\tanh(z + a) - bz`.
        """
        if he2_sign not in (1, -1, 1.0, -1.0):
            raise ValueError(f"he2_sign must be +1 or -1, got {he2_sign!r}")
        lo, hi = (float(v) for v in a_bounds)
        if not 0 < lo < hi:
            raise ValueError(f"a_bounds must satisfy 0 < low < high, got {a_bounds}")
        return _solve_cached(None if a is None else abs(float(a)), float(he2_sign), bool(centered), (lo, hi))


def _abs_snr(a: float, centered: bool) -> float:
    try:
        b = TheoremActivation.slope_for(a, centered)
    except ValueError:
        return 0.0
    return abs(TheoremActivation(a, b, TheoremActivation.offset_for(a, centered)).signal_to_noise())


@functools.lru_cache(maxsize=16)
def _solve_cached(a: float | None, he2_sign: float, centered: bool, a_bounds: tuple[float, float]) -> TheoremActivation:
    from scipy.optimize import minimize_scalar

    if a is None:
        grid = np.linspace(a_bounds[0], a_bounds[1], 30)
        scores = [_abs_snr(v, centered) for v in grid]
        i = int(np.argmax(scores))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        a = float(minimize_scalar(lambda v: -_abs_snr(v, centered), bounds=(lo, hi), method="bounded",
                                  options={"xatol": 1e-7}).x)
    b = TheoremActivation.slope_for(a, centered)
    activation = TheoremActivation(a, b, TheoremActivation.offset_for(a, centered))
    if np.sign(activation.composite_hermite(2)[2]) != np.sign(he2_sign):
        activation = TheoremActivation(-activation.a, activation.b, -activation.c)  # σ(z) -> -σ(-z)
    return activation


def phase_one_target_signal(target: TargetConfig, order: int = _ORDER) -> float:
    r""":math:`\beta = \mathbb{E}[g^{\star\prime}(h)]\;\mathbb{E}[P(z)\,\mathrm{He}_2(z)]/\sqrt2`, in the Gaussian limit.

    To first order in :math:`d_\mathrm{eff}^{-1/2}`, a hidden direction :math:`w^\star_i` carries
    :math:`\mathbb{E}[y\,\mathrm{He}_2(z_i)]/\sqrt 2 = a^\star_i\,\beta/\sqrt{d_\mathrm{eff}}` (orthonormal
    :math:`\mathrm{He}_2`). :math:`\mathbb{E}[g'(h)] = \mathbb{E}[g(h)h]/v` (Stein's lemma) with
    :math:`h\sim\mathcal N(0, v)`, ``v`` the variance of :math:`h^\star`.
    """
    _check_sight(target)
    v = gaussian_limit_variances(target)[-1]
    slope = gaussian_expectation(lambda h: np.asarray(target.link(h[:, None]), dtype=float) * h, v, order) / v
    return float(slope * target.polynomial.coefficient(2, "orthonormal"))


def _check_sight(target: TargetConfig) -> None:
    if not isinstance(target, TargetConfig):
        raise ValueError(f"target must be a TargetConfig, got {type(target).__name__}")
    if target.depth != 2 or target.branches != 1:
        raise ValueError(
            f"Theorem 1 is stated for SIGHT (depth L = 2, one branch), got L = {target.depth}, r = {target.branches}"
        )


# ---------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TheoremSizes:
    """Every number the protocol uses for one target (from :meth:`TheoremConfig.sizes`).

    Attributes:
        d, d_eff, degree: the target's ``d``, ``d_eff`` and the degree ``k`` of ``P``.
        kappa1, kappa2, kappa3: batch exponents of the three phases.
        batch1, batch2, batch3: ``n_i = ⌊d^κ_i⌋``.
        steps1: ``T₁``, the number of phase-1 steps.
        width1, width2: ``p₁``, ``p₂``.
        lr1, lr2: ``η₁``, ``η₂``.
        ridge2: ``λ₂`` of the pre-conditioner.
        ridge3: λ of the readout.
    """

    d: int
    d_eff: int
    degree: int
    kappa1: float
    kappa2: float
    kappa3: float
    batch1: int
    batch2: int
    batch3: int
    steps1: int
    width1: int
    width2: int
    lr1: float
    lr2: float
    ridge2: float
    ridge3: float

    @property
    def samples(self) -> int:
        """Fresh samples used in all: ``T₁ n₁ + n₂ + n₃``."""
        return self.steps1 * self.batch1 + self.batch2 + self.batch3

    @property
    def kappa_total(self) -> float:
        """``log(samples) / log d``."""
        return math.log(self.samples) / math.log(self.d)


@dataclass(frozen=True)
class TheoremConfig:
    r"""Every constant of Theorem 1's protocol (Algorithm 1). Sizes follow from a target by :meth:`sizes`.

    Args:
        width1: ``p₁``, first-layer width (:meth:`paper`: ``⌈4 · C(d_eff + k, k)⌉``, four times the
            number of polynomials of degree ``≤ k`` in ``z`` that phase 2 must combine).
        width2: ``p₂``, second-layer width in phases 2 and 3 (the theorem: ``p₂ = p₁``; during phase 1,
            ``W₂ = I_{p₁}``).
        delta: δ ≥ 0, the margin of the default batch exponents above their thresholds (default 0.5).
        kappa1: phase-1 batch exponent, ``n₁ = ⌊d^κ₁⌋``; ``None``: ``1 + ε₁ + δ``.
        kappa2: phase-2 batch exponent; ``None``: ``k ε₁ + δ``.
        kappa3: readout batch exponent (the theory: ``Õ(1)`` samples suffice; default 2).
        steps1_coefficient: ``c`` in ``T₁ = ⌈c ln d⌉`` (polylog d steps; default 6, enough for the
            drift γ = 0.25 of :meth:`paper` to bring ``M_W`` from ``√(d_eff/d)`` to its plateau).
        lr1_coefficient: ``c₁`` in ``η₁ = c₁ √p₁ √d_eff`` (the digest: ``η₁ ∝ √p₂ √d_eff``, and
            ``p₂ = p₁`` in phase 1). :meth:`paper` picks ``c₁ = γ / (2 c₂(σ∘σ) β)`` for a population
            drift ``γ`` per step (see :func:`predict_phase_one`); the default 6 is about what it picks
            for the main example.
        lr2_coefficient: ``c₂`` in ``η₂ = c₂ √p₂ / |σ'(0)|``: the step makes every second-layer
            pre-activation ``± c₂ (w₃)_j ĥ(x)``, ``ĥ`` the ridge fit of ``y`` on the first-layer features.
        ridge2_coefficient: ``c`` in ``λ₂ = c p₁ / n₂`` **[uncertain]** (the digest: ``λ₂ ~ p₁/n₂``;
            default 0.01, for features of variance ``E[σ(z)²] ≈ 0.04``).
        ridge3: λ of the readout, ``(HᵀH + λ n₃ I) w₃ = Hᵀ y`` (default 1e-4).
        activation: σ (default :meth:`TheoremActivation.solve`).
        n_probe: fresh inputs on which ``M_h`` is measured (the paper: 1000).
    """

    width1: int
    width2: int
    delta: float = 0.5
    kappa1: Optional[float] = None
    kappa2: Optional[float] = None
    kappa3: float = 2.0
    steps1_coefficient: float = 6.0
    lr1_coefficient: float = 6.0
    lr2_coefficient: float = 2.0
    ridge2_coefficient: float = 0.01
    ridge3: float = 1e-4
    activation: TheoremActivation = field(default_factory=TheoremActivation.solve)
    n_probe: int = 1000

    def __post_init__(self) -> None:
        check_positive_int(self.width1, "width1")
        check_positive_int(self.width2, "width2")
        check_nonnegative(self.delta, "delta")
        for name in ("kappa1", "kappa2", "kappa3"):
            value = getattr(self, name)
            if value is None and name != "kappa3":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 10.0:
                raise ValueError(f"{name} must lie in (0, 10){' or be None' if name != 'kappa3' else ''}, got {value!r}")
        check_positive(self.steps1_coefficient, "steps1_coefficient")
        check_positive(self.lr1_coefficient, "lr1_coefficient")
        check_positive(self.lr2_coefficient, "lr2_coefficient")
        check_positive(self.ridge2_coefficient, "ridge2_coefficient")
        check_nonnegative(self.ridge3, "ridge3")
        if not isinstance(self.activation, TheoremActivation):
            raise ValueError(f"activation must be a TheoremActivation, got {type(self.activation).__name__}")
        if abs(self.activation.slope_at_zero) <= _NONZERO_TOL:
            raise ValueError(f"activation must have σ'(0) ≠ 0, got σ'(0) = {self.activation.slope_at_zero:g}")
        check_positive_int(self.n_probe, "n_probe", minimum=2)

    @classmethod
    def paper(
        cls,
        target: TargetConfig,
        drift: float = 0.25,
        width_factor: float = 4.0,
        activation: TheoremActivation | None = None,
        **overrides,
    ) -> "TheoremConfig":
        r"""The protocol for ``target``: ``p₁ = p₂ = ⌈width_factor · C(d_eff + k, k)⌉``, η₁ from ``drift``.

        Args:
            target: a SIGHT configuration (``d``, ``ε₁`` and ``P`` set the sizes).
            drift: γ, the population drift per phase-1 step: ``‖P_{W*} w‖`` grows by a factor
                about ``1 + γ`` per step while small; ``c₁ = γ / (2 c₂(σ∘σ) β)``
                (:func:`phase_one_target_signal`).
            width_factor: ``p₁`` in units of the number of polynomials of degree ``≤ k`` in ``d_eff`` variables.
            activation: σ; default the solved one, with ``c₂(σ∘σ)`` of the sign of β so that
                neurons move towards ``W*``.
            overrides: any other field (``delta``, ``kappa1``, ...).
        """
        _check_sight(target)
        check_positive(drift, "drift")
        check_positive(width_factor, "width_factor")
        beta = phase_one_target_signal(target)
        if activation is None:
            activation = TheoremActivation.solve(he2_sign=1.0 if beta >= 0 else -1.0)
        c2 = float(activation.composite_hermite(2)[2])
        if c2 * beta <= 0:
            raise ValueError(
                f"activation has c₂(σ∘σ) = {c2:.3g} and the target β = {beta:.3g}: their product must be > 0 "
                "for phase 1 to move towards W* (flip the sign of a)"
            )
        width = math.ceil(width_factor * math.comb(target.d_eff + target.polynomial.degree, target.polynomial.degree))
        fields = dict(width1=width, width2=width, lr1_coefficient=drift / (2 * c2 * beta), activation=activation)
        fields.update(overrides)
        return cls(**fields)

    def sizes(self, target: TargetConfig) -> TheoremSizes:
        """Every concrete number of the protocol for ``target`` (batch sizes, steps, steps sizes, ridges)."""
        _check_sight(target)
        d, d_eff, k, e1 = target.d, target.d_eff, target.polynomial.degree, target.epsilons[0]
        kappa1 = self.kappa1 if self.kappa1 is not None else 1 + e1 + self.delta
        kappa2 = self.kappa2 if self.kappa2 is not None else k * e1 + self.delta
        n1, n2, n3 = (max(1, integer_power(d, kap)) for kap in (kappa1, kappa2, self.kappa3))
        return TheoremSizes(
            d=d, d_eff=d_eff, degree=k, kappa1=kappa1, kappa2=kappa2, kappa3=self.kappa3,
            batch1=n1, batch2=n2, batch3=n3,
            steps1=max(1, math.ceil(self.steps1_coefficient * math.log(d))),
            width1=self.width1, width2=self.width2,
            lr1=self.lr1_coefficient * math.sqrt(self.width1) * math.sqrt(d_eff),
            lr2=self.lr2_coefficient * math.sqrt(self.width2) / abs(self.activation.slope_at_zero),
            ridge2=self.ridge2_coefficient * self.width1 / n2,
            ridge3=self.ridge3,
        )

    def table(self, target: TargetConfig) -> pd.DataFrame:
        """The sizes for ``target`` with the rule behind each, one row per constant."""
        s = self.sizes(target)
        rules = [
            ("p₁", s.width1, "width1"),
            ("p₂", s.width2, "width2 (phase 1: W₂ = I_{p₁})"),
            ("κ₁", s.kappa1, "1 + ε₁ + δ" if self.kappa1 is None else "kappa1"),
            ("n₁", s.batch1, "⌊d^κ₁⌋, fresh at every phase-1 step"),
            ("T₁", s.steps1, f"⌈{self.steps1_coefficient:g} ln d⌉"),
            ("η₁", s.lr1, f"{self.lr1_coefficient:.4g} √p₁ √d_eff"),
            ("κ₂", s.kappa2, "k ε₁ + δ" if self.kappa2 is None else "kappa2"),
            ("n₂", s.batch2, "⌊d^κ₂⌋"),
            ("η₂", s.lr2, f"{self.lr2_coefficient:g} √p₂ / |σ'(0)|"),
            ("λ₂", s.ridge2, f"{self.ridge2_coefficient:g} p₁ / n₂ [uncertain]"),
            ("κ₃", s.kappa3, "kappa3"),
            ("n₃", s.batch3, "⌊d^κ₃⌋"),
            ("λ₃", s.ridge3, "readout ridge"),
            ("δ", self.delta, "delta"),
            ("samples", s.samples, "T₁ n₁ + n₂ + n₃"),
        ]
        return pd.DataFrame(rules, columns=["constant", "value", "rule"])


# ---------------------------------------------------------------------------------------
# The network and the update rules
# ---------------------------------------------------------------------------------------
@dataclass
class TheoremNetwork:
    r""":math:`\hat f(x) = p_2^{-1/2}\, w_3^\top\sigma(W_2\,\sigma(W_1 x))`, no biases.

    Attributes:
        w1 ``(p1, d)``, w2 ``(p2, p1)``, w3 ``(p2,)``, activation σ.
    """

    w1: torch.Tensor
    w2: torch.Tensor
    w3: torch.Tensor
    activation: TheoremActivation

    def features1(self, x: torch.Tensor) -> torch.Tensor:
        """``σ(x W₁ᵀ)``, ``(n, p1)``."""
        return self.activation(x @ self.w1.T)

    def preactivation2(self, x: torch.Tensor) -> torch.Tensor:
        """Second-layer pre-activations ``σ(x W₁ᵀ) W₂ᵀ``, ``(n, p2)``."""
        return self.features1(x) @ self.w2.T

    def features2(self, x: torch.Tensor) -> torch.Tensor:
        """``σ(σ(x W₁ᵀ) W₂ᵀ) / √p₂``, ``(n, p2)``: the readout's features."""
        return self.activation(self.preactivation2(x)) / math.sqrt(self.w2.shape[0])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions ``(n,)``."""
        return self.features2(x) @ self.w3


def spherical_step(
    w1: torch.Tensor, x: torch.Tensor, y: torch.Tensor, activation: TheoremActivation, lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One phase-1 step: neuron-wise spherical SGD on the correlation loss, ``W₂ = I``, ``w₃ = 1``.

    With :math:`\varphi = \sigma\circ\sigma` and the batch loss
    :math:`\mathcal{L} = -\frac{1}{n}\sum_\mu y_\mu\, p^{-1/2}\sum_j \varphi(w_j\cdot x_\mu)`,

    .. math::
        g_j = \nabla_{w_j}\mathcal{L} = -\frac{1}{n\sqrt{p}}\sum_\mu y_\mu\,\varphi'(w_j\cdot x_\mu)\,x_\mu,\qquad
        \tilde g_j = (I - w_j w_j^\top)\, g_j,\qquad
        w_j \leftarrow \frac{w_j - \eta\,\tilde g_j}{\|w_j - \eta\,\tilde g_j\|}.

    Args:
        w1: ``(p, d)``, rows on the unit sphere.
        x: ``(n, d)``; y: ``(n,)``.
        activation: σ.
        lr: η.

    Returns:
        The new ``(p, d)`` weights (rows of unit norm) and the batch loss (a 0-d tensor, no sync).
    """
    p = w1.shape[0]
    pre = x @ w1.T  # (n, p)
    hidden = activation(pre)
    loss = -(y * activation(hidden).sum(1)).mean() / math.sqrt(p)
    slope = activation.derivative(hidden) * activation.derivative(pre)  # φ'(w_j · x_μ)
    grad = -((y[:, None] * slope).T @ x) / (x.shape[0] * math.sqrt(p))  # (p, d)
    tangent = grad - (grad * w1).sum(1, keepdim=True) * w1
    moved = w1 - lr * tangent
    return moved / moved.norm(dim=1, keepdim=True), loss


def second_layer_gradient(
    w2: torch.Tensor, w3: torch.Tensor, features: torch.Tensor, y: torch.Tensor, activation: TheoremActivation
) -> torch.Tensor:
    r""":math:`\nabla_{W_2}\mathcal{L}` of the correlation loss, ``(p2, p1)``.

    With :math:`Z = \sigma(X W_1^\top)` ``(n, p1)`` and :math:`U = Z W_2^\top` ``(n, p2)``:

    .. math::  \nabla_{W_2}\mathcal{L} = -\frac{1}{n\sqrt{p_2}}\big(y \odot \sigma'(U)\odot w_3\big)^\top Z,

    which at :math:`W_2 = 0` is :math:`-\sigma'(0)\, w_3\, (Z^\top y/n)^\top/\sqrt{p_2}`.
    """
    n, p2 = features.shape[0], w2.shape[0]
    delta = y[:, None] * activation.derivative(features @ w2.T) * w3  # (n, p2)
    return -(delta.T @ features) / (n * math.sqrt(p2))


def preconditioned_step(
    w2: torch.Tensor,
    w3: torch.Tensor,
    features: torch.Tensor,
    y: torch.Tensor,
    activation: TheoremActivation,
    lr: float,
    ridge: float,
) -> torch.Tensor:
    r"""Phase 2's single step, ``(p2, p1)``:

    .. math::  W_2 \leftarrow W_2 - \eta_2\, \nabla_{W_2}\mathcal{L}\,
               \Big(\tfrac{1}{n_2} Z^\top Z + \lambda_2 I_{p_1}\Big)^{-1},

    computed with ``torch.linalg.solve`` (the matrix is symmetric, so
    :math:`G C^{-1} = (C^{-1} G^\top)^\top`). From :math:`W_2 = 0` every row becomes
    :math:`\eta_2\sigma'(0)(w_3)_j\,\hat\beta^\top/\sqrt{p_2}` with :math:`\hat\beta` the ridge fit of
    ``y`` on ``Z``: each unit's pre-activation is proportional to the same function
    :math:`\hat h(x) = \sigma(W_1 x)\cdot\hat\beta`.

    Args:
        w2 ``(p2, p1)``, w3 ``(p2,)``, features ``Z`` ``(n, p1)``, y ``(n,)``, σ, η₂, λ₂ > 0.
    """
    n, p1 = features.shape
    grad = second_layer_gradient(w2, w3, features, y, activation)
    precond = features.T @ features / n
    precond.diagonal().add_(ridge)
    return w2 - lr * torch.linalg.solve(precond, grad.T).T


# ---------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------
@dataclass
class PhaseOneResult:
    """Phase 1's first layer and its history.

    Attributes:
        w1: ``(p1, d)``, unit rows.
        history: one row per step (``step`` 0 is the initialisation): ``phase``, ``step``,
            ``samples`` (fresh samples so far), ``correlation_loss`` (on the step's batch),
            ``overlap_W_0`` (:math:`\\|M_W\\|_F/\\sqrt{p_1}`), ``overlap_h_0`` (:math:`M_h` of
            ``σ(W₁x)``, the second-layer pre-activations while ``W₂ = I``).
    """

    w1: torch.Tensor
    history: pd.DataFrame


@dataclass
class PhaseTwoResult:
    """Phase 2's second layer (``w2``), the readout it was taken with (``w3``), and its history row."""

    w2: torch.Tensor
    w3: torch.Tensor
    history: pd.DataFrame


@dataclass
class PhaseThreeResult:
    """Phase 3's readout ``w3`` and its history row (``train_loss``: MSE on the readout batch)."""

    w3: torch.Tensor
    history: pd.DataFrame


@dataclass
class TheoremOneResult:
    """A network trained by Algorithm 1.

    Attributes:
        network: the :class:`TheoremNetwork`.
        history: phases 1-3 in one tidy table (see :class:`PhaseOneResult`).
        sizes: the :class:`TheoremSizes` used.
        test_error: MSE on ``n_test`` fresh samples.
        config: the :class:`TheoremConfig`.
    """

    network: TheoremNetwork
    history: pd.DataFrame
    sizes: TheoremSizes
    test_error: float
    config: TheoremConfig


# ---------------------------------------------------------------------------------------
# The three phases
# ---------------------------------------------------------------------------------------
def _resolve(target: HierarchicalTarget, device, dtype) -> tuple[torch.device, torch.dtype]:
    if not isinstance(target, HierarchicalTarget):
        raise ValueError(f"target must be a HierarchicalTarget (a built target), got {type(target).__name__}")
    return (torch.device(device) if device is not None else target.device), (dtype or target.dtype)


def _draw(target: HierarchicalTarget, n: int, generator: torch.Generator, device, dtype) -> TargetSample:
    s = target.sample(n, generator)
    return TargetSample(s.x.to(device, dtype), s.y.to(device, dtype), tuple(h.to(device, dtype) for h in s.levels))


def _check_generator(generator) -> None:
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")


def phase_one(
    target: HierarchicalTarget,
    config: TheoremConfig,
    generator: torch.Generator,
    probe: TargetSample | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> PhaseOneResult:
    r"""Phase 1: ``T₁`` spherical SGD steps (:func:`spherical_step`) on fresh batches of ``n₁``.

    Rows of :math:`W_1` start uniform on the sphere (normalised Gaussians drawn from
    ``generator``), then each step draws a fresh batch from ``generator``. ``M_W`` and ``M_h``
    are recorded after every step without a host sync; the table is built at the end.

    Args:
        target: the built SIGHT target (data and ``W*``).
        config: the protocol.
        generator: every random draw (initialisation, then batches).
        probe: inputs for ``M_h`` (default: ``config.n_probe`` fresh ones, drawn first).
        device, dtype: where and in which precision to compute (default: the target's).
    """
    _check_generator(generator)
    device, dtype = _resolve(target, device, dtype)
    sizes = config.sizes(target.config)
    sigma = config.activation
    if probe is None:
        probe = _draw(target, config.n_probe, generator, device, dtype)
    g_dev = generator.device
    w1 = torch.randn(sizes.width1, sizes.d, generator=generator, device=g_dev, dtype=dtype).to(device)
    w1 = w1 / w1.norm(dim=1, keepdim=True)
    teacher = target.teacher.to(device, dtype)
    probe_x, probe_h = probe.x.to(device, dtype), probe.h.to(device, dtype)

    def overlaps(w):
        return first_layer_overlap(w, teacher)[0], second_layer_overlap(sigma(probe_x @ w.T), probe_h)[0]

    mw, mh = [], []
    losses = [torch.full((), float("nan"), device=device, dtype=dtype)]
    m = overlaps(w1)
    mw.append(m[0])
    mh.append(m[1])
    for _ in range(sizes.steps1):
        batch = _draw(target, sizes.batch1, generator, device, dtype)
        w1, loss = spherical_step(w1, batch.x, batch.y, sigma, sizes.lr1)
        losses.append(loss)
        m = overlaps(w1)
        mw.append(m[0])
        mh.append(m[1])
    steps = np.arange(sizes.steps1 + 1)
    history = pd.DataFrame(
        dict(
            phase="phase 1",
            step=steps,
            samples=steps * sizes.batch1,
            correlation_loss=torch.stack(losses).cpu().numpy(),
            overlap_W_0=torch.stack(mw).cpu().numpy(),
            overlap_h_0=torch.stack(mh).cpu().numpy(),
        )
    )
    return PhaseOneResult(w1=w1, history=history)


def phase_two(
    target: HierarchicalTarget,
    config: TheoremConfig,
    w1: torch.Tensor,
    generator: torch.Generator,
    probe: TargetSample | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> PhaseTwoResult:
    r"""Phase 2: ``W₂ = 0``, ``w₃ ~ N(0, I)``, one :func:`preconditioned_step` on a fresh batch of ``n₂``.

    Draws, in order: ``w₃``, the probe (if not given), the batch.

    Returns:
        ``W₂``, ``w₃`` and one history row (``step`` 1, ``overlap_h_0`` on the probe, ``correlation_loss``).
    """
    _check_generator(generator)
    device, dtype = _resolve(target, device, dtype)
    sizes = config.sizes(target.config)
    if tuple(w1.shape) != (sizes.width1, sizes.d):
        raise ValueError(f"w1 must have shape {(sizes.width1, sizes.d)}, got {tuple(w1.shape)}")
    sigma = config.activation
    w1 = w1.to(device, dtype)
    w3 = torch.randn(sizes.width2, generator=generator, device=generator.device, dtype=dtype).to(device)
    if probe is None:
        probe = _draw(target, config.n_probe, generator, device, dtype)
    batch = _draw(target, sizes.batch2, generator, device, dtype)
    features = sigma(batch.x @ w1.T)
    w2 = torch.zeros(sizes.width2, sizes.width1, device=device, dtype=dtype)
    w2 = preconditioned_step(w2, w3, features, batch.y, sigma, sizes.lr2, sizes.ridge2)
    net = TheoremNetwork(w1, w2, w3, sigma)
    loss = -(batch.y * net(batch.x)).mean()
    row = dict(
        phase="phase 2", step=1, samples=sizes.batch2, correlation_loss=float(loss),
        overlap_W_0=float(first_layer_overlap(w1, target.teacher.to(device, dtype))[0]),
        overlap_h_0=float(second_layer_overlap(net.preactivation2(probe.x.to(device, dtype)), probe.h.to(device, dtype))[0]),
    )
    return PhaseTwoResult(w2=w2, w3=w3, history=pd.DataFrame([row]))


def phase_three(
    target: HierarchicalTarget,
    config: TheoremConfig,
    w1: torch.Tensor,
    w2: torch.Tensor,
    generator: torch.Generator,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> PhaseThreeResult:
    r"""Phase 3: the readout by ridge on a fresh batch of ``n₃``,
    :math:`w_3 = (H^\top H + \lambda_3 n_3 I)^{-1}H^\top y` with :math:`H = \sigma(\sigma(XW_1^\top)W_2^\top)/\sqrt{p_2}`.
    """
    _check_generator(generator)
    device, dtype = _resolve(target, device, dtype)
    sizes = config.sizes(target.config)
    batch = _draw(target, sizes.batch3, generator, device, dtype)
    net = TheoremNetwork(w1.to(device, dtype), w2.to(device, dtype), torch.zeros(sizes.width2, device=device, dtype=dtype),
                         config.activation)
    features = net.features2(batch.x)
    w3 = ridge_solve(features, batch.y, sizes.ridge3)
    row = dict(phase="phase 3", step=1, samples=sizes.batch3, train_loss=mse(features @ w3, batch.y))
    return PhaseThreeResult(w3=w3, history=pd.DataFrame([row]))


def train_theorem_one(
    target: HierarchicalTarget,
    config: TheoremConfig,
    generator: torch.Generator,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    n_test: int = 1000,
) -> TheoremOneResult:
    """Algorithm 1: :func:`phase_one`, :func:`phase_two`, :func:`phase_three`, then the test error.

    Every phase uses fresh samples. Draws from ``generator``, in order: the probe, phase 1
    (initialisation, batches), phase 2 (``w₃``, batch), phase 3 (batch), the test set.

    Args:
        target: the built SIGHT target.
        config: the protocol (:meth:`TheoremConfig.paper`).
        generator: every random draw.
        device, dtype: default the target's.
        n_test: fresh test points (the paper: 1000).
    """
    check_positive_int(n_test, "n_test", minimum=2)
    device, dtype = _resolve(target, device, dtype)
    sizes = config.sizes(target.config)
    probe = _draw(target, config.n_probe, generator, device, dtype)
    one = phase_one(target, config, generator, probe=probe, device=device, dtype=dtype)
    two = phase_two(target, config, one.w1, generator, probe=probe, device=device, dtype=dtype)
    three = phase_three(target, config, one.w1, two.w2, generator, device=device, dtype=dtype)
    network = TheoremNetwork(one.w1, two.w2, three.w3, config.activation)
    test = _draw(target, n_test, generator, device, dtype)
    history = pd.concat([one.history, two.history, three.history], ignore_index=True)
    offsets = {"phase 1": 0, "phase 2": sizes.steps1 * sizes.batch1, "phase 3": sizes.steps1 * sizes.batch1 + sizes.batch2}
    history["total_samples"] = history.samples + history.phase.map(offsets)
    return TheoremOneResult(network, history, sizes, mse(network(test.x), test.y), config)


# ---------------------------------------------------------------------------------------
# A mean-field prediction of phase 1
# ---------------------------------------------------------------------------------------
def predict_phase_one(target: TargetConfig, config: TheoremConfig) -> pd.DataFrame:
    r"""A mean-field prediction of :math:`\|M_W\|_F/\sqrt{p_1}` along phase 1 (a heuristic).

    Write :math:`q = \|P_{W^\star}w\|^2` for a neuron on the sphere. To first order in
    :math:`d_\mathrm{eff}^{-1/2}` (all teacher signs :math:`+1`), the population correlation
    is :math:`\mathbb{E}[y\,\varphi(w\cdot x)] \approx c_2(\varphi)\,\beta\,q/\sqrt{d_\mathrm{eff}}`, so a step of
    :func:`spherical_step` multiplies the projection of ``w`` on :math:`W^\star` by :math:`1 + \gamma(1-q)`
    and the rest by :math:`1 - \gamma q`, with :math:`\gamma = 2 c_1 c_2(\varphi)\beta` (``c₁`` the
    ``lr1_coefficient``). The batch adds a tangent noise of squared size
    :math:`\nu(d-1)`, :math:`\nu = \eta'^2 s^2/n_1`, :math:`\eta' = c_1\sqrt{d_\mathrm{eff}}`, of which
    :math:`\nu d_\mathrm{eff}` falls into the hidden subspace; :math:`s^2 \approx \mathbb{E}[y^2]\,\mathbb{E}[\varphi'(z)^2]`.
    After normalisation,

    .. math::  q_{t+1} = \frac{q_t A_t^2 + \nu d_\mathrm{eff}}{q_t A_t^2 + (1 - q_t) B_t^2 + \nu (d - 1)},
               \quad A_t = 1 + \gamma(1 - q_t),\ B_t = 1 - \gamma q_t,\ q_0 = d_\mathrm{eff}/d.

    Returns:
        A table with ``step``, ``samples`` and ``overlap_W_0`` :math:`= \sqrt{q_t}`, and the
        attributes ``drift`` (γ) and ``noise`` (:math:`\nu d`).
    """
    s = config.sizes(target)
    sigma = config.activation
    beta = phase_one_target_signal(target)
    c2 = float(sigma.composite_hermite(2)[2])
    c1 = config.lr1_coefficient
    gamma = 2 * c1 * c2 * beta
    s2 = random_level(target) * sigma.composite_derivative_energy()
    nu = (c1**2 * s.d_eff) * s2 / s.batch1
    q = s.d_eff / s.d
    qs = [q]
    for _ in range(s.steps1):
        a, b = 1 + gamma * (1 - q), 1 - gamma * q
        q = (q * a * a + nu * s.d_eff) / (q * a * a + (1 - q) * b * b + nu * (s.d - 1))
        qs.append(q)
    steps = np.arange(s.steps1 + 1)
    table = pd.DataFrame(dict(step=steps, samples=steps * s.batch1, overlap_W_0=np.sqrt(qs)))
    table.attrs.update(drift=gamma, noise=nu * s.d)
    return table
