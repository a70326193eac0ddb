"""The classifier's batches: built at once from a list of positions, as _collate builds
them from the documents' samples one by one."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Subset

from sk_slm.features.sequences import PAD, window_starts
from sk_slm.network._batches import _bucket_iterator, _collate, _SequenceDataset, _split_batch


def random_dataset(rng, kind, windows=None, longest=6):
    n = int(rng.integers(1, 12))
    lengths = rng.integers(0, longest, n)
    lengths[rng.random(n) < 0.3] = 0  # empty documents, and batches of them only
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    ids = rng.integers(2, 50, offsets[-1])
    gram_offsets = np.concatenate([[0], np.cumsum(rng.integers(0, 4, n))])
    grams = rng.integers(1, 30, gram_offsets[-1]).astype(np.int64)
    weights = rng.random(gram_offsets[-1]).astype(np.float32)
    y = rng.integers(0, 3, n)
    wide = {"none": (None, None, None), "grams": (grams, gram_offsets, None),
            "weighted": (grams, gram_offsets, weights)}[kind]
    return _SequenceDataset(ids, offsets, None if kind == "none" else y, *wide,
                            windows=windows)


def collate_windows(batch, max_len: int):
    """The reference for windows in bulk: what ``_collate`` does, sample by sample, for
    documents read whole in windows: ids (batch, windows, time), lengths (batch,
    windows), 0 for padding windows."""
    docs, ngrams, y = _split_batch(batch)
    starts = [window_starts(len(doc), max_len) for doc in docs]
    width = min(max_len, max(len(doc) for doc in docs))
    ids = torch.full((len(docs), max(map(len, starts)), width), PAD, dtype=torch.long)
    lengths = torch.zeros(ids.shape[:2], dtype=torch.long)
    for i, (doc, firsts) in enumerate(zip(docs, starts, strict=True)):
        for k, first in enumerate(firsts):
            window = doc[first : first + max_len]
            ids[i, k, : len(window)] = window
            lengths[i, k] = len(window)
    return {"ids": ids, "lengths": lengths, **ngrams}, y


def assert_same_batch(got, expected):
    """Two (inputs, labels) batches hold the same tensors, of the same dtypes."""
    (inputs, labels), (want, want_labels) = got, expected
    assert inputs.keys() == want.keys()
    for key in want:
        assert inputs[key].dtype == want[key].dtype
        assert torch.equal(inputs[key], want[key]), key
    assert torch.equal(labels, want_labels)


@pytest.mark.parametrize("kind", ["none", "grams", "weighted"])
def test_a_batch_of_positions_equals_the_collated_samples(kind):
    rng = np.random.default_rng(0)
    for _ in range(100):
        dataset = random_dataset(rng, kind)
        n = len(dataset)
        rows = list(rng.choice(n, int(rng.integers(1, n + 1)), replace=False))
        for data, positions in ((dataset, rows),
                                (Subset(dataset, list(range(n))[::-1]), rows)):
            assert_same_batch(data[positions], _collate([data[i] for i in positions]))


def test_the_iterator_builds_whole_batches_unless_given_a_collate_function():
    dataset = random_dataset(np.random.default_rng(1), "weighted")
    bulk = list(_bucket_iterator(DataLoader, dataset, 4, False, {}))
    calls = []

    def collate(samples):
        calls.append(len(samples))
        return _collate(samples)

    one_by_one = list(_bucket_iterator(DataLoader, dataset, 4, False, {"collate_fn": collate}))
    assert sum(calls) == len(dataset)  # a user's collate_fn still gets the samples
    assert len(bulk) == len(one_by_one)
    for (a, ya), (b, yb) in zip(bulk, one_by_one, strict=True):
        assert all(torch.equal(a[k], b[k]) for k in a) and torch.equal(ya, yb)


@pytest.mark.parametrize("kind", ["none", "weighted"])
@pytest.mark.parametrize("max_len", [1, 3, 4, 8])
def test_windows_in_bulk_equal_the_collated_windows(kind, max_len):
    # Documents read whole in windows (truncation="windows"): one batcher for both paths.
    rng = np.random.default_rng(max_len)
    for _ in range(60):
        dataset = random_dataset(rng, kind, windows=max_len, longest=20)
        n = len(dataset)
        rows = list(rng.choice(n, int(rng.integers(1, n + 1)), replace=False))
        assert_same_batch(dataset[rows],
                          collate_windows([dataset[i] for i in rows], max_len))
