"""Tune segmenter, embedding and classifier parameters together with GridSearchCV.

    python examples/grid_search.py            # 1,500 bundled reviews, 3-fold CV
    python examples/grid_search.py --quick    # a tiny version (what the tests run)

Every step of the pipeline is an ordinary scikit-learn estimator, so one grid can mix
``jiebasegmenter__*``, ``word2vecvectorizer__*`` and ``lstmattentionclassifier__*``.
The segmentation of each fold is computed once and served from the segmenter's cache
to every candidate that uses the same segmentation settings.
"""

import sys

from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from sk_slm import JiebaSegmenter, LSTMAttentionClassifier, Word2VecVectorizer, load_reviews

quick = "--quick" in sys.argv
n_docs, epochs, cv = (200, 2, 2) if quick else (1500, 10, 3)

X, y = load_reviews(return_X_y=True)
X, _, y, _ = train_test_split(X, y, train_size=n_docs, stratify=y, random_state=0)

pipe = make_pipeline(
    JiebaSegmenter(),
    Word2VecVectorizer(output="sequence", random_state=0),
    LSTMAttentionClassifier(max_epochs=epochs, random_state=0),
)
grid = {
    "jiebasegmenter__granularity": ["word", "char"],
    "word2vecvectorizer__vector_size": [32, 64],
    "lstmattentionclassifier__hidden_size": [32, 64],
    "lstmattentionclassifier__lr": [2e-3],
}
search = GridSearchCV(pipe, grid, cv=cv, scoring="f1_macro", n_jobs=2)
search.fit(X, y)

print(f"best macro-F1 {search.best_score_:.4f} with {search.best_params_}")
for params, score in sorted(
    zip(search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True),
    key=lambda item: -item[1],
):
    print(f"{score:.4f}  {params}")
