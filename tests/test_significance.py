import doctest
import importlib

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import accuracy_score, f1_score

from sk_slm import paired_difference
from sk_slm.evaluation.significance import _resampled_scores


def noisy(y, accuracy, rng, n_classes):
    return np.where(rng.random(len(y)) < accuracy, y, rng.integers(0, n_classes, len(y)))


@pytest.mark.parametrize("score", ["f1_macro", "accuracy"])
def test_every_resample_scores_as_sklearn_does(score):
    rng = np.random.default_rng(0)
    # Class 3 is rare and class 4 is only ever predicted: resamples lose them, and
    # sklearn's macro average then runs over fewer labels.
    y = np.r_[rng.integers(0, 3, 200), [3, 3]]
    pred = noisy(y, 0.7, rng, 3)
    pred[:3] = 4
    counts = rng.multinomial(len(y), np.full(len(y), 1 / len(y)), size=40)
    got = _resampled_scores(y, pred, counts, score)
    for row, value in zip(counts, got, strict=True):
        idx = np.repeat(np.arange(len(y)), row)
        expected = (f1_score(y[idx], pred[idx], average="macro") if score == "f1_macro"
                    else accuracy_score(y[idx], pred[idx]))
        assert value == pytest.approx(expected, abs=1e-12)


@pytest.mark.slow
def test_difference_interval_and_mcnemar_counts():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 1500).astype(str)  # any labels: strings here
    labels = np.unique(y)
    base = np.where(rng.random(len(y)) < 0.75, y, rng.choice(labels, len(y)))
    better = np.where(rng.random(len(y)) < 0.9, y, base)
    r = paired_difference(y, base, better, n_resamples=2000)
    assert r.difference == pytest.approx(
        f1_score(y, better, average="macro") - f1_score(y, base, average="macro"))
    low, high = r.interval
    assert 0 < low < r.difference < high  # clearly better: the interval excludes 0
    assert r.share_ahead == 1.0
    assert r.only_model_right == np.sum((better == y) & (base != y))
    assert r.only_reference_right == np.sum((base == y) & (better != y))
    assert r.mcnemar_p == pytest.approx(
        binomtest(r.only_model_right, r.only_model_right + r.only_reference_right).pvalue)
    assert r.mcnemar_p < 1e-6
    # Swapping the two negates the difference and mirrors the interval.
    swapped = paired_difference(y, better, base, n_resamples=2000)
    assert swapped.difference == pytest.approx(-r.difference)
    assert swapped.interval == pytest.approx((-high, -low), abs=1e-9)
    assert swapped.share_ahead == 0.0


def test_same_predictions_are_a_tie_and_seeded_runs_repeat():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    pred = noisy(y, 0.8, rng, 2)
    tie = paired_difference(y, pred, pred, n_resamples=500)
    assert tie.difference == 0 and tie.interval == (0.0, 0.0)
    assert tie.only_model_right == tie.only_reference_right == 0 and tie.mcnemar_p == 1.0
    other = noisy(y, 0.8, rng, 2)
    a = paired_difference(y, pred, other, n_resamples=500, random_state=3)
    b = paired_difference(y, pred, other, n_resamples=500, random_state=3)
    c = paired_difference(y, pred, other, n_resamples=500, random_state=4)
    assert a.interval == b.interval and a.interval != c.interval
    wide = paired_difference(y, pred, other, n_resamples=500, random_state=3, confidence=0.99)
    assert wide.interval[0] <= a.interval[0] and wide.interval[1] >= a.interval[1]
    acc = paired_difference(y, pred, other, score="accuracy", n_resamples=200)
    assert acc.difference == pytest.approx(accuracy_score(y, other) - accuracy_score(y, pred))


@pytest.mark.parametrize("kwargs, message", [
    (dict(y_pred=[0, 1]), "of one length"),
    (dict(y_true=[]), "empty"),
    (dict(score="roc_auc"), "score='roc_auc'"),
    (dict(n_resamples=0), "n_resamples"),
    (dict(n_resamples=True), "n_resamples"),
    (dict(confidence=1.0), "confidence"),
])
def test_bad_input_is_refused_with_the_parameter_named(kwargs, message):
    args = dict(y_true=[0, 1, 1], y_pred_reference=[0, 1, 0], y_pred=[0, 1, 1])
    if kwargs.get("y_true") == []:
        args.update(y_pred_reference=[], y_pred=[])
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        paired_difference(args.pop("y_true"), args.pop("y_pred_reference"),
                          args.pop("y_pred"), **args)


def test_docstring_example_runs():
    result = doctest.testmod(importlib.import_module("sk_slm.evaluation.significance"))
    assert result.attempted >= 5 and result.failed == 0


def test_resampling_in_smaller_steps_draws_the_same_resamples(monkeypatch):
    import sk_slm.evaluation.significance as module

    rng = np.random.default_rng(5)
    y = rng.integers(0, 4, 400)
    a, b = noisy(y, 0.7, rng, 4), noisy(y, 0.75, rng, 4)
    whole = paired_difference(y, a, b, n_resamples=700)
    monkeypatch.setattr(module, "_BATCH_CELLS", 400 * 7)  # 7 resamples per step
    stepped = paired_difference(y, a, b, n_resamples=700)
    assert stepped.interval == whole.interval and stepped.share_ahead == whole.share_ahead
