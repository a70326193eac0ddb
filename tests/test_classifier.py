import pickle
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from sk_slm import (
    JiebaSegmenter,
    LSTMAttentionClassifier,
    TokenIndexer,
    TokenSequences,
    Word2VecVectorizer,
)
from sk_slm.features.sequences import truncate
from sk_slm.network._batches import _BucketBatchSampler

TINY = dict(hidden_size=16, module__embedding_dim=16, module__attention_size=8, max_epochs=12,
            random_state=0)


def tiny(**params):
    return LSTMAttentionClassifier(**{**TINY, **params})


def tiny_w2v(**params):
    """For Word2Vec's sequences, whose vectors set the embedding's width."""
    return LSTMAttentionClassifier(**{**{k: v for k, v in TINY.items()
                                         if k != "module__embedding_dim"}, **params})


@pytest.fixture(scope="module")
def token_lists(toy_sentiment):
    X, y = toy_sentiment
    return JiebaSegmenter().fit_transform(X), np.asarray(y)


@pytest.fixture(scope="module")
def indexer(token_lists):
    return TokenIndexer().fit(token_lists[0])


@pytest.fixture(scope="module")
def tokens(token_lists, indexer):
    """The documents numbered by a TokenIndexer: what the classifier reads."""
    X, y = token_lists
    return indexer.transform(X), y


@pytest.fixture(scope="module")
def fitted(tokens):
    X, y = tokens
    return tiny().fit(X, y)


@pytest.mark.slow
def test_learns_a_separable_task_with_string_labels(fitted, tokens):
    X, y = tokens
    assert set(fitted.classes_) == {"正面", "负面"}
    assert fitted.score(X, y) > 0.9
    pred = fitted.predict(X)
    assert pred.dtype.kind == "U" and len(pred) == len(X)
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)


@pytest.mark.slow
def test_multiclass_with_non_contiguous_int_labels():
    rng = np.random.default_rng(0)
    words = {3: ["猫", "狗"], 10: ["车", "船"], 42: ["书", "笔"]}
    y = rng.choice([3, 10, 42], size=180)
    X = TokenIndexer().fit_transform([list(rng.choice(words[c], 4)) + ["的"] for c in y])
    clf = tiny(max_epochs=25, lr=1e-2).fit(X, y)
    assert list(clf.classes_) == [3, 10, 42]
    assert clf.score(X, y) > 0.95
    assert set(clf.predict(X)) <= {3, 10, 42}


@pytest.mark.slow
def test_word2vec_sequences_initialise_the_embeddings(token_lists):
    X, y = token_lists
    vec = Word2VecVectorizer(output="sequence", vector_size=12, min_count=1, random_state=0)
    seqs = vec.fit_transform(X)
    clf = tiny_w2v(module__freeze_embeddings=True).fit(seqs, y)
    table = clf.module_.embedding.weight.detach().numpy()
    assert table.shape == (len(vec.wv_) + 2, 12)
    np.testing.assert_allclose(table[2:], vec.wv_.vectors)  # frozen: unchanged by training
    assert not table[0].any()  # padding row
    unfrozen = tiny_w2v().fit(seqs, y).module_.embedding.weight.detach().numpy()
    assert not np.allclose(unfrozen[2:], vec.wv_.vectors)
    assert not hasattr(clf, "init_embeddings_")  # the table is pickled once, in the module


def test_sequence_vocabulary_mismatch_is_refused(token_lists, tokens):
    X, y = token_lists
    seqs = Word2VecVectorizer(output="sequence", min_count=1, vector_size=8).fit_transform(X)
    clf = tiny_w2v(max_epochs=1).fit(seqs, y)
    other = TokenSequences(np.array([0]), np.array([0, 1]), np.zeros((3, 8), np.float32), ["a", "b", "c"])
    with pytest.raises(ValueError, match="different vocabulary"):
        clf.predict(other)
    with pytest.raises(TypeError, match="TokenSequences"):
        clf.predict(X)
    with pytest.raises(ValueError, match="different vocabulary.*or TokenIndexer"):
        clf.predict(tokens[0])  # a TokenIndexer's, not this Word2VecVectorizer's
    with pytest.raises(ValueError, match="module__embedding_dim is set from the data"):
        tiny(max_epochs=1).fit(seqs, y)  # the vectors are 8 wide


@pytest.mark.slow
def test_both_pipelines_fit_and_predict_every_row(toy_sentiment):
    X, y = toy_sentiment
    for pipe in (
        make_pipeline(JiebaSegmenter(), TokenIndexer(), tiny()),
        make_pipeline(JiebaSegmenter(), Word2VecVectorizer(output="sequence", min_count=1,
                                                          vector_size=16), tiny_w2v()),
    ):
        pipe.fit(X, y)
        assert pipe.score(X, y) > 0.8
        odd = ["", "   ", "火星文字", "好吃" * 500]
        assert len(pipe.predict(odd)) == len(odd)


@pytest.mark.slow
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
        ("module__num_layers", 2, lambda m: m.rnn.num_layers == 2),
        ("module__bidirectional", False, lambda m: not m.rnn.bidirectional),
        ("module__cell", "gru", lambda m: isinstance(m.rnn, torch.nn.GRU)),
        ("module__attention_size", 5, lambda m: m.attention[0].out_features == 5),
        ("dropout", 0.5, lambda m: m.dropout.p == 0.5),
        ("module__embedding_dim", 7, lambda m: m.embedding.embedding_dim == 7),
    ],
)
@pytest.mark.slow
def test_architecture_parameters_reach_the_module(tokens, param, value, check):
    X, y = tokens
    clf = tiny(max_epochs=1, **{param: value}).fit(X, y)
    assert check(clf.module_)


def test_an_architecture_setting_is_set_one_way(tokens):
    # hidden_size= and module__hidden_size= used to both work, the second winning.
    X, y = tokens
    with pytest.raises(ValueError, match="module__hidden_size sets what.*give hidden_size="):
        tiny(max_epochs=1, module__hidden_size=6).fit(X, y)
    with pytest.raises(ValueError, match="module__vocab_size is set from the data"):
        tiny(max_epochs=1, module__vocab_size=6).fit(X, y)
    # Other routed settings still work.
    assert tiny(max_epochs=1, optimizer__weight_decay=1e-4).fit(X, y).initialized_


@pytest.mark.slow
def test_without_ngrams_the_module_has_no_ngram_part(tokens):
    X, y = tokens
    plain = tiny(max_epochs=1, bag_ngrams=0).fit(X, y)
    assert plain.module_.ngram_logits is None and plain.ngrams_ is None


@pytest.mark.slow
def test_wide_ngram_part_is_linear_logits_with_its_own_learning_rate(tokens):
    X, y = tokens
    clf = tiny(max_epochs=2, bag_ngrams=2, ngram_lr=0.1, ngram_warmup=0).fit(X, y)
    # One row per distinct 1- and 2-gram of the training documents, plus padding.
    n_grams = len({tuple(d[i : i + n]) for d in X for n in (1, 2) for i in range(len(d) - n + 1)})
    assert len(clf.ngrams_.vocabulary_) == n_grams
    assert clf.module_.ngram_logits.weight.shape == (n_grams + 1, 2)
    assert clf.module_.ngram_logits.weight.abs().sum() > 0  # it was trained
    groups = clf.optimizer_.param_groups
    assert [g["lr"] for g in groups] == [clf.lr, 0.1]
    assert groups[1]["params"] == [clf.module_.ngram_logits.weight]
    assert clf.ngrams_.tfidf_.idf_.shape == (n_grams,)
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


def test_ngram_warmup_keeps_frozen_embeddings_frozen(token_lists):
    X, y = token_lists
    seqs = Word2VecVectorizer(output="sequence", vector_size=12, min_count=1,
                              random_state=0).fit_transform(X)
    clf = tiny_w2v(max_epochs=3, ngram_warmup=1, module__freeze_embeddings=True, bag_ngrams=2,
               early_stopping=False).fit(seqs, y)
    assert not clf.module_.embedding.weight.requires_grad
    np.testing.assert_array_equal(clf.module_.embedding.weight.detach().numpy()[2:],
                                  seqs.vectors)


@pytest.mark.slow
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


@pytest.mark.slow
def test_the_later_passes_train_the_classifier_itself(tokens, monkeypatch):
    X, y = tokens
    clf = tiny(max_epochs=4, bag_ngrams=2, ngram_warmup=1)
    built, spy = [], []
    init, train = LSTMAttentionClassifier.__init__, LSTMAttentionClassifier._train
    monkeypatch.setattr(LSTMAttentionClassifier, "__init__",
                        lambda self, **kw: (built.append(kw), init(self, **kw))[1])
    monkeypatch.setattr(LSTMAttentionClassifier, "_train",
                        lambda self, *a, **kw: (spy.append((self, self.module_)),
                                                train(self, *a, **kw))[1])
    clf.fit(X, y)
    # No copy of the classifier is built: the refit trains this one, a new module.
    assert built == [] and [net for net, _ in spy] == [clf, clf]
    assert spy[0][1] is not spy[1][1] and clf.module_ is spy[1][1]
    assert [name for name, _ in clf.train_passes_] == ["early_stopping", "refit"]
    # After fit the callbacks are early stopping's (for partial_fit), not the refit's.
    assert "early_stopping" in dict(clf.callbacks_) and clf.get_params()["early_stopping"]
    assert not any(name.startswith("_") for name in clf.get_params())


@pytest.mark.slow
def test_a_retry_after_pre_training_pre_trains_again_and_lists_it(tokens):
    X, y = tokens
    # A huge step fits the n-gram part in the first epoch (larger than without
    # pre-training, whose network improves on it sooner).
    params = dict(bag_ngrams=2, ngram_warmup=3, patience=2, ngram_lr=10.0, max_epochs=8,
                  pretrain_epochs=1, module__num_layers=1)
    clf = tiny(retry_without_ngrams=True, **params).fit(X, y)
    assert [name for name, _ in clf.train_passes_] == [
        "pretrain", "early_stopping", "pretrain", "retry", "refit"]
    assert len(clf.pretrain_loss_) == 1
    # The same model as the classifier fitted without the n-gram part from the start.
    alone = tiny(bag_ngrams=0, patience=2, max_epochs=8, pretrain_epochs=1,
                 module__num_layers=1).fit(X, y)
    np.testing.assert_array_equal(alone.predict_proba(X), clf.predict_proba(X))
    assert clf.pretrain_loss_ == alone.pretrain_loss_


def test_too_few_documents_to_hold_out_for_early_stopping_are_refused_by_name(tokens):
    X, y = tokens
    rows = [0, 2, 1]  # one document of the second class: none to hold out, stratified
    with pytest.raises(ValueError, match=r"3 documents are too few for early stopping to "
                                         r"hold out validation_fraction=0.1"):
        tiny().fit(X[rows], y[rows])


def test_ngram_tfidf_equals_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = ["今天天气很好", "天气不好", "今天很好很好", "好", "很好的天气", ""]
    indexer = TokenIndexer().fit([list(d) for d in docs])
    X = [list(d) for d in docs]
    y = [0, 1, 0, 1, 0, 1]
    clf = tiny(max_epochs=0, bag_ngrams=2, early_stopping=False).fit(indexer.transform(X), y)
    reference = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    expected = reference.fit_transform(docs).toarray()
    assert len(clf.ngrams_.vocabulary_) == len(reference.vocabulary_)
    data = clf.get_dataset(indexer.transform(X + [list("天气很好啊")]))  # "啊" is unseen
    expected = np.vstack([expected, reference.transform(["天气很好啊"]).toarray()])
    for i in range(len(docs) + 1):
        lo, hi = data.ngram_offsets[i], data.ngram_offsets[i + 1]
        np.testing.assert_allclose(np.sort(data.ngram_weights[lo:hi].numpy()),
                                   np.sort(expected[i][expected[i] > 0]), rtol=1e-5)


def test_ngrams_stay_inside_each_document():
    from sk_slm.features._ngram_tfidf import ngram_codes

    ids = np.array([5, 6, 7, 5, 6])
    codes, owner = ngram_codes(ids, np.array([0, 3, 3, 5]), 2, base=10)
    assert np.bincount(owner, minlength=3).tolist() == [3 + 2, 0, 2 + 1]  # none across
    assert set(codes[owner == 2]) <= set(codes[owner == 0])  # same tokens, same codes
    assert len(set(codes[owner == 0])) == 5  # 1-grams and 2-grams never share a code


@pytest.mark.slow
def test_vocabulary_parameters(token_lists):
    X, y = token_lists
    assert tiny(max_epochs=1).fit(TokenIndexer(max_vocab=5).fit_transform(X), y).n_vocab_ == 7
    full = tiny(max_epochs=1).fit(TokenIndexer().fit_transform(X), y).n_vocab_
    few = TokenIndexer(min_count=1000).fit_transform(X)
    assert tiny(max_epochs=1).fit(few, y).n_vocab_ == 2 < full


@pytest.mark.slow
def test_optimizer_weight_decay_and_skorch_routing(tokens):
    X, y = tokens
    clf = tiny(max_epochs=1, optimizer__weight_decay=0.01).fit(X, y)
    assert clf.optimizer_.param_groups[0]["weight_decay"] == 0.01
    assert clf.optimizer_.param_groups[0]["lr"] == clf.lr
    clf = tiny(max_epochs=1, optimizer=torch.optim.SGD, optimizer__momentum=0.9).fit(X, y)
    assert isinstance(clf.optimizer_, torch.optim.SGD)
    assert clf.optimizer_.param_groups[0]["momentum"] == 0.9
    clf.set_params(optimizer__momentum=0.5)  # skorch updates the live optimizer
    assert clf.optimizer_.param_groups[0]["momentum"] == 0.5


@pytest.mark.slow
def test_the_optimizer_updates_all_tensors_at_once_with_the_same_numbers(tokens):
    X, y = tokens
    fast = tiny(max_epochs=3, ngram_warmup=1).fit(X, y)
    assert fast.optimizer_.defaults["foreach"] is True  # torch's CPU default is the loop
    loop = tiny(max_epochs=3, ngram_warmup=1, optimizer__foreach=False).fit(X, y)
    assert loop.optimizer_.defaults["foreach"] is False  # the user's setting wins
    for name, value in fast.module_.state_dict().items():
        assert torch.equal(value, loop.module_.state_dict()[name]), name
    # fused excludes foreach; an optimizer without the parameter gets none.
    fused = tiny(max_epochs=1, optimizer__fused=True).fit(X, y)
    assert fused.optimizer_.defaults["fused"] is True and not fused.optimizer_.defaults["foreach"]

    class Plain(torch.optim.Optimizer):
        def __init__(self, params, lr=0.01):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            return closure()  # skorch passes the forward and backward pass; no update

    assert "foreach" not in tiny(max_epochs=1, optimizer=Plain).fit(X, y).optimizer_.defaults


@pytest.mark.slow
def test_class_weights_are_routed_to_the_loss(tokens):
    from sklearn.utils.class_weight import compute_class_weight

    X, y = tokens
    clf = tiny(max_epochs=1, criterion__weight=torch.tensor([3.0, 1.0])).fit(X, y)
    np.testing.assert_allclose(clf.criterion_.weight.numpy(), [3.0, 1.0])
    # "balanced", in the order of classes_ (sorted labels):
    weights = compute_class_weight("balanced", classes=np.unique(y[:100]), y=y[:100])
    clf = tiny(max_epochs=1, criterion__weight=torch.tensor(weights, dtype=torch.float32))
    clf.fit(X[:100], y[:100])
    np.testing.assert_allclose(clf.criterion_.weight.numpy(), weights, rtol=1e-6)


@pytest.mark.slow
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
        out, off, keep = truncate(ids, offsets, 4, how)
        assert out[: off[1]].tolist() == first
        assert off.tolist() == [0, 4, 8] and keep.sum() == 8


def test_max_len_and_explanations_zero_for_cut_tokens(fitted, indexer):
    long_doc = ["好吃"] * 10 + ["难吃"] * 10
    clf = fitted.set_params(max_len=8, truncation="head")
    try:
        (expl,) = clf.explain(indexer.transform([long_doc]))
        weights = np.array([w for _, w in expl])
        assert len(expl) == 20 and [t for t, _ in expl] == long_doc
        assert weights[:8].sum() == pytest.approx(1, abs=1e-5)
        assert not weights[8:].any()
    finally:
        clf.set_params(max_len=256)


@pytest.mark.slow
def test_ngram_part_reads_tokens_beyond_max_len():
    # The label shows only after 6 filler tokens: the RNN, cut to 4 tokens, cannot see
    # it, the linear n-gram part reads the whole document and can.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80)
    X = TokenIndexer().fit_transform([["填"] * 6 + (["好"] if label else ["坏"]) for label in y])
    params = dict(max_len=4, early_stopping=False, max_epochs=6, ngram_warmup=6)
    assert tiny(bag_ngrams=1, **params).fit(X, y).score(X, y) == 1.0
    assert tiny(bag_ngrams=0, **params).fit(X, y).score(X, y) < 0.7


def test_explain_weights_sum_to_one_and_empty_docs(fitted, token_lists, indexer):
    X, _ = token_lists
    expl = fitted.explain(indexer.transform(X[:5] + [[]]))
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
                                          ("hidden_size", 0), ("validation_fraction", 1.0),
                                          ("max_len", 0), ("bag_ngrams", 1.5),
                                          ("bag_ngrams", True), ("pretrain_epochs", -1),
                                          ("retry_without_ngrams", "yes"),
                                          ("batch_size", 0)])
def test_bad_parameters_are_named(tokens, param, value):
    X, y = tokens
    with pytest.raises(ValueError, match=f"The '{param}' parameter of LSTMAttentionClassifier"):
        tiny(**{param: value}).fit(X, y)


@pytest.mark.parametrize("params, ineffective", [
    (dict(bag_ngrams=0, ngram_lr=0.1), "ngram_lr=0.1"),
    (dict(bag_ngrams=0, ngram_warmup=2, retry_without_ngrams=True),
     "ngram_warmup=2, retry_without_ngrams=True"),
    (dict(early_stopping=False, patience=5), "patience=5"),
    (dict(early_stopping=False, refit=False), "refit=False"),
])
@pytest.mark.slow
def test_a_parameter_another_setting_makes_ineffective_warns(tokens, params, ineffective):
    X, y = tokens
    with pytest.warns(UserWarning, match=f"^{ineffective} has no effect"):
        tiny(max_epochs=1, **params).fit(X, y)


@pytest.mark.slow
def test_pickle_and_joblib_round_trip_full_pipeline(toy_sentiment, tmp_path):
    X, y = toy_sentiment
    pipe = make_pipeline(JiebaSegmenter(), Word2VecVectorizer(output="sequence", min_count=1,
                                                              vector_size=8),
                         tiny_w2v(max_epochs=3))
    pipe.fit(X, y)
    expected = pipe.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pipe)).predict_proba(X), expected)
    joblib.dump(pipe, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict_proba(X), expected)


@pytest.mark.slow
def test_grid_search_over_classifier_parameters(toy_sentiment):
    X, y = toy_sentiment
    pipe = make_pipeline(JiebaSegmenter(), TokenIndexer(), tiny(max_epochs=4))
    grid = GridSearchCV(pipe, {"lstmattentionclassifier__hidden_size": [8, 16],
                               "lstmattentionclassifier__lr": [1e-2]}, cv=2, n_jobs=2)
    grid.fit(X, y)
    assert grid.best_params_["lstmattentionclassifier__lr"] == 1e-2
    assert len(grid.predict(X)) == len(X)
    assert len(cross_val_score(pipe, X, y, cv=2)) == 2



def test_auto_ngram_lr_shrinks_with_the_number_of_ngrams_per_document(tokens, token_lists):
    X, y = tokens
    params = dict(max_epochs=1, bag_ngrams=2, early_stopping=False)
    clf = tiny(**params).fit(X, y)
    distinct = [len({tuple(d[i : i + n]) for n in (1, 2) for i in range(len(d) - n + 1)})
                for d in X]
    assert clf.ngram_lr_ == pytest.approx(2.5 / np.mean(distinct), rel=1e-6)
    assert clf.optimizer_.param_groups[1]["lr"] == clf.ngram_lr_
    longer = tiny(**params).fit(TokenIndexer().fit_transform([d * 3 for d in token_lists[0]]), y)
    assert longer.ngram_lr_ < clf.ngram_lr_
    assert tiny(ngram_lr=0.2, **params).fit(X, y).ngram_lr_ == 0.2


def test_early_stopping_cannot_stop_during_the_ngram_warmup():
    from skorch.callbacks import EarlyStopping
    from skorch.history import History

    from sk_slm.network._warmup import EarlyStoppingAfterWarmup

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
    assert stop_epoch(EarlyStoppingAfterWarmup(warmup=3, patience=2, load_best=True)) == (5, 1)
    assert stop_epoch(EarlyStoppingAfterWarmup(warmup=0, patience=2)) == (3, 1)


@pytest.mark.slow
def test_warns_when_early_stopping_keeps_only_the_ngram_part(tokens):
    X, y = tokens
    params = dict(bag_ngrams=2, ngram_warmup=3, patience=2)
    # A huge step fits the linear part in the first epoch; the network cannot improve on it.
    with pytest.warns(UserWarning, match="network never improved on its n-gram part") as rec:
        clf = tiny(ngram_lr=5.0, **params).fit(X, y)
    assert clf.best_epoch_ <= 3
    assert f"chose epoch {clf.best_epoch_}, inside the 3-epoch warm-up" in str(rec[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert tiny(ngram_lr=1.0, **params).fit(X, y).best_epoch_ > 3
    # Training that cannot outlast the warm-up gives the network no chance: said so.
    with pytest.warns(UserWarning, match="max_epochs=3 is not above ngram_warmup=3: only the"):
        tiny(ngram_lr=5.0, max_epochs=3, **params).fit(X, y)


@pytest.mark.slow
def test_retries_without_the_ngram_part_when_only_that_was_kept(tokens, tmp_path):
    from sk_slm import load_model, save_model

    X, y = tokens
    # A huge step fits the n-gram part in the first epoch, so early stopping keeps an
    # epoch of the warm-up (as above).
    params = dict(bag_ngrams=2, ngram_warmup=3, patience=2, ngram_lr=5.0, max_epochs=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the retried network is no linear model
        clf = tiny(retry_without_ngrams=True, **params).fit(X, y)
    assert clf.retried_without_ngrams_
    # Three passes: early stopping, the retry (its own early stopping), its refit.
    assert [name for name, _ in clf.train_passes_] == ["early_stopping", "retry", "refit"]
    assert clf.train_passes_[-1] == ("refit", clf.best_epoch_) == ("refit", len(clf.history))
    assert clf.module_.ngram_logits is None and clf.ngrams_ is None
    assert clf.score(X, y) > 0.8  # the network learned the task by itself (chance: 0.5)
    # It is the classifier without the n-gram part, fitted from the same seed.
    alone = tiny(bag_ngrams=0, patience=2, max_epochs=8).fit(X, y)
    np.testing.assert_array_equal(alone.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(alone.validation_proba_, clf.validation_proba_)
    save_model(clf, tmp_path / "retried.slm")
    loaded = load_model(tmp_path / "retried.slm")
    assert loaded.retried_without_ngrams_ and loaded.retry_without_ngrams
    assert loaded.train_passes_ == clf.train_passes_
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))

    with pytest.warns(UserWarning, match="network never improved on its n-gram part"):
        kept = tiny(**params).fit(X, y)
    assert not kept.retried_without_ngrams_ and kept.best_epoch_ <= 3
    assert [name for name, _ in kept.train_passes_] == ["early_stopping", "refit"]
    assert kept.module_.ngram_logits.weight.any()


@pytest.mark.slow
def test_refit_is_a_fit_on_all_data_for_the_chosen_epochs_from_the_same_seed(tokens):
    X, y = tokens
    clf = tiny(max_epochs=6, patience=2, lr=0.05, bag_ngrams=2, ngram_warmup=1).fit(X, y)
    by_hand = tiny(max_epochs=clf.best_epoch_, early_stopping=False, lr=0.05, bag_ngrams=2,
                   ngram_warmup=1).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), by_hand.predict_proba(X))
    assert len(clf.history) == clf.best_epoch_ and clf.early_stopping  # parameters unchanged


@pytest.mark.slow
def test_held_out_predictions_are_those_of_the_model_before_the_refit(tokens):
    from skorch.dataset import ValidSplit

    X, y = tokens
    refitted = tiny(max_epochs=4).fit(X, y)
    chosen = tiny(max_epochs=4, refit=False).fit(X, y)
    rows = refitted.validation_index_
    np.testing.assert_array_equal(rows, chosen.validation_index_)
    np.testing.assert_array_equal(refitted.validation_proba_, chosen.validation_proba_)
    np.testing.assert_allclose(chosen.predict_proba(X[rows]),
                               chosen.validation_proba_, rtol=1e-5, atol=1e-6)
    # skorch's stratified split of a tenth of the rows.
    assert len(rows) == len(ValidSplit(0.1, stratified=True)(np.arange(len(y)), y)[1])
    assert tiny(max_epochs=1, early_stopping=False).fit(X, y).validation_proba_ is None
    # Training on later (partial_fit) keeps the rows the fit held out.
    refitted.partial_fit(X[:100], y[:100])
    np.testing.assert_array_equal(refitted.validation_index_, rows)


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
def test_fit_and_predict_leave_torch_threads_as_the_caller_set_them(toy_sentiment, threads):
    # The caller's thread count is put back after every fit and prediction (loky and Dask
    # process workers get one thread each from joblib and Dask).
    from sk_slm import make_lstm_pipeline

    X, y = toy_sentiment
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        pipe = make_lstm_pipeline(hidden_size=8, module__attention_size=4,
                                  max_epochs=2).fit(X[:80], y[:80])
        assert torch.get_num_threads() == threads
        pipe.predict_proba(X[80:120])
        assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)


def test_fit_and_predict_run_on_the_free_cores_only(tokens, monkeypatch):
    # Beside other CPU-bound work, torch's threads that share a core with it hold every
    # operation back: a fit runs on the cores free when it starts.
    from skorch.callbacks import Callback

    from sk_slm import _threads

    class Threads(Callback):
        def on_epoch_begin(self, net, **kwargs):
            seen.append(torch.get_num_threads())

    X, y = tokens
    monkeypatch.setattr(_threads, "_usable_cores", lambda: 4)
    monkeypatch.setattr(_threads, "_runnable_threads", lambda: 3)  # two others run
    assert _threads.free_cores() == 2
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        seen = []
        clf = tiny(max_epochs=2, callbacks=[("threads", Threads())]).fit(X, y)
        assert seen and set(seen) == {2} and torch.get_num_threads() == 4
        calls = []
        monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append(n))
        clf.predict_proba(X)
        assert calls == [2, 4]  # cut for the prediction, then put back
        calls.clear()
        monkeypatch.setattr(_threads, "_runnable_threads", lambda: 1)  # idle: unchanged
        clf.predict_proba(X)
        monkeypatch.setattr(_threads, "_runnable_threads", lambda: None)  # no count
        clf.predict_proba(X)
        assert calls == []
    finally:
        monkeypatch.undo()
        torch.set_num_threads(before)


def test_a_fit_cut_to_one_thread_equals_one_on_two(tokens, monkeypatch):
    # The thread count now follows the machine's load: it must not change the model.
    from sk_slm import _threads

    X, y = tokens
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        monkeypatch.setattr(_threads, "_usable_cores", lambda: 2)
        probas = []
        for runnable in (1, 2):  # idle: two threads; one other process: one
            monkeypatch.setattr(_threads, "_runnable_threads", lambda r=runnable: r)
            probas.append(tiny(max_epochs=4, bag_ngrams=2, ngram_warmup=1).fit(X, y).predict_proba(X))
        np.testing.assert_array_equal(*probas)
    finally:
        torch.set_num_threads(before)


@pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="the kernel count is Linux's")
def test_free_cores_counts_a_busy_process():
    import subprocess
    import sys
    import time

    from sk_slm._threads import _usable_cores, free_cores

    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        assert free_cores() <= max(1, _usable_cores() - 1)
    finally:
        busy.kill()
        busy.wait()


def test_verbose_fit_prints_the_epoch_lines_without_reinitialisation_notices(tokens, capsys):
    X, y = tokens
    clf = tiny(max_epochs=3, verbose=1).fit(X, y)  # early stopping, then the refit
    out = capsys.readouterr().out
    assert out.count("epoch 1/3: train loss") == 2  # the two passes' first epochs
    assert "Re-initializing" not in out
    assert [name for name, _ in clf.train_passes_] == ["early_stopping", "refit"]


@pytest.mark.slow
def test_seeded_fits_in_threads_equal_a_sequential_fit(tokens):
    from concurrent.futures import ThreadPoolExecutor

    X, y = tokens
    params = dict(max_epochs=3, bag_ngrams=2, ngram_warmup=1)
    sequential = tiny(**params).fit(X, y).predict_proba(X)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(lambda: tiny(**params).fit(X, y).predict_proba(X))
                   for _ in range(3)]
        results = [f.result() for f in futures]
    for proba in results:
        np.testing.assert_array_equal(proba, sequential)


def test_a_fit_that_waits_for_another_threads_fit_says_so(tokens):
    import threading

    from sk_slm.network._seeding import seeded_torch

    X, y = tokens
    inside, release = threading.Event(), threading.Event()

    def hold():
        with seeded_torch(0):
            inside.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait(30)
    threading.Timer(0.5, release.set).start()  # the other fit ends while this one waits
    with pytest.warns(UserWarning, match="Another thread of this process is training"):
        tiny(max_epochs=1).fit(X, y)
    holder.join()
    with warnings.catch_warnings():  # alone, it waits for nothing and says nothing
        warnings.filterwarnings("error", message="Another thread")
        tiny(max_epochs=1).fit(X, y)


@pytest.mark.slow
def test_grid_search_with_the_threading_backend_equals_the_sequential_one(toy_sentiment):
    from joblib import parallel_backend

    X, y = toy_sentiment
    pipe = make_pipeline(JiebaSegmenter(), TokenIndexer(), tiny(max_epochs=2))
    grid = {"lstmattentionclassifier__hidden_size": [8, 16]}
    sequential = GridSearchCV(pipe, grid, cv=2).fit(X, y).cv_results_["mean_test_score"]
    with parallel_backend("threading", n_jobs=2):
        threaded = GridSearchCV(pipe, grid, cv=2, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(threaded.cv_results_["mean_test_score"], sequential)


@pytest.mark.parametrize("params", [dict(), dict(early_stopping=False),
                                    dict(bag_ngrams=0)])
@pytest.mark.slow
def test_an_interrupted_fit_leaves_the_classifier_unfitted(tokens, params):
    from skorch.callbacks import Callback

    class CtrlC(Callback):
        def on_batch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    X, y = tokens
    clf = tiny(max_epochs=4, **params).fit(X, y)  # fitted before
    clf.set_params(callbacks=[("ctrl_c", CtrlC())])
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert not clf.initialized_ and not hasattr(clf, "module_")
    assert not hasattr(clf, "label_encoder_") and not hasattr(clf, "best_epoch_")
    with pytest.raises(NotFittedError):
        clf.predict(X)
    # Fitted again without the interruption, it is the model a fresh fit gives.
    clf.set_params(callbacks=None)
    np.testing.assert_array_equal(clf.fit(X, y).predict_proba(X),
                                  tiny(max_epochs=4, **params).fit(X, y).predict_proba(X))


@pytest.mark.slow
def test_early_stopping_is_not_taken_for_an_interrupt(tokens):
    X, y = tokens
    clf = tiny(max_epochs=200, patience=2, lr=0.05, refit=False).fit(X, y)
    assert len(clf.history) < 200 and clf.initialized_
    # Nor is a number of epochs asked of skorch's fit loop.
    assert len(tiny(early_stopping=False).fit(X, y, epochs=2).history) == 2


@pytest.mark.slow
@pytest.mark.parametrize("params", [dict(), dict(module__num_layers=2),
                                    dict(module__cell="gru", dropout=0.0)])
def test_skipping_the_silent_network_in_the_warm_up_trains_exactly_the_same(tokens, params,
                                                                            monkeypatch):
    from sk_slm.network.module import AttentionRNN

    X, y = tokens
    settings = dict(max_epochs=4, bag_ngrams=2, ngram_warmup=2, **params)
    calls = []
    real = AttentionRNN._silent_network

    def counted(self, ids):
        calls.append(self.training)
        return real(self, ids)

    monkeypatch.setattr(AttentionRNN, "_silent_network", counted)
    skipping = tiny(**settings).fit(X, y)
    assert True in calls and False in calls  # training batches and validation ones skipped
    monkeypatch.setattr(AttentionRNN, "_network_is_silent", lambda self, ids: False)
    running = tiny(**settings).fit(X, y)
    np.testing.assert_array_equal(skipping.predict_proba(X), running.predict_proba(X))
    assert [row["train_loss"] for row in skipping.history_] == [
        row["train_loss"] for row in running.history_]  # the refit's epochs
    np.testing.assert_array_equal(skipping.validation_proba_, running.validation_proba_)


@pytest.mark.parametrize("random_state", [0, None])
def test_the_recorded_held_out_rows_are_those_early_stopping_held_out(tokens, random_state):
    # fit records the rows; skorch's split hook holds out the same ones (seeded alike,
    # even without a random_state): the kept epoch's validation loss is the loss of the
    # recorded rows' held-out probabilities.
    X, y = tokens
    clf = tiny(max_epochs=3, refit=False, random_state=random_state).fit(X, y)
    rows = clf.validation_index_
    y_rows = clf.label_encoder_.transform(y[rows])
    loss = -np.log(clf.validation_proba_[np.arange(len(rows)), y_rows]).mean()
    kept = clf.history[clf.best_epoch_ - 1, "valid_loss"]
    assert loss == pytest.approx(kept, rel=1e-5)


def test_deprecated_module_settings_warn_once_and_still_work(tokens, tmp_path):
    from sk_slm import load_model, save_model

    X, y = tokens
    with pytest.warns(FutureWarning) as record:
        clf = tiny(max_epochs=3, num_layers=2, cell="gru").fit(X, y)  # early stopping, refit
    deprecations = [str(w.message) for w in record if issubclass(w.category, FutureWarning)]
    assert len(deprecations) == 2  # once each, not again for the refit
    assert "set module__num_layers=2" in deprecations[0]
    assert clf.module_.rnn.num_layers == 2 and isinstance(clf.module_.rnn, torch.nn.GRU)
    assert [name for name, _ in clf.train_passes_] == ["early_stopping", "refit"]
    new = tiny(max_epochs=3, module__num_layers=2, module__cell="gru").fit(X, y)
    np.testing.assert_array_equal(new.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match="num_layers= and module__num_layers= both set it"):
        tiny(num_layers=2, module__num_layers=2).fit(X, y)
    # Saved with the deprecated parameter, a model loads and predicts as it did.
    save_model(clf, tmp_path / "old.slm")
    np.testing.assert_array_equal(load_model(tmp_path / "old.slm").predict_proba(X),
                                  clf.predict_proba(X))
