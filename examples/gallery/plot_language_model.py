"""
The bundled language model: scoring text, continuing a prompt, features
=======================================================================

sk_slm ships a small character language model (see the model card in the user guide).
Here it scores documents (per-document perplexity: lower means more like the text it
was trained on), continues a prompt with a seed, and gives a linear model features
beside character TF-IDF (``make_baseline("svm_char_tfidf_lm")``).
"""

import matplotlib.pyplot as plt
import numpy as np

from sk_slm import load_language_model

lm = load_language_model()  # "bundled"
print(lm)

# %%
# Perplexity of ordinary sentences, the same characters shuffled, and other text.
# Shuffled characters score several times higher than the sentences. The English
# sentence and the symbols score *low*, not high: their tokens are mostly outside the
# model's 6,000-token vocabulary, and it predicts the unknown token easily. Perplexity
# flags Chinese text unlike the training text, not text in another script.
rng = np.random.default_rng(0)
texts = ["这家餐厅的菜很好吃，服务也很周到。", "快递很快，包装完好，下次还会再买。",
         "法院经审理查明，被告人于二〇一九年三月盗窃财物。"]
shuffled = ["".join(rng.permutation(list(t))) for t in texts]
other = ["The quick brown fox jumps over the lazy dog.", "😀😀😀 ？？？ ！！！"]
labels = ["review", "review", "law", "shuffled", "shuffled", "shuffled", "English", "symbols"]
scores = lm.perplexity(texts + shuffled + other)
for label, text, score in zip(labels, texts + shuffled + other, scores, strict=True):
    print(f"{score:8.1f}  {label:9s} {text}")

fig, ax = plt.subplots(figsize=(6.5, 3))
ax.barh(range(len(scores)), scores, color=["C0"] * 3 + ["C3"] * 3 + ["C7"] * 2)
ax.set_yticks(range(len(scores)), [f"{lab} {i + 1}" for i, lab in enumerate(labels)])
ax.set_xscale("log")
ax.set_xlabel("perplexity per character (log scale)")
ax.invert_yaxis()
fig.tight_layout()

# %%
# Continuing a prompt: seeded, so the same call gives the same text.
for seed in range(3):
    print("今天天气" + lm.sample("今天天气", max_tokens=25, temperature=0.8, random_state=seed))
