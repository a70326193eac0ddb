"""Long documents whose evidence is not at the start: windows against truncation.

Usage: python -m benchmarks.long_documents [--max-len=64] [--n-train=2000]
       [--n-test=2000] [--seed=0] [--data=../shared/data] [--variant=TAG]

The task, built from real texts: each document is one waimai_10k delivery review (its
label, positive or negative, is the document's) set among People's Daily 1998 sentences
(news, no opinion on food delivery): a prefix of whole sentences of at least P
tokens, then the review, then a suffix of whole sentences of at least S tokens, with P
drawn uniformly from [max_len, 3 max_len] and S from [0, 2 max_len] per document (tokens
as the pipelines below read them: ``JiebaSegmenter(granularity="char")``, one per Chinese
character). So the review always starts after the first ``max_len`` tokens: reading the
head never sees it; the tail sees it when the suffix is short. Training documents take their reviews from
waimai's training split and their sentences from the even-numbered sentences, test
documents from its test split and the odd-numbered ones (the split every benchmark
uses: stratified 80/20, random_state=0).

Compared, each as ``JiebaSegmenter(granularity="char") -> Word2VecVectorizer(output=
"sequence") -> LSTMAttentionClassifier(max_len=max_len, bag_ngrams=0, truncation=...)``
(the network alone, without the n-gram part, which reads whole documents anyway):
"head", "tail", "head_tail" and "windows" (one attention over all windows); and
``svm_char_tfidf``, which reads every character, for reference. Macro-F1 on the test
documents, fit and prediction times (segmentation included: its cache is emptied
before each), and the paired bootstrap interval of each windowed
model against the best truncation (``paired_difference``).

(The run of 2026-12-02 in ``results/long_documents/``, made at commit 4e25bc1, also
has "windows" pooled by the mean of the windows' logits, an option measured there and
removed since.)
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from benchmarks._common import DEFAULT_DATA, header, read_pku_text, read_waimai, write_result
from sk_slm import (
    JiebaSegmenter,
    LSTMAttentionClassifier,
    Word2VecVectorizer,
    clear_segmentation_cache,
    make_baseline,
    paired_difference,
)

SEGMENTER = JiebaSegmenter(granularity="char")


def build(reviews, labels, sentences, max_len: int, seed: int):
    """Documents and labels: each review between news sentences (see the module doc)."""
    rng = random.Random(seed)
    tokens = [len(t) for t in SEGMENTER.transform(sentences)]

    def sentences_of_at_least(n: int) -> str:
        out, length = "", 0
        while length < n:
            k = rng.randrange(len(sentences))
            out, length = out + sentences[k], length + tokens[k]
        return out

    docs = []
    for review in reviews:
        prefix = sentences_of_at_least(rng.randint(max_len, 3 * max_len))
        suffix = sentences_of_at_least(rng.randint(0, 2 * max_len))
        docs.append(prefix + review + suffix)
    return docs, np.asarray(labels)


def network(max_len: int, truncation: str, seed: int, **params) -> Pipeline:
    return Pipeline([
        ("segmenter", JiebaSegmenter(granularity="char")),
        ("embedding", Word2VecVectorizer(output="sequence", random_state=seed)),
        ("classifier", LSTMAttentionClassifier(max_len=max_len, truncation=truncation,
                                               bag_ngrams=0, random_state=seed, **params)),
    ])


def main(max_len: int, n_train: int, n_test: int, seed: int, data: Path, variant: str) -> None:
    X, y = read_waimai(data)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    rng = np.random.default_rng(seed)
    tr = rng.choice(len(y_tr), size=min(n_train, len(y_tr)), replace=False)
    te = rng.choice(len(y_te), size=min(n_test, len(y_te)), replace=False)
    news = read_pku_text(data)
    train = build([X_tr[i] for i in tr], y_tr[tr], news[0::2], max_len, seed)
    test = build([X_te[i] for i in te], y_te[te], news[1::2], max_len, seed + 1)
    lengths = [len(t) for t in SEGMENTER.transform(train[0])]
    print(f"train documents: {len(lengths)}, tokens: median {np.median(lengths):.0f}, "
          f"max {max(lengths)}", flush=True)

    models = {f"network, truncation={t!r}": network(max_len, t, seed)
              for t in ("head", "tail", "head_tail", "windows")}
    models["svm_char_tfidf (reads everything)"] = make_baseline("svm_char_tfidf")
    results = {}
    for name, model in models.items():
        clear_segmentation_cache()  # every model pays for its own segmentation
        start = time.perf_counter()
        model.fit(*train)
        fit = time.perf_counter() - start
        clear_segmentation_cache()
        start = time.perf_counter()
        pred = model.predict(test[0])
        predict = time.perf_counter() - start
        results[name] = dict(f1=f1_score(test[1], pred, average="macro"), fit=fit,
                             predict=predict, pred=pred)
        print(name, {k: v for k, v in results[name].items() if k != "pred"}, flush=True)

    truncations = [n for n in results if "truncation=" in n and "windows" not in n]
    best = max(truncations, key=lambda n: results[n]["f1"])
    lines = [header("Long documents: windows against truncation"),
             f"{len(train[1]):,} training and {len(test[1]):,} test documents (waimai "
             f"reviews among People's Daily sentences, the review after at least max_len="
             f"{max_len} tokens; median length {np.median(lengths):.0f} tokens); "
             f"seed {seed}. Macro-F1 x 100; times in seconds, one run each.\n",
             "| model | macro-F1 | against the best truncation (95% interval) | fit s "
             "| predict s |", "|---|---|---|---|---|"]
    for name, r in results.items():
        versus = ""
        if "windows" in name:
            d = paired_difference(test[1], results[best]["pred"], r["pred"])
            versus = (f"{100 * d.difference:+.2f} ({100 * d.interval[0]:+.2f}, "
                      f"{100 * d.interval[1]:+.2f})")
        lines.append(f"| {name} | {100 * r['f1']:.2f} | {versus} | {r['fit']:.1f} | "
                     f"{r['predict']:.1f} |")
    lines += ["", f"Best truncation: {best}."]
    text = "\n".join(lines) + "\n"
    print(text)
    write_result("long_documents", text, variant)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--variant", default="", help="a tag for the result file name")
    args = parser.parse_args()
    main(args.max_len, args.n_train, args.n_test, args.seed, args.data, args.variant)
