"""The authorizer's one SSM call, GetParametersByPath, on the standard library.

Like the api's S3 reader (``s3http``), and for the same reason: creating a boto3
client costs more than the whole decision. Requests are signed by the same SigV4
core (``sigv4``), for the ``ssm`` service and the JSON protocol, and retried by
the same loop (full-jitter backoff), throttling included.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from .objects import AwsError
from .retry import Backoff
from .sigv4 import (
    Credentials,
    HttpReply,
    KeptAlive,
    Signer,
    configured_endpoint,
    default_credentials,
    default_region,
    now,
    payload_hash,
    retrying,
    server_error,
    service_host,
)

# GetParametersByPath answers at most 10 parameters a page.
PAGE_SIZE = 10


class SsmReader:
    """Reads SecureString parameters (decrypted) over a kept-alive connection per thread."""

    # Retries of connection errors, 5xx answers and throttling (which Parameter
    # Store answers as 400 ThrottlingException): at most 0.1 + 0.2 + 0.4 s of
    # waiting. A class attribute, which a test may replace for every reader.
    backoff = Backoff(attempts=4, base=0.1, cap=1.0, budget=1.0)

    def __init__(
        self,
        region: str,
        endpoint_url: str | None = None,
        credentials: Callable[[], Credentials] = default_credentials,
        clock: Callable[[], datetime] = now,
    ) -> None:
        if endpoint_url:
            parts = urlsplit(endpoint_url)
            self.scheme, self.host = parts.scheme, parts.netloc
        else:
            self.scheme, self.host = "https", service_host("ssm", region)
        self.signer = Signer(region, "ssm")
        self._credentials = credentials
        self._clock = clock
        self.connections = KeptAlive(self.scheme, self.host)
        self.requests = 0

    @classmethod
    def from_env(cls) -> SsmReader:
        return cls(default_region(), configured_endpoint("ssm"))

    def list(self, path: str, limit: int) -> tuple[dict[str, str], bool]:
        """The decrypted values of the parameters directly under ``path`` (``/a/b/``),
        by the last part of their names, a page of PAGE_SIZE per request until there
        are no more or ``limit`` are read; and whether that was all of them."""
        found: dict[str, str] = {}
        request: dict[str, object] = {"Path": path, "Recursive": False, "MaxResults": PAGE_SIZE}
        # SSM may answer a page with fewer parameters, even none, and a NextToken:
        # twice the pages ``limit`` takes, and no more.
        for _ in range(2 * (limit // PAGE_SIZE + 1)):
            if len(found) >= limit:
                break
            status, answer = self._call("AmazonSSM.GetParametersByPath", request)
            if status != 200:
                raise AwsError(f"SSM answered {status}: {_error_type(answer)}")
            page = json.loads(answer)
            for parameter in page.get("Parameters", []):
                found[str(parameter["Name"]).rpartition("/")[2]] = str(parameter["Value"])
            token = page.get("NextToken")
            if not token:
                return found, True
            request["NextToken"] = token
        return found, False

    def _call(self, target: str, request: dict[str, object]) -> tuple[int, bytes]:
        """One JSON request (decrypting), retried; the status and body of the answer."""
        body = json.dumps({**request, "WithDecryption": True}).encode()
        status, _, answer = retrying(
            lambda: self._post(target, body),
            self.backoff,
            "SSM",
            retryable=_retryable,
            reconnect=self.connections.drop,
        )
        return status, answer

    def _post(self, target: str, body: bytes) -> HttpReply:
        headers = {
            "content-type": "application/x-amz-json-1.1",
            "host": self.host,
            "x-amz-target": target,
        }
        signed = self.signer.headers(
            self._credentials(), self._clock(), "POST", "/", headers, payload_hash(body)
        )
        self.requests += 1
        return self.connections.request("POST", "/", signed, body)


def _retryable(response: HttpReply) -> bool:
    status, _, body = response
    if status == 400:
        return _error_type(body) == "ThrottlingException"
    return server_error(response)


def _error_type(body: bytes) -> str:
    try:
        kind = json.loads(body).get("__type", "")
    except (ValueError, AttributeError):
        return "no error type"
    return str(kind).rpartition("#")[2] or "no error type"
