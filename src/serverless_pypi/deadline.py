"""An invocation's time: when to stop starting reads, and what each read may take.

A Lambda invocation keeps a fifth of its time (between FINISH_MIN and FINISH_MAX
seconds) to write what it read; a file is started only if moving its bytes and
starting its extraction fit before that deadline, and a file that a whole
invocation could never read is indexed without it (``time-budget``), to be read
again under a longer timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .archives import Limits
from .objects import ObjectInfo

# What the deadline check assumes of moving a file's bytes (S3 to a Lambda
# function moves about 90 MB/s and more).
READ_RATE = 50 * 1024 * 1024
# Kept back from an invocation's end to write what was read (the manifest, the
# root index): a fifth of its time, at least 1 s and at most 15 s. A 3 s timeout
# (the older module's default) leaves 2 s to read files, a 300 s one 285 s.
FINISH_SHARE, FINISH_MIN, FINISH_MAX = 0.2, 1.0, 15.0
# The least time an extraction is started with; honest files take milliseconds.
MIN_EXTRACTION = 0.25


class OutOfTime(RuntimeError):
    """The invocation is about to end with files left to read: what was read is
    written, and the invocation fails so that Lambda runs it again."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """When an invocation must stop starting new inspections (``time.monotonic``
    seconds), and how long a whole invocation has for reading (a file that needs
    more is never read under this timeout: no retry could finish it).

    Each file's extraction gets the usual ``Limits.seconds`` or what is left
    before the deadline, whichever is less: a short timeout shortens the budget
    of a file instead of refusing every file.
    """

    at: float | None = None
    budget: float | None = None
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_remaining(
        cls, milliseconds: float, clock: Callable[[], float] = time.monotonic
    ) -> Deadline:
        total = milliseconds / 1000
        budget = total - finish_reserve(total)
        return cls(clock() + budget, budget, clock)

    def allows(self, obj: ObjectInfo) -> bool:
        """Whether ``obj`` can be moved, and its extraction started, before the deadline."""
        return self.at is None or self.clock() + transfer_seconds(obj) + MIN_EXTRACTION <= self.at

    def ever_allows(self, obj: ObjectInfo) -> bool:
        """Whether a whole invocation could read ``obj``."""
        return self.budget is None or transfer_seconds(obj) + MIN_EXTRACTION <= self.budget

    def limits(self, obj: ObjectInfo) -> Limits:
        """The limits of an inspection of ``obj`` that starts now."""
        if self.at is None:
            return Limits()
        return Limits().within(self.at - self.clock() - transfer_seconds(obj), MIN_EXTRACTION)

    def cut_short(self, obj: ObjectInfo, limits: Limits) -> bool:
        """Whether an extraction of ``obj`` that ran out of ``limits`` (this deadline's,
        shorter than a file's own) would get markedly more time in a fresh invocation:
        then it is read next time rather than recorded as too slow."""
        if self.budget is None or limits.seconds >= Limits().seconds:
            return False
        most = min(Limits().seconds, self.budget - transfer_seconds(obj))
        return limits.seconds < 0.8 * most

    @property
    def stamp(self) -> float | None:
        """This invocation's budget as an entry records it (``time-budget``): a file it
        could not read is read again by one that grants more."""
        return None if self.budget is None else round(self.budget, 1)

    def grants_more_than(self, budget: float) -> bool:
        """Whether this invocation may read for longer than ``budget`` seconds (a
        file that one with ``budget`` could not read is worth reading again)."""
        return self.budget is None or self.budget > budget + 1.0


def finish_reserve(total: float) -> float:
    """Seconds kept back from an invocation of ``total`` seconds to write its results."""
    return min(FINISH_MAX, max(FINISH_MIN, total * FINISH_SHARE))


def transfer_seconds(obj: ObjectInfo) -> float:
    return obj.size / READ_RATE
