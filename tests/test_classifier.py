import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from sk_slm import JiebaSegmenter, LSTMAttentionClassifier, TokenSequences, Word2VecVectorizer
from sk_slm._batches import _BucketBatchSampler, _truncate

# The network itself is under test: linear_blend (tested on its own below) would blend in
# a logistic regression wherever a few tiny epochs leave the network behind.
TINY = dict(hidden_size=16, embedding_dim=16, attention_size=8, max_epochs=12, random_state=0,
            linear_blend=None)


def tiny(**params):
    return LSTMAttentionClassifier(**{**TINY, **params})


@pytest.fixture(scope="module")
def tokens(toy_sentiment):
    X, y = toy_sentiment
    return JiebaSegmenter().fit_transform(X), np.asarray(y)


@pytest.fixture(scope="module")
def fitted(tokens):
    X, y = tokens
    return tiny().fit(X, y)


def test_learns_a_separable_task_with_string_labels(fitted, tokens):
    X, y = tokens
    assert set(fitted.classes_) == {"正面", "负面"}
    assert fitted.score(X, y) > 0.9
    pred = fitted.predict(X)
    assert pred.dtype.kind == "U" and len(pred) == len(X)
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)


def test_multiclass_with_non_contiguous_int_labels():
    rng = np.random.default_rng(0)
    words = {3: ["猫", "狗"], 10: ["车", "船"], 42: ["书", "笔"]}
    y = rng.choice([3, 10, 42], size=180)
    X = [list(rng.choice(words[c], 4)) + ["的"] for c in y]
    clf = tiny(max_epochs=25, lr=1e-2).fit(X, y)
    assert list(clf.classes_) == [3, 10, 42]
    assert clf.score(X, y) > 0.95
    assert set(clf.predict(X)) <= {3, 10, 42}


def test_word2vec_sequences_initialise_the_embeddings(tokens):
    X, y = tokens
    vec = Word2VecVectorizer(output="sequence", vector_size=12, min_count=1, random_state=0)
    seqs = vec.fit_transform(X)
    clf = tiny(freeze_embeddings=True).fit(seqs, y)
    table = clf.module_.embedding.weight.detach().numpy()
    assert table.shape == (len(vec.wv_) + 2, 12)
    np.testing.assert_allclose(table[2:], vec.wv_.vectors)  # frozen: unchanged by training
    assert not table[0].any()  # padding row
    unfrozen = tiny().fit(seqs, y).module_.embedding.weight.detach().numpy()
    assert not np.allclose(unfrozen[2:], vec.wv_.vectors)
    assert not hasattr(clf, "init_embeddings_")  # the table is pickled once, in the module


def test_sequence_vocabulary_mismatch_is_refused(tokens):
    X, y = tokens
    seqs = Word2VecVectorizer(output="sequence", min_count=1, vector_size=8).fit_transform(X)
    clf = tiny(max_epochs=1).fit(seqs, y)
    other = TokenSequences(np.array([0]), np.array([0, 1]), np.zeros((3, 8), np.float32), ["a", "b", "c"])
    with pytest.raises(ValueError, match="different vocabulary"):
        clf.predict(other)
    with pytest.raises(TypeError, match="TokenSequences"):
        clf.predict(X)


def test_both_pipelines_fit_and_predict_every_row(toy_sentiment):
    X, y = toy_sentiment
    for pipe in (
        make_pipeline(JiebaSegmenter(), tiny()),
        make_pipeline(JiebaSegmenter(), Word2VecVectorizer(output="sequence", min_count=1,
                                                          vector_size=16), tiny()),
    ):
        pipe.fit(X, y)
        assert pipe.score(X, y) > 0.8
        odd = ["", "   ", "火星文字", "好吃" * 500]
        assert len(pipe.predict(odd)) == len(odd)


def test_random_state_reproducible_and_global_rng_untouched(tokens):
    X, y = tokens
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = tiny().fit(X, y).predict_proba(X)
    b = tiny().fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert torch.equal(torch_state, torch.random.get_rng_state())
    np.testing.assert_array_equal(np_state, np.random.get_state()[1])
    c = tiny(random_state=1).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    "param, value, check",
    [
        ("hidden_size", 8, lambda m: m.rnn.hidden_size == 8),
        ("num_layers", 2, lambda m: m.rnn.num_layers == 2),
        ("bidirectional", False, lambda m: not m.rnn.bidirectional),
        ("cell", "gru", lambda m: isinstance(m.rnn, torch.nn.GRU)),
        ("attention_size", 5, lambda m: m.attention[0].out_features == 5),
        ("dropout", 0.5, lambda m: m.dropout.p == 0.5),
        ("embedding_dim", 7, lambda m: m.embedding.embedding_dim == 7),
        ("module__hidden_size", 6, lambda m: m.rnn.hidden_size == 6),
    ],
)
def test_architecture_parameters_reach_the_module(tokens, param, value, check):
    X, y = tokens
    clf = tiny(max_epochs=1, **{param: value}).fit(X, y)
    assert check(clf.module_)


def test_bag_of_ngrams_branch(tokens):
    X, y = tokens
    clf = tiny(max_epochs=1, bag_ngrams=2, ngram_buckets=1000, ngram_dim=4).fit(X, y)
    assert clf.module_.ngram_embedding.weight.shape == (1000, 4)
    assert clf.module_.ngram_logits is None
    assert clf.module_.output.in_features == 2 * 16 + 4
    plain = tiny(max_epochs=1, bag_ngrams=0).fit(X, y).module_
    assert plain.ngram_embedding is None and plain.ngram_logits is None


def test_wide_ngram_part_is_linear_logits_with_its_own_learning_rate(tokens):
    X, y = tokens
    clf = tiny(max_epochs=2, bag_ngrams=2, ngram_lr=0.1, ngram_warmup=0).fit(X, y)
    # One row per distinct 1- and 2-gram of the training documents, plus padding.
    n_grams = len({tuple(d[i : i + n]) for d in X for n in (1, 2) for i in range(len(d) - n + 1)})
    assert len(clf.ngram_vocabulary_) == n_grams
    assert clf.module_.ngram_logits.weight.shape == (n_grams + 1, 2)
    assert clf.module_.ngram_embedding is None
    assert clf.module_.ngram_logits.weight.abs().sum() > 0  # it was trained
    groups = clf.optimizer_.param_groups
    assert [g["lr"] for g in groups] == [clf.lr, 0.1]
    assert groups[1]["params"] == [clf.module_.ngram_logits.weight]
    assert clf.ngram_idf_.shape == (n_grams + 1,)
    # A user's own param_groups replace the default split.
    custom = tiny(max_epochs=1, optimizer__param_groups=[("output.*", {"lr": 0.5})]).fit(X, y)
    assert [g["lr"] for g in custom.optimizer_.param_groups] == [0.5, custom.lr]


def test_ngram_warmup_trains_the_linear_part_alone_first(tokens):
    X, y = tokens
    params = dict(bag_ngrams=2, early_stopping=False)
    untrained = tiny(max_epochs=0, **params).fit(X, y).module_.state_dict()
    warm = tiny(max_epochs=2, ngram_warmup=2, **params).fit(X, y)
    state = warm.module_.state_dict()
    for name, value in state.items():
        if name.startswith("ngram_logits."):
            assert not torch.equal(value, untrained[name]), name  # trained
        else:
            assert torch.equal(value, untrained[name]), name  # frozen
    # After the warm-up the network trains too and nothing stays frozen.
    later = tiny(max_epochs=3, ngram_warmup=2, **params).fit(X, y).module_
    assert not torch.equal(later.rnn.weight_hh_l0, untrained["rnn.weight_hh_l0"])
    assert all(p.requires_grad for p in later.parameters())


def test_ngram_warmup_keeps_frozen_embeddings_frozen(tokens):
    X, y = tokens
    seqs = Word2VecVectorizer(output="sequence", vector_size=12, min_count=1,
                              random_state=0).fit_transform(X)
    clf = tiny(max_epochs=3, ngram_warmup=1, freeze_embeddings=True, bag_ngrams=2,
               early_stopping=False).fit(seqs, y)
    assert not clf.module_.embedding.weight.requires_grad
    np.testing.assert_array_equal(clf.module_.embedding.weight.detach().numpy()[2:],
                                  seqs.vectors)


def test_refit_trains_again_on_all_data_for_the_chosen_epochs(tokens):
    X, y = tokens
    chosen = tiny(max_epochs=8, refit=False, patience=2, lr=0.05, batch_size=16).fit(X, y)
    assert "valid_loss" in chosen.history[-1]
    assert 1 <= chosen.best_epoch_ <= len(chosen.history)
    refitted = tiny(max_epochs=8, patience=2, lr=0.05, batch_size=16).fit(X, y)
    assert refitted.best_epoch_ == chosen.best_epoch_  # same seed, same selection run
    assert len(refitted.history) == refitted.best_epoch_
    assert refitted.train_passes_ == [("early_stopping", len(chosen.history)),
                                      ("refit", refitted.best_epoch_)]
    assert "valid_loss" not in refitted.history[-1]
    # The refit saw every training document: 10% more batches per epoch.
    assert refitted.history[-1]["train_batch_count"] > chosen.history[-1]["train_batch_count"]
    assert refitted.score(X, y) > 0.9


def test_ngram_tfidf_equals_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from sk_slm._ngrams import _count_per_document, _ngram_hashes, _ngram_tfidf, _smooth_idf
    from sk_slm.sequences import encode_tokens

    docs = [list("今天天气很好"), list("天气不好"), list("今天很好很好"), list("好")]
    vocab = {t: i + 2 for i, t in enumerate(sorted({t for d in docs for t in d}))}
    ids, offsets = encode_tokens(docs, vocab, 1)
    codes, gram_offsets = _ngram_hashes(ids.astype(np.int64), offsets, 2, None,
                                        base=len(vocab) + 3)
    grams = np.unique(codes, return_inverse=True)[1].ravel() + 1
    size = int(grams.max()) + 1
    owner, rows, counts = _count_per_document(grams, gram_offsets, size)
    idf = _smooth_idf(rows, len(docs), size)
    _, weights, w_offsets = _ngram_tfidf(owner, rows, counts, idf, len(docs))
    reference = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    expected = reference.fit_transform(["".join(d) for d in docs]).toarray()
    for i in range(len(docs)):
        ours = np.sort(weights[w_offsets[i] : w_offsets[i + 1]])
        theirs = np.sort(expected[i][expected[i] > 0])
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_ngram_min_df_matches_scikit_learn_min_df():
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = ["今天天气很好", "天气不好", "今天很好很好", "好", "很好的天气", ""]
    X = [list(d) for d in docs]
    y = [0, 1, 0, 1, 0, 1]
    for min_df in (1, 2, 3):
        clf = tiny(max_epochs=0, bag_ngrams=2, ngram_min_df=min_df, early_stopping=False).fit(X, y)
        reference = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True,
                                    min_df=min_df)
        expected = reference.fit_transform(docs).toarray()
        assert len(clf.ngram_vocabulary_) == len(reference.vocabulary_)
        data = clf.get_dataset(X)
        for i in range(len(docs)):
            lo, hi = data.ngram_offsets[i], data.ngram_offsets[i + 1]
            np.testing.assert_allclose(np.sort(data.ngram_weights[lo:hi].numpy()),
                                       np.sort(expected[i][expected[i] > 0]), rtol=1e-5)


def test_ngram_hashes_stay_inside_each_document():
    from sk_slm._ngrams import _ngram_hashes

    ids = np.array([5, 6, 7, 5, 6])
    grams, offsets = _ngram_hashes(ids, np.array([0, 3, 3, 5]), 2, 1000)
    assert np.diff(offsets).tolist() == [3 + 2, 0, 2 + 1]  # no bigram across documents
    assert grams.min() >= 1 and grams.max() < 1000  # 0 is the padding bucket
    first, third = grams[: offsets[1]], grams[offsets[2] :]
    assert set(third) <= set(first)  # same tokens, same hashes


def test_vocabulary_parameters(tokens):
    X, y = tokens
    assert tiny(max_epochs=1, max_vocab=5).fit(X, y).n_vocab_ == 7
    full = tiny(max_epochs=1).fit(X, y).n_vocab_
    assert tiny(max_epochs=1, min_count=1000).fit(X, y).n_vocab_ == 2 < full


def test_optimizer_weight_decay_and_skorch_routing(tokens):
    X, y = tokens
    clf = tiny(max_epochs=1, weight_decay=0.01).fit(X, y)
    assert clf.optimizer_.param_groups[0]["weight_decay"] == 0.01
    assert clf.optimizer_.param_groups[0]["lr"] == clf.lr
    clf = tiny(max_epochs=1, optimizer=torch.optim.SGD, optimizer__momentum=0.9).fit(X, y)
    assert isinstance(clf.optimizer_, torch.optim.SGD)
    assert clf.optimizer_.param_groups[0]["momentum"] == 0.9
    clf.set_params(optimizer__momentum=0.5)  # skorch updates the live optimizer
    assert clf.optimizer_.param_groups[0]["momentum"] == 0.5


def test_class_weight_reaches_the_loss(tokens):
    X, y = tokens
    clf = tiny(max_epochs=1, class_weight={"正面": 3.0, "负面": 1.0}).fit(X, y)
    np.testing.assert_allclose(clf.criterion_.weight.numpy(), [3.0, 1.0])
    clf = tiny(max_epochs=1, class_weight="balanced").fit(X[:100], y[:100])
    assert clf.criterion_.weight.shape == (2,)


def test_early_stopping_stops_and_history_records_validation(tokens):
    X, y = tokens
    clf = tiny(max_epochs=200, patience=2, lr=0.05, refit=False).fit(X, y)
    assert len(clf.history) < 200
    assert "valid_loss" in clf.history[-1]
    assert clf.train_passes_ == [("early_stopping", len(clf.history))]  # refit=False
    no_es = tiny(max_epochs=3, early_stopping=False).fit(X, y)
    assert len(no_es.history) == 3 and "valid_loss" not in no_es.history[-1]
    assert no_es.train_passes_ == [("train", 3)]


def test_callbacks_are_skorch_callbacks(tokens):
    from skorch.callbacks import LRScheduler

    X, y = tokens
    clf = tiny(max_epochs=2, callbacks=[("sched", LRScheduler(policy="StepLR", step_size=1, gamma=0.5))])
    clf.fit(X, y)
    assert clf.optimizer_.param_groups[0]["lr"] == pytest.approx(clf.lr * 0.25)


def test_truncation_modes():
    ids = np.arange(10)
    offsets = np.array([0, 6, 10])
    for how, first in (("head", [0, 1, 2, 3]), ("tail", [2, 3, 4, 5]), ("head_tail", [0, 1, 4, 5])):
        out, off, keep = _truncate(ids, offsets, 4, how)
        assert out[: off[1]].tolist() == first
        assert off.tolist() == [0, 4, 8] and keep.sum() == 8


def test_max_len_and_explanations_zero_for_cut_tokens(fitted, tokens):
    X, y = tokens
    long_doc = ["好吃"] * 10 + ["难吃"] * 10
    clf = fitted.set_params(max_len=8, truncation="head")
    try:
        (expl,) = clf.explain([long_doc])
        weights = np.array([w for _, w in expl])
        assert len(expl) == 20 and [t for t, _ in expl] == long_doc
        assert weights[:8].sum() == pytest.approx(1, abs=1e-5)
        assert not weights[8:].any()
    finally:
        clf.set_params(max_len=256)


def test_ngram_part_reads_tokens_beyond_max_len():
    # The label shows only after 6 filler tokens: the RNN, cut to 4 tokens, cannot see
    # it, the linear n-gram part reads the whole document and can.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80)
    X = [["填"] * 6 + (["好"] if label else ["坏"]) for label in y]
    params = dict(max_len=4, early_stopping=False, max_epochs=6, ngram_warmup=6)
    assert tiny(bag_ngrams=1, **params).fit(X, y).score(X, y) == 1.0
    assert tiny(bag_ngrams=0, **params).fit(X, y).score(X, y) < 0.7


def test_explain_weights_sum_to_one_and_empty_docs(fitted, tokens):
    X, _ = tokens
    expl = fitted.explain(X[:5] + [[]])
    for doc, pairs in zip(X[:5], expl[:5], strict=True):
        assert [t for t, _ in pairs] == list(doc)
        assert sum(w for _, w in pairs) == pytest.approx(1, abs=1e-5)
    assert expl[5] == []


def test_bucketing_pads_little_and_covers_every_row():
    lengths = np.random.default_rng(0).integers(1, 200, size=1000)
    batches = list(_BucketBatchSampler(lengths, 32, shuffle=True))
    assert sorted(i for b in batches for i in b) == list(range(1000))
    padded = sum(len(b) * lengths[b].max() for b in batches)
    assert padded / lengths.sum() < 1.1


def test_errors(tokens):
    X, y = tokens
    with pytest.raises(NotFittedError):
        tiny().predict(X)
    with pytest.raises(ValueError, match="single class"):
        tiny().fit(X, ["a"] * len(X))
    with pytest.raises(ValueError, match="240 documents but y has 3"):
        tiny().fit(X, y[:3])
    with pytest.raises(TypeError, match="JiebaSegmenter"):
        tiny().fit(["好吃", "难吃"], ["a", "b"])
    with pytest.raises(ValueError, match="continuous"):
        tiny().fit(X, np.linspace(0, 1, len(X)))


@pytest.mark.parametrize("param, value", [("cell", "rnn"), ("truncation", "middle"), ("dropout", 1.5),
                                          ("ngram_lr", 0), ("ngram_lr", "fast"),
                                          ("ngram_min_df", 0),
                                          ("hidden_size", 0), ("validation_fraction", 1.0),
                                          ("class_weight", "auto"), ("max_len", 0),
                                          ("linear_blend", ()), ("linear_blend", (0.5, 2)),
                                          ("linear_blend", "yes"), ("linear_blend", True),
                                          ("blend_scoring", "roc_auc"),
                                          ("retry_without_linear", "yes")])
def test_bad_parameters_are_named(tokens, param, value):
    X, y = tokens
    with pytest.raises(ValueError, match=param):
        tiny(**{param: value}).fit(X, y)


def test_pickle_and_joblib_round_trip_full_pipeline(toy_sentiment, tmp_path):
    X, y = toy_sentiment
    pipe = make_pipeline(JiebaSegmenter(), Word2VecVectorizer(output="sequence", min_count=1,
                                                              vector_size=8), tiny(max_epochs=3))
    pipe.fit(X, y)
    expected = pipe.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pipe)).predict_proba(X), expected)
    joblib.dump(pipe, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict_proba(X), expected)


def test_grid_search_over_classifier_parameters(toy_sentiment):
    X, y = toy_sentiment
    pipe = make_pipeline(JiebaSegmenter(), tiny(max_epochs=4))
    grid = GridSearchCV(pipe, {"lstmattentionclassifier__hidden_size": [8, 16],
                               "lstmattentionclassifier__lr": [1e-2]}, cv=2, n_jobs=2)
    grid.fit(X, y)
    assert grid.best_params_["lstmattentionclassifier__lr"] == 1e-2
    assert len(grid.predict(X)) == len(X)
    assert len(cross_val_score(pipe, X, y, cv=2)) == 2



def test_auto_ngram_lr_shrinks_with_the_number_of_ngrams_per_document(tokens):
    X, y = tokens
    params = dict(max_epochs=1, bag_ngrams=2, early_stopping=False)
    clf = tiny(**params).fit(X, y)
    distinct = [len({tuple(d[i : i + n]) for n in (1, 2) for i in range(len(d) - n + 1)})
                for d in X]
    assert clf.ngram_lr_ == pytest.approx(2.5 / np.mean(distinct), rel=1e-6)
    assert clf.optimizer_.param_groups[1]["lr"] == clf.ngram_lr_
    longer = tiny(**params).fit([d * 3 for d in X], y)
    assert longer.ngram_lr_ < clf.ngram_lr_
    assert tiny(ngram_lr=0.2, **params).fit(X, y).ngram_lr_ == 0.2


def test_early_stopping_cannot_stop_during_the_ngram_warmup():
    from skorch.callbacks import EarlyStopping
    from skorch.history import History

    from sk_slm.classifier import _EarlyStoppingAfterWarmup

    def stop_epoch(callback):
        net = type("Net", (), {"verbose": 0, "history": History(),
                               "module_": torch.nn.Linear(1, 1)})()
        callback.initialize().on_train_begin(net)
        for epoch in range(1, 10):  # the validation loss only worsens after epoch 1
            net.history.new_epoch()
            net.history.record("epoch", epoch)
            net.history.record("valid_loss", float(epoch))
            try:
                callback.on_epoch_end(net)
            except KeyboardInterrupt:
                return epoch, callback.best_epoch_
        return None, callback.best_epoch_

    assert stop_epoch(EarlyStopping(patience=2)) == (3, 1)
    assert stop_epoch(_EarlyStoppingAfterWarmup(warmup=3, patience=2, load_best=True)) == (5, 1)
    assert stop_epoch(_EarlyStoppingAfterWarmup(warmup=0, patience=2)) == (3, 1)


def test_warns_when_early_stopping_keeps_only_the_linear_part(tokens):
    X, y = tokens
    params = dict(bag_ngrams=2, ngram_warmup=3, patience=2)
    # A huge step fits the linear part in the first epoch; the network cannot improve on it.
    with pytest.warns(UserWarning, match="network never improved on its linear part") as rec:
        clf = tiny(ngram_lr=5.0, **params).fit(X, y)
    assert clf.best_epoch_ <= 3
    assert f"chose epoch {clf.best_epoch_}, inside the 3-epoch warm-up" in str(rec[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert tiny(ngram_lr=1.0, **params).fit(X, y).best_epoch_ > 3
        # Training that ends within the warm-up gave the network no chance: no verdict.
        tiny(ngram_lr=5.0, max_epochs=3, **params).fit(X, y)


def test_retries_the_network_without_the_linear_part_when_only_that_was_kept(tokens, monkeypatch,
                                                                             tmp_path):
    from sklearn.dummy import DummyClassifier

    from sk_slm import load_model, save_model

    X, y = tokens
    # A huge step fits the linear part in the first epoch, so early stopping keeps an
    # epoch of the warm-up (as above). A "regression" sure of class 0 costs log loss at
    # any weight, so the blend keeps w = 0 and the module is what training left.
    params = dict(bag_ngrams=2, ngram_warmup=3, patience=2, ngram_lr=5.0, max_epochs=8,
                  linear_blend=(0.0, 0.5))
    monkeypatch.setattr(LSTMAttentionClassifier, "_linear_model",
                        lambda self, C: DummyClassifier(strategy="constant", constant=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the retried network is no linear model
        clf = tiny(**params).fit(X, y)
    assert clf.retried_without_linear_ and (clf.linear_weight_, clf.selected_) == (0.0, "network")
    # Three passes: early stopping, the retry (its own early stopping), the refit.
    assert [name for name, _ in clf.train_passes_] == ["early_stopping", "retry", "refit"]
    assert clf.train_passes_[1][1] >= clf.best_epoch_  # the retry chose the epoch
    assert clf.train_passes_[-1] == ("refit", clf.best_epoch_) == ("refit", len(clf.history))
    assert not clf.module_.ngram_logits.weight.any()  # held at zero, refit included
    assert clf.score(X, y) > 0.8  # the network learned the task by itself (chance: 0.5)
    np.testing.assert_array_equal(tiny(**params).fit(X, y).predict_proba(X), clf.predict_proba(X))
    save_model(clf, tmp_path / "retried.slm")
    loaded = load_model(tmp_path / "retried.slm")
    assert loaded.retried_without_linear_ and loaded.retry_without_linear
    assert loaded.train_passes_ == clf.train_passes_
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    # The linear part trains again afterwards (warm_start / partial_fit).
    clf.partial_fit(X, y, epochs=1)
    assert clf.module_.ngram_logits.weight.any()

    with pytest.warns(UserWarning, match="network never improved on its linear part"):
        kept = tiny(retry_without_linear=False, **params).fit(X, y)
    assert not kept.retried_without_linear_ and kept.best_epoch_ <= 3
    assert [name for name, _ in kept.train_passes_] == ["early_stopping", "refit"]
    assert kept.module_.ngram_logits.weight.any()


def _three_topics(n=240):
    rng = np.random.default_rng(0)
    words = {3: "猫狗鱼鸟", 10: "车船路桥", 42: "书笔纸墨"}
    y = rng.choice([3, 10, 42], size=n)
    docs = ["".join(rng.choice(list(words[c]), 3)) + "的了" for c in y]
    return docs, y


def _char_tfidf_regression(docs, y, C):
    """scikit-learn's logistic regression on the TF-IDF the linear part reads
    (``bag_ngrams=2`` over character tokens)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=1000)
    return make_pipeline(tfidf, model).fit(docs, y)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_linear_blend_of_weight_one_is_scikit_learns_logistic_regression(task, toy_sentiment):
    docs, y = toy_sentiment if task == "binary" else _three_topics()
    X = [list(d) for d in docs]
    # A vanishing step: after one epoch the network and its linear part are still ~0.
    clf = tiny(max_epochs=1, bag_ngrams=2, lr=1e-9, ngram_lr=1e-9, linear_blend=(1.0,))
    with pytest.warns(UserWarning, match="replaces the model"):
        clf.fit(X, y)
    assert (clf.selected_, clf.linear_weight_) == ("linear", 1.0)
    assert clf.linear_C_ in (1.0, 10.0, 100.0)
    losses = clf.validation_log_loss_
    assert losses["blend"] == pytest.approx(losses["linear"], rel=1e-5) and losses["linear"] < losses["network"]
    reference = _char_tfidf_regression(docs, y, clf.linear_C_)
    new = docs[:20] + ["好吃推荐", "猫车书", "", "没见过的字"]
    np.testing.assert_allclose(clf.predict_proba([list(d) for d in new]),
                               reference.predict_proba(new), atol=1e-4)
    assert list(clf.predict([list(d) for d in new])) == list(reference.predict(new))
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    with pytest.warns(UserWarning, match="does not contribute to its predictions"):
        clf.explain(X[:2])


@pytest.mark.parametrize("refit", [True, False])
def test_linear_blend_adds_the_weighted_logits_of_the_two_models(toy_sentiment, refit):
    docs, y = toy_sentiment
    X = [list(d) for d in docs]
    params = dict(bag_ngrams=2, max_epochs=8, refit=refit)
    network = tiny(**params).fit(X, y)
    clf = tiny(linear_blend=(0.3,), **params).fit(X, y)
    assert (clf.selected_, clf.linear_weight_) == ("blend", 0.3)
    assert clf.best_epoch_ == network.best_epoch_ and not clf.retried_without_linear_
    # Choosing the blend drew no random numbers: the network is the one trained without,
    # and predictions are softmax(0.7 * its logits + 0.3 * the regression's).
    regression = _char_tfidf_regression(docs, y, clf.linear_C_)
    new = docs[:30] + ["好吃", "没见过的字", ""]
    logits = (0.7 * np.log(network.predict_proba([list(d) for d in new]))
              + 0.3 * np.log(regression.predict_proba(new)))
    expected = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba([list(d) for d in new]), expected, atol=1e-4)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the network's attention still counts
        assert len(clf.explain(X[:2])) == 2


def test_linear_blend_chooses_the_lowest_held_out_log_loss(tokens):
    X, y = tokens
    clf = tiny(bag_ngrams=2, max_epochs=6, linear_blend=(0.0, 0.25, 0.5, 0.75, 1.0)).fit(X, y)
    losses = clf.validation_log_loss_
    assert losses["blend"] <= min(losses["network"], losses["linear"])
    assert clf.linear_weight_ in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert clf.selected_ == {0.0: "network", 1.0: "linear"}.get(clf.linear_weight_, "blend")
    assert (clf.linear_C_ is None) == (clf.linear_weight_ == 0)
    assert LSTMAttentionClassifier().linear_blend == (0.0, 0.25, 0.5, 0.75, 1.0)
    as_array = tiny(bag_ngrams=2, max_epochs=6, linear_blend=np.array([0.0, 0.5])).fit(X, y)
    assert as_array.linear_weight_ in (0.0, 0.5)


def test_linear_blend_keeps_a_network_that_wins_and_trains_it_as_without(tokens, monkeypatch):
    from sklearn.dummy import DummyClassifier

    X, y = tokens
    without = tiny(bag_ngrams=2, max_epochs=6).fit(X, y)
    # A "regression" that is always sure of class 0: any weight on it costs log loss.
    monkeypatch.setattr(LSTMAttentionClassifier, "_linear_model",
                        lambda self, C: DummyClassifier(strategy="constant", constant=0))
    clf = tiny(bag_ngrams=2, max_epochs=6, linear_blend=(0.0, 0.5, 1.0)).fit(X, y)
    assert (clf.selected_, clf.linear_weight_, clf.linear_C_) == ("network", 0.0, None)
    losses = clf.validation_log_loss_
    assert losses["blend"] == pytest.approx(losses["network"], rel=1e-5) and losses["blend"] < losses["linear"]
    np.testing.assert_array_equal(clf.predict_proba(X), without.predict_proba(X))


class _CertainRegression:
    """scikit-learn's logistic regression, certain of every answer and wrong on every
    8th row: a fine macro-F1 on held-out rows, a terrible log loss."""

    def __init__(self):
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(C=100, max_iter=1000)

    def fit(self, X, y):
        self.model.fit(X, y)
        self.classes_, self.coef_, self.intercept_ = (
            self.model.classes_, self.model.coef_, self.model.intercept_)
        return self

    def predict_proba(self, X):
        pred = self.model.predict(X)
        pred[::8] = (pred[::8] + 1) % len(self.classes_)
        return np.eye(len(self.classes_))[pred]


@pytest.mark.parametrize("scoring", ["f1_macro", "accuracy"])
def test_blend_scoring_chooses_by_held_out_score_then_log_loss(tokens, scoring, monkeypatch):
    X, y = tokens
    monkeypatch.setattr(LSTMAttentionClassifier, "_linear_model", lambda self, C: _CertainRegression())
    # A network that learns nothing (vanishing steps): near-uniform probabilities.
    params = dict(bag_ngrams=2, max_epochs=1, lr=1e-9, ngram_lr=1e-9, refit=False,
                  linear_blend=(0.0, 0.25, 0.5, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        by_loss = tiny(**params).fit(X, y)
        by_score = tiny(blend_scoring=scoring, **params).fit(X, y)
    # Log loss keeps the unsure network over any share of the certain, sometimes wrong,
    # regression; macro-F1 and accuracy take the regression's answers, every weight > 0
    # gives them (its log-probabilities of 0 and log(1e-12) outvote the network's), and
    # among those tied weights the lowest log loss, the smallest weight, wins.
    assert (by_loss.linear_weight_, by_loss.selected_) == (0.0, "network")
    assert by_loss.validation_score_ == by_loss.validation_log_loss_
    assert (by_score.linear_weight_, by_score.selected_) == (0.25, "blend")
    scores = by_score.validation_score_
    assert scores["blend"] == scores["linear"] > scores["network"] and 0.7 < scores["blend"] < 1
    assert by_score.validation_log_loss_["blend"] > by_score.validation_log_loss_["network"]
    assert by_loss.best_epoch_ == by_score.best_epoch_


@pytest.mark.parametrize("params", [dict(early_stopping=False), dict(bag_ngrams=0),
                                    dict(bag_ngrams=2, ngram_dim=4),
                                    dict(linear_blend=(0.0,)), dict(linear_blend=None)])
def test_linear_blend_needs_a_held_out_part_and_the_linear_part(tokens, params):
    X, y = tokens
    clf = tiny(**{"max_epochs": 1, "lr": 1e-9, "ngram_lr": 1e-9,
                  "linear_blend": (0.0, 1.0), **params}).fit(X, y)
    assert (clf.selected_, clf.linear_weight_, clf.validation_log_loss_) == ("network", 0.0, None)


@pytest.mark.parametrize("threads", [1, 2])
def test_fit_and_predict_leave_torch_threads_as_the_caller_set_them(toy_sentiment, threads):
    # The caller's thread count is the one setting: loky and Dask process workers get one
    # thread each from joblib and Dask; sk_slm never changes it (README, Threads).
    from sk_slm import make_lstm_pipeline

    X, y = toy_sentiment
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        pipe = make_lstm_pipeline(hidden_size=8, embedding_dim=8, attention_size=4,
                                  max_epochs=2).fit(X[:80], y[:80])
        assert torch.get_num_threads() == threads
        pipe.predict_proba(X[80:120])
        assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)


def test_verbose_fit_prints_the_epoch_tables_without_reinitialisation_notices(tokens, capsys):
    X, y = tokens
    clf = tiny(max_epochs=3, verbose=1).fit(X, y)  # early stopping, then the refit
    out = capsys.readouterr().out
    assert out.count("train_loss") == 2  # the two tables' headers
    assert "Re-initializing" not in out
    assert [name for name, _ in clf.train_passes_] == ["early_stopping", "refit"]
