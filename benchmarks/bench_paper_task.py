"""Benchmark: peak memory (and time) of one paper-size task per learner, each in a fresh process.

The paper's largest task: d = 64, κ = 2.2, so n = ⌊64^2.2⌋ = 9410 training samples and
p₁ = ⌊n^0.9⌋ = 3769 first-layer units (p₂ = 100; two-layer width p₁/15 = 251), 1000
validation and 1000 test points, overlaps recorded at every checkpoint. Each learner runs
in its own process; its peak resident memory (``ru_maxrss``) is reported next to that of a
process that only imports torch and hight_lite. Goal: every learner below 2 GB on a CPU.

Memory does not grow with the number of steps (the learners keep no trajectories), so
``--epochs-coefficient`` may be lowered to measure memory quickly; the table says which
was used (the paper's is 5). ``--seeds S`` trains S seeds of the cell together (batched
seeds, when ``hl.run_sweep`` has them): the memory of a batched cell.

    python benchmarks/bench_paper_task.py                              # the paper's epochs (joint: ~10 min on 2 cores)
    python benchmarks/bench_paper_task.py --epochs-coefficient 0.05    # memory only, a minute
    python benchmarks/bench_paper_task.py --d 16 --kappa 1.5 --epochs-coefficient 0.05   # smoke run

Writes ``OUT/paper_task.csv``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

import hight_lite as hl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from hight_lite.costs import task_flops  # noqa: E402


def make_tasks(spec: dict) -> list[hl.Task]:
    """``spec["seeds"]`` seeds of one learner at (d, κ), sized for n = ⌊d^κ⌋ (the sweep's largest task)."""
    config = hl.standard_learners(spec["d"], [spec["kappa"]], spec["epochs_coefficient"])[spec["learner"]]
    return hl.make_tasks(hl.sight(spec["d"]), {spec["learner"]: config}, [spec["kappa"]], spec["seeds"],
                         device=spec["device"])


def worker(spec: dict) -> dict:
    if spec.get("kind") == "baseline":
        return common.baseline_result()
    tasks = make_tasks(spec)
    start = time.perf_counter()
    result = common.run_sweep(tasks, spec["seeds"] > 1, progress=False)
    seconds = time.perf_counter() - start
    errors = result.table.query("metric == 'test_error'").value
    return dict(seconds=seconds, peak_mb=common.peak_rss_bytes() / 2**20, test_error=float(errors.median()))


def _parser() -> argparse.ArgumentParser:
    paper = hl.get_preset("paper")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=paper.d_train, help=f"input dimension (paper: {paper.d_train})")
    parser.add_argument("--kappa", type=float, default=max(paper.kappas),
                        help=f"κ of the task (paper's largest: {max(paper.kappas)}, n = 9410 at d = 64)")
    parser.add_argument("--epochs-coefficient", type=float, default=paper.epochs_coefficient,
                        help=f"T = int(c d^1.5) (paper: {paper.epochs_coefficient:g}); memory does not depend on it")
    parser.add_argument("--seeds", type=int, default=1, help="seeds trained together (batched seeds if available)")
    parser.add_argument("--limit-gb", type=float, default=2.0, help="the memory goal, GB (default 2)")
    common.add_measurement_arguments(parser, "paper_task.csv")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup = common.start(args, worker)
    if setup is None:
        return 0
    learners, out = setup
    script = Path(__file__).resolve()
    print(common.environment_line(args.device))
    base = common.baseline_result()["peak_mb"] if args.in_process else common.baseline_rss(script)
    n = hl.integer_power(args.d, args.kappa)
    print(f"task: d = {args.d}, κ = {args.kappa:g}, n = {n}, epochs coefficient {args.epochs_coefficient:g} "
          f"(paper: {hl.get_preset('paper').epochs_coefficient:g}), {args.seeds} seed(s) per process"
          + (" (in-process: peaks mix)" if args.in_process else ""))
    print(f"peak memory of a process that only imports torch and hight_lite: {base:.0f} MB")
    rows = []
    for learner in learners:
        spec = dict(d=args.d, kappa=args.kappa, epochs_coefficient=args.epochs_coefficient, learner=learner,
                    seeds=args.seeds, device=args.device)
        task = make_tasks(spec)[0]
        cfg = task.config
        count = task_flops(task)
        res = dict(status="ok", **worker(spec)) if args.in_process else common.run_worker(script, spec)
        row = dict(learner=learner, d=args.d, kappa=args.kappa, n=task.n,
                   width1=getattr(cfg, "width1", getattr(cfg, "width", None)), width2=getattr(cfg, "width2", None),
                   epochs_coefficient=args.epochs_coefficient, seeds=args.seeds,
                   gflop=args.seeds * count.total / 1e9, status=res["status"])
        if res["status"] == "ok":
            row.update(seconds=res["seconds"], gflops=row["gflop"] / res["seconds"], peak_mb=res["peak_mb"],
                       above_import_mb=res["peak_mb"] - base, below_limit=res["peak_mb"] < 1024 * args.limit_gb,
                       test_error=res["test_error"])
            print(f"  {learner:9s} {res['seconds']:8.1f} s  peak {res['peak_mb']:6.0f} MB  test error {res['test_error']:.3f}")
        else:
            print(f"  {learner:9s} {res['status']}")
        rows.append(row)
    table = pd.DataFrame(rows)
    table["import_mb"] = base
    print()
    print(table.round(3).to_string(index=False))
    table.to_csv(out / "paper_task.csv", index=False)
    ok = table[table.status == "ok"]
    if len(ok):
        worst = ok.peak_mb.max()
        verdict = "below" if worst < 1024 * args.limit_gb else "ABOVE"
        print(f"\nlargest peak: {worst:.0f} MB ({ok.loc[ok.peak_mb.idxmax(), 'learner']}), {verdict} the "
              f"{args.limit_gb:g} GB goal; epochs coefficient used: {args.epochs_coefficient:g}")
    print(f"table: {out / 'paper_task.csv'}")
    return 0 if (table.status == "ok").all() else 1


if __name__ == "__main__":
    sys.exit(main())
