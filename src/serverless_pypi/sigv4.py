"""AWS Signature Version 4 and what the lean readers share, on the standard library.

The api's S3 reader (``s3http``) and the authorizer's SSM reader (``ssm``) exist
because creating a boto3 client costs more than a whole warm invocation. They
share this core: credentials, the SigV4 signer (the algorithm botocore
implements, checked against botocore in the tests), the clock, region and
endpoint resolution from the environment, a kept-alive connection per thread,
and the retry loop over ``retry.py``'s backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from .objects import AwsError
from .retry import Backoff, attempts

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DEFAULT_REGION = "us-east-1"
# The status codes botocore retries as transient.
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
_TIMEOUT = 10.0

# A status, the response headers (lower-case names) and the body.
HttpReply = tuple[int, dict[str, str], bytes]


# -- credentials --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


def environment_credentials(env: Mapping[str, str] | None = None) -> Credentials | None:
    env = os.environ if env is None else env
    access_key, secret_key = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if not access_key or not secret_key:
        return None
    return Credentials(access_key, secret_key, env.get("AWS_SESSION_TOKEN") or None)


def default_credentials() -> Credentials:
    """Lambda's environment credentials, else boto3's chain (profiles, SSO, IMDS)."""
    found = environment_credentials()
    if found is not None:
        return found
    import boto3  # only off Lambda: a laptop or CI with a profile

    resolved = boto3.Session().get_credentials()
    if resolved is None:
        raise AwsError("no AWS credentials found")
    frozen = resolved.get_frozen_credentials()
    if not frozen.access_key or not frozen.secret_key:
        raise AwsError("the AWS credentials found are incomplete")
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


# -- the clock ----------------------------------------------------------------


def now() -> datetime:
    """The time to sign with, in whole seconds: links signed in one second share a query."""
    return datetime.now(UTC).replace(microsecond=0)


# -- regions and endpoints ----------------------------------------------------

# The partitions' region patterns and DNS suffixes, as botocore's
# data/partitions.json has them; a region that matches none is in "aws".
_PARTITIONS = (
    (re.compile(r"cn-\w+-\d+", re.ASCII), "amazonaws.com.cn"),
    (re.compile(r"us-gov-\w+-\d+", re.ASCII), "amazonaws.com"),
    (re.compile(r"us-iso-\w+-\d+", re.ASCII), "c2s.ic.gov"),
    (re.compile(r"us-isob-\w+-\d+", re.ASCII), "sc2s.sgov.gov"),
    (re.compile(r"eu-isoe-\w+-\d+", re.ASCII), "cloud.adc-e.uk"),
    (re.compile(r"us-isof-\w+-\d+", re.ASCII), "csp.hci.ic.gov"),
    (re.compile(r"eusc-de-\w+-\d+", re.ASCII), "amazonaws.eu"),
)


def dns_suffix(region: str) -> str:
    """The DNS suffix of the region's partition (``amazonaws.com`` for aws and aws-us-gov)."""
    for pattern, suffix in _PARTITIONS:
        if pattern.fullmatch(region):
            return suffix
    return "amazonaws.com"


def service_host(service: str, region: str) -> str:
    """The regional endpoint's host, as botocore names it: ``ssm.eu-west-1.amazonaws.com``."""
    return f"{service}.{region}.{dns_suffix(region)}"


def default_region(env: Mapping[str, str] | None = None) -> str:
    """``AWS_REGION`` (always set on Lambda), ``AWS_DEFAULT_REGION``, boto3's profile
    region off Lambda, else us-east-1."""
    env = os.environ if env is None else env
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        return region
    if not env.get("AWS_LAMBDA_FUNCTION_NAME"):
        import boto3  # only off Lambda: a laptop or CI with a profile

        region = boto3.Session().region_name
    return region or DEFAULT_REGION


def configured_endpoint(service: str, env: Mapping[str, str] | None = None) -> str | None:
    """The endpoint configured for ``service`` (``AWS_ENDPOINT_URL_<SERVICE>``, then
    ``AWS_ENDPOINT_URL``), None for AWS's own."""
    env = os.environ if env is None else env
    name = "AWS_ENDPOINT_URL_" + service.replace("-", "_").upper()
    return env.get(name) or env.get("AWS_ENDPOINT_URL") or None


# -- signing ------------------------------------------------------------------


def uri_encode(value: str, safe: str = "-_.~") -> str:
    """URI-encode as SigV4 does (``safe="/~"`` for an S3 key in a path)."""
    return quote(value, safe=safe)


def canonical_query(params: Mapping[str, str]) -> str:
    """A query string as SigV4 signs it: names sorted, names and values URI-encoded."""
    return "&".join(f"{uri_encode(name)}={uri_encode(params[name])}" for name in sorted(params))


def payload_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _timestamp(when: datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ")


class Signer:
    """AWS Signature Version 4, header and query-string forms, for one region and service."""

    def __init__(self, region: str, service: str = "s3") -> None:
        self.region = region
        self.service = service
        self._keys: dict[tuple[str, str], bytes] = {}
        self._query: tuple[object, str] = (None, "")

    def _signing_key(self, secret: str, date: str) -> bytes:
        cached = self._keys.get((secret, date))
        if cached is None:
            key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
            for part in (self.region, self.service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._keys = {(secret, date): key}  # one day's key is all we need
            cached = key
        return cached

    def scope(self, when: datetime) -> str:
        return f"{when.strftime('%Y%m%d')}/{self.region}/{self.service}/aws4_request"

    def signature(
        self,
        credentials: Credentials,
        when: datetime,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        payload: str,
    ) -> str:
        """The signature of a canonical request: ``path`` as the canonical request has it
        (S3: the URI-encoded path; other services encode that once more, which changes
        nothing in "/"), ``query`` canonical, ``headers`` with lower-case names,
        ``payload`` the body's hash."""
        names = sorted(headers)
        canonical = "\n".join(
            [
                method,
                path,
                query,
                "".join(f"{name}:{headers[name].strip()}\n" for name in names),
                ";".join(names),
                payload,
            ]
        )
        to_sign = "\n".join(
            [
                ALGORITHM,
                _timestamp(when),
                self.scope(when),
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        key = self._signing_key(credentials.secret_key, when.strftime("%Y%m%d"))
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()

    def headers(
        self,
        credentials: Credentials,
        when: datetime,
        method: str,
        path: str,
        headers: Mapping[str, str],
        payload: str,
        query: str = "",
    ) -> dict[str, str]:
        """Every header of a signed request: ``headers`` (lower-case names, ``host``
        among them), ``x-amz-date``, the session token if any, and ``authorization``.
        ``payload`` is the body's SHA-256 (``payload_hash``) or ``UNSIGNED_PAYLOAD``."""
        signed = dict(headers)
        signed["x-amz-date"] = _timestamp(when)
        if credentials.token:
            signed["x-amz-security-token"] = credentials.token
        signature = self.signature(credentials, when, method, path, query, signed, payload)
        signed["authorization"] = (
            f"{ALGORITHM} Credential={credentials.access_key}/{self.scope(when)}, "
            f"SignedHeaders={';'.join(sorted(signed))}, Signature={signature}"
        )
        return signed

    def presign(
        self,
        credentials: Credentials,
        when: datetime,
        method: str,
        scheme: str,
        host: str,
        path: str,
        ttl: int,
    ) -> str:
        """A URL that lets its holder ``method`` ``path`` (URI-encoded) for ``ttl``
        seconds, signed for the host alone and any payload."""
        query = self._presign_query(credentials, when, ttl)
        signature = self.signature(
            credentials, when, method, path, query, {"host": host}, UNSIGNED_PAYLOAD
        )
        return f"{scheme}://{host}{path}?{query}&X-Amz-Signature={signature}"

    def _presign_query(self, credentials: Credentials, when: datetime, ttl: int) -> str:
        """The signed query parameters; the same for every link of one page."""
        cache_key = (credentials, when, ttl)
        if self._query[0] == cache_key:
            return self._query[1]
        params = {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{credentials.access_key}/{self.scope(when)}",
            "X-Amz-Date": _timestamp(when),
            "X-Amz-Expires": str(ttl),
            "X-Amz-SignedHeaders": "host",
        }
        if credentials.token:
            params["X-Amz-Security-Token"] = credentials.token
        query = canonical_query(params)
        self._query = (cache_key, query)
        return query


# -- the connection -----------------------------------------------------------


class KeptAlive:
    """One HTTP connection per thread to one host, kept open across invocations
    (a warm Lambda container skips the TCP and TLS handshakes)."""

    def __init__(self, scheme: str, host: str) -> None:
        self.scheme, self.host = scheme, host
        self._local = threading.local()

    def get(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            https = self.scheme == "https"
            factory = http.client.HTTPSConnection if https else http.client.HTTPConnection
            connection = factory(self.host, timeout=_TIMEOUT)
            self._local.connection = connection
        return connection

    def drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def request(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None = None
    ) -> HttpReply:
        """One exchange; the connection is dropped when the server says it closes it."""
        connection = self.get()
        connection.request(method, target, body=body, headers=dict(headers))
        response = connection.getresponse()
        data = response.read()
        found = {name.lower(): value for name, value in response.getheaders()}
        if found.get("connection", "").lower() == "close":
            self.drop()
        return response.status, found, data


# -- retries ------------------------------------------------------------------


def server_error(response: HttpReply) -> bool:
    return response[0] in RETRYABLE_STATUSES


def retrying(
    send: Callable[[], HttpReply],
    backoff: Backoff,
    service: str,
    retryable: Callable[[HttpReply], bool] = server_error,
    reconnect: Callable[[], None] = lambda: None,
) -> HttpReply:
    """``send`` until it answers something not ``retryable`` or the attempts run out,
    with backoff in between; the last answer, whatever its status. A connection error
    calls ``reconnect`` and is retried too; the last one raises AwsError."""
    for attempt in attempts(backoff):
        last = attempt + 1 >= backoff.attempts
        try:
            response = send()
        except (OSError, http.client.HTTPException) as error:
            reconnect()
            if last:
                raise AwsError(f"{service} could not be reached: {error}") from error
        else:
            if last or not retryable(response):
                return response
    raise AssertionError("unreachable: the last attempt returns or raises")
