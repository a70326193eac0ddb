"""rnn_states: the padded, per-direction RNN equals the packed computation."""

import itertools

import pytest
import torch
from torch import nn

from sk_slm.network.module import AttentionRNN
from sk_slm.network.recurrent import packed_rnn_states, rnn_states

COMBINATIONS = list(itertools.product((nn.LSTM, nn.GRU), (1, 2), (False, True)))


def _batch(seed, batch=9, features=6, longest=13):
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, longest + 1, (batch,), generator=gen)
    lengths[0] = longest  # the padded width is the longest row
    lengths[1] = 1
    inputs = torch.randn(batch, longest, features, generator=gen)
    return inputs, lengths


def _rnn(cell, layers, bidirectional, seed=0, features=6):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return cell(features, 5, num_layers=layers, bidirectional=bidirectional,
                    batch_first=True, dropout=0.5 if layers > 1 else 0.0).eval()


@pytest.mark.parametrize("cell, layers, bidirectional", COMBINATIONS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_outputs_and_gradients_equal_the_packed_computation(cell, layers, bidirectional,
                                                            seed):
    inputs, lengths = _batch(seed)
    rnn = _rnn(cell, layers, bidirectional, seed)
    weights = torch.randn(inputs.shape[:2] + (5 * (1 + bidirectional),),
                          generator=torch.Generator().manual_seed(seed + 10))

    results = []
    for run in (rnn_states, packed_rnn_states):
        rnn.zero_grad()
        x = inputs.clone().requires_grad_(True)
        states = run(rnn, x, lengths)
        (states * weights).sum().backward()
        results.append((states.detach(), x.grad, [p.grad.clone() for p in rnn.parameters()]))

    (fast, fast_dx, fast_dw), (packed, packed_dx, packed_dw) = results
    assert fast.shape == packed.shape == (9, 13, 5 * (1 + bidirectional))
    torch.testing.assert_close(fast, packed, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fast_dx, packed_dx, atol=1e-5, rtol=1e-5)
    assert len(fast_dw) == len(packed_dw) == len(list(rnn.parameters()))
    for a, b in zip(fast_dw, packed_dw, strict=True):
        assert b.abs().max() > 0  # every weight takes part
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell, layers, bidirectional", COMBINATIONS)
def test_padding_never_reaches_a_real_state(cell, layers, bidirectional):
    inputs, lengths = _batch(3)
    rnn = _rnn(cell, layers, bidirectional)
    real = torch.arange(inputs.shape[1])[None, :] < lengths[:, None]
    noisy = inputs.masked_fill(~real[..., None], 1e3)
    clean = rnn_states(rnn, inputs, lengths)
    torch.testing.assert_close(rnn_states(rnn, noisy, lengths), clean, atol=0, rtol=0)
    assert (clean[~real] == 0).all()
    assert (clean[real].abs().sum(-1) > 0).all()


def test_each_row_is_read_alone():
    # A row's states do not depend on the other rows of its batch, nor on the padded width.
    inputs, lengths = _batch(4)
    rnn = _rnn(nn.LSTM, 2, True)
    together = rnn_states(rnn, inputs, lengths)
    for row in range(len(lengths)):
        n = int(lengths[row])
        alone = rnn_states(rnn, inputs[row : row + 1, :n], lengths[row : row + 1])
        torch.testing.assert_close(alone[0], together[row, :n], atol=1e-6, rtol=1e-5)


def test_dropout_between_layers_only_while_training():
    inputs, lengths = _batch(5)
    rnn = _rnn(nn.LSTM, 2, True)
    torch.testing.assert_close(rnn_states(rnn, inputs, lengths),
                               packed_rnn_states(rnn, inputs, lengths), atol=1e-5, rtol=1e-5)
    rnn.train()
    with torch.random.fork_rng():
        torch.manual_seed(0)
        a = rnn_states(rnn, inputs, lengths)
        torch.manual_seed(1)
        b = rnn_states(rnn, inputs, lengths)
    assert not torch.equal(a, b)  # the inter-layer dropout draws differ


def test_attention_ignores_padding_and_matches_the_packed_module():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = AttentionRNN(vocab_size=30, n_classes=3, embedding_dim=8, hidden_size=6,
                              attention_size=4, num_layers=2).eval()
        ids = torch.randint(2, 30, (5, 11))
    lengths = torch.tensor([11, 1, 4, 7, 11])
    ids[torch.arange(11)[None, :] >= lengths[:, None]] = 0
    logits, weights = module(ids, lengths, return_attention=True)
    assert (weights[torch.arange(11)[None, :] >= lengths[:, None]] == 0).all()
    torch.testing.assert_close(weights.sum(1), torch.ones(5))
    # One more column of padding changes nothing.
    wider = torch.cat([ids, torch.zeros(5, 1, dtype=ids.dtype)], 1)
    logits2, weights2 = module(wider, lengths, return_attention=True)
    torch.testing.assert_close(logits2, logits, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(weights2[:, :11], weights, atol=1e-6, rtol=1e-5)
    # The packed computation of the same module gives the same logits.
    emb = module.embedding(ids)
    torch.testing.assert_close(rnn_states(module.rnn, emb, lengths),
                               packed_rnn_states(module.rnn, emb, lengths),
                               atol=1e-5, rtol=1e-5)


def test_refuses_what_it_cannot_run():
    rnn = nn.LSTM(4, 3, batch_first=False)
    with pytest.raises(ValueError, match="batch_first"):
        rnn_states(rnn, torch.zeros(2, 3, 4), torch.tensor([3, 2]))
