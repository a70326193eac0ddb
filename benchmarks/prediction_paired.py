"""Prediction and fit speed of the default pipeline at two commits, each against svm_char_tfidf.

Usage: python -m benchmarks.prediction_paired --before=WORKTREE [--rounds=2]
       [--repeats=11] [--variant=TAG]

``WORKTREE`` is a checkout of the earlier commit (``git worktree add /tmp/before REV``);
the later one is this checkout. Each commit runs in its own process (the package name is
the same), alternately, ``--rounds`` times: it fits ``make_lstm_pipeline`` with the CLI's
quick settings and ``svm_char_tfidf`` on 2,000 bundled reviews (a fixed permutation,
seed 0) and predicts the next 1,000, both in turn ``--repeats`` times (segmentation
cache emptied before each). A commit's figure is the median over its runs of the
median per-run ratio of svm_char_tfidf's time to the pipeline's: the machine's speed,
which drifts between processes, cancels in the ratio. Each run also times the two fits
once (the pipeline's fit over svm_char_tfidf's: one fit each, so noisier). With the quick
settings on these reviews the blend may give its network weight 0 and then predicts
with its linear part alone (``benchmarks.lm_cost`` also times both parts).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks._common import header, write_result

HERE = Path(__file__).resolve().parents[1]

# Run in a fresh process with the commit's checkout first on sys.path; written against
# the API both sides share (load_reviews' Bunch or tuple, make_lstm_pipeline's keywords).
_CHILD = r"""
import json, statistics, sys, time
wt = sys.argv[1]
sys.path.insert(0, wt)
import numpy as np
import sk_slm
assert sk_slm.__file__.startswith(wt), sk_slm.__file__
from sk_slm import clear_segmentation_cache, load_reviews, make_baseline, make_lstm_pipeline
from sk_slm.cli import QUICK_LSTM
d = load_reviews()
X, y = (d.data, d.target) if hasattr(d, "data") else d
X, y = list(X), np.asarray(y)
idx = np.random.RandomState(0).permutation(len(X))
train, test = idx[:2000], idx[2000:3000]
start = time.perf_counter()
pipe = make_lstm_pipeline(**QUICK_LSTM).fit([X[i] for i in train], y[train])
pipe_fit = time.perf_counter() - start
start = time.perf_counter()
svm = make_baseline("svm_char_tfidf").fit([X[i] for i in train], y[train])
svm_fit = time.perf_counter() - start
docs = [X[i] for i in test]
times = {"pipe": [], "svm": []}
for _ in range(int(sys.argv[2])):
    for name, model in (("pipe", pipe), ("svm", svm)):
        clear_segmentation_cache()
        start = time.perf_counter()
        model.predict(docs)
        times[name].append(time.perf_counter() - start)
print(json.dumps({
    "pipe_docs_s": len(docs) / statistics.median(times["pipe"]),
    "svm_docs_s": len(docs) / statistics.median(times["svm"]),
    "ratio": statistics.median(np.array(times["svm"]) / np.array(times["pipe"])),
    "pipe_fit_s": pipe_fit, "fit_ratio": pipe_fit / svm_fit,
    "accuracy": float((pipe.predict(docs) == y[test]).mean())}))
"""


def run(worktree: Path, repeats: int) -> dict:
    result = subprocess.run([sys.executable, "-c", _CHILD, str(worktree), str(repeats)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(before: Path, rounds: int, repeats: int, variant: str) -> None:
    commits = {"before": before.resolve(), "after": HERE}
    lines = [header("Prediction speed at two commits, each against svm_char_tfidf"),
             f"before = `{commits['before']}`, after = this checkout; {rounds} rounds, "
             f"{repeats} timed predictions each; 1,000 bundled reviews.\n",
             "| round | commit | docs/s: pipeline | svm_char_tfidf | ratio | accuracy "
             "| fit: pipeline | fit ratio |",
             "|---|---|---|---|---|---|---|---|"]
    ratios: dict[str, list[float]] = {name: [] for name in commits}
    fits: dict[str, list[float]] = {name: [] for name in commits}
    for k in range(1, rounds + 1):
        for name, path in commits.items():
            r = run(path, repeats)
            ratios[name].append(r["ratio"])
            fits[name].append(r["pipe_fit_s"])
            lines.append(f"| {k} | {name} | {r['pipe_docs_s']:,.0f} | {r['svm_docs_s']:,.0f} | "
                         f"{r['ratio']:.2f}x | {r['accuracy']:.3f} | {r['pipe_fit_s']:.2f} s | "
                         f"{r['fit_ratio']:.1f}x |")
            print(lines[-1], flush=True)
    lines += ["", "- median ratio to svm_char_tfidf's docs/s: "
              + ", ".join(f"{name} **{statistics.median(v):.2f}x**" for name, v in ratios.items()),
              "- median fit time of the pipeline: "
              + ", ".join(f"{name} {statistics.median(v):.2f} s" for name, v in fits.items())]
    print("\n".join(lines[-2:]))
    write_result("prediction_paired", "\n".join(lines) + "\n", variant)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--variant", default="", help="a tag for the result file name")
    args = parser.parse_args()
    main(args.before, args.rounds, args.repeats, args.variant)
