"""A lean S3 reader for the api's hot path and the authorizer's users file, on the
standard library alone.

The api only ever GETs or HEADs one small object per request and presigns URLs;
the authorizer GETs the users file (then a 304). A
boto3 client costs about 70 ms to create (it loads the service model) and a
millisecond per presigned URL; this reader signs with AWS Signature Version 4
itself (``sigv4``, checked against botocore in the tests), keeps its HTTP
connection alive across invocations, and starts in a fraction of that time.

Credentials come from the environment, as Lambda provides them; elsewhere
(a laptop with a profile or SSO) from boto3's credential chain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote_plus, urlsplit

from . import sigv4
from .objects import NOT_MODIFIED, AccessDenied, AwsError, Blob, NotModified
from .retry import Backoff
from .sigv4 import (
    UNSIGNED_PAYLOAD,
    Credentials,
    HttpReply,
    KeptAlive,
    Signer,
    canonical_query,
    configured_endpoint,
    default_credentials,
    default_region,
    retrying,
    service_host,
    uri_encode,
)

__all__ = ["Endpoint", "S3Reader", "folder_listing"]

# What a caller may put in a forwarded header: printable ASCII, never CR or LF.
_HEADER_VALUE = re.compile(r"[\x20-\x7e]{1,256}", re.ASCII)


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
        host = service_host("s3", region)
        if "." in bucket:  # a dotted name breaks the TLS wildcard of virtual hosting
            return cls("https", host, "/" + bucket)
        return cls("https", f"{bucket}.{host}", "")

    def path(self, key: str) -> str:
        return self.prefix + "/" + uri_encode(key, safe="/~")

    @property
    def bucket_path(self) -> str:
        """The path of bucket requests (ListObjectsV2)."""
        return self.prefix or "/"


class S3Reader:
    """GETs and presigned URLs for one bucket, over a kept-alive connection per thread."""

    # Retries of connection errors and 5xx answers: at most 0.05 + 0.1 + 0.2 s of
    # waiting. A class attribute, which a test may replace for every reader.
    backoff = Backoff(attempts=4, base=0.05, cap=0.5, budget=1.0)

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
        # sigv4.now is looked up at each call: freezing it freezes every reader.
        self._clock = clock or (lambda: sigv4.now())
        self.connections = KeptAlive(self.endpoint.scheme, self.endpoint.host)
        self.requests = 0  # for the benchmark and tests: requests sent to S3
        self.bytes_read = 0  # and the bytes of the bodies that came back

    @classmethod
    def from_env(cls, bucket: str) -> S3Reader:
        return cls(bucket, default_region(), configured_endpoint("s3"))

    def presign(self, key: str, method: str, ttl: int) -> str:
        """A URL that lets its holder ``method`` the object for ``ttl`` seconds."""
        endpoint = self.endpoint
        return self.signer.presign(
            self._credentials(),
            self._clock(),
            method,
            endpoint.scheme,
            endpoint.host,
            endpoint.path(key),
            ttl,
        )

    def get(self, key: str, if_none_match: str | None = None) -> Blob | NotModified | None:
        """The object's bytes, NOT_MODIFIED when its ETag is ``if_none_match``, None when absent."""
        extra = {}
        if if_none_match and _HEADER_VALUE.fullmatch(if_none_match):
            extra["if-none-match"] = if_none_match
        status, response_headers, body = self._request(key, "", extra)
        if status == 200:
            return Blob(body, response_headers.get("etag", ""), _user_metadata(response_headers))
        if status == 304:
            return NOT_MODIFIED
        if status == 404 and _error_code(body) == "NoSuchKey":
            return None  # never NoSuchBucket: a wrong bucket must not look empty
        if status == 403:
            raise AccessDenied(f"S3 answered 403 for a GET: {_error_code(body)}")
        raise AwsError(f"S3 answered {status} for a GET: {_error_code(body)}")

    def head(self, key: str) -> dict[str, str] | None:
        """The object's user metadata (``x-amz-meta-*``), None when absent: one HEAD."""
        status, response_headers, _ = self._request(key, "", {}, "HEAD")
        if status == 200:
            return _user_metadata(response_headers)
        if status == 404:
            return None
        raise AwsError(f"S3 answered {status} for a HEAD")

    def has_objects(self, prefix: str) -> bool:
        """Whether any object's key starts with ``prefix`` (one ListObjectsV2 of one key)."""
        query = canonical_query({"list-type": "2", "max-keys": "1", "prefix": prefix})
        status, _, body = self._request(None, query, {})
        if status != 200:
            raise AwsError(f"S3 answered {status} for a listing: {_error_code(body)}")
        return b"<Contents>" in body or b"<KeyCount>0</KeyCount>" not in body

    def folders(self, prefix: str) -> tuple[list[str], bool]:
        """The folder names (keys up to their first "/") that start with ``prefix``,
        from one ListObjectsV2 page with a delimiter; and whether it had more."""
        query = canonical_query(
            {"delimiter": "/", "encoding-type": "url", "list-type": "2", "prefix": prefix}
        )
        status, _, body = self._request(None, query, {})
        if status != 200:
            raise AwsError(f"S3 answered {status} for a listing: {_error_code(body)}")
        return folder_listing(body)

    def put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> str:
        """PutObject of a small object (the proxy's cached upstream pages): its new ETag."""
        path = self.endpoint.path(key)
        digest = sigv4.payload_hash(body)
        signed = {
            "host": self.endpoint.host,
            "x-amz-content-sha256": digest,
            "content-type": content_type,
        }

        def send() -> HttpReply:
            headers = self.signer.headers(
                self._credentials(), self._clock(), "PUT", path, signed, digest
            )
            self.requests += 1
            return self.connections.request("PUT", path, headers, body)

        status, headers, answer = retrying(
            send, self.backoff, "S3", reconnect=self.connections.drop
        )
        if status != 200:
            raise AwsError(f"S3 answered {status} for a PUT: {_error_code(answer)}")
        return headers.get("etag", "")

    def _request(
        self, key: str | None, query: str, extra: Mapping[str, str], method: str = "GET"
    ) -> HttpReply:
        """A signed GET (or HEAD) of an object (``key``) or of the bucket (``query``),
        retried with backoff on connection errors and 5xx answers."""
        path = self.endpoint.bucket_path if key is None else self.endpoint.path(key)
        target = f"{path}?{query}" if query else path
        signed = {"host": self.endpoint.host, "x-amz-content-sha256": UNSIGNED_PAYLOAD}

        def send() -> HttpReply:
            headers = self.signer.headers(
                self._credentials(), self._clock(), method, path, signed, UNSIGNED_PAYLOAD, query
            )
            headers.update(extra)
            return self._send(method, target, headers)

        return retrying(send, self.backoff, "S3", reconnect=self.connections.drop)

    def _send(self, method: str, path: str, headers: Mapping[str, str]) -> HttpReply:
        self.requests += 1
        response = self.connections.request(method, path, headers)
        self.bytes_read += len(response[2])
        return response


def _user_metadata(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name[len("x-amz-meta-") :]: value
        for name, value in headers.items()
        if name.startswith("x-amz-meta-")
    }


_COMMON_PREFIX = re.compile(rb"<CommonPrefixes>\s*<Prefix>([^<]*)</Prefix>")


def folder_listing(body: bytes) -> tuple[list[str], bool]:
    """The folder names of a ListObjectsV2 answer (delimiter "/", url encoding),
    and whether it is truncated."""
    names = [
        unquote_plus(raw.decode("utf-8", errors="replace")).removesuffix("/")
        for raw in _COMMON_PREFIX.findall(body)
    ]
    return names, b"<IsTruncated>true</IsTruncated>" in body


def _error_code(body: bytes) -> str:
    text = body[:2048].decode("utf-8", errors="replace")
    start, end = text.find("<Code>"), text.find("</Code>")
    return text[start + len("<Code>") : end] if 0 <= start < end else "no error code"
