"""Access that holds under attack: the authorizer against a stub of SSM that
throttles as Parameter Store does (tests/ssm_stub.py), on loopback. No SSM call
per unknown name, bounded caches, wrong secrets that cost the same whoever they
name and never make the right one fail, SSM failures that lock no one out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from serverless_pypi import auth, authorizer, userfile
from serverless_pypi.authorizer import UsersUnavailable
from serverless_pypi.bounded import Lru
from serverless_pypi.layout import USERS_FILE
from serverless_pypi.local.gateway import Authorized
from serverless_pypi.retry import Backoff
from serverless_pypi.ssm import SsmReader
from tests.flood import (
    BUCKET,
    PAGE_ROUTE,
    PATH,
    UPLOAD_ROUTE,
    allowed,
    authorizer_request,
    basic,
    cheap_scrypt,
    cold_starts,
    make,
    sync,
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
def scrypts() -> Iterator[list[int]]:
    """Every scrypt the code computes, by its N (a SHA-256 stands in: the same
    answers, in microseconds)."""
    with cheap_scrypt() as calls:
        yield calls


# -- unknown names cost no SSM call ------------------------------------------------


def test_unknown_names_never_cost_an_ssm_call(
    stub: tuple[Stub, str], clock: Clock, scrypts: list[int]
) -> None:
    ssm, url = stub
    for number in range(25):
        user(ssm, f"user-{number}")
    decide = make(url, clock)
    for number in range(2000):
        assert not allowed(decide, f"random-{number}", "x" * 20, PAGE_ROUTE)
    # No users file yet: the list, once, in three pages of at most ten.
    assert ssm.counts.by_target == {"AmazonSSM.GetParametersByPath": 3}
    assert ssm.counts.object_gets == 1
    assert len(decide.users) == 25


# -- the users file: one GET per cold authorizer --------------------------------------


def test_twenty_cold_authorizers_let_every_user_in_within_parameter_stores_quota(
    stub: tuple[Stub, str],
) -> None:
    """1,000 users, 20 authorizers starting at once, Parameter Store at 40 calls a
    second: each reads the users file, one GET, and lets its user in."""
    ssm, url = stub
    result = cold_starts(ssm, url, containers=20, users=1000)
    assert (result.allowed, result.failed) == (20, 0)
    assert (result.ssm_calls, result.object_gets) == (0, 20)


def test_a_warm_authorizer_reads_the_users_file_again_with_a_304(
    stub: tuple[Stub, str], clock: Clock
) -> None:
    ssm, url = stub
    secret = user(ssm, "alice")
    sync(ssm)
    decide = make(url, clock, cache_seconds=60)
    assert allowed(decide, "alice", secret, PAGE_ROUTE)
    newcomer = user(ssm, "bob")  # a parameter only: the file is what is read
    clock.now += 60
    assert not allowed(decide, "bob", newcomer, PAGE_ROUTE)
    assert ssm.counts.not_modified == 1
    sync(ssm)
    clock.now += 60
    assert allowed(decide, "bob", newcomer, PAGE_ROUTE)
    assert allowed(decide, "alice", secret, PAGE_ROUTE)
    assert (ssm.counts.calls, ssm.counts.object_gets) == (0, 3)


def test_a_failing_s3_keeps_the_last_list_and_never_turns_to_ssm(
    stub: tuple[Stub, str], clock: Clock
) -> None:
    """A warm function keeps its list; a burst of GetParametersByPath from every
    container while S3 fails would only trade one outage for another."""
    ssm, url = stub
    secret = user(ssm, "alice")
    sync(ssm)
    decide = make(url, clock)
    assert allowed(decide, "alice", secret, PAGE_ROUTE)
    ssm.objects_failing = True
    clock.now += 61
    for _ in range(20):
        assert allowed(decide, "alice", secret, PAGE_ROUTE)
    clock.now += authorizer.STALE_SECONDS
    with pytest.raises(UsersUnavailable):
        decide(authorizer_request(basic("alice", secret)))
    assert ssm.counts.calls == 0
    with pytest.raises(UsersUnavailable):  # a cold one: the same, no SSM call
        make(url, clock)(authorizer_request(basic("alice", secret)))
    assert ssm.counts.calls == 0


def test_a_users_file_of_another_path_is_not_used(
    stub: tuple[Stub, str], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    ssm, url = stub
    secret = user(ssm, "alice")
    other = auth.record(frozenset({"read"}), auth.hash_secret("spypi_x", slow=False))
    ssm.objects[f"{BUCKET}/{USERS_FILE}"] = userfile.render("/other/users/", {"mallory": other})
    decide = make(url, clock)
    assert allowed(decide, "alice", secret, PAGE_ROUTE)  # from the parameters of PATH
    assert not allowed(decide, "mallory", "spypi_x", PAGE_ROUTE)
    assert f"not {PATH!r}: the users' SSM parameters are read instead" in caplog.text


def test_the_list_is_read_again_once_per_cache_period(
    stub: tuple[Stub, str], clock: Clock, scrypts: list[int]
) -> None:
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


# -- every cache is bounded ---------------------------------------------------------


def test_the_lru_map_forgets_the_least_recently_used() -> None:
    lru: Lru[str, int] = Lru(3)
    for number, key in enumerate("abcd"):
        lru.put(key, number)
        if key == "c":
            assert lru.get("a") == 0  # used: "b" is now the oldest
    assert len(lru) == 3 and lru.get("b") is None and lru.get("a") == 0


# -- what a wrong secret costs ------------------------------------------------------


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


def test_every_wrong_secret_costs_one_scrypt_however_many_came_before(
    stub: tuple[Stub, str], scrypts: list[int]
) -> None:
    """Made-up names, a token user and a password user, far past any budget: still
    one scrypt each, so that timing never tells which names are users'."""
    ssm, url = stub
    user(ssm, "pat", password=True)
    user(ssm, "ci")
    decide = make(url)
    for number in range(25):
        for name, secret in [(f"nobody-{number}", "x"), ("pat", f"{number}"), ("ci", "spypi_x")]:
            scrypts.clear()
            assert not allowed(decide, name, secret, PAGE_ROUTE)
            assert scrypts == [auth.SCRYPT_N], (number, name)


@pytest.mark.parametrize(
    ("kind", "route"),
    [("password", PAGE_ROUTE), ("password", UPLOAD_ROUTE), ("token", PAGE_ROUTE)],
)
def test_wrong_secrets_from_anyone_never_make_the_right_one_fail(
    stub: tuple[Stub, str], clock: Clock, scrypts: list[int], kind: str, route: str
) -> None:
    """A stranger sends wrong secrets naming a user, on the route the user needs,
    to a function that has not seen the right one yet: the right one still opens
    it, and API Gateway keeps no refusal of the right header."""
    ssm, url = stub
    secret = user(ssm, "bob", password=kind == "password", upload=("*",))
    gateway = Authorized(lambda event, context: {"statusCode": 200}, make(url, clock), 300, clock)
    for number in range(25):
        guess = authorizer_request(basic("bob", f"guess {number}"), route)
        assert gateway(guess, None)["statusCode"] == 403
    assert gateway(authorizer_request(basic("bob", secret), route), None)["statusCode"] == 200
    clock.now += authorizer.STALE_SECONDS  # long after: the same
    assert gateway(authorizer_request(basic("bob", secret), route), None)["statusCode"] == 200


def test_an_uploaders_patterns_reach_the_upload_function(stub: tuple[Stub, str]) -> None:
    ssm, url = stub
    token = user(ssm, "team-ci", upload=("team-*", "Lib_?"))
    answer = make(url)(authorizer_request(basic("team-ci", token), UPLOAD_ROUTE))
    assert answer == {
        "isAuthorized": True,
        "context": {"user": "team-ci", "rights": "read,upload", "projects": "team-*,lib-?"},
    }
