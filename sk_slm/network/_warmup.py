"""The wide part's warm-up: the recurrent network frozen while the n-gram part trains alone.

skorch's ``Freezer`` and ``Unfreezer`` callbacks do the freezing; early stopping is
kept from ending training inside the warm-up.
"""

from __future__ import annotations

from skorch.callbacks import EarlyStopping, Freezer, Unfreezer
from skorch.utils import freeze_parameter, noop, unfreeze_parameter

__all__ = ["AtEpoch", "EarlyStoppingAfterWarmup", "is_network_param", "warmup_callbacks"]


def is_network_param(name: str) -> bool:
    """Parameters of the recurrent network: everything but the n-gram part."""
    return not name.startswith("ngram_logits.")


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
