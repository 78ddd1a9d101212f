"""One retry policy for everything that tries again: full-jitter exponential
backoff, the loop that waits between attempts, and the error of a writer that
kept losing its conditional write.

Its users: the indexer's three conditional-write paths (a project's full
reindex, an event's incremental add, the root index), which retry a lost race
from a fresh read; and the lean S3 and SSM readers (``sigv4.retrying``), which
retry a transient error.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass


class ConflictError(RuntimeError):
    """Other writers kept winning; the invocation fails so that it is retried."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Full-jitter exponential backoff: before retry ``n`` (from 0) a wait drawn from
    [0, min(cap, base * 2**n)] seconds, at most ``attempts`` tries in all and at most
    ``budget`` seconds of waiting. ``sleep`` and ``draw`` are there for the tests."""

    attempts: int = 4
    base: float = 0.05
    cap: float = 1.0
    budget: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    draw: Callable[[float, float], float] = random.uniform

    def __post_init__(self) -> None:
        if self.attempts < 1 or min(self.base, self.cap, self.budget) < 0:
            raise ValueError("a backoff needs an attempt and no negative waits")

    def pause(self, retry: int, waited: float) -> float:
        """Wait before retry ``retry`` when ``waited`` seconds went by already; how long."""
        ceiling = min(self.cap, self.base * 2**retry)
        seconds = max(0.0, min(self.draw(0.0, ceiling), self.budget - waited))
        if seconds:
            self.sleep(seconds)
        return seconds


def attempts(backoff: Backoff) -> Iterator[int]:
    """Attempt numbers 0 to ``backoff.attempts - 1``, with a wait before each one
    after the first. A caller that succeeds leaves the loop; one that falls out
    of it has used every attempt."""
    waited = 0.0
    for attempt in range(backoff.attempts):
        if attempt:
            waited += backoff.pause(attempt - 1, waited)
        yield attempt


def conflicts(backoff: Backoff, what: str) -> Iterator[int]:
    """``attempts`` for a writer that retries lost races: ConflictError (naming
    ``what``) once the attempts run out."""
    yield from attempts(backoff)
    raise ConflictError(f"{what}: gave up after {backoff.attempts} conflicting writes")


def racing(attempts: int) -> Backoff:
    """The backoff of a conditional writer against others: waits of up to 0.1 s,
    doubling to at most 2 s, with no budget beyond the count of attempts."""
    return Backoff(attempts=attempts, base=0.1, cap=2.0, budget=math.inf)
