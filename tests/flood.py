"""A flood of requests with random user names against the authorizer, on loopback.

Drives Authorizer instances (each one a warm Lambda container with its own
caches) against the SSM stub (``tests.ssm_stub``, Parameter Store's 40 calls a
second): ``rate`` requests a second for ``seconds``, round-robin over
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
import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serverless_pypi import auth
from serverless_pypi.authorizer import Authorizer
from serverless_pypi.config import AuthSettings
from serverless_pypi.layout import ROUTE_KEYS, UPLOAD_ROUTE_KEYS
from serverless_pypi.local.events import authorizer_event, build_event
from serverless_pypi.sigv4 import Credentials
from serverless_pypi.ssm import SsmReader
from tests.ssm_stub import Stub

PATH = "/flood/users/"
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
    return requests


def user(stub: Stub, name: str, *, password: bool = False, upload: tuple[str, ...] = ()) -> str:
    """A user in the stub, as `user add` writes them; their secret."""
    secret = PASSWORD if password else auth.new_token()
    rights: frozenset[auth.Right] = frozenset({"read", "upload"} if upload else {"read"})
    stored = auth.hash_secret(secret, slow=password)
    stub.parameters[PATH + name] = auth.record(rights, stored, upload or ("*",))
    return secret


def make(url: str, clock: Callable[[], float] | None = None, cache_seconds: int = 60) -> Authorizer:
    reader = SsmReader("us-east-1", url, credentials=lambda: Credentials("t", "t"))
    if clock is None:
        return Authorizer(AuthSettings(PATH, cache_seconds), reader)
    return Authorizer(AuthSettings(PATH, cache_seconds), reader, clock)


def allowed(decide: Callable[[Any], dict[str, Any]], name: str, secret: str, route: str) -> bool:
    return decide(authorizer_request(basic(name, secret), route))["isAuthorized"] is True


def rss_mb() -> float:
    """This process's resident memory (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def container(url: str, cache_seconds: int) -> Authorizer:
    reader = SsmReader("us-east-1", url, credentials=lambda: Credentials("flood", "flood"))
    return Authorizer(AuthSettings(PATH, cache_seconds), reader)


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
        result = Flood()
        pool = [container(url, cache_seconds) for _ in range(containers)]
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
                pool[result.containers % containers] = container(url, cache_seconds)
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
