"""scikit-learn's own estimator checks on every public estimator.

Our estimators take text (strings or token lists), and declare it with
``input_tags.string=True, two_d_array=False``. For such estimators
``parametrize_with_checks`` runs only the cloneability check and skips the rest, since
they generate numeric 2-D data. So we run it, then run the data-free API checks
directly, then text-data versions of the data-dependent ones (fit returns self, no
parameter is changed by fit, unfitted estimators raise NotFittedError, no attributes
are set in __init__), and text versions of the checks that feed data: idempotent fit,
subset and order invariance, predictions that change no attribute, fit_transform as fit
then transform, empty data and one class refused, labels kept.
"""

import pickle

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
    parametrize_with_checks,
)

from sk_slm import (
    JiebaSegmenter,
    LanguageModelFeatures,
    LSTMAttentionClassifier,
    NGramTfidfVectorizer,
    TokenIndexer,
    TokenSequences,
    Word2VecVectorizer,
)

TEXTS = ["我爱北京天安门", "今天天气很好", "北京欢迎你", "天气不好"] * 6
LABELS = np.array(["a", "b", "a", "b"] * 6)
TOKENS = JiebaSegmenter().fit_transform(TEXTS)
SEQUENCES = TokenIndexer().fit_transform(TOKENS)
CHARACTERS = TokenIndexer(vocabulary="bundled").fit_transform([list(t) for t in TEXTS])

ESTIMATORS = [
    JiebaSegmenter(),
    Word2VecVectorizer(vector_size=8, min_count=1, random_state=0),
    LSTMAttentionClassifier(hidden_size=8, module__embedding_dim=8, max_epochs=2,
                            ngram_warmup=1, random_state=0),
    # The language-model pre-training path (fit must still change no parameter, etc.).
    LSTMAttentionClassifier(hidden_size=8, module__embedding_dim=8, max_epochs=2,
                            ngram_warmup=1, pretrain_epochs=1, random_state=0),
    NGramTfidfVectorizer(),
    TokenIndexer(),
    # The bundled language model: as features, and as the classifier's starting point.
    LanguageModelFeatures(),
    LSTMAttentionClassifier(language_model="bundled", max_epochs=2, ngram_warmup=1,
                            random_state=0),
]


def data_for(est):
    if isinstance(est, (JiebaSegmenter, LanguageModelFeatures)):
        return TEXTS, None
    if isinstance(est, LSTMAttentionClassifier):
        return (SEQUENCES if est.language_model is None else CHARACTERS), LABELS
    return TOKENS, (LABELS if is_classifier(est) else None)


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_parametrize_with_checks(estimator, check):
    check(estimator)


API_CHECKS = [
    check_estimator_tags_renamed,
    check_valid_tag_types,
    check_estimator_repr,
    check_no_attributes_set_in_init,
    check_do_not_raise_errors_in_init_or_set_params,
    check_mixin_order,
    check_get_params_invariance,
    check_set_params,
]


EXPECTED_FAILURES = {
    ("LSTMAttentionClassifier", "check_no_attributes_set_in_init"):
        "skorch's NeuralNet.__init__ itself sets history_, initialized_ and virtual_params_",
    ("LSTMAttentionClassifier", "check_do_not_raise_errors_in_init_or_set_params"):
        "skorch's set_params(callbacks=...) re-initialises callbacks at once, so nonsense "
        "values fail there rather than in fit",
}


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", API_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_api_checks(est, check):
    reason = EXPECTED_FAILURES.get((type(est).__name__, check.__name__))
    if reason:
        with pytest.raises((AssertionError, AttributeError, TypeError)):
            check(type(est).__name__, clone(est))
        return
    check(type(est).__name__, clone(est))


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_default_constructible(est):
    check_parameters_default_constructible(type(est).__name__, type(est)())


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_text_fit_returns_self_and_keeps_params(est):
    est = clone(est)
    X, y = data_for(est)
    before = {k: repr(v) for k, v in est.get_params(deep=False).items()}
    assert est.fit(X, y) is est
    after = {k: repr(v) for k, v in est.get_params(deep=False).items()}
    assert before == after
    for key in vars(est):
        if not key.endswith("_") and not key.startswith("_"):
            assert key in before, f"fit set a public attribute {key!r} that is not a parameter"


@pytest.mark.parametrize("est", ESTIMATORS[1:], ids=lambda e: type(e).__name__)
def test_unfitted_raises_not_fitted(est):
    X, _ = data_for(est)
    method = est.predict if is_classifier(est) else est.transform
    with pytest.raises(NotFittedError):
        method(X)


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_fitted_estimator_pickles_with_identical_output(est):
    est = clone(est)
    X, y = data_for(est)
    est.fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    if is_classifier(est):
        np.testing.assert_array_equal(restored.predict_proba(X), est.predict_proba(X))
    else:
        _assert_same(_output(est, X), _output(restored, X))


def test_tags_declare_text_input():
    from sklearn.utils import get_tags

    for est in ESTIMATORS:
        tags = get_tags(est)
        assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert get_tags(ESTIMATORS[2]).estimator_type == "classifier"


# Text versions of scikit-learn's data-dependent checks (their generated data are
# numeric matrices, which these estimators do not take).
def _output(est, X):
    """What the estimator makes of X, as a comparable array (or list of token lists)."""
    out = est.predict_proba(X) if is_classifier(est) else est.transform(X)
    if isinstance(out, TokenSequences):
        return [(ids.tolist(), out.tokens(i)) for i, ids in enumerate(out)]
    if sparse.issparse(out):
        return out.toarray()
    return out if isinstance(out, list) else np.asarray(out)


def _assert_same(a, b):
    if isinstance(a, list):
        assert a == b
    else:
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _fitted(est):
    est = clone(est)
    X, y = data_for(est)
    return est.fit(X, y), X


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_text_fit_is_idempotent(est):
    # check_fit_idempotent: fitting twice with the same random_state gives the same model.
    fitted, X = _fitted(est)
    first = _output(fitted, X)
    refit, _ = _fitted(fitted)
    _assert_same(first, _output(refit, X))


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_text_methods_are_subset_and_order_invariant(est):
    # check_methods_subset_invariance and check_methods_sample_order_invariance.
    fitted, X = _fitted(est)
    whole = _output(fitted, X)
    halves = [_output(fitted, X[:7]), _output(fitted, X[7:])]
    _assert_same(whole, halves[0] + halves[1] if isinstance(whole, list)
                 else np.concatenate(halves))
    order = np.random.RandomState(0).permutation(len(X))
    shuffled = _output(fitted, X[order] if isinstance(X, TokenSequences)
                       else [X[i] for i in order])
    _assert_same([whole[i] for i in order] if isinstance(whole, list) else whole[order],
                 shuffled)


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_text_predicting_changes_no_attribute(est):
    # check_dict_unchanged: transform / predict / predict_proba leave the estimator as is.
    fitted, X = _fitted(est)
    before = {k: repr(v) for k, v in vars(fitted).items()}
    methods = ["predict", "predict_proba"] if is_classifier(fitted) else ["transform"]
    for method in methods:
        getattr(fitted, method)(X)
        assert {k: repr(v) for k, v in vars(fitted).items()} == before, method


@pytest.mark.parametrize("est", [e for e in ESTIMATORS if not is_classifier(e)],
                         ids=lambda e: type(e).__name__)
def test_text_fit_transform_equals_fit_then_transform(est):
    # check_transformer_general.
    est = clone(est)
    X, _ = data_for(est)
    at_once = est.fit_transform(X)
    if isinstance(at_once, TokenSequences):
        at_once = [(ids.tolist(), at_once.tokens(i)) for i, ids in enumerate(at_once)]
    at_once = at_once.toarray() if sparse.issparse(at_once) else at_once
    _assert_same(at_once if isinstance(at_once, list) else np.asarray(at_once),
                 _output(clone(est).fit(X), X))


@pytest.mark.parametrize(
    "est", [e for e in ESTIMATORS if not isinstance(e, (JiebaSegmenter, LanguageModelFeatures))],
    ids=lambda e: type(e).__name__)
def test_text_empty_input_is_refused_with_a_message(est):
    # check_estimators_empty_data (the segmenter and the frozen language model learn
    # nothing from the documents in fit: they take any number, none included, as
    # FunctionTransformer does).
    est = clone(est)
    X, y = data_for(est)
    with pytest.raises(ValueError, match=r"\S"):
        est.fit(X[:0], y[:0] if y is not None else None)


@pytest.mark.parametrize("est", [e for e in ESTIMATORS if is_classifier(e)],
                         ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("labels", [LABELS, (LABELS == "a").astype(int) + 3],
                         ids=["strings", "ints"])
def test_text_classes_keep_the_labels_given(est, labels):
    # check_classifiers_classes: classes_ are the labels, predictions among them.
    X = data_for(est)[0]
    est = clone(est).fit(X, labels)
    np.testing.assert_array_equal(est.classes_, np.unique(labels))
    assert set(est.predict(X)) <= set(np.unique(labels))


@pytest.mark.parametrize("est", [e for e in ESTIMATORS if is_classifier(e)],
                         ids=lambda e: type(e).__name__)
def test_text_one_class_is_refused(est):
    # check_classifiers_one_label.
    with pytest.raises(ValueError, match="class"):
        clone(est).fit(data_for(est)[0], np.array(["a"] * len(TOKENS)))


def test_no_constraint_table_under_scikit_learns_name():
    # scikit-learn's BaseEstimator._validate_params reads _parameter_constraints with its
    # own constraint types; ours keep theirs apart.
    from sk_slm import BlendingClassifier

    for est in [*ESTIMATORS, BlendingClassifier([])]:
        assert not hasattr(est, "_parameter_constraints")
        assert hasattr(est, "_constraints")


def test_set_output_is_offered_only_where_it_works():
    # Like TfidfVectorizer, the sparse n-gram features offer no set_output.
    from sklearn.feature_extraction.text import TfidfVectorizer

    assert not hasattr(NGramTfidfVectorizer(), "set_output")
    assert not hasattr(TokenIndexer(), "set_output")  # its output is a TokenSequences
    assert not hasattr(TfidfVectorizer(), "set_output")
    frame = Word2VecVectorizer(vector_size=8, min_count=1, random_state=0).set_output(
        transform="pandas").fit_transform(TOKENS)
    assert frame.shape == (len(TOKENS), 8)


def test_skorch_parameters_the_classifier_does_not_use_are_refused():
    from skorch.dataset import ValidSplit

    with pytest.raises(ValueError, match="classes=.*not used"):
        clone(ESTIMATORS[2]).set_params(classes=["a", "b"]).fit(SEQUENCES, LABELS)
    with pytest.raises(ValueError, match="dataset=.*not used"):
        clone(ESTIMATORS[2]).set_params(dataset=ValidSplit).fit(SEQUENCES, LABELS)
    with pytest.raises(ValueError, match="iterator_train__shuffle is not used"):
        clone(ESTIMATORS[2]).set_params(iterator_train__shuffle=False).fit(SEQUENCES, LABELS)
    assert "_params_to_validate" not in ESTIMATORS[2].get_params()  # skorch's bookkeeping
