"""Copy a pre-training run's model into the package and write its model card.

Usage: python pretraining/ship.py [RUN_DIR] [--corpus-readme=PATH]

RUN_DIR (default: pretraining/zh-char-lstm128) is the ``--out`` folder of ``sk-slm
pretrain``; its ``model.safetensors`` and ``config.json`` become
``sk_slm/data/language_model/`` (what ``load_language_model("bundled")`` reads), and
``docs/user_guide/model_card.md`` is written from its record and from the licence lines of
the corpus README.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sk_slm" / "data" / "language_model"
CARD = ROOT / "docs" / "user_guide" / "model_card.md"


def licence_rows(readme: Path) -> dict[str, dict[str, str]]:
    """The corpus README's table, by file name."""
    rows = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`") and cells[0].endswith(".gz`"):
            name = cells[0].strip("`")
            rows[name] = dict(zip(("documents", "characters", "what", "source", "licence"),
                                  cells[1:], strict=True))
    return rows


def card(config: dict, licences: dict, machine: str) -> str:
    s = config["settings"]
    corpus = config["corpus"]
    history = config["history"]
    passes = config["tokens_seen"] / corpus["training_tokens"]
    status = ("finished" if config["finished"] else
              f"**a checkpoint**: step {config['step']:,} of {config['planned_steps']:,} "
              "planned; the run goes on and a later release ships the finished model")
    lines = [
        "# Model card: the bundled language model (zh-char-lstm128)",
        "",
        "`load_language_model(\"bundled\")`, `LSTMAttentionClassifier(language_model=\"bundled\")`.",
        "",
        f"Status: {status}.",
        "",
        "## What it is",
        f"A bidirectional character language model: embedding {s['embedding_dim']}, a one-layer "
        f"{s['cell'].upper()} of {s['hidden_size']} units per direction (the classifier's own "
        f"encoder), adaptive-softmax heads; vocabulary {s['vocab_size']:,} (the most frequent "
        "characters, Latin words and numbers of the corpus, NFKC-normalised and lower-cased "
        "as `JiebaSegmenter(granularity=\"char\")` reads text; the rest read as `<unk>`). "
        "The forward direction predicts each next token, the backward one each previous.",
        "",
        "## Training data",
        "Five files of unlabelled modern Chinese (each deduplicated; documents of the labelled "
        "benchmark sets removed before the project received them); every "
        f"{s['hold_out_every']}th document of each file held out for perplexity.",
        "",
        "| file | documents | characters | what | source | licence as stated |",
        "|---|---|---|---|---|---|",
    ]
    for name, docs in corpus["documents"].items():
        lic = licences.get(name, {})
        lines.append(f"| `{name}` | {docs:,} | {corpus['characters'][name]:,} | "
                     f"{lic.get('what', '')} | {lic.get('source', '')} | {lic.get('licence', '')} |")
    lines += [
        "",
        f"Training tokens (characters, Latin words and numbers, plus one end-of-document "
        f"token per document): {corpus['training_tokens']:,}.",
        "",
        "## Training",
        f"- Steps: {config['step']:,} of {config['planned_steps']:,} planned "
        f"({s['epochs']} epochs); tokens seen: {config['tokens_seen']:,} "
        f"({passes:.2f} passes over the training tokens).",
        f"- Rows of {s['row_length']} tokens, {s['batch_size']} rows a step; Adam, peak "
        f"learning rate {s['lr']}, {s['warmup_steps']} warm-up steps, cosine decay to a "
        f"tenth; gradient norm clipped at {s['clip']}; dropout {s['dropout']}; seed "
        f"{s['random_state']}.",
        f"- Time: {config['seconds'] / 3600:.2f} hours of training on {machine}.",
        "",
        "## Held-out perplexity per source",
        "",
        "| step | tokens seen | " + " | ".join(f"`{n}`" for n in corpus["documents"]) + " |",
        "|---|---|" + "---|" * len(corpus["documents"]),
    ]
    for row in history:
        lines.append(f"| {row['step']:,} | {row['tokens_seen'] / 1e6:.1f} M | " +
                     " | ".join(f"{row['perplexity'].get(n, float('nan')):.1f}"
                                for n in corpus["documents"]) + " |")
    lines += [
        "",
        "Perplexity per token, both directions averaged, on the first 200 rows of 128 "
        "tokens of each file's held-out documents.",
        "",
        "## Reproduce",
        "From the repository, with `../shared/corpus` present (resumes from the committed "
        "checkpoint when `pretraining/zh-char-lstm128/checkpoint.pt` exists):",
        "",
        "```",
        "sk-slm pretrain --corpus ../shared/corpus --out pretraining/zh-char-lstm128 --threads 2",
        "python pretraining/ship.py",
        "```",
        "",
        "## Limits",
        "- About half the text is legal (formal register); Weibo posts are the closest to "
        "user reviews. Product reviews, news titles and the labelled sets are not in it.",
        "- Characters outside its vocabulary, and every Latin word or number not among the "
        "most frequent, read as `<unk>`; its perplexity of text full of them is low for "
        "that reason, not because the text is like its training text.",
        "- A small model: it helps a classifier most where labels are few; it does not "
        "know facts and its samples are not fluent prose.",
        "",
        f"Card written by `pretraining/ship.py` on {date.today().isoformat()}.",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", nargs="?", type=Path, default=ROOT / "pretraining" / "zh-char-lstm128")
    parser.add_argument("--corpus-readme", type=Path,
                        default=ROOT.parent / "shared" / "corpus" / "README.md")
    parser.add_argument("--machine", default=f"an {platform.machine()} CPU (AMD EPYC, 2 "
                        "cores), no GPU: 1 torch thread to step 14,812, 2 after",
                        help="how the run's hours were spent")
    args = parser.parse_args()
    config = json.loads((args.run / "config.json").read_text(encoding="utf-8"))
    PACKAGE.mkdir(parents=True, exist_ok=True)
    for name in ("model.safetensors", "config.json"):
        shutil.copyfile(args.run / name, PACKAGE / name)
    CARD.write_text(card(config, licence_rows(args.corpus_readme), args.machine),
                    encoding="utf-8")
    print(f"shipped step {config['step']:,} of {config['planned_steps']:,} to {PACKAGE}; "
          f"card: {CARD}")


if __name__ == "__main__":
    main()
