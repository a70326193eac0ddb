"""Bad and odd input everywhere: documents, labels, empty data; every row kept."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline

from sk_slm import (
    JiebaSegmenter,
    LSTMAttentionClassifier,
    TokenIndexer,
    Word2VecVectorizer,
)

# Documents that are odd but valid: each must get exactly one prediction.
ODD_DOCUMENTS = {
    "empty document": [""],
    "whitespace only": ["   \t\n  "],
    "1 MB document": ["好吃" * 500_000],
    "control characters": ["\x00\x01\x07好\x7f\x1b[31m"],
    "lone surrogates": ["\ud800好\udfff"],
    "emoji": ["😀👍🏻🍜"],
    "traditional Chinese": ["這個產品質量很好，物流也很快"],
    "mixed scripts": ["Pythonは最高 😀 très bien 好吃 ١٢٣"],
    "full-width and digits": ["ＡＢＣ１２３，很好"],
    "only punctuation": ["。。。！！！？？"],
    "only unknown words": ["魑魅魍魉饕餮"],
    "many empty documents": [""] * 50,
    "generator input": lambda: (d for d in ["好吃", "难吃"]),
    "tuple input": ("好吃", "难吃"),
    "numpy array": np.array(["好吃", "难吃"]),
    "pandas Series": pd.Series(["好吃", "难吃"], index=[10, 3]),
    "one-column DataFrame": pd.DataFrame({"t": ["好吃", "难吃"]}),
    "zero-width characters": ["好\u200b吃\ufeff"],
    "right-to-left marks": ["\u202e好吃\u202c"],
    "newlines inside": ["第一行\n第二行\r\n第三行"],
}

# Bad input: (documents, error type, text the message must contain).
BAD_DOCUMENTS = {
    "None among documents": (["好", None], ValueError, "X[1]"),
    "NaN among documents": (["好", math.nan], ValueError, "X[1]"),
    "bytes among documents": ([b"\xe5\xa5\xbd"], ValueError, "X[0]"),
    "int among documents": (["好", 3], ValueError, "X[1]"),
    "float among documents": ([2.5], ValueError, "X[0]"),
    "bare string": ("好吃", TypeError, "list of documents"),
    "bare bytes": (b"abc", TypeError, "list of documents"),
    "nested lists": ([["好", "吃"]], ValueError, "X[0]"),
    "dict of documents": ({"a": "好"}, TypeError, "mapping"),
    "set of documents": ({"好", "坏"}, TypeError, "unordered"),
    "not iterable": (42, TypeError, "iterable"),
    "2-D array": (np.array([["a", "b"], ["c", "d"]]), ValueError, "1-D"),
    "two-column DataFrame": (pd.DataFrame({"a": ["x"], "b": ["y"]}), ValueError, "columns"),
    "Series with a missing value": (pd.Series(["好", None]), ValueError, "X[1]"),
    "pandas NA": (["好", pd.NA], ValueError, "X[1]"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(ODD_DOCUMENTS))
def test_odd_documents_get_one_prediction_each(pipe, case):
    docs = ODD_DOCUMENTS[case]
    docs = docs() if callable(docs) else docs
    n = len(docs) if hasattr(docs, "__len__") else 2
    pred = pipe.predict(docs)
    assert len(pred) == n
    assert set(pred) <= set(pipe.classes_)


@pytest.mark.parametrize("case", sorted(ODD_DOCUMENTS))
def test_odd_documents_through_the_segmenter_keep_every_row(case):
    docs = ODD_DOCUMENTS[case]
    docs = docs() if callable(docs) else docs
    n = len(docs) if hasattr(docs, "__len__") else 2
    assert len(JiebaSegmenter().fit_transform(docs)) == n


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
@pytest.mark.parametrize("method", ["segment", "predict", "fit"])
def test_bad_documents_get_a_clear_error(pipe, case, method, toy_sentiment):
    docs, error, message = BAD_DOCUMENTS[case]
    with pytest.raises(error, match=__import__("re").escape(message)):
        if method == "segment":
            JiebaSegmenter().fit_transform(docs)
        elif method == "predict":
            pipe.predict(docs)
        else:
            n = len(docs) if hasattr(docs, "__len__") and not isinstance(docs, (str, bytes)) else 2
            pipe.fit(docs, (["a", "b"] * n)[:n])


def test_empty_input():
    assert JiebaSegmenter().fit_transform([]) == []


def test_empty_input_to_a_fitted_pipeline(pipe):
    assert len(pipe.predict([])) == 0
    assert pipe.predict_proba([]).shape == (0, 2)


@pytest.mark.parametrize(
    "y, message",
    [
        (["a"] * 240, "single class"),
        (["a", "b"] * 60, "240 (documents|rows) but y has 120"),
        ([None] * 240, "class labels"),
        (np.linspace(0, 1, 240), "continuous"),
        (np.zeros((240, 2)), "1-D"),
        ([1, "a"] * 120, "mixes"),
        ([0.0, math.nan] * 120, "NaN"),
    ],
)
@pytest.mark.parametrize("model", ["network", "default"])
def test_bad_labels(toy_sentiment, y, message, model):
    from sk_slm import make_lstm_pipeline

    X, _ = toy_sentiment
    clf = (make_pipeline(JiebaSegmenter(), TokenIndexer(), LSTMAttentionClassifier(max_epochs=1))
           if model == "network" else make_lstm_pipeline(max_epochs=1))
    with pytest.raises((ValueError, TypeError), match=message):
        clf.fit(X, y)


def test_unseen_labels_in_score_count_as_wrong(pipe, toy_sentiment):
    X, y = toy_sentiment
    assert pipe.score(X[:10], ["never seen"] * 10) == 0.0


def test_raw_text_given_to_the_vectorizer_points_to_the_segmenter():
    with pytest.raises(TypeError, match="JiebaSegmenter"):
        Word2VecVectorizer().fit(["好吃", "难吃"])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=60), min_size=1, max_size=8))
def test_random_unicode_through_the_whole_pipeline(pipe, docs):
    proba = pipe.predict_proba(docs)
    assert proba.shape == (len(docs), 2)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)

# ------------------------------------------------------------------ any labels
N_LABELLED = 24
LABEL_VALUES = st.one_of(
    st.sampled_from(["pos", "neg", "中性", ""]), st.integers(-2, 2), st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True, width=32), st.none())
LABELS = st.one_of(
    st.lists(LABEL_VALUES, min_size=N_LABELLED, max_size=N_LABELLED),  # anything, mixed
    st.lists(st.sampled_from(["pos", "neg", "中性"]), min_size=N_LABELLED, max_size=N_LABELLED),
    st.lists(st.integers(0, 3), min_size=N_LABELLED, max_size=N_LABELLED),
    st.lists(st.sampled_from([0.5, 1.5, math.nan]), min_size=N_LABELLED, max_size=N_LABELLED),
)
LABEL_WORDS = r"\by\b|\by\[\d+\]|class"  # the message names y (or a row of it) or a class


def _fits_or_names_the_labels(fit_predict, X, y):
    """Labels of any kind either fit (then every document gets one of them) or get a
    ValueError / TypeError that says what is wrong with y; never another exception."""
    try:
        pred = fit_predict(X, y)
    except (ValueError, TypeError) as error:
        assert re.search(LABEL_WORDS, str(error)), str(error)
        return
    assert len(pred) == len(X)
    assert set(np.asarray(pred).tolist()) <= set(np.asarray(y, dtype=object).tolist())


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(LABELS)
def test_any_labels_fit_or_are_refused_by_name(toy_sentiment, y):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB

    from sk_slm import BlendingClassifier, passthrough_analyzer

    X, _ = toy_sentiment
    tokens = JiebaSegmenter().fit_transform(X[:N_LABELLED])
    network = LSTMAttentionClassifier(hidden_size=4, module__embedding_dim=4,
                                      module__attention_size=2, max_epochs=1,
                                      early_stopping=False, random_state=0)
    _fits_or_names_the_labels(lambda X, y: network.fit(X, y).predict(X),
                              TokenIndexer().fit_transform(tokens), y)
    blend = make_pipeline(CountVectorizer(analyzer=passthrough_analyzer), BlendingClassifier(
        [("lr", LogisticRegression()), ("nb", MultinomialNB())], validation_fraction=0.25,
        random_state=0))
    _fits_or_names_the_labels(lambda X, y: blend.fit(X, y).predict(X), tokens, y)


@pytest.mark.slow
@settings(max_examples=20, deadline=None)
@given(LABELS)
def test_compare_takes_any_labels_or_names_the_problem(toy_sentiment, y):
    from sk_slm import compare

    X, _ = toy_sentiment

    def fit_predict(X, y):
        table = compare(X, y, models=["nb_word_counts"], cv=2)
        assert list(table.index) == ["nb_word_counts"]
        return y  # compare predicts nothing to return: its table is the result

    _fits_or_names_the_labels(fit_predict, X[:N_LABELLED], y)
