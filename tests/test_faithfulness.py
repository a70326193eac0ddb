"""faithfulness(): ERASER's comprehensiveness and sufficiency against random tokens."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sk_slm import JiebaSegmenter, NGramTfidfVectorizer, faithfulness, make_lstm_pipeline

SENTIMENT = set("好吃很棒满意推荐喜欢新鲜实惠快难差失望退款讨厌变质太贵慢")


@pytest.fixture(scope="module")
def linear(toy_sentiment):
    X, y = toy_sentiment
    return make_pipeline(JiebaSegmenter(granularity="char"), NGramTfidfVectorizer(ngram_range=(1, 1)),
                         LogisticRegression(C=10)).fit(X, y)


def sentiment_first(model, X):
    """An oracle: the characters of the sentiment words first."""
    return [[float(t in SENTIMENT) for t in doc] for doc in model[0].transform(X)]


def fillers_first(model, X):
    return [[1.0 - s for s in doc] for doc in sentiment_first(model, X)]


def test_an_explanation_that_finds_the_evidence_beats_random_and_one_that_misses_it_does_not(
        linear, toy_sentiment):
    X, _ = toy_sentiment
    good = faithfulness(linear, X, method=sentiment_first).set_index(["measure", "tokens"])
    bad = faithfulness(linear, X, method=fillers_first).set_index(["measure", "tokens"])
    for amount in ("1", "2", "3", "10%", "20%"):
        # Removing the evidence moves the prediction more than removing random tokens...
        assert good.loc[("comprehensiveness", amount), "low"] > 0
        assert bad.loc[("comprehensiveness", amount), "high"] < 0
        # ...and the evidence alone keeps it better than random tokens alone.
        assert good.loc[("sufficiency", amount), "difference"] < 0
        assert (good.loc[("prediction kept", amount), "explanation"]
                >= good.loc[("prediction kept", amount), "random"])
    assert good.loc[("flip rate", "3"), "explanation"] > good.loc[("flip rate", "3"), "random"]
    # The random baseline is the same draw for both (same random_state).
    np.testing.assert_allclose(good["random"], bad["random"])


def test_the_table_covers_every_document_measure_and_amount(toy_sentiment):
    X, y = toy_sentiment
    pipe = make_lstm_pipeline(hidden_size=8, attention_size=4, max_epochs=7, ngram_warmup=1,
                              verbose=0).fit(X[:160], y[:160])
    docs = list(X[160:200]) + ["", "好"]
    table = faithfulness(pipe, docs, tokens=(1, 0.5))  # the attention
    assert list(table.columns) == ["measure", "tokens", "explanation", "random", "difference",
                                   "low", "high", "documents"]
    assert table.measure.tolist() == ["comprehensiveness"] * 2 + ["flip rate"] * 2 + [
        "sufficiency"] * 2 + ["prediction kept"] * 2
    assert table.tokens.tolist() == ["1", "50%"] * 4
    assert (table.documents == len(docs)).all()
    rates = table[table.measure.isin(["flip rate", "prediction kept"])]
    assert rates[["explanation", "random"]].stack().between(0, 1).all()
    assert np.allclose(table.difference, table.explanation - table.random)
    assert (table.low <= table.difference).all() and (table.difference <= table.high).all()
    again = faithfulness(pipe, docs, tokens=(1, 0.5))
    np.testing.assert_allclose(again[["explanation", "random"]], table[["explanation", "random"]])


def test_bad_calls_are_refused_by_name(linear, toy_sentiment):
    X, _ = toy_sentiment
    with pytest.raises(TypeError, match="first step is a JiebaSegmenter"):
        faithfulness(linear[1:], X)
    for bad in ([0], [1.5], [True], []):
        with pytest.raises(ValueError, match="tokens"):
            faithfulness(linear, X, tokens=bad)
    with pytest.raises(ValueError, match="document 0, which has"):
        faithfulness(linear, X, method=lambda model, docs: [[1.0]] * len(docs))
    with pytest.raises(ValueError, match="method='gradients'"):
        faithfulness(linear, X, method="gradients")
