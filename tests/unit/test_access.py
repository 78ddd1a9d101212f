"""Access that holds under attack: the authorizer, flooded with unknown names and
wrong secrets, against a stub of SSM that throttles as Parameter Store does
(tests/ssm_stub.py), on loopback.

Each test names the item of the security review it answers: SSM calls per
unknown name (1), bounded caches (2), the cost of wrong secrets (3), SSM
failures that must not lock users out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_pypi import auth, authorizer
from serverless_pypi.authorizer import UsersUnavailable
from serverless_pypi.bounded import Failures, Lru, TokenBucket
from serverless_pypi.local.gateway import Authorized
from serverless_pypi.retry import Backoff
from serverless_pypi.ssm import SsmReader
from tests.flood import (
    PAGE_ROUTE,
    PASSWORD,
    PATH,
    UPLOAD_ROUTE,
    allowed,
    authorizer_request,
    basic,
    make,
    user,
)
from tests.ssm_stub import Stub, ssm_stub
from tests.unit.test_auth import Clock


@pytest.fixture
def stub() -> Iterator[tuple[Stub, str]]:
    with ssm_stub(40) as served:
        yield served


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The readers' backoff, without the sleeping: the waits it drew."""
    waits: list[float] = []
    monkeypatch.setattr(SsmReader, "backoff", Backoff(attempts=4, base=0.1, sleep=waits.append))
    return waits


@pytest.fixture
def scrypts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every scrypt the code computes, by its N."""
    calls: list[int] = []
    real = hashlib.scrypt

    def counting(password: bytes, **kwargs: Any) -> bytes:
        calls.append(kwargs["n"])
        return real(password, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    return calls


# -- 1. unknown names cost no SSM call ------------------------------------------------


def test_unknown_names_never_cost_an_ssm_call(stub: tuple[Stub, str]) -> None:
    ssm, url = stub
    for number in range(25):
        user(ssm, f"user-{number}")
    decide = make(url)
    for number in range(2000):
        assert not allowed(decide, f"random-{number}", "x" * 20, PAGE_ROUTE)
    # The list, once: three pages of at most ten.
    assert ssm.counts.by_target == {"AmazonSSM.GetParametersByPath": 3}
    assert len(decide.users) == 25


def test_the_list_is_read_again_once_per_cache_period(stub: tuple[Stub, str], clock: Clock) -> None:
    ssm, url = stub
    secret = user(ssm, "alice")
    decide = make(url, clock, cache_seconds=60)
    assert allowed(decide, "alice", secret, PAGE_ROUTE)
    newcomer = user(ssm, "bob")
    assert not allowed(decide, "bob", newcomer, PAGE_ROUTE)  # not read yet
    clock.now += 60
    assert allowed(decide, "bob", newcomer, PAGE_ROUTE)
    assert ssm.counts.calls == 2
    # USER_CACHE_SECONDS=0 reads it at most once a second, whatever comes in.
    eager = make(url, clock, cache_seconds=0)
    for _ in range(100):
        allowed(eager, "nobody", "x", PAGE_ROUTE)
    clock.now += 1
    allowed(eager, "nobody", "x", PAGE_ROUTE)
    assert ssm.counts.calls == 4


# -- SSM failures do not lock users out ----------------------------------------------


def test_a_failing_ssm_keeps_the_last_list_for_a_bounded_time(
    stub: tuple[Stub, str], clock: Clock
) -> None:
    ssm, url = stub
    secret = user(ssm, "alice")
    decide = make(url, clock)
    assert allowed(decide, "alice", secret, PAGE_ROUTE)
    ssm.failing = True
    calls = ssm.counts.calls
    clock.now += 61  # the list is due, and cannot be read: the last one serves
    for _ in range(50):
        assert allowed(decide, "alice", secret, PAGE_ROUTE)
    assert ssm.counts.calls - calls == 4  # one read, retried: then RETRY_SECONDS of rest
    clock.now += authorizer.RETRY_SECONDS
    assert allowed(decide, "alice", secret, PAGE_ROUTE)
    assert ssm.counts.calls - calls == 8
    # Past STALE_SECONDS the list is too old to let anyone in: the function fails
    # (API Gateway's 500, not a 403 it would keep for the TTL).
    clock.now += authorizer.STALE_SECONDS
    with pytest.raises(UsersUnavailable):
        decide(authorizer_request(basic("alice", secret)))
    ssm.failing = False
    clock.now += authorizer.RETRY_SECONDS
    assert allowed(decide, "alice", secret, PAGE_ROUTE)


def test_a_throttled_read_is_retried_with_jittered_backoff(
    stub: tuple[Stub, str], waits: list[float]
) -> None:
    ssm, url = stub
    secret = user(ssm, "alice")
    ssm.throttle_next = 2
    assert allowed(make(url), "alice", secret, PAGE_ROUTE)
    assert ssm.counts.throttled == 2 and ssm.counts.answered == 1
    assert len(waits) == 2 and 0 <= waits[0] <= 0.1 and 0 <= waits[1] <= 0.2


def test_a_cold_authorizer_without_ssm_fails_and_the_gateway_answers_500_uncached(
    stub: tuple[Stub, str],
) -> None:
    ssm, url = stub
    secret = user(ssm, "alice")
    ssm.failing = True
    decide = make(url)
    seen: list[dict[str, Any]] = []

    def app(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 200, "headers": {}, "body": "ok"}

    gateway = Authorized(app, decide, ttl=300)
    request = authorizer_request(basic("alice", secret))
    assert gateway(request, None)["statusCode"] == 500
    ssm.failing = False
    decide.users._retry_at = float("-inf")  # the 5 s of rest, over
    assert gateway(request, None)["statusCode"] == 200  # the 500 was not kept
    assert gateway.authorizer_calls == 2 and len(seen) == 1


def test_the_handler_fails_rather_than_deny_when_the_users_cannot_be_read(
    stub: tuple[Stub, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ssm, url = stub
    secret = user(ssm, "alice")
    ssm.failing = True
    monkeypatch.setenv("USERS_PATH", PATH)
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    authorizer.default_authorizer.cache_clear()
    try:
        with pytest.raises(UsersUnavailable):
            authorizer.handler(authorizer_request(basic("alice", secret)))
    finally:
        authorizer.default_authorizer.cache_clear()


# -- 2. every cache is bounded ---------------------------------------------------------


def test_the_bounded_structures_forget_the_oldest() -> None:
    lru: Lru[str, int] = Lru(3)
    for number, key in enumerate("abcd"):
        lru.put(key, number)
        if key == "c":
            assert lru.get("a") == 0  # used: "b" is now the oldest
    assert len(lru) == 3 and lru.get("b") is None and lru.get("a") == 0
    clock = Clock()
    failures: Failures[str] = Failures(limit=2, seconds=10, size=2, clock=clock)
    failures.fail("x")
    assert not failures.exhausted("x")
    failures.fail("x")
    assert failures.exhausted("x")
    failures.fail("y")
    failures.fail("z")  # three keys in a map of two: "x" goes
    assert len(failures) == 2 and not failures.exhausted("x")
    failures.fail("z")
    clock.now += 10
    assert not failures.exhausted("z")  # its window is over
    bucket = TokenBucket(rate=1, burst=2, clock=clock)
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    clock.now += 1
    assert bucket.take() and not bucket.take()


# -- 3. what a wrong secret costs ------------------------------------------------------


def test_a_wrong_secret_costs_one_scrypt_whoever_it_is_for(
    stub: tuple[Stub, str], scrypts: list[int]
) -> None:
    """Unknown name, token user, password user, a reader on the upload route: the
    same work each, so timing tells none of them apart."""
    ssm, url = stub
    reader = user(ssm, "reader")
    user(ssm, "pat", password=True)
    user(ssm, "ci", upload=("*",))
    decide = make(url)
    cases = [
        ("nobody", "a wrong secret", PAGE_ROUTE),
        ("ci", "spypi_wrong", PAGE_ROUTE),
        ("pat", "a wrong password", PAGE_ROUTE),
        ("reader", "spypi_wrong", UPLOAD_ROUTE),
        ("pat", "a wrong password", UPLOAD_ROUTE),
        ("ci", "spypi_wrong", UPLOAD_ROUTE),
    ]
    for name, secret, route in cases:
        scrypts.clear()
        assert not allowed(decide, name, secret, route)
        assert scrypts == [auth.SCRYPT_N], (name, route)
    # The secret is checked before the right: a reader's own token on the upload
    # route is refused at a token's cost, like any reader's request.
    scrypts.clear()
    assert not allowed(decide, "reader", reader, UPLOAD_ROUTE)
    assert scrypts == []


def test_failures_beyond_a_users_budget_are_cheap_and_stop_guessing(
    stub: tuple[Stub, str], clock: Clock, scrypts: list[int]
) -> None:
    ssm, url = stub
    user(ssm, "pat", password=True)
    token = user(ssm, "ci")
    decide = make(url, clock)
    assert allowed(decide, "pat", PASSWORD, PAGE_ROUTE)  # verified once: remembered
    other = make(url, clock)  # a container that has not seen pat's password
    scrypts.clear()
    for number in range(authorizer.FAILURES_PER_USER + 20):
        for container in (decide, other):
            assert not allowed(container, "pat", f"guess {number}", PAGE_ROUTE)
            assert not allowed(container, "ci", f"spypi_guess{number}", PAGE_ROUTE)
    # Each container paid FAILURES_PER_USER scrypts per user, then nothing.
    assert len(scrypts) == 2 * 2 * authorizer.FAILURES_PER_USER
    # The password user: their remembered password still works; a password not
    # verified here is refused unchecked until the window ends (the lockout).
    assert allowed(decide, "pat", PASSWORD, PAGE_ROUTE)
    assert not allowed(other, "pat", PASSWORD, PAGE_ROUTE)
    # A token cannot be guessed: its user is never locked out.
    assert allowed(other, "ci", token, PAGE_ROUTE)
    clock.now += authorizer.FAILURE_WINDOW
    assert allowed(other, "pat", PASSWORD, PAGE_ROUTE)


def test_decoys_for_unknown_names_are_budgeted(
    stub: tuple[Stub, str], clock: Clock, scrypts: list[int]
) -> None:
    ssm, url = stub
    user(ssm, "alice")
    decide = make(url, clock)
    for number in range(100):
        assert not allowed(decide, f"nobody-{number}", "x", PAGE_ROUTE)
    assert len(scrypts) == authorizer.DECOY_BURST
    clock.now += 3
    for number in range(100):
        allowed(decide, f"again-{number}", "x", PAGE_ROUTE)
    assert len(scrypts) == authorizer.DECOY_BURST + 3 * authorizer.DECOYS_PER_SECOND


def test_an_uploaders_patterns_reach_the_upload_function(stub: tuple[Stub, str]) -> None:
    ssm, url = stub
    token = user(ssm, "team-ci", upload=("team-*", "Lib_?"))
    answer = make(url)(authorizer_request(basic("team-ci", token), UPLOAD_ROUTE))
    assert answer == {
        "isAuthorized": True,
        "context": {"user": "team-ci", "rights": "read,upload", "projects": "team-*,lib-?"},
    }
