"""The attention weights of a fitted LSTMAttentionClassifier, token by token."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..features.sequences import windows_to_tokens
from ._batches import read_by_rnn

__all__ = ["attention_weights"]


def attention_weights(clf: Any, X: Any) -> list[np.ndarray]:
    """:meth:`LSTMAttentionClassifier.attention <sk_slm.LSTMAttentionClassifier.attention>`
    of the fitted ``clf``: one float array per document of ``X``, aligned with its tokens
    before truncation."""
    ids, offsets = clf._encode(X)
    kept = read_by_rnn(ids, offsets, clf.max_len, clf.truncation)[2]
    dataset = clf._dataset(ids, offsets)
    order = np.argsort(dataset.lengths, kind="stable")
    per_doc: list[np.ndarray] = [None] * len(dataset)  # type: ignore[list-item]
    position = 0
    clf.module_.eval()
    with torch.inference_mode():
        for batch, _ in clf.get_iterator(dataset, training=False):
            batch = {k: v.to(clf.device) for k, v in batch.items()}
            _, weights = clf.module_(**batch, return_attention=True)
            weights = weights.cpu().numpy()
            for row in range(len(weights)):
                i = order[position]
                length = dataset.lengths[i]
                per_doc[i] = (weights[row, :length] if weights.ndim == 2 else
                              windows_to_tokens(weights[row], length, clf.max_len))
                position += 1
    out = []
    for i in range(len(dataset)):
        full = np.zeros(offsets[i + 1] - offsets[i], dtype=np.float32)
        full[kept[offsets[i] : offsets[i + 1]]] = per_doc[i]
        out.append(full)
    return out
