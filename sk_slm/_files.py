"""Files written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

__all__ = ["written_whole"]


@contextlib.contextmanager
def written_whole(path: str | os.PathLike) -> Iterator[str]:
    """A temporary path beside ``path``, moved onto it (after an fsync) only once the
    ``with`` block has written it completely; on any error it is removed and ``path``
    keeps what it held."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".sk_slm-", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
