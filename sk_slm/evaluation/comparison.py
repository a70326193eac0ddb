"""compare(): cross-validate several text classifiers on the same folds; plot the result."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import StratifiedKFold, check_cv, cross_validate
from skorch import NeuralNet

from .._validation import reject_invalid_labels
from ..blending import BlendingClassifier
from ..pipelines import make_baseline
from ..text.segmenter import check_documents

__all__ = ["compare", "plot_comparison"]

DEFAULT_MODELS = ("tree_word_tfidf", "svm_word_tfidf", "svm_char_tfidf", "svm_char_tfidf_lm",
                  "logreg_w2v", "nb_word_counts", "lstm_attention")


def _resolve_models(models: Any, random_state: int | None) -> dict[str, Any]:
    if models is None:
        models = DEFAULT_MODELS
    if isinstance(models, str):
        models = [models]
    if isinstance(models, Mapping):
        return {str(k): v for k, v in models.items()}
    if not isinstance(models, Iterable):
        raise TypeError("models must be None, a list of baseline names or a dict name -> estimator.")
    out = {}
    for m in models:
        if isinstance(m, str):
            out[m] = make_baseline(m, random_state=random_state)
        else:
            out[type(m).__name__ if not hasattr(m, "steps") else "+".join(m.named_steps)] = m
    return out


def _scores_and_linear_weight(scoring: list[str], estimator: Any):
    """A cross_validate scorer: the named scores (sharing one prediction per fold, as a
    list of names does) plus ``_linear_weight``: for a model ending in a
    :class:`~sk_slm.BlendingClassifier`, the weight of its parts after the first (the
    linear model of :func:`~sk_slm.make_lstm_pipeline`), NaN for other models."""
    scorers = check_scoring(estimator, scoring=scoring)

    def score(fitted, X, y) -> dict[str, float]:
        scores = scorers(fitted, X, y)
        final = fitted.steps[-1][1] if hasattr(fitted, "steps") else fitted
        weights = getattr(final, "weights_", None) if isinstance(
            final, BlendingClassifier) else None
        scores["_linear_weight"] = float("nan") if weights is None else 1.0 - float(weights[0])
        return scores

    return score


def _stderr(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


def _with_epoch_progress(estimator: Any, sink: Any) -> Any:
    """A clone of ``estimator`` whose skorch nets print their progress lines (each epoch,
    early stopping's messages) to ``sink``, or are silent when ``sink`` is None (folds
    fitted in parallel workers, or ``verbose=False``); nets set to ``verbose=2`` keep
    their progress bar."""
    estimator = clone(estimator)
    params = estimator.get_params(deep=True) if hasattr(estimator, "get_params") else {}
    nets = [key for key, value in params.items() if isinstance(value, NeuralNet)]
    if isinstance(estimator, NeuralNet):
        nets.append(None)
    for key in nets:
        net = estimator if key is None else params[key]
        prefix = "" if key is None else f"{key}__"
        if sink is None:
            estimator.set_params(**{f"{prefix}verbose": 0})
            continue
        names = {name for name, _ in net.get_default_callbacks()}
        estimator.set_params(**{f"{prefix}verbose": max(1, net.verbose)}, **{
            f"{prefix}callbacks__{name}__sink": sink
            for name in ("progress", "print_log") if name in names})
    return estimator


def _cross_validate(estimator: Any, docs: list, y: np.ndarray, folds: list, scoring: Any,
                    n_jobs: int | None, progress: Any) -> dict[str, np.ndarray]:
    """``cross_validate`` on ``folds``; with ``progress`` (a print function), one fold at
    a time with a line before each."""
    if progress is None:
        return cross_validate(clone(estimator), docs, y, cv=folds, n_jobs=n_jobs,
                              error_score="raise", scoring=scoring)
    parts = []
    for k, fold in enumerate(folds, 1):
        progress(f"  fold {k}/{len(folds)}")
        parts.append(cross_validate(clone(estimator), docs, y, cv=[fold],
                                    error_score="raise", scoring=scoring))
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def compare(
    X: Any,
    y: Any,
    models: Any = None,
    cv: Any = 5,
    scoring: Iterable[str] = ("accuracy", "f1_macro"),
    n_jobs: int | None = None,
    random_state: int | None = 0,
    verbose: bool = True,
    reference: str | None = None,
) -> pd.DataFrame:
    """Cross-validate text classifiers on identical folds and tabulate the scores.

    Parameters
    ----------
    X : iterable of str
        Raw documents.
    y : array-like
        Labels.
    models : None, list of str or estimators, or dict name -> estimator
        Baseline names from :data:`sk_slm.pipelines.BASELINES` or your own pipelines.
        None runs the decision tree, the LinearSVCs (words, characters, and characters
        beside the bundled language model's features), logistic regression on Word2Vec,
        naive Bayes and the LSTM-attention pipeline.
    cv : int or CV splitter, default=5
        An int means StratifiedKFold(cv, shuffle=True, random_state=random_state), so
        every model sees exactly the same folds.
    scoring : str or iterable of str, default=("accuracy", "f1_macro")
        scikit-learn scorer names; the first one sorts the table.
    n_jobs : int, default=None
        Folds fitted in parallel (per model).
    random_state : int or None, default=0
        Seeds the folds and the baselines built by name.
    verbose : bool, default=True
        Print progress to stderr: one line per model, and, with ``n_jobs=None``, one
        per fold and each epoch of every skorch network (such as
        :class:`~sk_slm.LSTMAttentionClassifier`). False: nothing (the networks are
        made silent too).
    reference : str, default=None
        The name of one of the models (a row of the table). Every model is then also
        compared with it fold by fold, on the same folds: for each score, the mean and
        std over folds of the model's score minus the reference's
        (``{score}_diff_mean``, ``{score}_diff_std``) and the number of folds in which the
        model scores higher (``{score}_folds_ahead``). A difference smaller than its std
        is within the noise of these folds.

    Returns
    -------
    pandas.DataFrame
        One row per model (sorted by the first score, best first) with the mean and std
        of each score, ``fit_seconds`` (mean per fold), ``predict_docs_per_s`` and
        ``linear_weight``: for a model ending in a :class:`~sk_slm.BlendingClassifier`
        (:func:`~sk_slm.make_lstm_pipeline`), the mean over folds of the weight of the
        logistic regression blended with the network (0: the network alone in every
        fold, 1: the regression alone); NaN for other models. With
        ``reference``, the paired differences described there.

    Examples
    --------
    >>> from sk_slm import compare, load_reviews
    >>> X, y = load_reviews(return_X_y=True)
    >>> df = compare(X[::60], y[::60], models=["svm_char_tfidf", "nb_word_counts"],
    ...              cv=3, reference="svm_char_tfidf")
    >>> table = df[["f1_macro_mean", "f1_macro_diff_mean", "f1_macro_folds_ahead"]]
    >>> table.round(3)  # doctest: +NORMALIZE_WHITESPACE
                    f1_macro_mean  f1_macro_diff_mean  f1_macro_folds_ahead
    model
    svm_char_tfidf          0.749                0.00                     0
    nb_word_counts          0.689               -0.06                     0

    Notes
    -----
    Segmentation is shared: every JiebaSegmenter in the process serves repeated
    documents from one cache, so a document is segmented once per setting, not once
    per model and fold (with ``n_jobs=None``).
    """
    docs = check_documents(X)
    reject_invalid_labels(y)
    y = np.asarray(y)
    if len(docs) != len(y):
        raise ValueError(f"X has {len(docs)} documents but y has {len(y)} labels.")
    scoring = [scoring] if isinstance(scoring, str) else list(scoring)
    classes, counts = np.unique(y.astype(str) if y.dtype == object else y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"y has a single class ({classes[0].item()!r}); a comparison of "
                         "classifiers needs at least two.")
    if isinstance(cv, int) and counts.min() < cv:
        raise ValueError(
            f"class {classes[counts.argmin()].item()!r} has {counts.min()} document(s), fewer than "
            f"cv={cv} folds: every fold must hold each class. Lower cv or add documents.")
    if isinstance(cv, int):
        cv = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    cv = check_cv(cv, y, classifier=True)
    folds = list(cv.split(docs, y))
    n_test = np.array([len(test) for _, test in folds])
    rows = []
    estimators = _resolve_models(models, random_state)
    if reference is not None and reference not in estimators:
        raise ValueError(
            f"reference={reference!r} is not one of the models: {', '.join(estimators)}."
        )
    fold_scores: dict[str, dict[str, np.ndarray]] = {}
    for i, (name, est) in enumerate(estimators.items(), 1):
        start = time.perf_counter()
        if verbose:
            _stderr(f"[{i}/{len(estimators)}] {name} ...")
        # Folds and epochs only when they run here, in order (not in parallel workers).
        progress = _stderr if verbose and n_jobs in (None, 1) else None
        res = _cross_validate(_with_epoch_progress(est, progress), docs, y, folds,
                              _scores_and_linear_weight(scoring, est), n_jobs, progress)
        row = {"model": name}
        fold_scores[name] = {s: np.asarray(res[f"test_{s}"]) for s in scoring}
        for s in scoring:
            row[f"{s}_mean"] = float(np.mean(res[f"test_{s}"]))
            row[f"{s}_std"] = float(np.std(res[f"test_{s}"]))
        row["fit_seconds"] = float(np.mean(res["fit_time"]))
        row["predict_docs_per_s"] = float(np.mean(n_test / np.maximum(res["score_time"], 1e-9)))
        weight = res["test__linear_weight"]
        row["linear_weight"] = (float("nan") if np.isnan(weight).all()
                                else float(np.nanmean(weight)))
        rows.append(row)
        if verbose:
            _stderr(f"[{i}/{len(estimators)}] {name}: {scoring[0]}="
                    f"{row[f'{scoring[0]}_mean']:.4f} ({time.perf_counter() - start:.0f}s)")
    if reference is not None:
        for row in rows:
            for s in scoring:
                diff = fold_scores[row["model"]][s] - fold_scores[reference][s]
                row[f"{s}_diff_mean"] = float(np.mean(diff))
                row[f"{s}_diff_std"] = float(np.std(diff))
                row[f"{s}_folds_ahead"] = int(np.sum(diff > 0))
    df = pd.DataFrame(rows).set_index("model")
    return df.sort_values(f"{scoring[0]}_mean", ascending=False)


def plot_comparison(df: pd.DataFrame, score: str | None = None, ax: Any = None):
    """Scatter each model's score against its fit time (log scale), with std error bars.

    Needs matplotlib (``pip install "sk-slm[plot]"``). Returns the matplotlib Axes.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("plot_comparison needs matplotlib: pip install 'sk-slm[plot]'") from exc
    if score is None:
        score = next(c[: -len("_mean")] for c in df.columns if c.endswith("_mean"))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    ax.errorbar(df["fit_seconds"], df[f"{score}_mean"], yerr=df[f"{score}_std"], fmt="o",
                capsize=3)
    for name, row in df.iterrows():
        ax.annotate(str(name), (row["fit_seconds"], row[f"{score}_mean"]),
                    textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("fit time per fold (s, log scale)")
    ax.set_ylabel(score)
    ax.set_title("Text classifiers: score against training cost")
    ax.grid(alpha=0.3)
    return ax
