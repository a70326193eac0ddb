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
    pipe = make_lstm_pipeline(hidden_size=8, module__attention_size=4, max_epochs=7, ngram_warmup=1,
                              verbose=0).fit(X[:160], y[:160])
    docs = list(X[160:200]) + ["", "好"]
    table = faithfulness(pipe, docs, tokens=(1, 0.5), method="attention")
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
    again = faithfulness(pipe, docs, tokens=(1, 0.5), method="attention")
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
    with pytest.raises(ValueError, match="method=.gradients."):
        faithfulness(linear, X, method="gradients")


# --------------------------------------------------------------------- occlusion
def test_occlusion_is_each_tokens_leave_one_out_effect_on_the_whole_pipeline(toy_sentiment):
    from sk_slm import explain

    X, y = toy_sentiment
    pipe = make_lstm_pipeline(hidden_size=8, module__attention_size=4, max_epochs=7, ngram_warmup=1,
                              verbose=0).fit(X[:160], y[:160])
    docs = [X[200], X[201], "好", ""]
    explained = explain(pipe, docs, method="occlusion")
    assert [len(e) for e in explained] == [len(t) for t in pipe[0].transform(docs)]
    assert explained[3] == []
    for doc, pairs in zip(docs[:3], explained[:3], strict=True):
        proba = pipe.predict_proba([doc])[0]
        c = proba.argmax()
        for i, (token, value) in enumerate(pairs):
            assert doc[i] == token  # char tokens: the i-th character
            without = pipe.predict_proba([doc[:i] + doc[i + 1:]])[0][c]
            assert value == pytest.approx(np.log(proba[c]) - np.log(without), abs=1e-5)


def test_occlusion_ranks_the_evidence_first_and_is_faithful(linear, toy_sentiment):
    from sk_slm import explain

    X, _ = toy_sentiment
    explained = explain(linear, X[:60], method="occlusion")
    top = [max(pairs, key=lambda p: p[1])[0] for pairs in explained]
    assert np.mean([t in SENTIMENT for t in top]) > 0.9
    table = faithfulness(linear, X, method="occlusion").set_index(["measure", "tokens"])
    assert table.loc[("comprehensiveness", "1"), "low"] > 0
    assert table.loc[("sufficiency", "20%"), "high"] < 0


def test_explain_refuses_an_unknown_method_and_renders_contributions_against_in_another_colour(
        linear, toy_sentiment):
    from sk_slm import explain, render_attention_html

    X, _ = toy_sentiment
    with pytest.raises(ValueError, match="method='gradient'"):
        explain(linear, X[:2], method="gradient")
    with pytest.raises(TypeError, match="first step is a JiebaSegmenter"):
        explain(linear[1:], X[:2], method="occlusion")
    page = render_attention_html([[("好", 0.5), ("差", -0.25)]]).html
    assert "rgba(255, 99, 71, 1.00)" in page and "rgba(70, 130, 180, 0.50)" in page


def test_explanations_show_the_documents_own_characters(toy_sentiment):
    from sk_slm import explain

    X, y = toy_sentiment
    pipe = make_lstm_pipeline(hidden_size=8, module__attention_size=4, max_epochs=3, ngram_warmup=1,
                              verbose=0).fit(X[:120], y[:120])
    doc = "很棒，推荐！OK"
    for method in ("occlusion", "attention"):
        tokens = [t for t, _ in explain(pipe, [doc], method=method)[0]]
        assert "".join(tokens) == doc  # "，", "！" and "OK" as written, not ",", "!", "ok"


def test_each_parts_share_of_the_occlusion_is_on_the_blends_scale(toy_sentiment):
    from sk_slm import explain

    X, y = toy_sentiment
    pipe = make_lstm_pipeline(hidden_size=8, module__attention_size=4, max_epochs=7, ngram_warmup=1,
                              verbose=0).fit(X[:160], y[:160])
    blend = pipe[-1]
    blend.weights_ = np.array([0.5, 0.5])  # both parts count, whatever was chosen
    doc = X[200]
    c = pipe.predict_proba([doc])[0].argmax()
    shares = {name: [v for _, v in explain(pipe, [doc], part=name)[0]]
              for name in blend.named_estimators_}
    tokens = pipe[0].transform([doc])[0]
    for index, name in enumerate(blend.named_estimators_):
        estimator = blend.estimators_[index]
        for i in range(len(tokens)):
            with_it, without = estimator.predict_proba([tokens, tokens[:i] + tokens[i + 1:]])
            expected = blend.temperature_ * 0.5 * (np.log(with_it[c]) - np.log(without[c]))
            assert shares[name][i] == pytest.approx(expected, abs=1e-5)
    # The shares add up to the change of the blend's score before its softmax: the
    # whole model's occlusion less the change of the normaliser.
    whole = [v for _, v in explain(pipe, [doc])[0]]
    score = lambda docs: blend.temperature_ * sum(  # noqa: E731
        0.5 * np.log(e.predict_proba(docs)) for e in blend.estimators_)
    for i in range(len(tokens)):
        s_with, s_without = score([tokens, tokens[:i] + tokens[i + 1:]])
        assert shares["network"][i] + shares["linear"][i] == pytest.approx(
            s_with[c] - s_without[c], abs=1e-5)
        log_z = lambda s: np.log(np.exp(s).sum())  # noqa: E731
        assert whole[i] == pytest.approx(
            s_with[c] - s_without[c] - (log_z(s_with) - log_z(s_without)), abs=1e-5)
    blend.weights_ = np.array([0.0, 1.0])
    assert all(v == 0 for _, v in explain(pipe, [doc], part="network")[0])
    with pytest.raises(ValueError, match="part='svm' is not a part.*'network', 'linear'"):
        explain(pipe, [doc], part="svm")
    with pytest.raises(ValueError, match="part= is for method='occlusion'"):
        explain(pipe, [doc], method="attention", part="linear")
