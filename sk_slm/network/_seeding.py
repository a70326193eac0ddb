"""Seeded torch regions that leave the caller's random state alone and never interleave."""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = ["seeded_torch"]

# One seeded (training) region at a time per process.
_SEEDED_REGION = threading.RLock()


@contextlib.contextmanager
def seeded_torch(random_state: Any, device: Any = "cpu") -> Iterator[int | None]:
    """Seed torch from ``random_state`` on a forked global RNG, restored on exit; yields
    the seed (None when ``random_state`` is None: torch's state is then only forked).

    torch draws initial weights, dropout masks and shuffles from its process-wide
    generator, which threads share: fits in threads (joblib's threading backend, Dask
    with processes=False) would interleave their draws and none would be reproducible.
    So the seeded region is serialised: one runs at a time per process, and each gives
    the numbers a sequential run gives; a thread that has to wait is told so, in a
    UserWarning. (Per-fit generators cannot replace the lock: torch's dropout draws
    from the global generator only.)
    """
    devices = []
    if str(device).startswith("cuda") and torch.cuda.is_available():
        devices = [torch.device(device).index or 0]
    seed = None
    if random_state is not None:
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    if not _SEEDED_REGION.acquire(blocking=False):
        warnings.warn(
            "Another thread of this process is training a network, and this fit waits "
            "for it to end: torch's random generator (weights, dropout, shuffling) is "
            "shared by the threads of a process, so networks train one at a time there to "
            "stay reproducible. For fits in parallel, use processes (joblib's default "
            "backend) rather than threads.", UserWarning, stacklevel=4)
        _SEEDED_REGION.acquire()
    try:
        with torch.random.fork_rng(devices=devices):
            if seed is not None:
                torch.manual_seed(seed)
            yield seed
    finally:
        _SEEDED_REGION.release()
