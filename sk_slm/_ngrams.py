"""The linear part's features: token 1..n-grams of flat id documents and their TF-IDF.

Documents are flat int64 token ids with offsets (document ``i`` is
``ids[offsets[i]:offsets[i + 1]]``), as in :mod:`sk_slm.sequences`; everything here is
vectorised over all documents at once.
"""

from __future__ import annotations

import numpy as np

_HASH_PRIME = 1_000_003


def _owners(offsets: np.ndarray) -> np.ndarray:
    """The document of each flat item, given the documents' offsets."""
    return np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))


def _offsets_of(owner: np.ndarray, n_docs: int) -> np.ndarray:
    """Offsets of flat items grouped by their (sorted) document numbers ``owner``."""
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n_docs), out=offsets[1:])
    return offsets


def _ngram_hashes(
    ids: np.ndarray, offsets: np.ndarray, n: int, buckets: int | None, base: int = 0
):
    """1..n-grams of token ids within each document -> (flat codes, offsets).

    With ``buckets`` the codes are hashes in [1, buckets) (0 is padding). With None
    they are exact: the n-gram's ids + 1 as digits in ``base`` (> every id + 1), so
    that n-grams of different lengths never share a code; the caller makes sure that
    ``base ** n`` fits in int64.
    """
    n_docs = len(offsets) - 1
    doc = _owners(offsets)
    hashes, owners = [], []
    for k in range(1, n + 1):
        m = len(ids) - k + 1
        if m <= 0:
            break
        valid = doc[k - 1 :] == doc[:m]  # the k tokens lie in one document
        if buckets is None:
            h = np.zeros(m, dtype=np.int64)
            for j in range(k):
                h = h * base + ids[j : j + m] + 1
            hashes.append(h[valid])
        else:
            h = np.full(m, k, dtype=np.int64)
            for j in range(k):
                h = (h * _HASH_PRIME + ids[j : j + m]) % buckets
            hashes.append(1 + h[valid] % (buckets - 1))  # bucket 0 (PAD) is padding
        owners.append(doc[:m][valid])
    if not hashes:
        return np.zeros(0, np.int64), np.zeros(n_docs + 1, np.int64)
    flat, owner = np.concatenate(hashes), np.concatenate(owners)
    order = np.argsort(owner, kind="stable")
    return flat[order], _offsets_of(owner, n_docs)


def _select(codes: np.ndarray, offsets: np.ndarray, keep: np.ndarray):
    """Keep ``codes[keep]``, with offsets recomputed per document."""
    return codes[keep], _offsets_of(_owners(offsets)[keep], len(offsets) - 1)


def _count_per_document(rows: np.ndarray, offsets: np.ndarray, size: int):
    """Distinct rows (< ``size``) of each document and how often each occurs there
    -> (owner, rows, counts), grouped by document."""
    keys, counts = np.unique(_owners(offsets) * size + rows, return_counts=True)
    return keys // size, keys % size, counts


def _smooth_idf(rows: np.ndarray, n_docs: int, size: int) -> np.ndarray:
    """scikit-learn's smoothed IDF of each row, given every document's distinct rows."""
    df = np.bincount(rows, minlength=size)
    return (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)


def _ngram_tfidf(owner: np.ndarray, rows: np.ndarray, counts: np.ndarray, idf: np.ndarray,
                 n_docs: int):
    """Distinct rows per document with their counts -> (rows, L2-normalised sublinear
    TF-IDF weights, offsets), the features of ``TfidfVectorizer(sublinear_tf=True)``."""
    weights = ((1.0 + np.log(counts)) * idf[rows]).astype(np.float32)
    norms = np.sqrt(np.bincount(owner, weights=weights.astype(np.float64) ** 2, minlength=n_docs))
    weights /= np.maximum(norms, 1e-12)[owner].astype(np.float32)
    return rows, weights, _offsets_of(owner, n_docs)
