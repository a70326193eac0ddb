"""partial_fit through a fitted pipeline: train it further on new labelled documents."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._validation import check_labels
from ..blending import BlendingClassifier

__all__ = ["partial_fit"]


def _can_continue(estimator: Any) -> bool:
    if isinstance(estimator, Pipeline):
        return _can_continue(estimator[-1])
    if isinstance(estimator, BlendingClassifier):
        return any(_can_continue(part) for part in estimator.estimators_)
    return hasattr(estimator, "partial_fit")


def partial_fit(estimator: Any, X: Any, y: Any, **fit_params: Any) -> Any:
    """Train a fitted estimator further on new labelled documents, without a full refit.

    scikit-learn's ``Pipeline`` has no ``partial_fit``; this gives one to the pipelines
    of sk_slm (:func:`~sk_slm.make_lstm_pipeline`, or any Pipeline, BlendingClassifier
    or estimator built of the same parts):

    - a **Pipeline** passes ``X`` through its fitted transformers (``transform``: their
      vocabularies do not grow) and continues its last step;
    - a **BlendingClassifier** continues each part that can continue and keeps the
      others as they were fitted (in :func:`~sk_slm.make_lstm_pipeline`, the network
      learns the new documents and the linear part, a LogisticRegression, which has no
      ``partial_fit``, does not); its weights are kept;
    - any other estimator gets its own ``partial_fit`` (for
      :class:`~sk_slm.LSTMAttentionClassifier`, skorch's, which continues from the
      trained weights and optimizer state; see its ``partial_fit``).

    Tokens the pipeline did not see at fit time are read as the unknown token by the
    network (Word2Vec and the network's vocabularies are fixed at fit time) and are
    ignored by the n-gram TF-IDF parts, whose vocabularies are fixed too. To learn new
    tokens, fit again on all the data.

    Parameters
    ----------
    estimator : fitted estimator
        Changed in place.
    X : list of str, or what the estimator's first step takes
        The new documents.
    y : array-like of shape (n_documents,)
        Their labels; every label must be a class seen at fit time.
    **fit_params
        Passed to the ``partial_fit`` of every estimator continued, e.g. ``epochs=3``
        for the network (skorch's).

    Returns
    -------
    estimator
        The same object, trained further.

    Raises
    ------
    TypeError
        When no part of ``estimator`` has ``partial_fit``.
    ValueError
        When ``y`` holds a label unseen at fit time, is not a list of class labels
        (missing, mixed or continuous), or does not match ``X`` in length.
    sklearn.exceptions.NotFittedError
        When ``estimator`` is not fitted.

    Examples
    --------
    >>> from sk_slm import load_reviews, make_lstm_pipeline, partial_fit
    >>> X, y = load_reviews(return_X_y=True)
    >>> pipe = make_lstm_pipeline(hidden_size=16, max_epochs=8, verbose=0).fit(
    ...     X[:300], y[:300])
    >>> pipe = partial_fit(pipe, X[300:600], y[300:600])
    >>> pipe.predict(X[600:603]).shape
    (3,)
    """
    check_is_fitted(estimator)
    if not _can_continue(estimator):
        raise TypeError(
            f"{type(estimator).__name__} cannot be trained further: neither it nor any "
            "estimator in it has partial_fit. Fit it again on all the data instead.")
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        y = check_labels(X, y, "partial_fit")
        unseen = sorted(set(np.unique(y).tolist()) - set(classes.tolist()))
        if unseen:
            raise ValueError(
                f"y holds labels unseen at fit time: {unseen[:5]}; partial_fit can only "
                f"train on the fitted classes {classes.tolist()[:10]}.")
    _continue(estimator, X, y, fit_params)
    return estimator


def _continue(estimator: Any, X: Any, y: Any, fit_params: dict) -> None:
    if isinstance(estimator, Pipeline):
        if len(estimator) > 1:
            X = estimator[:-1].transform(X)
        _continue(estimator[-1], X, y, fit_params)
    elif isinstance(estimator, BlendingClassifier):
        for part in estimator.estimators_:
            if _can_continue(part):
                _continue(part, X, y, fit_params)
    else:
        estimator.partial_fit(X, y, **fit_params)
