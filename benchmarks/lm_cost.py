"""What the pre-trained language model costs: fit time and prediction speed against
svm_char_tfidf, measured side by side.

Usage: python -m benchmarks.lm_cost [--data=DIR] [--set=waimai] [--train=2000]
       [--test=2000] [--rounds=3] [--threads=1] [--variant=TAG]

Issue 31's cost targets, at 2,000 labelled documents: the fine-tuned pipeline
(``make_lstm_pipeline(language_model="bundled")``) fits in at most 30x
svm_char_tfidf's time and predicts at least 0.3x its documents per second; the frozen
mode (here ``svm_char_tfidf_lm``: the frozen language model's features beside char
TF-IDF) fits in at most 5x. Also measured: the fine-tuned pipeline without its refit
(``refit=False``) and its int8 ONNX export's prediction speed (``export_onnx(...,
quantize="int8")``, served by :class:`~sk_slm.OnnxClassifier`), the frozen mode with the
language model's features computed 128 documents at a time (their default until
2026-12-07; 64 since), and the fine-tuned pipeline's prediction with both of its parts
(segmentation, then the network and the linear part each predicting): where the blend
gives its network weight 0 it predicts with the linear part alone, and the weights are
printed. Each round fits and predicts every model in turn (the segmentation cache
emptied before each), so the ratios are taken within a round; the median of the rounds'
ratios is reported with the range.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from sklearn.model_selection import train_test_split

from ._common import DEFAULT_DATA, header, train_test, write_result

MODELS = ("svm_char_tfidf", "svm_char_tfidf_lm", "svm_char_tfidf_lm@128", "default", "lm_blend",
          "lm_blend_no_refit")
SERVED = "lm_blend, int8 ONNX"  # lm_blend exported by export_onnx(quantize="int8")
BOTH = "lm_blend, both parts"  # lm_blend's segmentation and both parts' predictions


def build(name):
    from sk_slm import make_baseline, make_lstm_pipeline

    if name == "default":
        return make_lstm_pipeline(verbose=0)
    if name == "lm_blend":
        return make_lstm_pipeline(language_model="bundled", verbose=0)
    if name == "lm_blend_no_refit":
        return make_lstm_pipeline(language_model="bundled", refit=False, verbose=0)
    if name == "svm_char_tfidf_lm@128":
        return make_baseline("svm_char_tfidf_lm").set_params(
            featureunion__languagemodelfeatures__batch_size=128)
    return make_baseline(name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--set", default="waimai")
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--variant", default="", help="a tag for the result file name")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from sk_slm import clear_segmentation_cache

    (X, y), (Xt, yt) = train_test(args.set, args.data)
    X, _, y, _ = train_test_split(X, y, train_size=args.train, stratify=y, random_state=0)
    Xt = Xt[: args.test]
    fit = {m: [] for m in MODELS}
    rate = {m: [] for m in (*MODELS, SERVED, BOTH)}
    weights = []  # lm_blend's blend weights (network, linear), per round
    for r in range(args.rounds):
        for m in MODELS:
            model = build(m)
            clear_segmentation_cache()
            start = time.perf_counter()
            model.fit(X, y)
            fit[m].append(time.perf_counter() - start)
            clear_segmentation_cache()
            start = time.perf_counter()
            model.predict(Xt)
            rate[m].append(len(Xt) / (time.perf_counter() - start))
            print(f"round {r + 1} {m}: fit {fit[m][-1]:.2f} s, {rate[m][-1]:,.0f} docs/s",
                  flush=True)
            if m == "lm_blend":  # both parts predicting; the same model served by ONNX, int8
                from sk_slm import OnnxClassifier, export_onnx

                clear_segmentation_cache()
                start = time.perf_counter()
                segmented = model[0].transform(Xt)
                for part in model[-1].estimators_:
                    part.predict_proba(segmented)
                rate[BOTH].append(len(Xt) / (time.perf_counter() - start))
                weights.append(model[-1].weights_.tolist())
                print(f"round {r + 1} {BOTH}: {rate[BOTH][-1]:,.0f} docs/s (blend weights "
                      f"{model[-1].weights_.tolist()})", flush=True)

                with tempfile.TemporaryDirectory() as tmp:
                    export_onnx(model, Path(tmp) / "m.zip", quantize="int8")
                    served = OnnxClassifier(Path(tmp) / "m.zip")
                    clear_segmentation_cache()
                    start = time.perf_counter()
                    served.predict(Xt)
                    rate[SERVED].append(len(Xt) / (time.perf_counter() - start))
                print(f"round {r + 1} {SERVED}: {rate[SERVED][-1]:,.0f} docs/s", flush=True)
    lines = [header("The language model's cost against svm_char_tfidf"),
             f"{args.set}: {args.train:,} training documents, {len(Xt):,} predicted; "
             f"{args.threads} torch thread(s); {args.rounds} rounds, models in turn; ratios "
             "per round, median [range].", "",
             "| model | fit s (median) | fit vs svm_char_tfidf | docs/s (median) | "
             "prediction vs svm_char_tfidf |", "|---|---|---|---|---|"]
    for m in (*MODELS, BOTH, SERVED):
        if m in (SERVED, BOTH):
            pr = [a / b for a, b in zip(rate[m], rate["svm_char_tfidf"], strict=True)]
            lines.append(f"| {m} | (lm_blend's) | | {statistics.median(rate[m]):,.0f} | "
                         f"{statistics.median(pr):.2f}x [{min(pr):.2f}-{max(pr):.2f}] |")
            continue
        fr = [a / b for a, b in zip(fit[m], fit["svm_char_tfidf"], strict=True)]
        pr = [a / b for a, b in zip(rate[m], rate["svm_char_tfidf"], strict=True)]
        lines.append(f"| {m} | {statistics.median(fit[m]):.2f} | {statistics.median(fr):.1f}x "
                     f"[{min(fr):.1f}-{max(fr):.1f}] | {statistics.median(rate[m]):,.0f} | "
                     f"{statistics.median(pr):.2f}x [{min(pr):.2f}-{max(pr):.2f}] |")
    lines += ["", f"lm_blend's blend weights (network, linear), per round: {weights}."]
    text = "\n".join(lines) + "\n"
    print(text)
    write_result("lm_cost", text, "_".join(filter(None, [args.set, args.variant])))


if __name__ == "__main__":
    main()
