"""Language-model pre-training of the network, as a skorch callback."""

from __future__ import annotations

import copy

from skorch import NeuralNet
from skorch.callbacks import Callback, GradientNormClipping
from torch import nn

from ._batches import _bucket_iterator
from .module import BiLanguageModel
from .progress import EpochProgress

__all__ = ["LanguageModelPretraining"]


class _LanguageModelNet(NeuralNet):
    """skorch net training a :class:`~sk_slm.network.module.BiLanguageModel`.

    Batches come from the classifier's length buckets; the targets are the batch's own
    tokens, shifted, so ``y`` is ignored.
    """

    def get_iterator(self, dataset, training=False):
        return _bucket_iterator(self.iterator_train, dataset, self.batch_size, training, {})

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.module_.loss(y_pred, X["ids"].to(y_pred.device))


class LanguageModelPretraining(Callback):
    """Before a classifier first trains, train its embedding and RNN as a language model.

    At the start of training (skorch's ``on_train_begin``) of a freshly initialised
    :class:`~sk_slm.LSTMAttentionClassifier`, the forward direction of its RNN learns to
    predict each next token of the training documents and the backward direction each
    previous one (:class:`~sk_slm.network.module.BiLanguageModel`, with the classifier's
    optimizer class, ``lr`` and batches), so the network starts from what the text itself
    teaches (Dai & Le 2015). It reads the documents only, never the labels: all the
    documents passed to ``fit``, the part held out for early stopping included, as
    Word2Vec does. Later training of the same fitted network (``partial_fit``) is not
    preceded by pre-training again.

    ``LSTMAttentionClassifier(pretrain_epochs=n)`` adds it as the callback
    ``"pretraining"``; the refit then starts from the same pre-trained weights. Passed in
    ``callbacks`` under another name, it pre-trains in every fit, the refit's included.

    Needs ``module__num_layers=1`` when the RNN is bidirectional: a second layer reads both
    directions of the first, so the language model would see the token it predicts.
    A classifier with a ``language_model`` continues that model's training on its
    documents (its heads included), as ULMFiT's language-model fine-tuning does.

    Parameters
    ----------
    epochs : int, default=5
        Passes over the documents.

    Attributes
    ----------
    losses_ : list of float
        The language model's mean loss (nats per token and direction) in each epoch.
    state_dict_ : dict
        The network's weights after pre-training (what the classifier trains from).
    """

    def __init__(self, epochs: int = 5):
        self.epochs = epochs

    def initialize(self):
        self.losses_ = []
        self.state_dict_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if len(net.history) or not self.epochs:  # pre-train a fresh network only
            return
        module = BiLanguageModel(net.module_)
        if getattr(net, "language_model", None) is not None:
            # Fine-tuning a pre-trained language model: start from its heads too.
            from ..language_model import load_language_model

            module.heads.load_state_dict(
                load_language_model(net.language_model).module.heads.state_dict())
        callbacks = [("gradient_clipping", GradientNormClipping(gradient_clip_value=5.0))]
        if net.verbose:  # its epochs' lines go where the classifier's go
            shown = dict(getattr(net, "callbacks_", ())).get("progress")
            callbacks.append(("progress", EpochProgress(
                "language-model fine-tuning", sink=print if shown is None else shown.sink)))
        lm = _LanguageModelNet(
            module,
            criterion=nn.CrossEntropyLoss,  # skorch wants one; get_loss uses the module's
            optimizer=net.optimizer,
            lr=net.lr,
            max_epochs=self.epochs,
            batch_size=net.batch_size,
            train_split=None,
            callbacks=callbacks,
            device=net.device,
            verbose=0,  # skorch's own table off; the progress lines above instead
        )
        lm.fit(net.get_dataset(X), None)
        if len(lm.history) < self.epochs:  # skorch took a KeyboardInterrupt as the end
            raise KeyboardInterrupt
        self.losses_ = [float(row["train_loss"]) for row in lm.history]
        self.state_dict_ = copy.deepcopy(net.module_.state_dict())
