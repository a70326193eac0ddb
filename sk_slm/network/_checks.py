"""LSTMAttentionClassifier's parameter checks: each against the others and the input."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from skorch.dataset import Dataset

from .._validation import is_deprecated, validate_params, warn_ineffective
from ..features.sequences import TokenSequences

__all__ = ["MOVED_TO_INDEXER", "MOVED_TO_MODULE", "check_params", "deprecated_settings",
           "draws_embedding", "ineffective", "warn_network_never_improved"]

# AttentionRNN's arguments that the classifier sets: from parameters of its own, and from
# the data.
_MODULE_SETTINGS = {"hidden_size", "dropout"}
_FROM_DATA = {"vocab_size", "n_classes", "embeddings", "ngram_features"}
# Settings of the default module that were parameters of the classifier, with nothing
# measured behind them: set as module__<name>; the parameters are deprecated.
MOVED_TO_MODULE = ("num_layers", "bidirectional", "cell", "attention_size",
                   "freeze_embeddings", "embedding_dim")
# The classifier's own vocabulary of token lists: TokenIndexer's parameters now.
MOVED_TO_INDEXER = ("min_count", "max_vocab")


def draws_embedding(clf: Any, X: Any) -> bool:
    """Whether ``clf`` draws its embedding table at random on ``X`` (no vectors, no
    language model), so that its width (``module__embedding_dim``) is a setting."""
    return clf.language_model is None and (
        not isinstance(X, TokenSequences) or X.vectors is None)


def deprecated_settings(clf: Any) -> list[str]:
    """The deprecated parameters of ``MOVED_TO_MODULE`` that ``clf`` sets."""
    return [name for name in MOVED_TO_MODULE if not is_deprecated(getattr(clf, name))]


def check_params(clf: Any, X: Any) -> None:
    """Validate an LSTMAttentionClassifier's parameters against each other and the kind
    of ``X``; warn of deprecated ones and of those that other settings make do nothing.
    Called by its ``_fit``, once per fit."""
    validate_params(clf, clf._constraints)
    # Parameters of skorch's classifier that this one does not use: refused, not ignored.
    if clf.classes is not None:
        raise ValueError(
            f"classes={clf.classes!r} is not used: the classes are those of y in fit.")
    # The module's settings that are the classifier's own parameters: one way to set each.
    routed = set(clf.get_params_for("module")) if clf._own_module() else set()
    if routed & _MODULE_SETTINGS:
        name = sorted(routed & _MODULE_SETTINGS)[0]
        raise ValueError(f"module__{name} sets what the classifier's {name} parameter sets; "
                         f"give {name}= only.")
    if routed & _FROM_DATA:
        name = sorted(routed & _FROM_DATA)[0]
        raise ValueError(f"module__{name} is set from the data (the vocabulary, the classes, "
                         "the vectors, the n-grams); leave it out.")
    if "embedding_dim" in routed and not draws_embedding(clf, X):
        raise ValueError(
            "module__embedding_dim is set from the data here (the width of the vectors or "
            "of the language model); leave it out.")
    for name in deprecated_settings(clf):
        if name in clf.get_params_for("module"):
            raise ValueError(f"{name}= and module__{name}= both set it; give module__{name}= "
                             "only.")
    for prefix in ("iterator_train", "iterator_valid"):
        if "shuffle" in clf.get_params_for(prefix):
            raise ValueError(
                f"{prefix}__shuffle is not used: the classifier batches documents of "
                "similar length, shuffled for training (seeded by random_state) and in "
                "length order for prediction.")
    if clf.dataset is not Dataset:
        raise ValueError(
            f"dataset={clf.dataset!r} is not used: the classifier builds its own dataset "
            "of token ids (pass token lists or a TokenSequences).")
    if str(clf.device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={clf.device!r}, but torch finds no CUDA device here "
            f"(torch {torch.__version__}, torch.cuda.is_available() is False): use "
            "device='cpu', or a CUDA build of torch on a machine with a GPU.")
    layers = clf._module_setting("num_layers")
    both_ways = clf._module_setting("bidirectional")
    if clf.pretrain_epochs and both_ways and layers > 1:
        raise ValueError(
            f"pretrain_epochs={clf.pretrain_epochs} needs module__num_layers=1 when "
            "module__bidirectional=True: a second layer reads both directions of the "
            "first, so the language model would see the token it predicts.")
    if clf.language_model is not None:
        if isinstance(X, TokenSequences) and X.vectors is not None:
            raise ValueError(
                "language_model brings its own vocabulary and embedding: pass the "
                "characters numbered by TokenIndexer(vocabulary=<the same model>), not a "
                "TokenSequences from Word2VecVectorizer (make_lstm_pipeline(language_model="
                "...) builds no Word2Vec step).")
        if (layers != 1 or not both_ways or not clf._own_module()
                or "cell" in clf.get_params_for("module")):
            raise ValueError(
                f"language_model={clf.language_model!r} is a one-layer bidirectional "
                "encoder of the default module (AttentionRNN), of its own cell: use "
                "module__num_layers=1, module__bidirectional=True, no module__cell and "
                "the default module.")
    if clf.pretrain_epochs and not clf._own_module():
        raise ValueError(
            "pretrain_epochs trains the embedding and RNN of the default module "
            f"(AttentionRNN); module={clf.module!r} has none it knows of.")
    _warn(clf, X)


def _warn(clf: Any, X: Any) -> None:
    """Warn of deprecated parameters and of those that other settings make do nothing."""
    for name in deprecated_settings(clf):
        warnings.warn(
            f"{name}={getattr(clf, name)!r}: the {name} parameter is deprecated and goes in "
            f"the next release; set module__{name}={getattr(clf, name)!r} (a setting of "
            "the default module) instead.", FutureWarning, stacklevel=5)
    for name in MOVED_TO_INDEXER:
        if not is_deprecated(getattr(clf, name)):
            warnings.warn(
                f"{name}={getattr(clf, name)!r}: the {name} parameter is deprecated and goes "
                f"in the next release; give it to sk_slm.TokenIndexer({name}=...) before "
                "the classifier instead.", FutureWarning, stacklevel=5)
    if not isinstance(X, TokenSequences):
        if clf.language_model is None:
            indexer = "TokenIndexer()"
            steps = f"JiebaSegmenter(), {indexer}, LSTMAttentionClassifier()"
        else:
            model = str(clf.language_model)
            indexer = f"TokenIndexer(vocabulary={model!r})"
            steps = (f"JiebaSegmenter(granularity='char'), {indexer}, "
                     f"LSTMAttentionClassifier(language_model={model!r})")
        warnings.warn(
            "LSTMAttentionClassifier got token lists: numbering them itself is deprecated "
            f"and goes in the next release. Put sk_slm.{indexer} before it, e.g. "
            f"make_pipeline({steps}), which gives the same model.",
            FutureWarning, stacklevel=5)
    for names, because in ineffective(clf, X):
        warn_ineffective(clf, names, because)
    if clf._has_ngram_part() and clf._uses_validation() and (
            clf.max_epochs <= clf.ngram_warmup):
        warnings.warn(
            f"max_epochs={clf.max_epochs} is not above ngram_warmup="
            f"{clf.ngram_warmup}: only the n-gram part trains, the recurrent network "
            "never does. Raise max_epochs, or lower ngram_warmup.",
            UserWarning, stacklevel=5)


def warn_network_never_improved(best_epoch: int, warmup: int) -> None:
    """Early stopping kept an epoch of the n-gram warm-up, and the classifier does not
    train again without that part: say that the fitted model is a linear one."""
    warnings.warn(
        f"Early stopping chose epoch {best_epoch}, inside the {warmup}-epoch warm-up of "
        "the n-gram part: on this data the recurrent network never improved on its n-gram "
        "part, so the fitted model is a linear model on n-gram TF-IDF. A linear baseline "
        "(sk_slm.make_baseline('svm_char_tfidf')) may do as well at a fraction of the "
        "cost; sk_slm.compare() measures both.", UserWarning, stacklevel=4)


def ineffective(clf: Any, X: Any) -> list[tuple[list[str], str]]:
    """Parameters that other settings (or the kind of ``X``) make do nothing."""
    rules = []
    if not clf.bag_ngrams:
        rules.append((["ngram_lr", "ngram_warmup", "retry_without_ngrams"],
                      "bag_ngrams=0 (no n-gram part)"))
    if not clf._uses_validation():
        rules.append((["refit", "patience", "validation_fraction", "retry_without_ngrams"],
                      "early_stopping=False or train_split given (no held-out part)"))
    if clf.language_model is not None:
        rules.append((["embedding_dim", "min_count", "max_vocab", "hidden_size", "cell"],
                      "language_model is set (its encoder sets the vocabulary and sizes)"))
    elif isinstance(X, TokenSequences) and X.vectors is not None:
        rules.append((["embedding_dim", "min_count", "max_vocab"],
                      "X is a TokenSequences with vectors (they set the vocabulary and width)"))
    elif isinstance(X, TokenSequences):
        rules.append((["min_count", "max_vocab"],
                      "X is a TokenSequences (its TokenIndexer set the vocabulary)"))
    return rules
