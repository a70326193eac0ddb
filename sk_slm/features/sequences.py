"""TokenSequences: documents as token-id sequences that share one embedding table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain, repeat
from typing import Any

import numpy as np

__all__ = ["PAD", "UNK", "TokenSequences", "check_token_lists", "encode_tokens", "padded_rows",
           "padded_slices", "take_documents", "truncate", "vocabulary", "window_starts",
           "windows_to_tokens"]

PAD, UNK = 0, 1  # reserved token ids: padding and out-of-vocabulary
_STR_TYPE = {str}


def check_token_lists(X: Any, name: str = "X") -> list:
    """Validate documents given as token lists (the output of JiebaSegmenter).

    Raises a TypeError pointing to :class:`~sk_slm.JiebaSegmenter` when the documents are
    raw strings, and a ValueError naming the row holding a token that is not a str.
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"{name} must be a list of token lists; got a single {type(X).__name__}. "
            "Segment raw text first with sk_slm.JiebaSegmenter."
        )
    if isinstance(X, TokenSequences):
        raise TypeError(f"{name} is already a TokenSequences; pass token lists instead.")
    if not isinstance(X, Iterable):
        raise TypeError(f"{name} must be a list of token lists, got {type(X).__name__}.")
    docs = list(X)
    for i, doc in enumerate(docs):
        if isinstance(doc, str):
            raise TypeError(
                f"{name}[{i}] is a raw string, but token lists are expected: put "
                "sk_slm.JiebaSegmenter() before this step, e.g. "
                "make_pipeline(JiebaSegmenter(), Word2VecVectorizer(), ...)."
            )
        if not isinstance(doc, (list, tuple, np.ndarray)):
            raise ValueError(
                f"{name}[{i}] is {type(doc).__name__}, not a list of tokens (str)."
            )
        if not set(map(type, doc)) <= _STR_TYPE:  # the per-token check, at C speed
            for tok in doc:
                if not isinstance(tok, str):
                    raise ValueError(
                        f"{name}[{i}] holds {tok!r}, which is not a str token.")
    return docs


def padded_rows(flat: np.ndarray, offsets: np.ndarray, rows: np.ndarray,
                value: Any) -> np.ndarray:
    """Documents ``rows`` of (``flat``, ``offsets``) as one (len(rows), longest) array
    padded with ``value``, at least 1 wide: the batches of the network, its training and
    its ONNX predictor alike."""
    offsets = np.asarray(offsets)
    starts = offsets[rows]
    return padded_slices(flat, starts, offsets[np.asarray(rows) + 1] - starts, value)


def padded_slices(flat: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                  value: Any) -> np.ndarray:
    """``flat[starts[i]:starts[i] + lengths[i]]`` for each i, as one (len(starts),
    longest) array padded with ``value``, at least 1 wide (windows of documents too)."""
    width = max(int(lengths.max(initial=0)), 1)
    steps = np.arange(width)
    real = steps < lengths[:, None]
    positions = np.where(real, starts[:, None] + steps, 0)
    out = flat[positions] if len(flat) else np.zeros(positions.shape, dtype=flat.dtype)
    out[~real] = value
    return out


def vocabulary(docs: Sequence[Sequence[str]], min_count: int = 1,
               max_size: int | None = None, first_id: int = 0) -> dict[str, int]:
    """Token -> id for the ``max_size`` most frequent tokens of ``docs`` seen at least
    ``min_count`` times, numbered from ``first_id`` by falling frequency (ties in order
    of first appearance)."""
    counts = Counter(chain.from_iterable(docs))
    kept = [t for t, c in counts.most_common(max_size) if c >= min_count]
    return {t: i + first_id for i, t in enumerate(kept)}


def encode_tokens(
    docs: Sequence[Sequence[str]], index: Mapping[str, int], unknown: int, dtype: Any = np.int64
) -> tuple[np.ndarray, np.ndarray]:
    """Token lists -> (flat ids, offsets), ``unknown`` for tokens not in ``index``.

    Document ``i`` is ``ids[offsets[i]:offsets[i + 1]]``. The lookups run in C
    (``map`` over ``dict.get``), not in a Python loop per token.
    """
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.fromiter(
        map(index.get, chain.from_iterable(docs), repeat(unknown)),
        dtype=dtype, count=int(offsets[-1]),
    )
    return ids, offsets


def truncate(ids, offsets, max_len, how):
    """Cut every document to ``max_len`` tokens (``how``: "head", "tail" or "head_tail");
    return (ids, offsets, kept-mask). ``max_len=None`` keeps every token."""
    lengths = np.diff(offsets)
    if max_len is None or len(lengths) == 0 or lengths.max() <= max_len:
        return ids, offsets, np.ones(len(ids), dtype=bool)
    pos = np.arange(len(ids)) - np.repeat(offsets[:-1], lengths)
    n = np.repeat(lengths, lengths)
    if how == "head":
        keep = pos < max_len
    elif how == "tail":
        keep = pos >= n - max_len
    else:
        head = (max_len + 1) // 2
        keep = (pos < head) | (pos >= n - (max_len - head))
    new_offsets = np.zeros_like(offsets)
    np.cumsum(np.minimum(lengths, max_len), out=new_offsets[1:])
    return ids[keep], new_offsets, keep


def window_starts(length: int, max_len: int) -> list[int]:
    """First positions of the windows that read a document of ``length`` tokens whole.

    One window when the document fits in ``max_len`` tokens; otherwise windows of
    ``max_len`` tokens, each starting ``max_len - max_len // 4`` after the previous one
    (a quarter of each overlaps the next, so that no token is read only at a window's
    edge), the last one ending at the document's last token.
    """
    if length <= max_len:
        return [0]
    stride = max_len - max_len // 4
    return [*range(0, length - max_len, stride), length - max_len]


def windows_to_tokens(weights: np.ndarray, length: int, max_len: int) -> np.ndarray:
    """Per-window values (windows, time) of a document of ``length`` tokens read in the
    windows of :func:`window_starts` -> one value per token, a token in two windows
    getting the sum of its two."""
    out = np.zeros(length, dtype=weights.dtype)
    for k, first in enumerate(window_starts(max(length, 1), max_len)):
        width = min(max_len, length - first)
        out[first : first + width] += weights[k, :width]
    return out


def take_documents(
    ids: np.ndarray, offsets: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The documents ``rows`` of (flat ``ids``, ``offsets``), as new (ids, offsets)."""
    rows = np.asarray(rows, dtype=np.int64)
    lengths = np.diff(offsets)[rows]
    new_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    # Position of every kept token in ids, without a Python loop per document.
    starts = np.asarray(offsets)[rows]
    positions = np.repeat(starts - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
    return ids[positions], new_offsets


class TokenSequences:
    """Token-id sequences of many documents plus the embedding table they index.

    What :class:`~sk_slm.Word2VecVectorizer` returns with ``output="sequence"`` (and
    :class:`~sk_slm.TokenIndexer`, without vectors) and what
    :class:`~sk_slm.LSTMAttentionClassifier` consumes. Memory grows with the number of
    tokens (one int32 each), not tokens x dimensions: the vectors are held once and
    shared, without copying, by every slice.

    It indexes like a 1-D array, so scikit-learn's splitters and skorch can cut it:
    ``seqs[3]`` is the id array of document 3; ``seqs[[0, 5]]``, ``seqs[2:9]`` and
    ``seqs[mask]`` are new TokenSequences.

    Parameters
    ----------
    ids : array of int, shape (n_tokens,)
        All documents' token ids, concatenated; -1 marks a token not in the vocabulary.
    offsets : array of int, shape (n_documents + 1,)
        Document ``i`` is ``ids[offsets[i]:offsets[i + 1]]``.
    vectors : array of float32, shape (n_vocabulary, dim), or None
        The embedding table to start from; None when there is none
        (:class:`~sk_slm.TokenIndexer`): the network's embedding starts random.
    vocabulary : sequence of str
        ``vocabulary[k]`` is the token of row ``k`` of ``vectors``.
    """

    def __init__(
        self,
        ids: np.ndarray,
        offsets: np.ndarray,
        vectors: np.ndarray | None,
        vocabulary: Sequence[str],
    ):
        self.ids = np.asarray(ids, dtype=np.int32)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.vectors = vectors
        self.vocabulary = vocabulary
        if self.offsets.ndim != 1 or len(self.offsets) == 0 or self.offsets[0] != 0:
            raise ValueError("offsets must be a 1-D array starting at 0.")
        if self.offsets[-1] != len(self.ids):
            raise ValueError(
                f"offsets end at {self.offsets[-1]} but there are {len(self.ids)} ids."
            )

    @property
    def shape(self) -> tuple[int]:
        return (len(self.offsets) - 1,)

    ndim = 1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Number of tokens of each document."""
        return np.diff(self.offsets)

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self.ids[self.offsets[i] : self.offsets[i + 1]]

    def __getitem__(self, key: Any) -> np.ndarray | TokenSequences:
        if isinstance(key, tuple):  # scikit-learn indexes arrays as X[key, ...]
            key = key[0]
        if isinstance(key, (int, np.integer)):
            i = range(len(self))[key]
            return self.ids[self.offsets[i] : self.offsets[i + 1]]
        ids, offsets = take_documents(self.ids, self.offsets, np.arange(len(self))[key])
        return TokenSequences(ids, offsets, self.vectors, self.vocabulary)

    def tokens(self, i: int, unknown: str = "<unk>") -> list[str]:
        """The tokens of document ``i`` (``unknown`` where the id is -1)."""
        return [self.vocabulary[k] if k >= 0 else unknown for k in self[i].tolist()]

    def __repr__(self) -> str:
        return (
            f"TokenSequences(n_documents={len(self)}, n_tokens={len(self.ids)}, "
            f"vocabulary={len(self.vocabulary)}, "
            f"dim={None if self.vectors is None else self.vectors.shape[1]})"
        )
