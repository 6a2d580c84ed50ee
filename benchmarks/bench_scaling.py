"""Benchmark: the cost of one task against d and κ, per learner (a table and a plot).

Each (d, κ, learner) point trains one task (seed 0, overlaps recorded) in a fresh process and
records its wall time, peak memory, floating-point work (``hight_lite/costs.py``), achieved
GFLOP/s and the ``torch.matmul`` rate of its largest training product, measured in the same
process. Widths are those of a sweep whose largest κ is ``--sweep-kappa-max`` (the paper's
2.2: ``p₁ = ⌊d^{2.2·0.9}⌋`` at every κ), so a row is the cost of that cell of the paper's
sweep at this d.

Points run in order of increasing d and κ. A point whose predicted time (its flops over the
learner's last measured GFLOP/s) exceeds ``--budget`` seconds is not run: its row holds the
prediction (status ``predicted``). The default grid stops where a 2-core CPU needs about
ten minutes for one task.

    python benchmarks/bench_scaling.py                                   # d 16..64, κ 1.0..2.2, all learners
    python benchmarks/bench_scaling.py --ds 16 24 --kappas 1 1.5 --epochs-coefficient 0.1   # seconds

Writes ``OUT/scaling.csv`` and ``OUT/scaling.png``; prints the table and what the ``cpu``
and ``paper`` presets would cost on this machine, one process, at the measured rates.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import pandas as pd

import hight_lite as hl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from hight_lite.costs import task_flops, tasks_table  # noqa: E402


def make_task(d: int, kappa: float, learner: str, epochs_coefficient: float, sweep_kappa_max: float,
              device: str = "cpu") -> hl.Task:
    """The (d, κ) cell of a sweep ending at ``max(κ, sweep_kappa_max)`` (0: the task's own n)."""
    kappa_max = max(kappa, sweep_kappa_max)
    config = hl.standard_learners(d, [kappa_max], epochs_coefficient)[learner]
    return hl.Task(hl.sight(d), learner, config, kappa, 0, device=device)


def worker(spec: dict) -> dict:
    if spec.get("kind") == "baseline":
        return common.baseline_result()
    task = make_task(spec["d"], spec["kappa"], spec["learner"], spec["epochs_coefficient"], spec["sweep_kappa_max"],
                     spec["device"])
    shapes = common.step_shapes([task_flops(task)])
    largest = max(shapes, key=shapes.get) if shapes else None
    rate = common.matmul_gflops(*largest, device=spec["device"], seconds=spec["matmul_seconds"]) if largest else math.nan
    start = time.perf_counter()
    result = hl.run_task(task)
    seconds = time.perf_counter() - start
    return dict(seconds=seconds, peak_mb=common.peak_rss_bytes() / 2**20, matmul_gflops=rate,
                matmul_shape="x".join(map(str, largest)) if largest else "", test_error=result.test_error)


def preset_estimates(rates: dict[str, float], epochs_coefficient_scale: float = 1.0) -> pd.DataFrame:
    """Seconds the ``cpu`` and ``paper`` presets would take here, one process, at ``rates`` (GFLOP/s per learner)."""
    rows = []
    for name in ("cpu", "paper"):
        preset = hl.get_preset(name)
        learners = hl.standard_learners(preset.d_train, preset.kappas, preset.epochs_coefficient)
        tasks = hl.make_tasks(hl.sight(preset.d_train), learners, preset.kappas, preset.training_seeds)
        work = tasks_table(tasks).groupby("learner").total.sum() / 1e9
        for learner, gflop in work.items():
            rate = rates.get(learner, math.nan)
            rows.append(dict(preset=name, learner=learner, tasks=len(tasks) // len(learners), gflop=gflop,
                             rate=rate, hours=gflop / rate / 3600))
    return pd.DataFrame(rows)


def plot(table: pd.DataFrame, path: Path, budget: float = 600.0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.8))
    palette = {"kernel": "C1", "two-layer": "C2", "layerwise": "C0", "joint": "C3"}
    markers = dict(zip(sorted(table.d.unique()), "osD^vP*X"))
    for (learner, d), group in table.groupby(["learner", "d"]):
        for status, fill in (("ok", True), ("predicted", False)):
            part = group[group.status == status].sort_values("n")
            if part.empty:
                continue
            style = dict(color=palette.get(learner), marker=markers[d], mfc=None if fill else "none",
                         ls="-" if fill else ":")
            label = f"{learner}, d = {d}" if status == "ok" else None
            axes[0].plot(part.n, part.seconds, label=label, **style)
            if status == "ok":
                axes[1].plot(part.n, part.gflops, **style)
                axes[1].plot(part.n, part.matmul_gflops, color=palette.get(learner), marker=markers[d], ls="none",
                             alpha=0.3)
    axes[0].axhline(budget, color="k", ls="--", lw=0.8, label=f"budget ({budget:g} s)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("n = ⌊d^κ⌋")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("seconds per task (hollow: predicted)")
    axes[1].set_ylabel("GFLOP/s (faint: matmul limit)")
    fig.legend(*axes[0].get_legend_handles_labels(), frameon=False, fontsize=8, loc="center right")
    fig.suptitle("Cost of one task of the paper's sweep against d and κ")
    fig.tight_layout(rect=(0, 0, 0.84, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ds", type=int, nargs="+", default=[16, 24, 32, 48, 64])
    parser.add_argument("--kappas", type=float, nargs="+", default=[1.0, 1.4, 1.8, 2.2])
    parser.add_argument("--epochs-coefficient", type=float, default=5.0, help="T = int(c d^1.5) (paper: 5)")
    parser.add_argument("--sweep-kappa-max", type=float, default=2.2,
                        help="widths of a sweep ending at this κ (paper: 2.2); 0 sizes each task for its own n")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds allowed per task (default 600)")
    parser.add_argument("--matmul-seconds", type=float, default=0.05, help="length of one matmul timing (best of 5)")
    common.add_measurement_arguments(parser, "scaling.csv, scaling.png, scaling_presets.csv")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup = common.start(args, worker)
    if setup is None:
        return 0
    learners, out = setup
    script = Path(__file__).resolve()
    print(common.environment_line(args.device))
    print(f"grid: d ∈ {args.ds}, κ ∈ {args.kappas}, widths of a sweep to κ = {args.sweep_kappa_max:g}, "
          f"epochs coefficient {args.epochs_coefficient:g}, budget {args.budget:g} s per task")
    rates: dict[str, float] = {}                       # last measured GFLOP/s per learner
    rows = []
    for d in sorted(args.ds):
        for kappa in sorted(args.kappas):
            for learner in learners:
                task = make_task(d, kappa, learner, args.epochs_coefficient, args.sweep_kappa_max, args.device)
                count = task_flops(task)
                cfg = task.config
                row = dict(d=d, kappa=kappa, n=task.n, learner=learner, width=getattr(cfg, "width1", getattr(cfg, "width", 0)),
                           gflop=count.total / 1e9, step_share=count.steps / count.total)
                predicted = row["gflop"] / rates[learner] if learner in rates else 0.0
                if predicted > args.budget:
                    rows.append(dict(row, status="predicted", seconds=predicted))
                    print(f"  d={d:3d} κ={kappa:4.2f} {learner:9s} skipped: predicted {predicted:.0f} s > budget")
                    continue
                spec = dict(d=d, kappa=kappa, learner=learner, epochs_coefficient=args.epochs_coefficient,
                            sweep_kappa_max=args.sweep_kappa_max, device=args.device, matmul_seconds=args.matmul_seconds)
                res = (dict(status="ok", **worker(spec)) if args.in_process
                       else common.run_worker(script, spec, timeout=args.budget + 120))
                if res["status"] != "ok":
                    rows.append(dict(row, status=res["status"], seconds=math.nan))
                    rates[learner] = row["gflop"] / args.budget       # at least this slow: later points are predicted
                    print(f"  d={d:3d} κ={kappa:4.2f} {learner:9s} {res['status']}")
                    continue
                gflops = row["gflop"] / res["seconds"]
                rates[learner] = gflops
                rows.append(dict(row, status="ok", seconds=res["seconds"], gflops=gflops, matmul_gflops=res["matmul_gflops"],
                                 matmul_shape=res["matmul_shape"], peak_mb=res["peak_mb"]))
                print(f"  d={d:3d} κ={kappa:4.2f} n={task.n:6d} {learner:9s} {res['seconds']:8.2f} s "
                      f"{gflops:7.1f} GFLOP/s (matmul {res['matmul_gflops']:.1f})  {res['peak_mb']:.0f} MB")
    table = pd.DataFrame(rows)
    for column in ("gflops", "matmul_gflops", "peak_mb", "matmul_shape"):
        if column not in table:
            table[column] = math.nan
    table.to_csv(out / "scaling.csv", index=False)
    plot(table, out / "scaling.png", args.budget)
    shown = table.assign(seconds=[f"{s:.1f}" + ("*" if st == "predicted" else "" if st == "ok" else f" ({st})")
                                  for s, st in zip(table.seconds, table.status)])
    print("\nseconds per task (* predicted from the flops and the learner's last measured rate):")
    print(shown.pivot_table(index=["d", "kappa", "n"], columns="learner", values="seconds", aggfunc="first").to_string())
    print("\nGFLOP per task (model):")
    print(table.pivot_table(index=["d", "kappa", "n"], columns="learner", values="gflop").round(2).to_string())
    measured = table[table.status == "ok"].sort_values("gflop").groupby("learner").last()
    estimates = preset_estimates(measured.gflops.to_dict())
    print("\nthe presets on this machine, one process, at each learner's rate on its largest measured task:")
    print(estimates.round(2).to_string(index=False))
    print(estimates.groupby("preset").hours.sum().round(2).rename("hours, all learners").to_string())
    estimates.to_csv(out / "scaling_presets.csv", index=False)
    print(f"tables and plot: {out / 'scaling.csv'}, {out / 'scaling_presets.csv'}, {out / 'scaling.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
