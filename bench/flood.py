#!/usr/bin/env python3
"""The authorizer under attack, on a stub of SSM that throttles at
Parameter Store's 40 calls a second (tests/ssm_stub.py), on loopback:

- a flood of random user names (tests/flood.py): SSM calls, memory, how often the
  real users were let in, p50 / p99 of a decision, and how many scrypts the
  decisions needed (a SHA-256 stands in for each, so that one thread can send the
  flood: the next item says what each costs);
- what one wrong secret costs, for a name that is no user's, a token user, a
  password user and a reader on the upload route, on a container that saw no
  failure and on one that saw many (the same: nothing is budgeted);
- 20 cold authorizers starting at once with 1,000 users, reading the users file,
  and reading the SSM parameters only (a deployment before its first `user sync`).

    python bench/flood.py            # 1,000 requests a second for 10 s
    python bench/flood.py --seconds 3

``bench_flood`` returns the numbers; report.py writes them as Markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from report import section  # noqa: E402
from tests.flood import (  # noqa: E402
    PAGE_ROUTE,
    PASSWORD,
    UPLOAD_ROUTE,
    add_users,
    authorizer_request,
    basic,
    cold_starts,
    flood,
    make,
    percentile,
)
from tests.ssm_stub import Stub, ssm_stub  # noqa: E402
from timing import median_ms  # noqa: E402

from serverless_pypi.authorizer import Authorizer, Secrets  # noqa: E402

SAMPLES = 25
COLD, USERS = 20, 1000  # cold authorizers at once, and the users they read
FAILURES_BEFORE = 20  # twice what the budgets of earlier releases allowed


def bench_flood(seconds: float = 10.0, rate: int = 1000) -> dict[str, Any]:
    """The flood's numbers, and the cost of each kind of wrong secret."""
    with ssm_stub(40) as (stub, url):
        result = flood(stub, url, rate=rate, seconds=seconds)
    with ssm_stub(40) as (stub, url):
        costs = wrong_secret_costs(stub, url)
    starts = {}
    for label, users_file in (("users file", True), ("SSM parameters only", False)):
        with ssm_stub(40) as (stub, url):
            start = cold_starts(stub, url, containers=COLD, users=USERS, users_file=users_file)
        starts[label] = {
            "allowed": start.allowed,
            "failed": start.failed,
            "ssm_calls": start.ssm_calls,
            "ssm_throttled": start.ssm_throttled,
            "object_gets": start.object_gets,
            "seconds": round(start.seconds, 2),
        }
    return {
        "rate": rate,
        "seconds": seconds,
        "sent": result.sent,
        "elapsed_s": round(result.seconds, 1),
        "containers": result.containers,
        "ssm_calls": result.ssm_calls,
        "ssm_throttled": result.ssm_throttled,
        "object_gets": result.object_gets,
        "rss_growth_mb": round(result.rss_growth_mb, 1),
        "scrypts": result.scrypts,
        "valid": result.valid,
        "valid_allowed_pct": round(100 * result.valid_allowed / max(result.valid, 1), 2),
        "flood_allowed": result.flood_allowed,
        "flood_p50_ms": round(percentile(result.flood_ms, 0.5), 3),
        "flood_p99_ms": round(percentile(result.flood_ms, 0.99), 3),
        "valid_p50_ms": round(percentile(result.valid_ms, 0.5), 3),
        "valid_p99_ms": round(percentile(result.valid_ms, 0.99), 3),
        "largest_caches": result.largest_caches,
        "wrong_secret_ms": costs,
        "cold_starts": starts,
        "cold_authorizers": COLD,
    }


def wrong_secret_costs(stub: Stub, url: str) -> dict[str, float]:
    """Median ms of one decision per case: on a container that remembers no secret,
    and on one that saw FAILURES_BEFORE failures of each case first. The samples
    are taken in turns, case after case, so that a busy machine slows all alike."""
    add_users(stub, readers=1)  # reader-0, ci, team-ci, pat: the secrets are not needed
    cases = {
        "name that is no user's": ("nobody", "a-wrong-secret", PAGE_ROUTE),
        "token user, wrong token": ("ci", "spypi_wrong", PAGE_ROUTE),
        "password user, wrong password": ("pat", "a wrong password", PAGE_ROUTE),
        "reader on the upload route, wrong secret": ("reader-0", "spypi_wrong", UPLOAD_ROUTE),
        "password user, right password (first time)": ("pat", PASSWORD, PAGE_ROUTE),
    }
    events = {label: authorizer_request(basic(*case[:2]), case[2]) for label, case in cases.items()}
    right = events.pop("password user, right password (first time)")
    fresh, worn = make(url, cache_seconds=3600), make(url, cache_seconds=3600)
    for event in events.values():
        for _ in range(FAILURES_BEFORE):
            worn(event)
    samples: dict[str, list[float]] = {}
    for _ in range(SAMPLES):
        for label, event in events.items():
            samples.setdefault(label, []).append(_ms(fresh, event))
            after = f"{label}, after {FAILURES_BEFORE} failures"
            samples.setdefault(after, []).append(_ms(worn, event))
        fresh.secrets = Secrets()  # remembers no secret
        samples.setdefault("password user, right password (first time)", []).append(
            _ms(fresh, right)
        )
    costs = {label: round(statistics.median(ms), 2) for label, ms in samples.items()}
    costs["password user, right password (remembered)"] = round(
        median_ms(partial(fresh, right), 200), 3
    )
    return costs


def _ms(decide: Authorizer, event: dict[str, Any]) -> float:
    started = time.perf_counter()
    decide(event)
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the flood lasts")
    parser.add_argument("--rate", type=int, default=1000, help="requests a second")
    args = parser.parse_args()
    results = bench_flood(args.seconds, args.rate)
    print(section("flood", {"flood": results}))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
