"""A joblib backend for Dask that survives losing a worker in the middle of a search.

joblib's own dask backend scatters every argument larger than 1 kB (GridSearchCV's
train/test index arrays, for instance) to *one* worker. Scattered data has no recipe
to recompute it, so when that worker dies every task that needs it is cancelled and
the search fails with ``FutureCancelledError: ... already forgotten``.
:class:`ResilientDaskBackend` is that backend with the automatic scattering turned off:
arguments travel inside each task, which the scheduler keeps, so a task lost with its
worker simply runs again elsewhere. Large data you name in ``scatter=`` is broadcast
to every worker once, so it survives losing any one of them.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["dask_backend"]  # ResilientDaskBackend is built on first access (dask is optional)

BACKEND_NAME = "sk_slm_dask"


@functools.cache
def _backend_class():
    try:
        import distributed  # noqa: F401  (joblib's module imports without it)
        from joblib._dask import DaskDistributedBackend
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Dask is not installed: pip install 'sk-slm[distributed]'."
        ) from exc

    class ResilientDaskBackend(DaskDistributedBackend):
        """joblib's dask backend without automatic scattering of large arguments."""

        def start_call(self):
            super().start_call()
            # joblib scatters an argument only while this per-call cache exists.
            self.call_data_futures = None

        def stop_call(self):
            self.call_data_futures = {}  # the parent clears it
            super().stop_call()

    return ResilientDaskBackend


def __getattr__(name: str) -> Any:
    if name == "ResilientDaskBackend":  # built lazily: dask is an optional extra
        return _backend_class()
    raise AttributeError(name)


@contextlib.contextmanager
def dask_backend(
    client: Any = None, *, scatter: Sequence[Any] | None = None, **kwargs: Any
) -> Iterator[None]:
    """Run joblib-parallel work (GridSearchCV, cross_validate...) on a Dask cluster.

    Parameters
    ----------
    client : distributed.Client, default=None
        The cluster to use; by default the current client (``distributed.Client(...)``
        created earlier in the session).
    scatter : sequence, default=None
        Large objects every task needs, typically ``[X, y]``: sent to every worker
        once (broadcast) instead of inside each task.
    **kwargs
        Passed on to :func:`joblib.parallel_config` (e.g. ``n_jobs``) and the backend
        (e.g. ``wait_for_workers_timeout``).

    Examples
    --------
    >>> from distributed import Client, LocalCluster          # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> with dask_backend(client, scatter=[X, y]):            # doctest: +SKIP
    ...     grid.fit(X, y)
    """
    import joblib

    joblib.register_parallel_backend(BACKEND_NAME, _backend_class())
    if client is not None:
        kwargs["client"] = client
    if scatter is not None:
        kwargs["scatter"] = list(scatter)
    with joblib.parallel_config(BACKEND_NAME, **kwargs):
        yield
