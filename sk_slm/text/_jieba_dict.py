"""Load jieba's prefix dictionary once per process, cached in a directory we control.

jieba itself caches the dictionary in the system temp dir, which fails (with a logged
traceback on every new tokenizer) when that dir is read-only, and collides when it is
shared by several users. We build the same (FREQ, total) pair and keep it in
``$SK_SLM_CACHE_DIR``, else ``$XDG_CACHE_HOME/sk_slm``, else ``~/.cache/sk_slm``; when
none is writable we simply keep it in memory.
"""

from __future__ import annotations

import marshal
import os
import tempfile
import threading
from pathlib import Path

_lock = threading.Lock()
_base: tuple[dict, int] | None = None


def cache_dir() -> Path:
    """The directory sk_slm writes its caches to."""
    env = os.environ.get("SK_SLM_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "sk_slm" if xdg else Path.home() / ".cache" / "sk_slm"


def _cache_file() -> Path:
    import jieba

    dict_path = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
    stat = dict_path.stat()
    return cache_dir() / f"jieba-{jieba.__version__}-{stat.st_size}-{int(stat.st_mtime)}.marshal"


def _build() -> tuple[dict, int]:
    import jieba

    tok = jieba.Tokenizer()
    with tok.get_dict_file() as fh:
        return tok.gen_pfdict(fh)


def base_prefix_dict() -> tuple[dict, int]:
    """Return jieba's default (FREQ, total); callers must not mutate FREQ."""
    global _base
    with _lock:
        if _base is not None:
            return _base
        path = _cache_file()
        try:
            with open(path, "rb") as fh:
                _base = marshal.load(fh)
            return _base
        except (OSError, EOFError, ValueError, TypeError):
            pass
        _base = _build()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                marshal.dump(_base, fh)
            os.replace(tmp, path)
        except OSError:
            pass  # read-only or full: keep the dictionary in memory only
        return _base
