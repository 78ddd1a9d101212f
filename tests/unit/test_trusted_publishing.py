"""Trusted publishing on moto, through the API Gateway stand-in: the audience,
mint and burn routes (no authorizer), the authorizer's verdict on a minted token
(with API Gateway's cache), the upload function's checks, and a refusal test for
each check, against the OIDC issuer stand-in on loopback."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_pypi import publishers, uploadtoken
from serverless_pypi.authorizer import Authorizer
from serverless_pypi.config import AuthSettings, MintSettings, UploadSettings
from serverless_pypi.layout import OIDC_ROUTE_KEYS, ROUTE_KEYS, UPLOAD_ROUTE_KEYS
from serverless_pypi.local.apigw_events import build_event, multipart_form
from serverless_pypi.local.gateway import routes
from serverless_pypi.mint import Jwks, Minter
from serverless_pypi.objects import Blob
from serverless_pypi.storage import Storage
from serverless_pypi.upload import Uploader
from tests.builders import Clock, wheel_bytes
from tests.conftest import BUCKET
from tests.oidc_issuer import Issuer, github_claims, new_rsa, running, sign
from tests.unit.test_upload import fields_for

AUDIENCE = "pypi.example.test"
ALL_ROUTES = [*ROUTE_KEYS, *UPLOAD_ROUTE_KEYS, *OIDC_ROUTE_KEYS]


class NoUsers:
    def list(self, path: str, limit: int) -> tuple[dict[str, str], bool]:
        return {}, True


class Index:
    """The module's functions behind the gateway stand-in, on moto's S3."""

    def __init__(self, storage: Storage, issuer: Issuer, ttl: int = 300) -> None:
        self.storage, self.issuer = storage, issuer
        self.wall = Clock()
        self.gateway_clock = Clock()
        settings = MintSettings(BUCKET, AUDIENCE, (issuer.url,), cache_seconds=0)
        self.minter = Minter(settings, storage, Jwks())
        self.trust_clock = Clock()
        trust = publishers.TrustCache(storage, 0, self.trust_clock)
        self.minter.trust = publishers.TrustCache(storage, 0, self.trust_clock)
        self.authorizer = Authorizer(
            AuthSettings(cache_seconds=0), NoUsers(), trust=trust, wall_clock=self.wall
        )
        self.uploader = Uploader(UploadSettings(BUCKET), storage)
        self.handler = routes(
            lambda event, context: {"statusCode": 200, "body": "api"},
            self.uploader,
            frozenset(UPLOAD_ROUTE_KEYS),
            self.authorizer,
            ttl,
            self.gateway_clock,
            mint=self.minter,
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
    ) -> tuple[int, Any]:
        event = build_event(method, path, headers or [], body, route_keys=ALL_ROUTES)
        result = self.handler(event, None)
        text = result.get("body") or ""
        if result.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        try:
            return int(result["statusCode"]), json.loads(text)
        except ValueError:
            return int(result["statusCode"]), text

    def mint(self, oidc_token: str) -> tuple[int, Any]:
        return self.request(
            "POST", "/_/oidc/mint-token", json.dumps({"token": oidc_token}).encode()
        )

    def minted(self, **claims: Any) -> str:
        status, body = self.mint(self.issuer.github_token(AUDIENCE, **claims))
        assert status == 200, body
        return str(body["token"])

    def upload(self, token: str, project: str = "widgets", version: str = "1.0") -> tuple[int, Any]:
        name, data = wheel_bytes(project, version)
        body, content_type = multipart_form(
            fields_for(project, version, data), {"content": (name, data)}
        )
        auth = "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()
        headers = [("Content-Type", content_type), ("Authorization", auth)]
        return self.request("POST", "/legacy/", body, headers)


def add(storage: Storage, *found: publishers.Publisher, key: bool = True) -> None:
    trust = publishers.Trust(tuple(found))
    storage.put(
        publishers.TRUST_FILE,
        publishers.render(publishers.rotated(trust) if key else trust),
        "application/json",
    )


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running() as found:
        yield found


def github_publisher(
    issuer: Issuer, project: str = "widgets", **kwargs: Any
) -> publishers.Publisher:
    """A GitHub publisher whose issuer is the stand-in's (as --issuer would trust)."""
    made = publishers.github(
        project, kwargs.pop("repository", "octo/widgets"), "release.yml", **kwargs
    )
    return publishers.Publisher(made.project, issuer.url, made.claims, made.refs)


@pytest.fixture
def index(s3: Any, storage: Storage, issuer: Issuer) -> Index:
    add(storage, github_publisher(issuer))
    return Index(storage, issuer)


def error_of(answer: tuple[int, Any]) -> str:
    status, body = answer
    assert status == 422, body
    (error,) = body["errors"]
    return f"{error['code']}: {error['description']}"


def test_the_audience_and_discovery_routes(index: Index) -> None:
    assert index.request("GET", "/_/oidc/audience") == (200, {"audience": AUDIENCE})
    status, document = index.request("GET", "/.well-known/pytp", headers=[("Host", "pypi.test")])
    assert status == 200
    assert document["token-mint-endpoint"] == "https://pypi.test/_/oidc/mint-token"


def test_a_minted_token_uploads_and_records_the_publisher(index: Index, s3: Any) -> None:
    status, body = index.mint(index.issuer.github_token(AUDIENCE))
    assert status == 200 and body["success"] is True
    assert time.time() + 890 < body["expires"] <= time.time() + 900  # 15 minutes
    assert index.upload(body["token"])[0] == 200
    name, _ = wheel_bytes("widgets", "1.0")
    recorded = s3.head_object(Bucket=BUCKET, Key=f"widgets/{name}")["Metadata"]["uploaded-by"]
    assert recorded == (
        f"oidc iss={index.issuer.url} repo=octo/widgets "
        "workflow=octo/widgets/.github/workflows/release.yml@refs/tags/v1.0 ref=refs/tags/v1.0 "
        "sha=0123456789abcdef0123456789abcdef01234567"
    )


def test_the_identity_escapes_what_is_not_plain(index: Index) -> None:
    identity = publishers.identity("https://i", {"repository": "a/b c\n\x1b", "ref": "x" * 2000})
    assert identity.isascii() and identity.isprintable() and " c" not in identity
    assert len(identity) <= publishers.MAX_IDENTITY


def test_a_pending_publisher_creates_its_project(s3: Any, storage: Storage, issuer: Issuer) -> None:
    add(storage, github_publisher(issuer, "brand-new"))
    index = Index(storage, issuer)
    assert index.upload(index.minted(), "brand-new")[0] == 200


@pytest.mark.parametrize(
    ("claims", "claim"),
    [
        ({"repository": "octo/widgets-evil"}, "repository"),
        ({"repository": "octo/Widgets"}, "repository"),
        (
            {"job_workflow_ref": "octo/widgets/.github/workflows/other.yml@refs/heads/main"},
            "job_workflow_ref",
        ),
        (
            {"job_workflow_ref": "octo/widgets/.github/workflows/release.yml.evil@x"},
            "job_workflow_ref",
        ),
    ],
    ids=["repository-suffix", "repository-case", "workflow", "workflow-prefix"],
)
def test_a_token_of_another_repository_or_workflow_is_refused(
    index: Index, claims: dict[str, str], claim: str
) -> None:
    refusal = error_of(index.mint(index.issuer.github_token(AUDIENCE, **claims)))
    assert refusal == (
        f"invalid-publisher: no trusted publisher of {index.issuer.url} matches this token; "
        f"the claims that differ: {claim}"
    )
    assert "widgets" not in refusal.replace("octo/widgets", "")  # no project named


def test_the_environment_must_match(s3: Any, storage: Storage, issuer: Issuer) -> None:
    add(storage, github_publisher(issuer, environment="release"))
    index = Index(storage, issuer)
    assert "environment" in error_of(index.mint(issuer.github_token(AUDIENCE)))
    wrong = issuer.github_token(AUDIENCE, environment="Release")
    assert "environment" in error_of(index.mint(wrong))
    assert index.mint(issuer.github_token(AUDIENCE, environment="release"))[0] == 200


def test_another_issuer_or_audience_is_refused(index: Index) -> None:
    untrusted = index.issuer.token(github_claims("https://evil.example", AUDIENCE))
    assert error_of(index.mint(untrusted)).startswith("invalid-issuer")
    other = index.issuer.github_token("pypi.org")
    assert error_of(index.mint(other)).startswith("invalid-audience")


def test_a_trusted_issuer_without_a_publisher_for_it_is_refused(
    s3: Any, storage: Storage, issuer: Issuer
) -> None:
    add(storage, publishers.github("widgets", "octo/widgets", "release.yml"))  # GitHub's issuer
    refusal = error_of(Index(storage, issuer).mint(issuer.github_token(AUDIENCE)))
    assert refusal == f"invalid-publisher: no trusted publisher is configured for {issuer.url}"


def test_a_replayed_jti_is_refused(index: Index, storage: Storage) -> None:
    token = index.issuer.github_token(AUDIENCE)
    assert index.mint(token)[0] == 200
    assert error_of(index.mint(token)).startswith("replayed-token")
    # Another container (a Minter of its own, no shared memory) refuses it too.
    again = Index(storage, index.issuer)
    assert error_of(again.mint(token)).startswith("replayed-token")


def test_a_token_signed_by_another_key_is_refused(index: Index) -> None:
    claims = github_claims(index.issuer.url, AUDIENCE)
    forged = sign(index.issuer.ec, {"alg": "RS256", "kid": "rsa-1"}, claims)
    assert error_of(index.mint(forged)).startswith("invalid-signature")
    other = Issuer()
    try:
        stranger = sign(other.rsa, {"alg": "RS256", "kid": "rsa-1"}, claims)
        assert error_of(index.mint(stranger)).startswith("invalid-signature")
    finally:
        other.server.server_close()
    unknown = sign(other.rsa, {"alg": "RS256", "kid": "rsa-9"}, claims)
    assert error_of(index.mint(unknown)).startswith("invalid-signature")


def test_an_es256_token_is_accepted(index: Index) -> None:
    token = index.issuer.token(github_claims(index.issuer.url, AUDIENCE), kid="ec-1")
    assert index.mint(token)[0] == 200


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_none_and_hs256_are_refused(index: Index, alg: str) -> None:
    claims = github_claims(index.issuer.url, AUDIENCE)
    header = base64.urlsafe_b64encode(json.dumps({"alg": alg, "kid": "rsa-1"}).encode())
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode())
    token = f"{header.decode().rstrip('=')}.{payload.decode().rstrip('=')}."
    assert error_of(index.mint(token)).startswith("invalid-algorithm")


def test_an_expired_oidc_token_is_refused(index: Index) -> None:
    now = int(time.time())
    token = index.issuer.github_token(AUDIENCE, iat=now - 900, nbf=now - 900, exp=now - 600)
    assert error_of(index.mint(token)).startswith("expired-token")


def test_refusals_never_echo_the_token(index: Index) -> None:
    token = index.issuer.github_token(AUDIENCE, repository="octo/other")
    status, body = index.mint(token)
    assert status == 422 and token not in json.dumps(body)
    assert token.split(".")[2] not in json.dumps(body)


@pytest.mark.parametrize("body", [b"", b"[]", b'{"token": 1}', b"{" * 20000])
def test_a_body_that_is_not_a_token_request_is_refused(index: Index, body: bytes) -> None:
    assert error_of(index.request("POST", "/_/oidc/mint-token", body)).startswith("invalid-payload")


def test_a_minted_token_uploads_only_to_its_projects_and_reads_nothing(index: Index) -> None:
    token = index.minted()
    status, text = index.upload(token, "gadgets")
    assert status == 403 and "may not upload to gadgets" in text
    auth = "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()
    assert index.request("GET", "/simple/", headers=[("Authorization", auth)])[0] == 403
    assert index.request("GET", "/simple/widgets/", headers=[("Authorization", auth)])[0] == 403


def test_a_forged_or_foreign_token_is_refused(index: Index) -> None:
    token = index.minted()
    prefix, payload, mac = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["projects"] = ["*"]
    encoded = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    assert index.upload(f"{prefix}.{encoded}.{mac}", "gadgets")[0] == 403
    assert index.upload(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))[0] == 403


def test_a_minted_token_stops_at_its_expiry_even_when_the_verdict_is_cached(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = index.minted()
    assert index.upload(token, version="1.0")[0] == 200  # the gateway caches "allow" for 300 s
    minted = uploadtoken.check(token, index.minter.trust.key, time.time())
    assert minted is not None
    index.wall.now = minted.expires + 1  # the authorizer's clock
    monkeypatch.setattr(time, "time", lambda: minted.expires + 1.0)  # the upload function's
    status, text = index.upload(token, version="1.1")  # on the cached verdict
    assert (status, text) == (403, "The upload token has expired; mint another.\n")
    index.gateway_clock.now += 301  # the cache expired: the authorizer refuses it
    assert index.upload(token, version="1.2") == (403, {"message": "Forbidden"})


def test_a_burned_token_stops_at_once(index: Index) -> None:
    token = index.minted()
    assert index.upload(token, version="1.0")[0] == 200
    status, body = index.request(
        "POST", "/_/oidc/burn-token", json.dumps({"token": token}).encode()
    )
    assert (status, body) == (200, {"success": True})
    status, text = index.upload(token, version="1.1")  # with the verdict still cached
    assert status == 403 and "burned" in text
    refusal = index.request("POST", "/_/oidc/burn-token", b'{"token": "spypi-tp.x.y"}')
    assert error_of(refusal).startswith("invalid-token")


def test_without_a_signing_key_nothing_is_minted(s3: Any, storage: Storage, issuer: Issuer) -> None:
    add(storage, github_publisher(issuer), key=False)
    refusal = error_of(Index(storage, issuer).mint(issuer.github_token(AUDIENCE)))
    assert refusal.startswith("not-enabled")


def test_a_rotated_key_keeps_the_last_ones_tokens(index: Index, storage: Storage) -> None:
    first = index.minted()
    found = storage.get(publishers.TRUST_FILE)
    assert isinstance(found, Blob)
    trust = publishers.parse(found.body)
    once = publishers.rotated(trust)
    storage.put(publishers.TRUST_FILE, publishers.render(once), "application/json")
    index.trust_clock.now += 2  # the mint function reads the trust file again
    second = index.minted()
    assert index.upload(first, version="1.0")[0] == 200
    assert index.upload(second, version="1.1")[0] == 200
    twice = publishers.rotated(once)
    storage.put(publishers.TRUST_FILE, publishers.render(twice), "application/json")
    index.gateway_clock.now += 301  # API Gateway's cache, and the trust file's, expire
    index.trust_clock.now += 2
    assert index.upload(first, version="1.2")[0] == 403
    assert index.upload(second, version="1.2") == (
        200,
        "OK: widgets/widgets-1.2-py3-none-any.whl\n",
    )


def test_a_key_its_issuer_meant_for_another_algorithm_is_not_used(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = index.issuer.jwks()
    for jwk in published["keys"]:
        jwk["alg"] = "RS512"
    monkeypatch.setattr(index.issuer, "jwks", lambda: published)
    refusal = error_of(index.mint(index.issuer.github_token(AUDIENCE)))
    assert refusal.startswith("invalid-signature: no key 'rsa-1'")


def test_unknown_kids_read_the_jwks_again_at_most_once_a_minute(index: Index) -> None:
    assert index.mint(index.issuer.github_token(AUDIENCE))[0] == 200
    claims = github_claims(index.issuer.url, AUDIENCE)
    for attempt in range(5):
        unknown = sign(index.issuer.rsa, {"alg": "RS256", "kid": f"new-{attempt}"}, claims)
        assert error_of(index.mint(unknown)).startswith("invalid-signature")
    assert index.issuer.requests.count("/jwks") == 1  # read once, at the first token


def test_a_key_the_issuer_rotated_in_is_found_a_minute_later(index: Index) -> None:
    clock = Clock()
    index.minter.jwks = Jwks(clock=clock)
    assert index.mint(index.issuer.github_token(AUDIENCE))[0] == 200
    index.issuer.keys["rsa-2"] = new_rsa()
    token = index.issuer.token(github_claims(index.issuer.url, AUDIENCE), kid="rsa-2")
    assert error_of(index.mint(token)).startswith("invalid-signature")  # read 0 s ago
    clock.now += 61
    assert (
        index.mint(index.issuer.token(github_claims(index.issuer.url, AUDIENCE), kid="rsa-2"))[0]
        == 200
    )
