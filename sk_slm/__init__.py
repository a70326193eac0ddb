"""sk_slm: Chinese text classification for scikit-learn.

jieba segmentation -> gensim Word2Vec embeddings -> a BiLSTM with attention (PyTorch,
wrapped by skorch), with the traditional baselines one call away.
"""

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> (module, attribute). Imported on first use (PEP 562), so that a module
# that needs no PyTorch (the ONNX serving path, the segmenter) loads without it.
_PUBLIC: dict[str, tuple[str, str]] = {
    "BASELINES": ("baselines", "BASELINES"),
    "make_baseline": ("baselines", "make_baseline"),
    "make_lstm_pipeline": ("baselines", "make_lstm_pipeline"),
    "BlendingClassifier": ("blending", "BlendingClassifier"),
    "BlendWeightWarning": ("blending", "BlendWeightWarning"),
    "LSTMAttentionClassifier": ("classifier", "LSTMAttentionClassifier"),
    "compare": ("comparison", "compare"),
    "partial_fit": ("continuation", "partial_fit"),
    "plot_comparison": ("comparison", "plot_comparison"),
    "load_reviews": ("datasets", "load_reviews"),
    "dask_backend": ("distributed", "dask_backend"),
    "AttentionHTML": ("explanation", "AttentionHTML"),
    "explain": ("explanation", "explain"),
    "faithfulness": ("faithfulness", "faithfulness"),
    "render_attention_html": ("explanation", "render_attention_html"),
    "AttentionRNN": ("module", "AttentionRNN"),
    "NGramTfidfVectorizer": ("ngram_vectorizer", "NGramTfidfVectorizer"),
    "UnsafeModelError": ("persistence", "UnsafeModelError"),
    "load_model": ("persistence", "load"),
    "save_model": ("persistence", "save"),
    "LanguageModelPretraining": ("pretraining", "LanguageModelPretraining"),
    "EpochProgress": ("progress", "EpochProgress"),
    "LanguageModelFeatures": ("language_model", "LanguageModelFeatures"),
    "PretrainedLanguageModel": ("language_model", "PretrainedLanguageModel"),
    "PretrainingSettings": ("language_model", "PretrainingSettings"),
    "load_language_model": ("language_model", "load_language_model"),
    "pretrain_language_model": ("language_model", "pretrain_language_model"),
    "JiebaSegmenter": ("segmenter", "JiebaSegmenter"),
    "SegmentedDocuments": ("segmenter", "SegmentedDocuments"),
    "check_documents": ("segmenter", "check_documents"),
    "clear_segmentation_cache": ("segmenter", "clear_segmentation_cache"),
    "passthrough_analyzer": ("segmenter", "passthrough_analyzer"),
    "TokenSequences": ("sequences", "TokenSequences"),
    "paired_difference": ("significance", "paired_difference"),
    "iter_batches": ("streaming", "iter_batches"),
    "predict_file": ("streaming", "predict_file"),
    "predict_stream": ("streaming", "predict_stream"),
    "EmptyDocumentWarning": ("vectorizer", "EmptyDocumentWarning"),
    "Word2VecVectorizer": ("vectorizer", "Word2VecVectorizer"),
    "check_token_lists": ("vectorizer", "check_token_lists"),
    "load_vectors": ("vectorizer", "load_vectors"),
    "export_onnx": ("onnx_model", "export_onnx"),
    "OnnxClassifier": ("onnx_model", "OnnxClassifier"),
}


__all__ = [
    "BASELINES",
    "make_baseline",
    "make_lstm_pipeline",
    "compare",
    "plot_comparison",
    "paired_difference",
    "load_reviews",
    "explain",
    "faithfulness",
    "render_attention_html",
    "AttentionHTML",
    "save_model",
    "load_model",
    "UnsafeModelError",
    "export_onnx",
    "OnnxClassifier",
    "iter_batches",
    "predict_stream",
    "predict_file",
    "dask_backend",
    "partial_fit",
    "LSTMAttentionClassifier",
    "BlendingClassifier",
    "BlendWeightWarning",
    "LanguageModelPretraining",
    "EpochProgress",
    "pretrain_language_model",
    "load_language_model",
    "LanguageModelFeatures",
    "PretrainedLanguageModel",
    "PretrainingSettings",
    "AttentionRNN",
    "JiebaSegmenter",
    "check_documents",
    "clear_segmentation_cache",
    "passthrough_analyzer",
    "TokenSequences",
    "Word2VecVectorizer",
    "NGramTfidfVectorizer",
    "EmptyDocumentWarning",
    "check_token_lists",
    "load_vectors",
]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'sk_slm' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
