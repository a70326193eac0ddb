"""paired_difference(): is one classifier's lead over another on a test set more than noise?"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import binomtest
from sklearn.utils import Bunch

__all__ = ["paired_difference"]

_SCORES = ("f1_macro", "accuracy")
# Resamples per step: the (resamples x documents) count matrix stays under ~32 MB. The
# draws do not depend on it (numpy's Generator draws multinomial rows one after another).
_BATCH_CELLS = 4_000_000


def _resampled_scores(y: np.ndarray, pred: np.ndarray, counts: np.ndarray,
                      score: str) -> np.ndarray:
    """``score`` of ``pred`` on each resample, given as multinomial counts (how often each
    document is drawn): every count of the confusion matrix is a count-weighted sum."""
    if score == "accuracy":
        return counts @ (pred == y) / len(y)
    f1_sum = np.zeros(len(counts))
    n_labels = np.zeros(len(counts))
    for k in np.union1d(y, pred):
        tp = counts @ ((y == k) & (pred == k))
        fp = counts @ ((y != k) & (pred == k))
        fn = counts @ ((y == k) & (pred != k))
        denom = 2 * tp + fp + fn
        # As sklearn's f1_score(average="macro"): the mean over the labels present in the
        # resample's true or predicted labels (denom > 0), not over all labels.
        f1_sum += np.divide(2 * tp, denom, out=np.zeros(len(tp)), where=denom > 0)
        n_labels += denom > 0
    return f1_sum / np.maximum(n_labels, 1)


def paired_difference(
    y_true: Any,
    y_pred_reference: Any,
    y_pred: Any,
    *,
    score: str = "f1_macro",
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    random_state: Any = 0,
) -> Bunch:
    """Compare two classifiers' predictions on the same test documents.

    A paired bootstrap of the score difference (each resample of the documents scores
    both predictions) and McNemar's exact test on the documents exactly one of the two
    classifies correctly. Use it on a held-out split; on your whole data set prefer
    ``compare(X, y, reference=...)``, whose folds also vary the training data.

    Parameters
    ----------
    y_true : array-like of shape (n_documents,)
        True labels.
    y_pred_reference : array-like of shape (n_documents,)
        Predictions of the model compared against (e.g. a baseline).
    y_pred : array-like of shape (n_documents,)
        Predictions of the model under study.
    score : {"f1_macro", "accuracy"}, default="f1_macro"
        Computed as scikit-learn's ``f1_score(average="macro")`` and
        ``accuracy_score``.
    n_resamples : int, default=10_000
        Bootstrap resamples.
    confidence : float, default=0.95
        Coverage of the percentile interval.
    random_state : int, numpy Generator or None, default=0
        Seeds the resampling (``numpy.random.default_rng(random_state)``).

    Returns
    -------
    Bunch
        ``difference`` (score of ``y_pred`` minus that of ``y_pred_reference``),
        ``interval`` (low, high: the bootstrap percentile interval of the difference),
        ``share_ahead`` (share of resamples in which ``y_pred`` scores higher),
        ``only_model_right`` and ``only_reference_right`` (documents only one of them
        classifies correctly), ``mcnemar_p`` (exact two-sided p-value of those counts
        against 1/2), ``score`` and ``n_resamples``. An interval that holds 0 means the
        test set cannot tell the two apart.

    Examples
    --------
    >>> from sk_slm import paired_difference
    >>> y = [0, 1, 1, 0, 1, 0, 1, 1, 0, 0] * 30
    >>> baseline = [0, 1, 0, 0, 1, 0, 1, 1, 0, 1] * 30
    >>> model = [0, 1, 1, 0, 1, 0, 1, 1, 0, 1] * 30
    >>> result = paired_difference(y, baseline, model)
    >>> round(result.difference, 3), result.only_model_right, result.only_reference_right
    (0.099, 30, 0)
    >>> result.interval[0] > 0 and result.mcnemar_p < 0.001
    True
    """
    y = np.asarray(y_true)
    ref = np.asarray(y_pred_reference)
    pred = np.asarray(y_pred)
    if y.ndim != 1 or ref.shape != y.shape or pred.shape != y.shape:
        raise ValueError(
            "y_true, y_pred_reference and y_pred must be 1-D and of one length; got shapes "
            f"{y.shape}, {ref.shape} and {pred.shape}."
        )
    if len(y) == 0:
        raise ValueError("y_true is empty: there is nothing to compare.")
    if score not in _SCORES:
        raise ValueError(f"score={score!r} is not one of {list(_SCORES)}.")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) \
            or n_resamples < 1:
        raise ValueError(f"n_resamples must be an int >= 1, got {n_resamples!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}.")

    rng = np.random.default_rng(random_state)
    n = len(y)
    ones = np.ones((1, n))
    difference = float((_resampled_scores(y, pred, ones, score)
                        - _resampled_scores(y, ref, ones, score))[0])
    diffs = np.empty(n_resamples)
    batch = max(1, min(1000, _BATCH_CELLS // n))
    for start in range(0, n_resamples, batch):
        # float64: BLAS matrix-vector products, exact for these integer counts
        counts = rng.multinomial(n, np.full(n, 1 / n),
                                 size=min(batch, n_resamples - start)).astype(np.float64)
        diffs[start:start + len(counts)] = (_resampled_scores(y, pred, counts, score)
                                            - _resampled_scores(y, ref, counts, score))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    only_model = int(np.sum((pred == y) & (ref != y)))
    only_ref = int(np.sum((ref == y) & (pred != y)))
    p = binomtest(only_model, only_model + only_ref, 0.5).pvalue if only_model + only_ref else 1.0
    return Bunch(
        difference=difference, interval=(float(low), float(high)),
        share_ahead=float(np.mean(diffs > 0)), only_model_right=only_model,
        only_reference_right=only_ref, mcnemar_p=float(p), score=score,
        n_resamples=n_resamples,
    )
