"""Tune segmenter, embedding, network and linear-model parameters together with GridSearchCV.

    python examples/grid_search.py            # 1,500 bundled reviews, 3-fold CV
    python examples/grid_search.py --quick    # a tiny version (what the tests run)

``make_lstm_pipeline()`` is an ordinary scikit-learn Pipeline: a segmenter, then a
``BlendingClassifier`` of the network (Word2Vec -> LSTMAttentionClassifier) and a linear
model (TF-IDF -> LogisticRegression). One grid can mix ``segmenter__*``,
``blend__network__embedding__*``, ``blend__network__classifier__*`` and
``blend__linear__*``. The segmentation of each fold is computed once and served from the
segmenter's cache to every candidate that uses the same segmentation settings.
"""

import sys

from sklearn.model_selection import GridSearchCV, train_test_split

from sk_slm import load_reviews, make_lstm_pipeline

quick = "--quick" in sys.argv
n_docs, epochs, cv = (200, 2, 2) if quick else (1500, 10, 3)

X, y = load_reviews(return_X_y=True)
X, _, y, _ = train_test_split(X, y, train_size=n_docs, stratify=y, random_state=0)

pipe = make_lstm_pipeline(max_epochs=epochs, verbose=0)  # quiet: many fits
grid = {
    "segmenter__granularity": ["word", "char"],
    "blend__network__embedding__vector_size": [32, 64],
    "blend__network__classifier__hidden_size": [32, 64],
    "blend__linear__logreg__C": [10.0],
}
search = GridSearchCV(pipe, grid, cv=cv, scoring="f1_macro", n_jobs=2)
search.fit(X, y)

print(f"best macro-F1 {search.best_score_:.4f} with {search.best_params_}")
best = search.best_estimator_[-1]
print(f"the best candidate's blend: network {best.weights_[0]:g}, linear {best.weights_[1]:g}")
for params, score in sorted(
    zip(search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True),
    key=lambda item: -item[1],
):
    print(f"{score:.4f}  {params}")
