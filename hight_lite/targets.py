r"""SIGHT, MIGHT and deep hierarchical Gaussian targets.

A target is a frozen :class:`TargetConfig` (every constant a named field) plus teacher
weights drawn from an explicit :class:`torch.Generator` (:class:`HierarchicalTarget`).

Structure, for ``L = len(epsilons) + 1`` levels and ``r = branches``:

* level 1: :math:`h_1 = z = W^\star x`, with :math:`W^\star \in \mathbb{R}^{r D_1 \times d}`
  having orthonormal rows (QR of a Gaussian matrix), :math:`D_1 = \lfloor d^{\varepsilon_1}\rfloor`;
* level :math:`\ell = 2..L-1`: :math:`h_{\ell-1}` is split into contiguous blocks of size
  :math:`b_\ell = D_{\ell-1}/D_\ell` with :math:`D_\ell = \lfloor d^{\varepsilon_\ell}\rfloor`, and
  :math:`(h_\ell)_m = b_\ell^{-1/2}\, a^\star_{\ell,m} \cdot P(\text{block } m \text{ of } h_{\ell-1})`;
* level :math:`L` (the top): each branch's :math:`h_{L-1}` (size :math:`D_{L-1}`) is one block,
  giving :math:`h_L \in \mathbb{R}^r`; the label is :math:`y = g^\star(h_L)`.

The ``r`` branches are disjoint copies of the tree: together their first-level rows are
jointly orthonormal, so ``r * D_1 <= d``. With ``L = 2`` and ``r = 1`` this is SIGHT,
:math:`f^\star(x) = g^\star\big(D_1^{-1/2}\, a^\star \cdot P(W^\star x)\big)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Literal

import torch

from .hermite import P3_NUMERICS, HermitePolynomial
from .links import Committee, Tanh

TeacherSigns = Literal["rademacher", "ones"]
TEACHER_SIGNS: tuple[str, ...] = ("rademacher", "ones")

_ASSUMPTION_TOL = 1e-12


def integer_power(d: int, exponent: float) -> int:
    r""":math:`\lfloor d^{\text{exponent}} \rfloor`, robust to round-off (``64 ** (2/3)`` gives 16, not 15)."""
    return int(math.floor(d**exponent + 1e-9))


@dataclass(frozen=True)
class TargetConfig:
    r"""Everything that defines a hierarchical Gaussian target (but not its random draw).

    Args:
        d: input dimension, ``x ~ N(0, I_d)``.
        epsilons: ``(ε_1, ..., ε_{L-1})``, strictly decreasing, each in (0, 1); level
            widths are :math:`\lfloor d^{\varepsilon_\ell}\rfloor` per branch.
        branches: ``r``, the number of top-level features (1: SIGHT; ``>= 2``: MIGHT).
        polynomial: the component-wise polynomial ``P`` (default :math:`H_2 + H_3`, numerics).
        link: :math:`g^\star`, mapping ``(n, r)`` to ``(n,)`` (default ``tanh(3 h)``).
        teacher_signs: ``"rademacher"`` (±1, the paper's numerics) or ``"ones"`` (the theory).
        widths: optional explicit per-branch widths ``(D_1, ..., D_{L-1})`` overriding
            :math:`\lfloor d^{\varepsilon_\ell}\rfloor` (for finite-size studies).
        check_assumptions: require :math:`\mathbb{E}[P] = 0` and
            :math:`\mathbb{E}[P(z) z] = 0`, as the theory does.
        standardize_levels: divide each intermediate level ``h_2 .. h_{L-1}`` by
            :math:`\sqrt{\mathbb{E}[P(z)^2]}`, so that every polynomial acts on inputs of unit
            variance (where it is centred) as the theory assumes. Off by default: the
            definition as written applies ``P`` to the raw levels. No effect when ``L = 2``.
    """

    d: int
    epsilons: tuple[float, ...] = (0.5,)
    branches: int = 1
    polynomial: HermitePolynomial = P3_NUMERICS
    link: Callable = field(default_factory=lambda: Tanh(3.0))
    teacher_signs: TeacherSigns = "rademacher"
    widths: tuple[int, ...] | None = None
    check_assumptions: bool = True
    standardize_levels: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.d, bool) or not isinstance(self.d, int) or self.d < 2:
            raise ValueError(f"d must be an integer >= 2, got {self.d!r}")
        epsilons = tuple(float(e) for e in self.epsilons)
        object.__setattr__(self, "epsilons", epsilons)
        if not epsilons:
            raise ValueError("epsilons must hold at least one exponent ε_1 in (0, 1)")
        for i, e in enumerate(epsilons):
            if not 0.0 < e < 1.0:
                raise ValueError(f"epsilons[{i}] (ε_{i + 1}) must lie in the open interval (0, 1), got {e}")
        for i in range(1, len(epsilons)):
            if not epsilons[i] < epsilons[i - 1]:
                raise ValueError(
                    f"epsilons must be strictly decreasing (1 > ε_1 > ε_2 > ... > 0), got {epsilons}"
                )
        if isinstance(self.branches, bool) or not isinstance(self.branches, int) or self.branches < 1:
            raise ValueError(f"branches (r) must be an integer >= 1, got {self.branches!r}")
        if self.teacher_signs not in TEACHER_SIGNS:
            raise ValueError(f"teacher_signs must be one of {TEACHER_SIGNS}, got {self.teacher_signs!r}")
        if not isinstance(self.polynomial, HermitePolynomial):
            raise ValueError(f"polynomial must be a HermitePolynomial, got {type(self.polynomial).__name__}")
        if not callable(self.link):
            raise ValueError(f"link must be callable, mapping (n, r) to (n,), got {self.link!r}")
        arity = getattr(self.link, "arity", None)
        if arity is not None and arity != self.branches:
            raise ValueError(
                f"link {self.link!r} takes {arity} top-level feature(s) but branches = {self.branches}; "
                "use a link for r features (e.g. Committee or Parity) or set branches to match"
            )
        self._check_widths()
        if self.check_assumptions:
            if abs(self.polynomial.mean) > _ASSUMPTION_TOL:
                raise ValueError(
                    f"polynomial must have E[P(z)] = 0 (no constant Hermite term), got E[P] = {self.polynomial.mean:g}; "
                    "pass check_assumptions=False to allow it"
                )
            if abs(self.polynomial.linear_part) > _ASSUMPTION_TOL:
                raise ValueError(
                    "polynomial must have no linear part, E[P(z) z] = 0 (the theory needs information exponent >= 2), "
                    f"got E[P(z) z] = {self.polynomial.linear_part:g}; pass check_assumptions=False to allow it"
                )

    def _check_widths(self) -> None:
        widths = self.level_widths[:-1]
        for i, w in enumerate(widths):
            if w < 1:
                raise ValueError(f"widths[{i}] (d_eff at level {i + 1}) must be >= 1, got {w}")
        for i in range(1, len(widths)):
            if widths[i - 1] % widths[i] != 0 or widths[i] >= widths[i - 1]:
                raise ValueError(
                    f"blocks do not fit: level {i + 1} has {widths[i - 1]} features, which cannot be split into "
                    f"{widths[i]} equal blocks of size >= 2 (blocks of intermediate levels); choose d and epsilons so that "
                    f"floor(d^ε_{i}) is a multiple of floor(d^ε_{i + 1}) (e.g. d = 64 with ε = (2/3, 1/3))"
                )
        if self.branches * widths[0] > self.d:
            raise ValueError(
                f"branches * d_eff must be <= d for jointly orthonormal teacher rows, "
                f"got r * d_eff = {self.branches} * {widths[0]} > d = {self.d}"
            )

    # ---- derived sizes ---------------------------------------------------------------
    @property
    def depth(self) -> int:
        """``L``: the number of levels of latent features (``h_1 = z`` up to ``h_L``)."""
        return len(self.epsilons) + 1

    @property
    def level_widths(self) -> tuple[int, ...]:
        """Per-branch widths ``(D_1, ..., D_{L-1}, 1)`` of the levels ``h_1 .. h_L``."""
        if self.widths is not None:
            widths = tuple(int(w) for w in self.widths)
            if len(widths) != len(self.epsilons):
                raise ValueError(
                    f"widths must have one entry per exponent ({len(self.epsilons)}), got {len(widths)}"
                )
        else:
            widths = tuple(integer_power(self.d, e) for e in self.epsilons)
        return widths + (1,)

    @property
    def d_eff(self) -> int:
        """``D_1``: the width of the first latent level per branch."""
        return self.level_widths[0]

    @property
    def block_sizes(self) -> tuple[int, ...]:
        """Block sizes ``(b_2, ..., b_L)``: level ℓ sums blocks of ``b_ℓ`` features of level ℓ-1."""
        w = self.level_widths
        return tuple(w[i - 1] // w[i] for i in range(1, len(w)))

    @property
    def total_widths(self) -> tuple[int, ...]:
        """Widths of ``h_1 .. h_L`` over all branches: ``r * D_ℓ``."""
        return tuple(self.branches * w for w in self.level_widths)

    def build(
        self,
        generator: torch.Generator,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> "HierarchicalTarget":
        """Draw the teacher weights (see :meth:`HierarchicalTarget.build`)."""
        return HierarchicalTarget.build(self, generator, device=device, dtype=dtype)


def sight(d: int, epsilon: float = 0.5, **kwargs) -> TargetConfig:
    r"""SIGHT: :math:`f^\star(x) = g^\star(D^{-1/2} a^\star\cdot P(W^\star x))`, default the paper's example."""
    return TargetConfig(d=d, epsilons=(epsilon,), branches=1, **kwargs)


def might(d: int, branches: int = 2, epsilon: float = 0.5, **kwargs) -> TargetConfig:
    r"""MIGHT with ``branches`` top features, default the committee link :math:`r^{-1/2}\sum_m\tanh(3h_m)`."""
    kwargs.setdefault("link", Committee(3.0))
    return TargetConfig(d=d, epsilons=(epsilon,), branches=branches, **kwargs)


def deep_target(d: int, epsilons: tuple[float, ...], branches: int = 1, **kwargs) -> TargetConfig:
    """A deep SIGHT (``branches = 1``) or MIGHT with ``L = len(epsilons) + 1`` levels."""
    if branches > 1:
        kwargs.setdefault("link", Committee(3.0))
    return TargetConfig(d=d, epsilons=tuple(epsilons), branches=branches, **kwargs)


@dataclass(frozen=True)
class TargetSample:
    """``n`` labelled samples of a target with every latent level.

    Attributes:
        x: inputs, ``(n, d)``.
        y: labels, ``(n,)``.
        levels: ``(h_1, ..., h_L)``; ``h_ℓ`` has shape ``(n, r * D_ℓ)``, ``h_1 = z = x W*ᵀ``
            and ``h_L`` has shape ``(n, r)``.
    """

    x: torch.Tensor
    y: torch.Tensor
    levels: tuple[torch.Tensor, ...]

    @property
    def z(self) -> torch.Tensor:
        """First-level projections ``W* x``, ``(n, r * d_eff)``."""
        return self.levels[0]

    @property
    def h(self) -> torch.Tensor:
        """Top-level features ``h*``, ``(n, r)``."""
        return self.levels[-1]

    def __len__(self) -> int:
        return self.x.shape[-2]

    @classmethod
    def stack(cls, samples) -> "TargetSample":
        """Samples of several seeds (same ``n``, same target shape) stacked along a new leading dimension."""
        samples = list(samples)
        if not samples or not all(isinstance(s, TargetSample) for s in samples):
            raise ValueError("samples must be a non-empty sequence of TargetSample")
        shapes = {(tuple(s.x.shape), tuple(tuple(level.shape) for level in s.levels)) for s in samples}
        if len(shapes) != 1:
            raise ValueError(f"samples must all have the same shapes (n, d and levels) to be stacked, got {sorted(shapes)}")
        return cls(
            x=torch.stack([s.x for s in samples]),
            y=torch.stack([s.y for s in samples]),
            levels=tuple(torch.stack(level) for level in zip(*(s.levels for s in samples))),
        )

    def select(self, index: int) -> "TargetSample":
        """Seed ``index`` of a stacked sample."""
        return TargetSample(self.x[index], self.y[index], tuple(level[index] for level in self.levels))


class HierarchicalTarget:
    """A target with its teacher weights drawn.

    Attributes:
        config: the :class:`TargetConfig`.
        teacher: ``W*``, ``(r * D_1, d)``, orthonormal rows.
        signs: ``(a*_2, ..., a*_L)``; ``a*_ℓ`` has shape ``(r * D_ℓ, b_ℓ)``: the weights of
            each block of level ℓ-1 that forms one component of level ℓ.
    """

    def __init__(self, config: TargetConfig, teacher: torch.Tensor, signs: tuple[torch.Tensor, ...]):
        expected = (config.total_widths[0], config.d)
        if tuple(teacher.shape) != expected:
            raise ValueError(f"teacher must have shape {expected}, got {tuple(teacher.shape)}")
        for level, (a, m, b) in enumerate(zip(signs, config.total_widths[1:], config.block_sizes), start=2):
            if tuple(a.shape) != (m, b):
                raise ValueError(f"signs for level {level} must have shape {(m, b)}, got {tuple(a.shape)}")
        self.config = config
        self.teacher = teacher
        self.signs = tuple(signs)

    @classmethod
    def build(
        cls,
        config: TargetConfig,
        generator: torch.Generator,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> "HierarchicalTarget":
        """Draw ``W*`` (QR of a Gaussian ``d × r D_1`` matrix, in float64) and the signs ``a*``.

        Draws happen on ``generator``'s device, so a CPU generator gives the same teacher
        whatever ``device`` the target then lives on.
        """
        if not isinstance(generator, torch.Generator):
            raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        gen_device = generator.device
        gaussian = torch.randn(
            config.d, config.total_widths[0], generator=generator, device=gen_device, dtype=torch.float64
        )
        q, r_factor = torch.linalg.qr(gaussian)
        q = q * torch.sign(torch.diagonal(r_factor))  # a unique, Haar-distributed Q
        signs = []
        for m, b in zip(config.total_widths[1:], config.block_sizes):
            if config.teacher_signs == "ones":
                a = torch.ones(m, b, dtype=torch.float64, device=gen_device)
            else:
                a = torch.randint(0, 2, (m, b), generator=generator, device=gen_device).to(torch.float64) * 2 - 1
            signs.append(a)
        device = torch.device(device) if device is not None else torch.device("cpu")
        return cls(config, q.T.to(device, dtype), tuple(a.to(device, dtype) for a in signs))

    @property
    def device(self) -> torch.device:
        return self.teacher.device

    @property
    def dtype(self) -> torch.dtype:
        return self.teacher.dtype

    def latents(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        r"""``(h_1, ..., h_L)`` for inputs ``x`` of shape ``(n, d)``.

        :math:`h_1 = x W^{\star\top}`; :math:`h_\ell = b_\ell^{-1/2}\sum_j a^\star_{\ell,mj}\,P(h_{\ell-1})_{mj}`
        over the ``b_ℓ`` entries ``j`` of block ``m``.
        """
        if x.ndim != 2 or x.shape[1] != self.config.d:
            raise ValueError(f"x must have shape (n, {self.config.d}), got {tuple(x.shape)}")
        levels = [x @ self.teacher.T]
        last = len(self.signs) - 1
        rescale = math.sqrt(self.config.polynomial.second_moment) if self.config.standardize_levels else 1.0
        for i, (a, b) in enumerate(zip(self.signs, self.config.block_sizes)):
            p = self.config.polynomial(levels[-1]).reshape(x.shape[0], a.shape[0], b)
            h = (p * a).sum(-1) / math.sqrt(b)
            levels.append(h if i == last else h / rescale)
        return tuple(levels)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Labels ``y = g*(h_L)``, ``(n,)``."""
        return self.config.link(self.latents(x)[-1])

    def sample(self, n: int, generator: torch.Generator) -> TargetSample:
        """Draw ``n`` fresh inputs ``x ~ N(0, I_d)`` (on ``generator``'s device) and label them."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        if not isinstance(generator, torch.Generator):
            raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        x = torch.randn(n, self.config.d, generator=generator, device=generator.device, dtype=self.dtype)
        x = x.to(self.device)
        levels = self.latents(x)
        return TargetSample(x=x, y=self.config.link(levels[-1]), levels=levels)

    def __repr__(self) -> str:
        return f"HierarchicalTarget({self.config!r}, device={self.device}, dtype={self.dtype})"
