"""NGramTfidfVectorizer: TF-IDF of the token n-grams of segmented documents, vectorised."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._validation import validate_params
from ._ngram_tfidf import NGramTfidf
from .sequences import check_token_lists, encode_tokens

__all__ = ["NGramTfidfVectorizer"]


class _NGramRange:
    """The constraint on ``ngram_range``: (min_n, max_n), ints, 1 <= min_n <= max_n."""

    def accepts(self, value: Any) -> bool:
        return (isinstance(value, (tuple, list)) and len(value) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
                and 1 <= value[0] <= value[1])

    def __str__(self) -> str:
        return "a tuple (min_n, max_n) of ints with 1 <= min_n <= max_n"


class NGramTfidfVectorizer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """TF-IDF of the token n-grams of segmented documents.

    The features of scikit-learn's
    ``TfidfVectorizer(analyzer=<token n-grams>, ngram_range=ngram_range,
    sublinear_tf=True)`` on token lists (sublinear TF, smoothed IDF, rows L2-normalised),
    with the n-grams found by array operations over all documents at once rather than
    string joins and a dictionary lookup per n-gram, which dominate the prediction time
    of a pipeline that uses ``TfidfVectorizer`` on short documents. The weighting is
    scikit-learn's :class:`~sklearn.feature_extraction.text.TfidfTransformer`.

    Parameters
    ----------
    ngram_range : tuple (min_n, max_n), default=(1, 3)
        The lengths of the n-grams to count, both ends included.

    Attributes
    ----------
    vocabulary_ : dict
        Token -> token id, for the tokens of the training documents.
    ngram_codes_ : ndarray of int64
        The n-grams seen in ``fit``, sorted; column ``j`` of the output is the n-gram
        whose code is ``ngram_codes_[j]`` (its token ids + 1 as digits in base
        ``len(vocabulary_) + 2``; :meth:`get_feature_names_out` spells them out).
    idf_ : ndarray of float64
        The inverse document frequency of each column.

    See Also
    --------
    sklearn.feature_extraction.text.TfidfVectorizer : The same features from strings,
        any analyzer.
    JiebaSegmenter : Makes the token lists this vectorizer reads.

    Examples
    --------
    >>> from sk_slm import JiebaSegmenter, NGramTfidfVectorizer
    >>> tokens = JiebaSegmenter().fit_transform(["味道很好", "味道不好", "送餐很快"])
    >>> vec = NGramTfidfVectorizer(ngram_range=(1, 2)).fit(tokens)
    >>> tokens
    [['味道', '很', '好'], ['味道不好'], ['送餐', '很快']]
    >>> vec.transform(tokens).shape
    (3, 9)
    >>> vec.get_feature_names_out()[6:].tolist()
    ['味道 很', '很 好', '送餐 很快']
    """

    _constraints: dict = {"ngram_range": [_NGramRange()]}

    def __init__(self, ngram_range: tuple[int, int] = (1, 3)):
        self.ngram_range = ngram_range

    def _ngrams(self, fitted: bool = False) -> NGramTfidf:
        """The n-gram TF-IDF over this vocabulary: unfitted, or ``fitted`` from
        ``ngram_codes_`` and ``idf_``."""
        # Token ids 0..len - 1, len for "unseen": base len + 2 in the n-gram codes.
        size = (self.ngram_range[1], len(self.vocabulary_) + 1)
        settings = {"low": self.ngram_range[0], "dtype": np.float64, "name": "ngram_range"}
        if fitted:
            return NGramTfidf.fitted(*size, self.ngram_codes_, self.idf_, **settings)
        return NGramTfidf(*size, **settings)

    def _ids(self, docs: list) -> tuple[np.ndarray, np.ndarray]:
        return encode_tokens(docs, self.vocabulary_, len(self.vocabulary_))

    def fit(self, X: Any, y: Any = None) -> NGramTfidfVectorizer:
        """Learn the n-grams of the token lists ``X`` and their IDF."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Any, y: Any = None):
        """Learn the n-grams and IDF, and return the TF-IDF matrix of ``X``."""
        validate_params(self, self._constraints)
        docs = check_token_lists(X)
        self.vocabulary_ = {}
        for doc in docs:
            for token in doc:
                self.vocabulary_.setdefault(token, len(self.vocabulary_))
        ngrams = self._ngrams()
        out = ngrams.fit_transform(*self._ids(docs))
        self.ngram_codes_ = ngrams.vocabulary_
        self.idf_ = ngrams.tfidf_.idf_
        return out

    def transform(self, X: Any):
        """TF-IDF of the n-grams of ``X`` seen in ``fit`` (a row of zeros for none).

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_documents, n_ngrams)
        """
        check_is_fitted(self, "idf_")
        docs = check_token_lists(X)
        return self._ngrams(fitted=True).transform(*self._ids(docs))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The n-gram of each column, its tokens joined by spaces (as TfidfVectorizer)."""
        check_is_fitted(self, "idf_")
        tokens = np.empty(len(self.vocabulary_), dtype=object)
        for token, i in self.vocabulary_.items():
            tokens[i] = token
        base = len(self.vocabulary_) + 2
        names = []
        for code in self.ngram_codes_.tolist():
            parts = []
            while code:
                code, digit = divmod(code, base)
                parts.append(tokens[digit - 1])
            names.append(" ".join(reversed(parts)))
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
