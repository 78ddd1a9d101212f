"""The pure-Python JWT verification, against keys and signatures that the
``cryptography`` package made: every refusal, one test each."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from serverless_pypi import jwtverify
from serverless_pypi.jwtverify import TokenError
from tests.oidc_issuer import b64, der_to_raw, jwk_of, new_ec, new_rsa, sign

RSA, EC = new_rsa(), new_ec()
RSA_KEY = jwtverify.key_of(jwk_of(RSA, "r"))
EC_KEY = jwtverify.key_of(jwk_of(EC, "e"))
ISS, AUD = "https://issuer.example", "pypi.example"


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    data = {"iss": ISS, "aud": AUD, "iat": now, "nbf": now, "exp": now + 300, "jti": "j-1"}
    data.update(extra)
    return data


def verified(token: str, key: jwtverify.Key) -> bool:
    return jwtverify.verify_signature(jwtverify.parse(token), key)


@pytest.mark.parametrize(
    ("private", "public", "alg"), [(RSA, RSA_KEY, "RS256"), (EC, EC_KEY, "ES256")]
)
def test_a_signature_by_the_key_verifies(private: Any, public: jwtverify.Key, alg: str) -> None:
    token = sign(private, {"alg": alg, "kid": "k"}, claims())
    assert verified(token, public)
    parsed = jwtverify.parse(token)
    assert parsed.kid == "k" and parsed.claims["jti"] == "j-1"


@pytest.mark.parametrize(("private", "alg"), [(RSA, "RS256"), (EC, "ES256")])
def test_another_keys_signature_is_refused(private: Any, alg: str) -> None:
    other = new_rsa() if alg == "RS256" else new_ec()
    token = sign(other, {"alg": alg}, claims())
    assert not verified(token, RSA_KEY if alg == "RS256" else EC_KEY)


@pytest.mark.parametrize(
    ("private", "public", "alg"), [(RSA, RSA_KEY, "RS256"), (EC, EC_KEY, "ES256")]
)
def test_a_tampered_payload_is_refused(private: Any, public: jwtverify.Key, alg: str) -> None:
    header, _, signature = sign(private, {"alg": alg}, claims()).split(".")
    forged = b64(json.dumps(claims(repository="org/evil")).encode())
    assert not verified(f"{header}.{forged}.{signature}", public)


def test_an_rsa_key_never_checks_an_es256_token_nor_the_reverse() -> None:
    assert not verified(sign(EC, {"alg": "ES256"}, claims()), RSA_KEY)
    rsa_token = sign(RSA, {"alg": "RS256"}, claims())
    assert not verified(rsa_token, EC_KEY)
    # The header's alg is what decides, not the key: RS256 bytes under an ES256 header.
    header = b64(json.dumps({"alg": "ES256"}).encode())
    assert not verified(header + rsa_token[rsa_token.index(".") :], RSA_KEY)


def test_a_der_signature_is_refused_for_es256() -> None:
    """JWS carries R || S; the DER form that most libraries produce is not one."""
    header = b64(json.dumps({"alg": "ES256"}).encode())
    payload = b64(json.dumps(claims()).encode())
    der = EC.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    assert not verified(f"{header}.{payload}.{b64(der)}", EC_KEY)
    assert verified(f"{header}.{payload}.{b64(der_to_raw(der))}", EC_KEY)


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, 1), (1, 0), (jwtverify.N, 1), (1, jwtverify.N), (2**256 - 1, 1)],
    ids=["r=0", "s=0", "r=n", "s=n", "r>n"],
)
def test_out_of_range_r_or_s_is_refused(r: int, s: int) -> None:
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert not jwtverify.ecdsa_verify(EC_KEY, b"message", signature)  # type: ignore[arg-type]


def test_an_rsa_signature_of_the_wrong_length_or_too_large_is_refused() -> None:
    assert isinstance(RSA_KEY, jwtverify.RsaKey)
    good = RSA.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    assert jwtverify.rsa_verify(RSA_KEY, b"m", good)
    assert not jwtverify.rsa_verify(RSA_KEY, b"m", b"\x00" + good)
    assert not jwtverify.rsa_verify(RSA_KEY, b"m", good[1:])
    size = len(good)
    assert not jwtverify.rsa_verify(RSA_KEY, b"m", RSA_KEY.n.to_bytes(size, "big"))
    assert not jwtverify.rsa_verify(RSA_KEY, b"other", good)


def test_a_point_off_the_curve_is_no_key() -> None:
    jwk = jwk_of(EC, "e")
    jwk["y"] = b64(
        (int.from_bytes(jwtverify.b64url_decode(jwk["y"]), "big") ^ 1).to_bytes(32, "big")
    )
    with pytest.raises(ValueError, match="not on P-256"):
        jwtverify.key_of(jwk)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
        {"kty": "RSA", "n": b64((2**1023 + 1).to_bytes(128, "big")), "e": "AQAB"},
        {"kty": "RSA", "n": "AQAB", "e": "AQ=="},
    ],
    ids=["hmac", "p384", "rsa-1024", "not-base64url"],
)
def test_keys_that_are_not_accepted(jwk: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"accepted|bits|base64url"):
        jwtverify.key_of(jwk)


@pytest.mark.parametrize("alg", ["none", "None", "HS256", "HS512", "RS512", "PS256", "ES384", None])
def test_algorithms_other_than_rs256_and_es256_are_refused(alg: str | None) -> None:
    header = b64(json.dumps({"alg": alg}).encode())
    token = f"{header}.{b64(json.dumps(claims()).encode())}."
    with pytest.raises(TokenError) as refused:
        jwtverify.parse(token)
    assert refused.value.code == "invalid-algorithm"


def test_an_hs256_token_signed_with_the_public_key_is_refused() -> None:
    """The classic confusion: HMAC keyed with the RSA key's public numbers."""
    header = b64(json.dumps({"alg": "HS256"}).encode())
    payload = b64(json.dumps(claims()).encode())
    assert isinstance(RSA_KEY, jwtverify.RsaKey)
    mac = hmac.new(RSA_KEY.n.to_bytes(256, "big"), f"{header}.{payload}".encode(), hashlib.sha256)
    with pytest.raises(TokenError, match="algorithm"):
        jwtverify.parse(f"{header}.{payload}.{b64(mac.digest())}")


@pytest.mark.parametrize("name", ["jwk", "jku", "x5u", "x5c", "crit"])
def test_a_key_from_the_token_itself_is_refused(name: str) -> None:
    token = sign(RSA, {"alg": "RS256", name: jwk_of(RSA, "r") if name == "jwk" else "x"}, claims())
    with pytest.raises(TokenError, match=repr(name)):
        jwtverify.parse(token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "!!!.e30.AA",
        b64(b"[1]") + ".e30.",
        "e30." + b64(b"not json") + ".",
        "x" * (jwtverify.MAX_TOKEN + 1),
        "eyJhbGciOiJSUzI1NiJ9.e30.A===",
    ],
    ids=[
        "empty",
        "two-parts",
        "four-parts",
        "not-base64",
        "header-list",
        "payload-text",
        "oversized",
        "padded",
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(TokenError):
        jwtverify.parse(token)


def test_the_registered_claims_are_checked() -> None:
    now = time.time()
    jwtverify.check_claims(claims(), ISS, AUD, now)
    jwtverify.check_claims(claims(aud=[AUD]), ISS, AUD, now)
    refusals = {
        "invalid-issuer": claims(iss="https://issuer.example/"),
        "invalid-audience": claims(aud="pypi.example.evil"),
    }
    for code, bad in refusals.items():
        with pytest.raises(TokenError) as refused:
            jwtverify.check_claims(bad, ISS, AUD, now)
        assert refused.value.code == code
    with pytest.raises(TokenError, match="audience"):
        jwtverify.check_claims(claims(aud=[AUD, "other"]), ISS, AUD, now)


def test_times_are_checked_with_the_documented_skew() -> None:
    now = time.time()
    skew = jwtverify.LEEWAY
    jwtverify.check_claims(claims(exp=int(now) - skew + 5), ISS, AUD, now)
    with pytest.raises(TokenError) as expired:
        jwtverify.check_claims(claims(exp=int(now) - skew - 5), ISS, AUD, now)
    assert expired.value.code == "expired-token"
    with pytest.raises(TokenError, match="nbf"):
        jwtverify.check_claims(claims(nbf=int(now) + skew + 30), ISS, AUD, now)
    with pytest.raises(TokenError, match="iat"):
        jwtverify.check_claims(claims(iat=int(now) + skew + 30), ISS, AUD, now)
    with pytest.raises(TokenError, match="longer than a day"):
        jwtverify.check_claims(claims(exp=int(now) + 2 * 86400), ISS, AUD, now)
    for missing in ("exp", "iat", "jti"):
        bad = claims()
        del bad[missing]
        with pytest.raises(TokenError, match=missing):
            jwtverify.check_claims(bad, ISS, AUD, now)
    with pytest.raises(TokenError, match="exp"):
        jwtverify.check_claims(claims(exp="never"), ISS, AUD, now)
