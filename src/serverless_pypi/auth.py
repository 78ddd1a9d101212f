"""HTTP Basic access: users, their secrets and rights, as pure functions.

A user is one SSM SecureString parameter, ``<users path><name>``, holding a JSON
record: the user's rights and a hash of their secret, never the secret itself
(and the users file, ``userfile.py``, holds every user's record in one object).
A secret is either a generated token (at least 128 bits from ``secrets``: a
salted SHA-256 is then as strong as any slow hash) or a password the user chose
(scrypt, which a guessing attacker pays for). Comparisons are constant-time.

    {"v": 1, "rights": ["read", "upload"], "hash": "sha256$<salt>$<hex>"}
    {"v": 1, "rights": ["read"], "hash": "scrypt$16384$8$1$<salt>$<hex>"}
    {"v": 2, "rights": ["read", "upload"], "projects": ["team-*"], "hash": "..."}

The upload right covers the projects whose normalized names match one of the
user's ``projects`` globs. A version 1 record's upload right covers every
project; a record is written as version 2 only when it narrows that, so an
authorizer from before project patterns refuses such a user instead of letting
them upload anywhere.

A user may expire: a version 3 record holds ``expires`` (Unix time) beside the
patterns, and is written only for a user who expires, so that an authorizer
from before expiry refuses them rather than let them in for ever. From that
time on, the user's secret is refused as a wrong one is (``expired``).

    {"v": 3, "rights": ["read"], "projects": ["*"], "expires": 1767225600, "hash": "..."}
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .layout import UPLOAD_ROUTE_KEYS
from .names import normalize

Right = Literal["read", "upload"]
RIGHTS: tuple[Right, ...] = ("read", "upload")
TOKEN_PREFIX = "spypi_"
TOKEN_BYTES = 24  # 192 bits
# scrypt at 16 MiB and about 50 ms on one core: a 256 MB function pays well under a
# second for it, once per user and secret, then keeps the verdict.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MAX_SECRET = 1024
# User names: what an SSM parameter name may hold, and nothing a URL must escape.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", re.ASCII)
# The routes that only the upload right opens.
UPLOAD_ROUTES = frozenset(UPLOAD_ROUTE_KEYS)
# Upload patterns: globs on normalized project names, with * and ? only (no
# brackets, no comma: the authorizer's context joins them with commas).
EVERY_PROJECT = "*"
MAX_PATTERNS = 32
_PATTERN = re.compile(r"[A-Za-z0-9*?][A-Za-z0-9._*?-]{0,99}", re.ASCII)
# A stored hash that no secret matches, with the default scrypt parameters:
# checking a secret against it costs what checking a password user's costs.
DECOY_HASH = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'00' * 16}${'00' * 32}"


class AuthError(ValueError):
    """A user record or name that cannot be used."""


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    """The user and secret of an ``Authorization: Basic`` header."""

    user: str
    secret: str


@dataclass(frozen=True, slots=True)
class User:
    name: str
    rights: frozenset[Right]
    hash: str
    # The upload right's project patterns; ("*",) for every project, () without it.
    projects: tuple[str, ...] = ()
    # When the user stops working (Unix time); None: never.
    expires: int | None = None

    @property
    def password(self) -> bool:
        """Whether the secret is a chosen password (scrypt), not a generated token."""
        return self.hash.startswith("scrypt$")


def valid_name(name: str) -> bool:
    """Whether ``name`` can be a user name. A token never can (it starts with
    TOKEN_PREFIX): swapped credentials (``-u <token> -p <name>``) are refused
    before any lookup, so a token is never logged nor sent to SSM as a name."""
    return bool(_NAME.fullmatch(name)) and not name.lower().startswith(TOKEN_PREFIX)


def basic_pair(header: str | None, limit: int = 4 * MAX_SECRET) -> tuple[str, str] | None:
    """The ``user:secret`` of an ``Authorization: Basic`` header of at most ``limit``
    characters, as two strings, unchecked; None when it is not one."""
    if not header or len(header) > limit:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, colon, secret = decoded.partition(":")
    return (user, secret) if colon else None


def parse_basic(header: str | None) -> BasicCredentials | None:
    """The user and secret of an ``Authorization: Basic`` header, None when it is not one."""
    pair = basic_pair(header)
    if pair is None:
        return None
    user, secret = pair
    if not valid_name(user) or not secret or len(secret) > MAX_SECRET:
        return None
    return BasicCredentials(user, secret)


def new_token() -> str:
    """A token: 192 random bits, URL-safe, recognisable by its prefix."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_secret(secret: str, *, slow: bool) -> str:
    """A salted hash of ``secret``: SHA-256 for generated tokens, scrypt for passwords."""
    salt = secrets.token_bytes(16)
    if slow:
        digest = hashlib.scrypt(
            secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
        )
        return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"
    return f"sha256${salt.hex()}${hashlib.sha256(salt + secret.encode()).hexdigest()}"


def verify(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches the stored hash, compared in constant time."""
    kind, _, rest = stored.partition("$")
    try:
        if kind == "sha256":
            salt, digest = rest.split("$")
            actual = hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()
        elif kind == "scrypt":
            n, r, p, salt, digest = rest.split("$")
            if not (int(n) <= 2**20 and int(r) <= 32 and int(p) <= 4):
                return False  # a record must not make the function spend unbounded memory
            actual = hashlib.scrypt(
                secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
            ).hex()
        else:
            return False
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, digest)


def matches_every_project(pattern: str) -> bool:
    """Whether a glob matches every project name, as ``may_upload`` matches: only
    wildcards, a ``*`` among them and at most one ``?`` (``**``, ``?*``, ``*?*``),
    since a name has at least one character."""
    return set(pattern) <= {"*", "?"} and "*" in pattern and pattern.count("?") <= 1


def project_patterns(raw: Iterable[str]) -> tuple[str, ...]:
    """Upload patterns as stored: each a glob on normalized names (``Team_*`` is
    ``team-*``), without repeats; ``("*",)`` when one of them matches every project
    (``*``, or ``**``, ``?*``...)."""
    patterns: list[str] = []
    for pattern in raw:
        if not _PATTERN.fullmatch(pattern):
            raise AuthError(
                f"{pattern[:100]!r} is not a project pattern: letters, digits, '.', '_', '-' "
                "and the wildcards '*' and '?', at most 100 characters"
            )
        normalized = EVERY_PROJECT if matches_every_project(pattern) else normalize(pattern)
        if normalized not in patterns:
            patterns.append(normalized)
    if not patterns or len(patterns) > MAX_PATTERNS:
        raise AuthError(f"an upload right needs 1 to {MAX_PATTERNS} project patterns")
    return (EVERY_PROJECT,) if EVERY_PROJECT in patterns else tuple(patterns)


def may_upload(patterns: Iterable[str], project: str) -> bool:
    """Whether the (normalized) ``project`` matches one of the upload ``patterns``."""
    return any(fnmatch.fnmatchcase(project, pattern) for pattern in patterns)


def record(
    rights: frozenset[Right],
    stored_hash: str,
    projects: Iterable[str] = (EVERY_PROJECT,),
    expires: int | None = None,
) -> str:
    """The JSON that a user's parameter holds: version 1 unless the upload right is
    narrowed to some projects (2) or the user expires (3; see the module's docstring)."""
    ordered = [right for right in RIGHTS if right in rights]
    data: dict[str, object] = {"v": 1, "rights": ordered, "hash": stored_hash}
    patterns = project_patterns(projects) if "upload" in rights else (EVERY_PROJECT,)
    if patterns != (EVERY_PROJECT,):
        data = {"v": 2, "rights": ordered, "projects": list(patterns), "hash": stored_hash}
    if expires is not None:
        data = {"v": 3, "rights": ordered, "projects": list(patterns), "expires": int(expires)}
        data["hash"] = stored_hash
    return json.dumps(data, separators=(",", ":"))


def expired(user: User, now: float | None = None) -> bool:
    """Whether ``user`` has expired (at ``now``, Unix time; the clock by default)."""
    return user.expires is not None and (time.time() if now is None else now) >= user.expires


def parse_record(name: str, value: str | object) -> User:
    """A user from their record (version 1 or 2): the JSON text of their parameter,
    or that JSON decoded (the users file holds it so)."""
    data = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            raise AuthError(f"user {name}: the record is not JSON") from None
    if not isinstance(data, dict) or data.get("v") not in (1, 2, 3):
        raise AuthError(f"user {name}: not a version 1, 2 or 3 user record")
    rights, stored = data.get("rights"), data.get("hash")
    if not isinstance(rights, list) or not isinstance(stored, str):
        raise AuthError(f"user {name}: the record has no rights or hash")
    known = frozenset(right for right in RIGHTS if right in rights)
    projects: tuple[str, ...] = ()
    if "upload" in known:
        raw = data.get("projects") if data["v"] in (2, 3) else [EVERY_PROJECT]
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise AuthError(f"user {name}: the record's projects are not a list of patterns")
        try:
            projects = project_patterns(raw)
        except AuthError as error:
            raise AuthError(f"user {name}: {error}") from None
    expires = data.get("expires") if data["v"] == 3 else None
    if data["v"] == 3 and (not isinstance(expires, int) or isinstance(expires, bool)):
        raise AuthError(f"user {name}: a version 3 record needs its expiry (Unix time)")
    return User(name, known, stored, projects, expires)


def required_right(route_key: str | None) -> Right:
    """What a request on ``route_key`` needs: upload for the upload route, else read."""
    return "upload" if route_key in UPLOAD_ROUTES else "read"


def grants(user: User, route_key: str | None) -> bool:
    """Whether ``user`` holds the right that ``route_key`` needs (their secret is
    checked apart, and first: see ``authorizer``)."""
    return required_right(route_key) in user.rights


def decoy(secret: str) -> None:
    """Check ``secret`` against DECOY_HASH: one default scrypt's worth of work,
    for a check that must cost what a password user's costs."""
    verify(secret, DECOY_HASH)
