"""How faithful an explanation is: remove what it ranks highest and see the prediction move.

The check of ERASER (DeYoung et al., 2020), run on the user's own model and documents:
*comprehensiveness* is how much the predicted class's probability falls when the
explanation's top tokens are removed (higher: the explanation found what the prediction
rests on), *sufficiency* how much it falls when only those tokens are kept (lower: they
suffice). Each is set beside the same measure for as many tokens drawn at random from
the same document, the baseline an explanation must beat.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from ..text.segmenter import check_documents
from .explanation import check_segmenter_first, explain

__all__ = ["faithfulness"]

_MEASURES = ("comprehensiveness", "flip rate", "sufficiency", "prediction kept")


def _size(amount: Any, n_tokens: int) -> int:
    """Tokens to take: an int is a count, a float in (0, 1) a share (rounded up, at least
    one); never more than the document has."""
    size = max(1, math.ceil(amount * n_tokens)) if isinstance(amount, float) else int(amount)
    return min(size, n_tokens)


def _label(amount: Any) -> str:
    return f"{amount:.0%}" if isinstance(amount, float) else str(amount)


def _check_amounts(amounts: Any) -> list[Any]:
    amounts = list(amounts)
    for amount in amounts:
        ok = (isinstance(amount, float) and 0 < amount < 1) or (
            isinstance(amount, (int, np.integer)) and not isinstance(amount, bool)
            and amount >= 1)
        if not ok:
            raise ValueError(
                f"faithfulness: tokens={amounts!r}: each must be a number of tokens (an int "
                f">= 1) or a share of the document's tokens (a float in (0, 1)); got "
                f"{amount!r}.")
    if not amounts:
        raise ValueError("faithfulness: tokens is empty.")
    return amounts


def faithfulness(
    model: Pipeline,
    X: Any,
    *,
    method: str | Callable = "occlusion",
    tokens: Sequence[Any] = (1, 2, 3, 0.1, 0.2),
    random_state: Any = 0,
) -> pd.DataFrame:
    """Measure how much the prediction moves when an explanation's top tokens go.

    For each document the model's predicted class ``c`` and its probability ``p_c`` are
    taken; then for each amount in ``tokens`` the explanation's highest-ranked tokens
    are removed (comprehensiveness: ``p_c`` before minus after; flip rate: the share of
    predictions that change) or kept alone (sufficiency: ``p_c`` before minus after;
    prediction kept: the share that stays), and the same is done with as many tokens
    drawn at random from the same document.

    Parameters
    ----------
    model : Pipeline
        A fitted pipeline whose first step is a :class:`~sk_slm.JiebaSegmenter`
        (:func:`~sk_slm.make_lstm_pipeline`'s, or a segmenter before a network): its
        later steps predict from the token lists with tokens taken out, so nothing is
        segmented again.
    X : iterable of str
        Raw documents; ``len(X)`` rows are measured, empty ones included.
    method : "occlusion", "attention" or callable, default="occlusion"
        The explanation: :func:`~sk_slm.explain`'s, ranking tokens by their attention
        weights or by their occlusion contributions (what leaving each token out alone
        costs the prediction; so its top 1 is by construction the single removal that
        moves it most, and the later amounts and sufficiency are the test); a callable
        ``method(model, X) -> list of arrays`` gives one score per segmenter token of each
        document (higher: more important).
    tokens : sequence of int or float, default=(1, 2, 3, 0.1, 0.2)
        How many tokens to remove or keep: an int is a count, a float in (0, 1) a share
        of each document's tokens (rounded up).
    random_state : int, RandomState or None, default=0
        Draws the random tokens.

    Returns
    -------
    pandas.DataFrame
        One row per measure and amount: ``measure`` (comprehensiveness, flip rate,
        sufficiency, prediction kept), ``tokens``, ``explanation`` and ``random`` (means
        over the documents), ``difference`` (explanation - random) with ``low`` and
        ``high``, its 95% t-interval over the documents (paired), and ``documents``.
        Higher comprehensiveness and flip rate, lower sufficiency and higher prediction
        kept than at random mean a faithful explanation.

    Examples
    --------
    >>> table = faithfulness(pipe, X_test[:1000])  # doctest: +SKIP
    >>> table[table.measure == "comprehensiveness"]  # doctest: +SKIP
    """
    check_segmenter_first(model, "faithfulness")
    amounts = _check_amounts(tokens)
    docs = check_documents(X)
    if method in ("attention", "occlusion"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a weight-0 network is the model's choice
            explained = explain(model, docs, method=method)
        segmented = model[0].transform(docs)  # explain gives the tokens as written
        scores = [np.array([w for _, w in doc], dtype=float) for doc in explained]
    elif callable(method):
        segmented = model[0].transform(docs)
        scores = [np.asarray(s, dtype=float) for s in method(model, docs)]
        bad = [i for i, (t, s) in enumerate(zip(segmented, scores, strict=True))
               if len(t) != len(s)]
        if bad:
            raise ValueError(
                f"faithfulness: method gave {len(scores[bad[0]])} scores for document "
                f"{bad[0]}, which has {len(segmented[bad[0]])} tokens; it must give one "
                "per segmenter token.")
    else:
        raise ValueError(f"faithfulness: method={method!r}; use 'attention', 'occlusion' or "
                         "a callable.")
    rng = check_random_state(random_state)
    rest = model[1:]

    def proba(token_lists):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # documents left empty on purpose
            return rest.predict_proba(token_lists)

    base = proba(segmented)
    predicted = base.argmax(axis=1)
    rows_ = np.arange(len(docs))
    p_base = base[rows_, predicted]
    rows = []
    for amount in amounts:
        chosen = {"explanation": [], "random": []}
        for doc, score in zip(segmented, scores, strict=True):
            size = _size(amount, len(doc))
            chosen["explanation"].append(set(np.argsort(-score, kind="stable")[:size].tolist()))
            chosen["random"].append(set(rng.choice(len(doc), size=size, replace=False).tolist()))
        results = {}
        for source, picks in chosen.items():
            removed = proba([[t for i, t in enumerate(doc) if i not in pick]
                             for doc, pick in zip(segmented, picks, strict=True)])
            kept = proba([[t for i, t in enumerate(doc) if i in pick]
                          for doc, pick in zip(segmented, picks, strict=True)])
            results[source] = {
                "comprehensiveness": p_base - removed[rows_, predicted],
                "flip rate": (removed.argmax(axis=1) != predicted).astype(float),
                "sufficiency": p_base - kept[rows_, predicted],
                "prediction kept": (kept.argmax(axis=1) == predicted).astype(float)}
        for measure in _MEASURES:
            ours, rand = results["explanation"][measure], results["random"][measure]
            diff = ours - rand
            half = (stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
                    if len(diff) > 1 else np.nan)
            rows.append({"measure": measure, "tokens": _label(amount),
                         "explanation": ours.mean(), "random": rand.mean(),
                         "difference": diff.mean(), "low": diff.mean() - half,
                         "high": diff.mean() + half, "documents": len(diff)})
    table = pd.DataFrame(rows)
    order = {m: i for i, m in enumerate(_MEASURES)}
    return table.sort_values("measure", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True)
