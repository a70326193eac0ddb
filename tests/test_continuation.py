"""sk_slm.partial_fit and LSTMAttentionClassifier.partial_fit: training on new documents."""

import random

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline

from sk_slm import (
    LSTMAttentionClassifier,
    TokenIndexer,
    make_baseline,
    make_lstm_pipeline,
    partial_fit,
)

SMALL = dict(hidden_size=16, module__embedding_dim=16, module__attention_size=8, max_epochs=15,
             random_state=0)


def batch(signal: dict, noise: str, n: int, seed: int) -> tuple[list[list[str]], np.ndarray]:
    """Documents of 4 tokens: one that carries the label (``signal``: token -> label) and
    three drawn from ``noise``, which carry none."""
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n):
        token, label = list(signal.items())[i % len(signal)]
        doc = [token, *rng.choices(noise, k=3)]
        rng.shuffle(doc)
        X.append(doc)
        y.append(label)
    return X, np.asarray(y)


# Batch A: 好 / 坏 carry the label, 甲 乙 丙 丁 are noise. Batch B: 甲 / 乙 carry it, the
# tokens of A's label are absent: a model of A alone reads B at chance.
A = dict(signal={"好": "pos", "坏": "neg"}, noise="甲乙丙丁")
B = dict(signal={"甲": "pos", "乙": "neg"}, noise="丙丁")


def accuracy(model, X, y) -> float:
    return float(np.mean(model.predict(X) == y))


@pytest.mark.slow
def test_classifier_partial_fit_learns_a_second_batch():
    X_a, y_a = batch(**A, n=200, seed=0)
    X_b, y_b = batch(**B, n=200, seed=1)
    X_test, y_test = batch(**B, n=100, seed=2)
    ids = TokenIndexer().fit(X_a + X_b).transform  # one numbering for every batch
    X_a, X_b, X_test = ids(X_a), ids(X_b), ids(X_test)
    clf = LSTMAttentionClassifier(**SMALL).fit(X_a, y_a)
    assert accuracy(clf, X_test, y_test) < 0.75
    history = len(clf.history)
    clf.partial_fit(X_b, y_b)
    assert accuracy(clf, X_test, y_test) > 0.95
    # It continued (the history grew) with early stopping on a held-out part of the new
    # documents, as fit trained, although the refit trained without one.
    assert len(clf.history) > history
    assert "valid_loss" in clf.history[-1]
    assert history < dict(clf.callbacks_)["early_stopping"].best_epoch_ <= len(clf.history)
    # Still a model of A: continuing does not forget the first batch's signal at once.
    X_check, y_check = batch(**A, n=100, seed=3)
    assert accuracy(clf, ids(X_check), y_check) > 0.6


@pytest.mark.slow
def test_continuing_is_reproducible_and_reads_unseen_tokens_as_unknown():
    X_a, y_a = batch(**A, n=120, seed=0)
    X_b, y_b = batch(**B, n=120, seed=1)
    fitted = [make_pipeline(TokenIndexer(), LSTMAttentionClassifier(**SMALL)).fit(X_a, y_a)
              for _ in range(2)]
    new = X_b + [["从未", "见过"], []]  # unseen tokens, an empty document
    y_new = np.r_[y_b, ["pos", "neg"]]
    for pipe in fitted:
        partial_fit(pipe, new, y_new)
    np.testing.assert_array_equal(fitted[0].predict_proba(new), fitted[1].predict_proba(new))
    assert len(fitted[0].predict(new)) == len(new)
    assert "从未" not in fitted[0][0].vocabulary_  # the vocabulary does not grow


@pytest.mark.slow
def test_partial_fit_continues_the_network_of_the_pipeline_and_keeps_the_linear_part():
    def texts(docs):
        return ["".join(d) for d in docs]

    (X_a, y_a), (X_b, y_b), (X_test, y_test) = (
        (texts(X), y) for X, y in (batch(**A, n=200, seed=0), batch(**B, n=200, seed=1),
                                   batch(**B, n=100, seed=2)))
    pipe = make_lstm_pipeline(hidden_size=16, module__attention_size=8, max_epochs=15).fit(X_a, y_a)
    blend = pipe.named_steps["blend"]
    network, linear = blend.named_estimators_["network"], blend.named_estimators_["linear"]
    segmented_test = pipe[0].transform(X_test)
    linear_before = linear.predict_proba(segmented_test)
    weights = blend.weights_.copy()
    assert accuracy(network, segmented_test, y_test) < 0.75

    assert partial_fit(pipe, X_b, y_b) is pipe
    assert accuracy(network, segmented_test, y_test) > 0.95
    # The linear part (LogisticRegression: no partial_fit) and the weights are as fitted.
    np.testing.assert_array_equal(linear.predict_proba(segmented_test), linear_before)
    np.testing.assert_array_equal(blend.weights_, weights)
    unseen = ["从未见过的字", ""]
    assert len(pipe.predict(X_test + unseen)) == len(X_test) + 2


def test_partial_fit_runs_each_pipeline_step_as_fitted():
    # Any estimator with partial_fit at the end of a Pipeline: the transformers only
    # transform (the TF-IDF vocabulary stays), the last step continues.
    X = ["good food", "bad food", "good service", "bad service"] * 10
    y = np.array([1, 0, 1, 0] * 10)
    pipe = make_pipeline(TfidfVectorizer(), SGDClassifier(random_state=0)).fit(X, y)
    by_hand = make_pipeline(TfidfVectorizer(), SGDClassifier(random_state=0)).fit(X, y)
    vocabulary = dict(pipe[0].vocabulary_)
    new = ["good good", "bad bad unseen"]
    partial_fit(pipe, new, [1, 0])
    by_hand[-1].partial_fit(by_hand[0].transform(new), [1, 0])
    assert pipe[0].vocabulary_ == vocabulary
    np.testing.assert_array_equal(pipe[-1].coef_, by_hand[-1].coef_)


def test_partial_fit_refuses_what_it_cannot_do():
    X_a, y_a = batch(**A, n=60, seed=0)
    with pytest.raises(NotFittedError):
        partial_fit(make_lstm_pipeline(hidden_size=16, max_epochs=15), ["好"], ["pos"])
    texts = ["".join(d) for d in X_a]
    baseline = make_baseline("svm_char_tfidf").fit(texts, y_a)
    with pytest.raises(TypeError, match="LinearSVC|partial_fit"):
        partial_fit(baseline, texts, y_a)
    X_a = TokenIndexer().fit_transform(X_a)
    clf = LSTMAttentionClassifier(**{**SMALL, "max_epochs": 2, "ngram_warmup": 0}).fit(X_a, y_a)
    with pytest.raises(ValueError, match="unseen"):
        partial_fit(clf, X_a[:4], ["pos", "neg", "pos", "other"])
    with pytest.raises(ValueError, match="3 labels"):
        partial_fit(clf, X_a[:4], y_a[:3])
    # Too few new documents to hold a part out for early stopping: named, with the way out.
    with pytest.raises(ValueError, match="validation_fraction.*early_stopping=False"):
        clf.partial_fit(X_a[:3], y_a[:3])
    history = len(clf.history)
    clf.partial_fit(X_a, y_a, epochs=1)  # skorch's: this many epochs instead of max_epochs
    assert len(clf.history) == history + 1


@pytest.mark.slow
def test_the_docstring_example_runs():
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module("sk_slm.network.continuation"))
    assert result.attempted and not result.failed


def test_an_interrupted_partial_fit_leaves_the_model_as_it_was():
    from skorch.callbacks import Callback

    class CtrlC(Callback):
        def __init__(self, at):
            self.at = at

        def on_batch_end(self, net, **kwargs):
            if len(net.history) == self.at:
                raise KeyboardInterrupt

    X_a, y_a = batch(**A, n=120, seed=0)
    X_b, y_b = batch(**B, n=120, seed=1)
    ids = TokenIndexer().fit(X_a).transform
    X_a, X_b = ids(X_a), ids(X_b)
    clf = LSTMAttentionClassifier(**SMALL).fit(X_a, y_a)
    expected, epochs = clf.predict_proba(X_b), len(clf.history)
    clf.set_params(callbacks=[("ctrl_c", CtrlC(at=epochs + 2))])  # in the 2nd new epoch
    clf.initialize_callbacks()
    with pytest.raises(KeyboardInterrupt):
        clf.partial_fit(X_b, y_b)
    np.testing.assert_array_equal(clf.predict_proba(X_b), expected)
    assert len(clf.history) == epochs
    # And it can still be trained on: the optimizer drives the restored module.
    clf.set_params(callbacks=None)
    clf.initialize_callbacks()
    clf.partial_fit(X_b, y_b)
    assert np.mean(clf.predict(X_b) == y_b) > 0.9
