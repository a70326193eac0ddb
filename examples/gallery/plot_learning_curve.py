"""
Learning curve: the network against a linear baseline
=====================================================

How the macro-F1 grows with the number of training documents, for the sk_slm pipeline
(a small network) and for character TF-IDF + LinearSVC, with scikit-learn's
:func:`~sklearn.model_selection.learning_curve` on the same folds. The network needs
more data than the linear model to catch up; where the curves meet on your data tells
whether it is worth its cost there.

Built on at most 600 bundled reviews with a small network, so that the page builds
quickly: the curves of the full data sets are in ``benchmarks/``.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import StratifiedKFold, learning_curve

from sk_slm import load_reviews, make_baseline, make_lstm_pipeline

X, y = load_reviews(return_X_y=True)
X, y = X[:600], y[:600]
cv = StratifiedKFold(2, shuffle=True, random_state=0)
sizes = [75, 150, 300]

fig, ax = plt.subplots(figsize=(6.5, 4))
for name, model in [
    ("svm_char_tfidf", make_baseline("svm_char_tfidf")),
    ("sk_slm (small)", make_lstm_pipeline(hidden_size=16, max_epochs=4, ngram_warmup=1, verbose=0)),
]:
    n, _, test = learning_curve(model, X, y, train_sizes=sizes, cv=cv, scoring="f1_macro")
    ax.errorbar(n, test.mean(axis=1), yerr=test.std(axis=1), marker="o", capsize=3,
                label=name)
    print(name, dict(zip(n.tolist(), np.round(test.mean(axis=1), 3).tolist(), strict=True)))
ax.set_xlabel("training documents")
ax.set_ylabel("macro-F1 (2-fold CV)")
ax.set_title("Learning curve on the bundled reviews")
ax.grid(alpha=0.3)
ax.legend()
plt.show()
