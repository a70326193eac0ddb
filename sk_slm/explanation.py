"""Attention explanations for whole pipelines, and their rendering in a notebook."""

from __future__ import annotations

import html
import warnings
from typing import Any

from sklearn.pipeline import Pipeline

from .blending import BlendingClassifier, BlendWeightWarning, _describe_weights, _final_step
from .classifier import LSTMAttentionClassifier
from .segmenter import JiebaSegmenter

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


def explain(model: Any, X: Any) -> list[list[tuple[str, float]]]:
    """Tokens of each raw document with the attention weight the network gave them.

    Parameters
    ----------
    model : Pipeline
        A fitted pipeline with a :class:`~sk_slm.JiebaSegmenter` among its steps, ending
        in an :class:`~sk_slm.LSTMAttentionClassifier` or in a
        :class:`~sk_slm.BlendingClassifier` with one among its parts (the output of
        :func:`~sk_slm.make_lstm_pipeline`). The weights are the network's attention;
        the n-gram part and the blend's other parts add evidence they do not show:
        a blend's ``weights_`` say how much the network counts (a
        :class:`~sk_slm.BlendWeightWarning` when it counts for nothing).
    X : iterable of str
        Raw documents.

    Returns
    -------
    list of list of (token, weight)
        The segmenter's tokens (so words outside the embedding vocabulary show as they
        are); weights sum to 1 over the tokens the model read, 0 for tokens cut by
        ``max_len``.
    """
    weights, tokens = _attention(model, X, None)
    if tokens is None:
        raise TypeError("explain needs a JiebaSegmenter step to know the tokens.")
    return [list(zip(t, w.tolist(), strict=True)) for t, w in zip(tokens, weights, strict=True)]


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
) -> AttentionHTML:
    """Render :func:`explain` output as one highlighted line per document.

    Each token's background opacity is its weight relative to the document's largest
    weight; hovering shows the weight. ``labels`` (e.g. predictions) prefix each line.
    """
    rows = []
    for i, pairs in enumerate(explanations):
        top = max((w for _, w in pairs), default=0.0) or 1.0
        spans = "".join(
            f'<span title="{w:.3f}" style="background: rgba({color}, {w / top:.2f}); '
            f'padding: 1px 0">{html.escape(tok)}</span>'
            for tok, w in pairs
        )
        prefix = f"<b>{html.escape(str(labels[i]))}</b>&nbsp;" if labels is not None else ""
        rows.append(f'<div style="margin: 2px 0; line-height: 1.8">{prefix}{spans}</div>')
    return AttentionHTML("\n".join(rows))
