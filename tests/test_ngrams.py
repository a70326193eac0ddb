"""NGramTfidfVectorizer: TfidfVectorizer's token n-gram features, computed on arrays."""

import json
import zipfile

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sk_slm import (
    JiebaSegmenter,
    NGramTfidfVectorizer,
    UnsafeModelError,
    load_model,
    load_reviews,
    passthrough_analyzer,
    save_model,
)

REVIEWS, LABELS = load_reviews(return_X_y=True)
TEXTS = list(REVIEWS[:300])


def sklearn_tfidf(ngram_range):
    return TfidfVectorizer(tokenizer=passthrough_analyzer, preprocessor=passthrough_analyzer,
                           token_pattern=None, ngram_range=ngram_range, sublinear_tf=True)


def in_name_order(vectorizer, matrix):
    """The matrix's columns sorted by feature name, to compare two column orders."""
    return matrix[:, np.argsort(vectorizer.get_feature_names_out())].toarray()


@pytest.mark.slow
@pytest.mark.parametrize("granularity", ["char", "word"])
@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 3), (2, 3), (3, 3)])
def test_features_equal_tfidf_vectorizers(granularity, ngram_range):
    tokens = JiebaSegmenter(granularity=granularity).fit_transform(TEXTS)
    train, test = tokens[:200], tokens[200:] + [[], ["从未见过的词"], ["好"]]
    ours, theirs = NGramTfidfVectorizer(ngram_range), sklearn_tfidf(ngram_range)
    fitted = ours.fit_transform(train), theirs.fit_transform(train)
    assert sorted(ours.get_feature_names_out()) == sorted(theirs.get_feature_names_out())
    np.testing.assert_allclose(in_name_order(ours, fitted[0]),
                               in_name_order(theirs, fitted[1]), atol=1e-12)
    out = ours.transform(test)
    assert out.shape[0] == len(test)
    np.testing.assert_allclose(in_name_order(ours, out),
                               in_name_order(theirs, theirs.transform(test)), atol=1e-12)
    assert out[len(test) - 3].nnz == 0 and out[len(test) - 2].nnz == 0  # empty, unseen


def test_fit_transform_equals_fit_then_transform():
    tokens = JiebaSegmenter().fit_transform(TEXTS[:50])
    vec = NGramTfidfVectorizer()
    np.testing.assert_allclose(vec.fit_transform(tokens).toarray(),
                               vec.transform(tokens).toarray())


@pytest.mark.slow
def test_a_logistic_regression_on_it_predicts_as_on_tfidf_vectorizer():
    tokens, y = JiebaSegmenter().fit_transform(REVIEWS[:3000]), LABELS[:3000]
    ours = make_pipeline(NGramTfidfVectorizer(), LogisticRegression(max_iter=1000))
    theirs = make_pipeline(sklearn_tfidf((1, 3)), LogisticRegression(max_iter=1000))
    ours.fit(tokens[:2000], y[:2000])
    theirs.fit(tokens[:2000], y[:2000])
    np.testing.assert_allclose(ours.predict_proba(tokens[2000:3000]),
                               theirs.predict_proba(tokens[2000:3000]), atol=1e-4)


@pytest.mark.parametrize("value", [(0, 2), (3, 2), (1.0, 2), "13", (1, 2, 3), (True, 2)])
def test_a_bad_ngram_range_is_named(value):
    with pytest.raises(ValueError, match="'ngram_range' parameter of NGramTfidfVectorizer"):
        NGramTfidfVectorizer(ngram_range=value).fit([["a"]])


@pytest.mark.parametrize("X, ngram_range", [([[], []], (1, 3)), ([], (1, 1)), ([["a"]], (2, 3))])
def test_documents_without_any_ngram_are_refused(X, ngram_range):
    with pytest.raises(ValueError, match="holds no .*-gram or longer"):
        NGramTfidfVectorizer(ngram_range).fit(X)


def test_raw_strings_point_to_the_segmenter():
    with pytest.raises(TypeError, match="JiebaSegmenter"):
        NGramTfidfVectorizer().fit(["一段没有分词的文本"])


def test_too_many_tokens_for_the_longest_ngram_is_refused():
    with pytest.raises(ValueError, match="ngram_range=.*overflows the n-gram codes"):
        NGramTfidfVectorizer(ngram_range=(1, 8)).fit([[str(i) for i in range(300)]])


@pytest.mark.slow
def test_saved_and_loaded_it_transforms_alike(tmp_path):
    tokens = JiebaSegmenter(granularity="char").fit_transform(TEXTS)
    vec = NGramTfidfVectorizer((1, 2)).fit(tokens)
    save_model(vec, tmp_path / "v.slm")
    loaded = load_model(tmp_path / "v.slm")
    assert loaded.ngram_range == (1, 2)
    np.testing.assert_array_equal(loaded.transform(tokens).toarray(),
                                  vec.transform(tokens).toarray())
    assert loaded.get_feature_names_out().tolist() == vec.get_feature_names_out().tolist()


def _edit_codes(path, edit):
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        blob = zf.read("arrays.safetensors")
    edit(manifest)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("arrays.safetensors", blob)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m["model"]["params"].update(ngram_range=[1, 1]), "name unknown tokens"),
    (lambda m: m["model"]["params"].update(ngram_range=[0, 2]), "'ngram_range' parameter"),
    (lambda m: m["model"]["state"]["vocabulary_"]["__dict__"].pop(0), "not numbered 0..n-1"),
    (lambda m: m["model"]["state"]["vocabulary_"]["__dict__"].pop(), "name unknown tokens"),
])
def test_a_vocabulary_that_does_not_fit_its_codes_is_refused(tmp_path, edit, message):
    tokens = JiebaSegmenter(granularity="char").fit_transform(TEXTS[:50])
    save_model(NGramTfidfVectorizer((1, 2)).fit(tokens), tmp_path / "v.slm")
    _edit_codes(tmp_path / "v.slm", edit)
    with pytest.raises(UnsafeModelError, match=message):
        load_model(tmp_path / "v.slm")


def test_the_docstring_example_runs():
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module("sk_slm.features.ngrams"))
    assert result.attempted >= 4 and result.failed == 0
