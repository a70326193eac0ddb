"""BlendingClassifier: alone with plain scikit-learn classifiers, and with the network."""

import pickle
import warnings

import numpy as np
import pytest
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_slm import (
    BlendingClassifier,
    BlendWeightWarning,
    JiebaSegmenter,
    LSTMAttentionClassifier,
    TokenIndexer,
    passthrough_analyzer,
)
from sk_slm.blending import _fit_temperature

X, Y = make_classification(n_samples=200, n_features=8, n_informative=4, n_classes=3,
                           random_state=0)


def blend(**params):
    parts = [("lr", LogisticRegression(max_iter=1000)), ("nb", GaussianNB())]
    return BlendingClassifier(parts, random_state=0, **params)


@pytest.mark.slow
@parametrize_with_checks([blend()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# A fine grid of temperatures in [1/4, 4] (index 1000 is t = 1).
TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(4), 2001))


def tempered_losses(y, logs):
    """Log loss of each candidate (1 - w, w) over the two parts' log-probabilities
    ``logs``, at each temperature of TEMPERATURES."""
    return np.array([[log_loss(y, softmax(t * ((1 - w) * logs[0] + w * logs[1]), axis=1),
                               labels=np.unique(Y)) for t in TEMPERATURES]
                     for w in (0, 0.25, 0.5, 0.75, 1)])


def test_weights_are_chosen_by_held_out_log_loss():
    model = blend().fit(X, Y)
    # The same split and part fits, by hand.
    train, valid = train_test_split(np.arange(len(Y)), test_size=20, stratify=Y,
                                    random_state=0)
    valid = np.sort(valid)
    train = np.sort(train)
    logs = [np.log(np.clip(clone(est).fit(X[train], Y[train]).predict_proba(X[valid]),
                           1e-12, None)) for _, est in model.estimators]
    losses = tempered_losses(Y[valid], logs)
    expected = losses.min(axis=1)
    np.testing.assert_allclose(model.validation_log_loss_, expected, rtol=1e-5)
    np.testing.assert_allclose(model.temperature_,
                               TEMPERATURES[losses[np.argmin(expected)].argmin()], rtol=1e-2)
    # The temperature fitted is not 1 here: the loss at t = 1 is higher.
    assert model.validation_log_loss_.min() < losses[np.argmin(expected), 1000] - 1e-3
    np.testing.assert_array_equal(model.validation_index_, valid)
    np.testing.assert_array_equal(model.weights_,
                                  model.candidate_weights_[np.argmin(expected)])
    np.testing.assert_allclose(model.candidate_weights_[:, 1], [0, 0.25, 0.5, 0.75, 1])


def _last_column(X):
    return X[:, -1:]


def test_prefer_leans_to_a_part_within_one_standard_error_of_the_best():
    # 20 held-out rows: the least-loss weights (0.5, 0.5) beat the naive Bayes part alone
    # by less than the noise of 20 rows, so prefer="nb" takes the candidate with the most
    # of it that is within one standard error.
    plain, leaning = blend().fit(X, Y), blend(prefer="nb").fit(X, Y)
    np.testing.assert_array_equal(plain.validation_log_loss_, leaning.validation_log_loss_)
    best = int(np.argmin(plain.validation_log_loss_))
    chosen = int(np.flatnonzero((leaning.candidate_weights_ == leaning.weights_).all(1))[0])
    assert leaning.weights_[1] > plain.weights_[1] and chosen != best
    # By hand: the rows' losses at each candidate's own temperature, paired with the best's.
    valid = leaning.validation_index_
    train = np.setdiff1d(np.arange(len(Y)), valid)
    logs = [np.log(np.clip(clone(est).fit(X[train], Y[train]).predict_proba(X[valid]),
                           1e-12, None)) for _, est in leaning.estimators]

    def rows(i):
        w = leaning.candidate_weights_[i]
        t = _fit_temperature(w[0] * logs[0] + w[1] * logs[1], Y[valid])[0]
        return -log_softmax(t * (w[0] * logs[0] + w[1] * logs[1]), axis=1)[
            np.arange(len(valid)), Y[valid]]

    within = [i for i in range(5)
              if (rows(i) - rows(best)).mean()
              <= (rows(i) - rows(best)).std(ddof=1) / np.sqrt(len(valid))]
    assert chosen == max(within, key=lambda i: leaning.candidate_weights_[i, 1])
    # On many held-out rows a clearly better part is not overruled by the preference: a
    # part that reads one noise column only is preferred in vain.
    Xb, Yb = make_classification(n_samples=2000, n_features=8, n_informative=6,
                                 n_redundant=0, shuffle=False, n_classes=3, random_state=0)
    noise = make_pipeline(FunctionTransformer(_last_column), LogisticRegression())
    strong = BlendingClassifier([("lr", LogisticRegression(max_iter=1000)),
                                 ("noise", noise)], prefer="noise",
                                validation_fraction=0.5, random_state=0).fit(Xb, Yb)
    assert strong.weights_.tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="prefer='svm' is not the name of a part"):
        blend(prefer="svm").fit(X, Y)


def test_the_default_pipeline_prefers_its_linear_part():
    from sk_slm import make_lstm_pipeline

    assert make_lstm_pipeline()[-1].prefer == "linear"
    assert make_lstm_pipeline(language_model="bundled")[-1].prefer == "linear"


def test_predictions_blend_the_parts_fitted_on_all_data():
    model = blend(weights=[[1, 1]]).fit(X, Y)
    lr = LogisticRegression(max_iter=1000).fit(X, Y)
    nb = GaussianNB().fit(X, Y)
    logs = [np.log(np.clip(part.predict_proba(X), 1e-12, None)) for part in (lr, nb)]
    expected = softmax(model.temperature_ * (0.5 * logs[0] + 0.5 * logs[1]), axis=1)
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(model.predict(X), expected.argmax(1))
    np.testing.assert_allclose(model.weights_, [0.5, 0.5])
    assert set(model.named_estimators_) == {"lr", "nb"}
    np.testing.assert_allclose(model.named_estimators_["lr"].coef_, lr.coef_)


def test_a_part_with_zero_weight_is_not_run_at_prediction():
    class Exploding(DummyClassifier):
        def predict_proba(self, X):
            if getattr(self, "armed", False):
                raise AssertionError("a zero-weight part was asked to predict")
            return super().predict_proba(X)

    model = BlendingClassifier([("lr", LogisticRegression(max_iter=1000)),
                                ("dummy", Exploding())], weights=[[1, 0]]).fit(X, Y)
    model.named_estimators_["dummy"].armed = True
    assert model.predict(X).shape == (len(X),)


def test_string_labels_and_a_part_missing_a_class_in_the_training_rows():
    y = np.array(["cat", "dog", "emu"])[Y]
    y[0] = "yak"  # one row: the held-out stage's parts may never see it
    model = blend(validation_fraction=0.2).fit(X, y)
    assert list(model.classes_) == ["cat", "dog", "emu", "yak"]
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba.sum(1), 1)
    assert set(model.predict(X)) <= set(model.classes_)


@pytest.mark.slow
def test_nested_parameters_route_and_grid_search_tunes_them():
    model = blend()
    params = model.get_params()
    assert params["lr__C"] == 1.0 and "nb__var_smoothing" in params
    model.set_params(lr__C=0.5, validation_fraction=0.2)
    assert model.estimators[0][1].C == 0.5 and model.validation_fraction == 0.2
    model.set_params(nb=DummyClassifier(strategy="prior"))
    assert isinstance(model.estimators[1][1], DummyClassifier)
    search = GridSearchCV(blend(), {"lr__C": [0.01, 1.0]}, cv=3).fit(X, Y)
    assert search.best_params_["lr__C"] in (0.01, 1.0)
    assert search.best_estimator_.named_estimators_["lr"].C == search.best_params_["lr__C"]


class HoldsOut(ClassifierMixin, BaseEstimator):
    """Holds out the last fifth of its training rows, like the network's early stopping,
    and counts its fits."""

    fits = 0

    def fit(self, X, y):
        type(self).fits += 1
        n = len(y)
        self.validation_index_ = np.arange(n - n // 5, n)
        inner = LogisticRegression(max_iter=1000).fit(X[: n - n // 5], y[: n - n // 5])
        self.validation_proba_ = inner.predict_proba(X[self.validation_index_])
        self.model_ = LogisticRegression(max_iter=1000).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_a_part_that_holds_out_data_is_fitted_once_and_its_rows_are_used():
    HoldsOut.fits = 0
    model = BlendingClassifier([("net", make_pipeline(HoldsOut())), ("nb", GaussianNB())],
                               random_state=0).fit(X, Y)
    assert HoldsOut.fits == 1
    np.testing.assert_array_equal(model.validation_index_, np.arange(160, 200))
    nb = GaussianNB().fit(X[:160], Y[:160])
    held = model.named_estimators_["net"][-1].validation_proba_
    logs = [np.log(held), np.log(nb.predict_proba(X[160:]))]
    expected = tempered_losses(Y[160:], logs).min(axis=1)
    np.testing.assert_allclose(model.validation_log_loss_, expected, rtol=1e-5)


@pytest.mark.parametrize("params, message", [
    ({"estimators": [("lr", LogisticRegression())]}, "at least two"),
    ({"estimators": [("a", LogisticRegression()), ("a", GaussianNB())]}, "duplicate"),
    ({"estimators": [("a__b", LogisticRegression()), ("c", GaussianNB())]}, "'a__b'"),
    ({"estimators": [("weights", LogisticRegression()), ("c", GaussianNB())]}, "'weights'"),
    ({"estimators": [("svc", LinearSVC()), ("nb", GaussianNB())]}, "'svc'.*predict_proba"),
    ({"weights": [[1, 0, 0]]}, "weights must be"),
    ({"weights": [[-1, 2]]}, "weights must be"),
    ({"weights": [[0, 0]]}, "weights must be"),
    ({"weights": [0.5, 0.5]}, "weights must be"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"validation_fraction": True}, "validation_fraction"),
])
def test_bad_parameters_are_named(params, message):
    model = blend()
    model.set_params(**params)
    with pytest.raises(ValueError, match=message):
        model.fit(X, Y)


def test_sample_weight_reaches_every_fit_cut_to_its_rows():
    # Each part's sample_weight has the rows of the data it is fitted on (the held-out
    # fits too); weights near 0 on class 2 make the parts rarely predict it.
    weight = np.where(Y == 2, 1e-6, 1.0)
    model = blend().fit(X, Y, sample_weight=weight)
    unweighted = blend().fit(X, Y)
    assert (model.predict(X) == 2).sum() < (unweighted.predict(X) == 2).sum()
    np.testing.assert_allclose(
        model.named_estimators_["lr"].coef_,
        LogisticRegression(max_iter=1000).fit(X, Y, sample_weight=weight).coef_)


class _Recorder(LogisticRegression):
    """A LogisticRegression that keeps the sample weights of its last fit."""

    def fit(self, X, y, sample_weight=None):
        self.seen_weight_ = sample_weight
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_named_fit_parameter_reaches_only_its_part_cut_to_its_rows():
    weight = np.linspace(0.5, 1.5, len(Y))
    parts = [("lr", _Recorder(max_iter=1000)), ("nb", GaussianNB())]
    model = BlendingClassifier(parts, random_state=0).fit(X, Y, lr__sample_weight=weight)
    np.testing.assert_array_equal(model.named_estimators_["lr"].seen_weight_, weight)
    np.testing.assert_array_equal(  # nb got none: as if fitted without weights
        model.named_estimators_["nb"].theta_, GaussianNB().fit(X, Y).theta_)
    # The held-out fit of the part got the weights of its training rows.
    seen = []
    original = _Recorder.fit

    def spy(self, X_, y_, sample_weight=None):
        seen.append(sample_weight)
        return original(self, X_, y_, sample_weight=sample_weight)

    _Recorder.fit = spy
    try:
        BlendingClassifier(parts, random_state=0).fit(X, Y, lr__sample_weight=weight)
    finally:
        _Recorder.fit = original
    train = np.setdiff1d(np.arange(len(Y)), model.validation_index_)
    np.testing.assert_array_equal(seen[1], weight[train])


def test_metadata_routing_sends_sample_weight_to_the_parts_that_request_it():
    from sklearn import config_context
    from sklearn.model_selection import cross_val_score

    weight = np.where(Y == 2, 1e-6, 1.0)
    with config_context(enable_metadata_routing=True):
        parts = [("lr", _Recorder(max_iter=1000).set_fit_request(sample_weight=True)),
                 ("nb", GaussianNB().set_fit_request(sample_weight=False))]
        model = BlendingClassifier(parts, random_state=0).fit(X, Y, sample_weight=weight)
        np.testing.assert_array_equal(model.named_estimators_["lr"].seen_weight_, weight)
        np.testing.assert_array_equal(model.named_estimators_["nb"].theta_,
                                      GaussianNB().fit(X, Y).theta_)
        # cross-validation with metadata: each fold's parts and score get their rows.
        scorer_blend = BlendingClassifier(parts, random_state=0).set_score_request(
            sample_weight=True)
        scores = cross_val_score(scorer_blend, X, Y, cv=3, params={"sample_weight": weight})
        assert scores.shape == (3,)
        # A part that has not said whether it wants sample_weight is an error, as in
        # scikit-learn's own meta-estimators.
        unset = BlendingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())])
        with pytest.raises(Exception, match="sample_weight"):
            unset.fit(X, Y, sample_weight=weight)


def test_a_single_class_part_and_a_left_out_part_are_warned_and_recorded():
    parts = [("lr", LogisticRegression(max_iter=1000)),
             ("dummy", DummyClassifier(strategy="most_frequent"))]
    with pytest.warns(BlendWeightWarning) as record:
        model = BlendingClassifier(parts, random_state=0).fit(X, Y)
    assert model.single_class_parts_ == ["dummy"]
    np.testing.assert_allclose(model.weights_, [1, 0])
    messages = [str(w.message) for w in record]
    assert any("['dummy'] predicted a single class for all 20 held-out rows" in m
               for m in messages)
    assert any("leave out ['dummy']" in m and "lr 1, dummy 0" in m for m in messages)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BlendWeightWarning)
        healthy = blend(weights=[[1, 1]]).fit(X, Y)  # both parts kept: no warning
    assert healthy.single_class_parts_ == []


def test_too_few_rows_to_hold_out():
    with pytest.raises(ValueError, match="too few"):
        blend().fit(X[:3], [0, 1, 2])


def test_three_parts_default_to_a_grid_of_quarters():
    model = BlendingClassifier([("lr", LogisticRegression(max_iter=1000)), ("nb", GaussianNB()),
                                ("dummy", DummyClassifier())], random_state=0).fit(X, Y)
    assert model.candidate_weights_.shape == (15, 3)
    np.testing.assert_allclose(model.candidate_weights_.sum(1), 1)
    assert model.predict_proba(X).shape == (len(X), 3)


TEXTS = ["很好吃推荐", "太难吃了失望", "好吃又便宜", "难吃又贵", "味道很好", "味道很差"] * 8
LABELS = np.array(["pos", "neg", "pos", "neg", "pos", "neg"] * 8)


@pytest.mark.slow
def test_with_the_network_it_trains_the_network_once_on_the_held_out_rows_it_kept():
    network = make_pipeline(TokenIndexer(), LSTMAttentionClassifier(
        hidden_size=8, module__embedding_dim=8, max_epochs=3, bag_ngrams=0, random_state=0))
    linear = make_pipeline(
        TfidfVectorizer(tokenizer=passthrough_analyzer, preprocessor=passthrough_analyzer,
                        token_pattern=None, ngram_range=(1, 2)),
        LogisticRegression())
    model = make_pipeline(JiebaSegmenter(granularity="char"), BlendingClassifier(
        [("network", network), ("linear", linear)])).fit(TEXTS, LABELS)
    fitted = model[-1].named_estimators_["network"][-1]
    assert [name for name, _ in fitted.train_passes_] == ["early_stopping", "refit"]
    np.testing.assert_array_equal(model[-1].validation_index_, fitted.validation_index_)
    assert len(fitted.validation_index_) == 5  # 10% of 48, rounded up by skorch's split
    proba = model.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS), 2)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-6)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict_proba(TEXTS), proba)


def test_in_a_pipeline_a_part_weighted_by_name_gets_the_rows_beside_the_networks():
    # The user's path: Pipeline -> blend -> part -> step. The network keeps its own
    # held-out rows; the linear part's held-out fit gets the weights of the others.
    network = make_pipeline(TokenIndexer(), LSTMAttentionClassifier(
        hidden_size=8, module__embedding_dim=8, max_epochs=2, bag_ngrams=0, random_state=0))
    seen = []

    class Spy(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            seen.append(sample_weight)
            return super().fit(X, y, sample_weight=sample_weight)

    linear = Pipeline([("tfidf", TfidfVectorizer(
        tokenizer=passthrough_analyzer, preprocessor=passthrough_analyzer, token_pattern=None)),
        ("logreg", Spy())])
    model = Pipeline([("segmenter", JiebaSegmenter(granularity="char")),
                      ("blend", BlendingClassifier([("network", network), ("linear", linear)]))])
    weight = np.arange(1, len(TEXTS) + 1, dtype=float)
    model.fit(TEXTS, LABELS, blend__linear__logreg__sample_weight=weight)
    train = np.setdiff1d(np.arange(len(TEXTS)), model[-1].validation_index_)
    np.testing.assert_array_equal(seen[0], weight)
    np.testing.assert_array_equal(seen[1], weight[train])
    # Given to every part, the weights reach the network, which says it takes none.
    with pytest.raises(TypeError, match="takes no sample_weight"):
        model[-1].fit(model[0].transform(TEXTS), LABELS,
                      network__lstmattentionclassifier__sample_weight=weight)


@pytest.mark.slow
def test_docstring_example_runs():
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module("sk_slm.blending"))
    assert result.attempted >= 5 and result.failed == 0


def test_explain_warns_when_the_network_it_explains_has_weight_zero():
    from sk_slm import explain

    network = make_pipeline(TokenIndexer(), LSTMAttentionClassifier(
        hidden_size=8, module__embedding_dim=8, max_epochs=2, bag_ngrams=0, random_state=0))
    linear = make_pipeline(
        TfidfVectorizer(tokenizer=passthrough_analyzer, preprocessor=passthrough_analyzer,
                        token_pattern=None), LogisticRegression())
    model = make_pipeline(JiebaSegmenter(granularity="char"), BlendingClassifier(
        [("network", network), ("linear", linear)], weights=[[0, 1]])).fit(TEXTS, LABELS)
    with pytest.warns(BlendWeightWarning, match="'network' part, which has weight 0"):
        dropped = explain(model, TEXTS[:2], method="attention")
    model.set_params(blendingclassifier__weights=[[1, 1]]).fit(TEXTS, LABELS)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BlendWeightWarning)
        kept = explain(model, TEXTS[:2], method="attention")
    assert [len(d) for d in dropped] == [len(d) for d in kept] == [5, 6]
