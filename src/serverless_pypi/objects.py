"""What the storage layers hand back (no AWS SDK needed to import these)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class PreconditionFailed(Exception):
    """A conditional request lost a race: the object changed in between."""


class ObjectMissing(Exception):
    """The object is gone (deleted after it was listed)."""


class AwsError(Exception):
    """An AWS service (S3, SSM) answered with an error after retries, could not be
    reached, or no credentials were found to call it with."""


class AccessDenied(AwsError):
    """S3 answered 403: the caller may not read the object, or (without
    s3:ListBucket) the object does not exist."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    etag: str
    size: int
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """One version of a key in a versioned bucket: an object, or a delete marker."""

    key: str
    version_id: str
    last_modified: datetime
    deleted: bool  # a delete marker: the key reads as absent while it is the latest
    latest: bool


@dataclass(frozen=True, slots=True)
class Blob:
    body: bytes
    etag: str
    metadata: Mapping[str, str] = field(default_factory=dict)


class NotModified:
    """The object still has the ETag the caller named."""


NOT_MODIFIED = NotModified()


class Reader(Protocol):
    """What the api needs from S3: one GET per page, presigned URLs, a HEAD of the
    manifest before a file (its status), and (only before a fallback redirect) the
    folders spelled like a name."""

    def get(self, key: str, if_none_match: str | None = None) -> Blob | NotModified | None: ...

    def head(self, key: str) -> dict[str, str] | None: ...

    def has_objects(self, prefix: str) -> bool: ...

    def folders(self, prefix: str) -> tuple[list[str], bool]: ...

    def presign(self, key: str, method: str, ttl: int) -> str: ...
