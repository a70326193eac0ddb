"""LSTMAttentionClassifier(pretrain_epochs=...): language-model pre-training of the RNN."""

import numpy as np
import pytest
import torch

from sk_slm import (
    JiebaSegmenter,
    LSTMAttentionClassifier,
    Word2VecVectorizer,
    load_model,
    make_lstm_pipeline,
    save_model,
)
from sk_slm import classifier as classifier_module
from sk_slm.module import PAD, AttentionRNN, BiLanguageModel, language_model_targets

# The network alone (no n-gram part, whose warm-up would keep the network frozen).
TINY = dict(hidden_size=8, embedding_dim=8, attention_size=4, max_epochs=4, random_state=0,
            bag_ngrams=0, linear_blend=None)


def tiny(**params):
    return LSTMAttentionClassifier(**{**TINY, **params})


@pytest.fixture(scope="module")
def tokens(toy_sentiment):
    X, y = toy_sentiment
    return JiebaSegmenter(granularity="char").fit_transform(X), np.asarray(y)


def test_targets_are_the_next_and_previous_tokens():
    ids = torch.tensor([[5, 6, 7], [8, 9, PAD]])
    targets = language_model_targets(ids, directions=2)
    assert targets.shape == (2, 3, 2)
    assert targets[0, :, 0].tolist() == [6, 7, PAD]  # next token
    assert targets[0, :, 1].tolist() == [PAD, 5, 6]  # previous token
    assert targets[1, :, 0].tolist() == [9, PAD, PAD]  # nothing follows the last token
    assert targets[1, :, 1].tolist() == [PAD, 8, PAD]  # padding predicts nothing
    assert language_model_targets(ids, directions=1).shape == (2, 3, 1)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_language_model_never_reads_the_token_it_predicts(bidirectional):
    torch.manual_seed(0)
    lm = BiLanguageModel(AttentionRNN(20, 2, embedding_dim=6, hidden_size=5,
                                      bidirectional=bidirectional)).eval()
    ids = torch.tensor([[2, 3, 4, 5, 6, 7]])
    lengths = torch.tensor([6])
    changed = ids.clone()
    changed[0, 3] = 9  # position 3
    a, b = lm.log_prob(ids, lengths), lm.log_prob(changed, lengths)
    assert a.shape == (1, 6, 20, 2 if bidirectional else 1)
    # Next-token logits before position 3 do not see it; from position 3 on they do.
    torch.testing.assert_close(a[0, :3, :, 0], b[0, :3, :, 0])
    assert not torch.allclose(a[0, 3, :, 0], b[0, 3, :, 0])
    if bidirectional:  # previous-token logits after position 3 do not see it
        torch.testing.assert_close(a[0, 4:, :, 1], b[0, 4:, :, 1])
        assert not torch.allclose(a[0, 3, :, 1], b[0, 3, :, 1])


@pytest.mark.parametrize("n_tokens", [30, 5000])  # one cluster below the cutoffs; three
def test_loss_is_the_mean_log_likelihood_of_the_real_neighbours(n_tokens):
    torch.manual_seed(0)
    lm = BiLanguageModel(AttentionRNN(n_tokens, 2, embedding_dim=6, hidden_size=5)).eval()
    ids = torch.tensor([[2, 3, 4, n_tokens - 1], [5, 6, PAD, PAD], [7, PAD, PAD, PAD]])
    lengths = torch.tensor([4, 2, 1])
    logp = lm.log_prob(ids, lengths)
    targets = language_model_targets(ids, 2)
    per_direction = []
    for d in range(2):
        keep = targets[..., d] != PAD  # 3 + 1 + 0 targets each way
        assert int(keep.sum()) == 4
        picked = logp[..., d].gather(-1, targets[..., d].unsqueeze(-1)).squeeze(-1)
        per_direction.append(-picked[keep].mean())
    expected = torch.stack(per_direction).mean()
    torch.testing.assert_close(lm.loss(lm(ids, lengths), ids), expected)


def test_pretraining_lowers_the_language_model_loss_and_changes_the_start(tokens):
    X, y = tokens
    # No classifier epochs: the module is what pre-training left.
    clf = tiny(pretrain_epochs=4, max_epochs=0, early_stopping=False).fit(X, y)
    assert len(clf.pretrain_loss_) == 4
    assert clf.pretrain_loss_[-1] < clf.pretrain_loss_[0]
    plain = tiny(max_epochs=0, early_stopping=False).fit(X, y)
    assert plain.pretrain_loss_ is None
    # Same seed, same initialisation: only pre-training moved the RNN and the embedding.
    assert not torch.equal(clf.module_.rnn.weight_hh_l0, plain.module_.rnn.weight_hh_l0)
    assert not torch.equal(clf.module_.embedding.weight, plain.module_.embedding.weight)
    torch.testing.assert_close(clf.module_.output.weight, plain.module_.output.weight)


def test_pretraining_reads_only_the_training_part_and_refit_starts_from_it(tokens, monkeypatch):
    X, y = tokens
    seen, starts = [], []
    real_fit = classifier_module._LanguageModelNet.fit

    def spy(net, dataset, y=None, **kw):
        seen.append(len(dataset))
        return real_fit(net, dataset, y, **kw)

    real_partial_fit = classifier_module.NeuralNetClassifier.partial_fit

    def spy_partial_fit(self, *args, **kwargs):
        starts.append(self.module_.rnn.weight_hh_l0.detach().clone())
        return real_partial_fit(self, *args, **kwargs)

    monkeypatch.setattr(classifier_module._LanguageModelNet, "fit", spy)
    monkeypatch.setattr(classifier_module.NeuralNetClassifier, "partial_fit", spy_partial_fit)
    clf = tiny(pretrain_epochs=1, validation_fraction=0.25).fit(X, y)
    assert seen == [len(X) - len(X) // 4]  # once, on the 75% early stopping trains on
    assert len(starts) == 2  # the first fit, then the refit on everything
    torch.testing.assert_close(starts[0], starts[1])
    assert clf.best_epoch_ >= 1


def test_pretrained_classifier_learns_a_separable_task(tokens):
    X, y = tokens
    clf = tiny(pretrain_epochs=2, max_epochs=20, lr=1e-2).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_pretrained_fit_is_reproducible_and_leaves_global_rng_alone(tokens):
    X, y = tokens
    torch_state = torch.random.get_rng_state()
    a = tiny(pretrain_epochs=1).fit(X, y).predict_proba(X)
    b = tiny(pretrain_epochs=1).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert torch.equal(torch_state, torch.random.get_rng_state())
    c = tiny(pretrain_epochs=0).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, c)


def test_unidirectional_and_gru_pretrain(tokens):
    X, y = tokens
    for params in ({"bidirectional": False, "num_layers": 2}, {"cell": "gru"}):
        clf = tiny(pretrain_epochs=1, **params).fit(X, y)
        assert len(clf.pretrain_loss_) == 1
        assert len(clf.predict(X)) == len(X)


def test_pretrained_model_saves_and_loads(tokens, tmp_path):
    X, y = tokens
    clf = tiny(pretrain_epochs=1).fit(X, y)
    save_model(clf, tmp_path / "m.slm")
    loaded = load_model(tmp_path / "m.slm")
    assert loaded.pretrain_epochs == 1
    assert loaded.pretrain_loss_ == clf.pretrain_loss_ and len(clf.pretrain_loss_) == 1
    assert loaded.n_pretrain_documents_ == clf.n_pretrain_documents_ > 0
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-6)


# Unlabeled text: the task's characters plus some (月, 亮, 星...) no labeled document has.
CORPUS = ["今天月亮很圆", "星星和月亮", "老板说外卖很快", "月", ""] * 3


def test_vectorizer_attaches_its_encoded_corpus_to_fit_transform_only(tokens):
    X, _ = tokens
    vec = Word2VecVectorizer(output="sequence", vector_size=8, min_count=1, random_state=0,
                             corpus=CORPUS)
    seqs = vec.fit_transform(X)
    corpus_tokens = JiebaSegmenter(granularity="char").transform(CORPUS)  # as X was
    assert len(seqs) == len(X) and len(seqs.unlabeled) == len(CORPUS)
    assert [seqs.unlabeled.tokens(i) for i in range(len(CORPUS))] == corpus_tokens
    assert seqs.unlabeled.vocabulary is seqs.vocabulary
    assert seqs[:5].unlabeled is seqs.unlabeled  # row selections keep it
    assert vec.transform(X).unlabeled is None  # transform never attaches it
    np.testing.assert_array_equal(vec.transform(X).ids, seqs.ids)
    assert "unlabeled=15 documents" in repr(seqs)
    plain = Word2VecVectorizer(output="sequence", vector_size=8, min_count=1, random_state=0)
    assert plain.fit_transform(X).unlabeled is None


def corpus_pipeline(**params):
    return make_lstm_pipeline(corpus=CORPUS, **{**TINY, "max_epochs": 2, **params})


def embedding_row(pipe, token):
    row = pipe[1].wv_.key_to_index[token] + 2  # the classifier's ids are shifted by 2
    return pipe[-1].module_.embedding.weight[row].detach()


def test_pretraining_reads_the_vectorizers_corpus(toy_sentiment):
    X, y = toy_sentiment
    on = corpus_pipeline(pretrain_epochs=1, pretrain_on_corpus=True).fit(X, y)
    off = corpus_pipeline(pretrain_epochs=1).fit(X, y)  # the default: the corpus is not read
    assert off[-1].pretrain_on_corpus is False
    n_train = len(X) - round(0.1 * len(X))  # the part early stopping trains on
    # The corpus texts of two or more characters (the single 月 and the empty one are
    # skipped: nothing to predict).
    assert on[-1].n_pretrain_documents_ == n_train + 9
    assert off[-1].n_pretrain_documents_ == n_train
    # 亮 is in no labeled document, so only pre-training on the corpus can move its
    # embedding away from its Word2Vec vector (classifier training leaves it alone).
    initial = torch.tensor(on[1].wv_["亮"])
    torch.testing.assert_close(embedding_row(off, "亮"), initial)
    assert not torch.allclose(embedding_row(on, "亮"), initial)
    assert len(on.predict(X)) == len(X)
    assert corpus_pipeline(pretrain_on_corpus=True).fit(X, y)[-1].n_pretrain_documents_ == 0


def test_corpus_reaches_the_language_model_in_every_cross_validation_fit(toy_sentiment):
    from sklearn.model_selection import cross_validate

    X, y = toy_sentiment
    result = cross_validate(corpus_pipeline(pretrain_epochs=1, pretrain_on_corpus=True),
                            X, y, cv=2, return_estimator=True)
    half = len(X) // 2
    fold_train = half - round(0.1 * half)  # the part early stopping trains on in each fold
    assert [p[-1].n_pretrain_documents_ for p in result["estimator"]] == [fold_train + 9] * 2


def test_unlabeled_ids_outside_the_vocabulary_are_refused(tokens):
    from sk_slm import TokenSequences

    X, y = tokens
    seqs = Word2VecVectorizer(output="sequence", vector_size=8, min_count=1,
                              random_state=0).fit_transform(X)
    seqs.unlabeled = TokenSequences(np.array([0, len(seqs.vocabulary)]), np.array([0, 2]),
                                    seqs.vectors, seqs.vocabulary)
    with pytest.raises(ValueError, match="outside X's vocabulary"):
        tiny(pretrain_epochs=1, pretrain_on_corpus=True).fit(seqs, y)
    tiny(pretrain_epochs=1).fit(seqs, y)  # not read: no error


@pytest.mark.parametrize(
    "params, message",
    [
        ({"pretrain_on_corpus": "yes"}, "pretrain_on_corpus must be True or False"),
        ({"pretrain_epochs": -1}, "pretrain_epochs must be a number >= 0"),
        ({"pretrain_epochs": 1.5}, "pretrain_epochs must be a number >= 0"),
        ({"pretrain_epochs": 1, "num_layers": 2}, "needs num_layers=1"),
        ({"pretrain_epochs": 1, "module": torch.nn.Linear}, "pretrain_epochs trains"),
    ],
)
def test_bad_pretraining_settings_are_refused(tokens, params, message):
    X, y = tokens
    with pytest.raises(ValueError, match=message):
        tiny(**params).fit(X, y)
