"""The command line: ``python -m hight_lite run ...`` and ``python -m hight_lite figures ...``.

``run`` sweeps κ × seeds × learners on the paper's main example for a preset (or a JSON
config file) into a results folder; every finished task is cached there, so a run that
is interrupted resumes where it stopped. ``figures`` draws the paper's Figs. 4 and 5
from a results folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from .presets import PRESETS, get_preset
from .sweep import make_tasks, process_pool, run_sweep, standard_learners
from .targets import sight

EXECUTORS = ("serial", "processes", "dask")
LEARNERS = ("kernel", "two-layer", "layerwise", "joint")
CONFIG_KEYS = {"d", "kappas", "seeds", "epochs_coefficient", "learners", "epsilon", "n_test"}


class CommandError(Exception):
    """A mistake in the command's arguments, reported in one line."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage dump)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m hight_lite",
        description="Reproduce the experiments of 'The Computational Advantage of Depth' "
        "(kernel, two-layer, and three-layer layerwise/joint learners on the SIGHT main example).",
        epilog="Example: python -m hight_lite run --preset quick --out results/quick && "
        "python -m hight_lite figures results/quick",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a sweep into a results folder (resumable)",
                         description="Sweep kappa x seeds x learners and write tidy CSV tables to OUT. "
                         "Finished tasks are cached in OUT/cache: rerunning resumes or returns at once.")
    source = run.add_mutually_exclusive_group()
    source.add_argument("--preset", choices=tuple(PRESETS), help="a named size (default: $HIGHT_LITE_PRESET or cpu)")
    source.add_argument("--config", type=Path, help="a JSON file with keys among: " + ", ".join(sorted(CONFIG_KEYS)))
    run.add_argument("--out", type=Path, required=True, help="results folder (created if missing)")
    run.add_argument("--executor", choices=EXECUTORS, default="serial", help="where tasks run (default: serial)")
    run.add_argument("--workers", type=int, default=None, help="workers for processes/dask (default: one per core)")
    run.add_argument("--learners", default=",".join(LEARNERS), help=f"comma-separated subset of {','.join(LEARNERS)}")
    run.add_argument("--device", default="cpu", help="torch device for the tasks, e.g. cpu or cuda (default: cpu)")
    run.add_argument("--seeds-per-batch", type=int, default=None,
                     help="train this many seeds of a sweep cell as one batched computation, 0 for all of them "
                     "(default: all of them on a GPU, one at a time on a CPU)")
    run.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="default: float32")
    run.add_argument("--tf32", action="store_true", help="allow TF32 matrix products (CUDA only)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    fig = sub.add_parser("figures", help="draw Figs. 4 and 5 from a results folder",
                         description="Read RESULTS/summary tables and write PNG figures.")
    fig.add_argument("results", type=Path, help="a folder written by 'run'")
    fig.add_argument("--out", type=Path, default=None, help="where to write the PNGs (default: RESULTS/figures)")

    sub.add_parser("presets", help="list the presets and their sizes")
    return parser


def _settings(args) -> dict:
    if args.config is not None:
        try:
            settings = json.loads(args.config.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"--config {args.config}: cannot read a JSON object ({exc})") from None
        if not isinstance(settings, dict):
            raise CommandError(f"--config {args.config}: expected a JSON object")
        unknown = set(settings) - CONFIG_KEYS
        if unknown:
            raise CommandError(f"--config: unknown keys {sorted(unknown)}; allowed: {sorted(CONFIG_KEYS)}")
        preset = get_preset("cpu")
        out = dict(d=preset.d_train, kappas=list(preset.kappas), seeds=preset.training_seeds,
                   epochs_coefficient=preset.epochs_coefficient, epsilon=0.5, n_test=preset.n_test)
        out.update(settings)
        return out
    preset = get_preset(args.preset)
    return dict(d=preset.d_train, kappas=list(preset.kappas), seeds=preset.training_seeds,
                epochs_coefficient=preset.epochs_coefficient, epsilon=0.5, n_test=preset.n_test, preset=preset.name)


def _executor(name: str, workers: int | None):
    if name == "serial":
        return None, None
    if name == "processes":
        pool = process_pool(workers)
        return pool, pool.shutdown
    try:
        import distributed
    except ImportError:
        raise CommandError("--executor dask needs the 'distributed' package (pip install 'dask[distributed]')") from None
    environ = dict(os.environ)  # LocalCluster sets OMP_NUM_THREADS=1 here for good: undo it on close
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
    client = distributed.Client(cluster)

    def close():
        client.close()
        cluster.close()
        os.environ.clear()
        os.environ.update(environ)

    return client.get_executor(), close


def command_run(args) -> None:
    settings = _settings(args)
    learners = [name.strip() for name in args.learners.split(",") if name.strip()]
    bad = [name for name in learners if name not in LEARNERS]
    if bad or not learners:
        raise CommandError(f"--learners: unknown {bad or 'empty list'}; choose among {', '.join(LEARNERS)}")
    if args.workers is not None and args.workers < 1:
        raise CommandError(f"--workers must be >= 1, got {args.workers}")
    if args.seeds_per_batch is not None and args.seeds_per_batch < 0:
        raise CommandError(f"--seeds-per-batch must be >= 0 (0 = all seeds together), got {args.seeds_per_batch}")
    try:
        target = sight(int(settings["d"]), epsilon=float(settings["epsilon"]))
        configs = standard_learners(target.d, settings["kappas"], float(settings["epochs_coefficient"]))
        tasks = make_tasks(target, {k: configs[k] for k in learners}, settings["kappas"], int(settings["seeds"]),
                           n_test=int(settings["n_test"]), device=args.device, dtype=args.dtype, tf32=args.tf32)
    except (ValueError, TypeError, KeyError) as exc:
        raise CommandError(f"bad settings: {exc}") from None
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "run.json").write_text(json.dumps(
        dict(settings=settings, learners={k: dict(type=type(c).__name__, **asdict(c)) for k, c in configs.items()
                                          if k in learners}), indent=2))
    executor, close = _executor(args.executor, args.workers)
    try:
        result = run_sweep(tasks, cache_dir=args.out / "cache", executor=executor, progress=not args.no_progress,
                           batch_seeds=None if args.seeds_per_batch is None else (args.seeds_per_batch or True))
    finally:
        if close is not None:
            close()
    result.table.to_csv(args.out / "results.csv", index=False)
    result.histories().to_csv(args.out / "histories.csv", index=False)
    summaries = [result.summary(m).assign(metric=m) for m in sorted(set(result.table.metric))]
    import pandas as pd

    pd.concat(summaries).to_csv(args.out / "summary.csv", index=False)
    print(f"{len(tasks)} tasks done; tables in {args.out}/ (results.csv, summary.csv, histories.csv)")


def command_figures(args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from .plots import plot_sweep_metric
    from .theory import (
        best_linear_in_h_error_limit,
        best_polynomial_error_limit,
        random_level,
        sample_complexity_thresholds,
    )

    summary_path, run_path = args.results / "summary.csv", args.results / "run.json"
    if not summary_path.is_file() or not run_path.is_file():
        raise CommandError(f"{args.results} is not a results folder (no summary.csv/run.json): run 'run' first")
    summary = pd.read_csv(summary_path)
    settings = json.loads(run_path.read_text())["settings"]
    target = sight(int(settings["d"]), epsilon=float(settings["epsilon"]))
    out = args.out or args.results / "figures"
    out.mkdir(parents=True, exist_ok=True)
    levels = {
        "random (d→∞)": random_level(target),
        "best quadratic (d→∞)": best_polynomial_error_limit(target, 2),
        "best linear in h* (d→∞)": best_linear_in_h_error_limit(target),
    }
    thresholds = sample_complexity_thresholds(target)
    threshold = float(thresholds[thresholds.learner == "three-layer"].kappa.max())
    written = []
    errors = summary[summary.metric == "test_error"]
    for name, learners in [("fig4_top.png", ["kernel", "two-layer", "layerwise"]), ("fig4_bottom.png", ["layerwise", "joint"])]:
        fig, ax = plt.subplots(figsize=(6, 4))
        plot_sweep_metric(errors[errors.learner.isin(learners)], ax=ax, levels=levels, threshold=threshold)
        ax.set_ylabel("test error")
        fig.savefig(out / name, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(name)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metric, label in [(axes[0], "overlap_W_0", r"$\|M_W\|_F/\sqrt{p_1}$"), (axes[1], "overlap_h_0", r"$\|M_h\|_F/\sqrt{p_2}$")]:
        plot_sweep_metric(summary[summary.metric == metric], ax=ax, threshold=threshold)
        ax.set_ylabel(label)
        ax.set_yscale("linear")
    fig.savefig(out / "fig5_overlaps.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    written.append("fig5_overlaps.png")
    print(f"wrote {', '.join(written)} to {out}/")


def command_presets(_args) -> None:
    for preset in PRESETS.values():
        print(f"{preset.name:6s} d={preset.d_train:3d}  kappas={preset.kappas[0]}..{preset.kappas[-1]} "
              f"({len(preset.kappas)})  seeds={preset.training_seeds}  epochs=int({preset.epochs_coefficient:g} d^1.5)")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        {"run": command_run, "figures": command_figures, "presets": command_presets}[args.command](args)
    except CommandError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted; finished tasks are cached, run the same command again to resume",
              file=sys.stderr)
        return 130
    return 0
