"""The classifier's data: documents as a torch Dataset, length-bucketed batches, truncation,
the part held out for early stopping."""

from __future__ import annotations

import numpy as np
import torch
from scipy import sparse
from skorch.dataset import ValidSplit
from torch.utils.data import Dataset, Subset

from ..features.sequences import PAD, UNK, padded_rows, padded_slices, truncate, window_starts


class _SequenceDataset(Dataset):
    """Documents as flat int64 ids + offsets (and optional n-gram rows and weights).

    Indexed by one position, it gives one document's sample (for ``_collate``); by a
    list of positions, the padded batch ``_collate`` would make of their samples, built
    at once (torch's bulk loading: see ``_bucket_iterator``).
    """

    def __init__(self, ids, offsets, y=None, ngrams=None, ngram_offsets=None,
                 ngram_weights=None, windows=None):
        self.windows = windows  # max_len when documents are read whole, in windows
        self.ids = torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64))
        self.offsets = offsets
        self.lengths = np.diff(offsets)
        self.y = None if y is None else torch.as_tensor(y, dtype=torch.long)
        self.ngrams = None if ngrams is None else torch.from_numpy(ngrams)
        self.ngram_offsets = ngram_offsets
        self.ngram_weights = None if ngram_weights is None else torch.from_numpy(ngram_weights)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i):
        if isinstance(i, (list, np.ndarray)):
            return self._batch(np.asarray(i, dtype=np.int64))
        item = self.ids[self.offsets[i] : self.offsets[i + 1]]
        grams = weights = None
        if self.ngrams is not None:
            lo, hi = self.ngram_offsets[i], self.ngram_offsets[i + 1]
            grams = self.ngrams[lo:hi]
            if self.ngram_weights is not None:
                weights = self.ngram_weights[lo:hi]
        return (item, grams, weights), (self.y[i] if self.y is not None else 0)

    def _batch(self, rows: np.ndarray):
        """The batch of documents ``rows``, as ``_collate`` makes it of their samples."""
        lengths = self.lengths[rows]
        if self.windows:
            X = self._windows(rows)
        else:
            ids = _padded_rows(self.ids, self.offsets, rows, PAD)
            ids[lengths == 0, 0] = UNK  # an empty document is read as one UNK
            X = {"ids": ids, "lengths": torch.from_numpy(np.maximum(lengths, 1))}
        if self.ngrams is not None:
            X["ngrams"] = _padded_rows(self.ngrams, self.ngram_offsets, rows, PAD)
            if self.ngram_weights is not None:
                X["ngram_weights"] = _padded_rows(self.ngram_weights, self.ngram_offsets,
                                                  rows, 0.0)
        y = (self.y[torch.from_numpy(rows)] if self.y is not None
             else torch.zeros(len(rows), dtype=torch.long))
        return X, y


    def _windows(self, rows: np.ndarray) -> dict:
        """ids (batch, windows, time) and lengths (batch, windows) of the documents
        ``rows`` read whole in windows (``truncation="windows"``), 0 for the padding
        windows of documents with fewer windows than the batch's longest."""
        max_len, lengths = self.windows, self.lengths[rows]
        read = np.maximum(lengths, 1)  # an empty document is read as one UNK
        firsts = [window_starts(int(n), max_len) for n in read]
        doc = np.repeat(np.arange(len(rows)), [len(f) for f in firsts])
        first = np.concatenate(firsts).astype(np.int64)
        slot = np.concatenate([np.arange(len(f)) for f in firsts])
        size = np.minimum(read[doc] - first, max_len)
        real = np.minimum(np.maximum(lengths[doc] - first, 0), max_len)  # 0 for an empty one
        flat = padded_slices(self.ids.numpy(), np.asarray(self.offsets)[rows][doc] + first,
                             real, PAD)
        flat[(real == 0) & (size == 1), 0] = UNK
        width = min(max_len, int(read.max()))
        ids = np.full((len(rows), slot.max() + 1, width), PAD, dtype=np.int64)
        ids[doc, slot, :flat.shape[1]] = flat[:, :width]
        out_lengths = np.zeros(ids.shape[:2], dtype=np.int64)
        out_lengths[doc, slot] = size
        return {"ids": torch.from_numpy(ids), "lengths": torch.from_numpy(out_lengths)}


def _padded_rows(flat: torch.Tensor, offsets: np.ndarray, rows: np.ndarray, value):
    """:func:`~sk_slm.features.sequences.padded_rows` of a tensor, as a tensor."""
    return torch.from_numpy(padded_rows(flat.numpy(), offsets, rows, value))


_EMPTY_DOCUMENT = torch.tensor([UNK], dtype=torch.long)  # an empty document is read as one UNK


def _pad(rows, value):
    """Rows of different lengths as one (len(rows), longest) tensor; at least 1 wide."""
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    return _padded_rows(torch.cat(rows), offsets, np.arange(len(rows)), value)


def _split_batch(batch):
    """(token-id rows, empty ones read as one UNK; the n-gram inputs, padded; labels)."""
    xs, ys = zip(*batch, strict=True)
    seqs = [x[0] if len(x[0]) else _EMPTY_DOCUMENT for x in xs]
    ngrams = {}
    if xs[0][1] is not None:
        ngrams["ngrams"] = _pad([x[1] for x in xs], PAD)
        if xs[0][2] is not None:
            ngrams["ngram_weights"] = _pad([x[2] for x in xs], 0.0)
    return seqs, ngrams, torch.as_tensor(ys, dtype=torch.long)


def _collate(batch):
    seqs, ngrams, y = _split_batch(batch)
    X = {"ids": _pad(seqs, PAD),
         "lengths": torch.tensor([len(s) for s in seqs], dtype=torch.long)}
    return {**X, **ngrams}, y


def _dataset_lengths(dataset: Dataset) -> np.ndarray:
    if isinstance(dataset, Subset):
        return _dataset_lengths(dataset.dataset)[np.asarray(dataset.indices)]
    return dataset.lengths


class _BucketBatchSampler:
    """Batches of similar length: shuffle, sort within pools of 50 batches, shuffle batches.

    Without shuffling (prediction, validation) documents are simply taken in length
    order, which wastes the least padding.
    """

    def __init__(self, lengths: np.ndarray, batch_size: int, shuffle: bool, pool: int = 50):
        self.lengths = lengths
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pool = pool

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self):
        n, bs = len(self.lengths), self.batch_size
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            yield from (order[i : i + bs].tolist() for i in range(0, n, bs))
            return
        # Drawn from torch's RNG so that the estimator's random_state governs it.
        perm = torch.randperm(n).numpy()
        pool = bs * self.pool
        batches = []
        for start in range(0, n, pool):
            chunk = perm[start : start + pool]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[i : i + bs].tolist() for i in range(0, len(chunk), bs)]
        for k in torch.randperm(len(batches)).tolist():
            yield batches[k]


def _bucket_iterator(iterator, dataset, batch_size: int, training: bool, kwargs: dict):
    """``iterator`` (a DataLoader class) over length buckets of ``dataset``, padded as by
    ``_collate``; ``kwargs`` may override the collate function and generator."""
    sampler = _BucketBatchSampler(_dataset_lengths(dataset), batch_size, shuffle=training)
    # DataLoader draws a base seed per iteration; an own generator keeps that draw
    # off the caller's global torch RNG (prediction runs outside the forked RNG).
    kwargs.setdefault("generator", torch.Generator())
    base = _base_dataset(dataset)
    if "collate_fn" not in kwargs and isinstance(base, _SequenceDataset):
        # torch's bulk loading (automatic batching off: batch_size=None): each item the
        # sampler yields is a whole batch's positions, which the dataset pads at once.
        return iterator(dataset, sampler=sampler, batch_size=None, **kwargs)
    kwargs.setdefault("collate_fn", _collate)
    return iterator(dataset, batch_sampler=sampler, **kwargs)


def _base_dataset(dataset: Dataset) -> Dataset:
    return _base_dataset(dataset.dataset) if isinstance(dataset, Subset) else dataset


def _tfidf_matrix(dataset: _SequenceDataset, n_columns: int) -> sparse.csr_matrix:
    """The linear part's input as a sparse (documents, n-gram rows) TF-IDF matrix."""
    return sparse.csr_matrix(
        (dataset.ngram_weights.numpy(), dataset.ngrams.numpy(), dataset.ngram_offsets),
        shape=(len(dataset), n_columns),
    )


def read_by_rnn(ids: np.ndarray, offsets: np.ndarray, max_len: int | None,
                truncation: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, offsets, kept-mask) of what the RNN reads of the documents: every token with
    ``truncation="windows"``, else each cut to ``max_len``."""
    if truncation == "windows" and max_len is not None:
        return ids, offsets, np.ones(len(ids), dtype=bool)
    return truncate(ids, offsets, max_len, truncation)


def sequence_dataset(ids: np.ndarray, offsets: np.ndarray, y=None, *, max_len: int | None,
                     truncation: str, ngrams=None, fit: bool = False) -> _SequenceDataset:
    """The classifier's dataset of documents given as flat ids and offsets: what the RNN
    reads (:func:`read_by_rnn`) and, with ``ngrams`` (an ``NGramTfidf``, fitted here when
    ``fit``), the TF-IDF of the whole document's n-grams: the n-gram part is cheap and
    reads the whole document, as the TF-IDF baselines do."""
    rnn_ids, rnn_offsets, _ = read_by_rnn(ids, offsets, max_len, truncation)
    windows = max_len if truncation == "windows" else None
    if ngrams is None:
        return _SequenceDataset(rnn_ids, rnn_offsets, y, windows=windows)
    features = ngrams.fit_transform(ids, offsets) if fit else ngrams.transform(ids, offsets)
    # Row 0 of the n-gram table is padding: feature j is row j + 1.
    return _SequenceDataset(rnn_ids, rnn_offsets, y, features.indices.astype(np.int64) + 1,
                            features.indptr.astype(np.int64), features.data,
                            windows=windows)


def in_input_order(outputs: torch.Tensor, dataset: Dataset) -> torch.Tensor:
    """Rows of ``outputs``, computed in length order (as the unshuffled iterator visits
    ``dataset``'s documents), back in the documents' order."""
    result = torch.empty_like(outputs)
    result[torch.as_tensor(np.argsort(_dataset_lengths(dataset), kind="stable"))] = outputs
    return result


def held_out_split(dataset: Dataset, y: np.ndarray, fraction: float, seed: int, **fit_params):
    """(train, held-out) parts of ``dataset`` for early stopping: skorch's stratified
    ``ValidSplit``, seeded, so the same documents each time it is asked."""
    try:
        return ValidSplit(fraction, stratified=True, random_state=seed)(dataset, y, **fit_params)
    except ValueError as error:  # scikit-learn's splitter on too few documents
        raise ValueError(
            f"{len(y)} documents are too few for early stopping to hold out "
            f"validation_fraction={fraction} of them, stratified, at least one per class "
            f"({error}). Pass more documents, or early_stopping=False.") from None
