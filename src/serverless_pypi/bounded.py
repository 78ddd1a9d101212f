"""Bounded memory for a warm function, whatever its callers send: a
least-recently-used map (not thread-safe alone: the authorizer holds a lock
around it), and the type of the clocks that tests move on.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Clock = Callable[[], float]


class Lru(Generic[K, V]):
    """A map of at most ``size`` entries: adding one more drops the least recently used."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("an LRU map holds at least one entry")
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
