"""Every S3 call the reindexer, the upload function and the CLI make, in one place
(the api reads through ``s3http``), with the bucket as the index sees it.

What S3 says is turned into this package's own exceptions (``objects.py``): a
missing object, a lost conditional write, and AwsError for everything else.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .layout import DERIVED_PREFIX, MANIFEST_PREFIX, STATUS_PREFIX, UPLOADED_BY
from .logs import get_logger
from .names import is_valid_name, normalize, spelled_folders
from .objects import (
    NOT_MODIFIED,
    AwsError,
    Blob,
    NotModified,
    ObjectInfo,
    ObjectMissing,
    ObjectVersion,
    PreconditionFailed,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = get_logger(__name__)


# Transient errors (500, 503 SlowDown, throttling, connection resets) are
# retried with backoff by botocore's standard mode; what still fails raises.
# The reindexer's 16 threads (batch.WORKERS) share one client: with botocore's
# default pool of 10 connections, the others would open (and drop) one a request.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 6},
    connect_timeout=5,
    read_timeout=30,
    signature_version="s3v4",
    max_pool_connections=16,
)


MAX_SINGLE_PUT = 5 * 1024**3  # S3's largest object in one PUT (5 GiB)

_pending = threading.local()  # condition headers for the PutObject on this thread


def _add_condition_headers(request: Any, **_: Any) -> None:
    for name, value in getattr(_pending, "headers", {}).items():
        request.headers[name] = value


def supports_conditional_writes(client: S3Client) -> bool:
    """Whether this botocore knows PutObject's IfMatch / IfNoneMatch parameters."""
    shape = client.meta.service_model.operation_model("PutObject").input_shape
    return shape is not None and {"IfMatch", "IfNoneMatch"} <= set(shape.members)


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
    return AwsError(f"S3 answered {_code(error) or 'an error'} for {key}")


@contextmanager
def _unreachable(key: str) -> Iterator[None]:
    """Connection errors and timeouts (after botocore's retries) as a AwsError."""
    try:
        yield
    except BotoCoreError as error:
        raise AwsError(f"S3 could not be reached for {key}: {error}") from error


@contextmanager
def _s3(key: str) -> Iterator[None]:
    """One S3 call on ``key``: every error as this package's (``_translate``), a
    connection error or timeout as a AwsError."""
    try:
        with _unreachable(key):
            yield
    except ClientError as error:
        raise _translate(error, key) from error


class _Counting:
    """A readable file that reports how many bytes were read."""

    def __init__(self, stream: BinaryIO, progress: Callable[[int], object]) -> None:
        self._stream, self._progress = stream, progress

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._progress(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()


class Storage:
    """One bucket, seen through a boto3 S3 client (the reindexer's and the CLI's)."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self._conditional_params = supports_conditional_writes(client)
        if not self._conditional_params:
            # A botocore from before S3's conditional writes (2024), as an
            # older Lambda runtime may ship: send the same HTTP headers.
            client.meta.events.register("before-sign.s3.PutObject", _add_condition_headers)

    # -- reads -------------------------------------------------------------

    def _fetch(self, key: str, **params: Any) -> tuple[Mapping[str, Any], bytes]:
        """GetObject of ``key`` with ``params``, and the whole body it answered
        (S3's refusals raise ClientError; no answer at all, AwsError)."""
        with _unreachable(key):
            response = self.client.get_object(Bucket=self.bucket, Key=key, **params)
            with response["Body"] as body:
                return response, body.read()

    def get(self, key: str, if_none_match: str | None = None) -> Blob | NotModified | None:
        """The object's bytes, NOT_MODIFIED when its ETag is ``if_none_match``, None when absent."""
        kwargs: dict[str, Any] = {"IfNoneMatch": if_none_match} if if_none_match else {}
        try:
            response, data = self._fetch(key, **kwargs)
        except ClientError as error:
            if _missing(error):
                return None
            if _code(error) in ("304", "NotModified"):
                return NOT_MODIFIED
            raise _translate(error, key) from error
        return Blob(data, response["ETag"], response.get("Metadata", {}))

    def head(self, key: str, checksum: bool = False) -> dict[str, Any] | None:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if checksum:
            kwargs["ChecksumMode"] = "ENABLED"
        try:
            with _unreachable(key):
                return cast("dict[str, Any]", self.client.head_object(**kwargs))
        except ClientError as error:
            if _missing(error):
                return None
            raise _translate(error, key) from error

    def get_range(self, key: str, start: int, end: int, etag: str) -> bytes:
        """Bytes ``start`` to ``end`` (inclusive) of the object, if it still has ``etag``.

        S3 ignores a Range header it cannot parse (``bytes=0--1``) and answers with
        the whole object: such a range is refused before it is sent."""
        return self.read_range(key, start, end, etag)[0]

    def read_range(self, key: str, start: int, end: int, etag: str) -> tuple[bytes, dict[str, str]]:
        """``get_range``'s bytes, and the object's user metadata (``x-amz-meta-*``,
        which S3 sends with a ranged GetObject as with any other)."""
        if start < 0 or end < start:
            raise ValueError(f"{key}: no bytes {start}-{end} to read")
        with _s3(key):
            response, data = self._fetch(key, Range=f"bytes={start}-{end}", IfMatch=etag)
        return data, dict(response.get("Metadata") or {})

    def read(self, key: str, etag: str, size: int) -> tuple[bytes, ObjectInfo, dict[str, str]]:
        """The whole object of ``size`` bytes, if it has ``etag`` (an event said so),
        with what a listing would say of it and its user metadata (``x-amz-meta-*``):
        one conditional GET, which S3 answers
        412 when the object has another ETag now and 404 when it is gone.
        PreconditionFailed when the object is not ``size`` bytes.

        ``size`` comes from an event, which a forged or replayed record can get
        wrong with a real ETag: the GET asks for bytes 0 to size - 1 and never
        more, whatever the object holds. A size of 0 (or less) is checked with a
        HEAD instead (a GET without a Range would read the whole object), and S3's
        416 for an empty object asked for its first bytes is PreconditionFailed.

        The ETag is sent quoted, as S3 returns it; If-Match on GetObject is in
        botocore's S3 service model ("Return the object only if its entity tag
        (ETag) is the same as the one specified ... otherwise, return a 412").
        """
        if size <= 0:
            obj, head = self.info(key, etag)
            if obj.size != size:
                raise PreconditionFailed(f"{key}: {obj.size} bytes, the event said {size}")
            return b"", obj, dict(head.get("Metadata") or {})
        try:
            with _unreachable(key):
                response, data = self._fetch(key, IfMatch=etag, Range=f"bytes=0-{size - 1}")
        except ClientError as error:
            if _code(error) in ("InvalidRange", "416"):
                raise PreconditionFailed(f"{key}: empty, the event said {size} bytes") from error
            raise _translate(error, key) from error
        total = str(response.get("ContentRange", "")).rpartition("/")[2]
        if len(data) != size or (total and total != str(size)):
            raise PreconditionFailed(f"{key}: {len(data)} bytes, the event said {size}")
        info = ObjectInfo(key, response["ETag"], size, response["LastModified"])
        return data, info, dict(response.get("Metadata") or {})

    def info(self, key: str, etag: str) -> tuple[ObjectInfo, dict[str, Any]]:
        """What a listing would say of the object, if it still has ``etag``
        (ObjectMissing when it is gone, PreconditionFailed when it changed), and
        the HeadObject answer, with the object's checksum."""
        head = self.head(key, checksum=True)
        if head is None:
            raise ObjectMissing(key)
        if head.get("ETag") != etag:
            raise PreconditionFailed(key)
        return ObjectInfo(key, etag, int(head["ContentLength"]), head["LastModified"]), head

    def open(self, key: str, etag: str) -> BinaryIO:
        """A stream of the object's bytes, if it still has ``etag``."""
        with _s3(key):
            response = self.client.get_object(Bucket=self.bucket, Key=key, IfMatch=etag)
        return cast(BinaryIO, response["Body"])

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        pages = self.client.get_paginator("list_objects_v2").paginate(**kwargs)
        with _s3(prefix or "the bucket"):
            for page in pages:
                for item in page.get("Contents", []):
                    yield ObjectInfo(item["Key"], item["ETag"], item["Size"], item["LastModified"])

    def folders(self, prefix: str) -> tuple[builtins.list[str], bool]:
        """The folder names (keys up to their first "/") that start with ``prefix``,
        from one listing page; and whether there were more."""
        with _s3(prefix):
            response = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, Delimiter="/")
        names = [item["Prefix"].removesuffix("/") for item in response.get("CommonPrefixes", [])]
        return names, bool(response.get("IsTruncated"))

    def has_objects(self, prefix: str) -> bool:
        """Whether any object's key starts with ``prefix``."""
        with _s3(prefix):
            response = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1)
        return bool(response.get("KeyCount") or response.get("Contents"))

    def spelled_folders(self, project: str) -> builtins.list[str]:
        """Every folder of the bucket whose name normalizes to ``project``."""
        return spelled_folders(project, self.folders, self.has_objects)

    # -- the bucket as the index sees it ------------------------------------

    def folder_objects(self, folder: str) -> builtins.list[ObjectInfo]:
        """The objects one level deep in ``folder`` (deeper keys are never a project's)."""
        prefix = folder + "/"
        return [obj for obj in self.list(prefix) if "/" not in obj.key[len(prefix) :]]

    def projects(self) -> dict[str, builtins.list[ObjectInfo]]:
        """Every object one level deep in a project's folder (any spelling), by
        normalized project: one listing of the whole bucket."""
        by_folder: dict[str, builtins.list[ObjectInfo]] = {}
        # Project names start with a letter or digit, all after "/": starting
        # there skips the derived area (".serverless-pypi/") in the listing.
        for obj in self.list("", start_after="/"):
            folder, slash, rest = obj.key.partition("/")
            if slash and "/" not in rest and not obj.key.startswith(DERIVED_PREFIX):
                by_folder.setdefault(folder, []).append(obj)
        objects: dict[str, builtins.list[ObjectInfo]] = {}
        for folder, found in by_folder.items():
            if not is_valid_name(folder):
                logger.warning("skipped folder %r: not a project name", folder)
                continue
            objects.setdefault(normalize(folder), []).extend(found)
        return objects

    def indexed_projects(self) -> set[str]:
        """Every project with a manifest: one listing of the manifests."""
        return self._named(MANIFEST_PREFIX)

    def status_projects(self) -> set[str]:
        """Every project with a status object (PEP 792): one listing of them."""
        return self._named(STATUS_PREFIX)

    def _named(self, prefix: str) -> set[str]:
        """The projects of the ``<prefix><project>.json`` objects: one listing."""
        return {
            obj.key[len(prefix) : -len(".json")]
            for obj in self.list(prefix)
            if obj.key.endswith(".json")
        }

    # -- versions: what a versioned bucket keeps of deleted objects -----------

    def versioning(self) -> str | None:
        """The bucket's versioning: "Enabled", "Suspended", or None (never turned on)."""
        with _s3(self.bucket):
            status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        return str(status) if status else None

    def versions(self, prefix: str) -> builtins.list[ObjectVersion]:
        """Every version and delete marker of the keys that start with ``prefix``:
        by key, the latest first, then newest first."""
        found: builtins.list[ObjectVersion] = []
        pages = self.client.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        with _s3(prefix or "the bucket"):
            for page in pages:
                items: builtins.list[tuple[Mapping[str, Any], bool]] = [
                    *((item, False) for item in page.get("Versions", [])),
                    *((item, True) for item in page.get("DeleteMarkers", [])),
                ]
                found.extend(
                    ObjectVersion(
                        str(item["Key"]),
                        str(item["VersionId"]),
                        item["LastModified"],
                        deleted,
                        bool(item.get("IsLatest")),
                    )
                    for item, deleted in items
                )
        found.sort(key=lambda version: (version.latest, version.last_modified), reverse=True)
        found.sort(key=lambda version: version.key)  # stable: each key's order stays
        return found

    def version_folders(self, prefix: str) -> tuple[builtins.list[str], bool]:
        """``folders`` for every version: folders whose files were all deleted too."""
        with _s3(prefix):
            response = self.client.list_object_versions(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            )
        names = [item["Prefix"].removesuffix("/") for item in response.get("CommonPrefixes", [])]
        return names, bool(response.get("IsTruncated"))

    def has_versions(self, prefix: str) -> bool:
        """Whether any version or delete marker's key starts with ``prefix``."""
        with _s3(prefix):
            response = self.client.list_object_versions(
                Bucket=self.bucket, Prefix=prefix, MaxKeys=1
            )
        return bool(response.get("Versions") or response.get("DeleteMarkers"))

    def spelled_folders_ever(self, project: str) -> builtins.list[str]:
        """Every folder whose name normalizes to ``project`` and that holds any
        version: what was deleted from it too."""
        return spelled_folders(project, self.version_folders, self.has_versions)

    def delete_version(self, key: str, version_id: str) -> None:
        """Delete one version for good; deleting a delete marker brings back the
        version under it (S3 then notifies ObjectRemoved:Delete)."""
        with _s3(key):
            self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)

    # -- writes ------------------------------------------------------------

    def put_file(
        self,
        path: Path,
        key: str,
        progress: Callable[[int], object] | None = None,
        *,
        uploaded_by: str | None = None,
    ) -> None:
        """Upload a local file in one conditional PUT (If-None-Match: *, so an object
        there is never replaced) with its SHA-256 checksum and, when given, who
        uploaded it (``layout.UPLOADED_BY``); ``progress`` hears of the bytes as they
        go. PreconditionFailed when the key exists.

        One PUT, never parts: S3 keeps the whole file's SHA-256 only for a
        single-part upload (up to 5 GiB), which spares the reindexer reading it;
        a multipart upload's SHA-256 is a checksum of checksums."""
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        with path.open("rb") as stream:
            body = _Counting(stream, progress) if progress else stream
            self.put(
                key,
                body,  # type: ignore[arg-type]  # boto3 streams any readable file
                "application/octet-stream",
                if_absent=True,
                metadata={UPLOADED_BY: uploaded_by} if uploaded_by else None,
                checksum_sha256=digest.digest(),
            )

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
        checksum_sha256: bytes | None = None,
    ) -> str:
        """Write an object; with ``if_match`` / ``if_absent`` only if nobody else did first."""
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": body,
            "ContentType": content_type,
        }
        conditions = {"If-Match": if_match} if if_match else {}
        if if_absent and not if_match:
            conditions = {"If-None-Match": "*"}
        if self._conditional_params:
            kwargs.update({name.replace("-", ""): value for name, value in conditions.items()})
        if metadata:
            kwargs["Metadata"] = dict(metadata)
        if content_encoding:
            kwargs["ContentEncoding"] = content_encoding
        if checksum_sha256 is not None:
            # S3 checks the bytes against it and keeps it: the reindexer then takes
            # the file's hash from S3 instead of reading a large file whole.
            kwargs["ChecksumAlgorithm"] = "SHA256"
            kwargs["ChecksumSHA256"] = base64.b64encode(checksum_sha256).decode("ascii")
        _pending.headers = {} if self._conditional_params else conditions
        try:
            with _s3(key):
                response = self.client.put_object(**kwargs)
        finally:
            _pending.headers = {}
        return response["ETag"]

    def delete(self, key: str) -> None:
        """Delete an object (on a versioned bucket: add a delete marker; the older
        versions stay). Deleting a key that is not there is not an error."""
        with _s3(key):
            self.client.delete_object(Bucket=self.bucket, Key=key)
