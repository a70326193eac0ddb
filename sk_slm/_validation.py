"""Declarative parameter validation, after scikit-learn's parameter constraints.

scikit-learn's own implementation (``sklearn.utils._param_validation``) is private, so
this is the small part of it the project needs: each estimator declares a table
``{name: [constraint, ...]}`` and calls :func:`validate_params` at the start of ``fit``;
a value must satisfy one of its constraints. :func:`warn_ineffective` warns about a
parameter set away from its default where another setting makes it do nothing. The
label checks shared by the estimators live here too.
"""

from __future__ import annotations

import inspect
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

__all__ = ["DEPRECATED", "Interval", "Options", "check_labels", "is_deprecated",
           "reject_invalid_labels", "same_value", "validate_params", "warn_ineffective"]

# The default of a deprecated parameter: set to anything else, it warns.
DEPRECATED = "deprecated"


def is_deprecated(value: Any) -> bool:
    """Whether a deprecated parameter is left at its default (not set)."""
    return isinstance(value, str) and value == DEPRECATED


class Interval:
    """Numbers of a type (``Integral`` or ``Real``) between ``low`` and ``high``."""

    def __init__(self, kind: type, low: float | None, high: float | None,
                 closed: str = "both"):
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, self.kind):
            return False
        left = self.closed in ("left", "both")
        right = self.closed in ("right", "both")
        if self.low is not None and (value < self.low or (value == self.low and not left)):
            return False
        return self.high is None or not (value > self.high or (value == self.high and not right))

    def __str__(self) -> str:
        kind = "an int" if self.kind is Integral else "a float"
        lo = "-inf" if self.low is None else self.low
        hi = "inf" if self.high is None else self.high
        brackets = {"both": "[]", "left": "[)", "right": "(]", "neither": "()"}[self.closed]
        return f"{kind} in the range {brackets[0]}{lo}, {hi}{brackets[1]}"


class Options:
    """One of a fixed set of values."""

    def __init__(self, *values: Any):
        self.values = values

    def accepts(self, value: Any) -> bool:
        return any(_same_kind(value, v) and value == v for v in self.values)

    def __str__(self) -> str:
        return f"one of {list(self.values)}"


def _same_kind(value: Any, option: Any) -> bool:
    """Strings match strings, numbers numbers (numpy's included), never True for 1."""
    if isinstance(option, str):
        return isinstance(value, str)
    if isinstance(value, (bool, np.bool_)) or isinstance(option, bool):
        return isinstance(value, (bool, np.bool_)) and isinstance(option, bool)
    return isinstance(value, Real)


def _accepts(constraint: Any, value: Any) -> bool:
    if constraint is None:
        return value is None
    if constraint == "boolean":
        return isinstance(value, (bool, np.bool_))
    if constraint == "class":
        return isinstance(value, type)
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    return constraint.accepts(value)


def _describe(constraint: Any) -> str:
    if constraint is None:
        return "None"
    if constraint == "boolean":
        return "True or False"
    if constraint == "class":
        return "a class"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__}"
    return str(constraint)


def validate_params(estimator: Any, constraints: dict[str, list]) -> None:
    """Raise a ValueError naming the first parameter whose value meets no constraint."""
    for name, allowed in constraints.items():
        value = getattr(estimator, name)
        if not any(_accepts(c, value) for c in allowed):
            options = ", ".join(_describe(c) for c in allowed)
            raise ValueError(
                f"The {name!r} parameter of {type(estimator).__name__} must be "
                f"{options if len(allowed) == 1 else 'one of: ' + options}; "
                f"got {value!r}.")


def warn_ineffective(estimator: Any, names: list[str], because: str) -> None:
    """Warn once about each of ``names`` that is set away from its default, since
    ``because`` makes it do nothing. Called from the estimator's warnings, called by its
    parameter check, by ``_fit``, by ``fit``: the warning points at the caller of ``fit``."""
    defaults = {name: p.default for name, p in
                inspect.signature(type(estimator).__init__).parameters.items()}
    changed = [name for name in names
               if not same_value(getattr(estimator, name), defaults.get(name))]
    if changed:
        what = ", ".join(f"{name}={getattr(estimator, name)!r}" for name in changed)
        warnings.warn(f"{what} has no effect: {because}.", UserWarning, stacklevel=6)


def same_value(a: Any, b: Any) -> bool:
    """Whether a parameter value is its default: the same object, or equal and of one type."""
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):  # arrays and the like
        return False


def reject_invalid_labels(y: Any) -> None:
    """Refuse missing labels (NaN, named by row) and labels mixing strings and numbers,
    which numpy would turn all into strings."""
    values = np.asarray(y, dtype=object).ravel()
    missing = [i for i, v in enumerate(values) if isinstance(v, (float, np.floating)) and v != v]
    if missing:
        raise ValueError(
            f"y[{missing[0]}] is NaN, a missing label ({len(missing)} of {len(values)} "
            "labels are); every document needs a class label: drop those rows or fill them.")
    if not isinstance(y, np.ndarray) or y.dtype == object:
        if len({isinstance(v, str) for v in values}) > 1:
            raise ValueError(
                "y mixes strings and numbers (e.g. 1 and '1'); numpy would turn them all "
                "into strings. Convert the labels to one type.")


def check_labels(X: Any, y: Any, estimator: str = "The estimator") -> np.ndarray:
    """``y`` as a 1-D array of class labels, one per row of ``X``; a ValueError naming
    what is wrong otherwise (missing, mixed, 2-D, continuous, miscounted, none). A column
    vector (n, 1) is taken, with scikit-learn's DataConversionWarning. The one label
    check of every estimator here."""
    if y is None:
        raise ValueError(f"{estimator} requires y to be passed, but the target y is None.")
    reject_invalid_labels(y)
    shape = np.asarray(y).shape
    if len(shape) != 1 and not (len(shape) == 2 and shape[1] == 1):
        raise ValueError(f"y must be 1-D (one label per document), got shape {shape}.")
    y = column_or_1d(y, warn=True)
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    if n != len(y):
        raise ValueError(f"X has {n} documents but y has {len(y)} labels; they must match.")
    if len(y) == 0:
        raise ValueError("X has 0 documents; a classifier needs some of each class to fit.")
    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"Unknown label type: y must hold class labels (binary or "
                         f"multiclass), got {kind!r}.")
    return y
