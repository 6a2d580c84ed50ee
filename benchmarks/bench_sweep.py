"""Benchmark: the authors' example sweep, side by side with this machine's matmul throughput.

Runs κ × seeds on the main SIGHT example for each learner (kernel, two-layer, layerwise,
joint; overlaps recorded as in the book), each learner in a fresh process so that its peak
memory is its own, and prints per learner: wall time, peak memory, the floating-point work
(from the shapes, ``hight_lite/costs.py``), the achieved GFLOP/s, and two limits measured in
the same process with the same threads just before the sweep: ``peak``, the best
``torch.matmul`` rate over the training steps' shapes and a 1024³ product, and ``matched``,
the rate the training steps would reach if each of their products ran as fast as
``torch.matmul`` runs it alone. The goal: the whole sweep at ≥ 60 % of ``peak``.

    python benchmarks/bench_sweep.py                       # d = 32, κ 0.5..2.2 (7), 3 seeds, batched seeds
    python benchmarks/bench_sweep.py --compare             # batched and unbatched seeds, ratios in one run
    python benchmarks/bench_sweep.py --no-batch            # unbatched only
    python benchmarks/bench_sweep.py --d 16 --kappas 1 2 --seeds 2 --epochs-coefficient 0.2   # seconds

Writes ``OUT/bench_sweep.csv`` (one row per path and learner, plus totals) and
``OUT/bench_sweep_matmul.csv`` (the measured shapes).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import hight_lite as hl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from hight_lite.costs import task_flops  # noqa: E402

DEFAULT_KAPPAS = tuple(round(float(k), 4) for k in np.linspace(0.5, 2.2, 7))


def make_tasks(spec: dict, learner: str | None = None) -> list[hl.Task]:
    """The sweep's tasks (all learners are sized for the sweep's largest κ, as in the book)."""
    target = hl.sight(spec["d"])
    learners = hl.standard_learners(spec["d"], spec["kappas"], spec["epochs_coefficient"])
    chosen = {k: v for k, v in learners.items() if k in (spec["learners"] if learner is None else [learner])}
    return hl.make_tasks(target, chosen, spec["kappas"], spec["seeds"], device=spec["device"])


def worker(spec: dict) -> dict:
    """One learner's sweep on one path (batched or not): timings, memory, limits, results."""
    if spec.get("kind") == "baseline":
        return common.baseline_result()
    tasks = make_tasks(spec, spec["learner"])
    limit = common.matmul_limit(common.step_shapes([task_flops(t) for t in tasks]), spec["device"],
                                seconds=spec["matmul_seconds"])
    start = time.perf_counter()
    result = common.run_sweep(tasks, spec["batched"], progress=False)
    seconds = time.perf_counter() - start
    table = result.table
    errors = table[table.metric == "test_error"]
    return dict(
        seconds=seconds, peak_mb=common.peak_rss_bytes() / 2**20, limit=limit,
        diverged=int(errors.diverged.sum()),
        test_errors=errors[["kappa", "seed", "value"]].values.tolist(),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=32, help="input dimension (default 32)")
    parser.add_argument("--kappas", type=float, nargs="+", default=list(DEFAULT_KAPPAS), help="default: 0.5..2.2, 7 points")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs-coefficient", type=float, default=5.0, help="T = int(c d^1.5) (paper: 5)")
    batch = parser.add_mutually_exclusive_group()
    batch.add_argument("--no-batch", action="store_true", help="train seeds one at a time (batch_seeds=False)")
    batch.add_argument("--compare", action="store_true", help="run batched and unbatched seeds, print the ratios")
    parser.add_argument("--matmul-seconds", type=float, default=0.05, help="length of one matmul timing (best of 5)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds allowed per worker process")
    common.add_measurement_arguments(parser, "bench_sweep.csv, bench_sweep_matmul.csv")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup = common.start(args, worker)
    if setup is None:
        return 0
    learners, out = setup
    spec = dict(d=args.d, kappas=args.kappas, seeds=args.seeds, epochs_coefficient=args.epochs_coefficient,
                device=args.device, learners=learners, matmul_seconds=args.matmul_seconds)
    paths = ["batched", "unbatched"] if args.compare else ["unbatched"] if args.no_batch else ["batched"]
    print(common.environment_line(args.device))
    tasks = make_tasks(spec)
    flops = {name: sum(task_flops(t).total for t in tasks if t.learner == name) for name in learners}
    print(f"sweep: d = {args.d}, κ = {', '.join(f'{k:g}' for k in args.kappas)}, {args.seeds} seeds, "
          f"{len(tasks)} tasks, {sum(flops.values()) / 1e9:.1f} GFLOP (model), epochs coefficient {args.epochs_coefficient:g}")
    script = Path(__file__).resolve()
    if args.in_process:
        base = common.baseline_result()["peak_mb"]
        print("in-process: peak memories below include every earlier measurement")
    else:
        base = common.baseline_rss(script)
    print(f"peak memory of a process that only imports torch and hight_lite: {base:.0f} MB")

    rows, shapes, results = [], [], {}
    for learner in learners:
        for path in paths:                                      # alternate paths: the same noise for both
            job = dict(spec, learner=learner, batched=path == "batched")
            res = dict(status="ok", **worker(job)) if args.in_process else common.run_worker(script, job, args.timeout)
            results[path, learner] = res
            if res["status"] != "ok":
                print(f"{learner} ({path}): {res['status']}")
                rows.append(dict(path=path, learner=learner, status=res["status"]))
                continue
            limit = res["limit"]
            gflop = flops[learner] / 1e9
            rows.append(dict(
                path=path, learner=learner, status="ok", tasks=sum(t.learner == learner for t in tasks),
                seconds=res["seconds"], gflop=gflop, gflops=gflop / res["seconds"], peak_limit=limit["peak"],
                matched_limit=limit["matched"], peak_mb=res["peak_mb"], diverged=res["diverged"],
            ))
            shapes += [dict(path=path, learner=learner, **s) for s in limit["shapes"]]
            print(f"  {learner:9s} {path:9s} {res['seconds']:8.1f} s  {gflop / res['seconds']:7.1f} GFLOP/s  "
                  f"(peak matmul {limit['peak']:.1f})  {res['peak_mb']:.0f} MB")
    table = pd.DataFrame(rows)
    ok = table[table.status == "ok"].copy()
    totals = []
    machine_peak = ok.peak_limit.max() if len(ok) else math.nan      # the best rate any worker measured
    for path, group in ok.groupby("path", sort=False):
        seconds, gflop = group.seconds.sum(), group.gflop.sum()
        trained = group[group.matched_limit.notna()]
        matched = trained.gflop.sum() / (trained.gflop / trained.matched_limit).sum() if len(trained) else math.nan
        totals.append(dict(path=path, learner="ALL", status="ok", tasks=group.tasks.sum(), seconds=seconds, gflop=gflop,
                           gflops=gflop / seconds, peak_limit=machine_peak, matched_limit=matched,
                           peak_mb=group.peak_mb.max(), diverged=group.diverged.sum()))
    table = pd.concat([table, pd.DataFrame(totals)], ignore_index=True)
    if "gflops" in table:
        table["% of peak"] = 100 * table.gflops / table.peak_limit
        table["% of matched"] = 100 * table.gflops / table.matched_limit
    print()
    print(table.drop(columns=["status"]).round(2).to_string(index=False))
    table.to_csv(out / "bench_sweep.csv", index=False)
    pd.DataFrame(shapes).to_csv(out / "bench_sweep_matmul.csv", index=False)

    if len(paths) == 2 and len(ok):
        print("\nbatched vs unbatched seeds (same run):")
        for learner in learners:
            a, b = results.get(("batched", learner)), results.get(("unbatched", learner))
            if a and b and a["status"] == b["status"] == "ok":
                ea = {(k, s): v for k, s, v in a["test_errors"]}
                diff = max((abs(ea[k, s] - v) for k, s, v in b["test_errors"] if not (math.isnan(v) or math.isnan(ea[k, s]))),
                           default=math.nan)
                print(f"  {learner:9s} unbatched / batched time = {b['seconds'] / a['seconds']:.2f}, "
                      f"max |Δ test error| = {diff:.2e}")
    medians = {learner: pd.DataFrame(res["test_errors"], columns=["kappa", "seed", "value"]).groupby("kappa").value.median()
               for (path, learner), res in results.items() if path == paths[0] and res["status"] == "ok"}
    if medians:
        print(f"\nmedian test error over seeds ({paths[0]}):")
        print(pd.DataFrame(medians).round(3).to_string())
    total = table[table.learner == "ALL"]
    for _, row in total.iterrows():
        print(f"\n{row.path}: {row.tasks:.0f} tasks in {row.seconds:.1f} s, {row.gflop:.1f} GFLOP at {row.gflops:.1f} GFLOP/s "
              f"= {row['% of peak']:.0f} % of the measured matmul peak ({row.peak_limit:.1f} GFLOP/s; goal ≥ 60 %); "
              f"peak memory {row.peak_mb:.0f} MB")
    print(f"tables: {out / 'bench_sweep.csv'}, {out / 'bench_sweep_matmul.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
