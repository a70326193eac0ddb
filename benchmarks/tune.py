"""Tune the classifier's defaults on a validation split of THUCNews dev.txt (never test.txt).

Usage: python benchmarks/tune_thucnews.py NAME ['{"param": value, ...}'] [DATA_DIR]
("corpus": "unlabeled" stands for the People's Daily text and the review corpora.)

dev.txt (the training file of every THUCNews benchmark here) is split 80/20, stratified,
random_state=0; the candidate (``make_lstm_pipeline(**params)``, or NAME "baseline" for
character 1-3-gram TF-IDF + LinearSVC) is fitted on the 80% and scored on the 20%. The
defaults in ``LSTMAttentionClassifier`` were chosen this way; test.txt is touched only by
``benchmarks/classifier.py`` and ``benchmarks/compare_real.py``. Each run prints one line
and appends it to ``benchmarks/results/tune_thucnews.log``. Runs in this session used
OMP_NUM_THREADS=1 so that two could share the 2 cores.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DEFAULT_DATA,
    RESULTS,
    read_thucnews,
    split_80_20,
    unlabeled_corpus,
)
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from sk_slm import make_lstm_pipeline  # noqa: E402


def main(name: str, params: dict, data: Path) -> None:
    dev, _ = read_thucnews(data)
    (Xtr, ytr), (Xva, yva) = split_80_20(*dev)
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
        history = pipe[-1].history
        best = [row["epoch"] for row in history if row.get("valid_loss_best")][-1:]
        extra = f" epochs {len(history)} best {best}"
    f1 = f1_score(yva, pipe.predict(Xva), average="macro")
    line = (f"{name} {json.dumps(params)} validation macro-F1 {f1:.4f}{extra} "
            f"{time.perf_counter() - start:.0f}s")
    print(line, flush=True)
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "tune_thucnews.log", "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], json.loads(args[1]) if len(args) > 1 else {},
         Path(args[2]) if len(args) > 2 else DEFAULT_DATA)
