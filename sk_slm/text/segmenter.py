"""JiebaSegmenter: raw Chinese (or mixed Chinese/English) documents to token lists."""

from __future__ import annotations

import math
import os
import re
import unicodedata
import warnings
import weakref
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from numbers import Integral
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Bunch

from .._validation import Interval, Options, validate_params
from ._cache import LRUCache
from ._jieba_dict import base_prefix_dict

__all__ = [
    "JiebaSegmenter",
    "SegmentedDocuments",
    "passthrough_analyzer",
    "check_documents",
    "clear_segmentation_cache",
]

_MODES = ("accurate", "full", "search")
_GRANULARITIES = ("word", "char")
_BACKENDS = ("jieba", "rjieba")
_ON_INVALID = ("raise", "empty")

# One token per Chinese character; Latin words (with an inner apostrophe) and numbers
# (with a decimal part) stay whole. `.` with re.S covers every other character, so the
# tokens always concatenate back to the input.
_CHAR_TOKEN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*|[0-9]+(?:\.[0-9]+)?|.", re.S)

# jieba's own user-dictionary line format: "word [freq] [tag]".
_USERDICT_LINE = re.compile(r"^(.+?)( [0-9]+)?( [a-z]+)?$")

# Parallel segmentation only pays for itself once each process gets this many documents
# (measured: 2 processes on 58k news sentences were still slower than one).
_MIN_DOCS_PER_JOB = 50_000

_HAS_SPACE = re.compile(r"\s").search
_SEPARATOR = "\x1e"  # ASCII record separator: unchanged by NFKC and lower()

# Shared across instances in a process, so that GridSearchCV candidates and CV folds that
# segment the same documents with the same settings do it once.
_SEGMENTATION_CACHE = LRUCache(maxsize=200_000)


class _Settings:
    """A segmenter's settings as a cache key: its hash computed once, and one live object
    per settings (:func:`_settings_key`), so that a lookup compares by identity."""

    __slots__ = ("key", "_hash", "__weakref__")

    def __init__(self, key: tuple):
        self.key, self._hash = key, hash(key)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, _Settings) and self.key == other.key)


# Settings -> their live key; an entry goes when the cache holds no document under it.
_LIVE_SETTINGS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _settings_key(key: tuple) -> _Settings:
    settings = _LIVE_SETTINGS.get(key)
    if settings is None:
        settings = _LIVE_SETTINGS.setdefault(key, _Settings(key))
    return settings


@lru_cache(maxsize=4)  # each with user words holds a copy of the prefix dict
def _tokenizer(backend: str, user_words: tuple) -> Any:
    """A word tokenizer with ``user_words`` added ((word, frequency or None) pairs),
    shared by the segmenters with these settings (only read once built)."""
    if backend == "rjieba":
        import rjieba

        tok = rjieba.Jieba()
        for word, freq in user_words:
            tok.add_word(word, freq, None)
        return tok
    from ._jieba_tokenizer import RouteTokenizer

    tok = RouteTokenizer()
    freq_table, total = base_prefix_dict()
    # add_word mutates the prefix dict: copy it only when there are user words.
    tok.FREQ = dict(freq_table) if user_words else freq_table
    tok.total = total
    tok.initialized = True
    for word, freq in user_words:
        tok.add_word(word, freq)
    return tok


def _joined_calls(cut, max_docs: int = 256, max_chars: int = 1 << 16):
    """``cut`` (jieba's accurate or search mode) over many documents in few calls.

    Documents are joined by ``_SEPARATOR``, which jieba always emits as a token of its
    own (it is whitespace, outside jieba's word-character class, so no word spans it),
    and the token list is split there again: the tokens are those of one call per
    document, minus jieba's per-call set-up. A call takes up to ``max_docs`` documents
    and stops after ``max_chars`` characters, so the joined token list stays small for
    long documents. A group in which a document holds the separator itself is cut one
    document at a time.
    """
    def cut_group(part: list[str], out: list[list[str]]) -> None:
        joined = _SEPARATOR.join(part)
        if joined.count(_SEPARATOR) != len(part) - 1:
            out.extend(cut(d) for d in part)
            return
        tokens = cut(joined)
        i = 0
        for _ in range(len(part) - 1):
            j = tokens.index(_SEPARATOR, i)
            out.append(tokens[i:j])
            i = j + 1
        out.append(tokens[i:])

    def cut_many(docs: list[str]) -> list[list[str]]:
        out: list[list[str]] = []
        part: list[str] = []
        chars = 0
        for d in docs:
            part.append(d)
            chars += len(d)
            if len(part) == max_docs or chars >= max_chars:
                cut_group(part, out)
                part, chars = [], 0
        if part:
            cut_group(part, out)
        return out

    return cut_many


def clear_segmentation_cache() -> None:
    """Empty the in-memory cache of segmented documents shared by all segmenters."""
    _SEGMENTATION_CACHE.clear()


def passthrough_analyzer(doc: Sequence[str]) -> Sequence[str]:
    """Return an already-tokenised document unchanged.

    Pass it as ``analyzer=`` to scikit-learn's ``CountVectorizer`` or ``TfidfVectorizer``
    after a :class:`JiebaSegmenter`. Unlike a lambda it pickles, so the pipeline can be
    saved and run with ``n_jobs > 1``.
    """
    return doc


class SegmentedDocuments(list):
    """Deprecated: :meth:`JiebaSegmenter.transform` returns a plain list.

    It was a list that carried the segmenter for Word2VecVectorizer's ``corpus``; give
    ``Word2VecVectorizer(segmenter=...)`` instead. Removed in the next release.
    """

    def __init__(self, docs: Iterable[list[str]] = (), segmenter: JiebaSegmenter | None = None):
        warnings.warn(
            "SegmentedDocuments is deprecated and will be removed in the next release: "
            "JiebaSegmenter.transform returns a list, and Word2VecVectorizer takes the "
            "corpus's segmenter as its segmenter= parameter.", FutureWarning, stacklevel=2)
        super().__init__(docs)
        self.segmenter = segmenter


def _column_name(X: Any) -> str | None:
    """The column name of a one-column DataFrame with a string name, else None."""
    columns = getattr(X, "columns", None)
    if columns is None or len(columns) != 1 or not isinstance(columns[0], str):
        return None
    return columns[0]


def check_documents(X: Any, *, on_invalid: str = "raise", name: str = "X") -> list[str]:
    """Validate a 1-D collection of raw text documents and return it as a list.

    Parameters
    ----------
    X : iterable of str
        A list, tuple, 1-D numpy array or pandas Series of documents.
    on_invalid : {"raise", "empty"}, default="raise"
        What to do with an entry that is not a ``str`` (None, NaN, bytes, a number):
        raise a ValueError naming its position, or treat it as an empty document.
    name : str, default="X"
        The argument name used in error messages.

    Returns
    -------
    list of str
        One entry per input document, in order. Nothing is dropped.
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"{name} must be a list of documents (an iterable of str), got a single "
            f"{type(X).__name__}; wrap it in a list: [text]."
        )
    if isinstance(X, Mapping):
        raise TypeError(
            f"{name} is a mapping ({type(X).__name__}); pass the documents themselves, "
            "e.g. list(d.values())."
        )
    if isinstance(X, (set, frozenset)):
        raise TypeError(
            f"{name} is an unordered set; predictions could not be matched to documents. "
            "Pass a list."
        )
    if hasattr(X, "columns"):  # a DataFrame: iterating it would yield column names
        if X.shape[1] != 1:
            raise ValueError(
                f"{name} is a DataFrame with {X.shape[1]} columns; pass the text column "
                "alone, e.g. df['text']."
            )
        X = X.iloc[:, 0]
    if isinstance(X, np.ndarray) and X.ndim != 1:
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        else:
            raise ValueError(f"{name} must be 1-D (one document per row), got shape {X.shape}.")
    if not isinstance(X, Iterable):
        raise TypeError(
            f"{name} must be an iterable of str documents, got {type(X).__name__}."
        )
    docs = list(X)
    for i, doc in enumerate(docs):
        if isinstance(doc, str):
            continue
        if on_invalid == "empty":
            docs[i] = ""
            continue
        shown = repr(doc)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise ValueError(
            f"{name}[{i}] is {shown} of type {type(doc).__name__}, not a str document; "
            "clean it or pass on_invalid='empty' to treat it as an empty document."
        )
    return docs


def _normalize_many(docs: list[str]) -> list[str]:
    """NFKC + lowercase of every document, in one pass over the joined text when possible.

    Equal to ``unicodedata.normalize("NFKC", d).lower()`` for each document, at a
    quarter of the cost on Chinese text: the characters NFKC changes there are almost
    all full-width ASCII forms and the ideographic space, which are mapped to ASCII
    first; full NFKC then runs only on the few documents still not normalized.
    """
    joined = _SEPARATOR.join(docs)
    if joined.count(_SEPARATOR) != max(len(docs) - 1, 0):  # a document holds the separator
        return [unicodedata.normalize("NFKC", d).lower() for d in docs]
    if not docs:
        return []
    if unicodedata.is_normalized("NFKC", joined):
        return joined.lower().split(_SEPARATOR)
    joined = _to_half_width(joined)  # NFKC(that) == NFKC(joined)
    if unicodedata.is_normalized("NFKC", joined):
        return joined.lower().split(_SEPARATOR)
    return [
        (d if unicodedata.is_normalized("NFKC", d) else unicodedata.normalize("NFKC", d)).lower()
        for d in joined.split(_SEPARATOR)
    ]


def as_written(doc: str, tokens: Sequence[str], normalize: bool = True) -> list[str]:
    """The pieces of ``doc`` as the user wrote it that the segmenter's ``tokens`` come from.

    The segmenter reads the NFKC-normalised, lower-cased text (``normalize=True``): a
    full-width comma comes back as ``,`` and "OK" as "ok". Each token is found in order
    in that text, and the characters of ``doc`` it was made from are returned instead
    (``，`` and "OK"). Where the normalised text cannot be traced back character by
    character, the tokens are returned as they are.
    """
    if not normalize:
        return list(tokens)
    pieces = [unicodedata.normalize("NFKC", c).lower() for c in doc]
    normalized = "".join(pieces)
    if normalized != unicodedata.normalize("NFKC", doc).lower():
        return list(tokens)  # NFKC composed across characters: no 1-to-n map
    origin = [i for i, piece in enumerate(pieces) for _ in piece]
    out, cursor = [], 0
    for token in tokens:
        start = normalized.find(token, cursor) if token else -1
        if start < 0:
            return list(tokens)
        end = start + len(token)
        out.append(doc[origin[start] : origin[end - 1] + 1])
        cursor = end
    return out


def _to_half_width(text: str) -> str:
    """What NFKC does to full-width ASCII (U+FF01-FF5E) and the ideographic space.

    On the code points as a numpy array: 6x faster than a regex over the runs. Lone
    surrogates (valid in a Python str) pass through.
    """
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    full = (codes >= 0xFF01) & (codes <= 0xFF5E)
    space = codes == 0x3000
    if not (full.any() or space.any()):
        return text
    codes = codes.copy()
    codes[full] -= 0xFEE0
    codes[space] = 0x20
    return codes.tobytes().decode("utf-32-le", "surrogatepass")


def _is_punctuation(token: str) -> bool:
    return all(unicodedata.category(ch).startswith("P") for ch in token)


def _load_bundled_stop_words() -> frozenset[str]:
    text = resources.files("sk_slm").joinpath("data/stopwords_zh.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


class JiebaSegmenter(TransformerMixin, BaseEstimator):
    """Segment Chinese (and mixed Chinese/English) documents into token lists.

    The first step of an sk_slm pipeline. Word tokenizers are built lazily and shared by
    the segmenters with the same backend and user words (a cache of a few), so jieba's
    global default tokenizer is never modified; user words live in the instance and
    survive pickling and cloning. The tokenizer is jieba's with a cheaper search for the
    best route through its word graph (the same routes, so the same tokens; the speed-up
    is in ``benchmarks/results/segmentation/``).

    Parameters
    ----------
    mode : {"accurate", "full", "search"}, default="accurate"
        jieba's cutting mode: accurate (``cut``), full (``cut_all``: every dictionary
        word, overlapping) or search engine mode (``cut_for_search``).
    hmm : bool, default=True
        Use jieba's HMM to join characters into words not in the dictionary.
    granularity : {"word", "char"}, default="word"
        "word" segments with jieba; "char" gives one token per Chinese character, with
        Latin words and numbers kept whole (no dictionary needed).
    user_dict : str, path-like, iterable of str or (word, freq) pairs, default=None
        Extra words: a jieba user dictionary file (``word [freq] [tag]`` per line), or
        the words themselves. Pass a list, not a generator, so the segmenter can be cloned.
    stop_words : None, "chinese" or iterable of str, default=None
        Tokens to remove. "chinese" uses a small bundled list of function words.
    normalize : bool, default=True
        Apply Unicode NFKC (full-width letters, digits and punctuation to half-width)
        and lowercase before segmenting. jieba splits full-width numbers into single
        characters, so this alone adds about 2 points of segmentation F1 on news text.
    drop_whitespace : bool, default=True
        Remove tokens made only of whitespace.
    drop_punctuation : bool, default=False
        Remove tokens made only of Unicode punctuation (categories P*). Symbols and
        emoji are kept: they often carry sentiment.
    backend : {"jieba", "rjieba"}, default="jieba"
        "rjieba" is the Rust port (``pip install "sk-slm[fast]"``), about 15x faster.
        Its tokens match jieba's exactly with ``hmm=False`` and on 97-99% of documents
        with ``hmm=True``.
    on_invalid : {"raise", "empty"}, default="raise"
        What to do with an entry that is not a str (None, NaN, bytes, a number): raise
        a ValueError naming its position, or treat it as an empty document.
    n_jobs : int, default=None
        Processes for segmenting large inputs (None means 1; -1 all cores). Inputs
        smaller than 50,000 documents per process are segmented in this process: below
        that, starting workers costs more than it saves.

    Attributes
    ----------
    user_words_ : list of (str, int or None)
        The user words read from ``user_dict`` at fit time.
    stop_words_ : frozenset of str
        The stop words in effect.
    feature_names_in_ : ndarray of shape (1,)
        The text column's name, when fitted on a one-column DataFrame (scikit-learn's
        convention); ``sk-slm predict`` reads its documents from that column.

    See Also
    --------
    Word2VecVectorizer : Turns the token lists into vectors.
    passthrough_analyzer : Lets scikit-learn's text vectorizers consume the token lists.

    Notes
    -----
    Segmenting documents again with the same settings (as happens across CV folds and
    GridSearchCV candidates) is served from a bounded in-memory cache shared by every
    segmenter in the process; :func:`clear_segmentation_cache` empties it.
    The segmenter is stateless apart from its settings: ``transform`` works without
    ``fit``, reading ``user_dict`` and ``stop_words`` from the parameters.

    Examples
    --------
    >>> from sk_slm import JiebaSegmenter
    >>> JiebaSegmenter().fit_transform(["我爱北京天安门", "Ｐｙｔｈｏｎ 很好用"])
    [['我', '爱', '北京', '天安门'], ['python', '很', '好', '用']]
    >>> JiebaSegmenter(granularity="char").fit_transform(["分词2024年 ok"])
    [['分', '词', '2024', '年', 'ok']]
    """

    _constraints: dict = {
        "mode": [Options(*_MODES)],
        "granularity": [Options(*_GRANULARITIES)],
        "backend": [Options(*_BACKENDS)],
        "on_invalid": [Options(*_ON_INVALID)],
        "hmm": ["boolean"],
        "normalize": ["boolean"],
        "drop_whitespace": ["boolean"],
        "drop_punctuation": ["boolean"],
        "n_jobs": [Interval(Integral, None, -1), Interval(Integral, 1, None), None],
    }

    def __init__(
        self,
        mode: str = "accurate",
        hmm: bool = True,
        granularity: str = "word",
        user_dict: Any = None,
        stop_words: Any = None,
        normalize: bool = True,
        drop_whitespace: bool = True,
        drop_punctuation: bool = False,
        backend: str = "jieba",
        on_invalid: str = "raise",
        n_jobs: int | None = None,
    ):
        self.mode = mode
        self.hmm = hmm
        self.granularity = granularity
        self.user_dict = user_dict
        self.stop_words = stop_words
        self.normalize = normalize
        self.drop_whitespace = drop_whitespace
        self.drop_punctuation = drop_punctuation
        self.backend = backend
        self.on_invalid = on_invalid
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        validate_params(self, self._constraints)
        if self.backend == "rjieba":
            try:
                import rjieba  # noqa: F401
            except ImportError as exc:
                raise ImportError(
                    "backend='rjieba' needs the rjieba package: pip install 'sk-slm[fast]' "
                    "(or pip install rjieba), or use backend='jieba'."
                ) from exc

    def _read_user_words(self) -> list[tuple[str, int | None]]:
        ud = self.user_dict
        if ud is None:
            return []
        if isinstance(ud, (str, os.PathLike)):
            path = os.fspath(ud)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"user_dict: no such file {path!r}.")
            words = []
            with open(path, encoding="utf-8-sig") as fh:
                for lineno, raw in enumerate(fh, 1):
                    line = raw.strip()
                    if not line or line.startswith("#"):
                        continue
                    match = _USERDICT_LINE.match(line)
                    if match is None:  # pragma: no cover - the regex matches any non-empty line
                        raise ValueError(f"user_dict {path!r}, line {lineno}: cannot parse {line!r}.")
                    word, freq, _tag = match.groups()
                    words.append((word, int(freq) if freq else None))
            return words
        if isinstance(ud, bytes) or not isinstance(ud, Iterable):
            raise TypeError(
                "user_dict must be a path to a jieba dictionary file or an iterable of words "
                f"or (word, freq) pairs, got {type(ud).__name__}."
            )
        words = []
        for i, entry in enumerate(ud):
            if isinstance(entry, str):
                word, freq = entry, None
            elif (
                isinstance(entry, (tuple, list))
                and len(entry) == 2
                and isinstance(entry[0], str)
                and (entry[1] is None or isinstance(entry[1], Integral))
            ):
                word, freq = entry[0], None if entry[1] is None else int(entry[1])
            else:
                raise ValueError(
                    f"user_dict[{i}] = {entry!r} is neither a word nor a (word, freq) pair."
                )
            if not word.strip():
                raise ValueError(f"user_dict[{i}] is an empty word.")
            words.append((word, freq))
        return words

    def _read_stop_words(self) -> frozenset[str]:
        sw = self.stop_words
        if sw is None:
            return frozenset()
        if isinstance(sw, str):
            if sw != "chinese":
                raise ValueError(
                    f"stop_words={sw!r}: the only named list is 'chinese'; pass an iterable "
                    "of words for your own list."
                )
            words = _load_bundled_stop_words()
        elif isinstance(sw, Iterable):
            words = frozenset(sw)
            bad = [w for w in words if not isinstance(w, str)]
            if bad:
                raise ValueError(f"stop_words must hold str, found {bad[0]!r}.")
        else:
            raise TypeError(f"stop_words must be None, 'chinese' or an iterable, got {sw!r}.")
        if self.normalize:
            words = frozenset(unicodedata.normalize("NFKC", w).lower() for w in words)
        return words

    def _resolved(self) -> Bunch:
        """Settings in effect: the fitted ones, or fresh from the parameters if unfitted."""
        if hasattr(self, "user_words_"):
            return Bunch(user_words=self.user_words_, stop_words=self.stop_words_)
        self._check_params()
        return Bunch(user_words=self._read_user_words(), stop_words=self._read_stop_words())

    # ------------------------------------------------------------------ segmentation
    def _cutter(self, settings: Bunch):
        """Return a function list[str] -> list[list[str]] applying every setting."""
        if self.granularity == "char":
            cut = _CHAR_TOKEN.findall
        else:
            tok = _tokenizer(self.backend, tuple(settings.user_words))
            hmm = bool(self.hmm)
            if self.backend == "rjieba":
                if self.mode == "accurate":
                    def cut(s):
                        return tok.cut(s, hmm)
                elif self.mode == "full":
                    cut = tok.cut_all
                else:
                    def cut(s):
                        return tok.cut_for_search(s, hmm)
            elif self.mode == "accurate":
                def cut(s):
                    return tok.lcut(s, False, hmm)
            elif self.mode == "full":
                def cut(s):
                    return tok.lcut(s, True, hmm)
            else:
                def cut(s):
                    return tok.lcut_for_search(s, hmm)

        if self.granularity == "word" and self.backend == "jieba" and self.mode != "full":
            cut_many = _joined_calls(cut)
        else:
            def cut_many(docs):
                return [cut(d) for d in docs]

        stop = settings.stop_words
        drop_ws = self.drop_whitespace
        drop_punct = self.drop_punctuation

        def segment_many(docs: list[str]) -> list[list[str]]:
            if not (drop_ws or drop_punct or stop):
                return cut_many(docs)
            out = []
            for doc, tokens in zip(docs, cut_many(docs), strict=True):
                if drop_ws and _HAS_SPACE(doc):
                    tokens = [t for t in tokens if not t.isspace()]
                if drop_punct:
                    tokens = [t for t in tokens if not _is_punctuation(t)]
                if stop:
                    tokens = [t for t in tokens if t not in stop]
                out.append(tokens)
            return out

        return segment_many

    def _cache_key(self, settings: Bunch) -> tuple:
        return (
            self.mode, bool(self.hmm), self.granularity, tuple(settings.user_words),
            settings.stop_words, bool(self.normalize), bool(self.drop_whitespace),
            bool(self.drop_punctuation), self.backend,
        )

    def _segment_list(self, docs: list[str], settings: Bunch) -> list[list[str]]:
        segment_many = self._cutter(settings)
        if self.normalize:
            docs = _normalize_many(docs)
        return segment_many(docs)

    def fit(self, X: Any, y: Any = None) -> JiebaSegmenter:
        """Validate the parameters and read the user dictionary and stop words.

        Parameters
        ----------
        X : iterable of str
            Documents; validated but not otherwise used.
        y : None
            Ignored.

        Returns
        -------
        self : JiebaSegmenter
        """
        self._check_params()
        check_documents(X, on_invalid=self.on_invalid)
        self._set_text_column(X)
        self.user_words_ = self._read_user_words()
        self.stop_words_ = self._read_stop_words()
        return self

    def _set_text_column(self, X: Any) -> None:
        """Record a one-column DataFrame's column name, as scikit-learn's estimators
        record ``feature_names_in_``; forget it when fitted on anything else."""
        name = _column_name(X)
        if name is not None:
            self.feature_names_in_ = np.asarray([name], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _check_text_column(self, X: Any) -> None:
        name, fitted = _column_name(X), getattr(self, "feature_names_in_", None)
        if name is not None and fitted is not None and name != fitted[0]:
            raise ValueError(
                f"X's text column is {name!r}, but the segmenter was fitted on column "
                f"{fitted[0]!r}; pass that column (or a list or Series of documents).")

    def set_output(self, *, transform: str | None = None) -> JiebaSegmenter:
        """Accept scikit-learn's output setting, so that ``Pipeline.set_output`` can set it
        for the steps after the segmenter.

        The segmenter's own output, a list of token lists, is not a table: it stays as
        it is whatever the setting.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None

        Returns
        -------
        self : JiebaSegmenter
        """
        if transform not in (None, "default", "pandas", "polars"):
            raise ValueError(f"transform must be 'default', 'pandas', 'polars' or None, got "
                             f"{transform!r}.")
        return self

    def fit_transform(self, X: Any, y: Any = None) -> list[list[str]]:
        """Fit, then segment ``X``; reads ``X`` once, so a generator works too."""
        docs = check_documents(X, on_invalid=self.on_invalid)
        self.fit(docs)._set_text_column(X)
        return self.transform(docs)

    def transform(self, X: Any) -> list[list[str]]:
        """Segment each document.

        Parameters
        ----------
        X : iterable of str
            Documents: list, tuple, 1-D array or pandas Series.

        Returns
        -------
        list of list of str
            One token list per document, in input order; an empty or
            whitespace-only document gives an empty list.
        """
        settings = self._resolved()
        self._check_text_column(X)
        docs = check_documents(X, on_invalid=self.on_invalid)
        key = _settings_key(self._cache_key(settings))
        out, missing = _SEGMENTATION_CACHE.get_many(key, docs)
        if missing:
            todo = list(dict.fromkeys(docs[i] for i in missing))  # unique, in order
            done = self._segment_parallel(todo, settings)
            result = dict(zip(todo, done, strict=True))
            _SEGMENTATION_CACHE.put_many(key, result)
            handed_out = set()
            for i in missing:
                tokens = result[docs[i]]
                # The first row gets the fresh list; repeats get copies, so rows never alias.
                out[i] = tokens if id(tokens) not in handed_out else list(tokens)
                handed_out.add(id(tokens))
        return out

    def _segment_parallel(self, docs: list[str], settings: Bunch) -> list[list[str]]:
        n_jobs = self.n_jobs or 1
        n_jobs = os.cpu_count() or 1 if n_jobs < 0 else n_jobs
        n_jobs = min(n_jobs, len(docs) // _MIN_DOCS_PER_JOB)
        if n_jobs <= 1:
            return self._segment_list(docs, settings)
        size = math.ceil(len(docs) / n_jobs)
        chunks = [docs[i : i + size] for i in range(0, len(docs), size)]
        parts = Parallel(n_jobs=n_jobs)(
            delayed(self._segment_list)(chunk, settings) for chunk in chunks
        )
        return [tokens for part in parts for tokens in part]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        tags.non_deterministic = False
        return tags
