"""Sweeps: the tidy table, the on-disk cache (resume, corruption) and the executors."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from dataclasses import replace as dataclasses_replace
import pytest

import hight_lite as hl
from hight_lite import sweep as sweep_module

D = 16
LEARNERS = {
    "kernel": hl.KernelConfig(),
    "two-layer": hl.TwoLayerConfig(width=8, epochs=3, checkpoints=3),
    "layerwise": hl.LayerwiseConfig(width1=24, width2=6, epochs1=2, epochs2=3, checkpoints=3),
    "joint": hl.JointConfig(width1=24, width2=6, epochs=3, checkpoints=3),
}


def tasks():
    return hl.make_tasks(hl.sight(D), LEARNERS, kappas=[1.0, 1.6], seeds=2, n_validation=50, n_test=200)


def comparable(result: hl.SweepResult) -> pd.DataFrame:
    table = result.table.drop(columns="seconds")
    return table.sort_values(["learner", "kappa", "seed", "metric"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def serial():
    return hl.run_sweep(tasks(), progress=False)


def test_table_is_tidy_and_complete(serial):
    table = serial.table
    assert set(table.columns) == {"d", "learner", "kappa", "n", "seed", "diverged", "seconds", "metric", "value"}
    assert len(serial.results) == 2 * 2 * 4
    metrics = table.groupby("learner").metric.unique().map(set).to_dict()
    assert metrics["kernel"] == {"test_error"}
    assert metrics["two-layer"] == {"test_error", "overlap_W_0"}
    assert metrics["layerwise"] == metrics["joint"] == {"test_error", "overlap_W_0", "overlap_h_0"}
    assert set(table.n) == {hl.integer_power(D, 1.0), hl.integer_power(D, 1.6)}
    summary = serial.summary()
    assert len(summary) == 2 * 4 and (summary.seeds == 2).all()
    median = table[(table.metric == "test_error") & (table.learner == "kernel") & (table.kappa == 1.6)].value.median()
    assert summary.set_index(["learner", "kappa"]).loc[("kernel", 1.6), "median"] == pytest.approx(median)
    histories = serial.histories()
    assert {"learner", "kappa", "seed", "stage", "train_loss", "validation_loss"} <= set(histories.columns)


def test_learners_of_one_seed_share_the_teacher():
    a, b = tasks()[0], tasks()[1]
    assert a.seed == b.seed and a.learner != b.learner
    ta = a.target.build(hl.seeded_generator(a.seed, 0))
    tb = b.target.build(hl.seeded_generator(b.seed, 0))
    assert (ta.teacher == tb.teacher).all()


def test_same_table_on_a_process_pool(serial):
    with hl.process_pool(workers=2) as pool:
        parallel = hl.run_sweep(tasks(), executor=pool, progress=False)
    pd.testing.assert_frame_equal(comparable(parallel), comparable(serial), rtol=1e-4, atol=1e-6)


def test_same_table_on_a_dask_cluster(serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            result = hl.run_sweep(tasks(), executor=client.get_executor(), progress=False)
    pd.testing.assert_frame_equal(comparable(result), comparable(serial), rtol=1e-4, atol=1e-6)


def test_cached_sweep_reruns_without_computing(tmp_path, serial, monkeypatch):
    first = hl.run_sweep(tasks(), cache_dir=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*.json"))) == len(tasks())

    def fail(tasks):
        raise AssertionError("a cached task was computed again")

    monkeypatch.setattr(sweep_module, "run_task_group", fail)
    again = hl.run_sweep(tasks(), cache_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(comparable(again), comparable(first))
    pd.testing.assert_frame_equal(comparable(again), comparable(serial), rtol=1e-5, atol=1e-7)


def test_corrupt_cache_file_is_reported_and_recomputed(tmp_path, serial):
    hl.run_sweep(tasks(), cache_dir=tmp_path, progress=False)
    victim = hl.ResultCache(tmp_path).path(tasks()[3])
    victim.write_text("{ not json")
    with pytest.warns(RuntimeWarning, match="corrupt cache file"):
        again = hl.run_sweep(tasks(), cache_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(comparable(again), comparable(serial), rtol=1e-5, atol=1e-7)
    json.loads(victim.read_text())  # rewritten whole


def test_cache_key_changes_with_the_configuration():
    a, b = tasks()[0], tasks()[2]
    assert hl.task_key(a) != hl.task_key(b)
    assert hl.task_key(a) == hl.task_key(tasks()[0])


# The sweep to kill: each task waits a little first, so that the kill lands part-way however
# fast the tiny tasks themselves are.
SCRIPT = """
import sys, time, hight_lite as hl
from hight_lite import sweep
sys.path.insert(0, {tests!r})
from test_sweep import tasks
run_group = sweep.run_task_group
sweep.run_task_group = lambda group: (time.sleep(0.2), run_group(group))[1]
hl.run_sweep(tasks(), cache_dir={cache!r}, progress=False)
"""


def test_killed_sweep_resumes_without_losing_work(tmp_path, serial, monkeypatch):
    cache = tmp_path / "cache"
    script = SCRIPT.format(tests=str(Path(__file__).parent), cache=str(cache))
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(cache.glob("*.json"))) < 3 and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.name for p in cache.glob("*.json")}
    assert 3 <= len(done_before) < len(tasks()), "the sweep should have been killed part-way"

    computed = []
    original = sweep_module.run_task_group

    def counting(group):
        computed.extend(group)
        return original(group)

    monkeypatch.setattr(sweep_module, "run_task_group", counting)
    resumed = hl.run_sweep(tasks(), cache_dir=cache, progress=False)
    assert len(computed) == len(tasks()) - len(done_before)
    pd.testing.assert_frame_equal(comparable(resumed), comparable(serial), rtol=1e-5, atol=1e-7)


def test_diverged_runs_are_counted_not_averaged():
    diverging = hl.TwoLayerConfig(width=8, epochs=20, lr=1e7, checkpoints=4)
    ts = hl.make_tasks(hl.sight(D), {"two-layer": diverging}, kappas=[1.5], seeds=2, n_validation=50, n_test=50)
    result = hl.run_sweep(ts, progress=False)
    row = result.summary().iloc[0]
    assert row.diverged == 2 and row.seeds == 0 and pd.isna(row["median"])
    assert all(r.diverged_step is not None for r in result.results)


def test_bad_tasks():
    with pytest.raises(ValueError, match="config must be one of"):
        hl.Task(hl.sight(D), "x", object(), 1.0, 0)
    with pytest.raises(ValueError, match="fresh_data applies to layerwise"):
        hl.Task(hl.sight(D), "k", hl.KernelConfig(), 1.0, 0, fresh_data=True)
    with pytest.raises(ValueError, match=r"kappa must lie in \(0, 10\)"):
        hl.Task(hl.sight(D), "k", hl.KernelConfig(), 0.0, 0)


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HIGHT_LITE_CACHE", str(tmp_path))
    assert hl.default_cache_dir() == tmp_path
    monkeypatch.delenv("HIGHT_LITE_CACHE")
    assert hl.default_cache_dir() == Path.home() / ".cache" / "hight_lite"


def test_same_table_through_submitit(serial, tmp_path):
    """submitit's futures are not concurrent.futures.Future: the generic path waits on each job."""
    submitit = pytest.importorskip("submitit")
    executor = submitit.AutoExecutor(folder=tmp_path / "jobs", cluster="debug")
    result = hl.run_sweep(tasks(), executor=executor, progress=False)
    pd.testing.assert_frame_equal(comparable(result), comparable(serial), rtol=1e-4, atol=1e-6)


def test_dask_leaves_the_thread_settings_alone():
    """The environment fixture undid what LocalCluster set (kernels started later must not be single-threaded)."""
    assert os.environ.get("OMP_NUM_THREADS") == ORIGINAL_OMP


ORIGINAL_OMP = os.environ.get("OMP_NUM_THREADS")


@pytest.mark.parametrize("batch_seeds", [True, 2])
def test_batched_seeds_give_the_same_table(batch_seeds, one_thread):
    """Seeds batched or one at a time: bitwise the same numbers (with one thread, see ``one_thread``)."""
    alone = hl.run_sweep(tasks(), progress=False, batch_seeds=False)
    other = hl.run_sweep(tasks(), progress=False, batch_seeds=batch_seeds)
    pd.testing.assert_frame_equal(comparable(other), comparable(alone), check_exact=True)


def test_cpu_tasks_run_alone_by_default_and_gpu_tasks_together(monkeypatch):
    sizes = []
    original = sweep_module.run_task_group

    def spy(group):
        sizes.append((group[0].device, len(group)))
        return original(group)

    monkeypatch.setattr(sweep_module, "run_task_group", spy)
    hl.run_sweep(tasks()[:8], progress=False)
    assert sizes and all(size == 1 for _, size in sizes)
    sizes.clear()
    hl.run_sweep(tasks()[:8], progress=False, batch_seeds=True)
    assert max(size for _, size in sizes) == 2

    # without a GPU, check only how CUDA tasks would be grouped
    gpu = [dataclasses_replace(t, device="cuda") for t in tasks()[:8]]
    groups = sweep_module.group_tasks(gpu)
    assert max(len(g) for g in groups) == 2


def test_groups_differ_only_in_the_seed():
    ts = tasks()
    groups = hl.group_tasks(ts)
    assert sorted(i for g in groups for i in g) == list(range(len(ts)))
    assert len(groups) == len(ts) // 2  # 2 seeds per cell
    for group in groups:
        assert len({ts[i].seed for i in group}) == len(group)
        assert len({(ts[i].learner, ts[i].kappa) for i in group}) == 1
    assert all(len(g) == 1 for g in hl.group_tasks(ts, max_seeds=1))
    with pytest.raises(ValueError, match="differ only in their seed"):
        hl.run_task_group([ts[0], ts[1]])


@pytest.mark.parametrize("value", [0, -1, 1.5, "yes"])
def test_bad_batch_seeds(value):
    with pytest.raises(ValueError, match="batch_seeds"):
        hl.run_sweep(tasks()[:1], progress=False, batch_seeds=value)


def test_tf32_is_for_cuda_only():
    with pytest.raises(ValueError, match="tf32"):
        hl.Task(hl.sight(D), "kernel", hl.KernelConfig(), 1.0, 0, tf32=True)
