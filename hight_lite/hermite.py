r"""Hermite polynomials, Gaussian expectations and information exponents.

The paper mixes two normalisations of the probabilists' Hermite polynomials
:math:`\mathrm{He}_k` (:math:`\mathrm{He}_0 = 1`, :math:`\mathrm{He}_1 = z`,
:math:`\mathrm{He}_{k+1} = z\,\mathrm{He}_k - k\,\mathrm{He}_{k-1}`):

``"orthonormal"``
    :math:`H_k = \mathrm{He}_k/\sqrt{k!}`, so that :math:`\mathbb{E}[H_j H_k] = \delta_{jk}`
    for :math:`z \sim \mathcal{N}(0, 1)`. The theory is written in this convention.
``"numerics"``
    :math:`H_k = \mathrm{He}_k/k!`, so that :math:`\mathbb{E}[H_k^2] = 1/k!`. The authors'
    code, and hence every number the paper plots, uses this one
    (:math:`H_2 = (z^2-1)/2`, :math:`H_3 = (z^3-3z)/6`).
``"probabilists"``
    the plain :math:`\mathrm{He}_k`, with :math:`\mathbb{E}[\mathrm{He}_k^2] = k!`.

Every function here works on NumPy arrays and on torch tensors alike (evaluation uses
only the three-term recurrence), and every expectation is a Gauss–Hermite quadrature
from :func:`numpy.polynomial.hermite_e.hermegauss`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Literal, Mapping

import numpy as np

Convention = Literal["orthonormal", "numerics", "probabilists"]
CONVENTIONS: tuple[str, ...] = ("orthonormal", "numerics", "probabilists")

#: Quadrature order used when none is given: exact for polynomials up to degree 399, and
#: accurate to about 1e-6 for steep smooth functions such as tanh(3 h).
DEFAULT_QUADRATURE_ORDER = 200
#: numpy's Gauss–Hermite weights overflow beyond this order.
MAX_QUADRATURE_ORDER = 360


def _check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")


def _check_degree(k: int, name: str = "k") -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {k!r}")


def hermite_scale(k: int, convention: Convention = "numerics") -> float:
    r"""The factor :math:`c_k` with :math:`H_k = \mathrm{He}_k / c_k` in ``convention``."""
    _check_degree(k)
    _check_convention(convention)
    if convention == "orthonormal":
        return math.sqrt(math.factorial(k))
    if convention == "numerics":
        return float(math.factorial(k))
    return 1.0


def hermite_norm2(k: int, convention: Convention = "numerics") -> float:
    r""":math:`\mathbb{E}[H_k(z)^2]` for :math:`z \sim \mathcal{N}(0,1)`: 1, :math:`1/k!` or :math:`k!`."""
    return math.factorial(k) / hermite_scale(k, convention) ** 2


def hermite(k: int, z, convention: Convention = "numerics"):
    r"""Evaluate :math:`H_k(z)` in ``convention``.

    Args:
        k: degree, ``k >= 0``.
        z: array or tensor of any shape.
        convention: ``"orthonormal"``, ``"numerics"`` (default) or ``"probabilists"``.

    Returns:
        An array or tensor of the shape of ``z``.
    """
    _check_degree(k)
    return hermite_all(k, z, convention)[k]


def hermite_all(max_degree: int, z, convention: Convention = "numerics") -> list:
    r"""``[H_0(z), ..., H_K(z)]`` for ``K = max_degree``, by the three-term recurrence."""
    _check_degree(max_degree, "max_degree")
    _check_convention(convention)
    values = [z * 0 + 1]
    if max_degree >= 1:
        values.append(z * 1)
    for j in range(1, max_degree):
        values.append(z * values[j] - j * values[j - 1])
    return [v / hermite_scale(j, convention) for j, v in enumerate(values)]


def gauss_hermite(order: int = DEFAULT_QUADRATURE_ORDER) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes and weights of the Gauss–Hermite rule for the standard Gaussian.

    :math:`\mathbb{E}[f(z)] \approx \sum_i w_i f(z_i)` for :math:`z \sim \mathcal{N}(0,1)`,
    exact when ``f`` is a polynomial of degree ``< 2 * order``. The weights sum to one.
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 1 <= order <= MAX_QUADRATURE_ORDER:
        raise ValueError(f"order must be an integer in [1, {MAX_QUADRATURE_ORDER}], got {order!r}")
    return _gauss_hermite_cached(int(order))


@functools.lru_cache(maxsize=32)
def _gauss_hermite_cached(order: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    weights = weights / math.sqrt(2.0 * math.pi)
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


def gaussian_expectation(
    f: Callable[[np.ndarray], np.ndarray],
    variance: float = 1.0,
    order: int = DEFAULT_QUADRATURE_ORDER,
) -> float:
    r""":math:`\mathbb{E}[f(\sigma z)]` with :math:`z \sim \mathcal{N}(0,1)`, :math:`\sigma^2 =` ``variance``.

    ``f`` receives a NumPy array of nodes and must act element-wise.
    """
    if not variance >= 0:
        raise ValueError(f"variance must be >= 0, got {variance!r}")
    nodes, weights = gauss_hermite(order)
    values = np.asarray(f(math.sqrt(variance) * nodes), dtype=float)
    return float(np.dot(weights, values))


def gaussian_expectation_nd(
    f: Callable[[np.ndarray], np.ndarray],
    dim: int,
    variance: float = 1.0,
    order: int = 60,
) -> float:
    r""":math:`\mathbb{E}[f(\sigma g)]` for :math:`g \sim \mathcal{N}(0, I_{\text{dim}})` by a tensor-product rule.

    ``f`` receives an array of shape ``(m, dim)`` of nodes and returns ``(m,)``. The rule
    has ``order ** dim`` nodes, so keep ``dim`` small (at most 4 or so).
    """
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be an integer >= 1, got {dim!r}")
    if not variance >= 0:
        raise ValueError(f"variance must be >= 0, got {variance!r}")
    if order**dim > 5_000_000:
        raise ValueError(f"order ** dim must be <= 5e6 nodes, got {order}**{dim}; lower order or use Monte Carlo")
    nodes, weights = gauss_hermite(order)
    grids = np.meshgrid(*([nodes] * dim), indexing="ij")
    points = math.sqrt(variance) * np.stack([g.ravel() for g in grids], axis=-1)
    w = np.ones(1)
    for _ in range(dim):
        w = np.outer(w, weights).ravel()
    return float(np.dot(w, np.asarray(f(points), dtype=float)))


def hermite_coefficients(
    f: Callable[[np.ndarray], np.ndarray],
    max_degree: int,
    convention: Convention = "numerics",
    order: int = DEFAULT_QUADRATURE_ORDER,
) -> np.ndarray:
    r"""Coefficients :math:`c_k` of :math:`f = \sum_k c_k H_k` in ``convention``, ``k = 0..max_degree``.

    :math:`c_k = \mathbb{E}[f(z) H_k(z)] / \mathbb{E}[H_k(z)^2]`, by quadrature. For a
    non-smooth ``f`` (a sign, a ReLU) raise ``order``: the rule converges slowly there.

    Returns:
        ``(max_degree + 1,)`` array.
    """
    nodes, weights = gauss_hermite(order)
    values = np.asarray(f(nodes), dtype=float)
    basis = hermite_all(max_degree, nodes, convention)
    return np.array(
        [np.dot(weights, values * basis[k]) / hermite_norm2(k, convention) for k in range(max_degree + 1)]
    )


def information_exponent(
    f: Callable[[np.ndarray], np.ndarray],
    max_degree: int = 12,
    tol: float = 1e-8,
    order: int = DEFAULT_QUADRATURE_ORDER,
) -> int | None:
    r"""The smallest :math:`k \ge 1` with :math:`\mathbb{E}[f(z)\,\mathrm{He}_k(z)] \ne 0`.

    Coefficients are computed in the orthonormal convention and compared with ``tol``
    (relative to :math:`\sqrt{\mathbb{E}[f^2]}`). Returns ``None`` when every coefficient
    up to ``max_degree`` vanishes (e.g. for a constant, or an even function checked only
    up to degree 1).
    """
    coefficients = hermite_coefficients(f, max_degree, "orthonormal", order)
    scale = math.sqrt(max(gaussian_expectation(lambda z: np.asarray(f(z), float) ** 2, order=order), 0.0))
    for k in range(1, max_degree + 1):
        if abs(coefficients[k]) > tol * max(scale, 1e-300):
            return k
    return None


@dataclass(frozen=True)
class HermitePolynomial:
    r"""A polynomial written in a Hermite basis, :math:`P(z) = \sum_k c_k H_k(z)`.

    Args:
        coefficients: ``(c_0, c_1, ..., c_K)`` in ``convention``.
        convention: the basis the coefficients refer to.

    Example:
        The paper's :math:`P_3 = H_2 + H_3` in the numerics convention is
        ``HermitePolynomial.from_degrees({2: 1.0, 3: 1.0})``.
    """

    coefficients: tuple[float, ...]
    convention: Convention = "numerics"

    def __post_init__(self) -> None:
        _check_convention(self.convention)
        coefficients = tuple(float(c) for c in self.coefficients)
        if not coefficients:
            raise ValueError("coefficients must hold at least one value (c_0)")
        if not all(math.isfinite(c) for c in coefficients):
            raise ValueError(f"coefficients must be finite, got {coefficients}")
        object.__setattr__(self, "coefficients", coefficients)

    @classmethod
    def from_degrees(cls, terms: Mapping[int, float], convention: Convention = "numerics") -> "HermitePolynomial":
        """Build from ``{degree: coefficient}``, e.g. ``{2: 1, 3: 1}``."""
        for k in terms:
            _check_degree(k, "degree")
        degree = max(terms, default=0)
        return cls(tuple(float(terms.get(k, 0.0)) for k in range(degree + 1)), convention)

    @property
    def degree(self) -> int:
        nonzero = [k for k, c in enumerate(self.coefficients) if c != 0.0]
        return max(nonzero, default=0)

    def __call__(self, z):
        """Evaluate element-wise on an array or tensor of any shape."""
        basis = hermite_all(len(self.coefficients) - 1, z, self.convention)
        out = z * 0
        for c, h in zip(self.coefficients, basis):
            if c != 0.0:
                out = out + c * h
        return out

    def coefficient(self, k: int, convention: Convention | None = None) -> float:
        """The coefficient of degree ``k``, in ``convention`` (default: its own)."""
        _check_degree(k)
        c = self.coefficients[k] if k < len(self.coefficients) else 0.0
        if convention is None:
            return c
        return c * hermite_scale(k, convention) / hermite_scale(k, self.convention)

    def to_convention(self, convention: Convention) -> "HermitePolynomial":
        """The same function, with its coefficients written in another convention."""
        return HermitePolynomial(
            tuple(self.coefficient(k, convention) for k in range(len(self.coefficients))), convention
        )

    @property
    def mean(self) -> float:
        r""":math:`\mathbb{E}[P(z)] = c_0`."""
        return self.coefficients[0]

    @property
    def linear_part(self) -> float:
        r""":math:`\mathbb{E}[P(z)\,z]`, the first Hermite moment."""
        return self.coefficient(1, "orthonormal") if len(self.coefficients) > 1 else 0.0

    @property
    def second_moment(self) -> float:
        r""":math:`\mathbb{E}[P(z)^2] = \sum_k c_k^2\,\mathbb{E}[H_k^2]`, exactly."""
        return sum(c * c * hermite_norm2(k, self.convention) for k, c in enumerate(self.coefficients))

    @property
    def information_exponent(self) -> int | None:
        """The smallest degree ``k >= 1`` with a non-zero coefficient (``None`` if constant)."""
        return next((k for k, c in enumerate(self.coefficients) if k >= 1 and c != 0.0), None)

    def __str__(self) -> str:
        symbol = {"orthonormal": "h", "numerics": "H", "probabilists": "He"}[self.convention]
        terms = [f"{c:g}·{symbol}{k}" for k, c in enumerate(self.coefficients) if c != 0.0]
        return " + ".join(terms) if terms else "0"


#: The paper's main example, :math:`P_3 = H_2 + H_3` in the numerics convention.
P3_NUMERICS = HermitePolynomial.from_degrees({2: 1.0, 3: 1.0}, "numerics")
