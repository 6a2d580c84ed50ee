"""Named experiment sizes, chosen in exactly one place: the ``HIGHT_LITE_PRESET`` variable.

* ``quick``: seconds per chapter, for smoke runs while developing;
* ``cpu`` (default): the book and CI, real experiments on a 2-core laptop;
* ``paper``: the paper's sizes, meant for a GPU.

Chapters call :func:`get_preset` and take every size from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

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
    """

    name: str
    d: int
    d_grid: tuple[int, ...]
    n_monte_carlo: int
    n_illustration: int
    seeds: int


PRESETS: dict[str, Preset] = {
    "quick": Preset("quick", d=64, d_grid=(16, 64, 256), n_monte_carlo=20_000, n_illustration=2_000, seeds=2),
    "cpu": Preset(
        "cpu", d=64, d_grid=(16, 64, 256, 1024), n_monte_carlo=200_000, n_illustration=20_000, seeds=5
    ),
    "paper": Preset(
        "paper", d=64, d_grid=(16, 64, 256, 1024, 4096), n_monte_carlo=1_000_000, n_illustration=50_000, seeds=10
    ),
}


def get_preset(name: str | None = None) -> Preset:
    """The preset called ``name``, or the one ``HIGHT_LITE_PRESET`` names (default ``cpu``)."""
    if name is None:
        name = os.environ.get(ENV_VAR, DEFAULT_PRESET).strip() or DEFAULT_PRESET
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {tuple(PRESETS)} (set by {ENV_VAR}), got {name!r}")
    return PRESETS[name]
