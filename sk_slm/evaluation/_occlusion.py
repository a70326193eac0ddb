"""Leave-one-token-out: what each token adds to a prediction (no torch needed, so that
the ONNX predictor explains the same way)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["leave_one_out"]


def leave_one_out(tokens: Sequence[Sequence[str]], scores: Callable[[list], np.ndarray],
                  predicted: np.ndarray | None = None) -> list[np.ndarray]:
    """For each document, how much its score for the class ``predicted`` (by default
    the class of highest score) falls when each token alone is left out.

    ``scores(token_lists)`` gives an array of shape (n_documents, n_classes), e.g. log-
    probabilities; it is called once, on the documents and all their variants.
    """
    variants: list = [list(doc) for doc in tokens]
    owner = []
    for i, doc in enumerate(tokens):
        for position in range(len(doc)):
            variants.append(list(doc[:position]) + list(doc[position + 1 :]))
            owner.append(i)
    values = scores(variants)
    base, left_out = values[: len(tokens)], values[len(tokens) :]
    if predicted is None:
        predicted = base.argmax(axis=1)
    owner_ = np.asarray(owner, dtype=np.int64)
    drops = base[owner_, predicted[owner_]] - left_out[np.arange(len(owner_)), predicted[owner_]]
    out, start = [], 0
    for doc in tokens:
        out.append(drops[start : start + len(doc)])
        start += len(doc)
    return out
