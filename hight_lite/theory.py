r"""What the theory says about a target: latent variances, the random level, κ thresholds.

Two routes to each number:

* the Gaussian limit (:math:`D_\ell \to \infty`), where every latent level is Gaussian
  and expectations are Gauss–Hermite quadratures;
* Monte Carlo at finite ``d``, by sampling the target itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

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
    r"""The κ = log n / log d at which each learner gains each piece of a target.

    With :math:`k` the degree of ``P`` and :math:`\varepsilon_\ell` the exponents:

    * kernels fit the degree-:math:`q` polynomial approximation of :math:`f^\star` in ``x``
      once :math:`\kappa > q` (rows for ``q = 1, 2``);
    * a two-layer network learns :math:`W^\star` at :math:`\kappa = 1+\varepsilon_1`, then fits
      degree :math:`q` in ``z`` at :math:`\kappa = q\varepsilon_1` (rows for ``q = k, 2k``);
    * a three-layer network learns :math:`W^\star` at :math:`1+\varepsilon_1` and :math:`h^\star`
      at :math:`k\varepsilon_1`; the link then costs :math:`\tilde O(1)` samples;
    * for deep targets (``L >= 3``) a deep enough network pays :math:`1+\varepsilon_1` for the
      first level, :math:`k\varepsilon_\ell + \varepsilon_{\ell+1}` to go from level ℓ to ℓ+1,
      and :math:`k\varepsilon_{L-1}` for the top; it needs the largest of these.

    Returns:
        A table with columns ``learner``, ``piece`` (a short key, see :func:`kappa_threshold`),
        ``what is learned`` and ``kappa``.
    """
    e = config.epsilons
    k = config.polynomial.degree
    if config.depth == 2:
        e1 = e[0]
        rows = [
            ("kernel", "x^1", "degree-1 approximation in x", 1.0),
            ("kernel", "x^2", "degree-2 approximation in x", 2.0),
            ("two-layer", "W*", "W* (the d_eff-dimensional subspace)", 1 + e1),
            ("two-layer", "z^k", f"degree-{k} approximation in z (linear in h*)", max(1 + e1, k * e1)),
            ("two-layer", "z^2k", f"degree-{2 * k} approximation in z (quadratic in h*)", max(1 + e1, 2 * k * e1)),
            ("three-layer", "W*", "W*", 1 + e1),
            ("three-layer", "h*", "h* (second layer)", k * e1),
            ("three-layer", "f*", "f* = g*(h*)", max(1 + e1, k * e1)),
        ]
    else:
        rows = [("deep network", "level 1", "level 1: W*", 1 + e[0])]
        for ell in range(1, len(e)):
            rows.append(("deep network", f"level {ell + 1}", f"level {ell + 1}: h_{ell + 1} from h_{ell}", k * e[ell - 1] + e[ell]))
        rows.append(("deep network", "top", f"top: h_{config.depth} from h_{config.depth - 1}", k * e[-1]))
        rows.append(("deep network", "f*", "f* (all levels)", max(r[3] for r in rows)))
    return pd.DataFrame(rows, columns=["learner", "piece", "what is learned", "kappa"])


def kappa_threshold(config: TargetConfig, learner: str, piece: str = "f*") -> float:
    """One entry of :func:`sample_complexity_thresholds`: the κ at which ``learner`` learns ``piece``.

    Args:
        config: the target.
        learner: ``"kernel"``, ``"two-layer"`` or ``"three-layer"`` (one-level targets), or
            ``"deep network"`` (deeper ones).
        piece: the short key of the table's ``piece`` column, e.g. ``"W*"``, ``"h*"``, ``"f*"``
            (three-layer), ``"W*"``, ``"z^k"`` (two-layer), ``"x^2"`` (kernel).
    """
    table = sample_complexity_thresholds(config)
    match = table[(table.learner == learner) & (table.piece == piece)]
    if match.empty:
        options = ", ".join(f"({a!r}, {b!r})" for a, b in zip(table.learner, table.piece))
        raise ValueError(f"(learner, piece) must be one of {options}; got ({learner!r}, {piece!r})")
    return float(match.kappa.iloc[0])


def phase_diagram(config: TargetConfig, kappas: Sequence[float], order: int = 200) -> pd.DataFrame:
    r"""The error each learner is capped at, against κ, in the limit of large ``d`` (Fig. 3).

    For a SIGHT/MIGHT (``L = 2``) with :math:`\varepsilon = \varepsilon_1` and ``P`` of degree ``k``:

    * kernel: the best polynomial of degree :math:`\lfloor\kappa\rfloor` in ``x``;
    * two-layer: like a kernel below :math:`1+\varepsilon`, then the best polynomial of degree
      :math:`\lfloor\kappa/\varepsilon\rfloor` in ``z``;
    * three-layer: like the two-layer network until :math:`\max(1+\varepsilon, k\varepsilon)`, then 0.

    Every level is :func:`best_polynomial_error_limit` (random level for degree 0).

    Returns:
        A tidy table with columns ``learner``, ``kappa``, ``error``.
    """
    if config.depth != 2:
        raise ValueError(f"config must have depth L = 2, got L = {config.depth}")
    e1 = config.epsilons[0]
    k = config.polynomial.degree
    learn_w = 1 + e1
    learn_all = max(learn_w, k * e1)
    cache: dict[int, float] = {}

    def level(q: int) -> float:
        if q not in cache:
            cache[q] = best_polynomial_error_limit(config, q, order=order)
        return cache[q]

    rows = []
    for kappa in kappas:
        kernel_degree = int(math.floor(kappa + 1e-12))
        shallow = level(kernel_degree) if kappa < learn_w else level(max(kernel_degree, int(math.floor(kappa / e1 + 1e-12))))
        rows.append(("kernel", kappa, level(kernel_degree)))
        rows.append(("two-layer", kappa, shallow))
        rows.append(("three-layer", kappa, 0.0 if kappa >= learn_all else shallow))
    return pd.DataFrame(rows, columns=["learner", "kappa", "error"])


def _orthonormal_coefficients(config: TargetConfig) -> np.ndarray:
    p = config.polynomial.to_convention("orthonormal")
    return np.array(p.coefficients)


def link_hermite_energies(config: TargetConfig, max_order: int, order: int = 200) -> dict[tuple[int, ...], float]:
    r"""Squared orthonormal Hermite coefficients :math:`\gamma_m^2` of the link on its Gaussian-limit input.

    :math:`\gamma_m = \mathbb{E}\big[g^\star(\sqrt{v}\,G)\prod_j H_{m_j}(G_j)\big]` with
    :math:`G \sim \mathcal{N}(0, I_r)`, :math:`v = v_L` the top level's second moment and
    :math:`H_k = \mathrm{He}_k/\sqrt{k!}`, for every multi-index ``m`` with :math:`|m| \le` ``max_order``.
    """
    from itertools import product

    from .hermite import gauss_hermite, hermite_all

    r = config.branches
    v = gaussian_limit_variances(config)[-1]
    order = min(order, max(8, int(2_000_000 ** (1 / r))))  # at most ~2e6 nodes
    nodes, weights = gauss_hermite(order)
    grids = np.meshgrid(*([nodes] * r), indexing="ij")
    points = np.stack([g.ravel() for g in grids], axis=-1)
    w = np.ones(1)
    for _ in range(r):
        w = np.outer(w, weights).ravel()
    link = np.asarray(config.link(math.sqrt(v) * points), dtype=float)
    basis = [hermite_all(max_order, points[:, j], "orthonormal") for j in range(r)]
    energies = {}
    for m in product(range(max_order + 1), repeat=r):
        if sum(m) <= max_order:
            values = link.copy()
            for j, k in enumerate(m):
                values = values * basis[j][k]
            energies[m] = float(np.dot(w, values)) ** 2
    return energies


def best_polynomial_error_limit(config: TargetConfig, degree: int, space: str = "z", order: int = 200) -> float:
    r"""Error of the best degree-``q`` polynomial approximation of :math:`f^\star`, as :math:`d_\mathrm{eff}\to\infty`.

    ``space="z"`` (equivalently ``"x"``: for ``L = 2`` the target depends on ``x`` only
    through ``z``) or ``space="h"`` (polynomials of the top features :math:`h^\star`).

    In the limit :math:`h_m = D^{-1/2}\sum_i a_{mi} P(z_{mi})` is Gaussian, and the
    :math:`M`-th Hermite component of :math:`g^\star` in :math:`h_m` is a sum of products of
    :math:`M` distinct centred terms :math:`P(z_{mi})/\sqrt{Dv}`. Each factor has degree
    :math:`k` in ``z`` with probability :math:`\pi_k = c_k^2/v` (:math:`c_k` the orthonormal
    coefficients of ``P``, :math:`v = \sum_k c_k^2`), so the part of :math:`f^\star` of degree
    at most ``q`` in ``z`` keeps the energy

    .. math:: \sum_{m} \gamma_m^2\;\Pr\big[K_1 + \dots + K_{|m|} \le q\big],\qquad K_j \overset{iid}{\sim} \pi,

    with :math:`\gamma_m` from :func:`link_hermite_energies`; the error is :math:`\mathbb{E}[g^{\star 2}]` minus it.
    For ``q <= 3`` this is :math:`\mathbb{E}[g]^2 + \sum_m \mathbb{E}[\partial_m g]^2\sum_{k \le q} c_k^2` (Stein).
    """
    if config.depth != 2:
        raise ValueError(f"config must have depth L = 2, got L = {config.depth}")
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 0:
        raise ValueError(f"degree must be an integer >= 0, got {degree!r}")
    if space not in ("x", "z", "h"):
        raise ValueError(f"space must be 'x', 'z' or 'h', got {space!r}")
    c = _orthonormal_coefficients(config)
    if abs(c[0]) > 1e-12:
        raise ValueError("the Gaussian-limit plateau needs E[P] = 0")
    pi = c**2 / float(np.sum(c**2))
    k_min = next(k for k in range(1, len(pi)) if pi[k] > 0)
    max_order = degree if space == "h" else degree // k_min
    energies = link_hermite_energies(config, max_order, order)
    total = random_level(config)

    def weight(m_total: int) -> float:
        if space == "h":
            return 1.0
        dist = np.zeros(degree + 1)
        dist[0] = 1.0
        for _ in range(m_total):  # distribution of K_1 + ... + K_M, truncated at q
            new = np.zeros(degree + 1)
            for k, pk in enumerate(pi):
                if pk > 0 and k <= degree:
                    new[k:] += pk * dist[: degree + 1 - k]
            dist = new
        return float(dist.sum())

    kept = sum(e * weight(sum(m)) for m, e in energies.items())
    return max(total - kept, 0.0)


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


def hermite_correlations(
    config: TargetConfig,
    level: int,
    max_order: int,
    n: int,
    generator: torch.Generator,
    splits: int = 10,
    batch_size: int = 5_000,
) -> pd.DataFrame:
    r""":math:`\|\mathbb{E}[f^\star(x)\,H_k(h_\ell(x))]\|` for ``k = 1..max_order``, by Monte Carlo.

    :math:`H_k(h_\ell)` is the order-``k`` tensor Hermite polynomial of the level's
    components, standardised by their Gaussian-limit scale :math:`\sqrt{v_\ell}`: the
    orthonormal products :math:`\prod_i H_{m_i}(h_{\ell,i}/\sqrt{v_\ell})` over multi-indices
    with :math:`|m| = k`, each once. The squared norm is estimated without bias
    (:math:`\sum_t \bar c_t^2 - \widehat{\mathrm{Var}}(c_t)/n`) on each of ``splits`` parts of the
    ``n`` samples; the spread of those parts gives the error bar.

    Args:
        level: ℓ, from 1 (``z``) to ``L`` (the top features).

    Returns:
        A table with columns ``level``, ``order``, ``terms``, ``norm``, ``stderr``, ``norm2``,
        ``norm2_stderr`` and ``relative`` (``norm2 / E[y^2]``).
    """
    from itertools import combinations_with_replacement

    from .hermite import hermite_all

    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= config.depth:
        raise ValueError(f"level must be an integer in [1, {config.depth}], got {level!r}")
    if isinstance(max_order, bool) or not isinstance(max_order, int) or max_order < 1:
        raise ValueError(f"max_order must be an integer >= 1, got {max_order!r}")
    if isinstance(splits, bool) or not isinstance(splits, int) or splits < 2 or n < 2 * splits:
        raise ValueError(f"splits must be an integer >= 2 with n >= 2 * splits, got splits={splits!r}, n={n!r}")
    width = config.total_widths[level - 1]
    combos = {k: list(combinations_with_replacement(range(width), k)) for k in range(1, max_order + 1)}
    total_terms = sum(len(c) for c in combos.values())
    if total_terms > 50_000:
        raise ValueError(f"{total_terms} Hermite terms at level {level}; lower max_order (at most 50000 terms)")
    scale = math.sqrt(gaussian_limit_variances(config)[level - 1])
    target = config.build(generator, dtype=torch.float64)
    per_split = n // splits
    norm2 = {k: [] for k in combos}
    energy = []
    for _ in range(splits):
        sums = {k: torch.zeros(len(c), dtype=torch.float64) for k, c in combos.items()}
        squares = {k: torch.zeros(len(c), dtype=torch.float64) for k, c in combos.items()}
        y2 = 0.0
        remaining = per_split
        while remaining > 0:
            m = min(batch_size, remaining)
            remaining -= m
            s = target.sample(m, generator)
            h = s.levels[level - 1] / scale
            basis = hermite_all(max_order, h, "orthonormal")
            y2 += float((s.y**2).sum())
            for k, cs in combos.items():
                cols = []
                for combo in cs:
                    counts: dict[int, int] = {}
                    for i in combo:
                        counts[i] = counts.get(i, 0) + 1
                    col = s.y
                    for i, power in counts.items():
                        col = col * basis[power][:, i]
                    cols.append(col)
                values = torch.stack(cols, 1)
                sums[k] += values.sum(0)
                squares[k] += (values**2).sum(0)
        energy.append(y2 / per_split)
        for k in combos:
            mean = sums[k] / per_split
            var = squares[k] / per_split - mean**2
            norm2[k].append(float((mean**2 - var / (per_split - 1)).sum()))
    rows = []
    y2 = float(np.mean(energy))
    for k in combos:
        values = np.array(norm2[k])
        # the full-sample estimate has the split mean and a splits-times smaller variance
        estimate, se = float(values.mean()), float(values.std(ddof=1) / math.sqrt(splits))
        norm = math.sqrt(max(estimate, 0.0))
        rows.append(dict(
            level=level, order=k, terms=len(combos[k]), norm=norm,
            stderr=se / (2 * norm) if norm > 0 else math.sqrt(se), norm2=estimate, norm2_stderr=se,
            relative=estimate / y2,
        ))
    return pd.DataFrame(rows)


def compositional_information_exponent(
    config: TargetConfig,
    n: int,
    generator: torch.Generator,
    max_order: int = 4,
    threshold: float = 0.05,
    max_terms: int = 50_000,
) -> pd.DataFrame:
    r"""The Compositional Information Exponent of every level, by Monte Carlo **[uncertain form]**.

    :math:`\mathrm{CIE}(\ell) = \min\{k : \|\mathbb{E}[f^\star H_k(h_\ell)]\| = \Theta(1)\}` (DIGEST §6).
    At finite ``d`` "Θ(1)" is read as: the squared norm is at least ``threshold`` times
    :math:`\mathbb{E}[y^2]` and three error bars above zero. Orders whose number of tensor
    terms would exceed ``max_terms`` are not tried; a level with no such order up to
    ``max_order`` gets ``None`` (a high exponent: hard).

    Returns:
        One row per level: ``level``, ``width``, ``cie`` and the squared norms per order.
    """
    rows = []
    for level in range(1, config.depth + 1):
        width = config.total_widths[level - 1]
        order = max_order
        while order > 1 and sum(math.comb(width + k - 1, k) for k in range(1, order + 1)) > max_terms:
            order -= 1
        table = hermite_correlations(config, level, order, n, generator)
        cie = next(
            (int(r.order) for r in table.itertuples()
             if r.relative >= threshold and r.norm2 > 3 * r.norm2_stderr),
            None,
        )
        row = dict(level=level, width=width, cie=cie, orders_tried=order)
        for r in table.itertuples():
            row[f"norm2_order_{int(r.order)}"] = r.norm2
        rows.append(row)
    return pd.DataFrame(rows).astype({"cie": "Int64"})
