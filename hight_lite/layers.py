r"""The dense-layer arithmetic every network of the package shares, written for speed and for bitwise-stable batches.

A hidden layer is :math:`h = \mathrm{ReLU}(a)`, :math:`a = W h_\mathrm{in} + b`; back-propagation
multiplies the incoming error by :math:`\mathbb{1}[a > 0]`. Written naively (``x @ w.mT + b``,
``torch.relu``, ``grad * (a > 0)``) each of these makes a pass over an ``(m, p)`` array
of its own, and at the book's sizes those passes cost as much time as the matrix products.
Here the bias is added inside the product (``addmm``/``baddbmm``), the ReLU is applied in
place, and the mask is applied in one fused pass that reads the activation (``h > 0``
exactly where ``a > 0``).

Leading dimensions are seeds: ``(S, m, k)`` inputs with ``(S, p, k)`` weights.
Matrix-*vector* products go through :func:`rowwise_dot`, a product and a sum: torch runs a
batched product with one column through different kernels for one seed and for several,
which would change float32 results in the last bits.
"""

from __future__ import annotations

import torch

__all__ = ["affine", "relu_backward", "rowwise_dot"]


def affine(inputs: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``inputs @ weight.mT + bias``, with the bias added inside the product.

    Args:
        inputs: ``(m, k)`` or ``(S, m, k)``.
        weight: ``(p, k)`` or ``(S, p, k)``, with as many dimensions as ``inputs``.
        bias: ``(p,)`` or ``(S, p)``.

    Returns:
        ``(m, p)`` or ``(S, m, p)``. Other shapes (broadcasting one network over several
        inputs, say) fall back to the unfused expression.
    """
    if inputs.ndim == weight.ndim == 2 and bias.ndim == 1:
        return torch.addmm(bias, inputs, weight.T)
    if inputs.ndim == weight.ndim == 3 and bias.ndim == 2 and inputs.shape[0] == weight.shape[0]:
        return torch.baddbmm(bias.unsqueeze(-2), inputs, weight.mT)
    return inputs @ weight.mT + bias.unsqueeze(-2)


def relu_backward(grad: torch.Tensor, activation: torch.Tensor) -> torch.Tensor:
    r""":math:`g \odot \mathbb{1}[h > 0]` in one pass, from the ReLU's *output* ``h`` (``h > 0`` iff its input was)."""
    return torch.ops.aten.threshold_backward(grad, activation, 0)


def rowwise_dot(matrix: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    """``matrix @ vector`` for ``(..., m, k)`` and ``(..., k)``, giving ``(..., m)``.

    Written as a product and a sum over the last dimension rather than a batched
    matrix-vector product: torch runs ``bmm`` with one column through different kernels for
    one seed and for several, which changes float32 results in the last bits; this form
    gives every seed the same numbers whatever the batch.
    """
    return (matrix * vector.unsqueeze(-2)).sum(-1)
