"""What every learner records while it trains: checkpoints, losses, overlaps, divergence.

Nothing here keeps a weight trajectory: learners evaluate losses and overlaps at a handful
of log-spaced checkpoints and store only those numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch


def checkpoint_steps(total_steps: int, count: int) -> list[int]:
    """``count`` roughly log-spaced steps in ``[0, total_steps]``, always with 0 and ``total_steps``."""
    if total_steps < 0 or count < 2:
        raise ValueError(f"need total_steps >= 0 and count >= 2, got {total_steps}, {count}")
    if total_steps == 0:
        return [0]
    steps = np.unique(np.round(np.geomspace(1, total_steps, count - 1)).astype(int))
    return [0] + [int(s) for s in steps]


def check_positive_int(value, name: str, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_fraction(value: float, name: str) -> None:
    """``value`` must lie in (0, 1]."""
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)) or not 0.0 < value <= 1.0:
        raise ValueError(f"{name} must lie in (0, 1], got {value!r}")


def check_nonnegative(value: float, name: str) -> None:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)) or not 0.0 <= value < math.inf:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def check_positive(value: float, name: str) -> None:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)) or not 0.0 < value < math.inf:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def minibatch_indices(n: int, batch: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """``batch`` distinct indices of ``range(n)``, drawn uniformly, in increasing order.

    Sorting changes nothing in a gradient (a sum over the batch) and makes the row
    gather that follows read memory in order.
    """
    idx = torch.randperm(n, generator=generator, device=generator.device)[:batch]
    return idx.sort().values.to(device)


class DivergenceWatch:
    """Remembers the first step whose loss was not finite, without a host sync per step."""

    def __init__(self, device: torch.device):
        self._first = torch.full((), -1, dtype=torch.long, device=device)

    def update(self, step: int, loss: torch.Tensor) -> None:
        bad = ~torch.isfinite(loss)
        self._first = torch.where(bad & (self._first < 0), torch.full_like(self._first, step), self._first)

    @property
    def first_bad_step(self) -> int | None:
        """The first step with a non-finite loss, or ``None`` (this syncs with the device)."""
        value = int(self._first)
        return None if value < 0 else value


@dataclass
class TrainingRecord:
    """Checkpoint rows and the outcome of one training run.

    Attributes:
        rows: one dict per checkpoint (``stage``, ``step``, ``epoch``, ``train_loss``,
            ``validation_loss`` and overlaps such as ``overlap_W`` per branch).
        diverged: whether a loss became NaN or infinite.
        diverged_stage, diverged_step: where that happened (``None`` otherwise).
    """

    rows: list[dict] = field(default_factory=list)
    diverged: bool = False
    diverged_stage: str | None = None
    diverged_step: int | None = None

    def add(self, **row) -> None:
        self.rows.append(row)

    def mark_diverged(self, stage: str, step: int) -> None:
        self.diverged, self.diverged_stage, self.diverged_step = True, stage, step

    @property
    def history(self) -> pd.DataFrame:
        """The checkpoints as a tidy table, one row per checkpoint."""
        return pd.DataFrame(self.rows)
