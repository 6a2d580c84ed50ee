r"""Kernel ridge regression with dot-product kernels, solved in the dual or the primal.

Kernels (``t = x·x' / scale``):

* ``"polynomial"`` of degree ``q``: :math:`K = \sum_{j=0}^{q} t^j`. The paper's baseline is
  ``degree=2, scale=1``: :math:`K(x, x') = (x\cdot x')^2 + x\cdot x' + 1`.
* ``"exponential"``: :math:`K = e^{t}`, which holds every degree (coefficient :math:`1/j!`);
  use ``scale = d``.

The estimator is :math:`\hat f(x) = k(x, X)\,\alpha` with :math:`(K + \lambda n I)\alpha = y`
(the paper's :math:`\lambda = 1`). For polynomial kernels of degree at most 2 the same
predictor is the ridge regression :math:`(\Phi^\top\Phi + \lambda n I) w = \Phi^\top y` on the
explicit features :math:`\Phi`, of dimension :math:`1 + d + d(d+1)/2`; ``solver="auto"``
takes the primal once ``n`` exceeds that dimension.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from .ridge import check_ridge, ridge_solve

KernelKind = Literal["polynomial", "exponential"]
Solver = Literal["auto", "dual", "primal"]


@dataclass(frozen=True)
class KernelConfig:
    """Kernel ridge regression settings.

    Args:
        kind: ``"polynomial"`` or ``"exponential"``.
        degree: degree ``q`` of the polynomial kernel (ignored for ``"exponential"``).
        scale: inputs enter as ``x·x' / scale`` (1 for the paper's kernel; ``d`` is natural
            for the exponential kernel).
        ridge: λ in :math:`(K + \\lambda n I)\\alpha = y`; the paper uses 1.
        solver: ``"dual"`` (n × n), ``"primal"`` (explicit features, polynomial degree ≤ 2)
            or ``"auto"`` (whichever system is smaller).
        batch_size: rows of test inputs per kernel block at prediction time.
    """

    kind: KernelKind = "polynomial"
    degree: int = 2
    scale: float = 1.0
    ridge: float = 1.0
    solver: Solver = "auto"
    batch_size: int = 4096

    def __post_init__(self) -> None:
        if self.kind not in ("polynomial", "exponential"):
            raise ValueError(f"kind must be 'polynomial' or 'exponential', got {self.kind!r}")
        if isinstance(self.degree, bool) or not isinstance(self.degree, int) or self.degree < 1:
            raise ValueError(f"degree must be an integer >= 1, got {self.degree!r}")
        if not self.scale > 0:
            raise ValueError(f"scale must be > 0, got {self.scale!r}")
        check_ridge(self.ridge)
        if self.solver not in ("auto", "dual", "primal"):
            raise ValueError(f"solver must be 'auto', 'dual' or 'primal', got {self.solver!r}")
        if self.solver == "primal" and not self.has_primal:
            raise ValueError("solver='primal' needs a polynomial kernel of degree <= 2; use 'dual' or 'auto'")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")

    @property
    def has_primal(self) -> bool:
        """Whether explicit features are available (polynomial kernels of degree ≤ 2)."""
        return self.kind == "polynomial" and self.degree <= 2

    def feature_dimension(self, d: int) -> int:
        """Dimension of the explicit features: ``1 + d`` (+ ``d(d+1)/2`` for degree 2)."""
        if not self.has_primal:
            raise ValueError("only polynomial kernels of degree <= 2 have explicit features here")
        return 1 + d + (d * (d + 1) // 2 if self.degree == 2 else 0)

    def kernel(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The kernel matrix ``K(a, b)``, ``(n_a, n_b)``, for ``a`` ``(n_a, d)`` and ``b`` ``(n_b, d)``."""
        t = (a @ b.T) / self.scale
        if self.kind == "exponential":
            return torch.exp(t)
        out = torch.ones_like(t)
        power = torch.ones_like(t)
        for _ in range(self.degree):
            power = power * t
            out = out + power
        return out

    def features(self, x: torch.Tensor) -> torch.Tensor:
        r"""Explicit features :math:`\Phi(x)` with :math:`\Phi(x)\cdot\Phi(x') = K(x, x')`, ``(n, D)``."""
        n, d = x.shape
        dim = self.feature_dimension(d)
        u = x / math.sqrt(self.scale)
        parts = [torch.ones(n, 1, dtype=x.dtype, device=x.device), u]
        if self.degree == 2:
            rows, cols = torch.triu_indices(d, d, device=x.device)
            weight = torch.full(rows.shape, math.sqrt(2.0), dtype=x.dtype, device=x.device)
            weight[rows == cols] = 1.0
            parts.append(u[:, rows] * u[:, cols] * weight)
        out = torch.cat(parts, dim=1)
        assert out.shape[1] == dim
        return out


@dataclass
class KernelRidgeModel:
    """A fitted kernel ridge regressor.

    Attributes:
        config: the :class:`KernelConfig`.
        solver: ``"dual"`` or ``"primal"``, the system that was solved.
        x_train: training inputs ``(n, d)`` (dual only, else ``None``).
        coefficients: ``α`` ``(n,)`` (dual) or ``w`` ``(D,)`` (primal).
    """

    config: KernelConfig
    solver: str
    x_train: torch.Tensor | None
    coefficients: torch.Tensor

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions ``(m,)`` for ``x`` ``(m, d)``, computed ``batch_size`` rows at a time."""
        out = []
        for start in range(0, x.shape[0], self.config.batch_size):
            block = x[start : start + self.config.batch_size]
            if self.solver == "primal":
                out.append(self.config.features(block) @ self.coefficients)
            else:
                out.append(self.config.kernel(block, self.x_train) @ self.coefficients)
        return torch.cat(out)


@torch.no_grad()
def fit_kernel_ridge(x: torch.Tensor, y: torch.Tensor, config: KernelConfig = KernelConfig()) -> KernelRidgeModel:
    """Fit kernel ridge regression on ``x`` ``(n, d)``, ``y`` ``(n,)`` (deterministic: no generator)."""
    if x.ndim != 2 or y.shape != x.shape[:1]:
        raise ValueError(f"x must be (n, d) and y (n,), got {tuple(x.shape)} and {tuple(y.shape)}")
    n, d = x.shape
    solver = config.solver
    if solver == "auto":
        solver = "primal" if config.has_primal and n > config.feature_dimension(d) else "dual"
    if solver == "primal":
        return KernelRidgeModel(config, "primal", None, ridge_solve(config.features(x), y, config.ridge))
    k = config.kernel(x, x)
    k.diagonal().add_(config.ridge * n)
    factor, info = torch.linalg.cholesky_ex(k)
    if int(info) == 0:
        alpha = torch.cholesky_solve(y[:, None], factor)[:, 0]
    else:
        alpha = torch.linalg.lstsq(k, y[:, None]).solution[:, 0]
    return KernelRidgeModel(config, "dual", x, alpha)
