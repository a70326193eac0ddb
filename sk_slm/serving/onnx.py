"""Serving without PyTorch: a fitted pipeline as an ONNX graph plus its preprocessing data.

:func:`export_onnx` writes a fitted pipeline (``make_lstm_pipeline``'s, or a segmenter
followed by the network) to one file: the network as an ONNX graph, and what the steps
around it need as JSON and numpy arrays. :class:`OnnxClassifier` reads that file and
predicts with ONNX Runtime: this module imports neither torch, skorch nor gensim, so a
service needs numpy, scipy, scikit-learn, jieba and onnxruntime only. Reading the file
runs no code from it (arrays are read with ``allow_pickle=False``).
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from .._files import written_whole
from ..blending import _EPS, blended_log_proba
from ..evaluation._occlusion import leave_one_out
from ..features._ngram_tfidf import NGramTfidf
from ..features.ngrams import NGramTfidfVectorizer
from ..features.sequences import PAD, UNK, encode_tokens, padded_rows, truncate
from ..text.segmenter import JiebaSegmenter, as_written, check_documents
from ._native_stderr import without_lines

__all__ = ["export_onnx", "OnnxClassifier"]

FORMAT = "sk_slm-onnx"
VERSION = 2  # 2: the network graph also gives the attention weights
# torch's C++ notes that its exporter infers no shapes for packed sequences (see
# _native_stderr): ONNX's LSTM takes the lengths itself.
_SHAPE_INFERENCE_NOTES = ("shape inference of prim::PackPadded", "shape inference of prim::PadPacked")
_BATCH = 64  # documents per ONNX Runtime call, in length order (as the estimator's predict)


# --------------------------------------------------------------------------- export
def export_onnx(model: Any, path: str | os.PathLike, quantize: str | None = None) -> None:
    """Write a fitted pipeline as an ONNX graph plus the data its other steps need.

    Parameters
    ----------
    model : Pipeline
        Fitted, on the CPU: ``make_lstm_pipeline()``'s (segmenter, then a
        :class:`~sk_slm.BlendingClassifier` of the network pipeline and
        ``NGramTfidfVectorizer`` + ``LogisticRegression``), or a
        :class:`~sk_slm.JiebaSegmenter` followed by an
        :class:`~sk_slm.LSTMAttentionClassifier` (with a
        ``Word2VecVectorizer(output="sequence")`` or a :class:`~sk_slm.TokenIndexer`
        between them, or none).
    path : str or path-like
        The file to write (a zip archive; written whole or not at all). Load it with
        :class:`OnnxClassifier`.
    quantize : {None, "int8"}, default=None
        "int8": store the network's weights as 8-bit integers, through ONNX Runtime's
        dynamic quantization (``onnxruntime.quantization.quantize_dynamic``: int8
        weights for the LSTM/GRU, the matrix products and the embedding tables,
        activations quantized per call), the linear part's coefficients as float16 and
        the IDF weights as float32. The graph is about a quarter of the float one's size
        and predicts faster on CPUs with integer dot-product instructions; the
        probabilities move by a few hundredths at most (see ``benchmarks/int8.py``).
        None keeps the fitted numbers: the estimator's probabilities within 1e-5.

    Raises
    ------
    ValueError
        If ``model`` is of another shape, is not fitted, or has its network on a GPU,
        or ``quantize`` is not None or "int8".
    """
    from sklearn.pipeline import Pipeline

    from ..blending import BlendingClassifier

    if quantize not in (None, "int8"):
        raise ValueError(f"quantize={quantize!r} is not one of None, 'int8'.")
    if not isinstance(model, Pipeline) or not isinstance(model.steps[0][1], JiebaSegmenter):
        raise ValueError("export_onnx takes a fitted Pipeline whose first step is a "
                         f"JiebaSegmenter; got {type(model).__name__}.")
    segmenter, rest = model.steps[0][1], [est for _, est in model.steps[1:]]
    if not hasattr(segmenter, "user_words_"):
        raise ValueError("export_onnx needs a fitted pipeline; call fit first.")
    arrays: dict[str, np.ndarray] = {}
    graphs: dict[str, bytes] = {}
    if len(rest) == 1 and isinstance(rest[0], BlendingClassifier):
        blend = rest[0]
        names = [name for name, _ in blend.estimators if name in blend.named_estimators_]
        fitted = [blend.named_estimators_[name] for name in names]
        # The exponents of the parts' probabilities: shares times the temperature.
        weights, final = [float(w) for w in blend.temperature_ * blend.weights_], blend
    else:  # the network alone, maybe after a Word2VecVectorizer or a TokenIndexer
        names, weights = ["network"], [1.0]
        fitted = [Pipeline([(f"step{i}", est) for i, est in enumerate(rest)])
                  if len(rest) > 1 else rest[0]]
        final = fitted[0]
    parts = [_export_part(name, part, arrays, graphs)
             for name, part in zip(names, fitted, strict=True)]
    for name, part in zip(names, fitted, strict=True):
        arrays[f"{name}.classes"] = _label_array(part.classes_)
    arrays["classes"] = _label_array(final.classes_)
    manifest = {
        "format": FORMAT, "version": VERSION,
        "segmenter": {"params": segmenter.get_params(),
                      "user_words_": [list(w) for w in segmenter.user_words_],
                      "stop_words_": sorted(segmenter.stop_words_),
                      # The text column it was fitted on, for sk-slm predict (if any).
                      "feature_names_in_": [str(c) for c in getattr(
                          segmenter, "feature_names_in_", [])]},
        "parts": parts, "weights": weights, "quantize": quantize,
        # String labels of object dtype (pandas columns) come back as such, not as <U.
        "object_classes": np.asarray(final.classes_).dtype == object,
    }
    if quantize == "int8":
        graphs = {name: _int8_graph(graph) for name, graph in graphs.items()}
        # The linear part's coefficients in float16, the IDF weights in float32: a
        # quarter and a half of their float64 size, for changes in the probabilities
        # below 1e-3 (the network's int8 weights move them more).
        for key in list(arrays):
            if key.endswith(".coef"):
                arrays[key] = arrays[key].astype(np.float16)
            elif key.endswith(".idf"):
                arrays[key] = arrays[key].astype(np.float32)
    try:
        manifest_bytes = json.dumps(manifest, ensure_ascii=False).encode()
    except TypeError as exc:
        raise ValueError(f"the segmenter's parameters cannot be written: {exc}") from None
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with written_whole(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", manifest_bytes)
        zf.writestr("arrays.npz", buffer.getvalue())
        for name, graph in graphs.items():
            zf.writestr(f"{name}.onnx", graph)


def _int8_graph(graph: bytes) -> bytes:
    """``graph`` with its weights quantized to int8 by ONNX Runtime (dynamic quantization)."""
    import tempfile
    from pathlib import Path

    from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        source, prepared, target = (Path(tmp) / n for n in ("f.onnx", "p.onnx", "q.onnx"))
        source.write_bytes(graph)
        # Shape inference and graph clean-up first, as ONNX Runtime recommends.
        quant_pre_process(source, prepared, skip_symbolic_shape=True)
        quantize_dynamic(prepared, target, weight_type=QuantType.QInt8)
        return target.read_bytes()


def _label_array(labels: Any) -> np.ndarray:
    out = np.asarray(list(labels))
    if out.dtype == object:
        raise ValueError("export_onnx needs labels of one type (numbers or strings).")
    return out


def _export_part(name: str, part: Any, arrays: dict, graphs: dict) -> dict:
    from sklearn.pipeline import Pipeline

    from ..features.indexing import TokenIndexer
    from ..features.word2vec import Word2VecVectorizer
    from ..network.classifier import LSTMAttentionClassifier

    steps = [est for _, est in part.steps] if isinstance(part, Pipeline) else [part]
    kinds = [type(est) for est in steps]
    if kinds == [NGramTfidfVectorizer, LogisticRegression]:
        vec, logreg = steps
        tokens = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
        arrays[f"{name}.ngram_codes"] = vec.ngram_codes_
        arrays[f"{name}.idf"] = vec.idf_
        arrays[f"{name}.coef"] = logreg.coef_
        arrays[f"{name}.intercept"] = logreg.intercept_
        return {"name": name, "kind": "linear", "tokens": tokens,
                "ngram_range": list(vec.ngram_range)}
    if kinds in ([LSTMAttentionClassifier], [Word2VecVectorizer, LSTMAttentionClassifier],
                 [TokenIndexer, LSTMAttentionClassifier]):
        clf = steps[-1]
        if clf.truncation == "windows":
            raise ValueError(
                "export_onnx cannot export a network that reads long documents in windows "
                "(truncation='windows'); serve it with the estimator (save_model), or fit "
                "it with truncation='head', 'tail' or 'head_tail'.")
        if clf.sequence_vocabulary_ is not None:  # after a vectorizer or indexer: its ids + 2
            if kinds[0] is TokenIndexer:
                tokens = {t: i + 2 for t, i in steps[0].vocabulary_.items()}
            elif kinds[0] is Word2VecVectorizer and steps[0].output == "sequence":
                tokens = {t: i + 2 for i, t in enumerate(steps[0].wv_.index_to_key)}
            else:
                raise ValueError("the network reads a Word2VecVectorizer(output='sequence') "
                                 "or a TokenIndexer.")
        else:
            tokens = dict(clf.vocabulary_)
        spec = {"name": name, "kind": "network", "tokens": tokens, "max_len": clf.max_len,
                "truncation": clf.truncation, "ngrams": None}
        if clf.ngrams_ is not None:
            spec["ngrams"] = {"n": clf.ngrams_.n, "n_tokens": clf.ngrams_.n_tokens}
            arrays[f"{name}.ngram_codes"] = clf.ngrams_.vocabulary_
            arrays[f"{name}.idf"] = clf.ngrams_.tfidf_.idf_
        graphs[name] = _network_graph(clf)
        return spec
    raise ValueError(
        f"export_onnx cannot export the part {name!r} ({' -> '.join(k.__name__ for k in kinds)}"
        "): it exports the network (optionally after a Word2VecVectorizer or a "
        "TokenIndexer) and "
        "NGramTfidfVectorizer -> LogisticRegression.")


def _network_graph(clf: Any) -> bytes:
    """The classifier's module as an ONNX graph: (ids, lengths[, ngrams, ngram_weights])
    -> (class probabilities, attention weights)."""
    import torch

    from ..network.recurrent import packed_rnn_states

    if not getattr(clf, "initialized_", False) or not hasattr(clf, "label_encoder_"):
        raise ValueError("export_onnx needs a fitted pipeline; call fit first.")
    net = clf.module_
    if any(p.is_cuda for p in net.parameters()):
        raise ValueError(
            "the network is on a GPU: move it first, e.g. load_model(path, device='cpu') "
            "or set_params(blend__network__classifier__device='cpu') and refit.")
    wide = net.ngram_logits is not None

    class Probabilities(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, ids, lengths, ngrams=None, ngram_weights=None):
            # The estimator's forward pass in eval mode; the recurrent part through a
            # packed sequence, which the exporter writes as ONNX's LSTM/GRU with
            # sequence_lens (exact for each direction, as rnn_states is).
            states = packed_rnn_states(self.net.rnn, self.net.embedding(ids), lengths)
            scores = self.net.attention(states).squeeze(-1)
            real = torch.arange(ids.shape[1])[None, :] < lengths[:, None]
            weights = torch.softmax(scores.masked_fill(~real, float("-inf")), dim=1)
            logits = self.net.output(torch.bmm(weights.unsqueeze(1), states).squeeze(1))
            if ngrams is not None:  # EmbeddingBag(mode="sum") with its zero padding row
                table = self.net.ngram_logits.weight
                logits = logits + (table[ngrams] * ngram_weights[..., None]).sum(1)
            return torch.softmax(logits, dim=1), weights

    # One example document: an RNN exported from a batch of several may fix the batch
    # size of its initial state (torch's exporter warns so for the GRU).
    ids = torch.tensor([[2, 3, 4]])
    lengths = torch.tensor([3])
    inputs, names = (ids, lengths), ["ids", "lengths"]
    axes = {"ids": {0: "batch", 1: "time"}, "lengths": {0: "batch"},
            "proba": {0: "batch"}, "attention": {0: "batch", 1: "time"}}
    if wide:
        inputs += (torch.tensor([[1, 2]]), torch.tensor([[0.5, 0.5]]))
        names += ["ngrams", "ngram_weights"]
        axes.update(ngrams={0: "batch", 1: "grams"}, ngram_weights={0: "batch", 1: "grams"})
    buffer = io.BytesIO()
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings(), without_lines(*_SHAPE_INFERENCE_NOTES):
            warnings.simplefilter("ignore")  # the tracer's notes on shapes we make dynamic
            # The TorchScript exporter writes pack_padded_sequence as ONNX's
            # sequence_lens; torch.export cannot trace a PackedSequence.
            torch.onnx.export(Probabilities(), inputs, buffer, input_names=names,
                              output_names=["proba", "attention"], dynamic_axes=axes, dynamo=False)
    finally:
        net.train(was_training)
    return buffer.getvalue()


# --------------------------------------------------------------------------- serving
class OnnxClassifier:
    """A pipeline exported by :func:`export_onnx`, predicting with ONNX Runtime.

    Parameters
    ----------
    path : str or path-like
        The file :func:`export_onnx` wrote.
    threads : int, default=1
        ONNX Runtime's intra-op threads per prediction call.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, in the column order of :meth:`predict_proba`.
    quantize_ : None or "int8"
        How the network's weights are stored (:func:`export_onnx`'s ``quantize``).

    Examples
    --------
    >>> from sk_slm import make_lstm_pipeline, export_onnx, OnnxClassifier
    >>> model = make_lstm_pipeline().fit(texts, labels)  # doctest: +SKIP
    >>> export_onnx(model, "model.onnx.zip")             # doctest: +SKIP
    >>> OnnxClassifier("model.onnx.zip").predict(["味道很好"])  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike, threads: int = 1):
        with open(path, "rb") as fh:
            data = fh.read()
        self._load(data, threads, os.fspath(path))

    # Pickled as the file's bytes: ONNX Runtime's sessions are rebuilt from them.
    def __getstate__(self) -> dict:
        return {"data": self._data, "threads": self.threads}

    def __setstate__(self, state: dict) -> None:
        self._load(state["data"], state["threads"], "the pickled OnnxClassifier")

    def _load(self, data: bytes, threads: int, source: str) -> None:
        import onnxruntime

        self._data, self.threads = data, threads
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            if manifest.get("format") != FORMAT:
                raise ValueError(f"{source!r} is not a file written by export_onnx.")
            if manifest.get("version") != VERSION:
                raise ValueError(
                    f"{source!r} was written by another version of export_onnx (format "
                    f"version {manifest.get('version')!r}, this one reads {VERSION}): "
                    "export the model again with this version.")
            with np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False) as npz:
                arrays = dict(npz)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            sessions = {
                part["name"]: onnxruntime.InferenceSession(
                    zf.read(f"{part['name']}.onnx"), options,
                    providers=["CPUExecutionProvider"])
                for part in manifest["parts"] if part["kind"] == "network"}
        seg = manifest["segmenter"]
        self.segmenter_ = JiebaSegmenter(**seg["params"])
        self.segmenter_.user_words_ = [tuple(w) for w in seg["user_words_"]]
        self.segmenter_.stop_words_ = frozenset(seg["stop_words_"])
        if seg.get("feature_names_in_"):
            self.segmenter_.feature_names_in_ = np.asarray(seg["feature_names_in_"], dtype=object)
        self.classes_ = arrays["classes"]
        if manifest.get("object_classes"):
            self.classes_ = self.classes_.astype(object)
        self.quantize_ = manifest.get("quantize")
        self.weights_ = np.asarray(manifest["weights"], dtype=np.float64)
        self.parts_ = [_Network(p, arrays, sessions[p["name"]]) if p["kind"] == "network"
                       else _Linear(p, arrays) for p in manifest["parts"]]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the raw documents ``X``, as the exported pipeline's."""
        return self._proba(self.segmenter_.transform(X))

    def _proba(self, tokens: Any) -> np.ndarray:
        if len(self.parts_) == 1:  # the network alone: its probabilities, not a blend
            return self.parts_[0].predict_proba(tokens)
        return np.exp(blended_log_proba(self.weights_, self.classes_, self.parts_, tokens))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each document."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy on ``X`` against ``y``, as a scikit-learn classifier's ``score``."""
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))

    def explain(self, X: Any, method: str = "occlusion") -> list[list[tuple[str, float]]]:
        """Each raw document's tokens (as written) with what the prediction rests on, as
        :func:`sk_slm.explain` gives them for the exported pipeline: by default
        (``"occlusion"``) how much the predicted class's log-probability falls when the
        token is left out; ``"attention"``: the network's attention weights, summing to 1
        over the tokens it read, 0 for tokens cut by ``max_len``."""
        if method not in ("occlusion", "attention"):
            raise ValueError(f"explain: method={method!r}; use 'attention' or 'occlusion'.")
        docs = check_documents(X)
        tokens = self.segmenter_.transform(docs)
        if method == "occlusion":
            values = leave_one_out(tokens, lambda variants: np.log(np.clip(
                self._proba(variants), _EPS, None)))
        else:
            networks = [part for part in self.parts_ if isinstance(part, _Network)]
            if not networks:
                raise TypeError("explain(method='attention') needs a network among the "
                                "exported parts; this file holds linear parts only.")
            values = networks[0].attention(tokens)
        return [list(zip(as_written(d, t, self.segmenter_.normalize), v.tolist(), strict=True))
                for d, t, v in zip(docs, tokens, values, strict=True)]


class _Linear:
    """NGramTfidfVectorizer -> LogisticRegression, rebuilt from their fitted state."""

    def __init__(self, spec: dict, arrays: dict):
        name = spec["name"]
        self.classes_ = arrays[f"{name}.classes"]
        self.vectorizer = NGramTfidfVectorizer(tuple(spec["ngram_range"]))
        self.vectorizer.vocabulary_ = {t: i for i, t in enumerate(spec["tokens"])}
        self.vectorizer.ngram_codes_ = arrays[f"{name}.ngram_codes"]
        self.vectorizer.idf_ = arrays[f"{name}.idf"].astype(np.float64)
        self.logreg = LogisticRegression()
        self.logreg.classes_ = self.classes_
        self.logreg.coef_ = arrays[f"{name}.coef"].astype(np.float64)
        self.logreg.intercept_ = arrays[f"{name}.intercept"]
        self.logreg.n_features_in_ = self.logreg.coef_.shape[1]

    def predict_proba(self, tokens: list) -> np.ndarray:
        return self.logreg.predict_proba(self.vectorizer.transform(tokens))


class _Network:
    """The network's preprocessing (ids, truncation, n-gram TF-IDF) and its ONNX graph."""

    def __init__(self, spec: dict, arrays: dict, session: Any):
        name = spec["name"]
        self.classes_ = arrays[f"{name}.classes"]
        self.tokens, self.session = spec["tokens"], session
        self.max_len, self.truncation = spec["max_len"], spec["truncation"]
        self.ngrams = None
        if spec["ngrams"] is not None:
            self.ngrams = NGramTfidf.fitted(
                int(spec["ngrams"]["n"]), int(spec["ngrams"]["n_tokens"]),
                arrays[f"{name}.ngram_codes"], arrays[f"{name}.idf"])

    def predict_proba(self, tokens: list) -> np.ndarray:
        out = np.zeros((len(tokens), len(self.classes_)), dtype=np.float32)
        for rows, proba in self._run(tokens, "proba")[0]:
            out[rows] = proba
        return out

    def attention(self, tokens: list) -> list[np.ndarray]:
        """Per document, one weight per token (0 for tokens cut by ``max_len``)."""
        batches, lengths, kept, full_offsets = self._run(tokens, "attention")
        out = [np.zeros(full_offsets[i + 1] - full_offsets[i], dtype=np.float32)
               for i in range(len(tokens))]
        for rows, weights in batches:
            for row, doc in zip(weights, rows, strict=True):
                out[doc][kept[full_offsets[doc]:full_offsets[doc + 1]]] = row[:lengths[doc]]
        return out

    def _run(self, tokens: list, output: str):
        """The graph's ``output`` for batches of documents in length order, as (rows,
        values) pairs; with the documents' lengths as read, the kept-token mask and the
        offsets of the whole documents."""
        full_ids, full_offsets = encode_tokens(tokens, self.tokens, UNK)
        ids, offsets, kept = truncate(full_ids, full_offsets, self.max_len, self.truncation)
        lengths = np.diff(offsets)
        features = None
        if self.ngrams is not None:
            features = self.ngrams.transform(full_ids, full_offsets)
        order = np.argsort(lengths, kind="stable")
        batches = []
        for start in range(0, len(order), _BATCH):
            rows = order[start:start + _BATCH]
            batch = padded_rows(ids, offsets, rows, PAD)
            batch[lengths[rows] == 0, 0] = UNK  # an empty document is read as one UNK
            feed = {"ids": batch, "lengths": np.maximum(lengths[rows], 1).astype(np.int64)}
            if features is not None:
                block = features[rows]
                every = np.arange(len(rows))
                feed.update(  # n-gram row 0 is padding
                    ngrams=padded_rows(block.indices.astype(np.int64) + 1, block.indptr,
                                       every, PAD),
                    ngram_weights=padded_rows(block.data.astype(np.float32), block.indptr,
                                              every, 0.0))
            batches.append((rows, self.session.run([output], feed)[0]))
        return batches, lengths, kept, full_offsets
