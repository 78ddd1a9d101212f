"""Keeps a copy of an upstream file in the bucket, verified before it is ever served.

The file is streamed from the upstream into a multipart upload at
``layout.upstream_file_key``, hashed as it goes; the upload is completed only when
the SHA-256 of the bytes is the one the upstream's page announced (and the size,
when it announced one), and aborted otherwise. Until it is completed, the object
does not exist: nothing can serve a part of it, or other bytes under its name. The
completed object carries the SHA-256 in its metadata, which the api checks against
the page before it serves the copy.

It runs outside the api's request: in AWS as its own function, invoked
asynchronously by the api (``LambdaKeeper``); in ``serve`` in a thread
(``ThreadKeeper``). Any size works: nothing is held in memory but one part.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import json
import logging
import math
import os
import re
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from .config import ConfigError, log_level, required_bucket
from .layout import upstream_file_key
from .logs import get_logger
from .names import is_valid_name, normalize, parse_filename
from .proxy import KEPT_SHA256, KeepJob

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

logger = get_logger(__name__)

PART_SIZE = 8 * 1024 * 1024  # S3's parts are at least 5 MiB, but the last
MAX_FILE = 50 * 1024**3  # bytes kept at most when the page gave no size
MAX_METADATA = 10 * 1024 * 1024
STOP_MARGIN = 20.0  # seconds before the function's timeout a copy is abandoned (and aborted)
TIMEOUT = 30.0
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)


class KeepError(Exception):
    """The copy was not made (the reason is the message)."""


def job_from_event(event: Any) -> KeepJob:
    """The job an invocation names, checked again: the keeper trusts no caller."""
    if not isinstance(event, dict):
        raise KeepError("the event is not an object")
    project, filename = event.get("project"), event.get("filename")
    url, sha256, size = event.get("url"), event.get("sha256"), event.get("size")
    if not isinstance(project, str) or not is_valid_name(project) or normalize(project) != project:
        raise KeepError("no valid project")
    if not isinstance(filename, str) or parse_filename(filename, project) is None:
        raise KeepError("no distribution filename of the project")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise KeepError("no http(s) URL")
    if not isinstance(sha256, str) or not _HEX64.fullmatch(sha256):
        raise KeepError("no SHA-256")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise KeepError("a size that is not one")
    metadata = event.get("core-metadata")
    if metadata is not None and (not isinstance(metadata, str) or not _HEX64.fullmatch(metadata)):
        raise KeepError("a core-metadata hash that is not one")
    return KeepJob(project, filename, url, sha256, size, metadata)


def _open(url: str) -> http.client.HTTPResponse:
    """The upstream's answer to a GET of ``url``, after at most three http(s) redirects."""
    for _ in range(4):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise KeepError("a redirect to a non-http(s) URL")
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = kind(parts.netloc, timeout=TIMEOUT)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target, headers={"User-Agent": "serverless-pypi"})
        response = connection.getresponse()
        location = response.getheader("Location", "")
        if response.status in (301, 302, 303, 307, 308) and location:
            connection.close()
            url = urljoin(url, location)
            continue
        if response.status != 200:
            connection.close()
            raise KeepError(f"the upstream answered {response.status}")
        return response
    raise KeepError("too many redirects")


def keep(client: S3Client, bucket: str, job: KeepJob, deadline: float = math.inf) -> bool:
    """Copy ``job``'s file (and its core metadata, when the page announced its hash)
    into the bucket; True when the copies are there afterwards."""
    kept = _keep_file(client, bucket, job, deadline)
    if job.core_metadata is not None:
        _keep_metadata(client, bucket, job, job.core_metadata)
    return kept


def _keep_metadata(client: S3Client, bucket: str, job: KeepJob, sha256: str) -> None:
    """The PEP 658 file, verified as the distribution is: a small object in one PUT."""
    key = upstream_file_key(job.project, job.filename) + ".metadata"
    try:
        response = _open(job.url + ".metadata")
        with response:
            data = response.read(MAX_METADATA + 1)
    except (OSError, http.client.HTTPException) as error:
        raise KeepError(f"the upstream's metadata could not be read: {error}") from None
    if len(data) > MAX_METADATA:
        raise KeepError(f"the metadata is over {MAX_METADATA} bytes")
    if hashlib.sha256(data).hexdigest() != sha256:
        raise KeepError("the metadata does not have the SHA-256 the page announced")
    client.put_object(
        Bucket=bucket,
        Key=key,
        Body=data,
        ContentType="text/plain; charset=utf-8",
        Metadata={KEPT_SHA256: sha256},
    )


def _keep_file(client: S3Client, bucket: str, job: KeepJob, deadline: float) -> bool:
    key = upstream_file_key(job.project, job.filename)
    try:
        head = client.head_object(Bucket=bucket, Key=key)
        if head.get("Metadata", {}).get(KEPT_SHA256) == job.sha256:
            return True
    except client.exceptions.ClientError:
        pass
    try:
        response = _open(job.url)
    except (OSError, http.client.HTTPException) as error:
        raise KeepError(f"the upstream could not be read: {error}") from None
    limit = job.size if job.size is not None else MAX_FILE
    upload = client.create_multipart_upload(
        Bucket=bucket,
        Key=key,
        ContentType="application/octet-stream",
        Metadata={KEPT_SHA256: job.sha256},
    )
    upload_id = upload["UploadId"]
    digest, total = hashlib.sha256(), 0
    parts: list[CompletedPartTypeDef] = []
    try:
        with response:
            while True:
                if time.monotonic() > deadline:
                    # Aborted while the function can still say so: a timeout would
                    # leave the parts (billed) until a lifecycle rule removes them.
                    raise KeepError(
                        "out of time: the copy is abandoned, a later download asks again"
                    )
                chunk = _read_part(response)
                if not chunk and parts:
                    break
                total += len(chunk)
                if total > limit:
                    raise KeepError(f"the upstream sent more than {limit} bytes")
                digest.update(chunk)
                number = len(parts) + 1
                answer = client.upload_part(
                    Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                )
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                if len(chunk) < PART_SIZE:
                    break
        if digest.hexdigest() != job.sha256:
            raise KeepError(
                f"the bytes have SHA-256 {digest.hexdigest()}, the page said {job.sha256}"
            )
        if job.size is not None and total != job.size:
            raise KeepError(f"{total} bytes, the page said {job.size}")
    except BaseException:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    logger.info("kept %s (%d bytes, sha256 %s)", key, total, job.sha256)
    return True


def _read_part(response: http.client.HTTPResponse) -> bytes:
    """Up to PART_SIZE bytes (fewer only at the end of the stream)."""
    chunks, size = [], 0
    while size < PART_SIZE:
        chunk = response.read(min(1024 * 1024, PART_SIZE - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def keep_logged(client: S3Client, bucket: str, job: KeepJob, deadline: float = math.inf) -> bool:
    """``keep``, with a failure logged once rather than raised."""
    try:
        return keep(client, bucket, job, deadline)
    except (KeepError, OSError, http.client.HTTPException) as error:
        logger.warning("%s/%s not kept: %s", job.project, job.filename, error)
        return False


class ThreadKeeper:
    """The keeper of ``serve``: a thread per copy."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client, self.bucket = client, bucket
        self.threads: list[threading.Thread] = []

    def keep(self, job: KeepJob) -> None:
        thread = threading.Thread(
            target=keep_logged, args=(self.client, self.bucket, job), daemon=True
        )
        self.threads.append(thread)
        thread.start()


class LambdaKeeper:
    """The keeper of the api in AWS: an asynchronous invocation (``Event``) of the
    keeper function, which answers at once; Lambda retries a failed one twice."""

    def __init__(self, function: str) -> None:
        self.function = function
        self._client: Any = None

    def keep(self, job: KeepJob) -> None:
        if self._client is None:
            import boto3  # only on the first download of a file not yet kept

            self._client = boto3.client("lambda")
        self._client.invoke(
            FunctionName=self.function,
            InvocationType="Event",
            Payload=json.dumps(job.to_event()).encode(),
        )


@functools.cache
def _client() -> S3Client:
    from .storage import make_client

    return make_client()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """The keeper function's entry point."""
    logging.getLogger("serverless_pypi").setLevel(log_level())
    try:
        bucket = required_bucket(os.environ)
    except ConfigError as error:
        logger.error("configuration: %s", error)
        return {"kept": False, "error": str(error)}
    try:
        job = job_from_event(event)
    except KeepError as error:
        logger.error("refused: %s", error)
        return {"kept": False, "error": str(error)}
    return {"kept": keep_logged(_client(), bucket, job, _deadline(context))}


def _deadline(context: Any) -> float:
    """When to give up (a monotonic time): STOP_MARGIN before Lambda's timeout."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return math.inf
    return time.monotonic() + float(remaining()) / 1000 - STOP_MARGIN
