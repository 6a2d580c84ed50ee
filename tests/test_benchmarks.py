"""Benchmarks: the flop model against torch's flop counter, and each script at a tiny size (no timing asserts)."""

import importlib.util
import math
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

import hight_lite as hl

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import common  # noqa: E402


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_step_shapes_and_matmul_rate():
    task = hl.Task(hl.sight(16), "joint", hl.standard_learners(16, [1.5], 0.1)["joint"], 1.5, 0)
    count = hl.task_flops(task)
    shapes = common.step_shapes([count])
    steps, products = count.step_products["joint"]
    assert math.isclose(sum(shapes.values()), sum(p.flops for p in products if not p.is_vector) * steps)
    rate = hl.matmul_gflops(64, 32, 16, seconds=0.001, repeats=2)
    assert math.isfinite(rate) and rate > 0


def test_bench_sweep_writes_its_table(tmp_path):
    module = load("bench_sweep")
    argv = ["--d", "16", "--kappas", "1", "2", "--seeds", "2", "--epochs-coefficient", "0.05", "--learners",
            "kernel,layerwise", "--compare", "--in-process", "--matmul-seconds", "0.002", "--out", str(tmp_path)]
    assert module.main(argv) == 0
    table = pd.read_csv(tmp_path / "bench_sweep.csv")
    assert set(table.path) == {"batched", "unbatched"}
    assert set(table.learner) == {"kernel", "layerwise", "ALL"}
    assert (table.status == "ok").all() and (table.gflop > 0).all() and (table.seconds > 0).all()
    assert (tmp_path / "bench_sweep_matmul.csv").is_file()


def test_bench_scaling_writes_table_plot_and_predictions(tmp_path):
    module = load("bench_scaling")
    argv = ["--ds", "16", "24", "--kappas", "1.0", "1.5", "--learners", "two-layer,layerwise", "--epochs-coefficient",
            "0.05", "--budget", "1e-3", "--in-process", "--matmul-seconds", "0.002", "--out", str(tmp_path)]
    assert module.main(argv) == 0
    table = pd.read_csv(tmp_path / "scaling.csv")
    assert len(table) == 8
    assert set(table.status) == {"ok", "predicted"}      # the first point per learner runs, the rest exceed 1 ms
    assert (tmp_path / "scaling.png").stat().st_size > 0
    presets = pd.read_csv(tmp_path / "scaling_presets.csv")
    hours = presets.groupby("preset").hours.sum()
    assert hours["paper"] > hours["cpu"] > 0


def test_bench_paper_task_measures_each_learner_in_a_fresh_process(tmp_path):
    module = load("bench_paper_task")
    argv = ["--d", "16", "--kappa", "1.2", "--epochs-coefficient", "0.05", "--learners", "two-layer", "--out", str(tmp_path)]
    assert module.main(argv) == 0
    table = pd.read_csv(tmp_path / "paper_task.csv")
    row = table.iloc[0]
    assert row.status == "ok" and row.n == hl.integer_power(16, 1.2) and row.epochs_coefficient == 0.05
    assert row.peak_mb >= row.import_mb * 0.9 > 0            # the worker imported torch too


@pytest.mark.parametrize("name", ["bench_sweep", "bench_scaling", "bench_paper_task"])
@pytest.mark.parametrize("learners", ["svm", "kernel,svm", ","])
def test_bad_learners_stop_with_one_line_naming_the_option(name, learners, tmp_path):
    with pytest.raises(SystemExit) as stop:
        load(name).main(["--learners", learners, "--out", str(tmp_path)])
    message = str(stop.value.code)
    assert "--learners" in message and "kernel,two-layer,layerwise,joint" in message and "\n" not in message
    assert not list(tmp_path.iterdir())          # nothing was measured or written


def test_gpu_script_rejects_bad_learners(capsys):
    assert load("gpu_paper").main(["--dry-run", "--device", "cpu", "--learners", "svm"]) == 2
    assert "--learners must be a subset of" in capsys.readouterr().err


def test_gpu_script_fails_fast_without_cuda(capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    module = load("gpu_paper")
    assert module.main(["--out", "unused"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_gpu_script_dry_run_and_cpu_smoke_run(tmp_path):
    module = load("gpu_paper")
    assert module.main(["--dry-run", "--device", "cpu", "--preset", "quick", "--matmul-seconds", "0.002"]) == 0
    out = tmp_path / "quick"
    assert module.main(["--preset", "quick", "--device", "cpu", "--seeds", "1", "--no-progress",
                        "--matmul-seconds", "0.002", "--out", str(out)]) == 0
    timing = pd.read_csv(out / "gpu_paper.csv")
    assert set(timing.learner) == {"kernel", "two-layer", "layerwise", "joint"} and (timing.computed == timing.tasks).all()
    for name in ("fig4_top.png", "fig4_bottom.png", "fig5_overlaps.png"):
        assert (out / "figures" / name).stat().st_size > 0
