"""The safe model format: round trips, old files, tampered, damaged and foreign files."""

import json
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline

from sk_slm import (
    JiebaSegmenter,
    LSTMAttentionClassifier,
    TokenIndexer,
    UnsafeModelError,
    Word2VecVectorizer,
    load_model,
    save_model,
)


# ------------------------------------------------------------------ safe persistence
def test_safe_save_load_round_trip(pipe, toy_sentiment, tmp_path):
    X, _ = toy_sentiment
    path = tmp_path / "model.slm"
    save_model(pipe, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    assert list(loaded.classes_) == list(pipe.classes_)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["arrays.safetensors", "manifest.json"]


def _with_device(path, device, out):
    """Copy of a safe file whose classifier says it was saved from ``device``."""
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        blob = zf.read("arrays.safetensors")
    _network_node(manifest)["params"]["device"] = device
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("arrays.safetensors", blob)
    return out


def test_safe_file_saved_from_cuda_loads_on_the_cpu_without_a_gpu(
    pipe, toy_sentiment, tmp_path, monkeypatch
):
    X, _ = toy_sentiment
    save_model(pipe, tmp_path / "cpu.slm")
    path = _with_device(tmp_path / "cpu.slm", "cuda", tmp_path / "cuda.slm")
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        loaded = load_model(path)
    assert loaded[-1].device == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    # An explicit device wins and does not warn.
    assert load_model(path, device="cpu")[-1].device == "cpu"


def test_safe_round_trip_of_the_default_blended_pipeline(toy_sentiment, tmp_path):
    from sk_slm import make_lstm_pipeline

    X, y = toy_sentiment
    pipe = make_lstm_pipeline(hidden_size=8, max_epochs=2).fit(X, y)
    path = tmp_path / "blend.slm"
    save_model(pipe, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    blend, original = loaded[-1], pipe[-1]
    np.testing.assert_array_equal(blend.weights_, original.weights_)
    np.testing.assert_array_equal(blend.validation_log_loss_, original.validation_log_loss_)
    assert blend.temperature_ == original.temperature_ != 1.0
    assert list(blend.named_estimators_) == ["network", "linear"]
    network = blend.named_estimators_["network"][-1]
    assert network.train_passes_ == original.named_estimators_["network"][-1].train_passes_
    assert loaded.get_params()["blend__linear__logreg__C"] == 10.0
    assert len(loaded.predict(["", "没见过的字"])) == 2


@pytest.mark.parametrize("corpus", ["file", "texts"])
def test_safe_round_trip_keeps_the_corpus_segmenter_with_a_corpus_file(toy_sentiment, tmp_path,
                                                                       corpus):
    from sk_slm import make_lstm_pipeline

    X, y = toy_sentiment
    texts = ["火星探测", "火星探测器"]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(texts), encoding="utf-8")
    pipe = make_lstm_pipeline(hidden_size=8, max_epochs=2, granularity="char",
                              corpus=str(path) if corpus == "file" else texts).fit(X, y)
    save_model(pipe, tmp_path / "m.slm")
    loaded = load_model(tmp_path / "m.slm")
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    embedding = loaded.get_params()["blend__network__embedding"]
    if corpus == "file":  # refitting reads the file again, segmented as before
        assert embedding.segmenter.get_params() == JiebaSegmenter(granularity="char").get_params()
    else:  # the texts are not saved, nor what segmented them
        assert embedding.corpus is None and embedding.segmenter is None


def test_safe_round_trip_of_a_blend_of_linear_models_alone(toy_sentiment, tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from sk_slm import BlendingClassifier, passthrough_analyzer

    X, y = toy_sentiment
    words = make_pipeline(TfidfVectorizer(tokenizer=passthrough_analyzer,
                                          preprocessor=passthrough_analyzer, token_pattern=None),
                          LogisticRegression(C=0.5))
    bigrams = make_pipeline(TfidfVectorizer(tokenizer=passthrough_analyzer,
                                            preprocessor=passthrough_analyzer,
                                            token_pattern=None, ngram_range=(2, 2)),
                            LogisticRegression())
    model = make_pipeline(JiebaSegmenter(), BlendingClassifier(
        [("words", words), ("bigrams", bigrams)], weights=[[1, 1], [3, 1]], random_state=0))
    model.fit(X, np.where(np.asarray(y) == "正面", 7, 3))  # int labels
    save_model(model, tmp_path / "linear.slm")
    loaded = load_model(tmp_path / "linear.slm")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.predict(X).dtype.kind == "i" and set(loaded.classes_) == {3, 7}
    assert loaded[-1].get_params()["weights"] == [[1, 1], [3, 1]]
    np.testing.assert_array_equal(loaded[-1].candidate_weights_, model[-1].candidate_weights_)


def test_a_blend_saved_before_blends_fitted_a_temperature_predicts_as_it_did(toy_sentiment,
                                                                             tmp_path):
    # Such files hold no temperature_: the blend predicts as it then did, at t = 1.
    from sk_slm import make_lstm_pipeline

    X, y = toy_sentiment
    pipe = make_lstm_pipeline(hidden_size=8, max_epochs=2).fit(X, y)
    path = tmp_path / "before.slm"
    save_model(pipe, path)

    def without_temperature(manifest):
        del manifest["model"]["parts"][1][1]["state"]["temperature_"]
        return manifest

    _rewrite(path, manifest=without_temperature)
    loaded = load_model(path)
    assert loaded[-1].temperature_ == 1.0
    pipe[-1].temperature_ = 1.0
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_files_of_the_first_format_version_ask_to_re_save(pipe, tmp_path):
    path = tmp_path / "old.slm"
    save_model(pipe, path)
    _rewrite(path, manifest=lambda m: {**m, "version": 1})
    with pytest.raises(UnsafeModelError, match="version 1 of the safe format.*re-save"):
        load_model(path)


def test_safe_round_trip_with_a_token_indexer_int_labels_and_user_words(tmp_path):
    X = ["江大桥好", "江大桥坏", "好好好", "坏坏坏"] * 10
    y = [3, 7, 3, 7] * 10
    pipe = make_pipeline(JiebaSegmenter(user_dict=[("江大桥", 100)], stop_words={"的"}),
                         TokenIndexer(min_count=2),
                         LSTMAttentionClassifier(hidden_size=4, module__embedding_dim=4,
                                                 max_epochs=2, random_state=0))
    pipe.fit(X, y)
    save_model(pipe, tmp_path / "m.slm")
    loaded = load_model(tmp_path / "m.slm")
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    assert loaded.predict(X).dtype.kind == "i"
    assert loaded[0].transform(["江大桥"]) == [["江大桥"]]
    assert loaded[1].vocabulary_ == pipe[1].vocabulary_ and loaded[1].min_count == 2
    # A vocabulary that is not numbered 0..n-1 is refused.
    _rewrite(tmp_path / "m.slm", manifest=_renumber_indexer)
    with pytest.raises(UnsafeModelError, match="TokenIndexer's vocabulary"):
        load_model(tmp_path / "m.slm")


def _renumber_indexer(manifest):
    manifest["model"]["parts"][1][1]["state"]["vocabulary_"]["__dict__"][0][1] = 99
    return manifest


def _rewrite(path, manifest=None, arrays=None):
    with zipfile.ZipFile(path) as zf:
        m = json.loads(zf.read("manifest.json"))
        blob = zf.read("arrays.safetensors")
    m = manifest(m) if manifest else m
    blob = arrays(blob) if arrays else blob
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(m))
        zf.writestr("arrays.safetensors", blob)


def _network_node(m):
    """The classifier's entry in the manifest of ``pipe`` (a plain Pipeline)."""
    return m["model"]["parts"][-1][1]


def _set_class(m, name):
    m["model"]["parts"][0][1]["class"] = name
    return m


def _set_optimizer(m, name):
    _network_node(m)["params"]["optimizer"] = {"__object__": name}
    return m


def _set_state(m, **state):
    _network_node(m)["state"].update(state)
    return m


def test_a_file_pooling_with_a_removed_mode_is_refused_with_what_to_do(tmp_path):
    docs = JiebaSegmenter().fit_transform(["我爱北京天安门", "今天天气很好"] * 4)
    path = tmp_path / "w2v.slm"
    save_model(make_pipeline(Word2VecVectorizer(vector_size=4, min_count=1)).fit(docs), path)

    def sif(m):
        m["model"]["parts"][0][1]["params"]["output"] = "sif"
        return m

    _rewrite(path, manifest=sif)
    with pytest.raises(UnsafeModelError, match="output='sif', which 0.1.0 removed.*re-fit"):
        load_model(path)


def test_names_written_before_the_package_had_folders_still_load(toy_sentiment, tmp_path):
    # Files saved before 0.1.0's layout name sk_slm.segmenter.passthrough_analyzer and
    # sk_slm.module.AttentionRNN; they load as before.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from sk_slm import passthrough_analyzer

    X, y = toy_sentiment
    model = make_pipeline(JiebaSegmenter(), TfidfVectorizer(analyzer=passthrough_analyzer),
                          LogisticRegression()).fit(X, y)
    path = tmp_path / "old.slm"
    save_model(model, path)
    with zipfile.ZipFile(path) as zf:
        assert "sk_slm.text.segmenter.passthrough_analyzer" in zf.read("manifest.json").decode()

    def old_names(m):
        text = json.dumps(m).replace("sk_slm.text.segmenter.", "sk_slm.segmenter.")
        return json.loads(text)

    _rewrite(path, manifest=old_names)
    np.testing.assert_array_equal(load_model(path).predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize(
    "tamper, message",
    [
        (dict(arrays=lambda b: b[:-8] + b"\x00" * 8), "checksum"),
        (dict(manifest=lambda m: _set_class(m, "os.system")), "not allowed"),
        (dict(manifest=lambda m: _set_optimizer(m, "builtins.eval")), "not allowed"),
        (dict(manifest=lambda m: {**m, "format": "pickle"}), "not an sk_slm safe model"),
        (dict(manifest=lambda m: {**m, "model": {"class": "os.system"}}), "not allowed"),
        (dict(manifest=lambda m: _set_state(m, best_epoch_="__import__('os')")),
         "best_epoch_ must be of kind int"),
        # JSON true is an int to Python, but no count.
        (dict(manifest=lambda m: _set_state(m, n_vocab_=True)), "n_vocab_ must be of kind int"),
        (dict(manifest=lambda m: _set_state(m, ngram_lr_="fast")),
         "ngram_lr_ must be of kind float"),
        (dict(manifest=lambda m: _set_state(m, train_passes_=[["refit", -1]])),
         "train_passes_ must be a list"),
        (dict(manifest=lambda m: _set_state(m, n_vocab_=3)), "network weights do not fit"),
    ],
)
def test_tampered_safe_file_is_refused(pipe, tmp_path, tamper, message):
    path = tmp_path / "model.slm"
    save_model(pipe, path)
    _rewrite(path, **tamper)
    with pytest.raises(UnsafeModelError, match=message):
        load_model(path)


def test_corrupt_or_foreign_files_are_refused(tmp_path):
    bad = tmp_path / "x.slm"
    bad.write_bytes(b"\x80\x04\x95 definitely a pickle")
    with pytest.raises(UnsafeModelError):
        load_model(bad)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.slm")


def test_safe_format_refuses_what_it_cannot_hold(toy_sentiment, tmp_path):
    from sk_slm import make_baseline

    with pytest.raises(TypeError, match="skops"):
        save_model(make_baseline("svm_char_tfidf"), tmp_path / "m.slm")


def test_skops_saves_and_loads_a_fitted_blend(blended, toy_sentiment):
    # skorch's Freezer/Unfreezer, which did the n-gram warm-up until 2026-12-07, kept bound
    # methods as their schedule: a cycle that made skops.io.dumps end in RecursionError.
    import skops.io as skops_io  # a dev requirement

    X, _ = toy_sentiment
    data = skops_io.dumps(blended)
    loaded = skops_io.loads(data, trusted=skops_io.get_untrusted_types(data=data))
    np.testing.assert_array_equal(loaded.predict_proba(X), blended.predict_proba(X))


def test_plain_pickle_still_works(pipe, toy_sentiment):
    import pickle

    X, _ = toy_sentiment
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pipe)).predict_proba(X),
                                  pipe.predict_proba(X))

# ------------------------------------------------------------------ model files verified whole
@pytest.fixture(scope="module")
def blended(toy_sentiment):
    from sk_slm import make_lstm_pipeline

    X, y = toy_sentiment
    return make_lstm_pipeline(hidden_size=8, max_epochs=2).fit(X, y)


def _network_leaf(m):
    network = dict(_blend_node(m)["parts"])["network"]
    return dict(network["parts"])["classifier"]


def _swap_labels(m):
    """Two labels swapped in the manifest: no longer sorted as fit leaves them."""
    _network_leaf(m)["state"]["label_encoder_"].reverse()
    return m


def _read_only_the_tail(m):
    """Edits that leave a valid model: the network reads the last 2 tokens only, the
    linear part reads two tokens as each other."""
    _network_leaf(m)["params"].update(max_len=2, truncation="tail")
    pairs = _linear_leaf(m, "tfidf")["state"]["vocabulary_"]["__dict__"]
    pairs[0][1], pairs[1][1] = pairs[1][1], pairs[0][1]
    return m


def test_save_returns_the_file_hash_and_load_refuses_any_other_file(blended, toy_sentiment,
                                                                     tmp_path):
    import hashlib

    X, _ = toy_sentiment
    path = tmp_path / "m.slm"
    digest = save_model(blended, path)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    np.testing.assert_array_equal(load_model(path, sha256=digest).predict_proba(X[:20]),
                                  blended.predict_proba(X[:20]))
    _rewrite(path, manifest=_read_only_the_tail)
    edited = load_model(path)  # valid, and not the model saved: what the threat model says
    assert not np.allclose(edited.predict_proba(X), blended.predict_proba(X))
    with pytest.raises(UnsafeModelError, match="not the file whose SHA-256 was given"):
        load_model(path, sha256=digest)
    _rewrite(path, manifest=_swap_labels)
    with pytest.raises(UnsafeModelError, match="distinct and sorted"):
        load_model(path)


def test_a_signed_file_loads_only_with_its_key_and_any_edit_is_refused(blended, tmp_path):
    path = tmp_path / "signed.slm"
    save_model(blended, path, key="secret")
    assert load_model(path, key=b"secret").classes_.tolist() == blended.classes_.tolist()
    load_model(path)  # without a key the signature is not read
    with pytest.raises(UnsafeModelError, match="not signed with this key"):
        load_model(path, key="other")
    save_model(blended, tmp_path / "plain.slm")
    with pytest.raises(UnsafeModelError, match="it is not signed"):
        load_model(tmp_path / "plain.slm", key="secret")
    edits = {"labels": dict(manifest=_swap_labels),
             "the truncation": dict(manifest=_read_only_the_tail),
             "a parameter": dict(manifest=_set_blend_seed),
             "an array": dict(arrays=lambda b: b[:-4] + bytes(4))}
    for what, edit in edits.items():
        copy = tmp_path / f"edited-{what}.slm"
        copy.write_bytes(path.read_bytes())
        _rewrite_keep_signature(copy, **edit)
        with pytest.raises(UnsafeModelError, match="not signed with this key"):
            load_model(copy, key="secret")


def _set_blend_seed(m):
    _blend_node(m)["params"]["random_state"] = 1
    return m


def _rewrite_keep_signature(path, manifest=None, arrays=None):
    with zipfile.ZipFile(path) as zf:
        m = json.loads(zf.read("manifest.json"))
        blob = zf.read("arrays.safetensors")
        signature = zf.read("signature.hmac")
    m = manifest(m) if manifest else m
    blob = arrays(blob) if arrays else blob
    if arrays:  # keep the arrays' own checksum right: only the signature can tell
        import hashlib

        m["arrays_sha256"] = hashlib.sha256(blob).hexdigest()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(m))
        zf.writestr("arrays.safetensors", blob)
        zf.writestr("signature.hmac", signature)


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[: len(b) // 2], "truncated"),
    (lambda b: b"", "is empty"),
    (lambda b: b[:100], "truncated"),
])
def test_truncated_or_empty_files_get_a_clear_error(blended, tmp_path, damage, message):
    path = tmp_path / "m.slm"
    save_model(blended, path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(UnsafeModelError, match=message):
        load_model(path)


def test_a_failed_save_leaves_the_previous_file_and_no_partial_one(blended, tmp_path,
                                                                   monkeypatch):
    path = tmp_path / "m.slm"
    digest = save_model(blended, path)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full_disk)
    with pytest.raises(OSError, match="No space left"):
        save_model(blended, path)
    monkeypatch.undo()
    assert load_model(path, sha256=digest) is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.slm"]


def _blend_node(m):
    return m["model"]["parts"][1][1]


def _linear_leaf(m, step):
    linear = dict(_blend_node(m)["parts"])["linear"]
    return dict(linear["parts"])[step]


@pytest.mark.parametrize("edit, message", [
    (lambda m: _linear_leaf(m, "tfidf")["state"]["vocabulary_"]["__dict__"].pop(),
     "NGramTfidfVectorizer's n-gram codes name unknown tokens"),
    (lambda m: _linear_leaf(m, "logreg")["state"].update(n_features_in_=3),
     "LogisticRegression's weights do not match"),
    (lambda m: _blend_node(m)["state"].update(classes_=["0", "1"]) or
     _linear_leaf(m, "logreg")["state"].update(classes_=["x", "y"]), "has classes the blend"),
    (lambda m: _blend_node(m)["state"].update(weights_=None) or _blend_node(m)["parts"].pop(),
     "weights do not match its parts"),
])
def test_a_manifest_that_does_not_fit_its_arrays_is_refused(blended, tmp_path, edit, message):
    path = tmp_path / "m.slm"
    save_model(blended, path)

    def apply(m):
        edit(m)
        return m

    _rewrite(path, manifest=apply)
    with pytest.raises(UnsafeModelError, match=message):
        load_model(path)


def test_a_file_with_extra_members_is_refused(blended, tmp_path):
    path = tmp_path / "m.slm"
    save_model(blended, path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("payload.pkl", b"\x80\x04")
    with pytest.raises(UnsafeModelError, match="payload.pkl"):
        load_model(path)

# ------------------------------------------------------------------ property tests
@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000))
def test_load_model_refuses_arbitrary_bytes_with_its_own_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "x.slm"
    path.write_bytes(data)
    with pytest.raises(UnsafeModelError):
        load_model(path)


@pytest.fixture(scope="module")
def saved_bytes(pipe, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "m.slm"
    save_model(pipe, path)
    return path.read_bytes()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_damaged_model_file_is_refused_or_loads_whole(saved_bytes, tmp_path_factory, data):
    position = data.draw(st.integers(0, len(saved_bytes) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != saved_bytes[position]))
    damaged = bytearray(saved_bytes)
    damaged[position] = value
    path = tmp_path_factory.mktemp("damaged") / "m.slm"
    path.write_bytes(bytes(damaged))
    try:
        model = load_model(path)
    except UnsafeModelError:
        return
    # A byte the zip format does not read (a header's time stamp): the model is whole.
    assert model.predict_proba(["好吃", ""]).shape == (2, 2)

def test_zip_tricks_are_refused_with_the_models_own_error(tmp_path):
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("manifest.json", "[" * 100_000 + "]" * 100_000)  # too deep for json
        zf.writestr("arrays.safetensors", b"")
    (tmp_path / "deep.slm").write_bytes(buffer.getvalue())
    with pytest.raises(UnsafeModelError, match="RecursionError"):
        load_model(tmp_path / "deep.slm")
    data = bytearray(buffer.getvalue())  # a compression method zipfile does not know
    for header, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(header) + offset
        data[at:at + 2] = (99).to_bytes(2, "little")
    (tmp_path / "odd.slm").write_bytes(bytes(data))
    with pytest.raises(UnsafeModelError, match="NotImplementedError"):
        load_model(tmp_path / "odd.slm")
