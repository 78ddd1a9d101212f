"""An OIDC issuer stand-in on loopback, for the trusted publishing tests: its own
signing keys (made by the ``cryptography`` package, which the code under test does
not use), its discovery document and JWKS, and GitHub Actions' token request
endpoint (``ACTIONS_ID_TOKEN_REQUEST_URL`` with ``&audience=``, answered
``{"value": <jwt>}`` to ``Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN``)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

RsaPrivate = rsa.RSAPrivateKey
EcPrivate = ec.EllipticCurvePrivateKey


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int(value: int, size: int | None = None) -> str:
    length = size or (value.bit_length() + 7) // 8
    return b64(value.to_bytes(length, "big"))


def jwk_of(key: RsaPrivate | EcPrivate, kid: str) -> dict[str, str]:
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": _int(numbers.n), "e": _int(numbers.e)}  # fmt: skip
    point = key.public_key().public_numbers()
    return {"kty": "EC", "kid": kid, "use": "sig", "crv": "P-256",
            "x": _int(point.x, 32), "y": _int(point.y, 32)}  # fmt: skip


def der_to_raw(der: bytes) -> bytes:
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign(
    key: RsaPrivate | EcPrivate,
    header: Mapping[str, Any],
    claims: Mapping[str, Any],
) -> str:
    """A compact JWS of ``claims`` with ``header``, signed by ``key`` (RS256 for an
    RSA key, ES256 for an EC key, whatever the header says)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    data = signing_input.encode()
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = der_to_raw(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64(signature)}"


def new_rsa() -> RsaPrivate:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def new_ec() -> EcPrivate:
    return ec.generate_private_key(ec.SECP256R1())


def github_claims(
    issuer: str,
    audience: str,
    repository: str = "octo/widgets",
    workflow: str = "release.yml",
    ref: str = "refs/tags/v1.0",
    **extra: Any,
) -> dict[str, Any]:
    """The claims of a GitHub Actions OIDC token (the ones trusted publishing reads)."""
    now = int(time.time())
    owner = repository.partition("/")[0]
    workflow_ref = f"{repository}/.github/workflows/{workflow}@{ref}"
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": f"repo:{repository}:ref:{ref}",
        "jti": secrets.token_hex(16),
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
        "repository": repository,
        "repository_owner": owner,
        "repository_owner_id": "4242",
        "workflow_ref": workflow_ref,
        "job_workflow_ref": workflow_ref,
        "ref": ref,
        "sha": "0123456789abcdef0123456789abcdef01234567",
        "runner_environment": "github-hosted",
    }
    claims.update(extra)
    return claims


class Issuer:
    """The stand-in. ``url`` is its issuer URL (``http://127.0.0.1:<port>``);
    ``claims`` the claims its GitHub endpoint puts in the tokens it hands out
    (``iss`` and ``aud`` set per request); ``request_token`` what that endpoint
    wants as bearer."""

    def __init__(self) -> None:
        self.rsa, self.ec = new_rsa(), new_ec()
        self.keys: dict[str, RsaPrivate | EcPrivate] = {"rsa-1": self.rsa, "ec-1": self.ec}
        self.claims: dict[str, Any] = {}
        self.request_token = secrets.token_hex(16)
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jwk_of(key, kid) for kid, key in self.keys.items()]}

    def token(
        self, claims: Mapping[str, Any] | None = None, kid: str = "rsa-1", **header: Any
    ) -> str:
        key = self.keys[kid]
        alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
        return sign(key, {"alg": alg, "typ": "JWT", "kid": kid, **header}, claims or {})

    def github_token(self, audience: str, **overrides: Any) -> str:
        return self.token(github_claims(self.url, audience, **overrides))

    @property
    def actions_env(self) -> dict[str, str]:
        """What GitHub Actions sets in a job with ``id-token: write``."""
        return {
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/_apis/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests.append(self.path)
                parts = urlsplit(self.path)
                if parts.path == "/.well-known/openid-configuration":
                    self._json(200, {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/jwks"})
                elif parts.path == "/jwks":
                    self._json(200, issuer.jwks())
                elif parts.path == "/_apis/token":
                    if self.headers.get("Authorization", "").lower() != (
                        f"bearer {issuer.request_token}"
                    ):
                        self._json(401, {"message": "bad request token"})
                        return
                    audience = parse_qs(parts.query).get("audience", [""])[0]
                    claims = github_claims(issuer.url, audience)
                    claims.update(issuer.claims)
                    self._json(200, {"value": issuer.token(claims)})
                else:
                    self._json(404, {})

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


@contextmanager
def running() -> Iterator[Issuer]:
    issuer = Issuer()
    thread = threading.Thread(target=issuer.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        issuer.server.shutdown()
        issuer.server.server_close()


def tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A test certificate authority and a certificate it signed for 127.0.0.1 and
    localhost: (ca.pem, cert.pem, key.pem) in ``directory``."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = new_ec(), new_ec()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "serverless-pypi test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths
