"""The one retry policy: full-jitter backoff, the loop of attempts, and the conflict
error of a writer that keeps losing (pure, with the waits recorded, not slept)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from serverless_pypi import retry
from serverless_pypi.retry import Backoff, ConflictError


def _waits(**options: Any) -> list[float]:
    """The waits between every attempt of a loop that never succeeds."""
    waits: list[float] = []
    backoff = Backoff(sleep=waits.append, **options)
    assert list(retry.attempts(backoff)) == list(range(backoff.attempts))
    return waits


def _ceiling(low: float, high: float) -> float:
    return high


def test_the_waits_grow_up_to_the_cap() -> None:
    waits = _waits(attempts=6, base=0.1, cap=0.3, budget=10, draw=_ceiling)
    assert waits == pytest.approx([0.1, 0.2, 0.3, 0.3, 0.3])


def test_the_total_wait_is_bounded() -> None:
    waits = _waits(attempts=8, base=0.1, cap=1.0, budget=0.5, draw=_ceiling)
    assert waits == pytest.approx([0.1, 0.2, 0.2])
    assert sum(waits) == pytest.approx(0.5)


def test_the_waits_are_jittered_below_their_ceiling() -> None:
    rng = random.Random(20261125)
    runs = [_waits(attempts=4, base=0.05, draw=rng.uniform) for _ in range(50)]
    assert all(len(waits) == 3 for waits in runs)
    for retry_number, ceiling in enumerate([0.05, 0.1, 0.2]):
        drawn = [waits[retry_number] for waits in runs]
        assert all(0 <= wait <= ceiling for wait in drawn)
        assert len(set(drawn)) == len(drawn)  # full jitter: no two alike
        assert max(drawn) > ceiling / 2  # spread over the whole range
    assert sum(waits[2] for waits in runs) > sum(waits[0] for waits in runs)  # growing


def test_a_backoff_needs_an_attempt() -> None:
    with pytest.raises(ValueError, match="attempt"):
        Backoff(attempts=0)


def test_leaving_the_loop_stops_the_waits() -> None:
    waits: list[float] = []
    backoff = Backoff(attempts=5, sleep=waits.append, draw=_ceiling)
    for attempt in retry.attempts(backoff):
        if attempt == 2:
            break
    assert len(waits) == 2  # before the second and the third attempt only


def test_a_writer_that_keeps_losing_gets_a_conflict_error_naming_what() -> None:
    waits: list[float] = []
    backoff = Backoff(attempts=3, budget=10, sleep=waits.append, draw=_ceiling)
    rounds = retry.conflicts(backoff, "my-pkg")
    assert [next(rounds), next(rounds), next(rounds)] == [0, 1, 2]
    with pytest.raises(ConflictError, match=r"^my-pkg: gave up after 3 conflicting writes$"):
        next(rounds)
    assert len(waits) == 2


def test_a_writer_that_wins_gets_no_error() -> None:
    backoff = Backoff(attempts=3, sleep=lambda seconds: None)
    won = None
    for attempt in retry.conflicts(backoff, "root index"):
        if attempt == 1:
            won = attempt
            break
    assert won == 1


def test_racing_writers_wait_up_to_two_seconds_without_a_budget() -> None:
    """Before retry ``n`` of a conditional writer: up to min(2, 0.1 * 2**n) seconds, for
    every attempt (no budget cuts a busy project's rounds short)."""
    waits: list[float] = []
    policy = retry.racing(12)
    backoff = Backoff(
        attempts=policy.attempts,
        base=policy.base,
        cap=policy.cap,
        budget=policy.budget,
        sleep=waits.append,
        draw=_ceiling,
    )
    assert list(retry.attempts(backoff)) == list(range(12))
    assert waits == pytest.approx([min(2.0, 0.1 * 2**n) for n in range(11)])
