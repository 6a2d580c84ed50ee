"""The cost model against torch's own flop counter, and the matmul rate."""

import math

import pytest
from torch.utils.flop_counter import FlopCounterMode

import hight_lite as hl

CASES = [(name, kappa) for kappa in (1.2, 2.6) for name in ("kernel", "two-layer", "layerwise", "joint")]


@pytest.mark.parametrize("name,kappa", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_flop_model_counts_what_torch_counts(name, kappa):
    """torch counts matrix-matrix products (not always matrix-vector ones): the model must bracket it."""
    config = hl.standard_learners(16, [kappa], epochs_coefficient=0.1)[name]
    task = hl.Task(hl.sight(16), name, config, kappa, 0, n_validation=50, n_test=60)
    with FlopCounterMode(display=False) as counter:
        hl.run_task(task)
    counted = counter.get_total_flops()
    model = hl.task_flops(task)
    assert model.matmul - model.vector <= counted * (1 + 1e-9) and counted <= model.matmul * (1 + 1e-9), (
        counted, model.matmul - model.vector, model.matmul)
    if name != "kernel":
        assert model.steps > 0 and model.checkpoints > 0


def test_flop_model_with_fresh_data_and_the_dual_kernel():
    config = hl.standard_learners(16, [1.5], epochs_coefficient=0.1)
    tasks = [hl.Task(hl.sight(16), "layerwise", config["layerwise"], 1.5, 0, n_validation=50, n_test=60, fresh_data=True),
             hl.Task(hl.sight(16), "kernel", hl.KernelConfig(solver="dual"), 2.0, 0, n_validation=50, n_test=60)]
    for task in tasks:
        with FlopCounterMode(display=False) as counter:
            hl.run_task(task)
        model = hl.task_flops(task)
        assert model.matmul - model.vector <= counter.get_total_flops() * (1 + 1e-9) <= model.matmul * (1 + 2e-9)



def test_tasks_table_sums_the_parts():
    tasks = hl.make_tasks(hl.sight(16), hl.standard_learners(16, [1.5], 0.1), [1.0, 1.5], 1)
    table = hl.tasks_table(tasks)
    assert len(table) == len(tasks)
    assert (table.total - (table.steps + table.checkpoints + table.other + table.solve)).abs().max() < 1e-6 * table.total.max()
    # more data, more work, at fixed widths
    for _, group in table.groupby("learner"):
        assert group.sort_values("kappa").total.is_monotonic_increasing


def test_matmul_rate_and_its_arguments():
    assert math.isfinite(hl.matmul_gflops(64, 32, 16, seconds=0.001, repeats=2))
    with pytest.raises(ValueError, match="K must be an integer >= 1"):
        hl.matmul_gflops(8, 0, 8)
