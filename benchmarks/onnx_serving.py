"""Serving the fitted pipeline with ONNX Runtime against the PyTorch estimator.

Usage: python -m benchmarks.onnx_serving [--repeats=5] [--variant=TAG]

On the README's main job (the quick ``sk-slm compare`` sample: 3,000 bundled reviews,
3 stratified folds, the CLI's quick LSTM settings), per fold: ``make_lstm_pipeline`` is
fitted, written by ``save_model`` and by ``export_onnx`` (float32, and
``quantize="int8"``), and the test fold predicted by the estimator, by both
``OnnxClassifier`` files and by ``svm_char_tfidf`` (segmentation included:
its cache is emptied before each run; torch and ONNX Runtime on 1 thread; median of
``--repeats`` runs). Prints and writes docs/s, the largest difference of the two
probability tables, and the file sizes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._common import header, write_result
from benchmarks.speed import quick_folds
from sk_slm import (
    OnnxClassifier,
    clear_segmentation_cache,
    export_onnx,
    make_baseline,
    make_lstm_pipeline,
    save_model,
)
from sk_slm.cli import QUICK_LSTM


def docs_per_second(predict, docs, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        clear_segmentation_cache()
        start = time.perf_counter()
        predict(docs)
        times.append(time.perf_counter() - start)
    return len(docs) / statistics.median(times)


def main(repeats: int, variant: str) -> None:
    torch.set_num_threads(1)
    X, y, folds = quick_folds()
    lines = [header("Serving with ONNX Runtime against the PyTorch estimator"),
             f"torch {torch.__version__}, onnxruntime "
             f"{__import__('onnxruntime').__version__}; 1 thread each; median of {repeats} "
             f"runs. {len(X):,} bundled reviews, {len(folds)} folds, "
             f"`make_lstm_pipeline(**{QUICK_LSTM})`.\n",
             "| fold | test docs | docs/s: estimator | ONNX | ONNX int8 | svm_char_tfidf | "
             "ONNX / estimator | ONNX / svm | int8 / svm | max prob. difference | .slm file "
             "| ONNX file | int8 file |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (train, test) in enumerate(folds, 1):
            pipe = make_lstm_pipeline(**QUICK_LSTM).fit(X[train], y[train])
            base = make_baseline("svm_char_tfidf").fit(X[train], y[train])
            save_model(pipe, Path(tmp) / "m.slm")
            export_onnx(pipe, Path(tmp) / "m.zip")
            export_onnx(pipe, Path(tmp) / "q.zip", quantize="int8")
            served = OnnxClassifier(Path(tmp) / "m.zip")
            int8 = OnnxClassifier(Path(tmp) / "q.zip")
            docs = list(X[test])
            diff = np.abs(served.predict_proba(docs) - pipe.predict_proba(docs)).max()
            rates = [docs_per_second(f, docs, repeats)
                     for f in (pipe.predict, served.predict, int8.predict, base.predict)]
            ratios.append((rates[1] / rates[0], rates[1] / rates[3], rates[2] / rates[3]))
            sizes = [(Path(tmp) / name).stat().st_size / 1e6
                     for name in ("m.slm", "m.zip", "q.zip")]
            lines.append(f"| {k} | {len(docs):,} | {rates[0]:,.0f} | {rates[1]:,.0f} | "
                         f"{rates[2]:,.0f} | {rates[3]:,.0f} | {ratios[-1][0]:.2f}x | "
                         f"{ratios[-1][1]:.2f}x | {ratios[-1][2]:.2f}x | {diff:.1e} | "
                         f"{sizes[0]:.1f} MB | {sizes[1]:.1f} MB | {sizes[2]:.1f} MB |")
            print(lines[-1], flush=True)
    lines += ["",
              f"- ONNX Runtime: median **{statistics.median(r[0] for r in ratios):.2f}x** the "
              "estimator's docs/s (target >= 1x), "
              f"**{statistics.median(r[1] for r in ratios):.2f}x** svm_char_tfidf's; the int8 "
              f"export **{statistics.median(r[2] for r in ratios):.2f}x** svm_char_tfidf's."]
    print(lines[-1])
    write_result("onnx_serving", "\n".join(lines) + "\n", variant)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--variant", default="", help="a tag for the result file name")
    args = parser.parse_args()
    main(args.repeats, args.variant)
