"""BlendingClassifier: a weighted blend of classifiers' log-probabilities, weights chosen
on held-out data."""

from __future__ import annotations

import warnings
from dataclasses import fields
from itertools import product
from numbers import Real
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch, get_tags
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.validation import check_is_fitted

from ._validation import Interval, check_labels, validate_params

__all__ = ["BlendingClassifier", "BlendWeightWarning"]


class BlendWeightWarning(UserWarning):
    """A blend's weights rest on a degenerate choice: a part that predicted one class for
    every held-out row, or a weight of exactly 0 or 1 (one part dropped)."""

# Probabilities are clipped here before the log, so that a class one part rules out
# (probability 0) does not make the blend undefined.
_EPS = 1e-12
# The temperature is fitted within [1/4, 4]: a few held-out rows that one candidate
# separates perfectly would otherwise push it without bound (probabilities of 0 and 1).
_LOG_TEMPERATURE_BOUND = np.log(4.0)


def _aligned(classes: np.ndarray, part: Any, proba: np.ndarray) -> np.ndarray:
    """A part's probability columns put in ``classes`` order (0 for classes it lacks)."""
    out = np.zeros((len(proba), len(classes)))
    out[:, np.searchsorted(classes, part.classes_)] = proba
    return out


def blended_log_proba(weights: np.ndarray, classes: np.ndarray, parts: list,
                      X: Any) -> np.ndarray:
    """``log softmax(sum_i w_i log p_i(X))`` over fitted ``parts`` (each with
    ``classes_`` and ``predict_proba``), columns in ``classes`` order; a part without
    weight is not run. What a fitted BlendingClassifier predicts (and the ONNX
    predictor, from the same weights)."""
    total = None
    for w, part in zip(weights, parts, strict=True):
        if w == 0:
            continue
        term = w * np.log(np.clip(_aligned(classes, part, part.predict_proba(X)), _EPS, None))
        total = term if total is None else total + term
    return total - np.logaddexp.reduce(total, axis=1, keepdims=True)


def _mean_log_loss(logits: np.ndarray, y: np.ndarray) -> float:
    return float(-log_softmax(logits, axis=1)[np.arange(len(y)), y].mean())


def _row_log_losses(logits: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    """Each row's log loss under ``softmax(t * logits)``."""
    return -log_softmax(t * logits, axis=1)[np.arange(len(y)), y]


def _one_standard_error(row_losses: list[np.ndarray], best: int) -> np.ndarray:
    """The candidates whose held-out log loss is within one standard error of the
    ``best`` one's: the mean of their rows' loss differences from it at most the standard
    error of that mean (every row is a pair)."""
    within = []
    for losses in row_losses:
        d = losses - row_losses[best]
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0
        within.append(d.mean() <= se)
    return np.flatnonzero(within)


def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(t, log loss of ``softmax(t * logits)``): the t in [1/4, 4] that minimises the
    mean log loss of the encoded labels ``y``."""
    result = minimize_scalar(lambda lt: _mean_log_loss(np.exp(lt) * logits, y),
                             bounds=(-_LOG_TEMPERATURE_BOUND, _LOG_TEMPERATURE_BOUND),
                             method="bounded", options={"xatol": 1e-4})
    return float(np.exp(result.x)), float(result.fun)


def _quarter_grid(n: int) -> np.ndarray:
    """Weight vectors of n parts on a grid of quarters, summing to 1, the first part's
    weight falling: for two parts (1, 0), (0.75, 0.25), ..., (0, 1)."""
    steps = [c for c in product(range(4, -1, -1), repeat=n) if sum(c) == 4]
    return np.array(steps, dtype=float) / 4


def _take(X: Any, rows: np.ndarray) -> Any:
    """Rows of X, keeping the container type that the next steps read."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, (list, tuple)):
        return [X[i] for i in rows]
    return X[rows]


def _rows_of_params(params: dict, rows: np.ndarray, n: int) -> dict:
    """Fit parameters for a subset of the rows: per-row arrays (length ``n``) are cut
    to ``rows``, the rest passed as they are (as ``cross_val_predict`` does)."""
    out = {}
    for key, value in params.items():
        if (value is not None and not np.isscalar(value) and not isinstance(value, str)
                and hasattr(value, "__len__") and len(value) == n):
            value = _take(value, rows)
        out[key] = value
    return out


def _describe_weights(blend: Any) -> str:
    """A fitted blend's weights by part: "network 0.25, linear 0.75"."""
    return ", ".join(f"{name} {w:g}" for name, w in zip(blend.named_estimators_, blend.weights_,
                                                         strict=True))


def _is_named_list(estimators: Any) -> bool:
    return isinstance(estimators, (list, tuple)) and all(
        isinstance(e, tuple) and len(e) == 2 and isinstance(e[0], str) for e in estimators)


def _final_step(estimator: Any) -> Any:
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def _held_out(estimator: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(rows, probabilities) that a fitted estimator predicted for data it held out of its
    own training (``validation_index_``, ``validation_proba_``), or None."""
    final = _final_step(estimator)
    rows = getattr(final, "validation_index_", None)
    proba = getattr(final, "validation_proba_", None)
    if rows is None or proba is None:
        return None
    return np.asarray(rows), np.asarray(proba)


class BlendingClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Blend classifiers' log-probabilities with weights chosen on held-out data.

    Each part predicts class probabilities; the blend predicts
    ``softmax(t * sum_i w_i * log p_i)``, a weighted geometric mean of the parts'
    probabilities (for classifiers whose probabilities are a softmax of logits, a blend of
    their logits), sharpened or flattened by a temperature ``t``. The weights ``w`` are
    chosen among ``weights`` by the log loss on a held-out part of the training data,
    each candidate with the ``t`` in [1/4, 4] that fits it best there (the parts'
    probabilities are often too flat or too sharp, and a blend whose weights sum to 1
    could not correct it: the log loss then chose the part with the flatter, not the
    more accurate, predictions); every part is then fitted on all of the data, as
    ``GridSearchCV(refit=True)`` refits its best candidate. With ``prefer``, the choice
    leans toward one part as far as the held-out rows allow (the one-standard-error
    rule): on a few dozen rows, the candidate of least log loss is often a chance winner.

    Parts that keep a held-out part of their own (like
    :class:`~sk_slm.LSTMAttentionClassifier`, which holds one out for early stopping)
    are not trained twice: a part whose fitted estimator, or the last step of its
    pipeline, has ``validation_index_`` (rows of ``X``) and ``validation_proba_`` (its
    predictions for them, by the model fitted without them) is fitted once, on all of
    ``X``, and its held-out rows are the ones the weights are chosen on: the other parts
    are fitted on the remaining rows to predict them. Only the first such part is used
    this way; with none, the blend holds out ``validation_fraction`` of the data itself.

    A part that predicts one class for every held-out row, or a chosen weight of exactly
    0 or 1 (a part left out), is reported by a :class:`BlendWeightWarning` and in
    ``single_class_parts_`` and ``weights_``.

    Parameters
    ----------
    estimators : list of (str, estimator)
        The parts, each a classifier with ``predict_proba`` (a Pipeline ending in one is
        fine). Their parameters are reachable as ``<name>__<param>``, so GridSearchCV can
        tune them.
    weights : array-like of shape (n_candidates, n_estimators), default=None
        The candidate weight vectors; each is non-negative, not all zero, and is scaled
        to sum to 1. None: every vector of quarters, (1, 0), (0.75, 0.25), ..., (0, 1)
        for two parts. Ties in log loss go to the candidate listed first.
    prefer : str or None, default=None
        The name of a part to lean toward (the simpler or more reliable one): among the
        candidates whose held-out log loss is within one standard error of the least
        (the standard error of the mean of the rows' paired loss differences), the one
        that gives this part the most weight, then the one of least loss. With many
        held-out rows the standard error shrinks and the choice is the least-loss one.
        None: the candidate of least held-out log loss.
        :func:`~sk_slm.make_lstm_pipeline` prefers its linear part.
    validation_fraction : float, default=0.1
        The share of the training data held out (stratified by class) to choose the
        weights, when no part holds out data of its own.
    random_state : int, RandomState instance or None, default=None
        Seeds that held-out split.

    Attributes
    ----------
    estimators_ : list of estimators
        The parts, fitted on all the training data.
    named_estimators_ : Bunch
        The same, by name.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    weights_ : ndarray of shape (n_estimators,)
        The chosen weights (summing to 1): each part's share in the blend.
    temperature_ : float
        The temperature ``t`` fitted with them.
    candidate_weights_ : ndarray of shape (n_candidates, n_estimators)
        The weight vectors compared, scaled to sum to 1.
    validation_log_loss_ : ndarray of shape (n_candidates,)
        The held-out log loss of each candidate, at its best temperature.
    validation_index_ : ndarray of int
        The rows of the training data the weights were chosen on.
    single_class_parts_ : list of str
        The parts that predicted a single class for every one of those rows.

    See Also
    --------
    sklearn.ensemble.VotingClassifier : fixed weights, arithmetic mean of probabilities.
    sklearn.ensemble.StackingClassifier : a learned combiner on cross-validated predictions.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sk_slm import BlendingClassifier
    >>> X, y = make_classification(n_samples=500, n_features=8, n_informative=4,
    ...                            n_classes=3, random_state=1)
    >>> blend = BlendingClassifier(
    ...     [("lr", LogisticRegression()), ("nb", GaussianNB())], random_state=0).fit(X, y)
    >>> blend.weights_.round(2).tolist(), round(blend.temperature_, 2)
    ([0.5, 0.5], 0.77)
    """

    # estimators and weights are checked in _check_params: their constraints are structural.
    _constraints: dict = {
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, estimators, *, weights=None, prefer=None, validation_fraction=0.1,
                 random_state=None):
        self.estimators = estimators
        self.weights = weights
        self.prefer = prefer
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep=True):
        params = super().get_params(deep=False)
        if deep and _is_named_list(self.estimators):
            for name, estimator in self.estimators:
                params[name] = estimator
                for key, value in estimator.get_params(deep=True).items():
                    params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params):
        # Whole parts first (``network=...``), then their parameters (``network__x``).
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        names = [name for name, _ in self.estimators] if _is_named_list(self.estimators) else []
        replaced = {key: params.pop(key) for key in list(params) if key in names}
        if replaced:
            self.estimators = [(name, replaced.get(name, est)) for name, est in self.estimators]
        nested: dict[str, dict] = {}
        for key in list(params):
            name, sep, sub = key.partition("__")
            if sep and name in names:
                nested.setdefault(name, {})[sub] = params.pop(key)
        super().set_params(**params)
        for name, estimator in (self.estimators if nested else ()):
            if name in nested:
                estimator.set_params(**nested[name])
        return self

    def _check_params(self) -> np.ndarray:
        """Validate the parameters; return the candidate weights, rows summing to 1."""
        estimators = self.estimators
        if not _is_named_list(estimators) or len(estimators) < 2:
            raise ValueError(
                "estimators must be a list of at least two (name, estimator) tuples, got "
                f"{estimators!r}.")
        names = [name for name, _ in estimators]
        if len(set(names)) != len(names):
            raise ValueError(f"estimators has duplicate names: {names}.")
        for name in names:
            if "__" in name or name in self.get_params(deep=False):
                raise ValueError(
                    f"estimators name {name!r} must not contain '__' nor be a parameter "
                    "name of BlendingClassifier.")
        for name, estimator in estimators:
            if not hasattr(estimator, "predict_proba"):
                raise ValueError(
                    f"estimators part {name!r} ({type(estimator).__name__}) has no "
                    "predict_proba; the blend needs class probabilities.")
        validate_params(self, self._constraints)
        if self.prefer is not None and self.prefer not in names:
            raise ValueError(f"prefer={self.prefer!r} is not the name of a part; choose from "
                             f"{names} or None.")
        if self.weights is None:
            return _quarter_grid(len(estimators))
        try:
            weights = np.asarray(self.weights, dtype=float)
        except (TypeError, ValueError):
            weights = np.empty(0)
        if (weights.ndim != 2 or weights.shape[0] < 1 or weights.shape[1] != len(estimators)
                or not np.isfinite(weights).all() or (weights < 0).any()
                or (weights.sum(axis=1) <= 0).any()):
            raise ValueError(
                f"weights must be None or rows of {len(estimators)} non-negative numbers "
                f"(one per estimator), not all zero; got {self.weights!r}.")
        return weights / weights.sum(axis=1, keepdims=True)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, **fit_params):
        """Choose the weights on held-out data, then fit every part on all of (X, y).

        Parameters
        ----------
        X : array-like of length n_samples
            Whatever the parts accept (raw texts, token lists, a matrix...).
        y : array-like of shape (n_samples,)
            Class labels.
        **fit_params
            Parameters of the parts' ``fit``. With metadata routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``), routed as the parts
            request them (``set_fit_request``). Otherwise a key ``<name>__<param>`` goes
            to the part ``name`` as ``param`` (as ``Pipeline.fit`` routes to its steps),
            and a key without a part's name (e.g. ``sample_weight``) to every part.
            Arrays of one value per row are cut to the rows each fit is given.

        Returns
        -------
        self : BlendingClassifier
        """
        candidates = self._check_params()
        if not hasattr(X, "__len__") and not hasattr(X, "shape"):
            X = np.asarray(X)
        y = check_labels(X, y, "BlendingClassifier")  # X's rows counted, none refused
        self.le_ = LabelEncoder().fit(y)
        self.classes_ = self.le_.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has a single class ({self.classes_[0]!r}; one class); a classifier "
                "needs at least two.")

        params = self._part_params(fit_params)
        # Every part is fitted on all the data (the model it predicts with), first.
        parts = [clone(estimator).fit(X, y, **params[name])
                 for name, estimator in self.estimators]
        valid, held_out = self._held_out_predictions(X, y, parts, params)

        log_proba = np.stack([np.log(np.clip(held_out[i], _EPS, None))
                              for i in range(len(parts))])
        y_valid = self.le_.transform(y[valid])
        logits = [np.tensordot(w, log_proba, axes=1) for w in candidates]
        fits = [_fit_temperature(z, y_valid) for z in logits]
        losses = np.array([loss for _, loss in fits])
        best = int(np.argmin(losses))  # the first of equal losses
        if self.prefer is not None:  # as much of it as one standard error allows
            part = [name for name, _ in self.estimators].index(self.prefer)
            rows = [_row_log_losses(z, y_valid, t)
                    for z, (t, _) in zip(logits, fits, strict=True)]
            within = _one_standard_error(rows, best)
            best = int(min(within, key=lambda i: (-candidates[i, part], losses[i], i)))
        self.candidate_weights_ = candidates
        self.validation_log_loss_ = losses
        self.validation_index_ = valid
        self.weights_ = candidates[best]
        self.temperature_ = fits[best][0]
        self.estimators_ = parts
        names = [name for name, _ in self.estimators]
        self.named_estimators_ = Bunch(**dict(zip(names, parts, strict=True)))
        self.single_class_parts_ = [name for i, name in enumerate(names)
                                    if len(np.unique(held_out[i].argmax(axis=1))) == 1]
        self._warn_degenerate(names, len(valid))
        return self

    def _part_params(self, fit_params: dict) -> dict[str, dict]:
        """Each part's ``fit`` parameters, by part name (see :meth:`fit`)."""
        names = [name for name, _ in self.estimators]
        if get_config()["enable_metadata_routing"]:
            routed = process_routing(self, "fit", **fit_params)
            return {name: dict(routed[name].fit) for name in names}
        params: dict[str, dict] = {name: {} for name in names}
        for key, value in fit_params.items():
            name, sep, param = key.partition("__")
            if sep and name in params:
                params[name][param] = value
            else:
                for own in params.values():
                    own[key] = value
        return params

    def get_metadata_routing(self) -> MetadataRouter:
        """How metadata reach the parts: each part's ``fit`` requests go to it from the
        blend's ``fit``; ``score`` takes ``sample_weight`` itself (metadata routing
        must be enabled, see scikit-learn's Metadata Routing guide)."""
        router = MetadataRouter(owner=self).add_self_request(self)
        for name, estimator in self.estimators:
            router.add(**{name: estimator},
                       method_mapping=MethodMapping().add(caller="fit", callee="fit"))
        return router

    def _held_out_predictions(self, X, y, parts, params) -> tuple[np.ndarray, dict]:
        """(rows, {part index: probabilities}) predicted for rows held out of training:
        the first part's own hold-out, else a split of ``validation_fraction``.
        ``params``: each part's fit parameters, by name."""
        held_out, valid = {}, None
        for i, part in enumerate(parts):
            rows_proba = _held_out(part)
            if rows_proba is not None:  # it held these rows out of its own training
                valid, proba = rows_proba
                held_out[i] = _aligned(self.classes_, part, proba)
                break
        if valid is None:
            valid = self._split(y)
        n = len(y)
        train = np.setdiff1d(np.arange(n), valid)
        X_train, X_valid = _take(X, train), _take(X, valid)
        for i, (name, estimator) in enumerate(self.estimators):
            if i not in held_out:
                part = clone(estimator).fit(X_train, y[train],
                                            **_rows_of_params(params[name], train, n))
                held_out[i] = _aligned(self.classes_, part, part.predict_proba(X_valid))
        return valid, held_out

    def _warn_degenerate(self, names: list[str], n_valid: int) -> None:
        """A BlendWeightWarning for a single-class part or a part left out."""
        where = f"{n_valid} held-out rows"
        weights = _describe_weights(self)
        if self.single_class_parts_:
            warnings.warn(
                f"Blend part(s) {self.single_class_parts_} predicted a single class for all "
                f"{where}; the weights ({weights}) were chosen around it.",
                BlendWeightWarning, stacklevel=3)
        dropped = [name for name, w in zip(names, self.weights_, strict=True) if w == 0]
        if dropped:
            warnings.warn(
                f"Blend weights ({weights}), chosen on {where}, leave out {dropped}: the "
                "blend predicts without them (they did not lower its held-out log loss"
                + ("" if self.prefer is None else
                   f" by more than its standard error, and prefer={self.prefer!r}")
                + "; on few rows, a choice that more training data may change).",
                BlendWeightWarning, stacklevel=3)

    def _split(self, y: np.ndarray) -> np.ndarray:
        """Sorted held-out rows: ``validation_fraction`` of them, at least one per class,
        stratified when every class has two rows or more."""
        n_valid = max(int(np.ceil(self.validation_fraction * len(y))), len(self.classes_))
        if n_valid >= len(y):
            raise ValueError(
                f"{len(y)} samples are too few to hold {n_valid} out (validation_fraction="
                f"{self.validation_fraction}, at least one per class) and train on the rest.")
        stratify = y if np.bincount(self.le_.transform(y)).min() >= 2 else None
        _, valid = train_test_split(np.arange(len(y)), test_size=n_valid, stratify=stratify,
                                    random_state=self.random_state)
        return np.sort(valid)

    @property
    def n_features_in_(self) -> int:
        """Number of features of the first part's input, when it counts them."""
        check_is_fitted(self, "estimators_")
        return self.estimators_[0].n_features_in_

    # ------------------------------------------------------------------ predict
    def predict_log_proba(self, X) -> np.ndarray:
        """The blend's log-probabilities, columns in ``classes_`` order."""
        check_is_fitted(self, "estimators_")
        return blended_log_proba(self.temperature_ * self.weights_, self.classes_,
                                 self.estimators_, X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, rows summing to 1, columns in ``classes_`` order."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row."""
        best = self.predict_log_proba(X).argmax(axis=1)
        return self.classes_[best]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if _is_named_list(self.estimators) and self.estimators:
            # The blend takes what every part takes.
            inner = [get_tags(estimator).input_tags for _, estimator in self.estimators]
            for field in fields(tags.input_tags):
                values = [getattr(t, field.name) for t in inner]
                if all(isinstance(v, bool) for v in values):
                    setattr(tags.input_tags, field.name, all(values))
        return tags
