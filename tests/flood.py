"""A flood of requests with random user names against the authorizer, on loopback.

Drives Authorizer instances (each one a warm Lambda container with its own
caches) against the stub (``tests.ssm_stub``: the users file, and SSM at Parameter
Store's 40 calls a second): ``rate`` requests a second for ``seconds``, round-robin over
``containers`` containers, one of which is replaced by a cold one every
``recycle`` seconds (Lambda scales out and recycles containers under load).
Every ``valid_every``-th request is a real user's, with their right secret, on
a route they may use: a reader, an uploader on the upload route, a password
user and an uploader limited to some projects. The loop is bounded: it sends
exactly ``rate * seconds`` requests, and stops early past twice that time. Every
failed decision costs a scrypt, which a SHA-256 stands in for (``cheap_scrypt``):
the flood counts them.

``tests/e2e/test_flood.py`` asserts on its result, ``bench/flood.py`` reports it;
``tests/unit/test_access.py`` uses its helpers.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

from serverless_pypi import auth, userfile
from serverless_pypi.authorizer import Authorizer, UsersUnavailable
from serverless_pypi.config import AuthSettings
from serverless_pypi.layout import ROUTE_KEYS, UPLOAD_ROUTE_KEYS
from serverless_pypi.local.apigw_events import authorizer_event, build_event
from serverless_pypi.s3http import S3Reader
from serverless_pypi.sigv4 import Credentials
from serverless_pypi.ssm import SsmReader
from tests.ssm_stub import Stub

PATH = "/flood/users/"
BUCKET = "flood-index"
PAGE_ROUTE = "GET /simple/{proxy+}"
UPLOAD_ROUTE = "POST /legacy/"
PASSWORD = "correct horse battery staple"


@contextmanager
def cheap_scrypt() -> Iterator[list[int]]:
    """``hashlib.scrypt`` replaced by a SHA-256 of its arguments while the block runs,
    and each call counted (by its N): every decision is the one scrypt gives (a hash
    made in the block verifies in the block), without its 16 MiB and tens of
    milliseconds, so that one thread can send thousands of failures a second. What
    they would cost is the count times one real scrypt (``bench/flood.py``)."""
    real, calls = hashlib.scrypt, []

    def stand_in(password: bytes, **options: Any) -> bytes:
        calls.append(options["n"])
        salted = options["salt"] + password + repr(sorted(options.items())).encode()
        return hashlib.sha256(salted).digest()[: options.get("dklen", 64)]

    hashlib.scrypt = stand_in  # type: ignore[assignment]
    try:
        yield calls
    finally:
        hashlib.scrypt = real


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def authorizer_request(header: str, route: str = PAGE_ROUTE) -> dict[str, Any]:
    """The REQUEST event API Gateway sends the authorizer for a request on ``route``."""
    method, _, path = route.partition(" ")
    target = path.replace("{proxy+}", "my-pkg/")
    request = build_event(
        method,
        target,
        [("Authorization", header)],
        route_keys=[*ROUTE_KEYS, *UPLOAD_ROUTE_KEYS],
    )
    return authorizer_event(request, [header, route])


def add_users(stub: Stub, readers: int) -> list[dict[str, Any]]:
    """Users in the stub, as ``user add`` writes them: ``readers`` token readers, an
    uploader, an uploader limited to team-*, a password user. Their requests (event
    and what the answer must be), one each."""
    users: list[tuple[str, frozenset[auth.Right], tuple[str, ...], bool, str]] = [
        (f"reader-{number}", frozenset({"read"}), (), False, PAGE_ROUTE)
        for number in range(readers)
    ]
    users += [
        ("ci", frozenset({"read", "upload"}), ("*",), False, UPLOAD_ROUTE),
        ("team-ci", frozenset({"read", "upload"}), ("team-*",), False, UPLOAD_ROUTE),
        ("pat", frozenset({"read"}), (), True, PAGE_ROUTE),
    ]
    requests = []
    for name, rights, projects, password, route in users:
        secret = PASSWORD if password else auth.new_token()
        stored = auth.hash_secret(secret, slow=password)
        stub.parameters[PATH + name] = auth.record(rights, stored, projects or ("*",))
        requests.append({"user": name, "event": authorizer_request(basic(name, secret), route)})
    sync(stub)
    return requests


def user(stub: Stub, name: str, *, password: bool = False, upload: tuple[str, ...] = ()) -> str:
    """A user's parameter in the stub, as `user add` writes it (the users file is
    ``sync``'s); their secret."""
    secret = PASSWORD if password else auth.new_token()
    rights: frozenset[auth.Right] = frozenset({"read", "upload"} if upload else {"read"})
    stored = auth.hash_secret(secret, slow=password)
    stub.parameters[PATH + name] = auth.record(rights, stored, upload or ("*",))
    return secret


def sync(stub: Stub) -> None:
    """The users file from the parameters in the stub, as `user sync` writes it."""
    records = {name[len(PATH) :]: value for name, value in stub.parameters.items()}
    stub.objects[f"{BUCKET}/{userfile.USERS_FILE}"] = userfile.render(PATH, records)


def make(url: str, clock: Callable[[], float] | None = None, cache_seconds: int = 60) -> Authorizer:
    """A cold authorizer as the module deploys it, reading the stub: the users file
    in BUCKET, or while there is none the parameters under PATH."""
    keys = Credentials("t", "t")
    reader = SsmReader("us-east-1", url, credentials=lambda: keys)
    objects = S3Reader(BUCKET, "us-east-1", url, credentials=lambda: keys)
    settings = AuthSettings(PATH, cache_seconds, BUCKET)
    if clock is None:
        return Authorizer(settings, reader, objects=objects)
    return Authorizer(settings, reader, clock, objects=objects)


def allowed(decide: Callable[[Any], dict[str, Any]], name: str, secret: str, route: str) -> bool:
    return decide(authorizer_request(basic(name, secret), route))["isAuthorized"] is True


def rss_mb() -> float:
    """This process's resident memory (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class ColdStarts:
    allowed: int = 0  # of the requests, one per cold authorizer, each a valid user's
    failed: int = 0  # invocations that failed: API Gateway's 500
    ssm_calls: int = 0
    ssm_throttled: int = 0
    object_gets: int = 0
    seconds: float = 0.0


def cold_starts(
    stub: Stub, url: str, *, containers: int = 20, users: int = 1000, users_file: bool = True
) -> ColdStarts:
    """``containers`` cold authorizers made at once as Lambda makes them (from the
    environment: the stub's endpoint, PATH and BUCKET), each deciding a request of
    another of ``users`` token users (added to the stub's parameters, and with
    ``users_file`` to the users file), in threads."""
    secrets = {f"user-{n}": user(stub, f"user-{n}") for n in range(users)}
    if users_file:
        sync(stub)
    names = [f"user-{n * users // containers}" for n in range(containers)]
    environment = {
        "AWS_ENDPOINT_URL": url,
        "AWS_REGION": "us-east-1",
        "USERS_PATH": PATH,
        "S3_BUCKET": BUCKET,
        "AWS_ACCESS_KEY_ID": "cold",
        "AWS_SECRET_ACCESS_KEY": "cold",
    }
    answers: list[bool | None] = [None] * containers
    calls, throttled, gets = stub.counts.calls, stub.counts.throttled, stub.counts.object_gets

    def cold(number: int) -> None:
        name = names[number]
        try:
            answers[number] = allowed(Authorizer.from_env(), name, secrets[name], PAGE_ROUTE)
        except UsersUnavailable:  # the invocation fails: API Gateway answers 500
            answers[number] = None

    started = time.perf_counter()
    with patch.dict(os.environ, environment):
        threads = [threading.Thread(target=cold, args=(n,)) for n in range(containers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return ColdStarts(
        allowed=sum(answer is True for answer in answers),
        failed=sum(answer is None for answer in answers),
        ssm_calls=stub.counts.calls - calls,
        ssm_throttled=stub.counts.throttled - throttled,
        object_gets=stub.counts.object_gets - gets,
        seconds=time.perf_counter() - started,
    )


def random_request(draw: random.Random) -> dict[str, Any]:
    """An attacker's request: a random name that could be a user's, a random secret."""
    name = "".join(draw.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=12))
    return authorizer_request(basic(name, secrets.token_urlsafe(18)))


@dataclass
class Flood:
    sent: int = 0
    seconds: float = 0.0
    containers: int = 0  # cold containers started, the first ones included
    valid: int = 0
    valid_allowed: int = 0
    flood_allowed: int = 0
    ssm_calls: int = 0
    ssm_throttled: int = 0
    object_gets: int = 0
    rss_growth_mb: float = 0.0
    scrypts: int = 0  # what the decisions computed (each one real scrypt on Lambda)
    flood_ms: list[float] = field(default_factory=list)
    valid_ms: list[float] = field(default_factory=list)
    largest_caches: dict[str, int] = field(default_factory=dict)


def flood(
    stub: Stub,
    url: str,
    *,
    rate: int = 1000,
    seconds: float = 10.0,
    containers: int = 4,
    recycle: float = 2.0,
    valid_every: int = 10,
    readers: int = 20,
    cache_seconds: int = 60,
    seed: int = 19,
) -> Flood:
    """Flood the authorizer; what it cost and how the real users fared."""
    draw = random.Random(seed)
    with cheap_scrypt() as scrypts:
        valid = add_users(stub, readers)
        scrypts.clear()
        # Every request is built before the clock starts: the loop only decides.
        total = int(rate * seconds)
        attacks = [random_request(draw) for _ in range(total - total // valid_every)]
        before_calls, before_throttled = stub.counts.calls, stub.counts.throttled
        before_gets = stub.counts.object_gets
        result = Flood()
        pool = [make(url, cache_seconds=cache_seconds) for _ in range(containers)]
        result.containers = containers
        rss_before = rss_mb()
        started = time.perf_counter()
        next_recycle = recycle
        for number in range(total):
            due = started + number / rate
            now = time.perf_counter()
            if now < due:
                time.sleep(due - now)
            elif now - started > 2 * seconds:
                break  # bounded: the machine could not keep up
            if now - started >= next_recycle:
                pool[result.containers % containers] = make(url, cache_seconds=cache_seconds)
                result.containers += 1
                next_recycle += recycle
            authorizer = pool[number % containers]
            is_valid = number % valid_every == 0
            probe = valid[(number // valid_every) % len(valid)] if is_valid else None
            event = probe["event"] if probe else attacks.pop()
            began = time.perf_counter()
            answer = authorizer(event)
            took = (time.perf_counter() - began) * 1000
            result.sent += 1
            if probe is not None:
                result.valid += 1
                result.valid_allowed += answer["isAuthorized"] is True
                result.valid_ms.append(took)
            else:
                result.flood_allowed += answer["isAuthorized"] is True
                result.flood_ms.append(took)
            for name, size in caches(authorizer).items():
                result.largest_caches[name] = max(result.largest_caches.get(name, 0), size)
        result.seconds = time.perf_counter() - started
        result.rss_growth_mb = rss_mb() - rss_before
        result.ssm_calls = stub.counts.calls - before_calls
        result.ssm_throttled = stub.counts.throttled - before_throttled
        result.object_gets = stub.counts.object_gets - before_gets
        result.scrypts = len(scrypts)
    return result


def caches(authorizer: Authorizer) -> dict[str, int]:
    """How many entries each of a container's caches holds."""
    return {
        "users": len(authorizer.users),
        "verified secrets": len(authorizer.secrets.verified),
    }


def percentile(samples: list[float], fraction: float) -> float:
    """The sample below which ``fraction`` of them lie (nearest rank)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
