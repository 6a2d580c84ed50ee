r"""Ridge regression in the paper's normalisation, shared by every readout.

Given features :math:`H \in \mathbb{R}^{n \times p}` and labels :math:`y \in \mathbb{R}^n`,

.. math::  w = (H^\top H + \lambda n I_p)^{-1} H^\top y,

the minimiser of :math:`\frac{1}{n}\|Hw - y\|^2 + \lambda \|w\|^2`. The paper uses
:math:`\lambda = 1` for every readout and for kernel ridge regression.
"""

from __future__ import annotations

import torch

from .layers import rowwise_dot
from .training import check_nonnegative


def check_ridge(ridge: float, name: str = "ridge") -> None:
    """Raise a ValueError unless ``ridge >= 0`` and finite."""
    check_nonnegative(ridge, name)


def gram(features: torch.Tensor, batch_size: int = 8192) -> torch.Tensor:
    """:math:`H^\\top H`, ``(..., p, p)``, accumulated over row batches of ``features`` ``(..., n, p)``."""
    p = features.shape[-1]
    out = torch.zeros(*features.shape[:-2], p, p, dtype=features.dtype, device=features.device)
    for start in range(0, features.shape[-2], batch_size):
        block = features[..., start : start + batch_size, :]
        out += block.mT @ block
    return out


def ridge_solve(features: torch.Tensor, y: torch.Tensor, ridge: float) -> torch.Tensor:
    r"""Weights ``(..., p)`` solving :math:`(H^\top H + \lambda n I) w = H^\top y`.

    Args:
        features: ``H``, ``(..., n, p)``; leading dimensions (seeds) are solved independently.
        y: ``(..., n)``.
        ridge: :math:`\lambda \ge 0`. With ``0`` the system may be singular; it is then
            solved in the least-squares sense.
    """
    check_ridge(ridge)
    if features.ndim < 2 or y.shape != features.shape[:-1]:
        raise ValueError(f"features must be (..., n, p) and y (..., n), got {tuple(features.shape)} and {tuple(y.shape)}")
    n = features.shape[-2]
    a = gram(features)
    a.diagonal(dim1=-2, dim2=-1).add_(ridge * n)
    b = rowwise_dot(features.mT, y).unsqueeze(-1)
    if ridge > 0:
        factor, info = torch.linalg.cholesky_ex(a)
        if bool((info == 0).all()):
            return torch.cholesky_solve(b, factor).squeeze(-1)
    return torch.linalg.lstsq(a, b).solution.squeeze(-1)
