import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from sk_slm import (
    EmptyDocumentWarning,
    JiebaSegmenter,
    TokenSequences,
    Word2VecVectorizer,
)

DOCS = [["我", "爱", "北京"], ["北京", "很", "大"], ["我", "爱", "你"], ["天气", "很", "好"]] * 6


def vec(**params):
    params = {"vector_size": 8, "min_count": 1, "random_state": 0, **params}
    return Word2VecVectorizer(**params)


def naive_pool(wv, doc, how):
    rows = np.array([wv[t] for t in doc if t in wv.key_to_index])
    return {"mean": rows.mean(0), "max": rows.max(0)}[how]


@pytest.mark.parametrize("output", ["mean", "mean_max"])
def test_pooled_outputs_shape_dtype_and_names(output):
    v = vec(output=output).fit(DOCS)
    X = v.transform(DOCS)
    width = 16 if output == "mean_max" else 8
    assert X.shape == (len(DOCS), width) and X.dtype == np.float32
    assert len(v.get_feature_names_out()) == width
    assert np.isfinite(X).all() and np.abs(X).sum() > 0


def test_mean_and_max_equal_the_naive_computation():
    v = vec(output="mean_max").fit(DOCS)
    docs = DOCS[:4] + [["北京", "未知", "你"]]
    X = v.transform(docs)
    for i, doc in enumerate(docs):
        np.testing.assert_allclose(X[i, :8], naive_pool(v.wv_, doc, "mean"), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(X[i, 8:], naive_pool(v.wv_, doc, "max"), rtol=1e-6)


def test_max_pooling_equals_the_naive_computation_on_ragged_documents():
    # Lengths 0..40, unknown tokens, documents of only unknown tokens: the pooled max
    # walks token positions over length-sorted documents, so ragged input matters.
    v = vec(output="mean_max").fit(DOCS)
    rng = np.random.default_rng(0)
    pool = [*v.wv_.index_to_key, "未知", "也未知"]
    docs = [list(rng.choice(pool, size=n)) for n in rng.integers(0, 41, size=200)]
    docs += [[], ["未知"], ["未知", "北京"]]
    with pytest.warns(EmptyDocumentWarning):
        X = v.transform(docs)
    for i, doc in enumerate(docs):
        if any(t in v.wv_.key_to_index for t in doc):
            np.testing.assert_array_equal(X[i, 8:], naive_pool(v.wv_, doc, "max"))
        else:
            np.testing.assert_array_equal(X[i], 0)


@pytest.mark.parametrize("output", ["max", "tfidf", "sif"])
def test_removed_pooling_modes_are_refused(output):
    with pytest.raises(ValueError, match="'output' parameter"):
        vec(output=output).fit(DOCS)


def test_set_output_pandas():
    v = vec().set_output(transform="pandas").fit(DOCS)
    df = v.transform(DOCS)
    assert isinstance(df, pd.DataFrame) and list(df.columns[:2]) == ["w2v_mean0", "w2v_mean1"]


@pytest.mark.parametrize("output", ["mean", "mean_max", "sequence"])
def test_fit_transform_equals_fit_then_transform_and_encodes_once(output, monkeypatch):
    import sk_slm.features.word2vec as module

    expected = vec(output=output).fit(DOCS).transform(DOCS)
    calls = []
    encode = module.encode_tokens
    monkeypatch.setattr(module, "encode_tokens", lambda *a, **k: calls.append(1) or encode(*a, **k))
    got = vec(output=output).fit_transform(DOCS)
    assert len(calls) == 1  # X is encoded once, for the weights and the output alike
    if output == "sequence":
        np.testing.assert_array_equal(got.ids, expected.ids)
        np.testing.assert_array_equal(got.offsets, expected.offsets)
    else:
        np.testing.assert_array_equal(got, expected)


def test_empty_document_warning_points_at_the_caller():
    with pytest.warns(EmptyDocumentWarning) as fitted:
        vec().fit_transform([*DOCS, []])
    with pytest.warns(EmptyDocumentWarning) as transformed:
        vec().fit(DOCS).transform([[]])
    assert fitted[0].filename == transformed[0].filename == __file__


def test_oov_documents_become_zero_rows_with_a_warning():
    v = vec().fit(DOCS)
    assert v.n_empty_docs_ == 0
    with pytest.warns(EmptyDocumentWarning, match="2 of 3 documents"):
        X = v.transform([["火星"], ["北京"], []])
    assert len(X) == 3
    assert not X[0].any() and X[1].any() and not X[2].any()


def test_sequence_output_is_compact_sliceable_and_shares_vectors():
    v = vec(output="sequence").fit(DOCS)
    seqs = v.transform(DOCS + [["北京", "火星"]])
    assert isinstance(seqs, TokenSequences) and len(seqs) == len(DOCS) + 1
    assert seqs.ids.dtype == np.int32 and seqs.ids.nbytes == 4 * (3 * len(DOCS) + 2)
    assert seqs.tokens(len(DOCS)) == ["北京", "<unk>"]
    sub = seqs[[2, 0]]
    assert sub.vectors is seqs.vectors
    assert sub.tokens(0) == ["我", "爱", "你"] and sub.tokens(1) == ["我", "爱", "北京"]
    assert len(seqs[1:4]) == 3 and len(seqs[np.arange(len(seqs)) % 2 == 0]) == 13
    assert list(seqs[3]) == [v.wv_.key_to_index[t] for t in DOCS[3]]
    assert seqs[np.array([1]), ...].tokens(0) == DOCS[1]  # how sklearn indexes arrays
    restored = pickle.loads(pickle.dumps(sub))
    np.testing.assert_array_equal(restored.ids, sub.ids)


def test_corpus_adds_vocabulary_and_raw_text_is_segmented_by_its_segmenter(tmp_path):
    v = vec(corpus=[["火星", "北京"], ["火星", "探测"]]).fit(DOCS)
    assert "火星" in v.wv_.key_to_index
    path = tmp_path / "corpus.txt"
    path.write_text("\ufeff火星探测\n\n火星探测器\n", encoding="utf-8")
    chars = JiebaSegmenter(granularity="char")
    docs = chars.fit_transform(["北京很大", "我爱北京"] * 4)
    v = vec(corpus=str(path), segmenter=chars).fit(docs)
    assert {"火", "星", "探", "测"} <= set(v.wv_.key_to_index)
    v = vec(corpus=["火星探测", "火星探测器"], segmenter=chars).fit(docs)  # raw documents
    assert {"火", "星", "探", "测"} <= set(v.wv_.key_to_index)
    v = vec(corpus=["火星探测", "火星探测器"]).fit(docs)  # default segmenter: words
    assert "火星" in v.wv_.key_to_index and "火" not in v.wv_.key_to_index
    with pytest.raises(ValueError, match="'segmenter' parameter"):
        vec(corpus=["火星"], segmenter="char").fit(docs)
    with pytest.raises(FileNotFoundError, match="corpus"):
        vec(corpus=str(tmp_path / "nope.txt")).fit(DOCS)
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("火星探测\n".encode("gbk"))
    with pytest.raises(ValueError, match=r"corpus file .*gbk\.txt.* not UTF-8"):
        vec(corpus=str(gbk)).fit(DOCS)


def test_raw_strings_point_to_the_segmenter():
    with pytest.raises(TypeError, match="JiebaSegmenter"):
        vec().fit(["我爱北京"])
    with pytest.raises(TypeError, match="JiebaSegmenter"):
        vec().fit("我爱北京")
    with pytest.raises(ValueError, match=r"X\[1\]"):
        vec().fit([["a"], ["b", 3]])


def test_empty_corpus_and_min_count_errors():
    with pytest.raises(ValueError, match="empty"):
        vec().fit([[], []])
    with pytest.raises(ValueError, match="min_count=5"):
        vec(min_count=5).fit([["a", "b"], ["c"]])


@pytest.mark.parametrize("param, value", [("output", "sum"), ("vector_size", 0), ("sg", 2),
                                          ("pretrained_format", "fasttext"), ("limit", 0)])
def test_bad_parameters_are_named(param, value):
    with pytest.raises(ValueError, match=param):
        vec(**{param: value}).fit(DOCS)


def write_vectors(path, words, dim, fmt):
    rng = np.random.default_rng(0)
    table = rng.normal(size=(len(words), dim)).astype(np.float32)
    if fmt == "word2vec_binary":
        with open(path, "wb") as fh:
            fh.write(f"{len(words)} {dim}\n".encode())
            for w, row in zip(words, table, strict=True):
                fh.write(w.encode() + b" " + row.tobytes() + b"\n")
    else:
        lines = [f"{len(words)} {dim}"] if fmt == "word2vec" else []
        lines += [w + " " + " ".join(f"{x:.6f}" for x in row) for w, row in zip(words, table, strict=True)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


@pytest.mark.parametrize("fmt", ["word2vec", "word2vec_binary", "glove"])
def test_pretrained_formats_and_limit(tmp_path, fmt):
    words = ["北京", "我", "爱", "你", "很", "大"]
    path = tmp_path / f"vectors.{fmt}"
    table = write_vectors(path, words, 6, fmt)
    v = vec(pretrained=str(path), pretrained_format=fmt, output="mean").fit(DOCS)
    assert v.wv_.vectors.shape == (6, 6)
    np.testing.assert_allclose(v.wv_["北京"], table[0], atol=1e-5)
    np.testing.assert_allclose(v.transform([["北京", "你"]])[0], table[[0, 3]].mean(0), atol=1e-5)
    limited = vec(pretrained=str(path), pretrained_format=fmt, pretrained_limit=2).fit(DOCS)
    assert limited.wv_.index_to_key == ["北京", "我"]
    with pytest.warns(FutureWarning, match="limit was renamed pretrained_limit"):
        former = vec(pretrained=str(path), pretrained_format=fmt, limit=2).fit(DOCS)
    assert former.wv_.index_to_key == ["北京", "我"]


def test_pretrained_errors_name_file_and_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        vec(pretrained=str(tmp_path / "missing.txt")).fit(DOCS)
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\n北京 0.1 0.2 0.3\n我 0.1 0.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.txt.*line 3: expected 3 values, found 2"):
        vec(pretrained=str(bad)).fit(DOCS)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("1 2\nd\xe9j\xe0 0.1 0.2\n".encode("latin-1"))
    with pytest.raises(ValueError, match="latin.txt"):
        vec(pretrained=str(latin)).fit(DOCS)
    glove_as_w2v = tmp_path / "glove.txt"
    glove_as_w2v.write_text("北京 0.1 0.2\n我 0.3 0.4\n", encoding="utf-8")
    with pytest.raises(ValueError, match="glove.txt"):
        vec(pretrained=str(glove_as_w2v), pretrained_format="word2vec").fit(DOCS)


def test_pretrained_sequences_give_missing_tokens_their_own_ids(tmp_path):
    path = tmp_path / "vectors.txt"
    table = write_vectors(path, ["北京", "我"], 4, "word2vec")
    docs = [["我", "爱", "北京"], ["我", "爱", "你"], ["火星"]]
    added = vec(pretrained=str(path), output="sequence", min_count=2).fit(docs)
    assert added.n_added_tokens_ == 1 and added.wv_.index_to_key == ["北京", "我", "爱"]
    np.testing.assert_allclose(added.wv_.vectors[:2], table, atol=1e-5)
    assert not added.wv_.vectors[2].any()  # a zero row, for the classifier to learn
    seq = added.transform([["爱", "你", "北京"]])
    assert list(seq.ids) == [2, -1, 0]
    unknown = vec(pretrained=str(path), output="sequence", min_count=2,
                  missing_tokens="unknown").fit(docs)
    assert unknown.n_added_tokens_ == 0 and list(unknown.transform([["爱"]]).ids) == [-1]
    pooled = vec(pretrained=str(path)).fit(docs)  # pooled outputs keep the file as it is
    assert pooled.n_added_tokens_ == 0 and len(pooled.wv_) == 2
    with pytest.raises(ValueError, match="missing_tokens"):
        vec(pretrained=str(path), missing_tokens="zero").fit(docs)


def test_corpus_with_pretrained_is_refused_not_ignored(tmp_path):
    path = tmp_path / "vectors.txt"
    write_vectors(path, ["北京", "我"], 4, "word2vec")
    with pytest.raises(ValueError, match="one of corpus and pretrained"):
        vec(pretrained=str(path), corpus=["火星探测"]).fit(DOCS)


def test_keeps_only_keyed_vectors_and_pickles():
    from gensim.models import KeyedVectors

    v = vec().fit(DOCS)
    assert type(v.wv_) is KeyedVectors
    restored = pickle.loads(pickle.dumps(v))
    np.testing.assert_array_equal(restored.transform(DOCS), v.transform(DOCS))


def test_same_seed_same_vectors_different_seed_different():
    a = vec(random_state=1).fit(DOCS).wv_.vectors
    np.testing.assert_array_equal(a, vec(random_state=1).fit(DOCS).wv_.vectors)
    assert not np.array_equal(a, vec(random_state=2).fit(DOCS).wv_.vectors)


def test_in_a_pipeline_with_a_traditional_classifier(toy_sentiment):
    X, y = toy_sentiment
    pipe = make_pipeline(JiebaSegmenter(), vec(vector_size=16, epochs=30), LinearSVC())
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.85
    assert len(pipe.predict(["", "好吃", "火星"])) == 3


def test_most_similar_sanity():
    v = vec(epochs=50).fit(DOCS)
    assert len(v.most_similar("北京", topn=3)) == 3
