"""Upload tokens minted for trusted publishers: what they hold, how they are
signed and checked, as pure functions.

    spypi-tp.<base64url JSON payload>.<base64url HMAC-SHA256>

The payload names the signing key (``kid``), the token's own id (``jti``), its
expiry (``exp``, Unix time), the projects it may upload to (normalized names)
and the publisher's identity (``by``, ``publishers.identity``). The HMAC covers
the prefix and the payload, with a key of the trust file (``publishers.py``):
whoever can read that file can mint tokens, so only the mint function and the
authorizer may (iam.tf). A client sends it as HTTP Basic, user ``__token__``.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass

from .auth import basic_pair
from .jwtverify import b64url_decode, b64url_encode
from .publishers import SigningKey

PREFIX = "spypi-tp."
TOKEN_USER = "__token__"
MAX_TOKEN = 4096
# The authorizer's context key that marks an upload with a minted token: who published.
PUBLISHER = "publisher"


@dataclass(frozen=True, slots=True)
class Minted:
    kid: str
    jti: str
    expires: int
    projects: tuple[str, ...]
    by: str


def _mac(secret: bytes, payload: str) -> bytes:
    return hmac.new(secret, (PREFIX + payload).encode("ascii"), hashlib.sha256).digest()


def mint(key: SigningKey, minted: Minted) -> str:
    payload = {
        "v": 1,
        "kid": key.kid,
        "jti": minted.jti,
        "exp": minted.expires,
        "projects": list(minted.projects),
        "by": minted.by,
    }
    encoded = b64url_encode(json.dumps(payload, separators=(",", ":")).encode())
    return f"{PREFIX}{encoded}.{b64url_encode(_mac(key.secret, encoded))}"


def is_minted(secret: str) -> bool:
    return secret.startswith(PREFIX)


def check(token: str, key_of: Callable[[str], SigningKey | None], now: float) -> Minted | None:
    """The token's content when a known key signed it and it has not expired;
    None for anything else (compared in constant time)."""
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN:
        return None
    encoded, dot, mac = token[len(PREFIX) :].partition(".")
    if not dot:
        return None
    try:
        payload = json.loads(b64url_decode(encoded))
        signature = b64url_decode(mac)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or payload.get("v") != 1:
        return None
    key = key_of(str(payload.get("kid")))
    if key is None or not hmac.compare_digest(_mac(key.secret, encoded), signature):
        return None
    expires, projects = payload.get("exp"), payload.get("projects")
    if not isinstance(expires, int) or now >= expires:
        return None
    if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
        return None
    return Minted(
        key.kid, str(payload.get("jti")), expires, tuple(projects), str(payload.get("by"))
    )


def from_basic(header: str | None) -> str | None:
    """The minted token of an ``Authorization: Basic`` header whose user is
    ``__token__`` and whose password is a minted token; None otherwise."""
    pair = basic_pair(header, 2 * MAX_TOKEN)
    if pair is None:
        return None
    user, secret = pair
    return secret if user == TOKEN_USER and is_minted(secret) else None


# Where the markers live (under the derived prefix); the module's lifecycle rule
# expires them after two days (main.tf's local.oidc_markers_prefix).
MARKERS_PREFIX = ".serverless-pypi/oidc"


def burn_key(jti: str) -> str:
    """Where a burned token's marker lives."""
    return f"{MARKERS_PREFIX}/burned/{hashlib.sha256(jti.encode()).hexdigest()}"


def jti_key(issuer: str, jti: str) -> str:
    """Where the marker of an OIDC token's jti, once used, lives."""
    digest = hashlib.sha256(f"{issuer}\0{jti}".encode()).hexdigest()
    return f"{MARKERS_PREFIX}/jti/{digest}"


def context(minted: Minted) -> dict[str, str]:
    """The authorizer's context for an upload with a minted token: the upload
    right on its projects, who published, when it expires (the upload function
    checks that again: API Gateway may have kept the verdict longer)."""
    return {
        "user": TOKEN_USER,
        "rights": "upload",
        "projects": ",".join(minted.projects),
        PUBLISHER: minted.by,
        "expires": str(minted.expires),
        "jti": minted.jti,
    }
