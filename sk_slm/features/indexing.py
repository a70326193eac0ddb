"""TokenIndexer: token lists as TokenSequences over the training tokens (or a fixed
vocabulary, a language model's), without vectors."""

from __future__ import annotations

import os
from numbers import Integral
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._validation import Interval, validate_params
from .sequences import UNK, TokenSequences, check_token_lists, encode_tokens, vocabulary

__all__ = ["TokenIndexer"]


class TokenIndexer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Number the training tokens and give documents as id sequences, with no vectors.

    For a network whose embedding starts from random weights rather than Word2Vec
    vectors: ``make_pipeline(JiebaSegmenter(), TokenIndexer(), LSTMAttentionClassifier())``;
    and, numbering characters as a pre-trained language model does, for its fine-tuning:
    ``make_pipeline(JiebaSegmenter(granularity="char"), TokenIndexer(vocabulary="bundled"),
    LSTMAttentionClassifier(language_model="bundled"))``.
    Its output is a :class:`~sk_slm.TokenSequences` whose ``vectors`` are None; the
    :class:`~sk_slm.LSTMAttentionClassifier` then draws its embedding table
    (``module__embedding_dim`` wide) at random, or takes the language model's.

    Parameters
    ----------
    min_count : int, default=1
        Ignore tokens seen fewer times in the training documents.
    max_vocab : int or None, default=None
        Keep only the ``max_vocab`` most frequent tokens.
    vocabulary : sequence of str, path, "bundled" or None, default=None
        A fixed numbering instead of one learnt in ``fit`` (as scikit-learn's
        ``CountVectorizer(vocabulary=...)``): the tokens in id order, or a pre-trained
        language model (a folder of :func:`~sk_slm.pretrain_language_model`, or
        "bundled"), whose tokens are read from it. ``min_count`` and ``max_vocab`` are
        then not used.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Token -> id, numbered from 0 by falling frequency in the training documents
        (ties in order of first appearance), or in the order of ``vocabulary``. Other
        tokens get id -1 (unknown).

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

    def __init__(self, min_count: int = 1, max_vocab: int | None = None,
                 vocabulary: Any = None):
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.vocabulary = vocabulary

    def _fixed_vocabulary(self) -> dict[str, int]:
        """``vocabulary`` as token -> id, checked."""
        if self.min_count != 1 or self.max_vocab is not None:
            raise ValueError(
                "min_count and max_vocab choose the tokens of the training documents; "
                "with a fixed vocabulary they would do nothing: leave them out.")
        if isinstance(self.vocabulary, (str, os.PathLike)):
            from ..language_model.model import language_model_vocabulary

            tokens = language_model_vocabulary(self.vocabulary)[UNK + 1:]  # PAD, UNK first
        elif isinstance(self.vocabulary, (list, tuple)):
            tokens = list(self.vocabulary)
        else:
            raise ValueError(
                "The 'vocabulary' parameter of TokenIndexer must be None, a list of str "
                f"tokens or a language model (a path or 'bundled'); got {self.vocabulary!r}.")
        index: dict[str, int] = {}
        for i, token in enumerate(tokens):
            if not isinstance(token, str) or token in index:
                raise ValueError(f"vocabulary[{i}] is {token!r}: the tokens must be distinct "
                                 "str.")
            index[token] = i
        return index

    def fit(self, X: Any, y: Any = None) -> TokenIndexer:
        """Number the tokens of the token lists ``X`` (or take the fixed ``vocabulary``)."""
        validate_params(self, self._constraints)
        docs = check_token_lists(X)
        if not docs:
            raise ValueError("TokenIndexer.fit got no documents: it numbers the tokens of at "
                             "least one.")
        self.vocabulary_ = (vocabulary(docs, self.min_count, self.max_vocab)
                            if self.vocabulary is None else self._fixed_vocabulary())
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
