"""The authorizer under load, measured rather than sampled: a flood of random names
against a stub of SSM that throttles at Parameter Store's 40 calls a second
(tests/ssm_stub.py), and 200,000 wrong secrets and random names, on loopback, with
a SHA-256 standing in for each scrypt they cost (tests.flood.cheap_scrypt).
Minutes of the suite's time are here, not in tests/unit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from serverless_pypi.retry import Backoff
from serverless_pypi.ssm import SsmReader
from tests.flood import (
    PAGE_ROUTE,
    UPLOAD_ROUTE,
    allowed,
    basic,
    cheap_scrypt,
    flood,
    make,
    percentile,
    user,
)
from tests.ssm_stub import Stub, ssm_stub
from tests.unit.test_auth import Clock


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stub, str]]:
    """The stub SSM, with the readers' backoff drawn but not slept."""
    monkeypatch.setattr(SsmReader, "backoff", Backoff(attempts=4, base=0.1, sleep=lambda s: None))
    with ssm_stub(40) as served:
        yield served


def test_a_flood_of_random_names_locks_nobody_out(stub: tuple[Stub, str]) -> None:
    """1,000 requests a second of random names for 10 s against Parameter Store's
    40 calls a second, over containers that come and go and read the users file."""
    ssm, url = stub
    result = flood(ssm, url, rate=1000, seconds=10, readers=20)
    assert result.sent == 10_000
    assert result.valid == 1000 and result.valid_allowed == result.valid
    assert result.flood_allowed == 0
    # One GET of the users file per cold container, and no SSM call.
    assert (result.object_gets, result.ssm_calls) == (result.containers, 0)
    assert result.rss_growth_mb < 20
    assert result.largest_caches["users"] == 23
    assert result.largest_caches["verified secrets"] <= 23
    assert percentile(result.valid_ms, 0.5) < 50  # a remembered secret: no scrypt
    # One scrypt per failed decision, and one per container for the password user's
    # first request: no more, and no failure without one.
    failed = len(result.flood_ms)
    assert failed <= result.scrypts <= failed + result.containers


def test_wrong_secrets_and_random_names_leave_nothing_behind(stub: tuple[Stub, str]) -> None:
    clock = Clock()
    ssm, url = stub
    token = user(ssm, "ci", upload=("*",))
    decide = make(url, clock)
    assert allowed(decide, "ci", token, UPLOAD_ROUTE)
    with cheap_scrypt() as scrypts:
        for number in range(200_000):  # as the review sent them; the events kept bare
            header = basic("ci", f"w{number}")
            wrong = {"routeKey": PAGE_ROUTE, "headers": {"authorization": header}}
            name = {"routeKey": PAGE_ROUTE, "headers": {"authorization": basic(f"n{number}", "s")}}
            assert decide(wrong) == decide(name) == {"isAuthorized": False}
    assert len(scrypts) == 400_000  # one each, the last as the first
    assert len(decide.secrets.verified) == 1  # only a secret that matched
    assert len(decide.users) == 1
    assert allowed(decide, "ci", token, UPLOAD_ROUTE)
