"""Pre-training the character language model: API and CLI, exact resumption, torchrun,
loading, scoring and sampling, and the errors for bad files and settings."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from sk_slm import (
    PretrainingSettings,
    load_language_model,
    load_reviews,
    pretrain_language_model,
)
from sk_slm.cli import main
from sk_slm.language_model.corpus import END_OF_DOCUMENT, char_tokens, read_corpus
from sk_slm.text.segmenter import JiebaSegmenter

TINY = PretrainingSettings(vocab_size=400, embedding_dim=16, hidden_size=16, row_length=24,
                           batch_size=8, epochs=1, warmup_steps=5, dropout=0.1)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """1,200 bundled reviews, split over a .txt and a .txt.gz file."""
    X, _ = load_reviews(return_X_y=True)
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "a.txt").write_text("\n".join(X[:600]) + "\n\n", encoding="utf-8")
    with gzip.open(folder / "b.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write("\n".join(X[600:1200]))
    return folder


def _quiet(line):
    pass


def _weights(model):
    """The language model's own weights (encoder and heads)."""
    return {k: v.clone() for k, v in model.module.state_dict().items()
            if k.startswith(("network.embedding.", "network.rnn.", "heads."))}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_tokens_are_the_default_pipelines(corpus):
    X, _ = load_reviews(return_X_y=True)
    X = X[:300] + ["Ｐｙｔｈｏｎ 3.10 很  好用\t", "", "  "]
    assert char_tokens(X) == [list(d) for d in JiebaSegmenter(granularity="char").fit_transform(X)]


def test_corpus_reading(corpus):
    data = read_corpus(corpus, vocab_size=300, hold_out_every=10)
    assert data.vocabulary[:2] == ["<pad>", "<unk>"] and len(data.vocabulary) == 300
    assert END_OF_DOCUMENT in data.vocabulary
    assert data.n_documents == {"a.txt": 600, "b.txt.gz": 600}  # blank lines skipped
    end = data.vocabulary.index(END_OF_DOCUMENT)
    # 9 of every 10 documents train, each followed by the end token.
    assert (data.train == end).sum() == 2 * 540
    assert (data.held_out["a.txt"] == end).sum() == 60
    # A fixed vocabulary is used as given.
    fixed = read_corpus(corpus, vocabulary=data.vocabulary, hold_out_every=10)
    assert np.array_equal(fixed.train, data.train) and fixed.fingerprint == data.fingerprint


def test_pretrain_api_end_to_end(corpus, tmp_path):
    state = torch.get_rng_state()
    model = pretrain_language_model(corpus, tmp_path, TINY, max_steps=30, eval_every=30,
                                    log=_quiet)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's RNG is untouched
    assert {"checkpoint.pt", "model.safetensors", "config.json"} <= set(os.listdir(tmp_path))
    assert model.record["step"] == 30 and not model.record["finished"]
    assert model.record["history"][-1]["step"] == 30
    assert set(model.record["history"][-1]["perplexity"]) == {"a.txt", "b.txt.gz"}
    loaded = load_language_model(tmp_path)
    assert loaded.vocabulary == model.vocabulary and loaded.settings == TINY
    assert _same(_weights(loaded), _weights(model))


def test_resume_equals_uninterrupted_run(corpus, tmp_path):
    whole = pretrain_language_model(corpus, tmp_path / "whole", TINY, max_steps=45,
                                    checkpoint_every=1000, eval_every=20, log=_quiet)
    for stop in (13, 30, 45):  # stopped twice, at steps between checkpoints and evaluations
        parts = pretrain_language_model(corpus, tmp_path / "parts", TINY, max_steps=stop,
                                        checkpoint_every=1000, eval_every=20, log=_quiet)
    assert _same(_weights(parts), _weights(whole))
    assert parts.record["history"] == whole.record["history"]
    a = torch.load(tmp_path / "whole" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "parts" / "checkpoint.pt", weights_only=True)
    assert all(torch.equal(a["optimizer"]["state"][k]["exp_avg_sq"],
                           b["optimizer"]["state"][k]["exp_avg_sq"]) for k in a["optimizer"]["state"])


def test_sigterm_stops_with_a_checkpoint_and_resumes_exactly(corpus, tmp_path):
    whole = pretrain_language_model(corpus, tmp_path / "whole", TINY, max_steps=40, log=_quiet)

    def kill_at_step_20(line):
        if line.startswith("step 20/"):
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(KeyboardInterrupt):
        pretrain_language_model(corpus, tmp_path / "cut", TINY, max_steps=40, log_every=10,
                                log=kill_at_step_20)
    ckpt = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 20
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
    resumed = pretrain_language_model(corpus, tmp_path / "cut", TINY, max_steps=40, log=_quiet)
    assert _same(_weights(resumed), _weights(whole))


def test_cli_pretrain_and_resume(corpus, tmp_path, capsys):
    args = ["pretrain", "--corpus", str(corpus / "a.txt"), str(corpus / "b.txt.gz"),
            "--out", str(tmp_path), "--vocab-size", "400", "--embedding-dim", "16",
            "--hidden-size", "16", "--row-length", "24", "--batch-size", "8", "--epochs", "1",
            "--warmup-steps", "5", "--max-steps", "20", "--eval-every", "10"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "tokens/s" in err and "left" in err and "held-out perplexity a.txt" in err
    assert "step 20 of" in err and "(checkpoint)" in err
    assert main(args[:-4] + ["--max-steps", "25"]) == 0
    err = capsys.readouterr().err
    assert "resumed from" in err and "at step 20" in err
    assert load_language_model(tmp_path).record["step"] == 25
    # Another setting is refused with a message naming it.
    bad = [a if a != "16" else "32" for a in args]
    assert main(bad) == 2
    assert "embedding_dim=16" in capsys.readouterr().err


def test_refusals(corpus, tmp_path):
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        PretrainingSettings(hidden_size=0)
    with pytest.raises(ValueError, match="cell must be"):
        PretrainingSettings(cell="transformer")
    with pytest.raises(ValueError, match="no such file"):
        pretrain_language_model(tmp_path / "missing.txt", tmp_path / "o", TINY, log=_quiet)
    (tmp_path / "notes.csv").write_text("a,b\n")
    with pytest.raises(ValueError, match="not a .txt or .txt.gz"):
        pretrain_language_model(tmp_path / "notes.csv", tmp_path / "o", TINY, log=_quiet)
    (tmp_path / "bad.txt.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ValueError, match="bad.txt.gz cannot be read"):
        pretrain_language_model(tmp_path / "bad.txt.gz", tmp_path / "o", TINY, log=_quiet)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.txt is not UTF-8"):
        pretrain_language_model(tmp_path / "latin1.txt", tmp_path / "o", TINY, log=_quiet)
    (tmp_path / "short.txt").write_text("很短\n")
    with pytest.raises(ValueError, match="fewer than one batch"):
        pretrain_language_model(tmp_path / "short.txt", tmp_path / "o", TINY, log=_quiet)
    # A checkpoint of another corpus, or a damaged one, is refused, naming the file.
    out = tmp_path / "run"
    pretrain_language_model(corpus / "a.txt", out, TINY, max_steps=3, log=_quiet)
    with pytest.raises(ValueError, match="another corpus"):
        pretrain_language_model(corpus, out, TINY, max_steps=3, log=_quiet)
    (out / "checkpoint.pt").write_bytes((out / "checkpoint.pt").read_bytes()[:1000])
    with pytest.raises(ValueError, match="checkpoint.pt: not a readable checkpoint"):
        pretrain_language_model(corpus / "a.txt", out, TINY, max_steps=3, log=_quiet)


def test_damaged_or_mismatched_model_files(corpus, tmp_path):
    pretrain_language_model(corpus / "a.txt", tmp_path, TINY, max_steps=2, log=_quiet)
    config = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    config["settings"]["hidden_size"] = 32
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ValueError, match="do not match config.json"):
        load_language_model(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ValueError, match="model.safetensors: not a readable safetensors"):
        load_language_model(tmp_path)
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="not a language model's config"):
        load_language_model(tmp_path)
    with pytest.raises(ValueError, match="not a language model folder"):
        load_language_model(tmp_path / "elsewhere")


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    settings = PretrainingSettings(vocab_size=800, embedding_dim=32, hidden_size=32,
                                   row_length=48, batch_size=16, epochs=4, warmup_steps=20,
                                   lr=0.005)
    return pretrain_language_model(corpus, tmp_path_factory.mktemp("lm"), settings, log=_quiet)


def test_perplexity_tells_text_from_shuffled_text(trained):
    X, _ = load_reviews(return_X_y=True)
    docs = X[2000:2100]
    rng = random.Random(0)
    shuffled = ["".join(rng.sample(d, len(d))) for d in docs]
    real, mixed = trained.perplexity(docs), trained.perplexity(shuffled)
    assert real.shape == (100,) and np.all(np.isfinite(real))
    assert np.median(real) < 0.7 * np.median(mixed)
    assert np.isfinite(trained.perplexity([""])).all()  # an empty document has a score
    with pytest.raises(ValueError, match=r"X\[1\] is of type NoneType"):
        trained.perplexity(["好", None])


def test_sample_is_seeded_and_leaves_the_global_rng_alone(trained):
    state = torch.get_rng_state()
    a = trained.sample("这本书", max_tokens=30, random_state=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert a == trained.sample("这本书", max_tokens=30, random_state=3)
    assert isinstance(a, str) and 0 < len(a) <= 30 * 10
    assert trained.sample("这本书", max_tokens=0) == ""
    with pytest.raises(ValueError, match="temperature"):
        trained.sample("好", temperature=0)


def test_torchrun_two_processes_equal_one(corpus, tmp_path):
    settings = ["--vocab-size", "400", "--embedding-dim", "16", "--hidden-size", "16",
                "--row-length", "24", "--batch-size", "8", "--epochs", "1",
                "--warmup-steps", "5", "--dropout", "0", "--max-steps", "15",
                "--threads", "1", "--corpus", str(corpus)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    one = subprocess.run([sys.executable, "-m", "sk_slm", "pretrain", "--out",
                          str(tmp_path / "one"), *settings], capture_output=True, text=True,
                         env=env, timeout=300)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                          "--master-port", str(29500 + os.getpid() % 1000),
                          "-m", "sk_slm", "pretrain", "--out", str(tmp_path / "two"), *settings],
                         capture_output=True, text=True, env=env, timeout=300)
    assert two.returncode == 0, two.stderr[-2000:]
    a, b = load_language_model(tmp_path / "one"), load_language_model(tmp_path / "two")
    assert a.record["step"] == b.record["step"] == 15
    wa, wb = _weights(a), _weights(b)
    assert max(float((wa[k] - wb[k]).abs().max()) for k in wa) < 1e-5


def test_the_bundled_model_loads_with_its_vocabulary_and_card():
    from pathlib import Path

    lm = load_language_model("bundled")
    assert load_language_model().path == lm.path  # "bundled" is the default
    assert lm.vocabulary[:2] == ["<pad>", "<unk>"] and len(lm.vocabulary) == 6000
    assert END_OF_DOCUMENT in lm.vocabulary and "的" in lm.vocabulary[:20]
    assert lm.settings.hidden_size == 128 and lm.record["step"] > 0
    card = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "model_card.md"
    text = card.read_text(encoding="utf-8")
    assert f"{lm.record['step']:,} of" in text  # the card describes the shipped weights
    for name in lm.record["corpus"]["documents"]:
        assert f"`{name}`" in text
    # It has learnt Chinese: real text is far likelier than the same characters shuffled.
    X, _ = load_reviews(return_X_y=True)
    docs = [d for d in X[:200] if len(d) > 10][:50]
    rng = random.Random(0)
    shuffled = ["".join(rng.sample(d, len(d))) for d in docs]
    assert np.median(lm.perplexity(docs)) < 0.5 * np.median(lm.perplexity(shuffled))
