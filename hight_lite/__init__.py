"""hight_lite: hierarchical Gaussian targets and the learners of *The Computational Advantage of Depth*.

The public API, by module:

* :mod:`~hight_lite.hermite`: Hermite polynomials (two conventions), Gaussian quadrature,
  Hermite coefficients, information exponents;
* :mod:`~hight_lite.links` and :mod:`~hight_lite.targets`: SIGHT, MIGHT and deep targets;
* :mod:`~hight_lite.theory`: latent variances, the random level, κ thresholds;
* :mod:`~hight_lite.presets`: the sizes of experiments (``HIGHT_LITE_PRESET``);
* :mod:`~hight_lite.plots`: figures.
"""

from .hermite import (
    CONVENTIONS,
    P3_NUMERICS,
    HermitePolynomial,
    gauss_hermite,
    gaussian_expectation,
    gaussian_expectation_nd,
    hermite,
    hermite_all,
    hermite_coefficients,
    hermite_norm2,
    hermite_scale,
    information_exponent,
)
from .links import Committee, Identity, Parity, Tanh
from .plots import draw_target, plot_gaussian_fit, plot_hermite_coefficients
from .presets import PRESETS, Preset, get_preset
from .targets import (
    HierarchicalTarget,
    TargetConfig,
    TargetSample,
    deep_target,
    integer_power,
    might,
    sight,
)
from .theory import (
    MonteCarloEstimate,
    gaussian_limit_variances,
    monte_carlo_mean,
    random_level,
    random_level_monte_carlo,
    sample_complexity_thresholds,
)

__version__ = "0.1.0"

__all__ = [
    "CONVENTIONS",
    "P3_NUMERICS",
    "PRESETS",
    "Committee",
    "HermitePolynomial",
    "HierarchicalTarget",
    "Identity",
    "MonteCarloEstimate",
    "Parity",
    "Preset",
    "Tanh",
    "TargetConfig",
    "TargetSample",
    "deep_target",
    "draw_target",
    "gauss_hermite",
    "gaussian_expectation",
    "gaussian_expectation_nd",
    "gaussian_limit_variances",
    "get_preset",
    "hermite",
    "hermite_all",
    "hermite_coefficients",
    "hermite_norm2",
    "hermite_scale",
    "information_exponent",
    "integer_power",
    "might",
    "monte_carlo_mean",
    "plot_gaussian_fit",
    "plot_hermite_coefficients",
    "random_level",
    "random_level_monte_carlo",
    "sample_complexity_thresholds",
    "sight",
]
