"""Predict over inputs that do not fit in memory: iterators and text files, in batches."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import numpy as np

__all__ = ["iter_batches", "predict_stream", "predict_file"]


def iter_batches(docs: Iterable[Any], batch_size: int) -> Iterator[list]:
    """Cut any iterable into lists of at most ``batch_size`` items, lazily."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}.")
    if isinstance(docs, (str, bytes)):
        raise TypeError("docs must be an iterable of documents, not a single string.")
    it = iter(docs)
    while batch := list(islice(it, batch_size)):
        yield batch


def predict_stream(
    model: Any, docs: Iterable[str], batch_size: int = 10_000, method: str = "predict"
) -> Iterator[np.ndarray]:
    """Apply ``model.<method>`` to ``docs`` batch by batch; yield one array per batch.

    Memory stays bounded by the batch size, whatever the length of ``docs`` (a
    generator, a file, a database cursor). Every document gets exactly one output row,
    in order.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_slm import predict_stream
    >>> from sklearn.dummy import DummyClassifier
    >>> model = DummyClassifier(strategy="constant", constant=1).fit([[0]], [1])
    >>> rows = (["doc"] for _ in range(5))
    >>> np.concatenate(list(predict_stream(model, rows, batch_size=2))).tolist()
    [1, 1, 1, 1, 1]
    """
    predict = getattr(model, method)
    for batch in iter_batches(docs, batch_size):
        out = predict(batch)
        if len(out) != len(batch):  # pragma: no cover - guards the no-dropped-rows promise
            raise RuntimeError(f"{method} returned {len(out)} rows for {len(batch)} documents.")
        yield out


def predict_file(
    model: Any, path: str | os.PathLike, batch_size: int = 10_000, method: str = "predict"
) -> Iterator[np.ndarray]:
    """Like :func:`predict_stream` over a UTF-8 text file with one document per line."""

    def lines():
        with open(path, encoding="utf-8-sig") as fh:
            for line in fh:
                yield line.rstrip("\r\n")

    yield from predict_stream(model, lines(), batch_size=batch_size, method=method)
