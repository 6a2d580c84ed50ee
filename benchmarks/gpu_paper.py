"""The paper's experiment on a GPU, in one command: the ``paper`` preset, timed, with Figs. 4 and 5.

Runs the ``paper`` preset (d = 64, 15 values of κ from 0.2 to 2.2, 10 seeds; kernel,
two-layer, layerwise and joint learners with overlaps) on CUDA with batched seeds, then
prints per learner the wall time, the floating-point work (``hight_lite/costs.py``), the
achieved GFLOP/s next to the ``torch.matmul`` limit measured on the same GPU (float32, the
training steps' shapes at the three largest κ), and the peak GPU memory
(``torch.cuda.max_memory_allocated``). Goal: under 10 minutes on one H200.

The results folder has the layout of ``python -m hight_lite run`` (``results.csv``,
``summary.csv``, ``histories.csv``, ``run.json``, and ``cache/``: an interrupted run resumes;
tasks read back from the cache are not timed), and the figures are drawn by
``python -m hight_lite figures`` into ``OUT/figures``.

    python benchmarks/gpu_paper.py --out results/paper                 # on a machine with a GPU
    python benchmarks/gpu_paper.py --dry-run                            # the plan and its flops, no training
    python benchmarks/gpu_paper.py --preset quick --device cpu --out /tmp/q   # smoke run on a CPU

Without CUDA, ``--device cuda`` (the default) stops at once with a message.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import torch

import hight_lite as hl
from hight_lite import cli

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from hight_lite.costs import task_flops  # noqa: E402

LEARNERS = common.LEARNERS
EPSILON = 0.5  # the main example's ε₁ (the CLI's default)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=common.DEFAULT_OUT / "gpu_paper", help="results folder")
    parser.add_argument("--preset", default="paper", choices=tuple(hl.PRESETS), help="sizes (default: paper)")
    parser.add_argument("--device", default="cuda", help="torch device (default: cuda)")
    parser.add_argument("--learners", default=",".join(LEARNERS), help="comma-separated subset")
    parser.add_argument("--seeds", type=int, default=None, help="override the preset's number of seeds")
    parser.add_argument("--no-batch", action="store_true", help="train seeds one at a time")
    parser.add_argument("--seeds-per-batch", type=int, default=0, help="cap the seeds trained together (0: all)")
    parser.add_argument("--no-cache", action="store_true", help="recompute every task (no OUT/cache)")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument("--tf32", action="store_true",
                        help="allow TF32 matmuls on the GPU (Task(tf32=True): faster, about 3 digits)")
    parser.add_argument("--matmul-seconds", type=float, default=0.05, help="length of one matmul timing (best of 5)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and its flops; train nothing")
    return parser


def cuda_missing(device: str) -> str | None:
    """Why ``device`` cannot be used, or None."""
    if torch.device(device).type != "cuda":
        return None
    if not torch.cuda.is_available():
        build = "a CPU-only build of torch" if torch.version.cuda is None else f"torch built for CUDA {torch.version.cuda}"
        return (f"CUDA is not available here ({build}, {torch.cuda.device_count()} GPU visible). Run this on a "
                "machine with an NVIDIA GPU, or smoke-test it on a CPU with --preset quick --device cpu, "
                "or see the plan with --dry-run.")
    return None


def write_results(out: Path, results: list, settings: dict, configs: dict) -> None:
    """The tables of ``python -m hight_lite run``, so that ``figures`` can read them."""
    result = hl.SweepResult(results)
    result.table.to_csv(out / "results.csv", index=False)
    result.histories().to_csv(out / "histories.csv", index=False)
    summaries = [result.summary(m).assign(metric=m) for m in sorted(set(result.table.metric))]
    pd.concat(summaries).to_csv(out / "summary.csv", index=False)
    learners = {k: dict(type=type(c).__name__, **asdict(c)) for k, c in configs.items()}
    (out / "run.json").write_text(json.dumps(dict(settings=settings, learners=learners), indent=2))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    problem = cuda_missing(args.device)
    if problem and not args.dry_run:
        print(f"gpu_paper.py: error: {problem}", file=sys.stderr)
        return 2
    try:
        learners = common.parse_learners(args.learners)
    except ValueError as error:
        print(f"gpu_paper.py: error: {error}", file=sys.stderr)
        return 2
    preset = hl.get_preset(args.preset)
    seeds = args.seeds or preset.training_seeds
    target = hl.sight(preset.d_train, epsilon=EPSILON)
    configs = {k: v for k, v in hl.standard_learners(preset.d_train, preset.kappas, preset.epochs_coefficient).items()
               if k in learners}
    if args.tf32 and torch.device(args.device).type != "cuda":
        print("gpu_paper.py: error: --tf32 applies to CUDA devices only", file=sys.stderr)
        return 2
    tasks = {k: hl.make_tasks(target, {k: c}, preset.kappas, seeds, n_test=preset.n_test, device=args.device,
                              tf32=args.tf32)
             for k, c in configs.items()}
    counts = {k: [task_flops(t) for t in ts] for k, ts in tasks.items()}
    batched = (args.seeds_per_batch or True) if not args.no_batch else False
    print(common.environment_line(args.device) if not problem else f"torch {torch.__version__}; {problem}")
    if torch.device(args.device).type == "cuda" and not problem:
        print(f"TF32 matmuls {'allowed (--tf32)' if args.tf32 else 'off: float32 throughout'}")
    total_tasks = sum(len(ts) for ts in tasks.values())
    print(f"preset {preset.name}: d = {preset.d_train}, {len(preset.kappas)} κ from {min(preset.kappas)} to "
          f"{max(preset.kappas)}, {seeds} seeds, {total_tasks} tasks, seeds {'batched' if batched else 'one at a time'}")
    plan = pd.DataFrame([dict(learner=k, tasks=len(ts), gflop=sum(c.total for c in counts[k]) / 1e9)
                         for k, ts in tasks.items()])
    print(plan.round(1).to_string(index=False))
    print(f"total: {plan.gflop.sum():.0f} GFLOP (model)")

    # the matmul limit: the training steps' shapes at the three largest κ (most of the work)
    top = sorted(preset.kappas)[-3:]
    shapes = common.step_shapes([c for k in counts for c, t in zip(counts[k], tasks[k]) if t.kappa in top and t.seed == 0])
    limit = None
    if not problem:
        tf32_before = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = args.tf32          # the limit in the precision of the run
        try:
            limit = common.matmul_limit(shapes, args.device, seconds=args.matmul_seconds)
        finally:
            torch.backends.cuda.matmul.allow_tf32 = tf32_before
    if limit is not None:
        print(f"matmul limit on {args.device}: peak {limit['peak']:.0f} GFLOP/s, matched to the steps' shapes "
              f"{limit['matched']:.0f} GFLOP/s; at the peak the whole preset needs at least "
              f"{plan.gflop.sum() / limit['peak']:.1f} s")
    if args.dry_run:
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    cache_dir = None if args.no_cache else args.out / "cache"            # keyed by the task, TF32 included
    cache = hl.ResultCache(cache_dir) if cache_dir else None
    cuda = torch.device(args.device).type == "cuda"
    rows, results = [], []
    start_all = time.perf_counter()
    for learner, ts in tasks.items():
        fresh = [t for t in ts if cache is None or not cache.path(t).exists()]
        gflop = sum(task_flops(t).total for t in fresh) / 1e9
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        sweep = common.run_sweep(ts, batched, cache_dir=cache_dir, progress=not args.no_progress)
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        results += sweep.results
        row = dict(learner=learner, tasks=len(ts), computed=len(fresh), seconds=seconds, gflop=gflop,
                   gflops=gflop / seconds if fresh else float("nan"),
                   gpu_peak_mb=torch.cuda.max_memory_allocated() / 2**20 if cuda else float("nan"),
                   diverged=int(sweep.table.query("metric == 'test_error'").diverged.sum()))
        if limit is not None:
            row.update(peak_limit=limit["peak"], matched_limit=limit["matched"],
                       pct_of_peak=100 * row["gflops"] / limit["peak"])
        rows.append(row)
        print(f"  {learner:9s} {len(fresh):4d}/{len(ts)} tasks computed in {seconds:7.1f} s, "
              f"{row['gflops']:8.1f} GFLOP/s, GPU peak {row['gpu_peak_mb']:.0f} MB")
    wall = time.perf_counter() - start_all
    timing = pd.DataFrame(rows)
    timing.to_csv(args.out / "gpu_paper.csv", index=False)
    if limit is not None:
        pd.DataFrame(limit["shapes"]).to_csv(args.out / "gpu_paper_matmul.csv", index=False)
    settings = dict(d=preset.d_train, kappas=list(preset.kappas), seeds=seeds, epochs_coefficient=preset.epochs_coefficient,
                    epsilon=EPSILON, n_test=preset.n_test, preset=preset.name, device=args.device, batched_seeds=batched,
                    tf32=args.tf32)
    write_results(args.out, results, settings, configs)
    print()
    print(timing.round(2).to_string(index=False))
    computed = timing.gflop.sum()
    line = (f"\n{total_tasks} tasks in {wall:.0f} s ({wall / 60:.1f} min; goal for the paper preset on one H200: "
            f"under 10 min); {computed:.0f} GFLOP computed at {computed / wall:.0f} GFLOP/s")
    if limit is not None:
        line += f" = {100 * computed / wall / limit['peak']:.0f} % of the matmul peak ({limit['peak']:.0f} GFLOP/s)"
    print(line)
    if not args.no_figures:
        if cli.main(["figures", str(args.out)]) != 0:
            return 1
    print(f"results in {args.out}/ (gpu_paper.csv, results.csv, summary.csv, figures/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
