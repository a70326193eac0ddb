"""Attention explanations for whole pipelines, and their rendering in a notebook."""

from __future__ import annotations

import html
import warnings
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from ..blending import (
    _EPS,
    BlendingClassifier,
    BlendWeightWarning,
    _aligned,
    _describe_weights,
    _final_step,
)
from ..features.word2vec import EmptyDocumentWarning
from ..network.classifier import LSTMAttentionClassifier
from ..text.segmenter import JiebaSegmenter, as_written, check_documents
from ._occlusion import leave_one_out

__all__ = ["explain", "AttentionHTML", "render_attention_html"]


def _attention(model: Any, data: Any, tokens: Any):
    """(attention weights, segmenter tokens) of ``data`` on its way through ``model``."""
    if isinstance(model, LSTMAttentionClassifier):
        return model.attention(data), tokens
    if isinstance(model, Pipeline):
        for _, step in model.steps[:-1]:
            data = step.transform(data)
            if isinstance(step, JiebaSegmenter):
                tokens = data
        return _attention(model[-1], data, tokens)
    if isinstance(model, BlendingClassifier):
        for name, part, weight in zip(model.named_estimators_, model.estimators_,
                                      model.weights_, strict=True):
            if isinstance(_final_step(part), LSTMAttentionClassifier):
                if weight == 0:
                    warnings.warn(
                        f"explain shows the attention of the blend's {name!r} part, which "
                        f"has weight 0 in this fitted blend (weights: "
                        f"{_describe_weights(model)}): it takes no part in the predictions.",
                        BlendWeightWarning, stacklevel=3)
                return _attention(part, data, tokens)
    raise TypeError(
        "explain needs a model whose network is an LSTMAttentionClassifier: a pipeline "
        "ending in one, or in a BlendingClassifier with one among its parts.")


def explain(model: Any, X: Any, method: str = "occlusion",
            part: str | None = None) -> list[list[tuple[str, float]]]:
    """Tokens of each raw document with what the prediction rests on.

    Parameters
    ----------
    model : Pipeline
        A fitted pipeline with a :class:`~sk_slm.JiebaSegmenter` among its steps (its
        first step for ``method="occlusion"``), ending in an
        :class:`~sk_slm.LSTMAttentionClassifier` or in a
        :class:`~sk_slm.BlendingClassifier` with one among its parts (the output of
        :func:`~sk_slm.make_lstm_pipeline`).
    X : iterable of str
        Raw documents.
    method : {"occlusion", "attention"}, default="occlusion"
        ``"occlusion"``: each token's contribution to the **whole model's** prediction,
        on one scale: how much the log-probability of the class the model predicts for
        the document falls when that token is left out (positive: the token speaks for
        the prediction; negative: against it). Every part of a blend, its linear n-gram
        model included, is in it; it costs one prediction per token (a few seconds per
        thousand short documents). The default: it measured the most faithful on every
        labelled set (:func:`~sk_slm.faithfulness`; the network guide has the figures).
        ``"attention"``: the network's attention weights. They describe the recurrent
        network's pooling only: its n-gram part and the blend's other parts add evidence
        they do not show; a blend's ``weights_`` say how much the network counts (a
        :class:`~sk_slm.BlendWeightWarning` when it counts for nothing).
    part : str or None, default=None
        With ``method="occlusion"`` and a model ending in a
        :class:`~sk_slm.BlendingClassifier`: one part's share, on the same scale, of the
        class the whole model predicts: ``t * w * (log p(c | doc) - log p(c | doc without
        the token))`` for that part's probabilities ``p``, weight ``w`` and the blend's
        temperature ``t`` (zero for a part the blend leaves out). The parts' shares add
        up to the change in the blend's score before its softmax; e.g. ``part="linear"``
        for :func:`~sk_slm.make_lstm_pipeline`'s n-gram model, ``part="network"`` for
        the network.

    Returns
    -------
    list of list of (token, float)
        The segmenter's tokens, as written in the document (a full-width ``，`` or an
        upper-case "OK" as the user wrote it, though the model read them normalised; see
        :func:`~sk_slm.text.segmenter.as_written`), so words outside the embedding vocabulary
        show as they are. Attention weights sum to 1 over the tokens the model read, 0
        for tokens cut by ``max_len``; occlusion contributions are in nats.
    """
    if method not in ("attention", "occlusion"):
        raise ValueError(f"explain: method={method!r}; use 'attention' or 'occlusion'.")
    if part is not None and method != "occlusion":
        raise ValueError("explain: part= is for method='occlusion' (the attention is the "
                         "network's own).")
    docs = check_documents(X)
    if method == "occlusion":
        explained = _occlusion(model, docs, part)
    else:
        weights, tokens = _attention(model, docs, None)
        if tokens is None:
            raise TypeError("explain needs a JiebaSegmenter step to know the tokens.")
        explained = [list(zip(t, w.tolist(), strict=True))
                     for t, w in zip(tokens, weights, strict=True)]
    segmenter = next((step for _, step in getattr(model, "steps", ())
                      if isinstance(step, JiebaSegmenter)), None)
    if segmenter is None:  # a segmenter deeper in nested pipelines: its tokens as they are
        return explained
    return [list(zip(as_written(doc, [t for t, _ in pairs], segmenter.normalize),
                     [v for _, v in pairs], strict=True))
            for doc, pairs in zip(docs, explained, strict=True)]


def check_segmenter_first(model: Any, caller: str) -> None:
    """Refuse, naming ``caller``, a model that is not a Pipeline whose first step is a
    JiebaSegmenter: occlusion and the faithfulness check feed its later steps token
    lists with tokens taken out."""
    if not isinstance(model, Pipeline) or not isinstance(model.steps[0][1], JiebaSegmenter):
        raise TypeError(
            f"{caller} needs a fitted Pipeline whose first step is a JiebaSegmenter (as "
            f"make_lstm_pipeline's); got {type(model).__name__}.")


def _occlusion(model: Any, X: Any, part: str | None = None) -> list[list[tuple[str, float]]]:
    """Leave-one-token-out contributions to the predicted class's log-probability; with
    ``part``, that blend part's share of it (see :func:`explain`)."""
    check_segmenter_first(model, "explain(method='occlusion')")
    blend = model.steps[-1][1]
    if part is not None and (not isinstance(blend, BlendingClassifier)
                             or part not in blend.named_estimators_):
        names = list(blend.named_estimators_) if isinstance(blend, BlendingClassifier) else []
        raise ValueError(
            f"explain: part={part!r} is not a part of the model's blend"
            + (f"; its parts are {names}." if names else " (it ends in no BlendingClassifier)."))
    tokens = model[0].transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyDocumentWarning)  # a one-token document left out
        if part is None:
            drops = leave_one_out(tokens, lambda variants: np.log(np.clip(
                model[1:].predict_proba(variants), _EPS, None)))
        else:
            predicted = model[1:].predict_proba(tokens).argmax(axis=1)
            index = list(blend.named_estimators_).index(part)
            scale = blend.temperature_ * blend.weights_[index]
            estimator = blend.estimators_[index]

            def part_scores(variants):
                if scale == 0:  # a part the blend leaves out adds nothing
                    return np.zeros((len(variants), len(blend.classes_)))
                inputs = model[1:-1].transform(variants) if len(model) > 2 else variants
                proba = _aligned(blend.classes_, estimator, estimator.predict_proba(inputs))
                return scale * np.log(np.clip(proba, _EPS, None))

            drops = leave_one_out(tokens, part_scores, predicted)
    return [list(zip(doc, d.tolist(), strict=True)) for doc, d in zip(tokens, drops, strict=True)]


class AttentionHTML:
    """HTML highlighting of attention weights; Jupyter renders it via ``_repr_html_``."""

    def __init__(self, html_text: str):
        self.html = html_text

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def render_attention_html(
    explanations: list[list[tuple[str, float]]],
    labels: list[Any] | None = None,
    color: str = "255, 99, 71",
    negative_color: str = "70, 130, 180",
) -> AttentionHTML:
    """Render :func:`explain` output as one highlighted line per document.

    Each token's background opacity is the size of its weight relative to the
    document's largest; weights below zero (occlusion contributions against the
    prediction) take ``negative_color``. Hovering shows the weight. ``labels`` (e.g.
    predictions) prefix each line.
    """
    rows = []
    for i, pairs in enumerate(explanations):
        top = max((abs(w) for _, w in pairs), default=0.0) or 1.0
        spans = "".join(
            f'<span title="{w:.3f}" style="background: rgba({color if w >= 0 else negative_color}, '
            f'{abs(w) / top:.2f}); padding: 1px 0">{html.escape(tok)}</span>'
            for tok, w in pairs
        )
        prefix = f"<b>{html.escape(str(labels[i]))}</b>&nbsp;" if labels is not None else ""
        rows.append(f'<div style="margin: 2px 0; line-height: 1.8">{prefix}{spans}</div>')
    return AttentionHTML("\n".join(rows))
