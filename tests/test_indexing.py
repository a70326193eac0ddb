"""TokenIndexer, and the classifier's own numbering of token lists that it replaces."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from sk_slm import (
    JiebaSegmenter,
    LSTMAttentionClassifier,
    TokenIndexer,
    load_model,
    save_model,
)

DOCS = [["好", "吃"], ["很", "好"], ["好", "贵"], ["吃", "饭"]]


def test_numbers_tokens_by_falling_frequency_and_reads_others_as_unknown():
    indexer = TokenIndexer().fit(DOCS)
    # 好 3 times, 吃 twice, then the others in order of first appearance.
    assert indexer.vocabulary_ == {"好": 0, "吃": 1, "很": 2, "贵": 3, "饭": 4}
    seqs = indexer.transform([["吃", "没见过", "好"], []])
    assert seqs.vectors is None and seqs.vocabulary == ["好", "吃", "很", "贵", "饭"]
    assert seqs[0].tolist() == [1, -1, 0] and seqs[1].tolist() == []
    assert seqs.tokens(0) == ["吃", "<unk>", "好"]
    assert "dim=None" in repr(seqs)


def test_min_count_and_max_vocab():
    assert TokenIndexer(min_count=2).fit(DOCS).vocabulary_ == {"好": 0, "吃": 1}
    assert TokenIndexer(max_vocab=1).fit(DOCS).vocabulary_ == {"好": 0}
    assert TokenIndexer(min_count=10).fit(DOCS).vocabulary_ == {}


def test_bad_input_and_parameters_are_named():
    with pytest.raises(TypeError, match="JiebaSegmenter"):
        TokenIndexer().fit(["好吃", "难吃"])
    with pytest.raises(ValueError, match=r"X\[1\] holds 3"):
        TokenIndexer().fit([["好"], ["吃", 3]])
    with pytest.raises(ValueError, match="'min_count' parameter of TokenIndexer"):
        TokenIndexer(min_count=0).fit(DOCS)
    with pytest.raises(ValueError, match="'max_vocab' parameter"):
        TokenIndexer(max_vocab=1.5).fit(DOCS)
    with pytest.raises(ValueError, match="no documents"):
        TokenIndexer().fit([])
    with pytest.raises(NotFittedError):
        TokenIndexer().transform(DOCS)


@pytest.mark.slow
def test_characters_for_a_language_model_get_its_numbering_as_before(tiny_language_model,
                                                                     toy_sentiment):
    X, y = toy_sentiment
    chars = JiebaSegmenter(granularity="char").fit_transform(X)
    params = dict(language_model=tiny_language_model, max_epochs=3, ngram_warmup=1,
                  random_state=0, verbose=0)
    with pytest.warns(FutureWarning) as record:
        old = LSTMAttentionClassifier(**params).fit(chars, y)
    messages = [str(w.message) for w in record if issubclass(w.category, FutureWarning)]
    assert len(messages) == 1 and "TokenIndexer(vocabulary=" in messages[0]
    new = make_pipeline(TokenIndexer(vocabulary=tiny_language_model),
                        LSTMAttentionClassifier(**params))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        new.fit(chars, y)
    unseen = chars[:20] + [list("𠀀没见过"), []]
    np.testing.assert_array_equal(old.predict_proba(unseen), new.predict_proba(unseen))
    assert new[-1].vocabulary_ is None and old.vocabulary_ is not None


@pytest.fixture(scope="module")
def reviews(toy_sentiment):
    X, y = toy_sentiment
    return JiebaSegmenter().fit_transform(X), np.asarray(y)


SMALL = dict(hidden_size=8, module__attention_size=4, max_epochs=6, ngram_warmup=2,
             random_state=0, verbose=0)


@pytest.mark.slow
def test_token_lists_still_work_warn_once_and_give_the_indexers_model(reviews, tmp_path):
    X, y = reviews
    with pytest.warns(FutureWarning) as record:  # early stopping, then the refit
        old = LSTMAttentionClassifier(embedding_dim=8, min_count=2, **SMALL).fit(X, y)
    messages = [str(w.message) for w in record if issubclass(w.category, FutureWarning)]
    assert len(messages) == 3  # once each, not again for the refit
    assert "set module__embedding_dim=8" in messages[0]
    assert "sk_slm.TokenIndexer(min_count=...)" in messages[1]
    assert "got token lists" in messages[2] and "TokenIndexer()" in messages[2]
    assert [name for name, _ in old.train_passes_] == ["early_stopping", "refit"]
    new = make_pipeline(TokenIndexer(min_count=2), LSTMAttentionClassifier(
        module__embedding_dim=8, **SMALL))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        new.fit(X, y)
    unseen = X[:20] + [["从未", "见过"], []]
    np.testing.assert_array_equal(old.predict_proba(unseen), new.predict_proba(unseen))
    assert old.n_vocab_ == new[-1].n_vocab_ == len(new[0].vocabulary_) + 2
    # Fitted so (or saved so by an earlier release), it saves, loads and predicts the same.
    save_model(old, tmp_path / "old.slm")
    np.testing.assert_array_equal(load_model(tmp_path / "old.slm").predict_proba(unseen),
                                  old.predict_proba(unseen))
