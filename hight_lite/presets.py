"""Named experiment sizes, chosen in exactly one place: the ``HIGHT_LITE_PRESET`` variable.

* ``quick``: seconds per chapter, for smoke runs while developing;
* ``cpu`` (default): the book and CI, real experiments on a 2-core laptop;
* ``paper``: the paper's sizes, meant for a GPU.

Chapters call :func:`get_preset` and take every size from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

ENV_VAR = "HIGHT_LITE_PRESET"
DEFAULT_PRESET = "cpu"


@dataclass(frozen=True)
class Preset:
    """Sizes for one scale of experiments.

    Args:
        name: the preset's name.
        d: input dimension of the main experiments.
        d_grid: dimensions for finite-size studies (e.g. how fast ``h*`` becomes Gaussian).
        n_monte_carlo: samples for Monte Carlo estimates of expectations.
        n_illustration: samples drawn for histograms and scatter plots.
        seeds: independent repetitions (teacher and data) of each experiment.
        d_train: input dimension of the experiments that train learners.
        kappas: the grid of κ = log n / log d for sweeps over sample sizes.
        training_seeds: repetitions of each training experiment (medians are over these).
        epochs_coefficient: training lasts ``int(epochs_coefficient * d ** 1.5)`` epochs
            (the authors' ``coef_iter``, 5).
        n_test: size of the test and validation sets (the paper: 1000).
    """

    name: str
    d: int
    d_grid: tuple[int, ...]
    n_monte_carlo: int
    n_illustration: int
    seeds: int
    d_train: int
    kappas: tuple[float, ...]
    training_seeds: int
    epochs_coefficient: float
    n_test: int = 1000


def _grid(lo: float, hi: float, count: int) -> tuple[float, ...]:
    return tuple(round(float(k), 4) for k in np.linspace(lo, hi, count))


PRESETS: dict[str, Preset] = {
    "quick": Preset(
        "quick", d=64, d_grid=(16, 64, 256), n_monte_carlo=20_000, n_illustration=2_000, seeds=2,
        d_train=16, kappas=_grid(1.0, 2.2, 4), training_seeds=2, epochs_coefficient=1.0,
    ),
    "cpu": Preset(
        "cpu", d=64, d_grid=(16, 64, 256, 1024), n_monte_carlo=200_000, n_illustration=20_000, seeds=5,
        d_train=32, kappas=_grid(0.5, 2.2, 7), training_seeds=3, epochs_coefficient=5.0,
    ),
    "paper": Preset(
        "paper", d=64, d_grid=(16, 64, 256, 1024, 4096), n_monte_carlo=1_000_000, n_illustration=50_000, seeds=10,
        d_train=64, kappas=_grid(0.2, 2.2, 15), training_seeds=10, epochs_coefficient=5.0,
    ),
}


def get_preset(name: str | None = None) -> Preset:
    """The preset called ``name``, or the one ``HIGHT_LITE_PRESET`` names (default ``cpu``)."""
    if name is None:
        name = os.environ.get(ENV_VAR, DEFAULT_PRESET).strip() or DEFAULT_PRESET
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {tuple(PRESETS)} (set by {ENV_VAR}), got {name!r}")
    return PRESETS[name]
