"""A lean S3 reader for the api's hot path, on the standard library alone.

The api only ever GETs one small object per request and presigns URLs. A
boto3 client costs about 70 ms to create (it loads the service model) and a
millisecond per presigned URL; this reader signs with AWS Signature Version 4
itself (the same algorithm botocore implements, checked against botocore in
the tests), keeps its HTTP connection alive across invocations, and starts in
a fraction of that time.

Credentials come from the environment, as Lambda provides them; elsewhere
(a laptop with a profile or SSO) from boto3's credential chain.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote_plus, urlsplit

from .objects import NOT_MODIFIED, Blob, NotModified, StorageError

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_RETRYABLE = {500, 502, 503, 504}
_ATTEMPTS = 4
_TIMEOUT = 10.0
# What a caller may put in a forwarded header: printable ASCII, never CR or LF.
_HEADER_VALUE = re.compile(r"[\x20-\x7e]{1,256}", re.ASCII)


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
        raise StorageError("no AWS credentials found")
    frozen = resolved.get_frozen_credentials()
    if not frozen.access_key or not frozen.secret_key:
        raise StorageError("the AWS credentials found are incomplete")
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


def _quote(value: str, safe: str = "-_.~") -> str:
    return quote(value, safe=safe)


def canonical_query(params: Mapping[str, str]) -> str:
    """A query string as SigV4 signs it: names sorted, names and values URI-encoded."""
    return "&".join(f"{_quote(name)}={_quote(params[name])}" for name in sorted(params))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the bucket's objects are: ``scheme://host`` plus a path prefix."""

    scheme: str
    host: str  # with the port, when there is one
    prefix: str  # "" (virtual-hosted) or "/<bucket>" (path style)

    @classmethod
    def for_bucket(cls, bucket: str, region: str, endpoint_url: str | None = None) -> Endpoint:
        if endpoint_url:
            parts = urlsplit(endpoint_url)
            return cls(parts.scheme, parts.netloc, parts.path.rstrip("/") + "/" + bucket)
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        if "." in bucket:  # a dotted name breaks the TLS wildcard of virtual hosting
            return cls("https", f"s3.{region}.{suffix}", "/" + bucket)
        return cls("https", f"{bucket}.s3.{region}.{suffix}", "")

    def path(self, key: str) -> str:
        return self.prefix + "/" + _quote(key, safe="/~")

    @property
    def bucket_path(self) -> str:
        """The path of bucket requests (ListObjectsV2)."""
        return self.prefix or "/"


class Signer:
    """AWS Signature Version 4 (header and query-string forms), for S3 by default."""

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
        date = when.strftime("%Y%m%d")
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
        scope = f"{date}/{self.region}/{self.service}/aws4_request"
        to_sign = "\n".join(
            [
                ALGORITHM,
                when.strftime("%Y%m%dT%H%M%SZ"),
                scope,
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        key = self._signing_key(credentials.secret_key, date)
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()

    def presign(
        self,
        endpoint: Endpoint,
        key: str,
        method: str,
        ttl: int,
        credentials: Credentials,
        when: datetime,
    ) -> str:
        """A URL that lets its holder ``method`` the object for ``ttl`` seconds."""
        query = self._presign_query(credentials, when, ttl)
        path = endpoint.path(key)
        signature = self.signature(
            credentials, when, method, path, query, {"host": endpoint.host}, UNSIGNED_PAYLOAD
        )
        return f"{endpoint.scheme}://{endpoint.host}{path}?{query}&X-Amz-Signature={signature}"

    def scope(self, when: datetime) -> str:
        return f"{when.strftime('%Y%m%d')}/{self.region}/{self.service}/aws4_request"

    def _presign_query(self, credentials: Credentials, when: datetime, ttl: int) -> str:
        """The signed query parameters; the same for every link of one page."""
        cache_key = (credentials, when, ttl)
        if self._query[0] == cache_key:
            return self._query[1]
        scope = self.scope(when)
        params = {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{credentials.access_key}/{scope}",
            "X-Amz-Date": when.strftime("%Y%m%dT%H%M%SZ"),
            "X-Amz-Expires": str(ttl),
            "X-Amz-SignedHeaders": "host",
        }
        if credentials.token:
            params["X-Amz-Security-Token"] = credentials.token
        query = canonical_query(params)
        self._query = (cache_key, query)
        return query

    def headers(
        self,
        endpoint: Endpoint,
        key: str,
        method: str,
        credentials: Credentials,
        when: datetime,
        query: str = "",
        path: str | None = None,
    ) -> dict[str, str]:
        """The headers that authenticate a request without a body (to the object
        ``key``, or to ``path`` with a canonical ``query`` for a bucket request)."""
        signed = {
            "host": endpoint.host,
            "x-amz-content-sha256": UNSIGNED_PAYLOAD,
            "x-amz-date": when.strftime("%Y%m%dT%H%M%SZ"),
        }
        if credentials.token:
            signed["x-amz-security-token"] = credentials.token
        signature = self.signature(
            credentials,
            when,
            method,
            endpoint.path(key) if path is None else path,
            query,
            signed,
            UNSIGNED_PAYLOAD,
        )
        scope = self.scope(when)
        signed["authorization"] = (
            f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={';'.join(sorted(signed))}, Signature={signature}"
        )
        return signed


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


def _now() -> datetime:
    # Signatures carry whole seconds: links signed in one second share a query.
    return datetime.now(UTC).replace(microsecond=0)


class S3Reader:
    """GETs and presigned URLs for one bucket, over a kept-alive connection per thread."""

    def __init__(
        self,
        bucket: str,
        region: str,
        endpoint_url: str | None = None,
        credentials: Callable[[], Credentials] = default_credentials,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.bucket = bucket
        self.endpoint = Endpoint.for_bucket(bucket, region, endpoint_url)
        self.signer = Signer(region)
        self._credentials = credentials
        self._clock = clock or (lambda: _now())
        self.connections = KeptAlive(self.endpoint.scheme, self.endpoint.host)
        self.requests = 0  # for the benchmark and tests: requests sent to S3
        self.bytes_read = 0  # and the bytes of the bodies that came back

    @classmethod
    def from_env(cls, bucket: str) -> S3Reader:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not region:
            import boto3  # only off Lambda, where AWS_REGION is always set

            region = boto3.Session().region_name or "us-east-1"
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return cls(bucket, region, endpoint or None)

    def presign(self, key: str, method: str, ttl: int) -> str:
        return self.signer.presign(
            self.endpoint, key, method, ttl, self._credentials(), self._clock()
        )

    def get(self, key: str, if_none_match: str | None = None) -> Blob | NotModified | None:
        """The object's bytes, NOT_MODIFIED when its ETag is ``if_none_match``, None when absent."""
        extra = {}
        if if_none_match and _HEADER_VALUE.fullmatch(if_none_match):
            extra["if-none-match"] = if_none_match
        status, response_headers, body = self._request(key, "", extra)
        if status == 200:
            etag = response_headers.get("etag", "")
            metadata = {
                name[len("x-amz-meta-") :]: value
                for name, value in response_headers.items()
                if name.startswith("x-amz-meta-")
            }
            return Blob(body, etag, metadata)
        if status == 304:
            return NOT_MODIFIED
        if status == 404 and _error_code(body) == "NoSuchKey":
            return None  # never NoSuchBucket: a wrong bucket must not look empty
        raise StorageError(f"S3 answered {status} for a GET: {_error_code(body)}")

    def has_objects(self, prefix: str) -> bool:
        """Whether any object's key starts with ``prefix`` (one ListObjectsV2 of one key)."""
        query = canonical_query({"list-type": "2", "max-keys": "1", "prefix": prefix})
        status, _, body = self._request(None, query, {})
        if status != 200:
            raise StorageError(f"S3 answered {status} for a listing: {_error_code(body)}")
        return b"<Contents>" in body or b"<KeyCount>0</KeyCount>" not in body

    def folders(self, prefix: str) -> tuple[list[str], bool]:
        """The folder names (keys up to their first "/") that start with ``prefix``,
        from one ListObjectsV2 page with a delimiter; and whether it had more."""
        query = canonical_query(
            {"delimiter": "/", "encoding-type": "url", "list-type": "2", "prefix": prefix}
        )
        status, _, body = self._request(None, query, {})
        if status != 200:
            raise StorageError(f"S3 answered {status} for a listing: {_error_code(body)}")
        return folder_listing(body)

    def _request(
        self, key: str | None, query: str, extra: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """A signed GET of an object (``key``) or of the bucket (``query``), retried
        with backoff on connection errors and 5xx answers."""
        path = self.endpoint.bucket_path if key is None else self.endpoint.path(key)
        for attempt in range(_ATTEMPTS):
            headers = self.signer.headers(
                self.endpoint, key or "", "GET", self._credentials(), self._clock(), query, path
            )
            headers.update(extra)
            try:
                status, response_headers, body = self._send(
                    "GET", f"{path}?{query}" if query else path, headers
                )
            except (OSError, http.client.HTTPException) as error:
                self._drop_connection()
                if attempt + 1 == _ATTEMPTS:
                    raise StorageError(f"S3 could not be reached: {error}") from error
                _backoff(attempt)
                continue
            if status in _RETRYABLE and attempt + 1 < _ATTEMPTS:
                _backoff(attempt)
                continue
            return status, response_headers, body
        raise AssertionError("unreachable")

    def _drop_connection(self) -> None:
        self.connections.drop()

    def _send(
        self, method: str, path: str, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        connection = self.connections.get()
        self.requests += 1
        connection.request(method, path, headers=dict(headers))
        response = connection.getresponse()
        body = response.read()
        self.bytes_read += len(body)
        found = {name.lower(): value for name, value in response.getheaders()}
        if found.get("connection", "").lower() == "close":
            self._drop_connection()
        return response.status, found, body


_COMMON_PREFIX = re.compile(rb"<CommonPrefixes>\s*<Prefix>([^<]*)</Prefix>")


def folder_listing(body: bytes) -> tuple[list[str], bool]:
    """The folder names of a ListObjectsV2 answer (delimiter "/", url encoding),
    and whether it is truncated."""
    names = [
        unquote_plus(raw.decode("utf-8", errors="replace")).removesuffix("/")
        for raw in _COMMON_PREFIX.findall(body)
    ]
    return names, b"<IsTruncated>true</IsTruncated>" in body


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.05 * 2**attempt))


def _error_code(body: bytes) -> str:
    text = body[:2048].decode("utf-8", errors="replace")
    start, end = text.find("<Code>"), text.find("</Code>")
    return text[start + len("<Code>") : end] if 0 <= start < end else "no error code"
