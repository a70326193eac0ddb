"""export_onnx / OnnxClassifier: the fitted pipeline served by ONNX Runtime, without torch."""

import json
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

pytest.importorskip("onnxruntime")

from sk_slm import (  # noqa: E402
    JiebaSegmenter,
    LSTMAttentionClassifier,
    OnnxClassifier,
    TokenIndexer,
    Word2VecVectorizer,
    explain,
    export_onnx,
    load_reviews,
    make_lstm_pipeline,
)

REVIEWS, LABELS = load_reviews(return_X_y=True)
X_TRAIN, Y_TRAIN = list(REVIEWS[:400]), LABELS[:400]
# Unseen reviews, and documents of every odd kind: empty, blank, unseen tokens, English,
# longer than max_len.
X_TEST = list(REVIEWS[400:480]) + ["", "   ", "𠀀𠀁", "OK good", "好" * 80]
# Warm-up shorter than training, so that the recurrent network trains and counts.
SMALL = {"hidden_size": 8, "module__attention_size": 8, "max_epochs": 3, "ngram_warmup": 1}


@pytest.fixture(scope="module")
def blended():
    model = make_lstm_pipeline(**SMALL, max_len=40)
    model.set_params(blend__network__embedding__vector_size=8).fit(X_TRAIN, Y_TRAIN)
    assert model[-1].named_estimators_["network"][-1].module_.output.weight.any()
    model[-1].weights_ = np.array([0.5, 0.5])  # both parts count, whatever was chosen
    return model


def exported(model, tmp_path):
    path = tmp_path / "model.zip"
    export_onnx(model, path)
    return OnnxClassifier(path)


@pytest.mark.slow
def test_the_default_pipeline_gives_the_estimators_probabilities(blended, tmp_path):
    served = exported(blended, tmp_path)
    proba = served.predict_proba(X_TEST)
    assert proba.shape == (len(X_TEST), 2)
    np.testing.assert_allclose(proba, blended.predict_proba(X_TEST), atol=1e-5)
    np.testing.assert_array_equal(served.classes_, blended.classes_)
    np.testing.assert_array_equal(served.predict(X_TEST), blended.predict(X_TEST))


def test_an_export_prints_no_torch_shape_inference_notes(blended, tmp_path, capfd):
    # torch's C++ exporter wrote three "shape inference of prim::PackPadded type is
    # missing" lines to the process's stderr on every export.
    exported(blended, tmp_path)
    out, err = capfd.readouterr()
    assert "prim::Pack" not in err + out and "prim::PadPacked" not in err + out


def test_kept_back_native_lines_are_only_the_named_ones(capfd):
    import os

    from sk_slm.serving._native_stderr import without_lines

    with without_lines("shape inference of prim::PackPadded"):
        os.write(2, b"[W] The shape inference of prim::PackPadded type is missing\n")
        os.write(2, b"a native error the user must see\n")
    assert capfd.readouterr().err == "a native error the user must see\n"


def assert_same_explanations(got, expected, atol):
    assert len(got) == len(expected)
    for doc, ref in zip(got, expected, strict=True):
        assert [token for token, _ in doc] == [token for token, _ in ref]
        np.testing.assert_allclose([w for _, w in doc], [w for _, w in ref], atol=atol)


@pytest.mark.slow
def test_explain_gives_the_pipelines_attention_and_pickling_keeps_the_model(blended, tmp_path):
    import pickle

    served = exported(blended, tmp_path)
    # Over-long (cut by max_len: weight 0), empty, unseen documents included; both
    # methods, tokens as the documents have them.
    assert_same_explanations(served.explain(X_TEST, method="attention"),
                             explain(blended, X_TEST, method="attention"), atol=1e-5)
    assert_same_explanations(served.explain(X_TEST[-10:]), explain(blended, X_TEST[-10:]),
                             atol=1e-4)
    with pytest.raises(ValueError, match="method='gradient'"):
        served.explain(X_TEST[:1], method="gradient")
    copy = pickle.loads(pickle.dumps(served))
    np.testing.assert_array_equal(copy.predict_proba(X_TEST), served.predict_proba(X_TEST))
    assert copy.explain(X_TEST[:3]) == served.explain(X_TEST[:3])


@pytest.mark.parametrize("network", [
    {"module__cell": "gru", "module__num_layers": 2, "module__bidirectional": False,
     "bag_ngrams": 0, "ngram_warmup": 5},  # the default: no n-gram part to warm up
    {"module__cell": "lstm", "module__num_layers": 2, "module__bidirectional": True,
     "bag_ngrams": 2},
    {"module__cell": "gru", "module__num_layers": 1, "module__bidirectional": True,
     "truncation": "head_tail", "max_len": 10},
], ids=["gru-2-uni", "lstm-2-bi-ngrams", "gru-1-bi-head_tail"])
@pytest.mark.slow
def test_networks_of_every_shape_over_word2vec(network, tmp_path):
    model = make_pipeline(
        JiebaSegmenter(granularity="char"),
        Word2VecVectorizer(output="sequence", vector_size=8, random_state=0),
        LSTMAttentionClassifier(**{**SMALL, **network}, random_state=0),
    ).fit(X_TRAIN, Y_TRAIN)
    np.testing.assert_allclose(exported(model, tmp_path).predict_proba(X_TEST),
                               model.predict_proba(X_TEST), atol=1e-5)


@pytest.mark.slow
def test_a_network_over_a_token_indexer_and_string_labels(tmp_path):
    y = np.where(Y_TRAIN == 1, "好评", "差评")
    model = make_pipeline(JiebaSegmenter(), TokenIndexer(), LSTMAttentionClassifier(
        **SMALL, module__embedding_dim=8, random_state=0))
    model.fit(X_TRAIN, y)
    served = exported(model, tmp_path)
    np.testing.assert_allclose(served.predict_proba(X_TEST), model.predict_proba(X_TEST),
                               atol=1e-5)
    assert served.predict(X_TEST).tolist() == model.predict(X_TEST).tolist()
    assert served.score(X_TEST[:40], y[:40]) == model.score(X_TEST[:40], y[:40])
    # Labels of object dtype (a pandas column) come back with that dtype.
    model.fit(X_TRAIN, pd.Series(y).to_numpy(dtype=object))
    assert model.classes_.dtype == object
    assert exported(model, tmp_path).classes_.dtype == object


def test_what_it_cannot_export_is_refused_by_name(blended, tmp_path):
    with pytest.raises(ValueError, match="first step is a JiebaSegmenter"):
        export_onnx(blended[-1], tmp_path / "m.zip")
    with pytest.raises(ValueError, match="call fit first"):
        export_onnx(make_lstm_pipeline(), tmp_path / "m.zip")
    other = make_pipeline(JiebaSegmenter(), LogisticRegression())
    other[0].fit(X_TRAIN)
    with pytest.raises(ValueError, match="cannot export the part 'network'"):
        export_onnx(other, tmp_path / "m.zip")
    assert not (tmp_path / "m.zip").exists()


@pytest.mark.slow
def test_int8_export_is_smaller_and_predicts_nearly_as_the_float_one(blended, tmp_path):
    onnx = pytest.importorskip("onnx")
    export_onnx(blended, tmp_path / "float.zip")
    export_onnx(blended, tmp_path / "int8.zip", quantize="int8")

    def graph(name):
        with zipfile.ZipFile(tmp_path / name) as zf:
            return zf.read("network.onnx")

    assert len(graph("int8.zip")) < 0.5 * len(graph("float.zip"))
    assert (tmp_path / "int8.zip").stat().st_size < (tmp_path / "float.zip").stat().st_size
    ops = {node.op_type for node in onnx.load_from_string(graph("int8.zip")).graph.node}
    assert "DynamicQuantizeLSTM" in ops  # the recurrent weights are int8, not only matmuls
    assert "LSTM" not in ops
    served = OnnxClassifier(tmp_path / "int8.zip")
    assert served.quantize_ == "int8" and OnnxClassifier(tmp_path / "float.zip").quantize_ is None
    proba, expected = served.predict_proba(X_TEST), blended.predict_proba(X_TEST)
    assert proba.shape == expected.shape  # every row, the odd documents included
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(proba, expected, atol=0.05)
    assert np.abs(proba - expected).max() > 1e-6  # quantized: not the float numbers
    assert np.mean(served.predict(X_TEST) == blended.predict(X_TEST)) >= 0.95
    assert_same_explanations(served.explain(X_TEST, method="attention"),
                             explain(blended, X_TEST, method="attention"), atol=0.05)
    with pytest.raises(ValueError, match="quantize='int4' is not one of"):
        export_onnx(blended, tmp_path / "bad.zip", quantize="int4")
    with pytest.raises(ValueError, match="call fit first"):
        export_onnx(make_lstm_pipeline(), tmp_path / "bad.zip", quantize="int8")
    assert not (tmp_path / "bad.zip").exists()


def test_a_file_it_did_not_write_is_refused(blended, tmp_path):
    path = tmp_path / "m.zip"
    export_onnx(blended, path)
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(members["manifest.json"])
    manifest["format"] = "something else"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, json.dumps(manifest) if name == "manifest.json" else data)
    with pytest.raises(ValueError, match="not a file written by export_onnx"):
        OnnxClassifier(path)
    manifest.update(format="sk_slm-onnx", version=1)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, json.dumps(manifest) if name == "manifest.json" else data)
    with pytest.raises(ValueError, match="format version 1.*export the model again"):
        OnnxClassifier(path)


@pytest.mark.slow
def test_serving_needs_no_torch_skorch_or_gensim(blended, tmp_path):
    path, quantized = tmp_path / "m.zip", tmp_path / "q.zip"
    export_onnx(blended, path)
    export_onnx(blended, quantized, quantize="int8")
    np.save(tmp_path / "expected.npy", blended.predict_proba(X_TEST))
    (tmp_path / "docs.json").write_text(json.dumps(X_TEST, ensure_ascii=False),
                                        encoding="utf-8")
    script = textwrap.dedent(f"""
        import importlib.abc, json, sys
        import numpy as np

        class Blocked(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "skorch", "gensim"):
                    raise ImportError(f"{{name}} is blocked in this test")

        sys.meta_path.insert(0, Blocked())
        from sk_slm import OnnxClassifier

        docs = json.load(open({str(tmp_path / "docs.json")!r}, encoding="utf-8"))
        proba = OnnxClassifier({str(path)!r}).predict_proba(docs)
        expected = np.load({str(tmp_path / "expected.npy")!r})
        np.testing.assert_allclose(proba, expected, atol=1e-5)
        int8 = OnnxClassifier({str(quantized)!r})
        np.testing.assert_allclose(int8.predict_proba(docs), expected, atol=0.05)
        assert len(int8.explain(docs)) == len(docs)
        assert not any(m.split(".")[0] in ("torch", "skorch", "gensim") for m in sys.modules)
        print("served", len(proba))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == f"served {len(X_TEST)}"
