"""Word2VecVectorizer: gensim Word2Vec embeddings as a scikit-learn transformer."""

from __future__ import annotations

import os
import time
import warnings
from collections import Counter
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._validation import Interval, Options, is_deprecated, validate_params
from ..text.segmenter import JiebaSegmenter
from .sequences import TokenSequences, check_token_lists, encode_tokens

__all__ = ["Word2VecVectorizer", "EmptyDocumentWarning", "check_token_lists", "load_vectors"]

_OUTPUTS = ("mean", "mean_max", "sequence")
_FORMATS = ("word2vec", "word2vec_binary", "glove")
_CHUNK_DOCS = 20_000  # pooled transforms work in chunks to bound temporary memory


class EmptyDocumentWarning(UserWarning):
    """Some documents had no token in the vocabulary and became zero vectors."""


def load_vectors(path: str | os.PathLike, fmt: str = "word2vec", limit: int | None = None):
    """Load pretrained vectors as gensim KeyedVectors, with errors naming the file.

    Parameters
    ----------
    path : str or path-like
        The vectors file.
    fmt : {"word2vec", "word2vec_binary", "glove"}
        word2vec text format (a "count dim" header line, then "word v1 ... vdim"), the
        binary word2vec format, or GloVe's text format (no header line).
    limit : int, default=None
        Read at most this many vectors (files are usually sorted by frequency).
    """
    from gensim.models import KeyedVectors

    path = os.fspath(path)
    if fmt not in _FORMATS:
        raise ValueError(f"pretrained_format={fmt!r} is not one of {list(_FORMATS)}.")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"pretrained vectors file not found: {path!r}")
    try:
        kv = KeyedVectors.load_word2vec_format(
            path, binary=fmt == "word2vec_binary", limit=limit, no_header=fmt == "glove"
        )
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"pretrained file {path!r} is not UTF-8 (byte {exc.start}); re-save it as UTF-8."
        ) from exc
    except Exception as exc:  # gensim raises ValueError, EOFError, IndexError...
        where = "" if fmt == "word2vec_binary" else _first_bad_line(path, fmt)
        raise ValueError(
            f"cannot read pretrained file {path!r} as {fmt!r}{where}: {exc}. "
            "Check pretrained_format (word2vec text has a 'count dim' header line; "
            "GloVe text has none)."
        ) from exc
    if len(kv) == 0:
        raise ValueError(f"pretrained file {path!r} holds no vectors.")
    return kv


def _first_bad_line(path: str, fmt: str) -> str:
    """Find the first malformed line of a text vectors file (run only after a failure)."""
    dim = None
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.rstrip("\n").rstrip().split(" ")
            if lineno == 1 and fmt == "word2vec":
                if len(parts) != 2 or not all(p.isdigit() for p in parts):
                    return f", line 1: expected a 'count dim' header, found {line[:40]!r}"
                dim = int(parts[1])
                continue
            try:
                [float(x) for x in parts[1:]]
            except ValueError:
                return f", line {lineno}: a value is not a number"
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                return f", line {lineno}: expected {dim} values, found {len(parts) - 1}"
    return ""


def _known_per_doc(ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Number of in-vocabulary tokens of each document."""
    n_docs = len(offsets) - 1
    doc = np.repeat(np.arange(n_docs), np.diff(offsets))
    return np.bincount(doc[ids >= 0], minlength=n_docs)


def _max_pool(vectors: np.ndarray, ids: np.ndarray, doc: np.ndarray, n_docs: int) -> np.ndarray:
    """Per-document max of ``vectors[ids]`` (tokens grouped by ``doc``), zeros for empty docs.

    Documents are sorted by length, longest first, so that the documents that still have
    a j-th token are a prefix of that order: one vectorised ``np.maximum`` per token
    position updates them all, without padding and with a Python loop only over
    positions (the length of the longest document).
    """
    dim = vectors.shape[1]
    out = np.zeros((n_docs, dim), dtype=np.float32)
    counts = np.bincount(doc, minlength=n_docs)
    first = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(counts, out=first[1:])
    order = np.argsort(-counts, kind="stable")
    sorted_counts = counts[order]
    if not len(ids):
        return out
    base = first[order]
    # active[j]: how many documents have more than j tokens.
    active = np.searchsorted(-sorted_counts, -np.arange(sorted_counts[0]), side="left")
    acc = vectors[ids[base[: active[0]]]]
    for j in range(1, len(active)):
        n = active[j]
        np.maximum(acc[:n], vectors[ids[base[:n] + j]], out=acc[:n])
    out[order[: active[0]]] = acc
    return out


def _read_corpus_file(path: str, segmenter: JiebaSegmenter) -> list[list[str]]:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            lines = [line.strip() for line in fh]
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"corpus file {path!r} is not UTF-8 (byte {exc.start}); re-save it as UTF-8."
        ) from exc
    return segmenter.transform([line for line in lines if line])


class Word2VecVectorizer(TransformerMixin, BaseEstimator):
    """Embed token lists with gensim Word2Vec, pooled per document or as id sequences.

    Parameters
    ----------
    output : {"mean", "mean_max", "sequence"}, default="mean"
        What ``transform`` returns. "mean" gives a float32 array of shape
        (n_documents, dim), each document's mean vector; "mean_max" the mean beside the
        element-wise maximum, (n_documents, 2 * dim). "sequence" gives a
        :class:`~sk_slm.TokenSequences` of token ids plus the embedding table, for
        :class:`~sk_slm.LSTMAttentionClassifier`.
    vector_size : int, default=100
        Embedding dimension (ignored with ``pretrained``: the file decides).
    window : int, default=5
        Context window of Word2Vec.
    min_count : int, default=2
        Ignore tokens seen fewer times in the training text.
    sg : {0, 1}, default=1
        1 for skip-gram (better on small corpora), 0 for CBOW.
    negative : int, default=5
        Negative samples.
    sample : float, default=1e-3
        Down-sampling threshold of frequent tokens.
    epochs : int, default=10
        Passes over the training text.
    workers : int, default=1
        Training threads. With ``workers=1`` and a fixed ``random_state`` training is
        bit-for-bit reproducible, across processes too; more workers train faster but
        the thread scheduling makes every run slightly different.
    random_state : int, RandomState instance or None, default=None
        Seed of the vector initialisation and negative sampling.
    pretrained : str or path-like, default=None
        Load these vectors instead of training.
    pretrained_format : {"word2vec", "word2vec_binary", "glove"}, default="word2vec"
        Format of ``pretrained``.
    pretrained_limit : int, default=None
        Read at most this many pretrained vectors.
    limit : int, default="deprecated"
        Deprecated: the former name of ``pretrained_limit``, removed in the next release.
    missing_tokens : {"add", "unknown"}, default="add"
        With ``pretrained`` and ``output="sequence"``: what becomes of the fit
        documents' tokens the vectors lack. "add" gives each one seen at least
        ``min_count`` times a zero vector of its own, which the classifier fine-tunes
        (unless ``module__freeze_embeddings``) and whose n-grams its linear part keeps apart;
        "unknown" reads them all as the one unknown token ("add" matters most for word
        vectors, which miss more of a corpus's tokens than character vectors do; see
        ``benchmarks/results/unlabeled_text/``). Pooled outputs and trained vectors are
        unaffected.
    corpus : iterable of token lists, iterable of str, or str path, default=None
        Extra unlabeled text for Word2Vec training (not with ``pretrained``). Raw
        documents, or a path read as UTF-8 with one document per line, are segmented by
        ``segmenter``.
    segmenter : JiebaSegmenter, default=None
        Segments a raw-text ``corpus``; give the pipeline's own segmenter (settings
        alike), as :func:`~sk_slm.make_lstm_pipeline` does. None: ``JiebaSegmenter()``.
    verbose : int, default=0
        1 prints a line when Word2Vec training starts and one when it ends (how many
        documents and tokens, the time it took); 0 is silent.

    Attributes
    ----------
    wv_ : gensim.models.KeyedVectors
        The trained or loaded vectors (the full Word2Vec model is not kept).
    n_added_tokens_ : int
        Tokens added to ``wv_`` by ``missing_tokens="add"`` (0 otherwise).
    n_empty_docs_ : int
        Fit documents with no token in the vocabulary.
    n_features_out_ : int
        Width of the pooled output.

    Examples
    --------
    >>> from sk_slm import JiebaSegmenter, Word2VecVectorizer
    >>> docs = JiebaSegmenter().fit_transform(["我爱北京", "北京很大", "我爱你"] * 5)
    >>> vec = Word2VecVectorizer(vector_size=8, min_count=1, random_state=0)
    >>> vec.fit_transform(docs).shape
    (15, 8)
    """

    _constraints: dict = {
        "output": [Options(*_OUTPUTS)],
        "vector_size": [Interval(Integral, 1, None)],
        "window": [Interval(Integral, 1, None)],
        "min_count": [Interval(Integral, 1, None)],
        "sg": [Options(0, 1)],
        "negative": [Interval(Integral, 0, None)],
        "sample": [Interval(Real, 0, None)],
        "epochs": [Interval(Integral, 1, None)],
        "workers": [Interval(Integral, 1, None)],
        "pretrained_format": [Options(*_FORMATS)],
        "pretrained_limit": [Interval(Integral, 1, None), None],
        "limit": [Interval(Integral, 1, None), None, Options("deprecated")],
        "segmenter": [JiebaSegmenter, None],
        "missing_tokens": [Options("add", "unknown")],
        "verbose": [Interval(Integral, 0, None), "boolean"],
    }

    def __init__(
        self,
        output: str = "mean",
        vector_size: int = 100,
        window: int = 5,
        min_count: int = 2,
        sg: int = 1,
        negative: int = 5,
        sample: float = 1e-3,
        epochs: int = 10,
        workers: int = 1,
        random_state: Any = None,
        pretrained: str | os.PathLike | None = None,
        pretrained_format: str = "word2vec",
        pretrained_limit: int | None = None,
        corpus: Any = None,
        segmenter: JiebaSegmenter | None = None,
        missing_tokens: str = "add",
        verbose: int = 0,
        limit: Any = "deprecated",
    ):
        self.output = output
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.sg = sg
        self.negative = negative
        self.sample = sample
        self.epochs = epochs
        self.workers = workers
        self.random_state = random_state
        self.pretrained = pretrained
        self.pretrained_format = pretrained_format
        self.pretrained_limit = pretrained_limit
        self.corpus = corpus
        self.segmenter = segmenter
        self.missing_tokens = missing_tokens
        self.verbose = verbose
        self.limit = limit

    def _check_params(self) -> None:
        validate_params(self, self._constraints)
        if self.pretrained is not None and self.corpus is not None:
            # Silently ignoring the corpus would hide that nothing was trained on it.
            raise ValueError(
                "corpus is text to train Word2Vec on, but pretrained vectors are loaded "
                "instead of training: give one of corpus and pretrained."
            )

    def _pretrained_limit(self) -> int | None:
        if is_deprecated(self.limit):
            return self.pretrained_limit
        warnings.warn("Word2VecVectorizer's limit was renamed pretrained_limit; limit is "
                      "deprecated and goes in the next release.", FutureWarning, stacklevel=4)
        return self.limit

    def _corpus_sentences(self) -> list:
        corpus = self.corpus
        if corpus is None:
            return []
        segmenter = JiebaSegmenter() if self.segmenter is None else self.segmenter
        if isinstance(corpus, (str, os.PathLike)):
            path = os.fspath(corpus)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"corpus: no such file {path!r}.")
            return _read_corpus_file(path, segmenter)
        corpus = list(corpus)
        if corpus and all(isinstance(doc, str) for doc in corpus):
            return segmenter.transform(corpus)  # raw documents: segmented like X
        return check_token_lists(corpus, name="corpus")

    def fit(self, X: Any, y: Any = None) -> Word2VecVectorizer:
        """Train Word2Vec on the token lists (plus ``corpus``), or load ``pretrained``.

        Parameters
        ----------
        X : list of list of str
            Token lists, as produced by :class:`~sk_slm.JiebaSegmenter`.
        y : None
            Ignored.

        Returns
        -------
        self : Word2VecVectorizer
        """
        self._fit(X)
        return self

    def _fit(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Fit; returns X encoded (ids, offsets), so that ``fit_transform`` does not
        encode X a second time."""
        self._check_params()
        docs = check_token_lists(X)
        self.n_added_tokens_ = 0
        if self.pretrained is not None:
            self.wv_ = load_vectors(self.pretrained, self.pretrained_format,
                                    self._pretrained_limit())
            if self.output == "sequence" and self.missing_tokens == "add":
                self._add_missing_tokens(docs)
        else:
            self.wv_ = self._train(docs + self._corpus_sentences())
        vectors = self.wv_.vectors
        if vectors.dtype != np.float32:
            self.wv_.vectors = vectors.astype(np.float32)
        ids, offsets = self._encode(docs)
        self._fit_weights(ids, offsets)
        return ids, offsets

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray | TokenSequences:
        """Fit, then transform ``X`` (encoded once).

        Parameters
        ----------
        X : list of list of str
            Token lists.
        y : None
            Ignored.

        Returns
        -------
        ndarray of float32, shape (n_documents, n_features_out), or TokenSequences
        """
        ids, offsets = self._fit(X)
        return self._output(ids, offsets)

    def _add_missing_tokens(self, docs: list) -> None:
        """Give the fit documents' tokens that the pretrained vectors lack (seen at least
        ``min_count`` times) zero vectors of their own: the classifier fine-tunes them,
        and its n-gram part tells them apart instead of reading one unknown token."""
        known = self.wv_.key_to_index
        counts = Counter(token for doc in docs for token in doc if token not in known)
        missing = [token for token, n in counts.items() if n >= self.min_count]
        if missing:
            self.wv_.add_vectors(missing, np.zeros((len(missing), self.wv_.vector_size),
                                                   dtype=np.float32))
        self.n_added_tokens_ = len(missing)

    def _train(self, sentences: list) -> Any:
        from gensim.models import Word2Vec

        if not any(sentences):
            raise ValueError(
                "Word2Vec has nothing to train on: every document (and the corpus) is empty."
            )
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        model = Word2Vec(
            vector_size=self.vector_size, window=self.window, min_count=self.min_count,
            sg=self.sg, negative=self.negative, sample=self.sample, epochs=self.epochs,
            workers=self.workers, seed=int(seed),
        )
        model.build_vocab(sentences)
        if len(model.wv) == 0:
            raise ValueError(
                f"every token appears fewer than min_count={self.min_count} times; "
                "lower min_count or give more text (corpus=)."
            )
        if self.verbose:
            print(f"Word2Vec: training {self.vector_size}-dimensional vectors of "
                  f"{len(model.wv):,} tokens on {len(sentences):,} documents, "
                  f"{self.epochs} epochs", flush=True)
        start = time.perf_counter()
        model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
        if self.verbose:
            print(f"Word2Vec: done in {time.perf_counter() - start:.1f} s", flush=True)
        return model.wv

    def _fit_weights(self, ids: np.ndarray, offsets: np.ndarray) -> None:
        dim = self.wv_.vector_size
        self.n_features_out_ = 2 * dim if self.output == "mean_max" else dim
        self.n_empty_docs_ = int(np.sum(_known_per_doc(ids, offsets) == 0))

    def _encode(self, docs: list) -> tuple[np.ndarray, np.ndarray]:
        """Token lists -> (flat int32 ids with -1 for unknown tokens, offsets)."""
        return encode_tokens(docs, self.wv_.key_to_index, -1, dtype=np.int32)

    def _pool(self, ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """The mean of each document's known vectors (then their maximum, for
        "mean_max"), in chunks of documents."""
        vectors = self.wv_.vectors
        n_docs, dim = len(offsets) - 1, vectors.shape[1]
        mean_max = self.output == "mean_max"
        out = np.zeros((n_docs, 2 * dim if mean_max else dim), dtype=np.float32)
        for start in range(0, n_docs, _CHUNK_DOCS):
            stop = min(start + _CHUNK_DOCS, n_docs)
            lo, hi = offsets[start], offsets[stop]
            chunk_ids = ids[lo:hi]
            doc = np.repeat(np.arange(stop - start), np.diff(offsets[start : stop + 1]))
            known = chunk_ids >= 0
            chunk_ids, doc = chunk_ids[known], doc[known]
            n_known = np.bincount(doc, minlength=stop - start).astype(np.float32)
            has = n_known > 0
            m = sp.csr_matrix((np.ones(len(chunk_ids), dtype=np.float32), (doc, chunk_ids)),
                              shape=(stop - start, len(vectors)))
            sums = np.asarray(m @ vectors, dtype=np.float32)
            sums[has] /= n_known[has, None]
            out[start:stop, :dim] = sums
            if mean_max and has.any():
                out[start:stop, dim:] = _max_pool(vectors, chunk_ids, doc, stop - start)
        return out

    def transform(self, X: Any) -> np.ndarray | TokenSequences:
        """Embed the documents.

        Parameters
        ----------
        X : list of list of str
            Token lists.

        Returns
        -------
        ndarray of float32, shape (n_documents, n_features_out), or TokenSequences
            Pooled vectors, or id sequences with ``output="sequence"``. A document
            with no known token becomes a zero vector (an EmptyDocumentWarning says
            how many); it is never dropped.
        """
        check_is_fitted(self, "wv_")
        return self._output(*self._encode(check_token_lists(X)))

    def _output(self, ids: np.ndarray, offsets: np.ndarray) -> np.ndarray | TokenSequences:
        """Encoded documents -> what ``transform`` returns."""
        if self.output == "sequence":
            return TokenSequences(ids, offsets, self.wv_.vectors, self.wv_.index_to_key)
        out = self._pool(ids, offsets)
        empty = _known_per_doc(ids, offsets) == 0
        if empty.any():
            first = np.flatnonzero(empty)[:5].tolist()
            warnings.warn(
                f"{int(empty.sum())} of {len(offsets) - 1} documents have no token in the "
                f"vocabulary and became zero vectors (rows {first}...).",
                EmptyDocumentWarning,
                stacklevel=4,  # the caller of transform / fit_transform, past set_output's wrapper
            )
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the pooled output columns, e.g. ``w2v_mean0``."""
        check_is_fitted(self, "wv_")
        if self.output == "sequence":
            raise AttributeError("output='sequence' returns id sequences, not named features.")
        dim = self.wv_.vector_size
        if self.output == "mean_max":
            names = [f"w2v_mean{i}" for i in range(dim)] + [f"w2v_max{i}" for i in range(dim)]
        else:
            names = [f"w2v_{self.output}{i}" for i in range(dim)]
        return np.asarray(names, dtype=object)

    def most_similar(self, token: str, topn: int = 5) -> list[tuple[str, float]]:
        """Nearest neighbours of ``token`` by cosine similarity (a sanity check)."""
        check_is_fitted(self, "wv_")
        return self.wv_.most_similar(token, topn=topn)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = self.workers > 1 if isinstance(self.workers, int) else True
        return tags

