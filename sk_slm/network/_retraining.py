"""The later training passes of LSTMAttentionClassifier.fit, as fits of clones.

After early stopping has chosen an epoch, ``fit`` may train again: a *retry* without the
wide n-gram part (``retry_without_ngrams``), or a *refit* on all the documents for the
chosen number of epochs (``refit``). Each is an ordinary fit of an unfitted copy of the
classifier with a few parameters changed (:func:`variant`), whose fitted state the
classifier then takes over (:func:`take_fitted_state`): no mode flag changes what the
classifier's own hooks do.
"""

from __future__ import annotations

import copy
from typing import Any

from sklearn.base import clone

__all__ = ["refit", "retry_without_ngrams", "take_fitted_state", "variant"]


def variant(clf: Any, **changes: Any) -> Any:
    """An unfitted copy of ``clf`` with ``changes``, marked as a later pass of the same
    fit: its checks warn of nothing (the caller's fit warned already, or the changes
    make a setting do nothing)."""
    params = {name: clone(value, safe=False)
              for name, value in clf.get_params(deep=False).items()
              if not name.startswith("_")}  # skorch and scikit-learn bookkeeping
    copied = type(clf)(**{**params, **changes})  # skorch takes a module instance here
    copied._later_pass = True
    return copied


def take_fitted_state(clf: Any, other: Any, keep: tuple = ()) -> None:
    """Make ``clf`` the model ``other`` fitted (its fitted attributes, those ending in
    ``_``), but for the attributes named in ``keep``."""
    for name, value in vars(other).items():
        if name.endswith("_") and not name.endswith("__") and name not in keep:
            setattr(clf, name, value)


def refit(clf: Any, X: Any, y: Any, pretraining: Any, fit_params: dict) -> None:
    """Fit a clone of ``clf`` on all the data for ``clf.best_epoch_`` epochs, from the same
    seed (and the same pre-trained weights, from the ``pretraining`` callback), and take
    over what it fitted."""
    changes: dict[str, Any] = {"early_stopping": False, "max_epochs": clf.best_epoch_}
    if pretraining is not None:  # start from the same pre-trained weights
        module = copy.deepcopy(clf.module_)
        module.load_state_dict(pretraining.state_dict_)
        changes.update(module=module, pretrain_epochs=0)
    clf._log(f"refit: training on all {len(y)} documents for the {clf.best_epoch_} epochs "
             "early stopping kept")
    fitted = variant(clf, **changes).fit(X, y, **fit_params)
    passes = clf.train_passes_ + [("refit", len(fitted.history))]
    # The callbacks stay the first fit's (early stopping among them), so that training on
    # (partial_fit) stops early as that fit did.
    take_fitted_state(clf, fitted, keep=("best_epoch_", "validation_index_",
                                         "validation_proba_", "retried_without_ngrams_",
                                         "pretrain_loss_", "callbacks_"))
    clf.history_ = fitted.history_
    clf.train_passes_ = passes


def retry_without_ngrams(clf: Any, X: Any, y: Any, fit_params: dict) -> None:
    """Early stopping kept an epoch of the warm-up: the wide part had fitted (memorised)
    the training part before the network joined, leaving it next to no loss to learn
    from. Fit a clone without the wide part, from the same seed on the same held-out
    part (with its own refit), and take over what it fitted."""
    clf._log(f"retry: early stopping kept epoch {clf.best_epoch_}, inside the n-gram "
             "warm-up; training the network again without the n-gram part")
    fitted = variant(clf, bag_ngrams=0).fit(X, y, **fit_params)
    passes = clf.train_passes_ + [
        ("retry" if name == "early_stopping" else name, n)
        for name, n in fitted.train_passes_ if name != "pretrain"]
    take_fitted_state(clf, fitted, keep=("pretrain_loss_",))
    clf.train_passes_ = passes
    clf.retried_without_ngrams_ = True
