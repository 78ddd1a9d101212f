"""The authorizer's one AWS call, SSM GetParameter, on the standard library.

Like the api's S3 reader (``s3http``), and for the same reason: creating a boto3
client costs more than the whole decision. Requests are signed with the same
SigV4 signer, for the ``ssm`` service and the JSON protocol.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from .objects import StorageError
from .s3http import ALGORITHM, Credentials, KeptAlive, Signer, _now, default_credentials

_ATTEMPTS = 3


class SsmReader:
    """Reads SecureString parameters (decrypted) over a kept-alive connection per thread."""

    def __init__(
        self,
        region: str,
        endpoint_url: str | None = None,
        credentials: Callable[[], Credentials] = default_credentials,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if endpoint_url:
            parts = urlsplit(endpoint_url)
            self.scheme, self.host = parts.scheme, parts.netloc
        else:
            suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
            self.scheme, self.host = "https", f"ssm.{region}.{suffix}"
        self.signer = Signer(region, "ssm")
        self._credentials = credentials
        self._clock = clock
        self.connections = KeptAlive(self.scheme, self.host)
        self.requests = 0

    @classmethod
    def from_env(cls) -> SsmReader:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not region:
            import boto3  # only off Lambda, where AWS_REGION is always set

            region = boto3.Session().region_name or "us-east-1"
        endpoint = os.environ.get("AWS_ENDPOINT_URL_SSM") or os.environ.get("AWS_ENDPOINT_URL")
        return cls(region, endpoint or None)

    def get(self, name: str) -> str | None:
        """The decrypted value of parameter ``name``; None when there is none."""
        body = json.dumps({"Name": name, "WithDecryption": True}).encode()
        for attempt in range(_ATTEMPTS):
            try:
                status, answer = self._post("AmazonSSM.GetParameter", body)
            except (OSError, http.client.HTTPException) as error:
                self.connections.drop()
                if attempt + 1 == _ATTEMPTS:
                    raise StorageError(f"SSM could not be reached: {error}") from error
                continue
            if status == 200:
                value = json.loads(answer)["Parameter"]["Value"]
                return str(value)
            kind = _error_type(answer)
            if status == 400 and kind == "ParameterNotFound":
                return None
            if status >= 500 and attempt + 1 < _ATTEMPTS:
                continue
            raise StorageError(f"SSM answered {status}: {kind}")
        raise AssertionError("unreachable")

    def _post(self, target: str, body: bytes) -> tuple[int, bytes]:
        credentials, when = self._credentials(), self._clock()
        headers = {
            "content-type": "application/x-amz-json-1.1",
            "host": self.host,
            "x-amz-date": when.strftime("%Y%m%dT%H%M%SZ"),
            "x-amz-target": target,
        }
        if credentials.token:
            headers["x-amz-security-token"] = credentials.token
        payload = hashlib.sha256(body).hexdigest()
        signature = self.signer.signature(credentials, when, "POST", "/", "", headers, payload)
        headers["authorization"] = (
            f"{ALGORITHM} Credential={credentials.access_key}/{self.signer.scope(when)}, "
            f"SignedHeaders={';'.join(sorted(headers))}, Signature={signature}"
        )
        connection = self.connections.get()
        self.requests += 1
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()


def _error_type(body: bytes) -> str:
    try:
        kind = json.loads(body).get("__type", "")
    except (ValueError, AttributeError):
        return "no error type"
    return str(kind).rpartition("#")[2] or "no error type"
