"""Timing on a noisy machine: medians of repeated runs, after a warm-up run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_ms(run: Callable[[], Any], repeat: int) -> float:
    run()  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def repeats(size: int) -> int:
    """How many runs to take the median of, for a project of ``size`` files."""
    return 25 if size <= 1000 else 7 if size <= 10_000 else 3
