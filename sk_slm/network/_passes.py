"""The training passes of LSTMAttentionClassifier.fit.

``fit`` trains in named passes, in this order, each listed in ``train_passes_``:

- ``"early_stopping"``: from scratch (after language-model pre-training, ``"pretrain"``,
  with ``pretrain_epochs``) on all but ``validation_fraction`` of the documents, until
  the held-out part's loss stops improving (``"train"``: for ``max_epochs`` on all of them,
  without early stopping);
- ``"retry"``: when early stopping kept an epoch of the n-gram warm-up and
  ``retry_without_ngrams`` is set, the same again without the n-gram part (its
  pre-training too);
- ``"refit"``: with ``refit``, from the same seed and starting weights (those
  pre-training left, if any) on all the documents, for the epochs early stopping kept.

Every pass trains the classifier itself, from the same seed. While one runs, the
classifier's skorch hooks read what differs between passes from its
:class:`TrainingPass`; outside ``fit`` (``partial_fit``) they read the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

__all__ = ["TrainingPass"]


@dataclass(frozen=True)
class TrainingPass:
    """What one training pass of ``fit`` is.

    Attributes
    ----------
    name : str
        "train", "early_stopping", "retry" or "refit", as listed in ``train_passes_``.
    held_out : bool
        Whether a part is held out and early stopping ends the pass.
    epochs : int or None
        Epochs to train; None for ``max_epochs``.
    start : nn.Module or None
        The module to train from (the refit's, holding the weights that pre-training
        left); None to build one from the seed, as the first pass does, which then
        pre-trains it (``pretrain_epochs``).
    """

    name: str
    held_out: bool
    epochs: int | None = None
    start: nn.Module | None = None
