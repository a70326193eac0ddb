"""
Tuning the pipeline with GridSearchCV
=====================================

Every step of :func:`sk_slm.make_lstm_pipeline` is an ordinary scikit-learn estimator,
so :class:`~sklearn.model_selection.GridSearchCV` reaches any parameter by its path:
the segmenter's granularity, Word2Vec's width, the network's size, the linear part's
``C``. The candidates' scores come back as a table.

A tiny grid on 400 bundled reviews, so that the page builds quickly;
``examples/grid_search.py`` runs a larger one.
"""

import pandas as pd
from sklearn.model_selection import GridSearchCV

from sk_slm import load_reviews, make_lstm_pipeline

X, y = load_reviews(return_X_y=True)
X, y = X[:400], y[:400]

grid = GridSearchCV(
    make_lstm_pipeline(hidden_size=16, max_epochs=4, ngram_warmup=1, verbose=0),
    {
        "segmenter__granularity": ["char", "word"],
        "blend__network__classifier__hidden_size": [8, 16],
    },
    cv=2, scoring="f1_macro",
)
grid.fit(X, y)

table = pd.DataFrame(grid.cv_results_).rename(columns={
    "param_segmenter__granularity": "granularity",
    "param_blend__network__classifier__hidden_size": "hidden_size",
    "mean_test_score": "macro-F1", "std_test_score": "std", "mean_fit_time": "fit s",
    "rank_test_score": "rank"})
table[["granularity", "hidden_size", "macro-F1", "std", "fit s", "rank"]].sort_values("rank")

# %%
# The best candidate, refitted on all 400 reviews, is an ordinary fitted pipeline; its
# blend says how much of the prediction comes from the network and how much from the
# linear part.

print(grid.best_params_)
print("blend weights (network, linear):", grid.best_estimator_[-1].weights_)
