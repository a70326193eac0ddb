"""Which encoder to pre-train as the shipped language model, measured on this machine.

Usage: python -m benchmarks.lm_architecture [--corpus=DIR] [--docs=40000] [--seconds=90]
       [--threads=2] [--only=NAME,...]

Issue 31 asks to choose the pre-trained model's architecture by measurement on a 2-core
CPU: LSTM, GRU, a QRNN-style encoder or gated convolutions, and the hidden size, with
the training throughput of a plain ``nn.LSTM`` language model beside them. Each
candidate is a bidirectional character language model (embedding 128, vocabulary 6,000,
adaptive-softmax heads per direction, Adam 2e-3 with 100 warm-up steps, rows of 128
tokens, 64 rows a step) trained for the same wall-clock budget (``--seconds``) on the
first ``--docs`` documents of each corpus file (every 200th held out), from seed 0.
Reported: training tokens/s (evaluation excluded), its ratio to the plain ``nn.LSTM``
(E 128, H 256, run directly on the rows), the held-out perplexity after the budget (mean
over the files) and the encoder's parameters. The candidates named ``encoder ...`` are the
classifier's own encoder (``AttentionRNN`` read through ``rnn_states``, as fine-tuning
reads it); the QRNN-style and gated-convolution ones would need a new classifier encoder,
so they must win clearly to be worth it.
"""

from __future__ import annotations

import argparse
import gzip
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from sk_slm.language_model.corpus import read_corpus, rows
from sk_slm.language_model.settings import PretrainingSettings
from sk_slm.language_model.training import held_out_perplexity
from sk_slm.network.module import AttentionRNN, BiLanguageModel

from ._common import header, write_result

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


class _Heads(BiLanguageModel):
    """BiLanguageModel's heads and loss over another encoder's states."""

    def __init__(self, encoder: nn.Module, vocab: int, hidden: int):
        network = AttentionRNN(vocab, 1, embedding_dim=128, hidden_size=hidden, dropout=0.0)
        super().__init__(network)
        self.encoder = encoder
        del self.network.rnn  # the encoder replaces it (its width is read from hidden)
        self.network.rnn = nn.Module()
        self.network.rnn.hidden_size = hidden
        self.network.rnn.bidirectional = True

    def forward(self, ids, lengths, **_):
        return self.encoder(self.network.embedding(ids))


class PlainLSTM(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.rnn = nn.LSTM(128, hidden, batch_first=True, bidirectional=True)

    def forward(self, x):
        return self.rnn(x)[0]


class QRNN(nn.Module):
    """QRNN-style (Bradbury et al. 2017): gates from a width-2 causal convolution, then
    fo-pooling, one per direction."""

    def __init__(self, hidden):
        super().__init__()
        self.hidden = hidden
        self.convs = nn.ModuleList([nn.Conv1d(128, 3 * hidden, 2) for _ in range(2)])

    def _one(self, conv, x):
        z, f, o = conv(F.pad(x.transpose(1, 2), (1, 0))).transpose(1, 2).chunk(3, dim=-1)
        z, f, o = torch.tanh(z), torch.sigmoid(f), torch.sigmoid(o)
        c = torch.zeros_like(z[:, 0])
        out = []
        for t in range(z.shape[1]):
            c = f[:, t] * c + (1 - f[:, t]) * z[:, t]
            out.append(c)
        return o * torch.stack(out, 1)

    def forward(self, x):
        return torch.cat([self._one(self.convs[0], x),
                          self._one(self.convs[1], x.flip(1)).flip(1)], -1)


class GatedConv(nn.Module):
    """Gated causal convolutions (Dauphin et al. 2017): 4 residual GLU layers of width
    ``hidden`` and kernel 3 per direction."""

    def __init__(self, hidden, layers=4):
        super().__init__()
        self.inp = nn.ModuleList([nn.Linear(128, hidden) for _ in range(2)])
        self.layers = nn.ModuleList([nn.ModuleList([nn.Conv1d(hidden, 2 * hidden, 3)
                                                    for _ in range(layers)]) for _ in range(2)])

    def _one(self, d, x):
        h = self.inp[d](x).transpose(1, 2)
        for conv in self.layers[d]:
            h = h + F.glu(conv(F.pad(h, (2, 0))), dim=1)
        return h.transpose(1, 2)

    def forward(self, x):
        return torch.cat([self._one(0, x), self._one(1, x.flip(1)).flip(1)], -1)


def candidates(vocab):
    def encoder(cell, hidden):
        net = AttentionRNN(vocab, 1, embedding_dim=128, hidden_size=hidden, cell=cell,
                           dropout=0.0)
        return BiLanguageModel(net)

    return {
        "plain nn.LSTM 256": lambda: _Heads(PlainLSTM(256), vocab, 256),
        "encoder LSTM 128": lambda: encoder("lstm", 128),
        "encoder LSTM 192": lambda: encoder("lstm", 192),
        "encoder LSTM 256": lambda: encoder("lstm", 256),
        "encoder GRU 128": lambda: encoder("gru", 128),
        "encoder GRU 256": lambda: encoder("gru", 256),
        "QRNN-style 256": lambda: _Heads(QRNN(256), vocab, 256),
        "gated convs 256": lambda: _Heads(GatedConv(256), vocab, 256),
    }


def sample_corpus(corpus: Path, docs: int, folder: Path) -> list[Path]:
    out = []
    for f in sorted(corpus.glob("*.txt.gz")):
        lines = []
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                lines.append(line)
                if len(lines) == docs:
                    break
        p = folder / f.name.replace(".gz", "")
        p.write_text("".join(lines), encoding="utf-8")
        out.append(p)
    return out


def run(make, train_rows, held_out, seconds):
    torch.manual_seed(0)
    lm = make()
    opt = torch.optim.Adam(lm.parameters(), lr=2e-3, foreach=True)
    order = np.random.default_rng(0).permutation(len(train_rows))
    lengths = torch.full((64,), 128)
    trained, steps = 0.0, 0
    lm.train()
    while trained < seconds:
        start = time.perf_counter()
        picked = order[(steps * 64) % (len(order) - 64):][:64]
        ids = torch.from_numpy(train_rows[picked].astype(np.int64))
        for g in opt.param_groups:
            g["lr"] = 2e-3 * min(1.0, (steps + 1) / 100)
        opt.zero_grad()
        loss = lm.loss(lm(ids, lengths), ids)
        loss.backward()
        nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        opt.step()
        steps += 1
        trained += time.perf_counter() - start
    ppl = held_out_perplexity(lm, held_out, 128, 100, "cpu")
    params = sum(p.numel() for n, p in lm.named_parameters()
                 if not n.startswith(("heads.", "network.embedding", "network.attention",
                                      "network.output")))
    return steps * 64 * 128 / trained, ppl, params


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--docs", type=int, default=40_000)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", help="comma-separated candidate names")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        files = sample_corpus(args.corpus, args.docs, Path(tmp))
        data = read_corpus(files, vocab_size=PretrainingSettings().vocab_size)
    train_rows = rows(data.train, 128)
    chosen = candidates(len(data.vocabulary))
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    lines = [header("Language-model architecture: throughput and perplexity per minute"),
             f"{args.threads} threads; {len(data.train):,} training tokens (the first "
             f"{args.docs:,} documents of each corpus file); {args.seconds:.0f} s of training "
             "each, seed 0; held-out perplexity = mean over the files.", "",
             "| encoder | tokens/s | vs plain nn.LSTM | held-out perplexity | encoder parameters |",
             "|---|---|---|---|---|"]
    base = None
    for name, make in chosen.items():
        rate, ppl, params = run(make, train_rows, data.held_out, args.seconds)
        base = base or (rate if name.startswith("plain") else None)
        mean = math.exp(np.mean(np.log(list(ppl.values()))))
        ratio = f"{rate / base:.2f}x" if base else "-"
        lines.append(f"| {name} | {rate:,.0f} | {ratio} | {mean:.1f} | {params:,} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    write_result("lm_architecture", text)


if __name__ == "__main__":
    main()
