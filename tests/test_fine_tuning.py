"""LSTMAttentionClassifier(language_model=...): the pre-trained encoder fine-tuned, on
every path that works without it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sk_slm import (
    JiebaSegmenter,
    LSTMAttentionClassifier,
    TokenIndexer,
    Word2VecVectorizer,
    explain,
    load_language_model,
    load_model,
    load_reviews,
    make_lstm_pipeline,
    partial_fit,
    save_model,
)

REVIEWS, LABELS = load_reviews(return_X_y=True)
X_TRAIN, Y_TRAIN = list(REVIEWS[2000:2300]), LABELS[2000:2300]
X_TEST = list(REVIEWS[2300:2340]) + ["", "   ", "𠀀𠀁", "OK good", "好" * 300]
QUICK = {"max_epochs": 3, "module__attention_size": 8, "random_state": 0, "ngram_warmup": 1}


def _network(**params):
    params = {**QUICK, **params}
    if params.get("bag_ngrams") == 0:
        del params["ngram_warmup"]
    indexer = TokenIndexer(vocabulary=params.get("language_model"))  # the model's numbering
    return make_pipeline(JiebaSegmenter(granularity="char"), indexer,
                         LSTMAttentionClassifier(**params))


def test_training_starts_from_the_pre_trained_encoder(tiny_language_model):
    lm = load_language_model(tiny_language_model)
    # lr=0: Adam moves nothing, so the fitted weights are the initial ones.
    pipe = _network(language_model=str(tiny_language_model), lr=0.0, bag_ngrams=0,
                    early_stopping=False, max_epochs=1).fit(X_TRAIN, Y_TRAIN)
    clf = pipe[-1]
    module = clf.module_
    assert torch.equal(module.embedding.weight, lm.module.network.embedding.weight)
    for name, value in lm.module.network.rnn.state_dict().items():
        assert torch.equal(module.rnn.state_dict()[name], value)
    assert clf.encoder_["hidden_size"] == 16 and clf.n_vocab_ == 600
    assert pipe[1].vocabulary_[lm.vocabulary[5]] + 2 == 5  # the model's ids, PAD and UNK first
    assert not hasattr(clf, "init_encoder_")  # not pickled twice


def test_fine_tuning_is_reproducible_and_moves_the_encoder(tiny_language_model):
    a = _network(language_model=tiny_language_model).fit(X_TRAIN, Y_TRAIN)
    b = _network(language_model=tiny_language_model).fit(X_TRAIN, Y_TRAIN)
    np.testing.assert_array_equal(a.predict_proba(X_TEST), b.predict_proba(X_TEST))
    lm = load_language_model(tiny_language_model)
    assert not torch.equal(a[-1].module_.rnn.weight_hh_l0, lm.module.network.rnn.weight_hh_l0)
    pred = a.predict(X_TEST)
    assert len(pred) == len(X_TEST) and set(pred) <= set(Y_TRAIN)


@pytest.mark.parametrize("bag_ngrams", [0, 3])
def test_a_users_freezer_keeps_the_encoder_frozen_through_the_ngram_warmup(
        tiny_language_model, bag_ngrams):
    # The fast mode of the language-model guide: skorch's Freezer on the encoder. The
    # n-gram part's warm-up freezes the network too, and must release only what it froze.
    from skorch.callbacks import Freezer

    lm = load_language_model(tiny_language_model)
    pipe = _network(language_model=str(tiny_language_model), bag_ngrams=bag_ngrams,
                    max_epochs=4, early_stopping=False,
                    callbacks=[("freeze", Freezer(["embedding.*", "rnn.*"]))])
    module = pipe.fit(X_TRAIN, Y_TRAIN)[-1].module_
    assert torch.equal(module.embedding.weight, lm.module.network.embedding.weight)
    for name, value in lm.module.network.rnn.state_dict().items():
        assert torch.equal(module.rnn.state_dict()[name], value)
    assert module.output.weight.any()  # the head trained (it starts at zero with n-grams)
    assert all(p.requires_grad for name, p in module.named_parameters()
               if not name.startswith(("embedding.", "rnn.")))


def test_the_pipeline_saves_loads_exports_and_explains_without_the_model_folder(
        tiny_language_model, tmp_path):
    folder = tmp_path / "lm"
    shutil.copytree(tiny_language_model, folder)
    pipe = make_lstm_pipeline(language_model=folder, max_len=40, truncation="windows",
                              **QUICK).fit(X_TRAIN, Y_TRAIN)
    network = pipe[-1].named_estimators_["network"]
    assert [name for name, _ in network.steps] == ["indexer", "classifier"]  # no Word2Vec
    proba = pipe.predict_proba(X_TEST)
    save_model(pipe, tmp_path / "m.slm")
    shutil.rmtree(folder)
    loaded = load_model(tmp_path / "m.slm")
    np.testing.assert_allclose(loaded.predict_proba(X_TEST), proba, atol=1e-6)
    assert loaded[-1].named_estimators_["network"][-1].encoder_["hidden_size"] == 16
    weights = explain(loaded, X_TEST[:3], method="attention")
    assert len(weights) == 3 and all(abs(sum(w for _, w in doc) - 1) < 1e-4 for doc in weights)


def test_onnx_export_of_the_fine_tuned_pipeline(tiny_language_model, tmp_path):
    pytest.importorskip("onnxruntime")
    from sk_slm import OnnxClassifier, export_onnx

    pipe = make_lstm_pipeline(language_model=tiny_language_model, max_len=40, **QUICK)
    pipe.fit(X_TRAIN, Y_TRAIN)
    export_onnx(pipe, tmp_path / "m.zip")
    np.testing.assert_allclose(OnnxClassifier(tmp_path / "m.zip").predict_proba(X_TEST),
                               pipe.predict_proba(X_TEST), atol=1e-5)


def test_grid_search_and_partial_fit(tiny_language_model):
    search = GridSearchCV(_network(language_model=tiny_language_model, bag_ngrams=0),
                          {"lstmattentionclassifier__lr": [1e-3, 3e-3]}, cv=2)
    search.fit(X_TRAIN, Y_TRAIN)
    assert len(search.cv_results_["mean_test_score"]) == 2
    model = search.best_estimator_
    before = model[-1].module_.rnn.weight_ih_l0.clone()
    partial_fit(model, list(REVIEWS[2400:2500]), LABELS[2400:2500])
    assert not torch.equal(model[-1].module_.rnn.weight_ih_l0, before)
    assert len(model.predict(X_TEST)) == len(X_TEST)


def test_refusals(tiny_language_model, tmp_path):
    with pytest.raises(ValueError, match="not a TokenSequences"):
        make_pipeline(JiebaSegmenter(granularity="char"), Word2VecVectorizer(output="sequence"),
                      LSTMAttentionClassifier(language_model=tiny_language_model)
                      ).fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(ValueError, match="module__num_layers=1"):
        _network(language_model=tiny_language_model, module__num_layers=2).fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(ValueError, match="no module__cell"):
        _network(language_model=tiny_language_model, module__cell="gru").fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(ValueError, match="granularity='char'"):
        make_lstm_pipeline(language_model=tiny_language_model, granularity="word")
    with pytest.raises(ValueError, match="not a language model folder"):
        _network(language_model=tmp_path).fit(X_TRAIN, Y_TRAIN)
    # Characters numbered otherwise than the model numbers them are refused by name.
    with pytest.raises(ValueError, match="another vocabulary than language_model"):
        make_pipeline(JiebaSegmenter(granularity="char"), TokenIndexer(),
                      LSTMAttentionClassifier(language_model=tiny_language_model)
                      ).fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(ValueError, match="fixed vocabulary they would do nothing"):
        TokenIndexer(vocabulary=tiny_language_model, min_count=2).fit([["好"]])
    with pytest.raises(ValueError, match=r"vocabulary\[1\] is 'a'"):
        TokenIndexer(vocabulary=["a", "a"]).fit([["a"]])
    with pytest.warns(UserWarning, match="hidden_size"):
        _network(language_model=tiny_language_model, hidden_size=64, max_epochs=2
                 ).fit(X_TRAIN[:60], Y_TRAIN[:60])


def test_language_model_fine_tuning_continues_from_the_pre_trained_heads(tiny_language_model):
    # With a learning rate of ~0 the first pre-training epoch scores the documents with
    # the heads it starts from: the pre-trained ones predict far better than fresh ones
    # (measured: 5.6 against 7.2 nats per token).
    clf = _network(language_model=tiny_language_model, pretrain_epochs=1, lr=1e-9,
                   bag_ngrams=0, max_epochs=1, early_stopping=False)
    clf.fit(X_TRAIN, Y_TRAIN)
    lm_loss = clf[-1].pretrain_loss_[0]
    fresh = _network(pretrain_epochs=1, lr=1e-9, bag_ngrams=0, max_epochs=1,
                     early_stopping=False, module__embedding_dim=16, hidden_size=16)
    fresh.fit(X_TRAIN, Y_TRAIN)
    assert lm_loss < fresh[-1].pretrain_loss_[0] - 0.5


def test_the_refit_starts_from_the_weights_language_model_fine_tuning_left(
        tiny_language_model, monkeypatch):
    # It restarted from the language model's own biRNN, undoing the fine-tuning on the
    # training texts (pretrain_epochs) for the model that is kept.
    starts = []
    train = LSTMAttentionClassifier._train

    def recording(self, dataset, y, **kwargs):
        starts.append(self.module_.rnn.weight_hh_l0.detach().clone())
        return train(self, dataset, y, **kwargs)

    monkeypatch.setattr(LSTMAttentionClassifier, "_train", recording)
    pipe = _network(language_model=tiny_language_model, pretrain_epochs=1, max_epochs=3)
    clf = pipe.fit(X_TRAIN, Y_TRAIN)[-1]
    assert [name for name, _ in clf.train_passes_] == ["pretrain", "early_stopping", "refit"]
    _, refit_start = starts  # the early-stopping pass's start, then the refit's
    pretrained = dict(clf.callbacks_)["pretraining"].state_dict_["rnn.weight_hh_l0"]
    assert torch.equal(refit_start, pretrained)
    lm = load_language_model(tiny_language_model)
    assert not torch.equal(refit_start, lm.module.network.rnn.weight_hh_l0)


def test_language_model_features(tiny_language_model):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union
    from sklearn.svm import LinearSVC

    from sk_slm import LanguageModelFeatures

    features = LanguageModelFeatures(tiny_language_model, max_len=50)
    out = features.fit_transform(X_TEST)
    assert out.shape == (len(X_TEST), 64) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1, rtol=1e-5)
    # Batching and order do not change a document's features.
    np.testing.assert_allclose(features.set_params(batch_size=3).transform(X_TEST[::-1])[::-1],
                               out, atol=1e-6)
    assert features.get_feature_names_out()[[0, 32]].tolist() == ["lm_mean_0", "lm_max_0"]
    model = make_pipeline(make_union(TfidfVectorizer(analyzer="char"), features), LinearSVC())
    assert len(model.fit(X_TRAIN, Y_TRAIN).predict(X_TEST)) == len(X_TEST)
    with pytest.raises(ValueError, match=r"X\[1\]"):
        features.transform(["好", None])


def test_cli_trains_and_predicts_with_a_language_model(tiny_language_model, tmp_path, capsys):
    import pandas as pd

    from sk_slm.cli import main

    pd.DataFrame({"text": X_TRAIN, "label": Y_TRAIN}).to_csv(tmp_path / "train.csv", index=False)
    new = X_TEST[:40] + ["", "OK good"]  # (pandas writes "   " as a blank line, which CSV readers skip)
    pd.DataFrame({"text": new}).to_csv(tmp_path / "new.csv", index=False)
    assert main(["train", "--data", str(tmp_path / "train.csv"), "--out", str(tmp_path / "m.slm"),
                 "--language-model", str(tiny_language_model)]) == 0
    model = load_model(tmp_path / "m.slm")
    assert model[-1].named_estimators_["network"][-1].encoder_["hidden_size"] == 16
    assert main(["predict", "--data", str(tmp_path / "new.csv"), "--model",
                 str(tmp_path / "m.slm"), "--out", str(tmp_path / "p.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "p.csv")) == len(new)
    capsys.readouterr()
    assert main(["train", "--data", str(tmp_path / "train.csv"), "--out", str(tmp_path / "x.slm"),
                 "--language-model", str(tmp_path / "nowhere")]) == 2
    assert "--language-model" in capsys.readouterr().err


def test_make_lstm_pipeline_refuses_settings_that_would_do_nothing(tiny_language_model):
    with pytest.raises(ValueError, match="embedding_dim=32 would do nothing.*vector_size"):
        make_lstm_pipeline(embedding_dim=32)
    with pytest.raises(ValueError, match="hidden_size=64 would do nothing: the language model"):
        make_lstm_pipeline(language_model=tiny_language_model, hidden_size=64)
    make_lstm_pipeline(hidden_size=64)  # sets the network's width without a language model
