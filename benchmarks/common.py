"""What every benchmark shares: the matmul limit, peak memory, fresh worker processes, batched seeds.

* :func:`matmul_limit` times ``torch.matmul`` (:func:`hight_lite.matmul_gflops`) on the
  training loops' shapes, in the calling process with its threads: the limit the training
  loops are compared with.
* :func:`peak_rss_bytes` is the peak resident memory of this process (``ru_maxrss``);
  tracemalloc does not see torch's allocations, RSS does.
* :func:`run_worker` runs a script's ``--worker SPEC`` mode in a fresh interpreter, so that
  each measurement's peak memory is its own, and returns the JSON it printed.
* :func:`add_measurement_arguments` and :func:`start` are the options and the start of every
  measuring script: ``--learners``, ``--device``, ``--out``, ``--in-process`` and the hidden
  ``--worker``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Callable

import torch

import hight_lite as hl
from hight_lite.cli import LEARNERS  # the four learners, in the order of the paper
from hight_lite.costs import matmul_gflops

RESULT_PREFIX = "BENCH_RESULT "
DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def run_sweep(tasks, batched: bool | int, **kwargs):
    """:func:`hight_lite.run_sweep` with ``batch_seeds=batched``: ``True`` (each cell's seeds together), ``False`` or a cap."""
    return hl.run_sweep(tasks, batch_seeds=batched, **kwargs)


def parse_learners(text: str, allowed=LEARNERS) -> list[str]:
    """``--learners a,b``: a non-empty subset of ``allowed``; a ``ValueError`` naming the option otherwise."""
    learners = [x.strip() for x in text.split(",") if x.strip()]
    if not learners or any(x not in allowed for x in learners):
        raise ValueError(f"--learners must be a subset of {','.join(allowed)}, got {text!r}")
    return learners


def synchronize(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def step_shapes(flop_counts) -> dict[tuple[int, int, int], float]:
    """The distinct matrix-matrix products of the training steps of some tasks, with their total flops."""
    shapes: dict[tuple[int, int, int], float] = {}
    for count in flop_counts:
        for steps, products in count.step_products.values():
            for p in products:
                if not p.is_vector:
                    key = (p.M, p.K, p.N)
                    shapes[key] = shapes.get(key, 0.0) + p.flops * steps
    return shapes


def matmul_limit(shapes: dict[tuple[int, int, int], float], device: str = "cpu", dtype=torch.float32,
                 seconds: float = 0.05) -> dict:
    """Measured GFLOP/s of every shape, the best of them (``peak``) and the flop-weighted limit.

    ``matched`` is the throughput of the training steps if every one of their products ran
    as fast as ``torch.matmul`` runs it alone: total flops over :math:`\\sum_s F_s / R_s`.
    """
    rates = {shape: matmul_gflops(*shape, device=device, dtype=dtype, seconds=seconds) for shape in shapes}
    total = sum(shapes.values())
    matched_seconds = sum(f / (rates[s] * 1e9) for s, f in shapes.items())  # the steps at torch.matmul's rates
    square = matmul_gflops(1024, 1024, 1024, device=device, dtype=dtype, seconds=seconds)
    return dict(
        shapes=[dict(M=s[0], K=s[1], N=s[2], share=f / total if total else 0.0, gflops=rates[s]) for s, f in shapes.items()],
        peak=max([square, *rates.values()]), square_1024=square,
        matched=total / matched_seconds / 1e9 if matched_seconds > 0 else float("nan"),
    )


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def emit(result: dict) -> None:
    """Print a worker's result as the last line of its output."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def run_worker(script: str | Path, spec: dict, timeout: float | None = None) -> dict:
    """Run ``python SCRIPT --worker SPEC`` in a fresh process; return its result (or ``status``).

    The worker inherits the environment (threads: ``OMP_NUM_THREADS``); its stderr (progress,
    warnings) goes to ours. A worker that fails or runs past ``timeout`` seconds returns
    ``{"status": "failed" | "timeout", ...}``.
    """
    command = [sys.executable, str(script), "--worker", json.dumps(spec)]
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(status="timeout", timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        return dict(status="failed", returncode=done.returncode, stdout_tail=done.stdout[-2000:])
    return dict(status="ok", **json.loads(lines[-1][len(RESULT_PREFIX):]))


def baseline_rss(script: str | Path) -> float:
    """Peak memory (MB) of a fresh process that only imports torch and hight_lite."""
    result = run_worker(script, dict(kind="baseline"), timeout=300)
    return result.get("peak_mb", float("nan"))


def baseline_result() -> dict:
    return dict(peak_mb=peak_rss_bytes() / 2**20)


def environment_line(device: str = "cpu") -> str:
    """torch version, threads and device."""
    threads = torch.get_num_threads()
    omp = os.environ.get("OMP_NUM_THREADS", "unset")
    name = torch.cuda.get_device_name() if torch.device(device).type == "cuda" and torch.cuda.is_available() else device
    return (f"torch {torch.__version__}, {threads} threads (OMP_NUM_THREADS={omp}), device {name}, "
            f"hight_lite {hl.__version__}")


def out_dir(path: str | Path | None) -> Path:
    folder = Path(path) if path is not None else DEFAULT_OUT
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def add_measurement_arguments(parser: argparse.ArgumentParser, outputs: str) -> None:
    """The options every measuring script shares; ``outputs`` names what ``--out`` receives."""
    parser.add_argument("--learners", default=",".join(LEARNERS), help="comma-separated subset")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=None, help=f"folder for {outputs} (default benchmarks/results)")
    parser.add_argument("--in-process", action="store_true",
                        help="measure in this process (smoke tests only: peak memories then mix)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)


def start(args: argparse.Namespace, worker: Callable[[dict], dict]) -> tuple[list[str], Path] | None:
    """In ``--worker`` mode, run ``worker`` on its spec, print the result and return ``None``;
    otherwise return the chosen learners and the output folder (created)."""
    if args.worker:
        emit(worker(json.loads(args.worker)))
        return None
    try:
        learners = parse_learners(args.learners)
    except ValueError as error:
        raise SystemExit(f"{Path(sys.argv[0]).name}: error: {error}") from None
    return learners, out_dir(args.out)
