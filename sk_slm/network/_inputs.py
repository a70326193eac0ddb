"""What LSTMAttentionClassifier reads, in its three input modes: the vocabulary and
starting embedding that ``fit`` fixes, and documents encoded as ids in that vocabulary.

- a pre-trained language model (``language_model=``): its vocabulary, embedding and
  encoder; a TokenSequences over its vocabulary (TokenIndexer(vocabulary=<the model>))
  in, or token lists of characters (deprecated);
- a :class:`~sk_slm.TokenSequences`: its vocabulary, and its vectors (Word2VecVectorizer)
  or none (TokenIndexer: embeddings learnt from scratch);
- token lists, with no language model (deprecated: TokenIndexer does it): a vocabulary of
  the training tokens, embeddings learnt from scratch.

Ids 0 and 1 are PAD and UNK in every mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..features.sequences import UNK, TokenSequences, check_token_lists, encode_tokens, vocabulary

__all__ = ["Inputs", "encode", "fitted_inputs", "start_from"]


def _signature(X: TokenSequences) -> tuple:
    """What identifies a TokenSequences' vocabulary: its size and first 20 tokens."""
    return len(X.vocabulary), tuple(X.vocabulary[:20])


@dataclass
class Inputs:
    """What the input mode fixes at ``fit``."""

    vocabulary: dict[str, int] | None  # token -> id, for token lists
    sequence_vocabulary: tuple | None  # (size, first 20 tokens), for TokenSequences
    n_vocab: int  # rows of the embedding table
    embedding_dim: int
    embeddings: np.ndarray | None  # the table to start from (None: random)
    encoder_state: dict | None  # a pre-trained encoder's weights
    encoder: dict | None  # and what it is (sizes, path, step)


def fitted_inputs(X: Any, language_model: Any, min_count: int, max_vocab: int | None,
                  embedding_dim: int) -> Inputs:
    """The :class:`Inputs` of training documents ``X`` (validated token lists or a
    TokenSequences) under the classifier's settings; ``embedding_dim`` is the width of
    an embedding drawn at random (no vectors, no language model)."""
    if language_model is not None:
        from ..language_model import load_language_model

        lm = load_language_model(language_model)
        settings = lm.settings
        tokens, sequences = None, None
        if isinstance(X, TokenSequences):  # TokenIndexer(vocabulary=<the model>): ids + 2
            if list(X.vocabulary) != lm.vocabulary[UNK + 1:]:
                raise ValueError(
                    f"X is a TokenSequences over another vocabulary than language_model="
                    f"{language_model!r}'s: number the characters with "
                    f"TokenIndexer(vocabulary={str(language_model)!r}).")
            sequences = _signature(X)
        else:  # token lists (deprecated): the language model's ids, PAD 0 and UNK 1
            tokens = {t: i for i, t in enumerate(lm.vocabulary) if i > UNK}
        return Inputs(
            vocabulary=tokens, sequence_vocabulary=sequences, n_vocab=len(lm.vocabulary),
            embedding_dim=settings.embedding_dim, embeddings=lm.embeddings,
            encoder_state=lm.encoder_state(),
            encoder={"hidden_size": settings.hidden_size, "cell": settings.cell,
                     "embedding_dim": settings.embedding_dim, "path": str(language_model),
                     "step": lm.record.get("step")})
    if isinstance(X, TokenSequences) and X.vectors is None:  # TokenIndexer's: ids + 2
        return Inputs(
            vocabulary=None, sequence_vocabulary=_signature(X),
            n_vocab=len(X.vocabulary) + 2, embedding_dim=embedding_dim, embeddings=None,
            encoder_state=None, encoder=None)
    if isinstance(X, TokenSequences):
        vectors = np.asarray(X.vectors, dtype=np.float32)
        unk = vectors.mean(axis=0, keepdims=True) if len(vectors) else None
        return Inputs(
            vocabulary=None, sequence_vocabulary=_signature(X), n_vocab=len(vectors) + 2,
            embedding_dim=vectors.shape[1],
            embeddings=np.vstack([np.zeros((1, vectors.shape[1]), np.float32), unk, vectors]),
            encoder_state=None, encoder=None)
    tokens = vocabulary(X, min_count, max_vocab, first_id=2)
    return Inputs(vocabulary=tokens, sequence_vocabulary=None, n_vocab=len(tokens) + 2,
                  embedding_dim=embedding_dim, embeddings=None, encoder_state=None,
                  encoder=None)


def encode(X: Any, tokens: dict | None, sequence_vocabulary: tuple | None,
           validated: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Documents -> (flat ids in the fitted vocabulary, offsets); a TypeError or
    ValueError when ``X`` is not of the kind the classifier was fitted on."""
    if isinstance(X, TokenSequences):
        if sequence_vocabulary is None:
            raise TypeError(
                "This classifier was fitted on token lists; pass token lists, not a "
                "TokenSequences.")
        if _signature(X) != sequence_vocabulary:
            raise ValueError(
                "X is a TokenSequences over a different vocabulary than the one the "
                "classifier was fitted on; use the same fitted Word2VecVectorizer or "
                "TokenIndexer.")
        return X.ids.astype(np.int64) + 2, X.offsets  # -1 (unknown) becomes UNK
    if tokens is None:
        raise TypeError(
            "This classifier was fitted on TokenSequences (Word2VecVectorizer "
            "output='sequence', or TokenIndexer); pass the same kind of input.")
    docs = X if validated else check_token_lists(X)
    return encode_tokens(docs, tokens, UNK)


def start_from(module: Any, inputs: Inputs, own_class: bool) -> None:
    """Put the starting weights that ``inputs`` bring (Word2Vec's or a language model's
    embedding, a language model's encoder) into a freshly built ``module``. It drew its
    random initial weights all the same, so its other layers' weights do not depend on
    whether a table is copied in. Only a module the classifier built from its class
    (``own_class``) gets them; an instance (the refit's, starting from the weights that
    pre-training left) keeps its own."""
    if not own_class:
        return
    if inputs.embeddings is not None:
        with torch.no_grad():
            module.embedding.weight.copy_(torch.as_tensor(inputs.embeddings, dtype=torch.float32))
    if inputs.encoder_state is not None:  # the pre-trained biRNN
        module.rnn.load_state_dict({k.removeprefix("rnn."): v
                                    for k, v in inputs.encoder_state.items()
                                    if k.startswith("rnn.")})
