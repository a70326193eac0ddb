"""The command line: compare, train, predict, export, faithfulness; options and errors."""

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sk_slm.cli import main


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
