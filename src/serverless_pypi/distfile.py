"""Read a distribution once: its sha256 and its core metadata.

Small files are read whole. A large file is read as a stream (its bytes must
be hashed anyway) unless S3 already holds the SHA-256 of the whole object (one
PUT with a SHA-256 checksum, up to 5 GiB); then only the zip's central
directory and the METADATA member are read, with ranged GETs. A multipart
upload's SHA-256 is a checksum of its parts' checksums, never the file's: such
a file is read. Uploads are untrusted: the archive readers work within
:class:`~serverless_pypi.archives.Limits`, and a file that breaks them is
still hashed and indexed, without metadata.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from . import metadata as core
from .archives import Budget, Limits, OverTime
from .layout import UPLOADED_BY
from .names import Distribution
from .objects import AwsError, ObjectInfo, ObjectMissing, PreconditionFailed
from .storage import Storage

SMALL_FILE = 8 * 1024 * 1024  # read whole, in memory
# Hashing costs a full read: past this, only a checksum S3 computed at upload will do.
MAX_HASHED_SIZE = 4 << 30
# What spares a read: one PUT with a SHA-256 checksum (S3 keeps full-object
# SHA-256 checksums only for single-part uploads).
ONE_PUT = (
    "upload it in one PUT with a SHA-256 checksum (serverless-pypi upload, or "
    "aws s3api put-object --checksum-algorithm SHA256)"
)
TOO_LARGE_TO_HASH = f"larger than 4 GiB without a full-object S3 SHA-256 checksum: {ONE_PUT}"
_SHA256_BYTES = 32
_CHUNK = 1024 * 1024
_TAIL = 1024 * 1024  # kept from a streamed zip: the central directory is at the end
_WINDOW = 256 * 1024  # smallest ranged read
# Characters of a problem text kept: it may quote archive member names. It is
# escaped once, where it is stored (the manifest) or logged (the log filter).
_MAX_PROBLEM = 1024


@dataclass(frozen=True, slots=True)
class Inspection:
    sha256: str | None  # None only for a file too large to hash that S3 has no checksum for
    metadata: bytes | None  # the core metadata file, when it could be read
    parsed: core.CoreMetadata | None
    problem: str | None  # why there is no metadata: short, as the archive said it (unescaped)
    over_time: bool = False  # the extraction ran out of its Limits.seconds
    uploaded_by: str | None = None  # the object's ``layout.UPLOADED_BY``, as stored (raw)


def inspect(
    storage: Storage,
    obj: ObjectInfo,
    dist: Distribution,
    limits: Limits | None = None,
    *,
    data: bytes | None = None,
    user_metadata: Mapping[str, str] | None = None,
    head: Mapping[str, Any] | None = None,
) -> Inspection:
    """Hash a distribution and extract its core metadata, within ``limits``, with
    who uploaded it (from the object's metadata, read by the same requests).

    What the caller already read is not asked of S3 again: ``data``, a small
    file's whole bytes, with ``user_metadata`` from the same GET, or ``head``, the
    object's HeadObject answer with its checksum (ChecksumMode ENABLED).
    """
    found = _inspect(storage, obj, dist, limits or Limits(), data, user_metadata, head)
    return replace(found[0], uploaded_by=found[1].get(UPLOADED_BY))


def _inspect(
    storage: Storage,
    obj: ObjectInfo,
    dist: Distribution,
    limits: Limits,
    data: bytes | None,
    user_metadata: Mapping[str, str] | None,
    head: Mapping[str, Any] | None,
) -> tuple[Inspection, Mapping[str, str]]:
    if obj.size <= SMALL_FILE:
        if data is None and obj.size:
            data, user_metadata = storage.read_range(obj.key, 0, obj.size - 1, obj.etag)
        data = data or b""
        digest = hashlib.sha256(data).hexdigest()
        return _finish(digest, _extract(io.BytesIO(data), dist, limits)), user_metadata or {}

    def fetch(start: int, end: int) -> bytes:
        return storage.get_range(obj.key, start, end, obj.etag)

    if head is None:
        head = storage.head(obj.key, checksum=True)
    current = head is not None and head.get("ETag") == obj.etag
    known = full_object_sha256(head) if head is not None and current else None
    user = dict(head.get("Metadata") or {}) if head is not None and current else {}
    if known is None and obj.size > MAX_HASHED_SIZE:
        return Inspection(None, None, None, TOO_LARGE_TO_HASH), user
    if known is not None and dist.filename.endswith((".whl", ".zip")):
        source = io.BufferedReader(RangeFile(fetch, obj.size))
        return _finish(known, _extract(source, dist, limits)), user
    with storage.open(obj.key, obj.etag) as stream:
        hashing = HashingReader(stream)
        if dist.filename.endswith(".tar.gz"):
            reader = io.BufferedReader(hashing)
            extracted = _extract(reader, dist, limits)
            if known is not None:
                return _finish(known, extracted), user
            hashing.drain()  # also after a failed extraction: the hash needs every byte
            return _finish(hashing.hexdigest(), extracted), user
        hashing.drain(keep_tail=_TAIL)
    tail_start = obj.size - len(hashing.tail)
    source = io.BufferedReader(RangeFile(fetch, obj.size, tail=(tail_start, hashing.tail)))
    return _finish(hashing.hexdigest(), _extract(source, dist, limits)), user


def full_object_sha256(head: Mapping[str, Any]) -> str | None:
    """The hex SHA-256 of a whole object from its HeadObject answer, or None.

    Only a single-part upload's SHA-256 is the file's. For a multipart upload S3
    keeps a checksum of the parts' checksums (COMPOSITE), and full-object
    checksums of multipart uploads exist only for the CRC algorithms (AWS S3 User
    Guide, "Checking object integrity"; PutObject's ChecksumType "is always
    FULL_OBJECT"). Three signs are checked, each enough on its own on AWS: the
    ETag of a multipart object ends in ``-<parts>``, a composite checksum value
    does too, and ChecksumType says COMPOSITE. moto 5.2.1 shows only the first
    (no ``-N`` on the value, no ChecksumType), so the ETag is what the tests
    exercise; a value must also decode to exactly 32 bytes.
    """
    etag, value = str(head.get("ETag", "")), head.get("ChecksumSHA256")
    if not isinstance(value, str) or "-" in value or "-" in etag.strip('"'):
        return None
    if head.get("ChecksumType", "FULL_OBJECT") != "FULL_OBJECT":
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    return digest.hex() if len(digest) == _SHA256_BYTES else None


# The metadata file, or why there is none and whether time ran out.
Extraction = tuple[bytes | None, str | None, bool]


def _extract(source: IO[bytes], dist: Distribution, limits: Limits) -> Extraction:
    """Extract the metadata of ``dist`` from ``source`` within ``limits``; a broken or
    hostile archive is a problem to report, S3 trouble is not."""
    try:
        found = core.from_distribution(source, dist.filename, dist.project, Budget(limits))
    except (PreconditionFailed, ObjectMissing, AwsError, ClientError, BotoCoreError):
        raise  # a streamed body can still fail with botocore's own errors
    except core.MetadataError as error:
        return None, str(error) or type(error).__name__, isinstance(error, OverTime)
    except Exception as error:  # noqa: BLE001 - a safety net: the file is still indexed
        return None, f"unreadable archive ({type(error).__name__})", False
    return found, None, False


def _finish(digest: str, extracted: Extraction) -> Inspection:
    data, problem, over_time = extracted
    if data is None:
        text = (problem or "no metadata")[:_MAX_PROBLEM]
        return Inspection(digest, None, None, text, over_time)
    try:
        parsed = core.parse(data)
    except core.MetadataError as error:
        return Inspection(digest, None, None, str(error)[:_MAX_PROBLEM])
    return Inspection(digest, data, parsed, None)


class HashingReader(io.RawIOBase):
    """Reads a stream through, hashing every byte."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()
        self.tail = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        self._hash.update(data)
        buffer[: len(data)] = data
        return len(data)

    def drain(self, keep_tail: int = 0) -> None:
        """Read the rest, keeping its last ``keep_tail`` bytes in ``tail``."""
        tail = bytearray()
        while chunk := self._stream.read(_CHUNK):
            self._hash.update(chunk)
            if keep_tail:
                tail += chunk
                del tail[:-keep_tail]
        self.tail = bytes(tail)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class RangeFile(io.RawIOBase):
    """A read-only, seekable file over ranged reads of an object.

    ``tail`` is ``(offset, bytes)`` already at hand (the end of the object);
    reads outside it fetch at least a window of bytes at a time.
    """

    def __init__(
        self,
        fetch: Callable[[int, int], bytes],
        size: int,
        tail: tuple[int, bytes] = (0, b""),
    ) -> None:
        self._fetch = fetch
        self._size = size
        self._position = 0
        self._window: tuple[int, bytes] = tail if tail[1] else (size, b"")
        self._tail = self._window
        self.fetches = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, min(self._size, base + offset))
        return self._position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        data = self._bytes(self._position, wanted)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def _bytes(self, start: int, length: int) -> bytes:
        for offset, data in (self._tail, self._window):
            if offset <= start and start + length <= offset + len(data):
                return data[start - offset : start - offset + length]
        end = min(self._size, start + max(length, _WINDOW)) - 1
        self._window = (start, self._fetch(start, end))
        self.fetches += 1
        return self._window[1][:length]
