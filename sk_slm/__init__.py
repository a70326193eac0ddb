"""sk_slm: Chinese text classification for scikit-learn.

jieba segmentation -> gensim Word2Vec embeddings -> a BiLSTM with attention (PyTorch,
wrapped by skorch), with the traditional baselines one call away.
"""

from .baselines import BASELINES, make_baseline, make_lstm_pipeline
from .blending import BlendingClassifier
from .classifier import LSTMAttentionClassifier
from .compare import compare, plot_comparison
from .datasets import load_reviews
from .distributed import dask_backend
from .explain import AttentionHTML, explain, render_attention_html
from .module import AttentionRNN
from .persistence import UnsafeModelError
from .persistence import load as load_model
from .persistence import save as save_model
from .pretraining import LanguageModelPretraining
from .segmenter import (
    JiebaSegmenter,
    SegmentedDocuments,
    check_documents,
    clear_segmentation_cache,
    passthrough_analyzer,
)
from .sequences import TokenSequences
from .significance import paired_difference
from .streaming import iter_batches, predict_file, predict_stream
from .vectorizer import EmptyDocumentWarning, Word2VecVectorizer, check_token_lists, load_vectors

__version__ = "0.1.0"

__all__ = [
    "BASELINES",
    "make_baseline",
    "make_lstm_pipeline",
    "compare",
    "plot_comparison",
    "paired_difference",
    "load_reviews",
    "explain",
    "render_attention_html",
    "AttentionHTML",
    "save_model",
    "load_model",
    "UnsafeModelError",
    "iter_batches",
    "predict_stream",
    "predict_file",
    "dask_backend",
    "LSTMAttentionClassifier",
    "BlendingClassifier",
    "LanguageModelPretraining",
    "AttentionRNN",
    "JiebaSegmenter",
    "SegmentedDocuments",
    "check_documents",
    "clear_segmentation_cache",
    "passthrough_analyzer",
    "TokenSequences",
    "Word2VecVectorizer",
    "EmptyDocumentWarning",
    "check_token_lists",
    "load_vectors",
]
