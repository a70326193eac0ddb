"""
Which characters does a prediction rest on?
===========================================

:func:`sk_slm.explain` pairs every token of each document with its contribution to the
whole model's prediction: how much the log-probability of the predicted class falls
when that token is left out (``method="occlusion"``, the default; the blend's linear
part is in it, and it measured the most faithful explanation on every labelled set).
:func:`sk_slm.render_attention_html` shows them as highlighted text in a notebook or a
page: red for the prediction, blue against it. ``method="attention"`` gives the
network's attention weights instead.

A small network on 800 bundled reviews, so that the page builds quickly.
"""

from importlib import resources

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager

from sk_slm import explain, load_reviews, make_lstm_pipeline, render_attention_html

X, y = load_reviews(return_X_y=True)
pipe = make_lstm_pipeline(hidden_size=32, max_epochs=6, ngram_warmup=1).fit(X[:800], y[:800])

reviews = ["物流很快，质量不错，下次还来", "太差了，用了两天就坏了，再也不买",
           "包装一般，但是东西还可以", "客服态度很差，退货也不给退"]
explained = explain(pipe, reviews)
names = ["negative", "positive"]  # load_reviews' target_names
predicted = [names[c] for c in pipe.predict(reviews)]  # the class each row explains
render_attention_html(explained, labels=predicted)

# %%
# The same contributions as a heat map, one row per review (red: for the prediction,
# blue: against it), each row labelled with the class it explains and its probability.
# Drawing the characters needs a font that has them (WenQuanYi, Noto CJK, SimHei, ...):
# the first one found on this machine is used, or Noto Sans CJK from the ``mplfonts``
# package (SIL Open Font License; the docs are built with it: ``pip install mplfonts``);
# without one, the cells stay unlabelled.

try:
    noto = resources.files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf"
    font_manager.fontManager.addfont(str(noto))
except (ModuleNotFoundError, FileNotFoundError):
    pass
for path in font_manager.findSystemFonts():
    if any(k in path.lower() for k in ("wqy", "cjk", "simhei", "msyh", "sourcehan")):
        font_manager.fontManager.addfont(path)
chinese = [f.name for f in font_manager.fontManager.ttflist
           if any(k in f.name for k in ("WenQuanYi", "CJK", "SimHei", "YaHei", "Source Han"))]
width = max(len(pairs) for pairs in explained)
weights = np.full((len(explained), width), np.nan)
for row, pairs in enumerate(explained):
    weights[row, : len(pairs)] = [w for _, w in pairs]
fig, ax = plt.subplots(figsize=(8, 2.6))
scale = np.nanmax(np.abs(weights)) or 1.0
ax.imshow(weights, cmap="RdBu_r", vmin=-scale, vmax=scale, aspect="auto")
for row, pairs in enumerate(explained):
    for col, (token, _) in enumerate(pairs if chinese else []):
        ax.text(col, row, token, ha="center", va="center", fontsize=10, fontfamily=chinese[0])
ax.set_yticks(range(len(reviews)),
              [f"{label} {p:.2f}" for label, p in zip(predicted, pipe.predict_proba(reviews).max(1),
                                                      strict=True)])
ax.set_ylabel("class explained, its probability")
ax.set_xticks([])
ax.set_title("What each character adds to the prediction (occlusion)")
fig.tight_layout()
