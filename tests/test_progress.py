"""Progress lines of the network's fits: on by default, plain, routed, silent at verbose=0."""

import re

from sk_slm import JiebaSegmenter, LSTMAttentionClassifier, TokenIndexer

LINE = re.compile(r"^(?P<stage>[a-z -]+), epoch (?P<epoch>\d+)/(?P<last>\d+): "
                  r"train loss \d+\.\d{4}(, valid loss \d+\.\d{4}( \(best\))?)?; "
                  r"\d+\.\d s(, (?P<left>at most|about) \d+ s left)?$")


def tokens(X):
    return TokenIndexer().fit_transform(JiebaSegmenter(granularity="char").fit_transform(X))


def small(**params):
    return LSTMAttentionClassifier(hidden_size=8, module__embedding_dim=8,
                                   module__attention_size=4, random_state=0, **params)


def test_by_default_each_epoch_prints_one_plain_line_with_its_stage_and_time_left(
        toy_sentiment, capsys):
    X, y = toy_sentiment
    small(max_epochs=12, ngram_warmup=2, patience=1).fit(tokens(X), y)
    out = capsys.readouterr().out.splitlines()
    epochs = [LINE.match(line) for line in out if re.search(r", epoch \d+/", line)]
    assert all(epochs), out  # every epoch line has the documented form
    stages = [m["stage"] for m in epochs]
    # The warm-up's epochs, then early stopping's, then the refit's ("training").
    assert stages[:2] == ["n-gram warm-up"] * 2 and "early stopping" in stages
    summary = [re.fullmatch(r"early stopping: (\d+) epochs trained, epoch \d+ kept \(the "
                            r"lowest held-out loss\)", line) for line in out]
    (trained,) = [int(m[1]) for m in summary if m]
    # Every epoch early stopping trained has its line, the one it stopped after too.
    assert out.index(next(line for line in out if line.startswith("early stopping: "))) \
        == trained
    assert any(line.startswith("refit: training on all 240 documents") for line in out)
    assert stages[-1] == "training"
    # Early stopping may end sooner: the estimate is an upper bound; the last epoch of a
    # pass says nothing is left.
    stopping = [m for m in epochs if m["stage"] == "early stopping"]
    assert all(m["left"] in ("at most", None) for m in stopping)
    assert all(m["left"] is None for m in epochs if m["epoch"] == m["last"])
    assert "\x1b" not in "".join(out)  # no colour codes in a redirected log


def test_verbose_0_prints_nothing_and_the_lines_follow_the_progress_sink(toy_sentiment,
                                                                         capsys):
    X, y = toy_sentiment
    small(max_epochs=3, verbose=0).fit(tokens(X), y)
    assert capsys.readouterr() == ("", "")
    lines = []
    small(max_epochs=3, pretrain_epochs=1, callbacks__progress__sink=lines.append).fit(
        tokens(X), y)
    assert capsys.readouterr().out == ""  # everything went to the sink
    assert lines[0].startswith("language-model fine-tuning, epoch 1/1: train loss")
    assert sum(bool(re.search(r", epoch \d+/", line)) for line in lines) >= 4
    assert any(line.startswith("early stopping: ") for line in lines)
    assert any(line.startswith("refit: ") for line in lines)


def test_the_default_pipeline_announces_word2vec_then_the_epochs_and_verbose_0_silences_all(
        toy_sentiment, capsys):
    from sk_slm import make_lstm_pipeline

    X, y = toy_sentiment
    make_lstm_pipeline(hidden_size=8, max_epochs=2).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Word2Vec: training 100-dimensional vectors of ")
    assert out[0].endswith("tokens on 240 documents, 10 epochs")
    assert re.fullmatch(r"Word2Vec: done in \d+\.\d s", out[1])
    assert LINE.match(out[2])
    make_lstm_pipeline(hidden_size=8, max_epochs=2, verbose=0).fit(X, y)
    assert capsys.readouterr() == ("", "")
