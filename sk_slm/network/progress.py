"""EpochProgress: one plain line per epoch of a skorch net, for logs and notebooks alike."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from skorch.callbacks import Callback

__all__ = ["EpochProgress"]


class EpochProgress(Callback):
    """Print one line per epoch: the stage, the epoch, the losses, the time spent and an
    estimate of the time left.

    Unlike skorch's ``PrintLog`` table, each line stands alone and holds no colour codes,
    so a redirected log reads as the terminal did::

        early stopping, epoch 4/20: train loss 0.4132, valid loss 0.3871 (best); 6.2 s, at most 25 s left

    Parameters
    ----------
    stage : str or callable, default="training"
        The stage the line names, or a function of the net and the epoch's number
        returning it (the classifier names its n-gram warm-up this way).
    sink : callable, default=print
        Where each line goes (``print`` writes to stdout; any function of one string).
    early_stopping : bool, default=False
        Whether training may stop before ``max_epochs``: the estimate then says "at
        most".
    """

    def __init__(self, stage: str | Callable[[Any, int], str] = "training",
                 sink: Callable[[str], Any] = print, early_stopping: bool = False):
        self.stage = stage
        self.sink = sink
        self.early_stopping = early_stopping

    def initialize(self):
        self.start_ = None
        self.first_epoch_ = 0
        return self

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.perf_counter()
        self.first_epoch_ = len(net.history)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        epoch = row["epoch"]
        done = len(net.history) - self.first_epoch_
        last = self.first_epoch_ + net.max_epochs
        stage = self.stage(net, epoch) if callable(self.stage) else self.stage
        scores = []
        for key in ("train_loss", "valid_loss"):
            if key in row:
                best = " (best)" if key == "valid_loss" and row.get("valid_loss_best") else ""
                scores.append(f"{key.replace('_', ' ')} {row[key]:.4f}{best}")
        elapsed = time.perf_counter() - self.start_
        timing = f"{elapsed:.1f} s"
        left = last - epoch
        if left > 0:
            estimate = max(1, math.ceil(elapsed / max(done, 1) * left))
            timing += f", {'at most' if self.early_stopping else 'about'} {estimate} s left"
        self.sink(f"{stage}, epoch {epoch}/{last}: {', '.join(scores)}; {timing}")
