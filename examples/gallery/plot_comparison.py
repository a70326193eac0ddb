"""
Comparing the network with the baselines
========================================

:func:`sk_slm.compare` cross-validates every model on the same stratified folds and
returns one row per model; with ``reference=`` it also gives each model's difference
from that one, fold by fold, which is far less noisy than comparing two means.
:func:`sk_slm.plot_comparison` draws the score against the fit time.

Here: 450 of the bundled reviews, 3 folds, a small network, so that the page builds in
seconds. On so little data the figures say little; the full comparison on the real data
sets is in ``benchmarks/``.
"""

from sk_slm import compare, load_reviews, make_baseline, make_lstm_pipeline, plot_comparison

X, y = load_reviews(return_X_y=True)
X, y = X[:450], y[:450]

models = {
    "svm_char_tfidf": make_baseline("svm_char_tfidf"),
    "nb_word_counts": make_baseline("nb_word_counts"),
    "tree_word_tfidf": make_baseline("tree_word_tfidf"),
    "sk_slm (small)": make_lstm_pipeline(hidden_size=16, max_epochs=4, ngram_warmup=1),
}
df = compare(X, y, models=models, cv=3, reference="svm_char_tfidf")
df[["f1_macro_mean", "f1_macro_std", "f1_macro_diff_mean", "f1_macro_folds_ahead",
    "fit_seconds"]].round(3)

# %%
# Score against training cost (log scale); the error bars are the std over folds.

ax = plot_comparison(df, score="f1_macro")
