"""LanguageModelFeatures: a pre-trained language model's pooled states as features for
scikit-learn's linear models."""

from __future__ import annotations

import os
from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._threads import threads_for_free_cores
from .._validation import Interval, validate_params
from ..network.module import UNK
from ..text.segmenter import check_documents
from .corpus import char_tokens
from .model import BUNDLED, load_language_model, padded

__all__ = ["LanguageModelFeatures"]


class LanguageModelFeatures(TransformerMixin, BaseEstimator):
    """Documents -> the pre-trained encoder's states, mean- and max-pooled, L2-normalised.

    The encoder (embedding and biRNN of a language model from
    :func:`~sk_slm.pretrain_language_model`, the bundled one by default) stays frozen: it
    learns nothing from ``fit``, so the features cost one forward pass per document, and
    a linear model on them beside character TF-IDF fits in about a second
    (``make_baseline("svm_char_tfidf_lm")``)::

        make_pipeline(
            make_union(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                       LanguageModelFeatures()),
            LinearSVC())

    Each row has unit L2 norm, as TF-IDF's rows do, so neither block swamps the other.

    Parameters
    ----------
    language_model : path or "bundled", default="bundled"
        The language model folder.
    max_len : int, default=256
        Tokens read per document (its first ones).
    batch_size : int, default=64
        Documents per forward pass.

    Attributes
    ----------
    n_features_out_ : int
        4 x the model's hidden size: mean and max over the tokens of both directions.
    language_model_ : PretrainedLanguageModel
        The model read at ``fit``.

    Examples
    --------
    >>> from sk_slm import LanguageModelFeatures
    >>> LanguageModelFeatures().fit_transform(["很好吃", "太难吃了"]).shape
    (2, 512)
    """

    _constraints: dict = {
        "language_model": [str, os.PathLike],
        "max_len": [Interval(Integral, 1, None)],
        "batch_size": [Interval(Integral, 1, None)],
    }

    def __init__(self, language_model: Any = BUNDLED, max_len: int = 256, batch_size: int = 64):
        self.language_model = language_model
        self.max_len = max_len
        self.batch_size = batch_size

    def fit(self, X: Any, y: Any = None) -> LanguageModelFeatures:
        """Read the language model (``X`` is only checked).

        Parameters
        ----------
        X : iterable of str
        y : None
            Ignored.

        Returns
        -------
        self : LanguageModelFeatures
        """
        validate_params(self, self._constraints)
        check_documents(X)
        self.language_model_ = load_language_model(self.language_model)
        self.n_features_out_ = 4 * self.language_model_.settings.hidden_size
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The pooled states of each document.

        Parameters
        ----------
        X : iterable of str
            Raw documents (tokenised as ``JiebaSegmenter(granularity="char")`` does).

        Returns
        -------
        ndarray of shape (n_documents, 4 * hidden_size), float32
            An empty document gets the states of a single unknown token.
        """
        check_is_fitted(self, "language_model_")
        docs = check_documents(X)
        lm = self.language_model_
        ids = [lm.ids(d[: self.max_len]) or [UNK] for d in char_tokens(docs)]
        order = np.argsort([len(d) for d in ids], kind="stable")
        out = np.zeros((len(ids), self.n_features_out_), dtype=np.float32)
        encoder = lm.module.network
        with torch.no_grad(), threads_for_free_cores():
            for start in range(0, len(ids), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch, lengths = padded([ids[r] for r in rows])
                states = encoder.encode(batch, lengths)
                real = (torch.arange(batch.shape[1]) < lengths[:, None])[..., None]
                mean = states.sum(1) / lengths[:, None]  # states are zero at padding
                peak = states.masked_fill(~real, float("-inf")).amax(1)
                out[rows] = torch.cat([mean, peak], 1).numpy()
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``lm_mean_0`` ... and ``lm_max_0`` ..., one per output column."""
        check_is_fitted(self, "language_model_")
        half = self.n_features_out_ // 2
        return np.asarray([f"lm_{kind}_{i}" for kind in ("mean", "max") for i in range(half)],
                          dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags
