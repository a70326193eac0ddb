"""The standard pipelines that sk_slm's classifier is compared with, built by name."""

from __future__ import annotations

from typing import Any

from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

from .blending import BlendingClassifier
from .features.indexing import TokenIndexer
from .features.ngrams import NGramTfidfVectorizer
from .features.word2vec import Word2VecVectorizer
from .network.classifier import LSTMAttentionClassifier
from .text.segmenter import JiebaSegmenter, passthrough_analyzer

__all__ = ["BASELINES", "make_baseline", "make_lstm_pipeline"]

BASELINES: dict[str, str] = {
    "tree_word_tfidf": "decision tree on word TF-IDF",
    "svm_word_tfidf": "LinearSVC on word TF-IDF",
    "svm_char_tfidf": "LinearSVC on character 1-3-gram TF-IDF",
    "svm_char_tfidf_lm": "LinearSVC on character 1-3-gram TF-IDF and the bundled language "
                         "model's pooled states",
    "svc_rbf_w2v": "RBF SVC on mean Word2Vec vectors",
    "logreg_w2v": "logistic regression on mean Word2Vec vectors",
    "nb_word_counts": "multinomial naive Bayes on word counts",
    "lstm_attention": "BiLSTM-attention on character Word2Vec sequences (sk_slm)",
}


def make_lstm_pipeline(
    *,
    granularity: str = "char",
    corpus: Any = None,
    pretrained: Any = None,
    pretrained_format: str = "word2vec",
    pretrained_limit: int | None = None,
    missing_tokens: str = "add",
    language_model: Any = None,
    random_state: int | None = 0,
    verbose: int = 1,
    **clf_params: Any,
) -> Pipeline:
    """The sk_slm model: segmentation, then a blend of the network and a linear model.

    ::

        Pipeline([
            ("segmenter", JiebaSegmenter(granularity)),
            ("blend", BlendingClassifier([
                ("network", Pipeline([
                    ("embedding", Word2VecVectorizer(output="sequence", ...)),
                    ("classifier", LSTMAttentionClassifier(retry_without_ngrams=True, ...)),
                ])),
                ("linear", Pipeline([
                    ("tfidf", NGramTfidfVectorizer(ngram_range=(1, 3))),
                    ("logreg", LogisticRegression(C=10, class_weight="balanced")),
                ])),
            ], prefer="linear")),
        ])

    The blend's weight is chosen on the part of the documents the network holds out for
    early stopping, leaning to the linear part as far as those rows allow
    (``prefer="linear"``); each part's parameters are reachable for GridSearchCV, e.g.
    ``blend__network__classifier__hidden_size`` or ``blend__linear__logreg__C``.

    Parameters
    ----------
    granularity : {"char", "word"}, default="char"
        The segmenter's tokens (``JiebaSegmenter(granularity=...)``); "word" for word
        vectors in ``pretrained``.
    corpus : iterable of str, iterable of token lists or path, default=None
        Unlabeled text Word2Vec also trains on (``Word2VecVectorizer(corpus=...)``; a
        path is read as UTF-8, one document per line).
    pretrained : path, default=None
        Load these vectors instead of training Word2Vec; they must match
        ``granularity``.
    pretrained_format : {"word2vec", "word2vec_binary", "glove"}, default="word2vec"
    pretrained_limit : int or None, default=None
        Read at most this many vectors of ``pretrained`` (the whole table becomes the
        classifier's embedding layer, so limit large files).
    missing_tokens : {"add", "unknown"}, default="add"
        With ``pretrained``: training tokens the vectors lack get zero vectors of their
        own ("add"), or are all read as the unknown token
        (``Word2VecVectorizer(missing_tokens=...)``).
    language_model : path, "bundled" or None, default=None
        Fine-tune a pre-trained character language model
        (``LSTMAttentionClassifier(language_model=...)``) instead of training Word2Vec:
        the network part then reads the segmenter's characters numbered as the model
        numbers them (``TokenIndexer(vocabulary=language_model)``). Needs
        ``granularity="char"`` and no ``corpus`` or ``pretrained``.
    random_state : int or None, default=0
        Seed of Word2Vec, of the network and of the blend.
    verbose : int, default=1
        Progress lines of Word2Vec and of the network (one per epoch, and for each
        later training pass): ``verbose`` of the
        :class:`~sk_slm.Word2VecVectorizer` and the
        :class:`~sk_slm.LSTMAttentionClassifier`. 0 is silent.
    **clf_params
        Parameters of the :class:`~sk_slm.LSTMAttentionClassifier`.

    Returns
    -------
    Pipeline
        Unfitted.
    """
    # The classifier's own-vocabulary settings do nothing here: refuse them by name.
    unused = {"embedding_dim": "vector_size", "min_count": "min_count", "max_vocab": None}
    if language_model is not None:
        unused.update(hidden_size=None, cell=None, module__cell=None)
    for name in sorted(unused.keys() & clf_params.keys()):
        where = ("the language model sets it" if language_model is not None else
                 "the network reads the Word2Vec vectors"
                 + (f"; set blend__network__embedding__{unused[name]} on the pipeline"
                    if unused[name] else ""))
        raise ValueError(f"make_lstm_pipeline: {name}={clf_params[name]!r} would do nothing: "
                         f"{where}.")
    classifier = LSTMAttentionClassifier(**{
        "retry_without_ngrams": True, "random_state": random_state, "verbose": verbose,
        **clf_params})
    if language_model is not None:
        given = [name for name, value in (("corpus", corpus), ("pretrained", pretrained))
                 if value is not None]
        if granularity != "char" or given:
            raise ValueError(
                f"language_model={language_model!r} is a character model with its own "
                "embedding: use granularity='char' and no corpus or pretrained vectors "
                f"(got granularity={granularity!r}{''.join(f', {g}=...' for g in given)}).")
        classifier.set_params(language_model=language_model)
        network = Pipeline([("indexer", TokenIndexer(vocabulary=language_model)),
                            ("classifier", classifier)])
    else:
        network = Pipeline([
            ("embedding", Word2VecVectorizer(
                output="sequence", corpus=corpus,
                segmenter=None if corpus is None else JiebaSegmenter(granularity=granularity),
                pretrained=pretrained,
                pretrained_format=pretrained_format, pretrained_limit=pretrained_limit,
                missing_tokens=missing_tokens, random_state=random_state, verbose=verbose)),
            ("classifier", classifier),
        ])
    linear = Pipeline([
        # TfidfVectorizer's token 1-3-gram features, 4x faster to compute.
        ("tfidf", NGramTfidfVectorizer(ngram_range=(1, 3))),
        # Balanced weights: macro-F1, the measure the blend is judged by, weighs classes
        # equally.
        ("logreg", LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000)),
    ])
    return Pipeline([
        ("segmenter", JiebaSegmenter(granularity=granularity)),
        # On few held-out rows the least-loss weights are often a chance winner: lean to
        # the linear part as far as one standard error allows (benchmarks/blend_rules.py).
        ("blend", BlendingClassifier([("network", network), ("linear", linear)],
                                     prefer="linear", random_state=random_state)),
    ])


def make_baseline(name: str, *, random_state: int | None = 0) -> Pipeline:
    """Build one of :data:`BASELINES` as a plain scikit-learn Pipeline.

    Parameters
    ----------
    name : str
        A key of :data:`BASELINES`.
    random_state : int or None, default=0
        Seed of every randomised step.

    Returns
    -------
    Pipeline
        Unfitted; inspect or change it like any pipeline.
    """
    if name == "tree_word_tfidf":
        return make_pipeline(
            JiebaSegmenter(), TfidfVectorizer(analyzer=passthrough_analyzer),
            DecisionTreeClassifier(random_state=random_state),
        )
    if name == "svm_word_tfidf":
        return make_pipeline(
            JiebaSegmenter(), TfidfVectorizer(analyzer=passthrough_analyzer, sublinear_tf=True),
            LinearSVC(random_state=random_state),
        )
    if name == "svm_char_tfidf":
        return make_pipeline(
            TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
            LinearSVC(random_state=random_state),
        )
    if name == "svm_char_tfidf_lm":
        from .language_model import LanguageModelFeatures

        return make_pipeline(
            make_union(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                       LanguageModelFeatures()),
            LinearSVC(random_state=random_state),
        )
    if name in ("svc_rbf_w2v", "logreg_w2v"):
        model = (
            SVC(random_state=random_state) if name == "svc_rbf_w2v"
            else LogisticRegression(max_iter=2000, random_state=random_state)
        )
        return make_pipeline(
            JiebaSegmenter(), Word2VecVectorizer(random_state=random_state),
            StandardScaler(), model,
        )
    if name == "nb_word_counts":
        return make_pipeline(
            JiebaSegmenter(), CountVectorizer(analyzer=passthrough_analyzer), MultinomialNB()
        )
    if name == "lstm_attention":
        return make_lstm_pipeline(random_state=random_state)
    raise ValueError(f"unknown model {name!r}; choose from {sorted(BASELINES)}.")
