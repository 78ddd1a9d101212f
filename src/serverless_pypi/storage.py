"""Every S3 call the index makes, in one place."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .objects import (
    NOT_MODIFIED,
    Blob,
    NotModified,
    ObjectInfo,
    ObjectMissing,
    PreconditionFailed,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

# Transient errors (500, 503 SlowDown, throttling, connection resets) are
# retried with backoff by botocore's standard mode; what still fails raises.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 6},
    connect_timeout=5,
    read_timeout=30,
    signature_version="s3v4",
)


def make_client() -> S3Client:
    return boto3.client("s3", config=CLIENT_CONFIG)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _missing(error: ClientError) -> bool:
    return _code(error) in ("NoSuchKey", "404", "NotFound")


def _conflict(error: ClientError) -> bool:
    return _code(error) in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


def _translate(error: ClientError, key: str) -> Exception:
    if _missing(error):
        return ObjectMissing(key)
    if _conflict(error):
        return PreconditionFailed(key)
    return error


class Storage:
    """One bucket, seen through a boto3 S3 client."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    # -- reads -------------------------------------------------------------

    def get(self, key: str, if_none_match: str | None = None) -> Blob | NotModified | None:
        """The object's bytes, NOT_MODIFIED when its ETag is ``if_none_match``, None when absent."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if if_none_match:
            kwargs["IfNoneMatch"] = if_none_match
        try:
            response = self.client.get_object(**kwargs)
        except ClientError as error:
            if _missing(error):
                return None
            if _code(error) in ("304", "NotModified"):
                return NOT_MODIFIED
            raise
        with response["Body"] as body:
            data = body.read()
        return Blob(data, response["ETag"], response.get("Metadata", {}))

    def head(self, key: str, checksum: bool = False) -> dict[str, Any] | None:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if checksum:
            kwargs["ChecksumMode"] = "ENABLED"
        try:
            return cast("dict[str, Any]", self.client.head_object(**kwargs))
        except ClientError as error:
            if _missing(error):
                return None
            raise

    def get_range(self, key: str, start: int, end: int, etag: str) -> bytes:
        """Bytes ``start`` to ``end`` (inclusive) of the object, if it still has ``etag``."""
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}", IfMatch=etag
            )
        except ClientError as error:
            raise _translate(error, key) from error
        with response["Body"] as body:
            return body.read()

    def open(self, key: str, etag: str) -> BinaryIO:
        """A stream of the object's bytes, if it still has ``etag``."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key, IfMatch=etag)
        except ClientError as error:
            raise _translate(error, key) from error
        return cast(BinaryIO, response["Body"])

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        for page in self.client.get_paginator("list_objects_v2").paginate(**kwargs):
            for item in page.get("Contents", []):
                yield ObjectInfo(item["Key"], item["ETag"], item["Size"], item["LastModified"])

    # -- writes ------------------------------------------------------------

    def put(
        self,
        key: str,
        body: bytes,
        content_type: str,
        *,
        if_match: str | None = None,
        if_absent: bool = False,
        metadata: Mapping[str, str] | None = None,
        content_encoding: str | None = None,
    ) -> str:
        """Write an object; with ``if_match`` / ``if_absent`` only if nobody else did first."""
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": body,
            "ContentType": content_type,
        }
        if if_match:
            kwargs["IfMatch"] = if_match
        elif if_absent:
            kwargs["IfNoneMatch"] = "*"
        if metadata:
            kwargs["Metadata"] = dict(metadata)
        if content_encoding:
            kwargs["ContentEncoding"] = content_encoding
        try:
            response = self.client.put_object(**kwargs)
        except ClientError as error:
            raise _translate(error, key) from error
        return response["ETag"]

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    # -- links -------------------------------------------------------------

    def presign(self, key: str, method: str, ttl: int) -> str:
        operation = "head_object" if method == "HEAD" else "get_object"
        return self.client.generate_presigned_url(
            operation, Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=ttl
        )
