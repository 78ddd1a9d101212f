"""Read a distribution once: its sha256 and its core metadata.

Small files are read whole. A large file is read as a stream (its bytes must
be hashed anyway) unless S3 already holds a full-object SHA-256 checksum for
it; then only the zip's central directory and the METADATA member are read,
with ranged GETs. Uploads are untrusted: the archive readers work within
:class:`~serverless_pypi.archives.Limits`, and a file that breaks them is
still hashed and indexed, without metadata.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from botocore.exceptions import BotoCoreError, ClientError

from . import metadata as core
from .archives import Budget, Limits
from .names import Distribution
from .objects import ObjectInfo, ObjectMissing, PreconditionFailed, StorageError
from .storage import Storage

SMALL_FILE = 8 * 1024 * 1024  # read whole, in memory
# Hashing costs a full read: past this, only a checksum S3 computed at upload will do.
MAX_HASHED_SIZE = 4 << 30
TOO_LARGE_TO_HASH = (
    "larger than 4 GiB without an S3 SHA-256 checksum: upload it with --checksum-algorithm SHA256"
)
_CHUNK = 1024 * 1024
_TAIL = 1024 * 1024  # kept from a streamed zip: the central directory is at the end
_WINDOW = 256 * 1024  # smallest ranged read
_MAX_PROBLEM = 200  # characters of a problem text: it is logged and may quote archive names


@dataclass(frozen=True, slots=True)
class Inspection:
    sha256: str | None  # None only for a file too large to hash that S3 has no checksum for
    metadata: bytes | None  # the core metadata file, when it could be read
    parsed: core.CoreMetadata | None
    problem: str | None  # why there is no metadata: short, printable ASCII


def inspect(
    storage: Storage, obj: ObjectInfo, dist: Distribution, limits: Limits | None = None
) -> Inspection:
    """Hash a distribution and extract its core metadata, within ``limits``."""
    limits = limits or Limits()
    if obj.size <= SMALL_FILE:
        data = storage.get_range(obj.key, 0, max(obj.size - 1, 0), obj.etag) if obj.size else b""
        digest = hashlib.sha256(data).hexdigest()
        return _finish(digest, _attempt(lambda: _extract_from_bytes(data, dist, Budget(limits))))

    def fetch(start: int, end: int) -> bytes:
        return storage.get_range(obj.key, start, end, obj.etag)

    known = _s3_sha256(storage, obj)
    if known is None and obj.size > MAX_HASHED_SIZE:
        return Inspection(None, None, None, TOO_LARGE_TO_HASH)
    if known is not None and dist.filename.endswith((".whl", ".zip")):
        source = io.BufferedReader(RangeFile(fetch, obj.size))
        return _finish(known, _attempt(lambda: _extract_from_zip(source, dist, Budget(limits))))
    with storage.open(obj.key, obj.etag) as stream:
        hashing = HashingReader(stream)
        if dist.filename.endswith(".tar.gz"):
            reader = io.BufferedReader(hashing)
            extracted = _attempt(lambda: core.from_sdist_tar(reader, Budget(limits)))
            if known is not None:
                return _finish(known, extracted)
            hashing.drain()  # also after a failed extraction: the hash needs every byte
            return _finish(hashing.hexdigest(), extracted)
        hashing.drain(keep_tail=_TAIL)
    tail_start = obj.size - len(hashing.tail)
    source = io.BufferedReader(RangeFile(fetch, obj.size, tail=(tail_start, hashing.tail)))
    return _finish(
        hashing.hexdigest(), _attempt(lambda: _extract_from_zip(source, dist, Budget(limits)))
    )


def _s3_sha256(storage: Storage, obj: ObjectInfo) -> str | None:
    """The SHA-256 that S3 stored at upload, when it covers the whole object."""
    head = storage.head(obj.key, checksum=True)
    if head is None or head.get("ETag") != obj.etag:
        return None
    value = head.get("ChecksumSHA256")
    if not value or "-" in value or head.get("ChecksumType", "FULL_OBJECT") != "FULL_OBJECT":
        return None
    try:
        return base64.b64decode(value, validate=True).hex()
    except ValueError:
        return None


Extraction = tuple[bytes | None, str | None]


def _attempt(extract: Callable[[], bytes]) -> Extraction:
    """Run an extraction; a broken or hostile archive is a problem to report, S3 trouble is not."""
    try:
        return extract(), None
    except (PreconditionFailed, ObjectMissing, StorageError, ClientError, BotoCoreError):
        raise  # a streamed body can still fail with botocore's own errors
    except core.MetadataError as error:
        return None, str(error) or type(error).__name__
    except Exception as error:  # noqa: BLE001 - a safety net: the file is still indexed
        return None, f"unreadable archive ({type(error).__name__})"


def _finish(digest: str, extracted: Extraction) -> Inspection:
    data, problem = extracted
    if data is None:
        return Inspection(digest, None, None, _printable(problem or "no metadata"))
    try:
        parsed = core.parse(data)
    except core.MetadataError as error:
        return Inspection(digest, None, None, _printable(str(error)))
    return Inspection(digest, data, parsed, None)


def _printable(text: str) -> str:
    """A problem text safe to log and store: escaped to printable ASCII, and short."""
    return text.encode("unicode_escape").decode("ascii")[:_MAX_PROBLEM]


def _extract_from_bytes(data: bytes, dist: Distribution, budget: Budget) -> bytes:
    if dist.filename.endswith(".tar.gz"):
        return core.from_sdist_tar(io.BytesIO(data), budget)
    return _extract_from_zip(io.BytesIO(data), dist, budget)


def _extract_from_zip(source: IO[bytes], dist: Distribution, budget: Budget) -> bytes:
    if dist.kind == "wheel":
        return core.from_wheel(source, dist.project, budget)
    return core.from_sdist_zip(source, budget)


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
