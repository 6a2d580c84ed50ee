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
    r"""Variances of one component of ``h_1 .. h_L`` in the limit of wide blocks.

    :math:`v_1 = 1` (orthonormal rows) and, since a block sum of independent centred
    terms is Gaussian in the limit, :math:`v_\ell = \mathbb{E}[P(\sqrt{v_{\ell-1}}\,g)^2]`.
    For ``L = 2`` the value :math:`v_2 = \mathbb{E}[P(z)^2]` is exact at every ``d``.
    """
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
    config: TargetConfig, n: int, generator: torch.Generator, batch_size: int = 100_000
) -> MonteCarloEstimate:
    r""":math:`\mathbb{E}[y^2]` at finite ``d`` over teacher and inputs, from ``n`` samples.

    A fresh teacher is drawn from ``generator`` and ``n`` points are labelled in batches.
    """
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
