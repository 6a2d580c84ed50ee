"""Figures drawn from the package's objects (matplotlib and seaborn).

Every function takes an optional ``ax`` and returns the axes it drew on.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch

from .targets import TargetConfig


def _column(count: int, shown: int) -> np.ndarray:
    """Vertical positions of ``shown`` nodes, centred, for a column that stands for ``count``."""
    if shown == 1:
        return np.array([0.5])
    height = min(1.0, 0.1 + 0.9 * shown / 32)
    return 0.5 + height * (np.linspace(0.5, -0.5, shown))


def draw_target(config: TargetConfig, ax: plt.Axes | None = None, max_input_nodes: int = 20) -> plt.Axes:
    r"""Draw a target's hierarchy, as in the paper's Figs. 1 and 2, from its configuration.

    Columns, left to right: the input ``x`` (at most ``max_input_nodes`` drawn), the
    levels ``h_1 = W* x``, ``h_2``, ..., ``h_L`` (all nodes drawn), and the label ``y``.
    ``x → h_1`` is dense; level ℓ-1 → ℓ joins each block of ``b_ℓ`` features to one
    feature of level ℓ (edges coloured by block). Nodes are coloured by branch.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(2.2 * (config.depth + 2), 4.2))
    widths = config.total_widths
    if max(widths) > 256:
        raise ValueError(f"the first level has {widths[0]} features; draw a target with at most 256")
    shown_x = min(config.d, max_input_nodes)
    columns = [_column(config.d, shown_x)] + [_column(w, w) for w in widths] + [np.array([0.5])]
    xs = np.arange(len(columns), dtype=float)
    branch_colors = sns.color_palette("deep", max(config.branches, 1))
    block_colors = sns.color_palette("husl", 12)
    lw = 0.6

    # x -> h_1: dense edges
    for y0 in columns[0]:
        for y1 in columns[1]:
            ax.plot([xs[0], xs[1]], [y0, y1], color="0.82", lw=0.3, zorder=1)
    # h_{l-1} -> h_l: block edges
    for level, b in enumerate(config.block_sizes, start=1):
        src, dst = columns[level], columns[level + 1]
        for m, y1 in enumerate(dst):
            for j in range(b):
                ax.plot([xs[level], xs[level + 1]], [src[m * b + j], y1], color=block_colors[m % 12], lw=lw, zorder=1)
    # h_L -> y
    for y0 in columns[-2]:
        ax.plot([xs[-2], xs[-1]], [y0, 0.5], color="0.4", lw=1.0, zorder=1)

    size = lambda n: float(np.clip(900 / max(n, 1), 6, 120))  # noqa: E731
    ax.scatter(np.full(shown_x, xs[0]), columns[0], s=size(shown_x), color="0.55", zorder=2)
    if shown_x < config.d:
        ax.text(xs[0], columns[0][-1] - 0.06, "⋮", ha="center", va="top", fontsize=12)
    for level, w in enumerate(widths, start=1):
        per_branch = w // config.branches
        colors = [branch_colors[i // per_branch] for i in range(w)]
        ax.scatter(np.full(w, xs[level]), columns[level], s=size(w), color=colors, zorder=2, edgecolor="k", lw=0.3)
    ax.scatter([xs[-1]], [0.5], s=160, color="k", zorder=2)

    labels = [f"$x \\in \\mathbb{{R}}^{{{config.d}}}$", f"$h_1 = W^\\star x$\n$\\in \\mathbb{{R}}^{{{widths[0]}}}$"]
    labels += [f"$h_{{{ell}}} \\in \\mathbb{{R}}^{{{w}}}$" for ell, w in enumerate(widths[1:], start=2)]
    labels += ["$y = g^\\star(h_{%d})$" % config.depth]
    for x, label in zip(xs, labels):
        ax.text(x, 1.08, label, ha="center", va="bottom", fontsize=10)
    for level, b in enumerate(config.block_sizes, start=1):
        ax.text((xs[level] + xs[level + 1]) / 2, -0.1, f"$P$, blocks\nof {b}", ha="center", fontsize=8)
    name = "SIGHT" if config.branches == 1 else f"MIGHT (r = {config.branches})"
    eps = ", ".join(f"{e:.3g}" for e in config.epsilons)
    eps = f"({eps})" if len(config.epsilons) > 1 else eps
    ax.set_title(f"{name}, L = {config.depth}, d = {config.d}, ε = {eps}", pad=34)
    ax.set_xlim(-0.4, xs[-1] + 0.4)
    ax.set_ylim(-0.18, 1.18)
    ax.axis("off")
    return ax


def plot_gaussian_fit(values: torch.Tensor | np.ndarray, variance: float, ax: plt.Axes | None = None, label: str = "") -> plt.Axes:
    r"""Histogram of ``values`` against the :math:`\mathcal{N}(0, \text{variance})` density."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.2))
    values = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    sns.histplot(values.ravel(), stat="density", bins=60, ax=ax, color="C0", alpha=0.5, label=label or "samples")
    grid = np.linspace(-4 * math.sqrt(variance), 4 * math.sqrt(variance), 400)
    ax.plot(grid, np.exp(-(grid**2) / (2 * variance)) / math.sqrt(2 * math.pi * variance), "k", lw=1.5,
            label=f"$\\mathcal{{N}}(0, {variance:.3g})$")
    ax.legend(frameon=False)
    return ax


def plot_hermite_coefficients(coefficients: np.ndarray, ax: plt.Axes | None = None, label: str = "") -> plt.Axes:
    """Bar plot of Hermite coefficients against their degree."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.2))
    degrees = np.arange(len(coefficients))
    ax.bar(degrees, coefficients, color="C0", label=label or None)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("degree $k$")
    ax.set_ylabel("coefficient $c_k$")
    ax.set_xticks(degrees)
    if label:
        ax.legend(frameon=False)
    return ax


def plot_phase_diagram(table, ax: plt.Axes | None = None, thresholds: dict[str, float] | None = None) -> plt.Axes:
    """Draw a phase diagram (error against κ per learner) from :func:`hight_lite.theory.phase_diagram`.

    ``thresholds`` maps labels to κ values drawn as vertical dashed lines.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    palette = {"kernel": "C1", "two-layer": "C2", "three-layer": "C0"}
    for learner, group in table.groupby("learner", sort=False):
        ax.step(group.kappa, group.error, where="post", lw=2, label=learner, color=palette.get(learner))
    for label, kappa in (thresholds or {}).items():
        ax.axvline(kappa, color="k", ls="--", lw=0.8)
        ax.text(kappa, ax.get_ylim()[1], f" {label}", va="top", fontsize=8, rotation=90)
    ax.set_xlabel(r"$\kappa = \log n / \log d$")
    ax.set_ylabel("test error (limit $d \\to \\infty$)")
    ax.legend(frameon=False)
    return ax


def plot_sweep_metric(summary, ax: plt.Axes | None = None, levels: dict[str, float] | None = None,
                      threshold: float | None = None) -> plt.Axes:
    """Medians (with quartile bands) of one metric against κ per learner, from ``SweepResult.summary()``.

    ``levels`` maps labels to horizontal reference lines (e.g. theory plateaus); ``threshold``
    draws a vertical line at that κ (e.g. 1 + ε₁).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    palette = {"kernel": "C1", "two-layer": "C2", "layerwise": "C0", "joint": "C3"}
    for learner, group in summary.groupby("learner", sort=False):
        group = group.sort_values("kappa")
        color = palette.get(learner)
        ax.plot(group.kappa, group["median"], "o-", color=color, label=learner)
        ax.fill_between(group.kappa, group.q25, group.q75, color=color, alpha=0.2, lw=0)
    for i, (label, value) in enumerate((levels or {}).items()):
        ax.axhline(value, color=f"C{4 + i}", ls=":", lw=1.5, label=label)
    if threshold is not None:
        ax.axvline(threshold, color="k", ls="--", lw=0.8)
    ax.set_xlabel(r"$\kappa = \log n / \log d$")
    ax.legend(frameon=False, fontsize=8)
    return ax
