"""Lambda handler for trusted publishing's routes, at the host's root and without
the authorizer (a CI job has no user; its OIDC token is its credential):

- ``GET /_/oidc/audience`` -> ``{"audience": ...}``: what the CI's token must name;
- ``POST /_/oidc/mint-token`` ``{"token": <OIDC JWT>}`` -> ``{"success": true,
  "token": <upload token>, "expires": <unix time>}``, or 422 with
  ``{"errors": [{"code", "description"}]}`` as PyPI answers (the description says
  which check or claim failed, never the token);
- ``POST /_/oidc/burn-token`` ``{"token": <upload token>}``: that token stops
  working at once (``uv publish`` calls it after its upload);
- ``GET /.well-known/pytp``: PEP 807's discovery document, naming the two above.

A token is verified whole (docs/security.md, "Trusted publishing"): its issuer is
one of the trusted ones, its signature (RS256 or ES256, ``jwtverify.py``) is by a
key of that issuer's JWKS (found through its OpenID discovery document, kept
``JWKS_SECONDS``, read again when a ``kid`` is unknown, at most every
``REFETCH_SECONDS``), its audience, times and ``jti``, and the claims of a
publisher of the trust file (``publishers.py``). Its ``jti`` is then used up by a
conditional write of a marker (If-None-Match: *), so that no container accepts it
twice. The upload token (``uploadtoken.py``) covers the matching publishers'
projects, for the configured TTL.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import jwtverify, publishers, uploadtoken
from .apigw import BadRequest, Request, Response
from .config import ConfigError, MintSettings, log_level
from .jwtverify import ALGORITHMS
from .layout import OIDC_ROUTE_KEYS
from .logs import get_logger
from .objects import AwsError, PreconditionFailed
from .storage import Storage, make_client

logger = get_logger(__name__)

AUDIENCE_ROUTE, MINT_ROUTE, BURN_ROUTE, DISCOVERY_ROUTE = OIDC_ROUTE_KEYS
MAX_BODY = 16 * 1024
MAX_DOCUMENT = 256 * 1024  # a discovery document or a JWKS
FETCH_TIMEOUT = 5.0
JWKS_SECONDS = 3600
REFETCH_SECONDS = 60  # an unknown kid reads the JWKS again at most this often


class Refused(Exception):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


Fetch = Callable[[str], bytes]


def fetch_json_url(url: str) -> bytes:
    """GET ``url`` (https, or http on loopback), at most MAX_DOCUMENT bytes."""
    publishers.check_issuer(url.rstrip("/") or url)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
        data: bytes = response.read(MAX_DOCUMENT + 1)
    if len(data) > MAX_DOCUMENT:
        raise ValueError(f"{url}: more than {MAX_DOCUMENT} bytes")
    return data


@dataclass(slots=True)
class _Keys:
    keys: dict[str, jwtverify.Key]
    read_at: float


class Jwks:
    """The public keys of each trusted issuer, by ``kid``."""

    def __init__(self, fetch: Fetch = fetch_json_url, clock: Callable[[], float] = time.monotonic):
        self.fetch, self.clock = fetch, clock
        self._issuers: dict[str, _Keys] = {}
        self._lock = threading.Lock()

    def key(self, issuer: str, kid: str | None) -> jwtverify.Key | None:
        now = self.clock()
        with self._lock:
            cached = self._issuers.get(issuer)
            age = now - cached.read_at if cached is not None else float("inf")
            unknown = cached is None or kid not in cached.keys
            if age >= JWKS_SECONDS or (unknown and age >= REFETCH_SECONDS):
                try:
                    cached = _Keys(self._read(issuer), now)
                except (OSError, ValueError) as error:
                    logger.error("the keys of %s could not be read: %s", issuer, error)
                    if cached is None:
                        raise Refused(
                            "issuer-unavailable", f"the keys of {issuer} could not be read"
                        ) from None
                    cached.read_at = now - JWKS_SECONDS + REFETCH_SECONDS  # retry soon
                else:
                    self._issuers[issuer] = cached
        return cached.keys.get(kid) if kid is not None and cached is not None else None

    def _read(self, issuer: str) -> dict[str, jwtverify.Key]:
        configuration = json.loads(self.fetch(f"{issuer}/.well-known/openid-configuration"))
        if not isinstance(configuration, dict) or configuration.get("issuer") != issuer:
            raise ValueError("the discovery document names another issuer")
        jwks_uri = configuration.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise ValueError("the discovery document has no jwks_uri")
        document = json.loads(self.fetch(jwks_uri))
        found = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(found, list):
            raise ValueError("the JWKS has no keys")
        keys: dict[str, jwtverify.Key] = {}
        for jwk in found:
            if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
                continue
            if jwk.get("use", "sig") != "sig" or jwk.get("alg", "RS256") not in ALGORITHMS:
                continue  # an encryption key, or one its issuer meant for another algorithm
            try:
                keys[jwk["kid"]] = jwtverify.key_of(jwk)
            except ValueError as error:
                logger.warning("%s: key %.40s skipped: %s", issuer, jwk["kid"], error)
        return keys


class JtiStore:
    """Each OIDC token's ``jti`` used once, across containers: a marker object
    written with If-None-Match: * (S3 answers 412 to the second writer)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def use(self, issuer: str, jti: str, expires: int) -> bool:
        try:
            self.storage.put(
                uploadtoken.jti_key(issuer, jti),
                b"",
                "application/octet-stream",
                if_absent=True,
                metadata={"expires": str(expires)},
            )
        except PreconditionFailed:
            return False
        return True


class Minter:
    """The routes' handler."""

    def __init__(
        self,
        settings: MintSettings,
        storage: Storage,
        jwks: Jwks | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings, self.storage, self.clock = settings, storage, clock
        self.jwks = jwks or Jwks()
        self.trust = publishers.TrustCache(storage, settings.cache_seconds)
        self.jti = JtiStore(storage)
        self.issuers = frozenset((*publishers.DEFAULT_ISSUERS, *settings.issuers))

    @classmethod
    def from_env(cls) -> Minter:
        settings = MintSettings.from_env()
        return cls(settings, Storage(make_client(), settings.bucket))

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        started = time.perf_counter()
        route, outcome = "-", "-"
        try:
            request = Request.from_event(event)
            route = str(mapping_get(event, "routeKey"))
            response, outcome = self.answer(route, request)
        except BadRequest as error:
            response = _refusal("invalid-payload", str(error))
        except AwsError as error:
            logger.error("storage error: %s", error)
            response, outcome = Response.text(502, "The index storage did not answer."), "error"
        logger.info(
            "%s %s %d %.1fms",
            route,
            outcome,
            response.status,
            (time.perf_counter() - started) * 1000,
        )
        return response.to_event(None)

    def answer(self, route: str, request: Request) -> tuple[Response, str]:
        if route == AUDIENCE_ROUTE:
            return _json(200, {"audience": self.settings.audience}), "-"
        if route == DISCOVERY_ROUTE:
            return _json(200, discovery(request)), "-"
        if route not in (MINT_ROUTE, BURN_ROUTE):
            return Response.text(404, "Not Found"), "-"
        try:
            token = _token_of(request.body)
            if route == MINT_ROUTE:
                minted, text = self.mint(token)
                return _json(
                    200, {"success": True, "token": text, "expires": minted.expires}
                ), f"minted {minted.jti} for {minted.by} on {','.join(minted.projects)}"
            burned = self.burn(token)
            return _json(200, {"success": True}), f"burned {burned.jti}"
        except Refused as error:
            return _refusal(error.code, error.description), f"refused {error.code}"
        except jwtverify.TokenError as error:
            return _refusal(error.code, error.description), f"refused {error.code}"

    def verify(self, token: str) -> tuple[str, dict[str, Any]]:
        """The issuer and claims of an OIDC token that passes every check but the
        publishers'."""
        parsed = jwtverify.parse(token)
        issuer = parsed.claims.get("iss")
        if not isinstance(issuer, str) or issuer not in self.issuers:
            raise Refused("invalid-issuer", "the token's issuer is not a trusted one")
        key = self.jwks.key(issuer, parsed.kid)
        if key is None:
            raise Refused("invalid-signature", f"no key {parsed.kid!r:.60} in {issuer}'s JWKS")
        if not jwtverify.verify_signature(parsed, key):
            raise Refused("invalid-signature", "the token's signature is not its issuer's")
        jwtverify.check_claims(parsed.claims, issuer, self.settings.audience, self.clock())
        return issuer, parsed.claims

    def mint(self, token: str) -> tuple[uploadtoken.Minted, str]:
        issuer, claims = self.verify(token)
        trust = self.trust.current()
        candidates = trust.for_issuer(issuer)
        matched = [p for p in candidates if p.mismatch(claims) is None]
        if not matched:
            raise Refused("invalid-publisher", _no_publisher(issuer, candidates, claims))
        if not trust.keys:
            raise Refused(
                "not-enabled",
                "the index has no signing key: `serverless-pypi publisher rotate`",
            )
        now = self.clock()
        expires = int(now) + self.settings.token_ttl
        if not self.jti.use(issuer, str(claims["jti"]), int(claims["exp"])):
            raise Refused("replayed-token", "this token's jti has been used already")
        minted = uploadtoken.Minted(
            trust.keys[0].kid,
            secrets.token_urlsafe(16),
            expires,
            tuple(sorted({p.project for p in matched})),
            publishers.identity(issuer, claims),
        )
        return minted, uploadtoken.mint(trust.keys[0], minted)

    def burn(self, token: str) -> uploadtoken.Minted:
        minted = uploadtoken.check(token, self.trust.key, self.clock())
        if minted is None:
            raise Refused("invalid-token", "not a valid upload token of this index")
        self.storage.put(
            uploadtoken.burn_key(minted.jti),
            b"",
            "application/octet-stream",
            metadata={"expires": str(minted.expires)},
        )
        return minted


def mapping_get(event: Any, name: str) -> object:
    return event.get(name) if isinstance(event, Mapping) else None


def _no_publisher(
    issuer: str, candidates: list[publishers.Publisher], claims: Mapping[str, Any]
) -> str:
    """Why no publisher matched: the names of the claims that differ (never their
    values, nor the projects: any job of a public CI can get a token for this
    audience, and must learn nothing of the index from a refusal)."""
    if not candidates:
        return f"no trusted publisher is configured for {issuer}"
    differ = sorted({str(p.mismatch(claims)) for p in candidates})
    return (
        f"no trusted publisher of {issuer} matches this token; the claims that differ: "
        + ", ".join(differ[:10])
    )


def _token_of(body: bytes) -> str:
    if len(body) > MAX_BODY:
        raise Refused("invalid-payload", f"the body is larger than {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except ValueError:
        raise Refused("invalid-payload", "the body is not JSON") from None
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise Refused("invalid-payload", 'the body is not {"token": "..."}')
    return token


def discovery(request: Request) -> dict[str, Any]:
    """PEP 807's document: where to ask for the audience and mint a token."""
    host = request.header("host") or ""
    origin = f"https://{host}" if host else ""
    return {
        "audience-endpoint": f"{origin}/_/oidc/audience",
        "token-mint-endpoint": f"{origin}/_/oidc/mint-token",
    }


def _json(status: int, body: Mapping[str, Any]) -> Response:
    data = json.dumps(body, separators=(",", ":")).encode()
    return Response(status, data, {"Content-Type": "application/json", "Cache-Control": "no-store"})


def _refusal(code: str, description: str) -> Response:
    return _json(422, {"errors": [{"code": code, "description": description}]})


@functools.cache
def default_minter() -> Minter:
    logging.getLogger("serverless_pypi").setLevel(log_level())
    return Minter.from_env()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """The Lambda entry point."""
    try:
        return default_minter()(event, context)
    except ConfigError as error:
        logger.error("configuration: %s", error)
    return Response.text(500, "The index is misconfigured.").to_event(None)
