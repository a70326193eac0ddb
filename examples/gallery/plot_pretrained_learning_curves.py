"""
Learning curves with the pre-trained language model
===================================================

Macro-F1 against the number of labelled training documents on five Chinese data sets,
for character TF-IDF + LinearSVC (``svm_char_tfidf``), the same beside the bundled
language model's pooled states (``svm_char_tfidf_lm``), the default pipeline
(``make_lstm_pipeline()``) and the pipeline fine-tuned from the language model
(``make_lstm_pipeline(language_model="bundled")``). Each point is the mean of three
seeds, scored on the set's test split.

The figures come from ``python -m benchmarks.learning_curves --split=test
--variant=curves-prefer-linear`` (hours on a 2-core machine; the bundled model is the
finished pre-training run, the blends lean to their linear part as the package's do),
and ``svm_char_tfidf_lm``'s from the earlier ``--variant=curves-temperature``; this page
only plots the rows those runs wrote to ``benchmarks/results/learning_curves/`` (a size
a run has not reached yet has no point).
"""

import json
from collections import defaultdict
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import sk_slm

results = Path(sk_slm.__file__).resolve().parents[1] / "benchmarks" / "results" / "learning_curves"


def newest_rows(variant):
    path = sorted(results.glob(f"*_test_curves-{variant}.jsonl"))[-1]
    return [json.loads(line) for line in path.read_text().splitlines()]


rows = newest_rows("prefer-linear") + [r for r in newest_rows("temperature")
                                       if r["model"] == "lm_features"]
names = {"svm_char_tfidf": "svm_char_tfidf", "lm_features": "svm_char_tfidf_lm",
         "default": "make_lstm_pipeline()", "lm_blend": 'language_model="bundled"'}
scores = defaultdict(list)
n_train = {}
for r in rows:
    scores[r["set"], r["model"], r["size"]].append(r["f1"])
    n_train[r["set"], r["size"]] = r["n_train"]

sets = list(dict.fromkeys(r["set"] for r in rows))
fig, axes = plt.subplots(1, len(sets), figsize=(3.2 * len(sets), 3.4), sharey=False)
for ax, set_name in zip(np.atleast_1d(axes), sets, strict=True):
    for k, (model, label) in enumerate(names.items()):
        points = sorted((n_train[s, z], np.mean(v)) for (s, m, z), v in scores.items()
                        if s == set_name and m == model)
        if points:
            x, y = zip(*points, strict=True)
            ax.plot(x, y, marker="o", color=f"C{k}", label=label)
    ax.set_xscale("log")
    ax.set_title(set_name)
    ax.set_xlabel("labelled documents")
np.atleast_1d(axes)[0].set_ylabel("macro-F1 (test split)")
np.atleast_1d(axes)[0].legend(fontsize=7)
fig.tight_layout()

# %%
# Each model's mean difference from svm_char_tfidf, in points, per set and size.
for set_name in sets:
    for model in ("lm_features", "default", "lm_blend"):
        diffs = {z: 100 * (np.mean(scores[set_name, model, z]) -
                           np.mean(scores[set_name, "svm_char_tfidf", z]))
                 for (s, m, z) in scores if s == set_name and m == model}
        if diffs:
            print(f"{set_name:14s} {names[model]:28s} " +
                  "  ".join(f"{z}: {d:+.2f}" for z, d in diffs.items()))
