"""How the wide (n-gram) part trains beside the network: its own learning rate, and a
warm-up in which the recurrent network is frozen while the n-gram part trains alone.

skorch's ``Freezer`` and ``Unfreezer`` callbacks do the freezing; early stopping is
kept from ending training inside the warm-up.
"""

from __future__ import annotations

from skorch.callbacks import EarlyStopping, Freezer, Unfreezer
from skorch.utils import freeze_parameter, noop, unfreeze_parameter

__all__ = ["AtEpoch", "EarlyStoppingAfterWarmup", "is_network_param", "ngram_learning_rate",
           "param_groups", "warmup_callbacks"]

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


def _is_network_param_but_embedding(name: str) -> bool:
    return is_network_param(name) and name != "embedding.weight"


def warmup_callbacks(epochs: int, freeze_embeddings: bool) -> list[tuple[str, object]]:
    """skorch callbacks that freeze the network (all of an AttentionRNN but its n-gram
    part; the embedding stays frozen after with ``freeze_embeddings``) for the first
    ``epochs`` epochs and release it after."""
    network = _is_network_param_but_embedding if freeze_embeddings else is_network_param
    freeze, unfreeze = AtEpoch(1, freeze_parameter), AtEpoch(epochs + 1, unfreeze_parameter)
    return [("ngram_warmup_freeze", Freezer(network, at=freeze, schedule=freeze)),
            ("ngram_warmup_unfreeze", Unfreezer(network, at=unfreeze, schedule=unfreeze))]


class AtEpoch:
    """A schedule for skorch's ``Freezer`` and ``Unfreezer``: ``fn`` at the start of epoch
    ``epoch``, nothing at the others.

    Given as both ``at`` and ``schedule``, it takes the place of the schedule the callbacks
    otherwise build from their own bound methods, a reference cycle that ``skops.io``
    cannot save (``RecursionError``); ``at`` is read only by that default schedule.
    """

    def __init__(self, epoch: int, fn):
        self.epoch = epoch
        self.fn = fn

    def __call__(self, net):
        return self.fn if len(net.history) == self.epoch else noop


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
