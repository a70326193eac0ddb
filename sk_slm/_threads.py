"""torch's CPU threads cut to the cores free at the moment a fit or prediction starts.

torch runs each operation on all of its threads (by default one per core) and waits for
the slowest: on a machine where other processes keep some cores busy, the threads that
share a core with them hold every operation back. Measured on two cores beside one
CPU-bound process: a 2,000-document fit took 14 s on one thread and 31-38 s on two (see
the performance guide). So each fit and prediction runs on at most as many threads as
there are cores not running other work right now: the cores this process may use, less
the other runnable threads the kernel counts (``/proc/loadavg``, Linux). The count in
force before is put back after, as scikit-learn's estimators limit their native thread
pools (threadpoolctl) inside ``fit`` and restore them.

A caller who sets ``torch.set_num_threads(k)`` gets at most ``k``; where the kernel gives
no count (not Linux), nothing changes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

__all__ = ["free_cores", "threads_for_free_cores"]


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _runnable_threads() -> int | None:
    """The kernel's count of runnable threads, this one included (Linux)."""
    try:
        with open("/proc/loadavg") as fh:
            return int(fh.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None


def free_cores() -> int | None:
    """Cores this process may use that no other runnable thread occupies now; None
    where the kernel does not say (not Linux)."""
    runnable = _runnable_threads()
    if runnable is None:
        return None
    others = max(0, runnable - 1)  # the thread asking is one of them
    return max(1, _usable_cores() - others)


@contextlib.contextmanager
def threads_for_free_cores(device: object = "cpu") -> Iterator[None]:
    """Run the block on at most :func:`free_cores` torch threads (CPU only); the thread
    count in force before is restored after."""
    before = torch.get_num_threads()
    free = free_cores() if str(device).startswith("cpu") else None
    if free is None or free >= before:
        yield
        return
    torch.set_num_threads(free)
    try:
        yield
    finally:
        torch.set_num_threads(before)
