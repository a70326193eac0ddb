"""Save and load sk_slm pipelines without pickle: JSON configuration + safetensors arrays.

Loading a pickle (or joblib) file runs whatever code the file names. A file written by
:func:`save` holds only data: ``manifest.json`` (estimator class names from a fixed
allow-list, their parameters, vocabularies, labels) and ``arrays.safetensors`` (word
vectors, IDF and SIF weights, the network's weights), plus a SHA-256 of the arrays.
:func:`load` rebuilds the estimators from that data alone; a class outside the
allow-list, a parameter that is not plain data, or arrays that do not match their
checksum make it refuse the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from typing import Any

import numpy as np
import torch
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder

from .classifier import LSTMAttentionClassifier, _selected
from .module import AttentionRNN
from .segmenter import JiebaSegmenter
from .vectorizer import Word2VecVectorizer

__all__ = ["save", "load", "UnsafeModelError"]

FORMAT = "sk_slm-safe"
VERSION = 1

_ESTIMATORS = {cls.__name__: cls for cls in (JiebaSegmenter, Word2VecVectorizer,
                                             LSTMAttentionClassifier)}
# Non-data parameter values that may be named in a file, by their dotted name.
_ALLOWED_OBJECTS: dict[str, Any] = {
    f"torch.optim.{name}": getattr(torch.optim, name)
    for name in ("Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adadelta", "NAdam", "RAdam")
}
_ALLOWED_OBJECTS.update({
    "torch.nn.CrossEntropyLoss": torch.nn.CrossEntropyLoss,
    "sk_slm.module.AttentionRNN": AttentionRNN,
    "torch.utils.data.DataLoader": torch.utils.data.DataLoader,
    "skorch.dataset.Dataset": __import__("skorch.dataset", fromlist=["Dataset"]).Dataset,
})
_NAME_OF = {obj: name for name, obj in _ALLOWED_OBJECTS.items()}


class UnsafeModelError(ValueError):
    """The file is not a valid sk_slm safe model, or asks for something not allowed."""


# --------------------------------------------------------------------------- encoding
def _encode_value(key: str, value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_encode_value(key, v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_encode_value(key, v) for v in value)
    if isinstance(value, dict):
        return {"__dict__": [[_encode_value(key, k), _encode_value(key, v)]
                             for k, v in value.items()]}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    try:
        if value in _NAME_OF:
            return {"__object__": _NAME_OF[value]}
    except TypeError:  # unhashable
        pass
    raise TypeError(
        f"parameter {key}={value!r} cannot be saved safely (only plain data and "
        f"{sorted(_ALLOWED_OBJECTS)} can); use joblib for this model, or reset it."
    )


def _decode_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__object__"}:
            name = value["__object__"]
            if name not in _ALLOWED_OBJECTS:
                raise UnsafeModelError(f"the file names {name!r}, which is not allowed.")
            return _ALLOWED_OBJECTS[name]
        if set(value) == {"__dict__"}:
            return {_decode_value(k): _decode_value(v) for k, v in value["__dict__"]}
        raise UnsafeModelError(f"unexpected object in the file: {sorted(value)[:3]}")
    return value


def _params(est) -> dict:
    raw = est.get_params(deep=False)
    if isinstance(est, LSTMAttentionClassifier):
        raw = {k: v for k, v in raw.items() if k != "_params_to_validate"}
        if raw.get("callbacks"):
            raise TypeError("custom skorch callbacks cannot be saved safely; use joblib.")
        if isinstance(raw.get("linear_blend"), np.ndarray):
            raw["linear_blend"] = [float(w) for w in raw["linear_blend"]]
    if isinstance(est, Word2VecVectorizer) and not isinstance(raw.get("corpus"), (str, type(None))):
        raw["corpus"] = None  # the training text is not needed to transform
    return {k: _encode_value(k, v) for k, v in raw.items()}


def _state(est, prefix: str, arrays: dict) -> dict:
    """Fitted state: JSON-able facts in the return value, arrays into ``arrays``."""
    if isinstance(est, JiebaSegmenter):
        if not hasattr(est, "user_words_"):
            return {}
        return {"user_words_": [list(w) for w in est.user_words_],
                "stop_words_": sorted(est.stop_words_)}
    if isinstance(est, Word2VecVectorizer):
        arrays[f"{prefix}vectors"] = np.ascontiguousarray(est.wv_.vectors, dtype=np.float32)
        for name in ("idf_", "sif_weights_", "sif_component_"):
            arrays[f"{prefix}{name}"] = np.ascontiguousarray(getattr(est, name))
        return {"vocabulary": list(est.wv_.index_to_key), "n_empty_docs_": est.n_empty_docs_,
                "n_features_out_": est.n_features_out_,
                "n_added_tokens_": getattr(est, "n_added_tokens_", 0)}
    clf: LSTMAttentionClassifier = est
    for name, tensor in clf.module_.state_dict().items():
        arrays[f"{prefix}module.{name}"] = tensor.detach().cpu().contiguous().numpy()
    classes = clf.classes_
    state = {"n_vocab_": clf.n_vocab_, "embedding_dim_": clf.embedding_dim_,
             "best_epoch_": getattr(clf, "best_epoch_", None),
             "ngram_lr_": getattr(clf, "ngram_lr_", None),
             "linear_weight_": getattr(clf, "linear_weight_", 0.0),
             "linear_C_": getattr(clf, "linear_C_", None),
             "validation_log_loss_": getattr(clf, "validation_log_loss_", None),
             "validation_score_": getattr(clf, "validation_score_", None),
             "retried_without_linear_": bool(getattr(clf, "retried_without_linear_", False)),
             "train_passes_": [[name, int(n)] for name, n in getattr(clf, "train_passes_", [])],
             "pretrain_loss_": getattr(clf, "pretrain_loss_", None),
             "n_pretrain_documents_": getattr(clf, "n_pretrain_documents_", 0),
             "vocabulary_": clf.vocabulary_,
             "sequence_vocabulary_": (None if clf.sequence_vocabulary_ is None
                                      else [clf.sequence_vocabulary_[0],
                                            list(clf.sequence_vocabulary_[1])])}
    if classes.dtype.kind in "iub":
        arrays[f"{prefix}classes"] = classes
        state["classes"] = None
    else:
        state["classes"] = [str(c) for c in classes]
    if hasattr(clf, "class_weight_"):
        arrays[f"{prefix}class_weight_"] = np.asarray(clf.class_weight_, dtype=np.float64)
    if hasattr(clf, "ngram_idf_"):
        arrays[f"{prefix}ngram_idf_"] = np.ascontiguousarray(clf.ngram_idf_, dtype=np.float32)
    if hasattr(clf, "ngram_vocabulary_"):
        arrays[f"{prefix}ngram_vocabulary_"] = np.ascontiguousarray(clf.ngram_vocabulary_,
                                                                    dtype=np.int64)
    return state


def save(model: Pipeline | Any, path: str | os.PathLike) -> None:
    """Save a fitted sk_slm pipeline (or one sk_slm estimator) in the safe format.

    Parameters
    ----------
    model : Pipeline or estimator
        Every step must be a JiebaSegmenter, Word2VecVectorizer or
        LSTMAttentionClassifier. Pipelines with other scikit-learn steps (the TF-IDF
        baselines) can be saved with skops.io or joblib instead.
    path : str or path-like
        The file to write (a zip archive; ``.slm`` is a good suffix).
    """
    from safetensors.numpy import save as st_save

    steps = model.steps if isinstance(model, Pipeline) else [("model", model)]
    arrays: dict[str, np.ndarray] = {}
    manifest_steps = []
    for i, (name, est) in enumerate(steps):
        cls = type(est).__name__
        if _ESTIMATORS.get(cls) is not type(est):
            raise TypeError(
                f"step {name!r} is a {cls}; the safe format holds only sk_slm estimators "
                f"({', '.join(_ESTIMATORS)}). Use skops.io or joblib for this pipeline."
            )
        manifest_steps.append({"name": name, "class": cls, "params": _params(est),
                               "state": _state(est, f"{i}.", arrays)})
    blob = st_save(arrays) if arrays else b""
    manifest = {"format": FORMAT, "version": VERSION, "pipeline": isinstance(model, Pipeline),
                "steps": manifest_steps, "arrays_sha256": hashlib.sha256(blob).hexdigest()}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
        zf.writestr("arrays.safetensors", blob)


# --------------------------------------------------------------------------- decoding
def _is_number(value: Any) -> bool:
    # JSON gives int, float or bool; True is an int to Python but no count or weight.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _restore(cls, params: dict, state: dict, arrays: dict, prefix: str):
    est = cls(**params)
    if cls is JiebaSegmenter:
        if state:
            est.user_words_ = [(w, f) for w, f in state["user_words_"]]
            est.stop_words_ = frozenset(state["stop_words_"])
        return est
    if cls is Word2VecVectorizer:
        from gensim.models import KeyedVectors

        vectors = arrays[f"{prefix}vectors"]
        vocab = state["vocabulary"]
        if vectors.shape[0] != len(vocab):
            raise UnsafeModelError("the vectors do not match the vocabulary.")
        wv = KeyedVectors(vectors.shape[1])
        wv.add_vectors(vocab, vectors)
        est.wv_ = wv
        for name in ("idf_", "sif_weights_", "sif_component_"):
            setattr(est, name, arrays[f"{prefix}{name}"])
        est.n_empty_docs_ = state["n_empty_docs_"]
        est.n_features_out_ = state["n_features_out_"]
        est.n_added_tokens_ = int(state.get("n_added_tokens_", 0))  # absent before missing_tokens
        return est
    classes = arrays[f"{prefix}classes"] if state["classes"] is None else np.array(state["classes"])
    est.label_encoder_ = LabelEncoder()
    est.label_encoder_.classes_ = classes
    est.n_vocab_ = state["n_vocab_"]
    for name in ("best_epoch_", "ngram_lr_"):
        if state.get(name) is not None:
            setattr(est, name, state[name])
    if not hasattr(est, "ngram_lr_") and est.ngram_lr != "auto":
        est.ngram_lr_ = est.ngram_lr  # a file written before ngram_lr="auto" existed
    # Files written before linear_blend store which model linear_fallback kept, or nothing
    # (the network).
    weight = state.get("linear_weight_", 1.0 if state.get("selected_") == "linear" else 0.0)
    if not (_is_number(weight) and 0 <= weight <= 1):
        raise UnsafeModelError(f"linear_weight_ must be in [0, 1], got {weight!r}.")
    est.linear_weight_ = float(weight)
    est.selected_ = _selected(est.linear_weight_)
    est.linear_C_ = state.get("linear_C_")
    est.validation_log_loss_ = state.get("validation_log_loss_")
    est.validation_score_ = state.get("validation_score_")  # absent before blend_scoring
    est.retried_without_linear_ = state.get("retried_without_linear_", False) is True
    passes = state.get("train_passes_", [])  # absent before train_passes_ existed
    if not (isinstance(passes, list) and all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
            and _is_number(p[1]) and isinstance(p[1], int) and p[1] >= 0 for p in passes)):
        raise UnsafeModelError(f"train_passes_ must be a list of [name, epochs], got {passes!r}.")
    est.train_passes_ = [(name, n) for name, n in passes]
    losses = state.get("pretrain_loss_")  # absent before pretrain_epochs existed
    if losses is not None and not (isinstance(losses, list) and all(map(_is_number, losses))):
        raise UnsafeModelError(f"pretrain_loss_ must be a list of numbers, got {losses!r}.")
    est.pretrain_loss_ = losses
    n_docs = state.get("n_pretrain_documents_", 0)
    if not (_is_number(n_docs) and isinstance(n_docs, int) and n_docs >= 0):
        raise UnsafeModelError(f"n_pretrain_documents_ must be an int >= 0, got {n_docs!r}.")
    est.n_pretrain_documents_ = n_docs
    est.embedding_dim_ = state["embedding_dim_"]
    est.vocabulary_ = state["vocabulary_"]
    seq = state["sequence_vocabulary_"]
    est.sequence_vocabulary_ = None if seq is None else (seq[0], tuple(seq[1]))
    if f"{prefix}class_weight_" in arrays:
        est.class_weight_ = arrays[f"{prefix}class_weight_"]
    if f"{prefix}ngram_idf_" in arrays:
        est.ngram_idf_ = arrays[f"{prefix}ngram_idf_"]
    if f"{prefix}ngram_vocabulary_" in arrays:
        est.ngram_vocabulary_ = arrays[f"{prefix}ngram_vocabulary_"]
    est.initialize()
    module_state = {k[len(prefix) + len("module."):]: torch.from_numpy(v.copy())
                    for k, v in arrays.items() if k.startswith(prefix + "module.")}
    try:
        est.module_.load_state_dict(module_state)
    except RuntimeError as exc:
        raise UnsafeModelError(f"the network weights do not fit the model: {exc}") from None
    est.module_.to(est.device)
    return est


def _usable_device(saved: Any, requested: str | None) -> str:
    if requested is not None:
        return requested
    if str(saved).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"the model was saved with device={saved!r} but CUDA is not available; "
            "it is loaded on the CPU.", UserWarning, stacklevel=3,
        )
        return "cpu"
    return saved


def load(path: str | os.PathLike, *, device: str | None = None) -> Any:
    """Load a model written by :func:`save`; no code from the file is ever run.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str, default=None
        Torch device of the loaded classifier, e.g. "cpu". By default the device it
        was saved with; a model saved from "cuda" loads on "cpu" (with a warning) where
        no GPU is available, as skorch does when unpickling.

    Returns
    -------
    Pipeline or estimator
        What was saved, fitted.

    Raises
    ------
    UnsafeModelError
        When the file is not in the safe format, names a class or object that is not on
        the allow-list, or its arrays were altered (checksum mismatch).
    """
    from safetensors.numpy import load as st_load

    try:
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json").decode("utf-8"))
            blob = zf.read("arrays.safetensors")
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnsafeModelError(f"{os.fspath(path)!r} is not an sk_slm safe model: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UnsafeModelError(f"{os.fspath(path)!r} is not an sk_slm safe model.")
    if manifest.get("version") != VERSION:
        raise UnsafeModelError(f"unsupported format version {manifest.get('version')!r}.")
    if hashlib.sha256(blob).hexdigest() != manifest.get("arrays_sha256"):
        raise UnsafeModelError("the arrays do not match their checksum: the file was altered.")
    arrays = dict(st_load(blob)) if blob else {}
    steps = []
    for i, step in enumerate(manifest.get("steps", [])):
        cls = _ESTIMATORS.get(step.get("class"))
        if cls is None:
            raise UnsafeModelError(f"the file names class {step.get('class')!r}, which is not allowed.")
        params = {k: _decode_value(v) for k, v in step.get("params", {}).items()}
        if cls is LSTMAttentionClassifier:
            params["device"] = _usable_device(params.get("device", "cpu"), device)
            if "linear_fallback" in params:  # written before linear_blend replaced it
                params["linear_blend"] = (0.0, 1.0) if params.pop("linear_fallback") else None
            if isinstance(params.get("linear_blend"), list):
                params["linear_blend"] = tuple(params["linear_blend"])
        try:
            steps.append((step["name"], _restore(cls, params, step.get("state", {}), arrays, f"{i}.")))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, UnsafeModelError):
                raise
            raise UnsafeModelError(f"step {step.get('name')!r} cannot be rebuilt: {exc}") from None
    if not steps:
        raise UnsafeModelError("the file holds no estimator.")
    return Pipeline(steps) if manifest.get("pipeline") else steps[0][1]
