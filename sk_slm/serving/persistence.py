"""Save and load sk_slm models without pickle: JSON configuration + safetensors arrays.

Loading a pickle (or joblib) file runs whatever code the file names. A file written by
:func:`save_model` holds only data: ``manifest.json`` (the model as a tree of estimators
from a fixed allow-list, with their parameters and plain fitted facts such as
vocabularies and labels) and ``arrays.safetensors`` (word vectors, IDF, the network's and
the linear models' weights), plus a SHA-256 of the arrays. :func:`load_model` rebuilds
the estimators from that data alone.

What this protects against, and what not (the threat model):

- **Code execution on load: always.** No pickle is read; only allow-listed classes and
  objects can be named, and parameters are plain data.
- **Accidental damage: always.** A truncated, empty or foreign file, arrays that do not
  match their checksum, and a manifest that does not fit its arrays (shapes, vocabulary
  sizes, class counts, blend weights against parts) are refused.
- **Deliberate edits: only when you check the file against something kept apart from
  it.** The arrays' checksum lives inside the file, so whoever edits a file can update it;
  a manifest edit (say, two labels swapped) makes a valid model that predicts wrong.
  :func:`save_model` returns the SHA-256 of the whole file: keep it, and pass it to
  ``load_model(path, sha256=...)``, which refuses any other file. Services that load
  models from shared storage can sign instead: ``save_model(model, path, key=...)`` adds
  an HMAC-SHA256 of the manifest and arrays, and ``load_model(path, key=...)`` refuses a
  file whose signature is missing or does not match.
- **Not protected: a crafted model that is valid.** A file made by someone else with the
  weights or labels they chose loads and predicts what they chose; only the hash or the
  key tells you it is the file you made. Files are not encrypted.

What each estimator saves is declared in one place: :data:`SAVED_STATE` lists, per class,
its fitted attributes and their kind; the few members that are objects rather than data
(the torch module, the word vectors, the label encoder, the wide part's n-grams) have a
codec below.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import warnings
import zipfile
import zlib
from typing import Any

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch

from .._files import written_whole
from .._validation import same_value, validate_params
from ..blending import BlendingClassifier
from ..features._ngram_tfidf import NGramTfidf
from ..features.indexing import TokenIndexer
from ..features.ngrams import NGramTfidfVectorizer
from ..features.word2vec import Word2VecVectorizer
from ..network.classifier import LSTMAttentionClassifier
from ..network.module import AttentionRNN
from ..text.segmenter import JiebaSegmenter, passthrough_analyzer

__all__ = ["save_model", "load_model", "UnsafeModelError", "SAVED_STATE"]

FORMAT = "sk_slm-safe"
VERSION = 2

# The fitted attributes each estimator saves, by kind: "array" (a numeric ndarray, in
# the arrays file), "labels" (class labels: an array when numeric, else a JSON list),
# "int", "float", "bool", "json" (plain data) and "codec" (an object, see _CODECS).
# Adding a fitted attribute that predictions need is one entry here.
SAVED_STATE: dict[type, dict[str, str]] = {
    JiebaSegmenter: {"user_words_": "json", "stop_words_": "json", "feature_names_in_": "json"},
    Word2VecVectorizer: {"wv_": "codec", "n_empty_docs_": "int",
                         "n_features_out_": "int", "n_added_tokens_": "int"},
    TokenIndexer: {"vocabulary_": "json"},
    LSTMAttentionClassifier: {"label_encoder_": "codec", "n_vocab_": "int",
                              "embedding_dim_": "int", "vocabulary_": "json",
                              "sequence_vocabulary_": "json", "ngrams_": "codec",
                              "ngram_lr_": "float", "best_epoch_": "int",
                              "train_passes_": "json", "pretrain_loss_": "json",
                              "retried_without_ngrams_": "bool", "encoder_": "json",
                              "module_": "codec"},
    TfidfVectorizer: {"vocabulary_": "json", "idf_": "array"},
    NGramTfidfVectorizer: {"vocabulary_": "json", "ngram_codes_": "array", "idf_": "array"},
    LogisticRegression: {"classes_": "labels", "coef_": "array", "intercept_": "array",
                         "n_iter_": "array", "n_features_in_": "int"},
    BlendingClassifier: {"classes_": "labels", "weights_": "array", "temperature_": "float",
                         "candidate_weights_": "array", "validation_log_loss_": "array",
                         "validation_index_": "array", "single_class_parts_": "json"},
    Pipeline: {},
}
_CLASSES = {cls.__name__: cls for cls in SAVED_STATE}
# Estimators made of other estimators: the parameter that holds them.
_PARTS = {Pipeline: "steps", BlendingClassifier: "estimators"}

# Non-data parameter values that may be named in a file, by their dotted name.
_ALLOWED_OBJECTS: dict[str, Any] = {
    f"torch.optim.{name}": getattr(torch.optim, name)
    for name in ("Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adadelta", "NAdam", "RAdam")
}
_ALLOWED_OBJECTS.update({
    "torch.nn.CrossEntropyLoss": torch.nn.CrossEntropyLoss,
    "sk_slm.module.AttentionRNN": AttentionRNN,  # the names of files saved before 0.1.0's
    "sk_slm.segmenter.passthrough_analyzer": passthrough_analyzer,  # folders (still read)
    "sk_slm.network.module.AttentionRNN": AttentionRNN,
    "torch.utils.data.DataLoader": torch.utils.data.DataLoader,
    "skorch.dataset.Dataset": __import__("skorch.dataset", fromlist=["Dataset"]).Dataset,
    "sk_slm.text.segmenter.passthrough_analyzer": passthrough_analyzer,
    "numpy.float64": np.float64,
    "numpy.float32": np.float32,
})
_NAME_OF = {obj: name for name, obj in _ALLOWED_OBJECTS.items()}


class UnsafeModelError(ValueError):
    """The file is not a valid sk_slm safe model, or asks for something not allowed."""


# --------------------------------------------------------------------------- values
def _encode_value(key: str, value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray) and value.ndim <= 2 and value.dtype.kind in "iufb":
        return value.tolist()
    if (isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "OU"
            and all(isinstance(v, str) for v in value.tolist())):  # names (feature_names_in_)
        return value.tolist()
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


def _is_number(value: Any) -> bool:
    # JSON gives int, float or bool; True is an int to Python but no count or weight.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- codecs
def _save_module(est: LSTMAttentionClassifier, key: str, arrays: dict) -> Any:
    for name, tensor in est.module_.state_dict().items():
        arrays[f"{key}.{name}"] = tensor.detach().cpu().contiguous().numpy()
    return None


def _load_module(est: LSTMAttentionClassifier, key: str, value: Any, arrays: dict) -> None:
    est.initialize()
    prefix = key + "."
    state = {k[len(prefix):]: torch.from_numpy(v.copy())
             for k, v in arrays.items() if k.startswith(prefix)}
    try:
        est.module_.load_state_dict(state)
    except RuntimeError as exc:
        raise UnsafeModelError(f"the network weights do not fit the model: {exc}") from None
    est.module_.to(est.device)


def _save_ngrams(est: LSTMAttentionClassifier, key: str, arrays: dict) -> Any:
    if est.ngrams_ is None:
        return None
    arrays[f"{key}.vocabulary"] = est.ngrams_.vocabulary_
    arrays[f"{key}.idf"] = est.ngrams_.tfidf_.idf_
    return {"n": est.ngrams_.n, "n_tokens": est.ngrams_.n_tokens}


def _load_ngrams(est: LSTMAttentionClassifier, key: str, value: Any, arrays: dict) -> None:
    if value is None:
        est.ngrams_ = None
        return
    codes, idf = arrays[f"{key}.vocabulary"], arrays[f"{key}.idf"]
    if idf.shape != codes.shape:
        raise UnsafeModelError("the n-gram IDF does not match the n-gram vocabulary.")
    ngrams = NGramTfidf.fitted(int(value["n"]), int(value["n_tokens"]), codes, idf)
    est.ngrams_ = ngrams


def _save_label_encoder(est: Any, key: str, arrays: dict) -> Any:
    return _save_labels(est.label_encoder_.classes_, key, arrays)


def _load_label_encoder(est: Any, key: str, value: Any, arrays: dict) -> None:
    est.label_encoder_ = LabelEncoder()
    est.label_encoder_.classes_ = _load_labels(key, value, arrays)


def _save_vectors(est: Word2VecVectorizer, key: str, arrays: dict) -> Any:
    arrays[key] = np.ascontiguousarray(est.wv_.vectors, dtype=np.float32)
    return list(est.wv_.index_to_key)


def _load_vectors(est: Word2VecVectorizer, key: str, value: Any, arrays: dict) -> None:
    from gensim.models import KeyedVectors

    vectors = arrays[key]
    if not isinstance(value, list) or vectors.shape[0] != len(value):
        raise UnsafeModelError("the vectors do not match the vocabulary.")
    wv = KeyedVectors(vectors.shape[1])
    wv.add_vectors(value, vectors)
    est.wv_ = wv


_CODECS = {
    "module_": (_save_module, _load_module),
    "ngrams_": (_save_ngrams, _load_ngrams),
    "label_encoder_": (_save_label_encoder, _load_label_encoder),
    "wv_": (_save_vectors, _load_vectors),
}


def _save_labels(labels: np.ndarray, key: str, arrays: dict) -> Any:
    if labels.dtype.kind in "iub":
        arrays[key] = labels
        return None
    return [str(c) for c in labels]


def _load_labels(key: str, value: Any, arrays: dict) -> np.ndarray:
    if value is None:
        labels = arrays[key]
    elif isinstance(value, list) and all(isinstance(c, str) for c in value):
        labels = np.array(value)
    else:
        raise UnsafeModelError(f"{key}: class labels must be a list of strings.")
    if labels.ndim != 1 or not np.array_equal(np.unique(labels), labels):
        raise UnsafeModelError(f"{key}: class labels must be distinct and sorted, as fit "
                               "leaves them.")
    return labels


_KINDS = {
    "int": lambda v: _is_number(v) and isinstance(v, int),
    "float": _is_number,
    "bool": lambda v: isinstance(v, bool),
}


# --------------------------------------------------------------------------- save
def _node(est: Any, key: str, arrays: dict) -> dict:
    cls = type(est)
    if cls not in SAVED_STATE:
        raise TypeError(
            f"{key} is a {cls.__name__}; the safe format holds only "
            f"{', '.join(sorted(_CLASSES))}. Use skops.io or joblib for this model.")
    parts_param = _PARTS.get(cls)
    params = est.get_params(deep=False)
    if isinstance(est, LSTMAttentionClassifier) and params.get("callbacks"):
        raise TypeError("custom skorch callbacks cannot be saved safely; use joblib.")
    if isinstance(est, Word2VecVectorizer):
        if not isinstance(params.get("corpus"), (str, type(None))):
            params["corpus"] = None  # the training text is not needed to transform
        segmenter = params.get("segmenter")
        # It segments the corpus only: kept (by its settings) with a corpus file's path.
        params["segmenter"] = (None if segmenter is None or params["corpus"] is None
                               else segmenter.get_params())
    node: dict[str, Any] = {"class": cls.__name__}
    if parts_param:
        parts = params.pop(parts_param)
        if cls is BlendingClassifier:
            parts = list(zip([n for n, _ in parts], est.estimators_, strict=True))
        node["parts"] = [[name, _node(part, f"{key}.{name}", arrays)] for name, part in parts]
    if not parts_param:  # only what differs from the defaults
        defaults = cls().get_params(deep=False)
        params = {k: v for k, v in params.items()
                  if k not in defaults or not same_value(v, defaults[k])}
    node["params"] = {k: _encode_value(k, v) for k, v in params.items()}
    state = {}
    for name, kind in SAVED_STATE[cls].items():
        if not hasattr(est, name):
            continue  # e.g. an unfitted segmenter
        value = getattr(est, name)
        if kind == "codec":
            state[name] = _CODECS[name][0](est, f"{key}.{name}", arrays)
        elif value is None:
            state[name] = None
        elif kind == "array":
            arrays[f"{key}.{name}"] = np.ascontiguousarray(value)
        elif kind == "labels":
            state[name] = _save_labels(np.asarray(value), f"{key}.{name}", arrays)
        else:
            state[name] = _encode_value(name, value)
    node["state"] = state
    return node


def save_model(model: Any, path: str | os.PathLike, *, key: bytes | str | None = None) -> str:
    """Save a fitted sk_slm model in the safe format; return the file's SHA-256.

    The file is written beside ``path`` and moved into place when complete, so a crash or
    a full disk never leaves half a file there (a previous file survives until the new
    one is whole).

    Parameters
    ----------
    model : estimator or Pipeline
        Made of :class:`~sk_slm.JiebaSegmenter`, :class:`~sk_slm.Word2VecVectorizer`,
        :class:`~sk_slm.LSTMAttentionClassifier`, :class:`~sk_slm.BlendingClassifier`,
        :class:`~sk_slm.NGramTfidfVectorizer`, scikit-learn's ``TfidfVectorizer`` and
        ``LogisticRegression``, and
        ``Pipeline``: the default :func:`~sk_slm.make_lstm_pipeline` and its parts.
        Other models (the LinearSVC baselines) can be saved with skops.io or joblib.
    path : str or path-like
        The file to write (a zip archive; ``.slm`` is a good suffix).
    key : bytes or str, default=None
        Sign the file with this secret (HMAC-SHA256 of the manifest and the arrays), for
        ``load_model(path, key=...)`` to verify.

    Returns
    -------
    str
        The SHA-256 (hex) of the file written, for ``load_model(path, sha256=...)``.
    """
    from safetensors.numpy import save as st_save

    arrays: dict[str, np.ndarray] = {}
    tree = _node(model, "model", arrays)
    blob = st_save(arrays) if arrays else b""
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "model": tree,
                           "arrays_sha256": hashlib.sha256(blob).hexdigest()},
                          ensure_ascii=False).encode("utf-8")
    with written_whole(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", manifest)
            zf.writestr("arrays.safetensors", blob)
            if key is not None:
                zf.writestr(_SIGNATURE, _sign(key, manifest, blob))
        with open(tmp, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()


_SIGNATURE = "signature.hmac"
_MEMBERS = {"manifest.json", "arrays.safetensors"}


def _sign(key: bytes | str, manifest: bytes, blob: bytes) -> str:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes) or not key:
        raise ValueError("key must be a non-empty bytes or str secret.")
    mac = hmac.new(key, digestmod="sha256")
    for part in (b"manifest.json", manifest, b"arrays.safetensors", blob):
        mac.update(len(part).to_bytes(8, "big") + part)  # lengths: no shifting of bytes
    return mac.hexdigest()


# --------------------------------------------------------------------------- load
def _usable_device(saved: Any, requested: str | None) -> str:
    if requested is not None:
        return requested
    if str(saved).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"the model was saved with device={saved!r} but CUDA is not available; "
            "it is loaded on the CPU.", UserWarning, stacklevel=4,
        )
        return "cpu"
    return saved


def _rebuild(node: Any, key: str, arrays: dict, device: str | None) -> Any:
    if not isinstance(node, dict):
        raise UnsafeModelError(f"{key}: expected an estimator, got {type(node).__name__}.")
    cls = _CLASSES.get(node.get("class"))
    if cls is None:
        raise UnsafeModelError(
            f"the file names class {node.get('class')!r}, which is not allowed.")
    params = {k: _decode_value(v) for k, v in node.get("params", {}).items()}
    parts = None
    if cls in _PARTS:
        parts = [(name, _rebuild(part, f"{key}.{name}", arrays, device))
                 for name, part in node.get("parts", [])]
        params[_PARTS[cls]] = parts
    if cls is LSTMAttentionClassifier:
        params["device"] = _usable_device(params.get("device", "cpu"), device)
    if cls in (TfidfVectorizer, NGramTfidfVectorizer) and isinstance(
            params.get("ngram_range"), list):
        params["ngram_range"] = tuple(params["ngram_range"])
    try:
        if cls is Word2VecVectorizer and isinstance(params.get("segmenter"), dict):
            params["segmenter"] = JiebaSegmenter(**params["segmenter"])
        est = cls(**params)
    except TypeError as exc:
        raise UnsafeModelError(f"{key} cannot be rebuilt: {exc}") from None
    state = node.get("state", {})
    for name, kind in SAVED_STATE[cls].items():
        if kind == "array" and f"{key}.{name}" in arrays:
            try:  # scikit-learn's setters check some against the rest (TfidfVectorizer.idf_)
                setattr(est, name, arrays[f"{key}.{name}"])
            except (TypeError, ValueError) as exc:
                raise UnsafeModelError(
                    f"{key}.{name} does not fit the rest of the model: {exc}") from None
            continue
        if name not in state or kind == "codec":
            continue  # codecs after the plain attributes: the module needs them
        value = state[name]
        if kind == "labels":
            setattr(est, name, _load_labels(f"{key}.{name}", value, arrays))
        elif value is not None and kind in _KINDS and not _KINDS[kind](value):
            raise UnsafeModelError(f"{key}.{name} must be of kind {kind}, got {value!r}.")
        else:
            setattr(est, name, _decode_value(value))
    for name, kind in SAVED_STATE[cls].items():
        if kind == "codec" and name in state:
            _CODECS[name][1](est, f"{key}.{name}", state[name], arrays)
    _finish(est, parts)
    return est


def _finish(est: Any, parts: list | None) -> None:
    """Restore what the plain attributes do not say (types JSON cannot hold)."""
    if isinstance(est, JiebaSegmenter) and hasattr(est, "stop_words_"):
        est.user_words_ = [tuple(w) for w in est.user_words_]
        est.stop_words_ = frozenset(est.stop_words_)
        if hasattr(est, "feature_names_in_"):
            names = est.feature_names_in_
            if not (isinstance(names, list) and len(names) == 1 and isinstance(names[0], str)):
                raise UnsafeModelError("the segmenter's text column must be one name.")
            est.feature_names_in_ = np.asarray(names, dtype=object)
    if isinstance(est, LSTMAttentionClassifier):
        passes = getattr(est, "train_passes_", [])
        if not (isinstance(passes, list) and all(
                isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                and _KINDS["int"](p[1]) and p[1] >= 0 for p in passes)):
            raise UnsafeModelError(
                f"train_passes_ must be a list of [name, epochs], got {passes!r}.")
        est.train_passes_ = [tuple(p) for p in passes]
        seq = est.sequence_vocabulary_
        est.sequence_vocabulary_ = None if seq is None else (seq[0], tuple(seq[1]))
    if isinstance(est, TokenIndexer) and hasattr(est, "vocabulary_"):
        if not _numbered(est.vocabulary_):
            raise UnsafeModelError("a TokenIndexer's vocabulary is not numbered 0..n-1.")
    if isinstance(est, TfidfVectorizer) and hasattr(est, "idf_"):
        if len(est.vocabulary_) != len(est.idf_) or not _numbered(est.vocabulary_):
            raise UnsafeModelError("a TfidfVectorizer's vocabulary does not match its IDF.")
    if isinstance(est, NGramTfidfVectorizer) and hasattr(est, "idf_"):
        _check_ngram_vectorizer(est)
    if isinstance(est, Word2VecVectorizer) and est.output not in ("mean", "mean_max", "sequence"):
        raise UnsafeModelError(
            f"this file's Word2VecVectorizer pools with output={est.output!r}, which 0.1.0 "
            "removed (it never beat 'mean_max'): re-fit the model with another output.")
    if isinstance(est, LogisticRegression) and hasattr(est, "coef_"):
        rows = 1 if len(est.classes_) == 2 else len(est.classes_)
        if (est.coef_.shape != (rows, est.n_features_in_) or est.intercept_.shape != (rows,)):
            raise UnsafeModelError(
                "a LogisticRegression's weights do not match its classes and features.")
    if isinstance(est, BlendingClassifier):
        est.estimators_ = [part for _, part in parts]
        est.named_estimators_ = Bunch(**dict(parts))
        est.le_ = LabelEncoder()
        est.le_.classes_ = est.classes_
        if est.weights_.shape != (len(parts),):
            raise UnsafeModelError("the blend's weights do not match its parts.")
        if not hasattr(est, "temperature_"):  # written before blends fitted one
            est.temperature_ = 1.0
        if not hasattr(est, "single_class_parts_"):
            est.single_class_parts_ = []
        for part_name, part in parts:
            if not np.isin(part.classes_, est.classes_).all():
                raise UnsafeModelError(
                    f"the blend's part {part_name!r} has classes the blend does not.")


def _numbered(vocabulary: Any) -> bool:
    """Whether ``vocabulary`` maps tokens to the ids 0..n-1, each once."""
    return isinstance(vocabulary, dict) and sorted(vocabulary.values()) == list(
        range(len(vocabulary)))


def _check_ngram_vectorizer(est: NGramTfidfVectorizer) -> None:
    """Its vocabulary, n-gram codes and IDF must describe one another."""
    try:
        validate_params(est, est._constraints)
    except ValueError as exc:
        raise UnsafeModelError(str(exc)) from None
    if est.ngram_range[1] > 64:  # more digits than an int64 code can hold
        raise UnsafeModelError(f"ngram_range={est.ngram_range!r} cannot have been fitted.")
    n_tokens, codes = len(est.vocabulary_), est.ngram_codes_
    if not _numbered(est.vocabulary_):
        raise UnsafeModelError("an NGramTfidfVectorizer's vocabulary is not numbered 0..n-1.")
    if (codes.ndim != 1 or codes.dtype != np.int64 or est.idf_.shape != codes.shape
            or (len(codes) and (codes[0] < 1 or (np.diff(codes) <= 0).any()))):
        raise UnsafeModelError(
            "an NGramTfidfVectorizer's n-gram codes are not sorted, or do not match its IDF.")
    if est.ngram_range[0] == 1 and not np.array_equal(codes[:n_tokens],
                                                      np.arange(1, n_tokens + 1)):
        # Every token of the training documents is one of their unigrams.
        raise UnsafeModelError(
            "an NGramTfidfVectorizer's vocabulary does not match its n-gram codes.")
    # A code is max_n digits at most, each a token id + 1, its leading zeros only above.
    rest, ended = codes.copy(), np.zeros(len(codes), dtype=bool)
    bad = codes % (n_tokens + 2) == 0
    for _ in range(est.ngram_range[1]):
        rest, digit = np.divmod(rest, n_tokens + 2)
        bad |= (digit > n_tokens) | (ended & (digit != 0))
        ended |= digit == 0
    if (bad | (rest != 0)).any():
        raise UnsafeModelError("an NGramTfidfVectorizer's n-gram codes name unknown tokens.")


def load_model(path: str | os.PathLike, *, device: str | None = None, sha256: str | None = None,
         key: bytes | str | None = None) -> Any:
    """Load a model written by :func:`save_model`; no code from the file is ever run.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model`.
    device : str, default=None
        Torch device of the loaded network, e.g. "cpu". By default the device it was
        saved with; a model saved from "cuda" loads on "cpu" (with a warning) where no
        GPU is available, as skorch does when unpickling.
    sha256 : str, default=None
        The SHA-256 that :func:`save_model` returned: any other file is refused.
    key : bytes or str, default=None
        The secret the file was signed with (``save_model(..., key=...)``): a file without a
        signature, or whose signature does not match, is refused.

    Returns
    -------
    estimator or Pipeline
        What was saved, fitted.

    Raises
    ------
    UnsafeModelError
        When the file is not in the safe format (or in an older version of it), is
        truncated, names a class or object that is not on the allow-list, does not fit
        its own arrays, or fails the ``sha256`` or ``key`` check.
    """
    from safetensors.numpy import load as st_load

    name = os.fspath(path)
    with open(path, "rb") as fh:  # FileNotFoundError as usual
        data = fh.read()
    if sha256 is not None and not hmac.compare_digest(
            hashlib.sha256(data).hexdigest(), str(sha256).lower()):
        raise UnsafeModelError(f"{name!r} is not the file whose SHA-256 was given.")
    if not data:
        raise UnsafeModelError(f"{name!r} is empty: not an sk_slm safe model.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = set(zf.namelist())
            raw_manifest = zf.read("manifest.json")
            blob = zf.read("arrays.safetensors")
            signature = zf.read(_SIGNATURE).decode("ascii") if _SIGNATURE in members else None
        manifest = json.loads(raw_manifest.decode("utf-8"))
    except (zipfile.BadZipFile, EOFError) as exc:
        raise UnsafeModelError(
            f"{name!r} is not an sk_slm safe model, or it is truncated: {exc}") from None
    except (KeyError, ValueError, zlib.error, NotImplementedError, RuntimeError,
            RecursionError) as exc:  # missing members, bad JSON or text, odd compression
        raise UnsafeModelError(f"{name!r} is not an sk_slm safe model: {exc!r}") from None
    if members - _MEMBERS - {_SIGNATURE}:
        raise UnsafeModelError(
            f"{name!r} holds members a safe model does not: {sorted(members - _MEMBERS)}.")
    if key is not None and (signature is None or not hmac.compare_digest(
            signature, _sign(key, raw_manifest, blob))):
        raise UnsafeModelError(
            f"{name!r} is not signed with this key" + (" (it is not signed)." if signature
                                                       is None else "."))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UnsafeModelError(f"{name!r} is not an sk_slm safe model.")
    if manifest.get("version") != VERSION:
        raise UnsafeModelError(
            f"{name!r} is in version {manifest.get('version')!r} of the safe "
            f"format; this sk_slm reads version {VERSION} only. Fit the model again (or "
            "load it with the sk_slm that wrote it and keep using that) and re-save it "
            f"with this sk_slm to get a version-{VERSION} file.")
    if hashlib.sha256(blob).hexdigest() != manifest.get("arrays_sha256"):
        raise UnsafeModelError("the arrays do not match their checksum: the file was altered.")
    try:
        arrays = dict(st_load(blob)) if blob else {}
    except Exception as exc:  # safetensors raises its own error types
        raise UnsafeModelError(f"the arrays cannot be read: {exc}") from None
    try:
        return _rebuild(manifest.get("model"), "model", arrays, device)
    except UnsafeModelError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnsafeModelError(f"the model cannot be rebuilt: {exc!r}") from None
