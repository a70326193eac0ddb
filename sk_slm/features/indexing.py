"""TokenIndexer: token lists as TokenSequences over the training tokens, without vectors."""

from __future__ import annotations

from numbers import Integral
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._validation import Interval, validate_params
from .sequences import TokenSequences, check_token_lists, encode_tokens, vocabulary

__all__ = ["TokenIndexer"]


class TokenIndexer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Number the training tokens and give documents as id sequences, with no vectors.

    For a network whose embedding starts from random weights rather than Word2Vec
    vectors: ``make_pipeline(JiebaSegmenter(), TokenIndexer(), LSTMAttentionClassifier())``.
    Its output is a :class:`~sk_slm.TokenSequences` whose ``vectors`` are None; the
    :class:`~sk_slm.LSTMAttentionClassifier` then draws its embedding table
    (``module__embedding_dim`` wide) at random.

    Parameters
    ----------
    min_count : int, default=1
        Ignore tokens seen fewer times in the training documents.
    max_vocab : int or None, default=None
        Keep only the ``max_vocab`` most frequent tokens.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Token -> id, numbered from 0 by falling frequency in the training documents
        (ties in order of first appearance). Other tokens get id -1 (unknown).

    See Also
    --------
    Word2VecVectorizer : The same sequences with Word2Vec vectors to start from
        (``output="sequence"``).

    Examples
    --------
    >>> from sk_slm import TokenIndexer
    >>> seqs = TokenIndexer().fit_transform([["很", "好"], ["好", "吃"]])
    >>> seqs.vocabulary, seqs[0].tolist(), seqs.vectors is None
    (['好', '很', '吃'], [1, 0], True)
    """

    _constraints: dict = {
        "min_count": [Interval(Integral, 1, None)],
        "max_vocab": [Interval(Integral, 1, None), None],
    }

    def __init__(self, min_count: int = 1, max_vocab: int | None = None):
        self.min_count = min_count
        self.max_vocab = max_vocab

    def fit(self, X: Any, y: Any = None) -> TokenIndexer:
        """Number the tokens of the token lists ``X``."""
        validate_params(self, self._constraints)
        docs = check_token_lists(X)
        if not docs:
            raise ValueError("TokenIndexer.fit got no documents: it numbers the tokens of at "
                             "least one.")
        self.vocabulary_ = vocabulary(docs, self.min_count, self.max_vocab)
        return self

    def transform(self, X: Any) -> TokenSequences:
        """Token lists -> TokenSequences over ``vocabulary_`` (-1 for other tokens)."""
        check_is_fitted(self, "vocabulary_")
        ids, offsets = encode_tokens(check_token_lists(X), self.vocabulary_, -1)
        tokens = sorted(self.vocabulary_, key=self.vocabulary_.get)
        return TokenSequences(ids, offsets, None, tokens)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
