"""Language-model pre-training of the RNN: the LanguageModelPretraining callback, alone and
as LSTMAttentionClassifier(pretrain_epochs=...)."""

import numpy as np
import pytest
import torch

from sk_slm import (
    JiebaSegmenter,
    LanguageModelPretraining,
    LSTMAttentionClassifier,
    TokenIndexer,
    load_model,
    save_model,
)
from sk_slm.network import pretraining as pretraining_module
from sk_slm.network.module import PAD, AttentionRNN, BiLanguageModel, language_model_targets

# The network alone (no n-gram part, whose warm-up would keep the network frozen).
TINY = dict(hidden_size=8, module__embedding_dim=8, module__attention_size=4, max_epochs=4,
            random_state=0, bag_ngrams=0)


def tiny(**params):
    return LSTMAttentionClassifier(**{**TINY, **params})


@pytest.fixture(scope="module")
def tokens(toy_sentiment):
    X, y = toy_sentiment
    return TokenIndexer().fit_transform(JiebaSegmenter(granularity="char").fit_transform(X)), \
        np.asarray(y)


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


def test_pretraining_reads_the_documents_once_and_refit_starts_from_it(tokens, monkeypatch):
    X, y = tokens
    seen, starts = [], []
    real_fit = pretraining_module._LanguageModelNet.fit

    def spy(net, dataset, y=None, **kw):
        seen.append(len(dataset))
        return real_fit(net, dataset, y, **kw)

    real_fit_loop = LSTMAttentionClassifier.fit_loop

    def spy_fit_loop(self, *args, **kwargs):
        starts.append(self.module_.rnn.weight_hh_l0.detach().clone())
        return real_fit_loop(self, *args, **kwargs)

    monkeypatch.setattr(pretraining_module._LanguageModelNet, "fit", spy)
    monkeypatch.setattr(LSTMAttentionClassifier, "fit_loop", spy_fit_loop)
    clf = tiny(pretrain_epochs=1, validation_fraction=0.25).fit(X, y)
    assert seen == [len(X)]  # once, on the documents (never their labels)
    assert len(starts) == 2  # the first fit, then the refit on everything
    torch.testing.assert_close(starts[0], starts[1])
    assert [name for name, _ in clf.train_passes_] == ["pretrain", "early_stopping", "refit"]
    assert clf.pretrain_loss_ is not None and len(clf.pretrain_loss_) == 1


def test_the_callback_alone_pretrains_a_classifier_once(tokens):
    X, y = tokens
    callback = LanguageModelPretraining(epochs=2)
    clf = tiny(callbacks=[("lm", callback)], early_stopping=False, max_epochs=1).fit(X, y)
    assert len(callback.losses_) == 2 and callback.losses_[1] < callback.losses_[0]
    state = {k: v.clone() for k, v in callback.state_dict_.items()}
    with_param = tiny(pretrain_epochs=2, early_stopping=False, max_epochs=1).fit(X, y)
    assert with_param.pretrain_loss_ == callback.losses_  # the same component
    np.testing.assert_array_equal(with_param.predict_proba(X), clf.predict_proba(X))
    clf.partial_fit(X, y)  # training on: no second pre-training
    assert len(callback.losses_) == 2
    for name, value in callback.state_dict_.items():
        torch.testing.assert_close(value, state[name])


@pytest.mark.slow
def test_pretrained_classifier_learns_a_separable_task(tokens):
    X, y = tokens
    clf = tiny(pretrain_epochs=2, max_epochs=20, lr=1e-2).fit(X, y)
    assert clf.score(X, y) > 0.9


@pytest.mark.slow
def test_pretrained_fit_is_reproducible_and_leaves_global_rng_alone(tokens):
    X, y = tokens
    torch_state = torch.random.get_rng_state()
    a = tiny(pretrain_epochs=1).fit(X, y).predict_proba(X)
    b = tiny(pretrain_epochs=1).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert torch.equal(torch_state, torch.random.get_rng_state())
    c = tiny(pretrain_epochs=0).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, c)


@pytest.mark.slow
def test_unidirectional_and_gru_pretrain(tokens):
    X, y = tokens
    for params in ({"module__bidirectional": False, "module__num_layers": 2},
                   {"module__cell": "gru"}):
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
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-6)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"pretrain_epochs": -1}, "'pretrain_epochs' parameter"),
        ({"pretrain_epochs": 1.5}, "'pretrain_epochs' parameter"),
        ({"pretrain_epochs": 1, "module__num_layers": 2}, "needs module__num_layers=1"),
        ({"pretrain_epochs": 1, "module": torch.nn.Linear}, "pretrain_epochs trains"),
    ],
)
def test_bad_pretraining_settings_are_refused(tokens, params, message):
    X, y = tokens
    with pytest.raises(ValueError, match=message):
        tiny(**params).fit(X, y)


def test_an_interrupted_pretraining_leaves_the_classifier_unfitted(tokens, monkeypatch):
    X, y = tokens

    def ctrl_c(net, *args, **kwargs):
        raise KeyboardInterrupt  # skorch's partial_fit takes it as the end of training

    monkeypatch.setattr(pretraining_module._LanguageModelNet, "fit_loop", ctrl_c)
    clf = tiny(pretrain_epochs=2)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert not clf.initialized_ and not hasattr(clf, "module_")
