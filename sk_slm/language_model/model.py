"""A pre-trained character language model on disk: saving, loading, scoring, sampling.

A model folder holds ``model.safetensors`` (the encoder: embedding and biRNN, in the
names of :class:`~sk_slm.AttentionRNN`, and the two adaptive-softmax heads of
:class:`~sk_slm.network.module.BiLanguageModel`) and ``config.json`` (format, settings,
vocabulary, training record). Nothing in it is pickled.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from sklearn.utils import check_random_state

from .._files import written_whole
from ..network.module import PAD, UNK, AttentionRNN, BiLanguageModel
from .corpus import END_OF_DOCUMENT, char_tokens
from .settings import PretrainingSettings

__all__ = ["PretrainedLanguageModel", "load_language_model", "save_language_model"]

FORMAT = "sk_slm.language_model"
VERSION = 1
WEIGHTS, CONFIG = "model.safetensors", "config.json"
BUNDLED = "bundled"


def build_language_model(settings: PretrainingSettings, n_tokens: int) -> BiLanguageModel:
    """An untrained :class:`BiLanguageModel` on an encoder of ``settings``' sizes."""
    network = AttentionRNN(n_tokens, 1, embedding_dim=settings.embedding_dim,
                           hidden_size=settings.hidden_size, cell=settings.cell,
                           dropout=settings.dropout)
    # The classifier's attention and output layers are not the language model's: they
    # neither train nor are saved.
    for part in (network.attention, network.output):
        part.requires_grad_(False)
    return BiLanguageModel(network)


def _lm_state(model: BiLanguageModel) -> dict[str, torch.Tensor]:
    """The language model's own weights: the encoder (embedding, RNN) and the heads."""
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()
            if k.startswith(("network.embedding.", "network.rnn.", "heads."))}


def save_language_model(model: BiLanguageModel, path: str | os.PathLike,
                        vocabulary: list[str], settings: PretrainingSettings,
                        record: dict[str, Any]) -> None:
    """Write ``model`` to the folder ``path`` (each file written whole or not at all)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with written_whole(path / WEIGHTS) as tmp:
        save_file(_lm_state(model), tmp, metadata={"format": FORMAT})
    config = {"format": FORMAT, "version": VERSION, "settings": asdict(settings),
              "vocabulary": vocabulary, **record}
    with written_whole(path / CONFIG) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(config, fh, ensure_ascii=False, indent=1)


def _read_config(path: str | os.PathLike) -> tuple[Path, dict, PretrainingSettings, list[str]]:
    """(folder, config, settings, vocabulary) of a language model folder, checked; its
    weights not read."""
    if str(path) == BUNDLED:
        path = Path(str(resources.files("sk_slm").joinpath("data/language_model")))
    path = Path(path)
    if not (path / CONFIG).is_file() or not (path / WEIGHTS).is_file():
        raise ValueError(f"{path}: not a language model folder (needs {CONFIG} and {WEIGHTS})")
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path / CONFIG}: not a language model's config ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"{path / CONFIG}: not a language model's config (format is not {FORMAT!r})")
    if config.get("version") != VERSION:
        raise ValueError(f"{path / CONFIG}: format version {config.get('version')!r}, "
                         f"this sk_slm reads version {VERSION}")
    try:
        settings = PretrainingSettings(**config["settings"])
        vocabulary = list(config["vocabulary"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path / CONFIG}: incomplete language model config ({exc})") from None
    return path, config, settings, vocabulary


def language_model_vocabulary(path: str | os.PathLike = BUNDLED) -> list[str]:
    """The tokens of a language model folder (or "bundled"), PAD and UNK first, without
    loading its weights."""
    return _read_config(path)[3]


def load_language_model(path: str | os.PathLike = BUNDLED) -> PretrainedLanguageModel:
    """Load a language model folder written by :func:`~sk_slm.pretrain_language_model`.

    Parameters
    ----------
    path : path or "bundled", default="bundled"
        A model folder, or ``"bundled"`` for the model shipped in the package
        (its card: the documentation's model card page).

    Returns
    -------
    PretrainedLanguageModel
    """
    path, config, settings, vocabulary = _read_config(path)
    model = build_language_model(settings, len(vocabulary))
    try:
        state = load_file(path / WEIGHTS)
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{path / WEIGHTS}: not a readable safetensors file ({exc})") from None
    expected = _lm_state(model)
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    wanted = {k: tuple(v.shape) for k, v in expected.items()}
    if shapes != wanted:
        diff = sorted(set(shapes.items()) ^ set(wanted.items()))[:1]
        raise ValueError(f"{path / WEIGHTS}: the weights do not match {CONFIG}'s settings "
                         f"(first difference: {diff[0][0]} {diff[0][1]})")
    model.load_state_dict(state, strict=False)
    model.eval()
    record = {k: v for k, v in config.items()
              if k not in ("format", "version", "settings", "vocabulary")}
    return PretrainedLanguageModel(model, vocabulary, settings, record, path)


class PretrainedLanguageModel:
    """A pre-trained bidirectional character language model.

    Returned by :func:`~sk_slm.load_language_model` and
    :func:`~sk_slm.pretrain_language_model`. Its encoder (embedding and biRNN) is what
    ``LSTMAttentionClassifier(language_model=...)`` fine-tunes; on its own it scores
    documents (:meth:`perplexity`) and continues a prompt (:meth:`sample`).

    Attributes
    ----------
    vocabulary : list of str
        The token of each id (PAD, UNK, then by falling frequency in the corpus).
    settings : PretrainingSettings
        The sizes and training settings.
    record : dict
        What the training recorded: steps, tokens seen, corpus, held-out perplexity.
    module : BiLanguageModel
        The torch module (in eval mode).
    path : Path
        The folder it was read from.
    """

    def __init__(self, module: BiLanguageModel, vocabulary: list[str],
                 settings: PretrainingSettings, record: dict[str, Any], path: Path):
        self.module = module
        self.vocabulary = vocabulary
        self.settings = settings
        self.record = record
        self.path = path
        self._index = {t: i for i, t in enumerate(vocabulary)}

    def __repr__(self) -> str:
        return (f"PretrainedLanguageModel(path={str(self.path)!r}, "
                f"vocabulary={len(self.vocabulary)}, hidden_size={self.settings.hidden_size}, "
                f"steps={self.record.get('step')})")

    @property
    def embeddings(self) -> np.ndarray:
        """The embedding table, (len(vocabulary), embedding_dim)."""
        return self.module.network.embedding.weight.detach().cpu().numpy().copy()

    def encoder_state(self) -> dict[str, torch.Tensor]:
        """The encoder's weights in :class:`~sk_slm.AttentionRNN`'s names
        (``embedding.weight``, ``rnn.*``)."""
        return {k.removeprefix("network."): v.clone() for k, v in _lm_state(self.module).items()
                if k.startswith("network.")}

    def ids(self, tokens: list[str]) -> list[int]:
        """The ids of ``tokens`` (UNK for tokens outside the vocabulary)."""
        get = self._index.get
        return [get(t, UNK) for t in tokens]

    def perplexity(self, X, batch_size: int = 64) -> np.ndarray:
        """Per-document perplexity, both directions averaged (lower: more like the
        training text).

        Each document is read between two end-of-document tokens, as in training, so an
        empty document gets a score too. Useful to flag inputs unlike what the model
        (and a classifier fine-tuned from it) has read.

        Parameters
        ----------
        X : sequence of str
            Documents (tokenised as the default pipeline does: characters).
        batch_size : int, default=64

        Returns
        -------
        ndarray of shape (len(X),)
        """
        docs = list(X)
        for i, d in enumerate(docs):
            if not isinstance(d, str):
                raise ValueError(f"X[{i}] is of type {type(d).__name__}, not a str document")
        end = self._index[END_OF_DOCUMENT]
        seqs = [[end, *self.ids(t), end] for t in char_tokens(docs)]
        out = np.empty(len(seqs))
        heads = self.module.heads
        with torch.no_grad():
            for start in range(0, len(seqs), batch_size):
                ids, lengths = padded(seqs[start : start + batch_size])
                states = self.module(ids, lengths)
                nll = torch.zeros(len(ids), dtype=torch.float64)
                hidden = self.settings.hidden_size
                for d, head in enumerate(heads):
                    h = states[..., d * hidden : (d + 1) * hidden]
                    # Forward: position t predicts t + 1; backward: t + 1 predicts t.
                    src = h[:, :-1] if d == 0 else h[:, 1:]
                    tgt = ids[:, 1:] if d == 0 else ids[:, :-1]
                    keep = (torch.arange(ids.shape[1] - 1) < (lengths - 1)[:, None])
                    lp = head(src[keep], tgt[keep]).output.double()
                    nll.index_add_(0, keep.nonzero()[:, 0], -lp)
                out[start : start + len(ids)] = torch.exp(
                    nll / (len(heads) * (lengths - 1))).numpy()
        return out

    def sample(self, prompt: str = "", max_tokens: int = 50, temperature: float = 1.0,
               random_state: Any = None) -> str:
        """Continue ``prompt`` with tokens drawn from the forward direction.

        Parameters
        ----------
        prompt : str, default=""
            The text to continue ("" starts a new document).
        max_tokens : int, default=50
            Stop after this many tokens (or at the end of a document).
        temperature : float, default=1.0
            Below 1 the likelier tokens are drawn more often.
        random_state : int, RandomState or None, default=None
            Seeds a generator of its own: torch's global random state is not used.

        Returns
        -------
        str
            The continuation alone (without the prompt), lower-cased and NFKC-normalised as
            the model reads text.
        """
        if not isinstance(prompt, str):
            raise ValueError(f"prompt must be a str, not {type(prompt).__name__}")
        if not (isinstance(max_tokens, int) and max_tokens >= 0):
            raise ValueError(f"max_tokens must be a non-negative int, got {max_tokens!r}")
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)
        end = self._index[END_OF_DOCUMENT]
        ids = [end, *self.ids(char_tokens([prompt])[0])]
        rnn = self.module.network.rnn
        hidden = self.settings.hidden_size
        drawn: list[int] = []
        with torch.no_grad():
            emb = self.module.network.embedding
            # The forward direction alone, step by step: a one-way RNN with its weights.
            # (Built on the meta device: no initial weights drawn from torch's RNG.)
            one_way = type(rnn)(rnn.input_size, hidden, batch_first=True, device="meta")
            one_way.load_state_dict({k: getattr(rnn, k) for k in
                                     ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")},
                                    assign=True)
            out, state = one_way(emb(torch.tensor([ids])))
            h = out[0, -1]
            for _ in range(max_tokens):
                logp = self.module.heads[0].log_prob(h[None])[0] / temperature
                logp[[PAD, UNK]] = -math.inf
                nxt = int(torch.multinomial(torch.softmax(logp, 0), 1, generator=generator))
                if nxt == end:
                    break
                drawn.append(nxt)
                out, state = one_way(emb(torch.tensor([[nxt]])), state)
                h = out[0, -1]
        return _join([self.vocabulary[i] for i in drawn])


def padded(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Id lists -> (ids right-padded with PAD, lengths), as the encoder reads them."""
    lengths = torch.tensor([len(s) for s in seqs])
    ids = torch.full((len(seqs), int(lengths.max())), PAD, dtype=torch.long)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = torch.tensor(s, dtype=torch.long)
    return ids, lengths


def _join(tokens: list[str]) -> str:
    """Tokens back to text: a space only between two Latin words or numbers."""
    out = []
    for t in tokens:
        if out and out[-1][-1:].isascii() and out[-1][-1:].isalnum() and t[:1].isascii() \
                and t[:1].isalnum():
            out.append(" ")
        out.append(t)
    return "".join(out)
