"""hight_lite: hierarchical Gaussian targets and the learners of *The Computational Advantage of Depth*.

The public API, re-exported here, by module (data flows from top to bottom):

* :mod:`~hight_lite.hermite`: Hermite polynomials (both conventions), Gauss–Hermite
  expectations, Hermite coefficients, information exponents;
* :mod:`~hight_lite.links` and :mod:`~hight_lite.targets`: link functions, SIGHT, MIGHT and
  deep targets (a frozen config plus a teacher drawn from a ``torch.Generator``);
* :mod:`~hight_lite.theory`: latent variances, the random level, plateaus, κ thresholds,
  the phase diagram and the compositional information exponent;
* the learners: :mod:`~hight_lite.kernels` (kernel ridge), :mod:`~hight_lite.two_layer`,
  :mod:`~hight_lite.three_layer` (layerwise and joint), :mod:`~hight_lite.deep_network`
  (any depth, layerwise) and :mod:`~hight_lite.theorem_one` (Theorem 1's protocol), sharing
  :mod:`~hight_lite.ridge` (readouts) and :mod:`~hight_lite.training` (checkpoint records);
* :mod:`~hight_lite.metrics`: test errors and the overlaps M_W, M_h;
* :mod:`~hight_lite.sweep`: κ × seeds × learners as cached, resumable tasks on any executor;
* :mod:`~hight_lite.costs`: the floating-point work of a task and the machine's matmul rate;
* :mod:`~hight_lite.presets`: the sizes of experiments (``HIGHT_LITE_PRESET``);
* :mod:`~hight_lite.plots`: figures. The ipywidgets explorers live in
  :mod:`hight_lite.widgets` (``pip install hight_lite[widgets]``) and the command line in
  :mod:`hight_lite.cli` (``python -m hight_lite``); neither is imported here.
"""

from .hermite import (
    CONVENTIONS,
    gauss_hermite,
    gaussian_expectation,
    gaussian_expectation_nd,
    hermite,
    hermite_all,
    hermite_coefficients,
    hermite_norm2,
    hermite_scale,
    HermitePolynomial,
    information_exponent,
    P3_NUMERICS,
)
from .links import (
    Committee,
    Identity,
    Parity,
    Tanh,
)
from .targets import (
    deep_target,
    HierarchicalTarget,
    integer_power,
    might,
    sight,
    TargetConfig,
    TargetSample,
)
from .theory import (
    best_approximation_error_monte_carlo,
    best_linear_in_h_error_limit,
    best_polynomial_error_limit,
    compositional_information_exponent,
    gaussian_limit_variances,
    hermite_correlations,
    kappa_threshold,
    link_hermite_energies,
    monte_carlo_mean,
    MonteCarloEstimate,
    phase_diagram,
    random_level,
    random_level_monte_carlo,
    sample_complexity_thresholds,
)
from .kernels import (
    fit_kernel_ridge,
    KernelConfig,
    KernelRidgeModel,
)
from .two_layer import (
    train_two_layer,
    train_two_layer_batch,
    TwoLayerConfig,
    TwoLayerNetwork,
    TwoLayerResult,
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
from .deep_network import (
    deep_layer_gradient,
    DeepLayerwiseConfig,
    DeepLayerwiseResult,
    DeepNetwork,
    level_overlap,
    random_level_overlap,
    train_deep_layerwise,
)
from .theorem_one import (
    phase_one,
    phase_one_target_signal,
    phase_three,
    phase_two,
    PhaseOneResult,
    PhaseThreeResult,
    PhaseTwoResult,
    preconditioned_step,
    predict_phase_one,
    second_layer_gradient,
    spherical_step,
    TheoremActivation,
    TheoremConfig,
    TheoremNetwork,
    TheoremOneResult,
    TheoremSizes,
    train_theorem_one,
)
from .ridge import (
    ridge_solve,
)
from .training import (
    checkpoint_steps,
    TrainingRecord,
)
from .metrics import (
    first_layer_overlap,
    mse,
    mse_per_seed,
    random_first_layer_overlap,
    random_second_layer_overlap,
    second_layer_overlap,
)
from .sweep import (
    default_cache_dir,
    group_tasks,
    make_tasks,
    process_pool,
    ResultCache,
    run_sweep,
    run_task,
    run_task_group,
    seeded_generator,
    standard_learners,
    SweepResult,
    Task,
    task_key,
    TaskResult,
)
from .costs import (
    FlopCount,
    matmul_gflops,
    Product,
    task_flops,
    tasks_table,
)
from .presets import (
    get_preset,
    Preset,
    PRESETS,
)
from .plots import (
    draw_target,
    plot_gaussian_fit,
    plot_hermite_coefficients,
    plot_phase_diagram,
    plot_sweep_metric,
)

__version__ = "0.1.0"

__all__ = [
    "CONVENTIONS",
    "gauss_hermite",
    "gaussian_expectation",
    "gaussian_expectation_nd",
    "hermite",
    "hermite_all",
    "hermite_coefficients",
    "hermite_norm2",
    "hermite_scale",
    "HermitePolynomial",
    "information_exponent",
    "P3_NUMERICS",
    "Committee",
    "Identity",
    "Parity",
    "Tanh",
    "deep_target",
    "HierarchicalTarget",
    "integer_power",
    "might",
    "sight",
    "TargetConfig",
    "TargetSample",
    "best_approximation_error_monte_carlo",
    "best_linear_in_h_error_limit",
    "best_polynomial_error_limit",
    "compositional_information_exponent",
    "gaussian_limit_variances",
    "hermite_correlations",
    "kappa_threshold",
    "link_hermite_energies",
    "monte_carlo_mean",
    "MonteCarloEstimate",
    "phase_diagram",
    "random_level",
    "random_level_monte_carlo",
    "sample_complexity_thresholds",
    "fit_kernel_ridge",
    "KernelConfig",
    "KernelRidgeModel",
    "train_two_layer",
    "train_two_layer_batch",
    "TwoLayerConfig",
    "TwoLayerNetwork",
    "TwoLayerResult",
    "JointConfig",
    "LayerwiseConfig",
    "ThreeLayerNetwork",
    "ThreeLayerResult",
    "train_joint",
    "train_joint_batch",
    "train_layerwise",
    "train_layerwise_batch",
    "deep_layer_gradient",
    "DeepLayerwiseConfig",
    "DeepLayerwiseResult",
    "DeepNetwork",
    "level_overlap",
    "random_level_overlap",
    "train_deep_layerwise",
    "phase_one",
    "phase_one_target_signal",
    "phase_three",
    "phase_two",
    "PhaseOneResult",
    "PhaseThreeResult",
    "PhaseTwoResult",
    "preconditioned_step",
    "predict_phase_one",
    "second_layer_gradient",
    "spherical_step",
    "TheoremActivation",
    "TheoremConfig",
    "TheoremNetwork",
    "TheoremOneResult",
    "TheoremSizes",
    "train_theorem_one",
    "ridge_solve",
    "checkpoint_steps",
    "TrainingRecord",
    "first_layer_overlap",
    "mse",
    "mse_per_seed",
    "random_first_layer_overlap",
    "random_second_layer_overlap",
    "second_layer_overlap",
    "default_cache_dir",
    "group_tasks",
    "make_tasks",
    "process_pool",
    "ResultCache",
    "run_sweep",
    "run_task",
    "run_task_group",
    "seeded_generator",
    "standard_learners",
    "SweepResult",
    "Task",
    "task_key",
    "TaskResult",
    "FlopCount",
    "matmul_gflops",
    "Product",
    "task_flops",
    "tasks_table",
    "get_preset",
    "Preset",
    "PRESETS",
    "draw_target",
    "plot_gaussian_fit",
    "plot_hermite_coefficients",
    "plot_phase_diagram",
    "plot_sweep_metric",
]
