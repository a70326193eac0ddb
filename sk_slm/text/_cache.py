"""A small thread-safe LRU cache keyed by (settings, item)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from typing import Any


class LRUCache:
    """Least-recently-used mapping of ``(key, item) -> value`` bounded by entry count.

    Values are stored as tuples and handed out as fresh lists, so callers may mutate
    what they get without corrupting the cache. Keys should be cheap to hash (an int).
    """

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def get_many(self, key: Hashable, items: Sequence[Hashable]) -> tuple[list[Any], list[int]]:
        """Look every item up; return (values with None for misses, positions missed)."""
        out: list[Any] = [None] * len(items)
        missing = []
        data = self._data
        with self._lock:
            for i, item in enumerate(items):
                value = data.get((key, item))
                if value is None:
                    missing.append(i)
                else:
                    data.move_to_end((key, item))
                    out[i] = list(value)
        return out, missing

    def put_many(self, key: Hashable, values: Mapping[Hashable, Sequence[Any]]) -> None:
        if self.maxsize <= 0:
            return
        data = self._data
        with self._lock:
            for item, value in values.items():
                data[(key, item)] = tuple(value)
                data.move_to_end((key, item))
            while len(data) > self.maxsize:
                data.popitem(last=False)
