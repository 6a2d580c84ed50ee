"""Benchmark: the authors' example sweep, side by side with the machine's matmul throughput.

Runs κ × seeds × {kernel, two-layer, layerwise, joint} on the main SIGHT example (with
overlaps), then prints wall time, peak memory, the floating-point work of the training
loops (counted from the shapes) and the achieved GFLOP/s next to the measured matmul
GFLOP/s of this machine on the same shapes. All ratios come from one run.

    python benchmarks/bench_sweep.py                    # d = 32, κ 0.5..2.2 (7), 3 seeds
    python benchmarks/bench_sweep.py --d 64 --kappas 2.2 --seeds 1 --learners layerwise
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numpy as np
import pandas as pd
import torch

import hight_lite as hl


def matmul_gflops(m: int, k: int, n: int, repeats: int = 20, dtype=torch.float32, device="cpu") -> float:
    """Measured GFLOP/s of an (m × k) @ (k × n) product."""
    a = torch.randn(m, k, dtype=dtype, device=device)
    b = torch.randn(k, n, dtype=dtype, device=device)
    for _ in range(3):
        a @ b
    if device != "cpu":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device != "cpu":
        torch.cuda.synchronize()
    return 2 * m * k * n * repeats / (time.perf_counter() - start) / 1e9


def training_flops(task: hl.Task) -> float:
    """Floating-point operations of the task's training loop (matrix products only)."""
    d, n, cfg = task.target.d, task.n, task.config
    if isinstance(cfg, hl.KernelConfig):
        if cfg.has_primal and n > cfg.feature_dimension(d):
            dim = cfg.feature_dimension(d)
            return 2 * n * dim * dim + dim**3 / 3
        return 2 * n * n * d + n**3 / 3
    m = max(1, int(n * cfg.batch_fraction))
    if isinstance(cfg, hl.TwoLayerConfig):
        return cfg.steps * 4 * m * d * cfg.width
    p1, p2 = cfg.width1, cfg.width2
    if isinstance(cfg, hl.LayerwiseConfig):
        steps1 = int(cfg.epochs1 / cfg.batch_fraction)
        steps2 = int(cfg.epochs2 / cfg.batch_fraction)
        return steps1 * (4 * m * d * p1 + 4 * m * p1 * p2) + 2 * n * d * p1 + steps2 * 4 * m * p1 * p2
    steps = int(cfg.epochs / cfg.batch_fraction)
    return steps * (4 * m * d * p1 + 6 * m * p1 * p2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--kappas", type=float, nargs="+", default=list(np.linspace(0.5, 2.2, 7)))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--learners", default="kernel,two-layer,layerwise,joint")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    target = hl.sight(args.d)
    learners = hl.standard_learners(args.d, args.kappas)
    learners = {k: v for k, v in learners.items() if k in args.learners.split(",")}
    tasks = hl.make_tasks(target, learners, args.kappas, args.seeds, device=args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    n_max = hl.integer_power(args.d, max(args.kappas))
    layer = learners.get("layerwise") or learners.get("joint")
    if layer is not None:
        m = int(0.7 * n_max)
        limit = matmul_gflops(m, layer.width1, layer.width2, device=args.device)
        print(f"matmul limit on the second-layer shape ({m} x {layer.width1} @ {layer.width1} x {layer.width2}): "
              f"{limit:.1f} GFLOP/s")
    square = matmul_gflops(2048, 2048, 2048, repeats=5, device=args.device)
    print(f"matmul limit, 2048^3: {square:.1f} GFLOP/s")

    start = time.perf_counter()
    result = hl.run_sweep(tasks)
    wall = time.perf_counter() - start
    rows = []
    for r in result.results:
        rows.append(dict(learner=r.task.learner, seconds=r.seconds, gflop=training_flops(r.task) / 1e9))
    per = pd.DataFrame(rows).groupby("learner").sum()
    per["GFLOP/s"] = per.gflop / per.seconds
    print(per.round(2).to_string())
    total = per.gflop.sum()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"sweep: {len(tasks)} tasks in {wall:.1f} s; {total:.0f} GFLOP at {total / wall:.1f} GFLOP/s "
          f"({100 * total / wall / square:.0f}% of the 2048^3 matmul limit); peak memory {peak_mb:.0f} MB")
    if math.isfinite(total):
        print(result.summary().pivot(index="kappa", columns="learner", values="median").round(3).to_string())


if __name__ == "__main__":
    main()
