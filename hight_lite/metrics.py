r"""Test error and the overlaps (order parameters) :math:`M_W` and :math:`M_h`.

* :math:`(M_W)_{ij} = \langle w_{1,i}, w^\star_j\rangle / \|w_{1,i}\|`; per branch the plotted
  summary is :math:`\|M_W\|_F/\sqrt{p_1}`, the root mean square over neurons of
  :math:`\|P_{W^\star} w_i\| / \|w_i\|`. For random weights it is about :math:`\sqrt{d_\mathrm{eff}/d}`.
* :math:`(M_h)_{il}` is the cosine, over fresh Gaussian inputs, between the second-layer
  pre-activation of unit ``i`` and :math:`h^\star_l`; summarised as :math:`\|M_h\|_F/\sqrt{p_2}`.
"""

from __future__ import annotations

import math

import torch


def mse_per_seed(prediction: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the last dimension: ``(..., n)`` tensors give ``(...)`` (no host sync)."""
    if prediction.shape != y.shape:
        raise ValueError(f"prediction and y must have the same shape, got {tuple(prediction.shape)} and {tuple(y.shape)}")
    return ((prediction - y) ** 2).mean(-1)


def mse(prediction: torch.Tensor, y: torch.Tensor) -> float:
    """Mean squared error between ``(n,)`` tensors, as a float."""
    if prediction.shape != y.shape:
        raise ValueError(f"prediction and y must have the same shape, got {tuple(prediction.shape)} and {tuple(y.shape)}")
    return float(((prediction - y) ** 2).mean())


def first_layer_overlap(weights: torch.Tensor, teacher: torch.Tensor, branches: int = 1) -> torch.Tensor:
    r""":math:`\|M_W\|_F/\sqrt{p_1}` for each branch.

    Args:
        weights: first-layer weights ``W_1``, ``(..., p_1, d)`` (leading dimensions: seeds).
        teacher: ``W*``, ``(..., r * d_eff, d)`` with orthonormal rows, branch after branch.
        branches: ``r``.

    Returns:
        ``(..., r)``: for branch ``m``, :math:`\big(\frac{1}{p_1}\sum_i \|W^\star_m w_i\|^2/\|w_i\|^2\big)^{1/2}`.
    """
    if weights.shape[-1] != teacher.shape[-1]:
        raise ValueError(f"weights (…, d) and teacher (…, d) must share d, got {tuple(weights.shape)}, {tuple(teacher.shape)}")
    projections = weights @ teacher.mT  # (..., p1, r * d_eff)
    per_branch = projections.unflatten(-1, (branches, -1)).pow(2).sum(-1)  # (..., p1, r)
    norms = weights.pow(2).sum(-1, keepdim=True).clamp_min(torch.finfo(weights.dtype).tiny)
    return (per_branch / norms).mean(-2).sqrt()


def random_first_layer_overlap(d: int, d_eff: int) -> float:
    r""":math:`\sqrt{d_\mathrm{eff}/d}`: :math:`\|M_W\|_F/\sqrt{p_1}` for isotropic random weights."""
    return math.sqrt(d_eff / d)


def random_second_layer_overlap(n_probe: int) -> float:
    r""":math:`1/\sqrt{n_\mathrm{probe}}`: the typical :math:`\|M_h\|_F/\sqrt{p_2}` of pre-activations unrelated to :math:`h^\star`.

    The cosine over ``n_probe`` points between :math:`h^\star` and an independent direction
    has mean square about :math:`1/n_\mathrm{probe}`.
    """
    if isinstance(n_probe, bool) or not isinstance(n_probe, int) or n_probe < 1:
        raise ValueError(f"n_probe must be an integer >= 1, got {n_probe!r}")
    return 1.0 / math.sqrt(n_probe)


def second_layer_overlap(preactivations: torch.Tensor, h_star: torch.Tensor) -> torch.Tensor:
    r""":math:`\|M_h\|_F/\sqrt{p_2}` for each top-level feature.

    Args:
        preactivations: second-layer pre-activations ``W2 h1 + b2`` on probe inputs, ``(..., n, p2)``
            (leading dimensions: seeds).
        h_star: the target's top features on the same inputs, ``(..., n, r)``.

    Returns:
        ``(..., r)``: :math:`\big(\frac{1}{p_2}\sum_i \cos^2(u_i, h^\star_l)\big)^{1/2}`, with the
        uncentred cosine :math:`\cos(u, h) = \sum_\mu u_\mu h_\mu / (\|u\|\,\|h\|)` over the probe inputs.
    """
    if preactivations.shape[-2] != h_star.shape[-2]:
        raise ValueError("preactivations and h_star must share their sample dimension (the second to last)")
    tiny = torch.finfo(preactivations.dtype).tiny
    u = preactivations / preactivations.norm(dim=-2, keepdim=True).clamp_min(tiny)
    h = h_star / h_star.norm(dim=-2, keepdim=True).clamp_min(tiny)
    # a product and a sum over the samples, not ``u.mT @ h``: a batched product with r = 1
    # column runs different kernels for one seed and for several (see ``rowwise_dot``)
    cosines = (u.unsqueeze(-1) * h.unsqueeze(-2)).sum(-3)  # (..., p2, r)
    return cosines.pow(2).mean(-2).sqrt()
