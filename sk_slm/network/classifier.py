"""LSTMAttentionClassifier: a skorch-wrapped BiLSTM with attention as a scikit-learn classifier."""

from __future__ import annotations

import contextlib
import copy
import inspect
import os
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from skorch import NeuralNetClassifier
from skorch.callbacks import (
    EarlyStopping,
    EpochTimer,
    GradientNormClipping,
    PassthroughScoring,
    ProgressBar,
)
from skorch.utils import noop
from torch import nn
from torch.utils.data import Dataset, Subset

from .._threads import threads_for_free_cores
from .._validation import Interval, Options, check_labels, is_deprecated
from ..features._ngram_tfidf import NGramTfidf
from ..features.indexing import TokenIndexer
from ..features.sequences import TokenSequences, check_token_lists
from ._attention import attention_weights
from ._batches import (
    _bucket_iterator,
    _SequenceDataset,
    held_out_split,
    in_input_order,
    sequence_dataset,
)
from ._checks import MOVED_TO_INDEXER, MOVED_TO_MODULE, check_params, warn_network_never_improved
from ._inputs import encode, fitted_inputs, start_from
from ._passes import TrainingPass
from ._seeding import seeded_torch
from ._warmup import (
    EarlyStoppingAfterWarmup,
    ngram_learning_rate,
    param_groups,
    warmup_callbacks,
)
from .module import AttentionRNN
from .pretraining import LanguageModelPretraining
from .progress import EpochProgress

__all__ = ["LSTMAttentionClassifier"]

# What training changes in a fitted classifier (copied together, so that the optimizer
# keeps pointing at the module's parameters).
_TRAINED_STATE = ("module_", "criterion_", "optimizer_", "history_")


def _stage(net: LSTMAttentionClassifier, epoch: int) -> str:
    """What an epoch of ``net`` trains, for its progress line."""
    if epoch <= net._warmup_epochs():
        return "n-gram warm-up"
    return "early stopping" if net._uses_validation() else "training"


class LSTMAttentionClassifier(NeuralNetClassifier):
    """A BiLSTM (or GRU) with attention pooling over token sequences, as a classifier.

    A skorch :class:`~skorch.NeuralNetClassifier`, so it is a scikit-learn classifier
    (``fit``, ``predict``, ``predict_proba``, ``score``, GridSearchCV, pickling) and
    skorch's routing works: ``optimizer__weight_decay``, ``criterion__weight``,
    ``callbacks``, ``iterator_train__num_workers``, ``module__*``.

    It reads :class:`~sk_slm.TokenSequences`: from
    ``Word2VecVectorizer(output="sequence")``, its embedding layer starts from those
    vectors (fine-tuned unless ``module__freeze_embeddings``); from
    :class:`~sk_slm.TokenIndexer`, which brings no vectors, from random weights
    (``module__embedding_dim`` wide); with ``language_model``, from that model's, the
    characters numbered by ``TokenIndexer(vocabulary=<the same model>)``. (Token lists are
    still numbered by the classifier itself, as a TokenIndexer would: deprecated, with
    ``min_count`` and ``max_vocab``.)

    The network (:class:`~sk_slm.AttentionRNN`) embeds the tokens, reads them with the
    RNN in both directions, pools the states with additive attention and maps the result
    to class logits. With ``bag_ngrams`` it has a "wide" part besides (Cheng et al. 2016):
    a linear model on the TF-IDF of the document's token n-grams, whose logits are added
    to the network's.

    Parameters
    ----------
    hidden_size : int, default=128
        RNN units per direction.
    num_layers, bidirectional, cell, attention_size, freeze_embeddings, embedding_dim : deprecated
        Settings of the default module with no measurement behind them: set them as
        ``module__num_layers`` (default 1), ``module__bidirectional`` (True),
        ``module__cell`` ("lstm" or "gru"), ``module__attention_size`` (64, the width of
        the attention scorer), ``module__freeze_embeddings`` (False),
        ``module__embedding_dim`` (128; the width of an embedding drawn at random, for
        a TokenIndexer's sequences: vectors and language models set their own). As
        parameters of their own they warn (FutureWarning) and go in the next release.
    min_count, max_vocab : deprecated
        The classifier's own vocabulary of token lists: parameters of
        :class:`~sk_slm.TokenIndexer` now. They warn (FutureWarning) and go in the next
        release.
    dropout : float, default=0.3
        Dropout on embeddings, between layers and before the output layer.
    max_len : int or None, default=256
        Longest token sequence the RNN reads at once; longer documents are cut, or read
        in windows (``truncation``). The n-gram part always reads the whole document.
    truncation : {"head", "tail", "head_tail", "windows"}, default="head"
        How the RNN reads a document longer than ``max_len``: its first ``max_len``
        tokens, its last, half of each, or all of it in windows of ``max_len`` tokens
        (overlapping by a quarter; :func:`~sk_slm.features.sequences.window_starts`), each read
        by the RNN on its own, with one attention over the tokens of all windows. The
        cost of "windows" grows with the documents' length; the others' does not.
    bag_ngrams : int, default=3
        Longest token n-gram of the wide part: a linear model on the sublinear TF-IDF of
        the document's 1..``bag_ngrams``-grams (the exact n-grams of the training
        documents), trained with the network. 0: no wide part.
    ngram_lr : "auto" or float, default="auto"
        Learning rate of the wide part. Under Adam each n-gram weight a document holds
        moves by about the learning rate per step, so documents with many (rare) n-grams
        are fitted, and memorised, in fewer steps: "auto" is 2.5 over the mean number of
        distinct n-grams per training document (``ngram_lr_``; 0.047 on news titles,
        0.013 on longer reviews).
    ngram_warmup : int, default=5
        Epochs during which only the wide part trains (the network is frozen, then what
        was frozen for the warm-up is released; parameters your own skorch ``Freezer``
        froze stay frozen), so that it converges before the network joins; early stopping
        cannot end training during the warm-up. 0 trains both from the start.
    retry_without_ngrams : bool, default=False
        When early stopping keeps an epoch of the warm-up (the network never improved on
        the wide part), train the classifier again without the wide part, from the same
        seed and held-out part, and keep that one (``retried_without_ngrams_``). The
        network alone is then a weaker model but a different one: worth it when it is
        blended with a linear model on the same n-grams
        (:func:`~sk_slm.make_lstm_pipeline` does so).
    pretrain_epochs : int, default=0
        Before training, train the embedding and RNN this many epochs as a language model
        on the documents (:class:`~sk_slm.LanguageModelPretraining`, the callback
        ``"pretraining"``). Needs ``module__num_layers=1`` when the RNN is
        bidirectional.
    language_model : path, "bundled" or None, default=None
        Start from a pre-trained character language model
        (:func:`~sk_slm.pretrain_language_model`; "bundled" is the one shipped in the
        package): its embedding table and biRNN replace the random initial weights,
        and are fine-tuned on the labels. It sets the embedding width, ``hidden_size``
        and the cell (``encoder_`` records them); it needs characters
        (``JiebaSegmenter(granularity="char")``) numbered as the model numbers them
        (``TokenIndexer(vocabulary=<the same model>)``), one bidirectional layer and no
        ``module__cell``. The fitted classifier holds its own copy of the weights: saving
        and loading it does not need the model folder.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data (stratified) and stop when
        its loss has not improved for ``patience`` epochs, restoring the best epoch's
        weights. Ignored when ``train_split`` is given.
    refit : bool, default=True
        With early stopping: then train again from the same seed (and the same
        pre-trained weights) on all the training data for the number of epochs early
        stopping chose, as ``GridSearchCV(refit=True)`` refits the best candidate: the
        ``"refit"`` pass. ``history`` then describes the refit.
    patience : int, default=3
        Epochs without improvement before early stopping ends training.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the held-out split. The
        caller's global torch and numpy random states are left untouched.
    lr : float, default=2e-3
        Learning rate of the network.
    batch_size : int, default=64
        Documents per batch (batches group documents of similar length).
    max_epochs : int, default=20
        Upper bound on epochs; early stopping usually ends training sooner.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Its settings are routed as ``optimizer__weight_decay`` etc. An optimizer that
        takes ``foreach`` gets ``foreach=True`` unless set (torch's multi-tensor
        update: the same numbers as its per-parameter loop, without that loop's Python
        overhead).
    device : str, default="cpu"
        A torch device, e.g. "cuda".
    verbose : int, default=1
        1 prints one line per epoch (its stage, the losses, the time spent and left; no
        colour codes: :class:`~sk_slm.EpochProgress`) and a line for each later
        training pass (refit, retry); 2 also shows skorch's per-batch progress bar; 0 is
        silent.
    callbacks : list, default=None
        More skorch callbacks (e.g. ``LRScheduler``), added to the defaults.
    **kwargs
        Any other skorch parameter (``module``, ``criterion``, ``train_split``,
        ``iterator_train__*``, ``optimizer__*``, ``criterion__weight``, ...).

    Attributes
    ----------
    classes_ : ndarray
        The class labels.
    vocabulary_ : dict of str to int or None
        The vocabulary of token lists (token -> embedding row): the language model's, or
        the classifier's own (deprecated); None for TokenSequences input.
    n_vocab_ : int
        Rows of the embedding table, PAD and UNK included.
    embedding_dim_ : int
        Width of the embedding table (the vectors' width when they bring one).
    encoder_ : dict or None
        With ``language_model``: the pre-trained encoder's sizes and origin
        (``hidden_size``, ``cell``, ``embedding_dim``, ``path``, ``step``).
    ngrams_ : NGramTfidf or None
        The wide part's n-gram vocabulary and fitted TF-IDF (None without a wide part).
    ngram_lr_ : float or None
        The wide part's learning rate (``ngram_lr``, resolved when "auto").
    module_ : AttentionRNN
        The trained torch module.
    history_ : skorch History
        Per-epoch losses and timings (of the refit, when ``refit`` ran).
    best_epoch_ : int
        The epoch early stopping chose (the number of epochs trained without it). When it
        falls inside the warm-up, the network never improved on the wide part, and
        ``fit`` warns.
    train_passes_ : list of (str, int)
        Each training pass of the last ``fit`` and its epochs, in order: ``"pretrain"``,
        ``"early_stopping"`` (or ``"train"`` without a held-out part), ``"retry"`` (after
        its own ``"pretrain"``) and ``"refit"``. Their sum is what the fit cost in epochs.
    pretrain_loss_ : list of float or None
        With ``pretrain_epochs``: the language model's mean loss in each epoch (of the
        last pre-training, the one the model kept started from).
    retried_without_ngrams_ : bool
        Whether ``retry_without_ngrams`` replaced the model by one without the wide part.
    validation_index_ : ndarray of int or None
        With early stopping: the rows of ``X`` held out to choose the epoch.
    validation_proba_ : ndarray of shape (n_validation, n_classes) or None
        With early stopping: the probabilities for those rows at the epoch early stopping
        kept, before ``refit``, so that :class:`~sk_slm.BlendingClassifier` can choose
        its weights on them without training the network twice.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sk_slm import JiebaSegmenter, LSTMAttentionClassifier, TokenIndexer
    >>> X = ["很好吃", "太难吃了", "好吃推荐", "难吃失望"] * 10
    >>> y = ["pos", "neg", "pos", "neg"] * 10
    >>> clf = make_pipeline(JiebaSegmenter(), TokenIndexer(), LSTMAttentionClassifier(
    ...     hidden_size=16, module__embedding_dim=16, max_epochs=15, random_state=0))
    >>> clf.fit(X, y).predict(["好吃"])
    array(['pos'], dtype='<U3')
    """

    _pass: TrainingPass | None = None  # the pass fit is running, if any

    _constraints: dict = {
        "hidden_size": [Interval(Integral, 1, None)],
        "num_layers": [Interval(Integral, 1, None), Options("deprecated")],
        "bidirectional": ["boolean", Options("deprecated")],
        "cell": [Options("lstm", "gru", "deprecated")],
        "attention_size": [Interval(Integral, 1, None), Options("deprecated")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None), Options("deprecated")],
        "freeze_embeddings": ["boolean", Options("deprecated")],
        "min_count": [Interval(Integral, 1, None), Options("deprecated")],
        "max_vocab": [Interval(Integral, 1, None), None, Options("deprecated")],
        "max_len": [Interval(Integral, 1, None), None],
        "truncation": [Options("head", "tail", "head_tail", "windows")],
        "bag_ngrams": [Interval(Integral, 0, None)],
        "ngram_lr": [Options("auto"), Interval(Real, 0, None, closed="neither")],
        "ngram_warmup": [Interval(Integral, 0, None)],
        "retry_without_ngrams": ["boolean"],
        "pretrain_epochs": [Interval(Integral, 0, None)],
        "language_model": [str, os.PathLike, None],
        "early_stopping": ["boolean"],
        "refit": ["boolean"],
        "patience": [Interval(Integral, 1, None)],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "lr": [Interval(Real, 0, None)],
        "batch_size": [Interval(Integral, 1, None), Options(-1)],
        "max_epochs": [Interval(Integral, 0, None)],
    }

    def __init__(
        self,
        hidden_size: int = 128,
        num_layers: int | str = "deprecated",
        bidirectional: bool | str = "deprecated",
        cell: str = "deprecated",
        attention_size: int | str = "deprecated",
        dropout: float = 0.3,
        embedding_dim: int | str = "deprecated",
        freeze_embeddings: bool | str = "deprecated",
        min_count: int | str = "deprecated",
        max_vocab: int | None | str = "deprecated",
        max_len: int | None = 256,
        truncation: str = "head",
        bag_ngrams: int = 3,
        ngram_lr: float | str = "auto",
        ngram_warmup: int = 5,
        retry_without_ngrams: bool = False,
        pretrain_epochs: int = 0,
        language_model: Any = None,
        early_stopping: bool = True,
        refit: bool = True,
        patience: int = 3,
        validation_fraction: float = 0.1,
        random_state: Any = None,
        lr: float = 2e-3,
        batch_size: int = 64,
        max_epochs: int = 20,
        optimizer: Any = torch.optim.Adam,
        device: str = "cpu",
        verbose: int = 1,
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
        self.ngram_lr = ngram_lr
        self.ngram_warmup = ngram_warmup
        self.retry_without_ngrams = retry_without_ngrams
        self.pretrain_epochs = pretrain_epochs
        self.language_model = language_model
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
        if self.pretrain_epochs and getattr(self._pass, "name", None) != "refit":
            callbacks.append(("pretraining", LanguageModelPretraining(self.pretrain_epochs)))
        warmup = self._warmup_epochs()
        if warmup:  # the n-gram part trains alone first, then the network joins in
            callbacks += warmup_callbacks(warmup)
        if self.verbose and self.verbose > 1:
            callbacks.append(("progress_bar", ProgressBar()))
        if self.verbose:  # before early stopping, which ends the last epoch by raising
            callbacks.append(("progress", EpochProgress(
                _stage, early_stopping=self._uses_validation())))
        if self._uses_validation():
            callbacks.append(
                # Silent: fit says what early stopping kept, where the progress goes
                # (a sink bound to the classifier would make it refer to itself).
                ("early_stopping", EarlyStoppingAfterWarmup(
                    warmup=warmup, patience=self.patience, load_best=True, sink=noop))
            )
        return callbacks

    def get_params(self, deep=True):
        # skorch lists its own bookkeeping (_params_to_validate) among the parameters.
        return {k: v for k, v in super().get_params(deep=deep).items() if not k.startswith("_")}

    def _module_setting(self, name: str) -> Any:
        """A setting of the default module that was a parameter of the classifier (see
        ``MOVED_TO_MODULE``): ``module__<name>``, else the deprecated parameter, else the
        module's default."""
        routed = self.get_params_for("module")
        if name in routed:
            return routed[name]
        value = getattr(self, name)
        if is_deprecated(value):
            return inspect.signature(AttentionRNN).parameters[name].default
        return value

    def _own_module(self) -> bool:
        """Whether the module is an AttentionRNN (class, or an instance to train on)."""
        return isinstance(self.module, AttentionRNN) or (
            isinstance(self.module, type) and issubclass(self.module, AttentionRNN))

    def _builds_own_module(self) -> bool:
        """Whether the classifier builds the module itself, from the AttentionRNN class
        (not an instance): then it sets the module's sizes and starting weights."""
        return isinstance(self.module, type) and issubclass(self.module, AttentionRNN)

    def _has_ngram_part(self) -> bool:
        return bool(self._own_module() and self.bag_ngrams)

    def _warmup_epochs(self) -> int:
        # Once fit has decided on the n-gram part (the retry trains without), its choice.
        part = self.ngrams_ is not None if hasattr(self, "ngrams_") else self._has_ngram_part()
        return self.ngram_warmup if part else 0

    def _uses_validation(self) -> bool:
        if self._pass is not None:
            return self._pass.held_out
        return bool(self.early_stopping) and self.train_split is None

    def _log(self, msg: str) -> None:
        """Print a progress message where the epochs' lines go (the ``progress``
        callback's ``sink``, ``print`` by default), unless ``verbose=0``."""
        if self.verbose:
            progress = dict(getattr(self, "callbacks_", ())).get("progress")
            (print if progress is None else progress.sink)(msg)

    def get_split_datasets(self, X, y=None, **fit_params):
        if not self._uses_validation():
            return super().get_split_datasets(X, y, **fit_params)
        return held_out_split(self.get_dataset(X, y), y, self.validation_fraction,
                              self._split_seed_, **fit_params)

    def get_iterator(self, dataset, training=False):
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        batch_size = kwargs.pop("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(dataset)
        kwargs.pop("shuffle", None)  # refused in fit; the length buckets decide the order
        iterator = self.iterator_train if training else self.iterator_valid
        return _bucket_iterator(iterator, dataset, batch_size, training, kwargs)

    def evaluation_step(self, batch, training=False):
        if training:
            return super().evaluation_step(batch, training=True)
        self.module_.eval()  # the module and criterion out of training mode, as skorch does
        self.criterion_.eval()
        with torch.inference_mode():
            return self.infer(batch[0])

    def forward_iter(self, X, training=False, device="cpu"):
        dataset = self.get_dataset(X)
        outputs = [self.evaluation_step(batch, training=training).to(device)
                   for batch in self.get_iterator(dataset, training=False)]
        if outputs:  # the batches came in length order
            yield in_input_order(torch.cat(outputs), dataset)

    def initialize_module(self):
        start = None if self._pass is None else self._pass.start  # the refit's
        if start is not None or isinstance(self.module, nn.Module):
            # An instance is trained as given, its settings its own; skorch would
            # rebuild it from the routed module__ settings.
            self.module_ = self.module if start is None else start
            return self
        params = {} if not self._builds_own_module() else {  # another class: what is routed
            **{name: self._module_setting(name) for name in MOVED_TO_MODULE},
            "vocab_size": self.n_vocab_,
            "n_classes": len(self.classes_),
            "embedding_dim": self.embedding_dim_,
            "hidden_size": self.hidden_size,
            **{k: v for k, v in (getattr(self, "encoder_", None) or {}).items()
               if k in ("hidden_size", "cell")},
            "dropout": self.dropout,
            "ngram_features": 0 if self.ngrams_ is None else len(self.ngrams_.vocabulary_) + 1,
        }
        params.update(self.get_params_for("module"))
        self.module_ = self.initialized_instance(self.module, params)
        return self

    def get_params_for_optimizer(self, prefix, named_parameters):
        named_parameters = list(named_parameters)
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        if prefix != "optimizer":
            return args, kwargs
        groups = param_groups(named_parameters, self.ngram_lr_)
        if groups and "param_groups" not in self.get_params_for("optimizer"):
            args = (groups,)
        if ("foreach" not in kwargs and not kwargs.get("fused")
                and "foreach" in inspect.signature(self.optimizer).parameters):
            # torch's multi-tensor update: the same numbers as its per-parameter loop
            # (tested), which it uses by default on the CPU, without that loop's Python.
            kwargs["foreach"] = True
        return args, kwargs

    def check_data(self, X, y):
        pass  # done in fit, on the raw token lists, with clearer messages

    def get_dataset(self, X, y=None, validated: bool = False):
        if isinstance(X, Dataset):
            return X
        ids, offsets = self._encode(X, validated=validated)
        return self._dataset(ids, offsets, y)

    def _dataset(self, ids, offsets, y=None, fit: bool = False) -> _SequenceDataset:
        return sequence_dataset(ids, offsets, y, max_len=self.max_len,
                                truncation=self.truncation, ngrams=self.ngrams_, fit=fit)

    # ------------------------------------------------------------------ encoding
    def _build_vocabulary(self, X):
        """Fix the vocabulary of ``X``'s input mode; return its :class:`Inputs` (the
        starting weights go into the module, not onto the classifier)."""
        own = {name: (inspect.signature(TokenIndexer).parameters[name].default
                      if is_deprecated(getattr(self, name)) else getattr(self, name))
               for name in MOVED_TO_INDEXER}  # the deprecated own vocabulary's
        inputs = fitted_inputs(X, self.language_model, own["min_count"], own["max_vocab"],
                               self._module_setting("embedding_dim"))
        self.vocabulary_ = inputs.vocabulary
        self.sequence_vocabulary_ = inputs.sequence_vocabulary
        self.n_vocab_, self.embedding_dim_ = inputs.n_vocab, inputs.embedding_dim
        self.encoder_ = inputs.encoder
        return inputs

    def _encode(self, X, validated: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Documents -> (flat ids in this model's id space, offsets)."""
        return encode(X, self.vocabulary_, self.sequence_vocabulary_, validated)

    def _check_fitted(self) -> None:
        if not hasattr(self, "label_encoder_") or not self.initialized_:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call fit first."
            )

    # ------------------------------------------------------------------ fit
    @property
    def classes_(self) -> np.ndarray:
        try:
            return self.label_encoder_.classes_
        except AttributeError:
            raise AttributeError("classes_ exists only after fit") from None

    @contextlib.contextmanager
    def _seeded(self, new_split: bool = True):
        """The seeded region of a training pass
        (:func:`~sk_slm.network._seeding.seeded_torch`): torch seeded from random_state,
        the caller's RNG untouched, one pass at a time per process, so that fits in
        threads equal sequential ones; on at most as many torch threads as there are free
        cores (:mod:`sk_slm._threads`). ``new_split=False`` keeps the held-out split."""
        with seeded_torch(self.random_state, self.device) as seed, \
                threads_for_free_cores(self.device):
            if new_split:  # one seed for the split, which fit and skorch's hook ask for
                self._split_seed_ = (seed if seed is not None else
                                     int(check_random_state(None).randint(np.iinfo(np.int32).max)))
            yield

    def fit(self, X, y, **fit_params) -> LSTMAttentionClassifier:
        """Build the vocabulary and embedding table, then train.

        Interrupted (``KeyboardInterrupt``, Ctrl-C in a notebook), ``fit`` re-raises it
        and leaves the classifier unfitted, never half-trained. (skorch ends training on
        a ``KeyboardInterrupt`` as if it had finished; here only an ``EarlyStopping``
        callback may end it early so.)

        With early stopping, the classifier trains on all but ``validation_fraction`` of
        the documents until the held-out part's loss stops improving, then (``refit``)
        trains again from the same seed on all of them for that many epochs.

        Parameters
        ----------
        X : TokenSequences
            Token lists still work, deprecated.
        y : array-like of shape (n_documents,)
            Class labels of any type (strings, non-contiguous ints...).
        **fit_params
            Passed on to skorch (e.g. ``epochs``). Every document weighs the same: there
            is no ``sample_weight``.

        Returns
        -------
        self : LSTMAttentionClassifier
        """
        if "sample_weight" in fit_params:
            raise TypeError(
                "LSTMAttentionClassifier.fit takes no sample_weight: every document weighs "
                "the same. In a blend, weight another part by name "
                "(e.g. blend__linear__logreg__sample_weight=...).")
        try:
            return self._fit(X, y, **fit_params)
        except KeyboardInterrupt:
            self._forget_fit()
            raise

    def _forget_fit(self) -> None:
        """Back to unfitted: no fitted attribute left, skorch's own as ``__init__`` sets
        them."""
        unfitted = vars(type(self)(**self.get_params(deep=False)))
        for name in [n for n in vars(self) if n.endswith("_") and not n.endswith("__")]:
            delattr(self, name)
        vars(self).update({n: v for n, v in unfitted.items() if n.endswith("_")})

    def _train(self, dataset: Dataset, y: np.ndarray, **fit_params) -> None:
        """skorch's partial_fit, except that a KeyboardInterrupt that did not come from
        early stopping (skorch takes any as the end of training) is raised again."""
        epochs = len(self.history)
        super().partial_fit(dataset, y, **fit_params)
        stopped_early = any(isinstance(cb, EarlyStopping) and cb.misses_ >= cb.patience
                            for _, cb in self.callbacks_)
        planned = fit_params.get("epochs") or self.max_epochs  # skorch's fit_loop(epochs=)
        if len(self.history) - epochs < planned and not stopped_early:
            raise KeyboardInterrupt

    def _fit(self, X, y, **fit_params) -> LSTMAttentionClassifier:
        if not isinstance(X, TokenSequences):
            X = check_token_lists(X)  # once: the steps below reuse the validated list
        check_params(self, X)
        y = check_labels(X, y, type(self).__name__)
        self.label_encoder_ = LabelEncoder().fit(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has a single class ({self.classes_[0]!r}); a classifier needs at least two."
            )
        y_enc = self.label_encoder_.transform(y)
        inputs = self._build_vocabulary(X)
        ids, offsets = self._encode(X, validated=True)
        self.ngrams_ = NGramTfidf(self.bag_ngrams, self.n_vocab_) if self._has_ngram_part() else None
        self.validation_index_ = self.validation_proba_ = None
        self.retried_without_ngrams_ = False
        self.train_passes_ = []
        held_out = self._uses_validation()
        dataset = self._dataset(ids, offsets, y_enc, fit=True)
        self._train_pass(TrainingPass("early_stopping" if held_out else "train", held_out),
                         dataset, y_enc, inputs, fit_params)
        if not held_out:
            return self
        warmup = self._warmup_epochs()
        if self.retry_without_ngrams and len(self.history) > warmup >= self.best_epoch_:
            self._log(f"retry: early stopping kept epoch {self.best_epoch_}, inside the "
                      "n-gram warm-up; training the network again without the n-gram part")
            self.ngrams_, self.retried_without_ngrams_ = None, True
            dataset = self._dataset(ids, offsets, y_enc)
            self._train_pass(TrainingPass("retry", True), dataset, y_enc, inputs, fit_params)
        elif len(self.history) > warmup >= self.best_epoch_:
            warn_network_never_improved(self.best_epoch_, warmup)
        if self.refit:
            self._log(f"refit: training on all {len(y)} documents for the {self.best_epoch_} "
                      "epochs early stopping kept")
            pretraining = dict(self.callbacks_).get("pretraining")
            start = None
            if pretraining is not None and pretraining.state_dict_ is not None:
                start = copy.deepcopy(self.module_)  # from the same pre-trained weights
                start.load_state_dict(pretraining.state_dict_)
            callbacks = self.callbacks_  # early stopping's, for partial_fit to stop early
            self._train_pass(TrainingPass("refit", False, self.best_epoch_, start),
                             dataset, y_enc, inputs, fit_params)
            self.callbacks_ = callbacks
        return self

    def _train_pass(self, training_pass: TrainingPass, dataset: _SequenceDataset,
                    y: np.ndarray, inputs: Any, fit_params: dict) -> None:
        """Run one pass of ``fit`` on ``dataset``, from the fit's seed; record it in
        ``train_passes_`` and, where a part was held out, the epoch kept and that part's
        probabilities then."""
        self._pass = training_pass
        try:
            first = training_pass.name in ("early_stopping", "train")
            with self._seeded(new_split=first):
                self.ngram_lr_ = ngram_learning_rate(self.ngram_lr, dataset)
                if training_pass.held_out:  # the rows skorch's split hook will hold out
                    held_out = held_out_split(dataset, y, self.validation_fraction,
                                              self._split_seed_)[1]
                    self.validation_index_ = np.sort(np.asarray(held_out.indices))
                if not (first and self.warm_start and self.initialized_):  # as skorch's fit
                    self.initialized_ = False  # a fresh start, not a re-initialisation
                    self.initialize()
                    start_from(self.module_, inputs, own_class=self._builds_own_module()
                               and training_pass.start is None)
                epochs = {} if training_pass.epochs is None else {"epochs": training_pass.epochs}
                self._train(dataset, y, **{**fit_params, **epochs})
        finally:
            del self._pass  # back to the class's None
        pretraining = dict(self.callbacks_).get("pretraining")
        if pretraining is not None and pretraining.state_dict_ is not None:
            self.pretrain_loss_ = pretraining.losses_
            self.train_passes_.append(("pretrain", pretraining.epochs))
        elif first:
            self.pretrain_loss_ = None
        self.train_passes_.append((training_pass.name, len(self.history)))
        if not training_pass.held_out:
            self.best_epoch_ = len(self.history)
            return
        best = [row["epoch"] for row in self.history if row.get("valid_loss_best")]
        self.best_epoch_ = best[-1] if best else len(self.history)
        self._log(f"early stopping: {len(self.history)} epochs trained, epoch "
                  f"{self.best_epoch_} kept (the lowest held-out loss)")
        # The held-out part's probabilities at the epoch kept, before any refit.
        self.validation_proba_ = self.predict_proba(Subset(dataset, self.validation_index_))

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train the fitted network further on new documents (skorch's ``partial_fit``).

        Training goes on from the current weights and optimizer state, with the settings
        of ``fit``: with ``early_stopping``, on all but ``validation_fraction`` of the new
        documents until their held-out loss has not improved for ``patience`` epochs (at
        most ``max_epochs``), keeping the best epoch; no refit follows. The vocabulary,
        the n-gram part's n-grams and the classes stay those of ``fit``: tokens unseen
        then are read as the unknown token, n-grams unseen then are ignored. Before any
        ``fit``, this is ``fit``. Interrupted (``KeyboardInterrupt``), it re-raises and
        leaves the classifier as it was before the call. To continue a whole pipeline,
        use :func:`sk_slm.partial_fit`.

        Parameters
        ----------
        X : TokenSequences or token lists
            The new documents, of the kind ``fit`` was given.
        y : array-like of shape (n_documents,)
            Their labels, each one of ``classes_``.
        classes : ignored
            The classes are those of ``fit``.
        **fit_params
            Passed on to skorch, e.g. ``epochs`` (instead of ``max_epochs``).

        Returns
        -------
        self : LSTMAttentionClassifier
        """
        if isinstance(X, Dataset):  # skorch's own fit() lands here with prepared data
            return super().partial_fit(X, y, classes, **fit_params)
        if not hasattr(self, "label_encoder_"):
            return self.fit(X, y, **fit_params)
        if not isinstance(X, TokenSequences):
            X = check_token_lists(X)
        y = check_labels(X, y, type(self).__name__)
        unseen = set(np.unique(y)) - set(self.classes_)
        if unseen:
            raise ValueError(f"y holds labels unseen in fit: {sorted(unseen)[:5]}.")
        with self._seeded():
            y_enc = self.label_encoder_.transform(y)
            dataset = self.get_dataset(X, y_enc, validated=True)
            # Interrupted (Ctrl-C), the classifier goes back to the model it was.
            before = copy.deepcopy({name: getattr(self, name) for name in _TRAINED_STATE})
            try:
                self._train(dataset, y_enc, **fit_params)
            except KeyboardInterrupt:
                for name, value in before.items():
                    setattr(self, name, value)
                raise
        return self

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, rows summing to 1, columns in ``classes_`` order."""
        self._check_fitted()
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)), dtype=np.float32)
        with threads_for_free_cores(self.device):
            return super().predict_proba(self.get_dataset(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class label of each document."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def attention(self, X) -> list[np.ndarray]:
        """Attention weight of every input token of every document.

        Returns a list with one float array per document, aligned with the document's
        tokens before truncation: weights sum to 1 over the tokens the model read and
        are 0 for tokens cut by ``max_len``. With ``truncation="windows"`` every token
        is read; a token in two overlapping windows gets the sum of its two weights.
        An empty document gives an empty array.
        The weights describe the recurrent part only: the n-gram part adds its own
        logits, which they do not cover.
        """
        self._check_fitted()
        return attention_weights(self, X)

    def explain(self, X) -> list[list[tuple[str, float]]]:
        """Each document's tokens paired with their attention weights.

        Parameters
        ----------
        X : TokenSequences or token lists
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
        return tags
