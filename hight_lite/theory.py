r"""What the theory says about a target: latent variances, the random level, κ thresholds.

Two routes to each number:

* the Gaussian limit (:math:`D_\ell \to \infty`), where every latent level is Gaussian
  and expectations are Gauss–Hermite quadratures;
* Monte Carlo at finite ``d``, by sampling the target itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from .hermite import gaussian_expectation, gaussian_expectation_nd
from .targets import TargetConfig


def gaussian_limit_variances(config: TargetConfig) -> tuple[float, ...]:
    r"""Second moments of one component of ``h_1 .. h_L`` in the limit of wide blocks.

    :math:`v_1 = 1` (orthonormal rows) and :math:`v_\ell = \mathbb{E}[P(\sqrt{v_{\ell-1}}\,g)^2]`:
    a block sum of independent terms is Gaussian in the limit. For ``L = 2`` the value
    :math:`v_2 = \mathbb{E}[P(z)^2]` is exact at every ``d``. Deeper down, ``P`` acts on inputs of
    variance :math:`v \ne 1`, where it is not centred (:math:`\mathbb{E}[P(\sqrt{v} g)] \ne 0`), so a
    fixed teacher's level carries an offset :math:`\mu \sum_j a_j/\sqrt{b}`: the recursion is the
    second moment *averaged over Rademacher signs*. With ``standardize_levels=True`` every
    intermediate level has :math:`v_\ell = 1` and no offset, and the top one :math:`\mathbb{E}[P(z)^2]`.
    """
    if config.standardize_levels:
        return (1.0,) * (config.depth - 1) + (config.polynomial.second_moment,)
    variances = [1.0]
    for _ in config.block_sizes:
        variances.append(gaussian_expectation(lambda z: config.polynomial(z) ** 2, variance=variances[-1]))
    return tuple(variances)


def random_level(config: TargetConfig, order: int = 200) -> float:
    r""":math:`\mathbb{E}[y^2]` in the Gaussian limit: the test error of predicting 0.

    The ``r`` top features are independent :math:`\mathcal{N}(0, v_L)`; the expectation is a
    tensor Gauss–Hermite rule in ``r`` dimensions (``order`` nodes per axis, fewer when
    ``order ** r`` would exceed 5 million nodes).
    """
    v_top = gaussian_limit_variances(config)[-1]
    if config.branches == 1:
        return gaussian_expectation(lambda h: np.asarray(config.link(h[:, None]), dtype=float) ** 2, v_top, order)
    order = min(order, int(5_000_000 ** (1 / config.branches)))
    return gaussian_expectation_nd(
        lambda h: np.asarray(config.link(h), dtype=float) ** 2, config.branches, variance=v_top, order=order
    )


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo mean with its standard error."""

    mean: float
    stderr: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.4f} ± {self.stderr:.4f} (n = {self.n})"


def monte_carlo_mean(values: torch.Tensor) -> MonteCarloEstimate:
    """Mean and standard error of a 1-d tensor of i.i.d. values."""
    values = values.detach().double().flatten()
    n = values.numel()
    if n < 2:
        raise ValueError(f"values must hold at least 2 samples, got {n}")
    return MonteCarloEstimate(float(values.mean()), float(values.std() / math.sqrt(n)), n)


def random_level_monte_carlo(
    config: TargetConfig, n: int, generator: torch.Generator, max_batch_elements: int = 20_000_000
) -> MonteCarloEstimate:
    r""":math:`\mathbb{E}[y^2]` at finite ``d`` over teacher and inputs, from ``n`` samples.

    A fresh teacher is drawn from ``generator`` and ``n`` points are labelled in batches of
    at most ``max_batch_elements`` input entries (160 MB in float64), whatever ``d``.
    """
    batch_size = max(1, max_batch_elements // config.d)
    target = config.build(generator, dtype=torch.float64)
    squares = []
    remaining = n
    while remaining > 0:
        m = min(batch_size, remaining)
        squares.append(target.sample(m, generator).y ** 2)
        remaining -= m
    return monte_carlo_mean(torch.cat(squares))


def sample_complexity_thresholds(config: TargetConfig) -> pd.DataFrame:
    r"""A first table of the κ = log n / log d each learner needs on a SIGHT/MIGHT (``L = 2``).

    With :math:`k` the degree of ``P`` and :math:`\varepsilon_1` the first exponent:

    * kernels fit the degree-:math:`q` polynomial approximation of :math:`f^\star` in ``x``
      once :math:`\kappa > q`;
    * a two-layer network learns :math:`W^\star` at :math:`\kappa = 1+\varepsilon_1`, then fits
      degree :math:`q` in ``z`` at :math:`\kappa = q\varepsilon_1`;
    * a three-layer network learns :math:`W^\star` at :math:`1+\varepsilon_1` and :math:`h^\star`
      at :math:`k\varepsilon_1`; the link then costs :math:`\tilde O(1)` samples.

    Returns:
        A table with columns ``learner``, ``what is learned``, ``kappa``.
    """
    if config.depth != 2:
        raise ValueError(f"config must have depth L = 2 (one exponent), got L = {config.depth}")
    e1 = config.epsilons[0]
    k = config.polynomial.degree
    rows = [
        ("kernel", "degree-1 approximation in x", 1.0),
        ("kernel", "degree-2 approximation in x", 2.0),
        ("two-layer", "W* (the d_eff-dimensional subspace)", 1 + e1),
        ("two-layer", f"degree-{k} approximation in z (linear in h*)", max(1 + e1, k * e1)),
        ("two-layer", f"degree-{2 * k} approximation in z (quadratic in h*)", max(1 + e1, 2 * k * e1)),
        ("three-layer", "W*", 1 + e1),
        ("three-layer", "h* (second layer)", k * e1),
        ("three-layer", "f* = g*(h*)", max(1 + e1, k * e1)),
    ]
    return pd.DataFrame(rows, columns=["learner", "what is learned", "kappa"])


def _orthonormal_coefficients(config: TargetConfig) -> np.ndarray:
    p = config.polynomial.to_convention("orthonormal")
    return np.array(p.coefficients)


def best_polynomial_error_limit(config: TargetConfig, degree: int, order: int = 200) -> float:
    r"""Error of the best degree-``q`` polynomial approximation of :math:`f^\star` in ``x``, as :math:`d_\mathrm{eff}\to\infty`.

    For ``L = 2`` the best polynomial of degree ``q`` in ``x`` is the best one in ``z``
    (the target depends on ``x`` only through ``z``). Writing
    :math:`h_m = D^{-1/2}\sum_i a_{mi} P(z_{mi})` and :math:`c_k` for the orthonormal Hermite
    coefficients of ``P``, a first-order expansion in the single coordinate ``z_{mi}`` gives
    :math:`\mathbb{E}[f^\star H_k(z_{mi})] = D^{-1/2} a_{mi}\, c_k\, \mathbb{E}[\partial_m g^\star]+O(1/D)`, so
    the degree-``≤ q`` part of :math:`f^\star` keeps

    .. math:: \mathbb{E}[g^\star]^2 + \sum_m \mathbb{E}[\partial_m g^\star(h)]^2 \sum_{k=1}^{q} c_k^2,
       \qquad \mathbb{E}[\partial_m g^\star(h)] = \mathbb{E}[g^\star(h)\,h_m]/v

    (Stein's lemma, :math:`h \sim \mathcal{N}(0, v I_r)`, :math:`v = \sum_k c_k^2`). Products of
    two coordinates have degree at least 4 when :math:`c_0 = c_1 = 0`, so the formula is
    exact in the limit for ``q <= 3``; larger ``q`` raise (use the Monte Carlo version).
    """
    if config.depth != 2:
        raise ValueError(f"config must have depth L = 2, got L = {config.depth}")
    if isinstance(degree, bool) or not isinstance(degree, int) or not 0 <= degree <= 3:
        raise ValueError(f"degree must be an integer in [0, 3] for the Gaussian limit, got {degree!r}")
    c = _orthonormal_coefficients(config)
    if abs(c[0]) > 1e-12 or (len(c) > 1 and abs(c[1]) > 1e-12):
        raise ValueError("the Gaussian-limit plateau needs E[P] = 0 and no linear part in P")
    r = config.branches
    v = float(np.sum(c**2))
    order = min(order, int(5_000_000 ** (1 / r)))

    def moment(fn):
        return gaussian_expectation_nd(fn, r, variance=v, order=order)

    link = lambda h: np.asarray(config.link(h), dtype=float)  # noqa: E731
    energy = moment(lambda h: link(h) ** 2)
    captured = moment(link) ** 2
    weight = float(np.sum(c[1 : degree + 1] ** 2))
    for m in range(r):
        slope = moment(lambda h, m=m: link(h) * h[:, m]) / v
        captured += slope**2 * weight
    return energy - captured


def best_linear_in_h_error_limit(config: TargetConfig, order: int = 200) -> float:
    r"""Error of the best affine function of the top features :math:`h^\star` (Gaussian limit).

    :math:`\mathbb{E}[g^2] - \mathbb{E}[g]^2 - \sum_m \mathbb{E}[g\,h_m]^2/v_L`, with
    :math:`h \sim \mathcal{N}(0, v_L I_r)`: the level the paper draws for two-layer networks.
    """
    r = config.branches
    v = gaussian_limit_variances(config)[-1]
    order = min(order, int(5_000_000 ** (1 / r)))
    link = lambda h: np.asarray(config.link(h), dtype=float)  # noqa: E731
    moment = lambda fn: gaussian_expectation_nd(fn, r, variance=v, order=order)  # noqa: E731
    out = moment(lambda h: link(h) ** 2) - moment(link) ** 2
    for m in range(r):
        out -= moment(lambda h, m=m: link(h) * h[:, m]) ** 2 / v
    return out


def _hermite_monomials(z: torch.Tensor, degree: int) -> torch.Tensor:
    """All products :math:`\\prod_i \\mathrm{He}_{m_i}(z_i)` with :math:`\\sum m_i \\le` ``degree``, ``(n, F)``."""
    from itertools import combinations_with_replacement

    from .hermite import hermite_all

    basis = hermite_all(degree, z, "orthonormal")  # list over degree of (n, D)
    columns = [torch.ones(z.shape[0], dtype=z.dtype, device=z.device)]
    for q in range(1, degree + 1):
        for combo in combinations_with_replacement(range(z.shape[1]), q):
            counts: dict[int, int] = {}
            for i in combo:
                counts[i] = counts.get(i, 0) + 1
            col = columns[0]
            for i, m in counts.items():
                col = col * basis[m][:, i]
            columns.append(col)
    return torch.stack(columns, dim=1)


def best_approximation_error_monte_carlo(
    config: TargetConfig,
    degree: int,
    n: int,
    generator: torch.Generator,
    space: str = "z",
    max_features: int = 5000,
) -> MonteCarloEstimate:
    r"""Error of the best degree-``q`` polynomial in ``z`` (``space="z"``) or in :math:`h^\star` (``"h"``), at finite ``d``.

    A teacher is drawn, the least-squares fit uses ``n`` samples and the squared residual
    is measured on ``n`` fresh ones (so the estimate is not biased by over-fitting). For
    ``L = 2``, degree ``q`` in ``z`` is also the best degree ``q`` in ``x``.
    """
    if space not in ("z", "h"):
        raise ValueError(f"space must be 'z' or 'h', got {space!r}")
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 0:
        raise ValueError(f"degree must be an integer >= 0, got {degree!r}")
    target = config.build(generator, dtype=torch.float64)
    fit, check = target.sample(n, generator), target.sample(n, generator)
    pick = (lambda s: s.z) if space == "z" else (lambda s: s.h)  # noqa: E731
    width = pick(fit).shape[1]
    features = math.comb(width + degree, degree)
    if features > max_features:
        raise ValueError(
            f"degree {degree} in {width} variables needs {features} features, more than max_features = {max_features}"
        )
    if n < 2 * features:
        raise ValueError(f"n must be at least twice the number of features ({features}), got {n}")
    phi = _hermite_monomials(pick(fit), degree)
    weights = torch.linalg.lstsq(phi, fit.y[:, None]).solution[:, 0]
    residual = _hermite_monomials(pick(check), degree) @ weights - check.y
    return monte_carlo_mean(residual**2)
