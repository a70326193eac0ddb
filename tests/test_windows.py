"""truncation="windows": documents longer than max_len read whole, in windows."""

import pickle
import random

import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline

from sk_slm import AttentionRNN, LSTMAttentionClassifier, TokenIndexer, load_model, save_model
from sk_slm.features.sequences import window_starts
from sk_slm.network._batches import _SequenceDataset

SMALL = dict(hidden_size=16, module__embedding_dim=16, module__attention_size=8, bag_ngrams=0,
             max_len=16, lr=1e-2, max_epochs=10, early_stopping=False, random_state=0)
# The tokens of signal_late, numbered as the classifier reads them.
ids = TokenIndexer().fit([list("甲乙丙丁戊己好坏")]).transform


def signal_late(n: int, seed: int) -> tuple[list[list[str]], np.ndarray]:
    """Documents of 25-41 noise tokens whose one label token (好 / 坏) sits after the
    first 16 tokens: a model reading the first 16 sees none."""
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n):
        tokens = rng.choices("甲乙丙丁戊己", k=rng.randrange(24, 40))
        tokens.insert(rng.randrange(16, len(tokens)), "好" if i % 2 else "坏")
        X.append(tokens)
        y.append(i % 2)
    return X, np.asarray(y)


@pytest.mark.parametrize("max_len", [1, 2, 4, 7, 16])
def test_windows_cover_every_token_in_windows_of_max_len(max_len):
    for length in range(0, 60):
        starts = window_starts(length, max_len)
        covered = np.zeros(length, dtype=int)
        for first in starts:
            covered[first : first + max_len] += 1
            assert first + max_len <= max(length, max_len)  # whole windows only
        assert (covered >= 1).all()
        assert list(starts) == sorted(set(starts))
        if length <= max_len:
            assert list(starts) == [0]
        else:
            assert starts[-1] + max_len == length
            # Each window overlaps the next by at least a quarter of max_len.
            assert all(b - a <= max_len - max_len // 4 for a, b in zip(starts, starts[1:], strict=False))


def test_the_module_pools_one_attention_over_the_states_of_all_windows():
    torch.manual_seed(0)
    module = AttentionRNN(20, 3, embedding_dim=8, hidden_size=6, attention_size=5).eval()
    docs = [torch.randint(2, 20, (n,)) for n in (3, 9, 16)]
    offsets = np.cumsum([0] + [len(d) for d in docs])
    X, _ = _SequenceDataset(torch.cat(docs).numpy(), offsets, windows=6)[[0, 1, 2]]
    assert X["ids"].shape == (3, 3, 6)  # 16 tokens: windows at 0, 5, 10
    logits, weights = module(X["ids"], X["lengths"], return_attention=True)
    for i, doc in enumerate(docs):
        # By hand: each window read by the RNN alone, then one softmax over them all.
        states = torch.cat([module.encode(doc[s : s + 6][None], torch.tensor([len(doc[s : s + 6])]))[0]
                            for s in window_starts(len(doc), 6)])
        w = torch.softmax(module.attention(states).squeeze(-1), dim=0)
        expected = module.output(w @ states)
        torch.testing.assert_close(logits[i], expected, atol=1e-5, rtol=1e-5)
        real = weights[i][X["lengths"][i][:, None] > torch.arange(6)]
        torch.testing.assert_close(real, w, atol=1e-6, rtol=1e-5)
        assert weights[i].sum().item() == pytest.approx(1.0, abs=1e-6)


def test_windows_on_documents_within_max_len_train_and_predict_as_head():
    X, y = signal_late(120, 0)
    short = [doc[:16] for doc in X]
    head = LSTMAttentionClassifier(**{**SMALL, "truncation": "head"}).fit(ids(short), y)
    windows = LSTMAttentionClassifier(**{**SMALL, "truncation": "windows"}).fit(ids(short), y)
    np.testing.assert_allclose(windows.predict_proba(ids(short)),
                               head.predict_proba(ids(short)), atol=1e-5)


@pytest.mark.slow
def test_windows_read_the_evidence_that_truncation_cuts_off():
    X, y = signal_late(200, 0)
    X_test, y_test = signal_late(100, 1)
    ids = TokenIndexer().fit(X).transform  # numbered by frequency in the training documents
    head = LSTMAttentionClassifier(**{**SMALL, "truncation": "head"}).fit(ids(X), y)
    windows = LSTMAttentionClassifier(**{**SMALL, "truncation": "windows"}).fit(ids(X), y)
    assert np.mean(head.predict(ids(X_test)) == y_test) < 0.7
    assert np.mean(windows.predict(ids(X_test)) == y_test) > 0.95
    # One weight per token of the whole document, every token read, summing to 1; the
    # label token gets more than any other.
    docs = X_test[:5] + [[], ["好"]]
    weights = windows.attention(ids(docs))
    assert [len(w) for w in weights] == [len(d) for d in docs]
    for doc, w in zip(docs[:5], weights[:5], strict=True):
        assert w.sum() == pytest.approx(1.0, abs=1e-5) and (w > 0).all()
        label = [i for i, t in enumerate(doc) if t in "好坏"][0]
        assert w.argmax() == label
    assert [len(pairs) for pairs in windows.explain(ids(docs))] == [len(d) for d in docs]
    assert len(windows.predict(ids(docs))) == len(docs)


def test_a_windowed_model_saves_loads_and_pickles(tmp_path):
    X, y = signal_late(60, 0)
    X = ids(X)
    clf = LSTMAttentionClassifier(**{**SMALL, "truncation": "windows", "max_epochs": 2,
                                     "bag_ngrams": 2, "ngram_warmup": 0}).fit(X, y)
    expected = clf.predict_proba(X)
    save_model(clf, tmp_path / "m.slm")
    np.testing.assert_array_equal(load_model(tmp_path / "m.slm").predict_proba(X), expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)


def test_export_onnx_refuses_a_windowed_network(tmp_path):
    pytest.importorskip("onnx")
    from sk_slm import JiebaSegmenter, export_onnx

    X, y = signal_late(40, 0)
    pipe = make_pipeline(JiebaSegmenter(granularity="char"), TokenIndexer(), LSTMAttentionClassifier(
        **{**SMALL, "truncation": "windows", "max_epochs": 1})).fit(["".join(d) for d in X], y)
    with pytest.raises(ValueError, match="truncation='windows'"):
        export_onnx(pipe, tmp_path / "m.onnx.zip")
