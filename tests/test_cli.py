"""The command line: help, a tiny run, resume, figures, and one-line errors."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from hight_lite import cli
from hight_lite import sweep as sweep_module


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "hight_lite", *args], capture_output=True, text=True, timeout=300)


def test_help_explains_the_commands():
    out = run_cli("--help")
    assert out.returncode == 0
    for word in ("run", "figures", "presets", "Example"):
        assert word in out.stdout
    sub = run_cli("run", "--help")
    assert sub.returncode == 0 and "--executor" in sub.stdout and "resum" in sub.stdout


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    config = folder / "tiny.json"
    config.write_text(json.dumps({"d": 16, "kappas": [1.0, 1.8], "seeds": 2, "epochs_coefficient": 0.5, "n_test": 100}))
    out = folder / "results"
    assert cli.main(["run", "--config", str(config), "--out", str(out), "--no-progress"]) == 0
    return config, out


def test_tiny_run_writes_tidy_tables(tiny):
    _, out = tiny
    table = pd.read_csv(out / "results.csv")
    assert set(table.learner) == set(cli.LEARNERS)
    assert set(table.kappa) == {1.0, 1.8}
    summary = pd.read_csv(out / "summary.csv")
    assert {"test_error", "overlap_W_0", "overlap_h_0"} <= set(summary.metric)
    assert json.loads((out / "run.json").read_text())["settings"]["d"] == 16
    assert len(list((out / "cache").glob("*.json"))) == len(table.groupby(["learner", "kappa", "seed"]))


def test_rerun_resumes_from_the_cache(tiny, monkeypatch):
    config, out = tiny
    before = pd.read_csv(out / "results.csv").drop(columns="seconds")

    def fail(tasks):
        raise AssertionError("a finished task was run again")

    monkeypatch.setattr(sweep_module, "run_task_group", fail)
    assert cli.main(["run", "--config", str(config), "--out", str(out), "--no-progress"]) == 0
    after = pd.read_csv(out / "results.csv").drop(columns="seconds")
    pd.testing.assert_frame_equal(before, after)


def test_figures_are_drawn(tiny, tmp_path):
    _, out = tiny
    assert cli.main(["figures", str(out), "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == ["fig4_bottom.png", "fig4_top.png", "fig5_overlaps.png"]
    assert all((tmp_path / n).stat().st_size > 10_000 for n in names)


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--preset", "huge", "--out", "x"], "invalid choice: 'huge'"),
        (["run", "--preset", "quick", "--out", "x", "--learners", "svm"], "--learners: unknown ['svm']"),
        (["run", "--preset", "quick", "--out", "x", "--workers", "0"], "--workers must be >= 1"),
        (["figures", "/nonexistent/folder"], "is not a results folder"),
        (["run", "--preset", "quick", "--out", "x", "--seeds-per-batch", "-2"], "--seeds-per-batch must be >= 0"),
        (["run", "--preset", "quick", "--out", "x", "--tf32"], "tf32 applies to CUDA devices only"),
        (["run", "--out", "x", "--config", "/nonexistent.json"], "cannot read a JSON object"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_give_one_line(args, message):
    out = run_cli(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in out.stderr


def test_batched_run_gives_the_same_tables(tiny, tmp_path):
    """The default runs CPU tasks one at a time; ``--seeds-per-batch 0`` batches all seeds of a cell."""
    config, out = tiny
    other = tmp_path / "batched"
    assert cli.main(["run", "--config", str(config), "--out", str(other), "--no-progress", "--seeds-per-batch", "0"]) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "results.csv").drop(columns="seconds"),
        pd.read_csv(other / "results.csv").drop(columns="seconds"),
        rtol=1e-5, atol=1e-6,
    )
