"""JSON Web Tokens as trusted publishing receives them: parsed, their signature
verified (RS256, ES256) and their claims checked, in pure Python (the runtime has
the standard library and boto3 only).

- RS256 (RFC 7518 3.3): RSASSA-PKCS1-v1_5 with SHA-256. The signature, as long as
  the modulus, is raised to the public exponent with ``pow`` and the result must
  equal, byte for byte, the padded DigestInfo of the signing input's SHA-256
  (RFC 8017 8.2.2, EMSA-PKCS1-v1_5): no parsing of the decrypted block, so no
  Bleichenbacher-style leniency.
- ES256 (RFC 7518 3.4): ECDSA on P-256 with SHA-256. The signature is R || S, 32
  bytes each (not DER: a DER signature is refused); r and s must lie in
  [1, n-1]; the key's point must lie on the curve. Point arithmetic is in
  Jacobian coordinates. Verification uses no secret, so timing does not matter.

The algorithm is the verifier's choice, never the token's: ``alg`` must be one
of ALGORITHMS and match the key's type; ``none``, the HMAC algorithms and a key
or key location in the token's header (``jwk``, ``jku``, ``x5u``, ``x5c``) are
refused, as are ``crit`` extensions, tokens over MAX_TOKEN bytes and anything
that is not three base64url parts of JSON objects.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_TOKEN = 8192  # GitHub's tokens are about 1.2 KB, GitLab's about 1.5 KB
ALGORITHMS = ("RS256", "ES256")
# Header parameters that name or carry a key, or demand extensions: a token never
# chooses the key it is checked with.
REFUSED_HEADERS = ("jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit")
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192
# Clock skew allowed on exp, nbf and iat (seconds): a CI runner's clock may be a
# little off, a minute is what PyPI allows too.
LEEWAY = 60
# The longest a token may live (exp - iat): GitHub's live minutes, GitLab's at most
# the job's timeout. The used jti's need keeping no longer than this.
MAX_LIFETIME = 24 * 3600

# DigestInfo's DER prefix for SHA-256 (RFC 8017 9.2, note 1).
_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")

# P-256 (FIPS 186-4 D.1.2.3, SEC 2 2.4.2).
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
A = P - 3
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)


class TokenError(ValueError):
    """A token refused; ``code`` says which check (PyPI's error codes' style)."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True, slots=True)
class RsaKey:
    n: int
    e: int


@dataclass(frozen=True, slots=True)
class EcKey:
    x: int
    y: int


Key = RsaKey | EcKey


@dataclass(frozen=True, slots=True)
class Token:
    """A token's decoded parts, not yet verified."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return str(self.header.get("alg"))

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding (RFC 7515 2): anything else is refused."""
    if not text.isascii() or "=" in text or len(text) % 4 == 1:
        raise binascii.Error("not base64url")
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    if not set(text) <= alphabet:
        raise binascii.Error("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(part))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise TokenError("invalid-token", f"the token's {what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise TokenError("invalid-token", f"the token's {what} is not a JSON object")
    return value


def parse(token: object) -> Token:
    """A compact JWS's header, claims and signature; TokenError when it is not one
    this verifier would ever accept (size, shape, algorithm, header)."""
    if not isinstance(token, str) or not token:
        raise TokenError("invalid-payload", "the token must be a non-empty string")
    if len(token) > MAX_TOKEN:
        raise TokenError("invalid-token", f"the token is longer than {MAX_TOKEN} characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("invalid-token", "the token is not three dot-separated parts")
    header = _json_object(parts[0], "header")
    claims = _json_object(parts[1], "payload")
    try:
        signature = b64url_decode(parts[2])
    except binascii.Error:
        raise TokenError("invalid-token", "the token's signature is not base64url") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        shown = alg if isinstance(alg, str) and alg.isascii() and len(alg) < 20 else "?"
        raise TokenError(
            "invalid-algorithm",
            f"the token's algorithm {shown!r} is not accepted (only {', '.join(ALGORITHMS)})",
        )
    for name in REFUSED_HEADERS:
        if name in header:
            raise TokenError("invalid-token", f"the token's header may not hold {name!r}")
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    return Token(header, claims, signing_input, signature)


def _b64_int(jwk: Mapping[str, Any], name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise ValueError(f"the key has no {name!r}")
    return int.from_bytes(b64url_decode(value), "big")


def key_of(jwk: Mapping[str, Any]) -> Key:
    """The public key of a JWK (RSA, or EC on P-256); ValueError when it is
    neither, or not one to trust (a small modulus, a point off the curve)."""
    kty = jwk.get("kty")
    try:
        if kty == "RSA":
            rsa = RsaKey(_b64_int(jwk, "n"), _b64_int(jwk, "e"))
            if not MIN_RSA_BITS <= rsa.n.bit_length() <= MAX_RSA_BITS:
                raise ValueError("an RSA modulus must have 2048 to 8192 bits")
            if rsa.e < 3 or rsa.e % 2 == 0:
                raise ValueError("an RSA exponent must be odd and at least 3")
            return rsa
        if kty == "EC":
            if jwk.get("crv") != "P-256":
                raise ValueError("only the P-256 curve is accepted")
            ec = EcKey(_b64_int(jwk, "x"), _b64_int(jwk, "y"))
            if not on_curve((ec.x, ec.y)):
                raise ValueError("the key's point is not on P-256")
            return ec
    except binascii.Error:
        raise ValueError("the key's numbers are not base64url") from None
    raise ValueError(f"a key of type {str(kty)[:10]!r} is not accepted")


def verify_signature(token: Token, key: Key) -> bool:
    """Whether ``token``'s signature is ``key``'s, with the algorithm that the
    key's type allows (an RSA key never checks an ES256 token, nor the reverse)."""
    if token.alg == "RS256" and isinstance(key, RsaKey):
        return rsa_verify(key, token.signing_input, token.signature)
    if token.alg == "ES256" and isinstance(key, EcKey):
        return ecdsa_verify(key, token.signing_input, token.signature)
    return False


def rsa_verify(key: RsaKey, message: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5-VERIFY with SHA-256 (RFC 8017 8.2.2)."""
    size = (key.n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    encoded = pow(s, key.e, key.n).to_bytes(size, "big")
    digest_info = _SHA256_PREFIX + hashlib.sha256(message).digest()
    padding = size - len(digest_info) - 3
    if padding < 8:
        return False
    expected = b"\x00\x01" + b"\xff" * padding + b"\x00" + digest_info
    return hmac.compare_digest(encoded, expected)


# P-256 points: affine (x, y) or None for the point at infinity; Jacobian (X, Y, Z)
# with Z == 0 for infinity.
Point = tuple[int, int] | None
Jacobian = tuple[int, int, int]
_INFINITY: Jacobian = (1, 1, 0)


def on_curve(point: tuple[int, int]) -> bool:
    x, y = point
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


def _double(p: Jacobian) -> Jacobian:
    x, y, z = p
    if z == 0 or y == 0:
        return _INFINITY
    yy = y * y % P
    s = 4 * x * yy % P
    zz = z * z % P
    m = 3 * (x - zz) * (x + zz) % P  # a = -3
    x3 = (m * m - 2 * s) % P
    y3 = (m * (s - x3) - 8 * yy * yy) % P
    z3 = 2 * y * z % P
    return (x3, y3, z3)


def _add(p: Jacobian, q: Jacobian) -> Jacobian:
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    x1, y1, z1 = p
    x2, y2, z2 = q
    z1z1, z2z2 = z1 * z1 % P, z2 * z2 % P
    u1, u2 = x1 * z2z2 % P, x2 * z1z1 % P
    s1, s2 = y1 * z2 * z2z2 % P, y2 * z1 * z1z1 % P
    if u1 == u2:
        return _double(p) if s1 == s2 else _INFINITY
    h = (u2 - u1) % P
    r = (s2 - s1) % P
    hh = h * h % P
    hhh = h * hh % P
    v = u1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    y3 = (r * (v - x3) - s1 * hhh) % P
    z3 = h * z1 * z2 % P
    return (x3, y3, z3)


def _affine(p: Jacobian) -> Point:
    x, y, z = p
    if z == 0:
        return None
    inverse = pow(z, -1, P)
    zz = inverse * inverse % P
    return (x * zz % P, y * zz * inverse % P)


def _multiply(k: int, point: tuple[int, int]) -> Jacobian:
    result = _INFINITY
    addend: Jacobian = (point[0], point[1], 1)
    while k:
        if k & 1:
            result = _add(result, addend)
        addend = _double(addend)
        k >>= 1
    return result


def ecdsa_verify(key: EcKey, message: bytes, signature: bytes) -> bool:
    """ECDSA verification on P-256 with SHA-256 (SEC 1 4.1.4), of a JWS signature
    (R || S, 32 bytes each)."""
    if len(signature) != 64 or not on_curve((key.x, key.y)):
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (1 <= r < N and 1 <= s < N):
        return False
    e = int.from_bytes(hashlib.sha256(message).digest(), "big")
    w = pow(s, -1, N)
    point = _affine(_add(_multiply(e * w % N, G), _multiply(r * w % N, (key.x, key.y))))
    return point is not None and point[0] % N == r


def _number(claims: Mapping[str, Any], name: str, required: bool) -> int | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError("invalid-token", f"the token's {name!r} claim is missing or not a number")
    return int(value)


def check_claims(claims: Mapping[str, Any], issuer: str, audience: str, now: float) -> None:
    """The registered claims: ``iss`` exactly ``issuer``, ``aud`` exactly
    ``audience`` (a string, or a list of that one string), ``exp`` not past,
    ``nbf`` and ``iat`` not ahead (each within LEEWAY), a life of at most
    MAX_LIFETIME, a ``jti``."""
    if claims.get("iss") != issuer:
        raise TokenError("invalid-issuer", "the token's issuer is not the one its key came from")
    aud = claims.get("aud")
    if aud != audience and aud != [audience]:
        raise TokenError("invalid-audience", f"the token's audience is not {audience!r}")
    exp = _number(claims, "exp", True)
    iat = _number(claims, "iat", True)
    nbf = _number(claims, "nbf", False)
    assert exp is not None and iat is not None
    if now > exp + LEEWAY:
        raise TokenError("expired-token", "the token has expired")
    if nbf is not None and now + LEEWAY < nbf:
        raise TokenError("invalid-token", "the token is not valid yet (nbf)")
    if now + LEEWAY < iat:
        raise TokenError("invalid-token", "the token was issued in the future (iat)")
    if exp - iat > MAX_LIFETIME:
        raise TokenError("invalid-token", "the token lives longer than a day (exp - iat)")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 256:
        raise TokenError("invalid-token", "the token has no 'jti' claim")
