"""How the wide (n-gram) part trains beside the network: its own learning rate, and a
warm-up in which the recurrent network is frozen while the n-gram part trains alone.

A callback freezes the network and releases what it froze (:class:`NetworkWarmup`); early
stopping is kept from ending training inside the warm-up.
"""

from __future__ import annotations

from skorch.callbacks import Callback, EarlyStopping
from skorch.utils import freeze_parameter, unfreeze_parameter

__all__ = ["EarlyStoppingAfterWarmup", "NetworkWarmup", "is_network_param",
           "ngram_learning_rate", "param_groups", "warmup_callbacks"]

# ngram_lr="auto": this over the mean number of distinct n-grams per training document;
# 0.047 on THUCNews titles (53 n-grams), where 0.05 measured best on validation.
_NGRAM_LR_SCALE = 2.5


def is_network_param(name: str) -> bool:
    """Parameters of the recurrent network: everything but the n-gram part."""
    return not name.startswith("ngram_logits.")


def ngram_learning_rate(setting, dataset) -> float | None:
    """The n-gram part's learning rate on ``dataset`` (None without the part): ``setting``
    (``ngram_lr``), or for "auto" the scale over the documents' mean number of n-grams.
    Under Adam each n-gram weight a document holds moves by about the learning rate per
    step, so documents with many (rare) n-grams would otherwise be memorised sooner."""
    if dataset.ngrams is None:
        return None
    if setting != "auto":
        return float(setting)
    return _NGRAM_LR_SCALE / max(len(dataset.ngrams) / max(len(dataset), 1), 1.0)


def param_groups(named_parameters, ngram_lr: float) -> list[dict] | None:
    """The optimizer's parameter groups: the network's, and the n-gram part's at its own
    learning rate (it converges only with a larger step); None without that part."""
    wide = [p for name, p in named_parameters if not is_network_param(name)]
    if not wide:
        return None
    return [{"params": [p for name, p in named_parameters if is_network_param(name)]},
            {"params": wide, "lr": ngram_lr}]


def warmup_callbacks(epochs: int) -> list[tuple[str, object]]:
    """The callback that freezes the network (all of an AttentionRNN but its n-gram part)
    for the first ``epochs`` epochs and releases it after; what was frozen before (the
    embedding with ``freeze_embeddings``) stays frozen."""
    return [("ngram_warmup", NetworkWarmup(epochs, is_network_param))]


class NetworkWarmup(Callback):
    """Freeze the parameters ``params`` matches for the first ``epochs`` epochs, then
    release exactly those it froze.

    It freezes at the first training batch, after every callback's ``on_epoch_begin`` of
    the first epoch has run, and leaves alone what is already frozen then: a parameter
    that the user's own skorch ``Freezer`` froze (at epoch 1, its default) stays frozen
    after the warm-up, as it would without one. (skorch's ``Unfreezer`` would release
    every parameter the pattern matches, the user's frozen encoder included.)

    Parameters
    ----------
    epochs : int
        Warm-up epochs; the parameters are released at the start of epoch ``epochs + 1``.
    params : callable
        ``params(name)`` is true for the names of the parameters to freeze (as
        ``net.get_all_learnable_params()`` names them).

    Attributes
    ----------
    frozen_ : list of str or None
        The parameters it froze and has not yet released; None before the warm-up.
    """

    def __init__(self, epochs: int, params):
        self.epochs = epochs
        self.params = params

    def initialize(self):
        self.frozen_ = None
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training or self.frozen_ is not None or len(net.history) != 1:
            return
        self.frozen_ = []
        for name, param in net.get_all_learnable_params():
            if self.params(name) and param.requires_grad:
                freeze_parameter(param)
                self.frozen_.append(name)

    def on_epoch_begin(self, net, **kwargs):
        if self.frozen_ and len(net.history) == self.epochs + 1:
            for name, param in net.get_all_learnable_params():
                if name in self.frozen_:
                    unfreeze_parameter(param)
            self.frozen_ = []


class EarlyStoppingAfterWarmup(EarlyStopping):
    """skorch's EarlyStopping that cannot stop while only the n-gram part trains.

    The n-gram part's validation loss can bottom out within the warm-up (long documents
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
