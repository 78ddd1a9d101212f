#!/usr/bin/env python3
"""The authorizer under attack, on a stub of SSM that throttles at
Parameter Store's 40 calls a second (tests/ssm_stub.py), on loopback:

- a flood of random user names (tests/flood.py): SSM calls, memory, how often the
  real users were let in, and p50 / p99 of a decision;
- what one wrong secret costs, for a name that is no user's, a token user, a
  password user and a reader on the upload route (the budgets refilled before each
  sample), beside what the checks cost once the budgets are spent.

    python bench/flood.py            # 1,000 requests a second for 10 s
    python bench/flood.py --seconds 3

``bench_flood`` returns the numbers; report.py writes them as Markdown.
"""

from __future__ import annotations

import argparse
import json
import sys
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
    container,
    flood,
    percentile,
)
from tests.ssm_stub import Stub, ssm_stub  # noqa: E402
from timing import median_ms  # noqa: E402

from serverless_pypi.authorizer import Authorizer, Secrets  # noqa: E402

SAMPLES = 15


def bench_flood(seconds: float = 10.0, rate: int = 1000) -> dict[str, Any]:
    """The flood's numbers, and the cost of each kind of wrong secret."""
    with ssm_stub(40) as (stub, url):
        result = flood(stub, url, rate=rate, seconds=seconds)
    with ssm_stub(40) as (stub, url):
        costs = wrong_secret_costs(stub, url)
    return {
        "rate": rate,
        "seconds": seconds,
        "sent": result.sent,
        "elapsed_s": round(result.seconds, 1),
        "containers": result.containers,
        "ssm_calls": result.ssm_calls,
        "ssm_throttled": result.ssm_throttled,
        "rss_growth_mb": round(result.rss_growth_mb, 1),
        "valid": result.valid,
        "valid_allowed_pct": round(100 * result.valid_allowed / max(result.valid, 1), 2),
        "flood_allowed": result.flood_allowed,
        "flood_p50_ms": round(percentile(result.flood_ms, 0.5), 3),
        "flood_p99_ms": round(percentile(result.flood_ms, 0.99), 3),
        "valid_p50_ms": round(percentile(result.valid_ms, 0.5), 3),
        "valid_p99_ms": round(percentile(result.valid_ms, 0.99), 3),
        "largest_caches": result.largest_caches,
        "wrong_secret_ms": costs,
    }


def wrong_secret_costs(stub: Stub, url: str) -> dict[str, float]:
    """Median ms of one decision per case: within the budgets (refilled before each
    sample, as on a container that saw no failure), then with them spent."""
    add_users(stub, readers=1)  # reader-0, ci, team-ci, pat: the secrets are not needed
    decide = container(url, cache_seconds=3600)
    cases = {
        "name that is no user's": ("nobody", "a-wrong-secret", PAGE_ROUTE),
        "token user, wrong token": ("ci", "spypi_wrong", PAGE_ROUTE),
        "password user, wrong password": ("pat", "a wrong password", PAGE_ROUTE),
        "reader on the upload route, wrong secret": ("reader-0", "spypi_wrong", UPLOAD_ROUTE),
    }
    costs: dict[str, float] = {}
    for label, (name, secret, route) in cases.items():
        event = authorizer_request(basic(name, secret), route)
        costs[label] = round(median_ms(_fresh(decide, event), SAMPLES), 2)
    for label, (name, secret, route) in cases.items():
        event = authorizer_request(basic(name, secret), route)
        for _ in range(20):
            decide(event)  # spend the budgets
        costs[f"{label}, budget spent"] = round(median_ms(partial(decide, event), 200), 3)
    pat = authorizer_request(basic("pat", PASSWORD))
    costs["password user, right password (first time)"] = round(
        median_ms(_fresh(decide, pat), SAMPLES), 2
    )
    costs["password user, right password (remembered)"] = round(
        median_ms(partial(decide, pat), 200), 3
    )
    return costs


def _fresh(decide: Authorizer, event: dict[str, Any]) -> Any:
    """One decision on a container whose budgets are full and that remembers no secret."""

    def run() -> None:
        decide.secrets = Secrets()
        decide(event)

    return run


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
