"""A small pre-trained character language model: pre-training it on unlabelled text,
loading it, scoring and sampling with it; the classifier fine-tunes its encoder."""

from .features import LanguageModelFeatures
from .model import PretrainedLanguageModel, load_language_model
from .settings import PretrainingSettings
from .training import pretrain_language_model

__all__ = ["LanguageModelFeatures", "PretrainedLanguageModel", "PretrainingSettings", "load_language_model",
           "pretrain_language_model"]
