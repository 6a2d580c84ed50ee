"""hight_lite: hierarchical Gaussian targets and the learners of *The Computational Advantage of Depth*.

The public API, by module:

* :mod:`~hight_lite.hermite`: Hermite polynomials (two conventions), Gaussian quadrature,
  Hermite coefficients, information exponents;
* :mod:`~hight_lite.links` and :mod:`~hight_lite.targets`: SIGHT, MIGHT and deep targets;
* :mod:`~hight_lite.theory`: latent variances, the random level, plateaus, κ thresholds;
* :mod:`~hight_lite.kernels`, :mod:`~hight_lite.two_layer`: the shallow learners, with
  :mod:`~hight_lite.ridge` (readouts), :mod:`~hight_lite.training` (records) and
  :mod:`~hight_lite.metrics` (errors and overlaps);
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
from .kernels import KernelConfig, KernelRidgeModel, fit_kernel_ridge
from .links import Committee, Identity, Parity, Tanh
from .metrics import first_layer_overlap, mse, mse_per_seed, random_first_layer_overlap, random_second_layer_overlap, second_layer_overlap
from .plots import draw_target, plot_gaussian_fit, plot_hermite_coefficients, plot_phase_diagram, plot_sweep_metric
from .presets import PRESETS, Preset, get_preset
from .ridge import ridge_solve
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
    best_approximation_error_monte_carlo,
    best_linear_in_h_error_limit,
    best_polynomial_error_limit,
    compositional_information_exponent,
    hermite_correlations,
    gaussian_limit_variances,
    kappa_threshold,
    link_hermite_energies,
    monte_carlo_mean,
    phase_diagram,
    random_level,
    random_level_monte_carlo,
    sample_complexity_thresholds,
)
from .sweep import (
    ResultCache,
    SweepResult,
    Task,
    TaskResult,
    default_cache_dir,
    group_tasks,
    make_tasks,
    process_pool,
    run_sweep,
    run_task,
    run_task_group,
    seeded_generator,
    standard_learners,
    task_key,
)
from .three_layer import (
    JointConfig,
    LayerwiseConfig,
    ThreeLayerNetwork,
    ThreeLayerResult,
    train_joint,
    train_joint_batch,
    train_layerwise,
    train_layerwise_batch,
)
from .training import TrainingRecord, checkpoint_steps
from .two_layer import TwoLayerConfig, TwoLayerNetwork, TwoLayerResult, train_two_layer, train_two_layer_batch
from . import costs, deep_network, theorem_one
from .costs import *  # noqa: F401,F403  (names listed in costs.__all__)
from .deep_network import *  # noqa: F401,F403  (names listed in deep_network.__all__)
from .theorem_one import *  # noqa: F401,F403  (names listed in theorem_one.__all__)

__version__ = "0.1.0"

__all__ = [
    "plot_sweep_metric",
    "compositional_information_exponent",
    "hermite_correlations",
    "link_hermite_energies",
    "phase_diagram",
    "plot_phase_diagram",
    "default_cache_dir",
    "ResultCache",
    "process_pool",
    "standard_learners",
    "task_key",
    "JointConfig",
    "LayerwiseConfig",
    "ThreeLayerNetwork",
    "ThreeLayerResult",
    "second_layer_overlap",
    "train_joint",
    "train_layerwise",
    "SweepResult",
    "Task",
    "TaskResult",
    "make_tasks",
    "run_sweep",
    "run_task",
    "seeded_generator",
    "CONVENTIONS",
    "Committee",
    "HermitePolynomial",
    "HierarchicalTarget",
    "Identity",
    "KernelConfig",
    "KernelRidgeModel",
    "MonteCarloEstimate",
    "P3_NUMERICS",
    "PRESETS",
    "Parity",
    "Preset",
    "Tanh",
    "TargetConfig",
    "TargetSample",
    "TrainingRecord",
    "TwoLayerConfig",
    "TwoLayerNetwork",
    "TwoLayerResult",
    "best_approximation_error_monte_carlo",
    "best_linear_in_h_error_limit",
    "best_polynomial_error_limit",
    "checkpoint_steps",
    "deep_target",
    "draw_target",
    "first_layer_overlap",
    "fit_kernel_ridge",
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
    "mse",
    "plot_gaussian_fit",
    "plot_hermite_coefficients",
    "random_first_layer_overlap",
    "random_level",
    "random_level_monte_carlo",
    "ridge_solve",
    "sample_complexity_thresholds",
    "sight",
    "train_two_layer",
    "train_two_layer_batch",
    "train_layerwise_batch",
    "train_joint_batch",
    "run_task_group",
    "group_tasks",
    "mse_per_seed",
    "kappa_threshold",
    "random_second_layer_overlap",
]
__all__ += costs.__all__ + deep_network.__all__ + theorem_one.__all__
