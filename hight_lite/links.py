r"""Link functions :math:`g^\star` that turn the top-level features into a label.

A link maps the top level :math:`h^\star_L` of shape ``(n, r)`` to labels of shape ``(n,)``.
Links act on torch tensors (for sampling) and on NumPy arrays (for quadrature). They are
frozen dataclasses, so a target's configuration stays hashable and has a stable ``repr``.
Any other callable with the same signature can be used as a link too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def _tanh(h):
    return torch.tanh(h) if isinstance(h, torch.Tensor) else np.tanh(h)


def _sign(h):
    return torch.sign(h) if isinstance(h, torch.Tensor) else np.sign(h)


@dataclass(frozen=True)
class Tanh:
    r""":math:`g^\star(h) = \tanh(\text{scale}\cdot h)` for a single top feature (``r = 1``).

    The paper's main example uses ``scale = 3``.
    """

    scale: float = 3.0
    arity: int | None = 1

    def __call__(self, h):
        return _tanh(self.scale * h[..., 0])


@dataclass(frozen=True)
class Committee:
    r""":math:`g^\star(h_1..h_r) = r^{-1/2}\sum_m \tanh(\text{scale}\cdot h_m)`, the authors' easy MIGHT."""

    scale: float = 3.0
    arity: int | None = None

    def __call__(self, h):
        r = h.shape[-1]
        return _tanh(self.scale * h).sum(-1) / r**0.5


@dataclass(frozen=True)
class Parity:
    r""":math:`g^\star(h_1..h_r) = \mathrm{sign}(h_1 h_2 \cdots h_r)`: the hard MIGHT.

    Its information exponent in each :math:`h_m` is infinite for ``r >= 2`` (it is
    uncorrelated with every polynomial of fewer than ``r`` of the features).
    """

    arity: int | None = None

    def __call__(self, h):
        return _sign(h.prod(-1))


@dataclass(frozen=True)
class Identity:
    r""":math:`g^\star(h) = h`, for a single top feature: the target is :math:`h^\star` itself."""

    arity: int | None = 1

    def __call__(self, h):
        return h[..., 0] * 1
