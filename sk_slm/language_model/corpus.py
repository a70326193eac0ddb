"""Reading a pre-training corpus: documents from text files, the default pipeline's
character tokens, a frequency-ranked vocabulary, and the token stream cut into rows."""

from __future__ import annotations

import gzip
import hashlib
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..features.sequences import PAD, UNK, encode_tokens
from ..text.segmenter import _CHAR_TOKEN, _normalize_many

__all__ = ["Corpus", "END_OF_DOCUMENT", "char_tokens", "corpus_files", "read_corpus", "rows"]

# Between two documents of the stream: the model learns where a document ends (and, read
# backwards, where one starts), as the classifier reads each document from its start.
END_OF_DOCUMENT = "</d>"
SPECIAL_TOKENS = tuple(t for _, t in sorted({PAD: "<pad>", UNK: "<unk>"}.items()))
_SUFFIXES = (".txt", ".txt.gz")


def char_tokens(docs: Sequence[str]) -> list[list[str]]:
    """The tokens ``JiebaSegmenter(granularity="char")`` gives, with its defaults: NFKC and
    lower case, one token per Chinese character, Latin words and numbers whole, no
    whitespace tokens."""
    return [[t for t in _CHAR_TOKEN.findall(d) if not t.isspace()]
            for d in _normalize_many(list(docs))]


def corpus_files(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """The ``.txt``/``.txt.gz`` files named, directories expanded (sorted), each once."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.name.endswith(_SUFFIXES))
            if not found:
                raise ValueError(f"corpus: {p} holds no .txt or .txt.gz file")
            files.extend(found)
        elif p.is_file():
            if not p.name.endswith(_SUFFIXES):
                raise ValueError(f"corpus: {p} is not a .txt or .txt.gz file")
            files.append(p)
        else:
            raise ValueError(f"corpus: {p}: no such file or directory")
    unique = list(dict.fromkeys(f.resolve() for f in files))
    if not unique:
        raise ValueError("corpus: no file given")
    return unique


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    yield line
    except UnicodeDecodeError as exc:
        raise ValueError(f"corpus: {path} is not UTF-8 text ({exc.reason})") from None
    except (OSError, EOFError) as exc:  # a truncated or corrupt .gz
        raise ValueError(f"corpus: {path} cannot be read ({exc})") from None


@dataclass
class Corpus:
    """A corpus read for pre-training.

    Attributes
    ----------
    vocabulary : list of str
        ``vocabulary[i]`` is the token of id ``i``: PAD, UNK, then tokens by falling
        frequency (the adaptive softmax's clusters rely on that order).
    train : array of int32
        The training documents' ids, each followed by the end-of-document token.
    held_out : dict of str to array of int32
        Per file (its name), every ``hold_out_every``-th document, likewise.
    n_documents, n_characters : dict of str to int
        Per file, documents and characters read (held-out ones included).
    fingerprint : str
        SHA-256 of the files' names and sizes and of the vocabulary: a checkpoint of
        another corpus is refused.
    """

    vocabulary: list[str]
    train: np.ndarray
    held_out: dict[str, np.ndarray]
    n_documents: dict[str, int]
    n_characters: dict[str, int]
    fingerprint: str


def read_corpus(paths, *, vocab_size: int = 6000, vocabulary: Sequence[str] | None = None,
                hold_out_every: int = 200, chunk: int = 20_000) -> Corpus:
    """Read, tokenise and encode every document of the corpus files.

    Parameters
    ----------
    paths : path or list of paths
        ``.txt`` or ``.txt.gz`` files (UTF-8, one document per line) or directories of
        them.
    vocab_size : int, default=6000
        Ids in all, PAD and UNK included; the rarest tokens become UNK.
    vocabulary : list of str, default=None
        A fixed vocabulary (PAD and UNK first, as :attr:`Corpus.vocabulary`) instead.
    hold_out_every : int, default=200
        Every this-many-th document of each file is held out for perplexity.
    """
    files = corpus_files(paths)
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise ValueError("corpus: two files have the same name; rename one")
    per_file: dict[str, list[list[str]]] = {}
    n_chars: dict[str, int] = {}
    counts: Counter = Counter()
    for f in files:
        docs, chars, batch = [], 0, []
        for line in _lines(f):
            batch.append(line)
            chars += len(line)
            if len(batch) == chunk:
                docs.extend(char_tokens(batch))
                batch = []
        docs.extend(char_tokens(batch))
        if not docs:
            raise ValueError(f"corpus: {f} holds no document")
        for d in docs:
            counts.update(d)
        per_file[f.name], n_chars[f.name] = docs, chars
    if vocabulary is None:
        n_docs = sum(map(len, per_file.values()))
        counts[END_OF_DOCUMENT] = n_docs
        ranked = [t for t, _ in counts.most_common(vocab_size - len(SPECIAL_TOKENS))]
        vocabulary = [*SPECIAL_TOKENS, *ranked]
    else:
        vocabulary = list(vocabulary)
        if vocabulary[: len(SPECIAL_TOKENS)] != list(SPECIAL_TOKENS):
            raise ValueError(f"vocabulary must start with {list(SPECIAL_TOKENS)}")
        if END_OF_DOCUMENT not in vocabulary:
            raise ValueError(f"vocabulary must hold the end-of-document token {END_OF_DOCUMENT!r}")
    index = {t: i for i, t in enumerate(vocabulary)}
    end = index[END_OF_DOCUMENT]
    train_parts, held_out = [], {}
    for name, docs in per_file.items():
        held = [d for i, d in enumerate(docs) if i % hold_out_every == hold_out_every - 1]
        kept = [d for i, d in enumerate(docs) if i % hold_out_every != hold_out_every - 1]
        train_parts.append(_encode(kept, index, end))
        held_out[name] = _encode(held, index, end)
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.name}\0{f.stat().st_size}\0".encode())
    digest.update("\0".join(vocabulary).encode())
    return Corpus(
        vocabulary=vocabulary,
        train=np.concatenate(train_parts),
        held_out=held_out,
        n_documents={name: len(docs) for name, docs in per_file.items()},
        n_characters=n_chars,
        fingerprint=digest.hexdigest(),
    )


def _encode(docs: list[list[str]], index: dict[str, int], end: int) -> np.ndarray:
    """Documents -> one int32 stream, each document followed by ``end``."""
    ids, offsets = encode_tokens(docs, index, UNK, dtype=np.int32)
    return np.insert(ids, offsets[1:], end)


def rows(stream: np.ndarray, width: int) -> np.ndarray:
    """The stream cut into rows of ``width`` tokens (the incomplete last row dropped)."""
    n = len(stream) // width
    return stream[: n * width].reshape(n, width)

