"""Bounded memory and bounded work for a warm function, whatever its callers send:
a least-recently-used map, a token bucket, and failure counts per key.

Each takes its clock (``time.monotonic`` by default), so tests move time on.
None of them is thread-safe alone; the authorizer holds a lock around them.
"""

from __future__ import annotations

import time
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


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up: ``take`` spends one if
    there is one."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._tokens = burst
        self._stamp = clock()

    def take(self) -> bool:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Failures(Generic[K]):
    """At most ``limit`` failures per key in a window of ``seconds`` that opens
    with the key's first failure; counts for at most ``size`` keys (the least
    recently failed are forgotten first)."""

    def __init__(self, limit: int, seconds: float, size: int, clock: Clock = time.monotonic):
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._windows: Lru[K, tuple[float, int]] = Lru(size)

    def exhausted(self, key: K) -> bool:
        """Whether ``key`` has had ``limit`` failures in its current window."""
        window = self._windows.get(key)
        return window is not None and self._open(window) and window[1] >= self.limit

    def fail(self, key: K) -> None:
        window = self._windows.get(key)
        if window is None or not self._open(window):
            self._windows.put(key, (self.clock(), 1))
        else:
            self._windows.put(key, (window[0], window[1] + 1))

    def _open(self, window: tuple[float, int]) -> bool:
        return self.clock() - window[0] < self.seconds

    def __len__(self) -> int:
        return len(self._windows)
