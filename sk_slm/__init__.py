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
    "BASELINES": ("pipelines", "BASELINES"),
    "make_baseline": ("pipelines", "make_baseline"),
    "make_lstm_pipeline": ("pipelines", "make_lstm_pipeline"),
    "BlendingClassifier": ("blending", "BlendingClassifier"),
    "BlendWeightWarning": ("blending", "BlendWeightWarning"),
    "LSTMAttentionClassifier": ("network.classifier", "LSTMAttentionClassifier"),
    "compare": ("evaluation.comparison", "compare"),
    "partial_fit": ("network.continuation", "partial_fit"),
    "plot_comparison": ("evaluation.comparison", "plot_comparison"),
    "load_reviews": ("datasets", "load_reviews"),
    "dask_backend": ("distributed", "dask_backend"),
    "AttentionHTML": ("evaluation.explanation", "AttentionHTML"),
    "explain": ("evaluation.explanation", "explain"),
    "faithfulness": ("evaluation.faithfulness", "faithfulness"),
    "render_attention_html": ("evaluation.explanation", "render_attention_html"),
    "AttentionRNN": ("network.module", "AttentionRNN"),
    "NGramTfidfVectorizer": ("features.ngrams", "NGramTfidfVectorizer"),
    "UnsafeModelError": ("serving.persistence", "UnsafeModelError"),
    "load_model": ("serving.persistence", "load_model"),
    "save_model": ("serving.persistence", "save_model"),
    "LanguageModelPretraining": ("network.pretraining", "LanguageModelPretraining"),
    "EpochProgress": ("network.progress", "EpochProgress"),
    "LanguageModelFeatures": ("language_model", "LanguageModelFeatures"),
    "PretrainedLanguageModel": ("language_model", "PretrainedLanguageModel"),
    "PretrainingSettings": ("language_model", "PretrainingSettings"),
    "load_language_model": ("language_model", "load_language_model"),
    "pretrain_language_model": ("language_model", "pretrain_language_model"),
    "JiebaSegmenter": ("text.segmenter", "JiebaSegmenter"),
    "SegmentedDocuments": ("text.segmenter", "SegmentedDocuments"),
    "check_documents": ("text.segmenter", "check_documents"),
    "clear_segmentation_cache": ("text.segmenter", "clear_segmentation_cache"),
    "passthrough_analyzer": ("text.segmenter", "passthrough_analyzer"),
    "TokenSequences": ("features.sequences", "TokenSequences"),
    "TokenIndexer": ("features.indexing", "TokenIndexer"),
    "paired_difference": ("evaluation.significance", "paired_difference"),
    "iter_batches": ("serving.streaming", "iter_batches"),
    "predict_file": ("serving.streaming", "predict_file"),
    "predict_stream": ("serving.streaming", "predict_stream"),
    "EmptyDocumentWarning": ("features.word2vec", "EmptyDocumentWarning"),
    "Word2VecVectorizer": ("features.word2vec", "Word2VecVectorizer"),
    "check_token_lists": ("features.sequences", "check_token_lists"),
    "load_vectors": ("features.word2vec", "load_vectors"),
    "export_onnx": ("serving.onnx", "export_onnx"),
    "OnnxClassifier": ("serving.onnx", "OnnxClassifier"),
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
    "TokenIndexer",
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
