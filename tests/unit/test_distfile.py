"""Reading distributions from S3: whole, streamed, or by ranges."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from typing import Any

import pytest

from serverless_pypi import distfile
from serverless_pypi.archives import Limits
from serverless_pypi.names import parse_filename
from serverless_pypi.objects import ObjectInfo
from serverless_pypi.storage import Storage
from tests.builders import PKG_INFO_MEMBER, Zeros, gzip_chunks, sdist_bytes, tar_header, wheel_bytes
from tests.conftest import BUCKET


class CountingStorage(Storage):
    """A Storage that counts the requests and bytes it reads."""

    def __init__(self, inner: Storage) -> None:
        super().__init__(inner.client, inner.bucket)
        self.calls: list[str] = []
        self.bytes_read = 0

    def read_range(
        self, key: str, start: int, end: int, etag: str
    ) -> tuple[bytes, dict[str, str]]:  # every ranged read (get_range too) comes here
        data, metadata = super().read_range(key, start, end, etag)
        self.calls.append("range")
        self.bytes_read += len(data)
        return data, metadata

    def open(self, key: str, etag: str) -> Any:
        self.calls.append("open")
        return super().open(key, etag)

    def head(self, key: str, checksum: bool = False) -> Any:
        self.calls.append("head")
        return super().head(key, checksum)


def _big_wheel(size: int) -> tuple[str, bytes]:
    # Incompressible payload so the wheel really is that large.
    payload = {"my_pkg/blob.bin": os.urandom(size)}
    return wheel_bytes("my-pkg", "1.0", requires_python=">=3.10", extra_files=payload)


def _upload(s3: Any, key: str, data: bytes, **kwargs: Any) -> ObjectInfo:
    s3.put_object(Bucket=BUCKET, Key=key, Body=data, **kwargs)
    head = s3.head_object(Bucket=BUCKET, Key=key)
    return ObjectInfo(key, head["ETag"], head["ContentLength"], head["LastModified"])


def test_small_wheel_read_in_one_request(s3: Any, storage: Storage) -> None:
    filename, data = wheel_bytes("my-pkg", "1.0", requires_python=">=3.9")
    obj = _upload(s3, f"my-pkg/{filename}", data)
    counting = CountingStorage(storage)
    found = distfile.inspect(counting, obj, parse_filename(filename, "my-pkg"))  # type: ignore[arg-type]
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    assert found.parsed is not None and found.parsed.requires_python == ">=3.9"
    assert counting.calls == ["range"]


def test_large_wheel_is_streamed_once_and_metadata_comes_from_the_tail(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distfile, "SMALL_FILE", 64 * 1024)
    filename, data = _big_wheel(300 * 1024)
    obj = _upload(s3, f"my-pkg/{filename}", data)
    counting = CountingStorage(storage)
    found = distfile.inspect(counting, obj, parse_filename(filename, "my-pkg"))  # type: ignore[arg-type]
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    assert found.parsed is not None and found.parsed.requires_python == ">=3.10"
    # No checksum in S3: one HEAD to learn that, one streamed GET, nothing more.
    assert counting.calls == ["head", "open"]


def test_large_wheel_with_s3_checksum_reads_only_the_central_directory(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distfile, "SMALL_FILE", 64 * 1024)
    monkeypatch.setattr(distfile, "_WINDOW", 16 * 1024)
    filename, data = _big_wheel(2 * 1024 * 1024)
    obj = _upload(s3, f"my-pkg/{filename}", data, ChecksumAlgorithm="SHA256")
    counting = CountingStorage(storage)
    found = distfile.inspect(counting, obj, parse_filename(filename, "my-pkg"))  # type: ignore[arg-type]
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    assert found.parsed is not None and found.parsed.version == "1.0"
    assert "open" not in counting.calls
    assert counting.bytes_read < 100 * 1024 < len(data)


def test_large_sdist_is_streamed(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distfile, "SMALL_FILE", 1024)
    filename, data = sdist_bytes("my-pkg", "2.0", requires_python=">=3.7")
    obj = _upload(s3, f"my-pkg/{filename}", data)
    found = distfile.inspect(storage, obj, parse_filename(filename, "my-pkg"))  # type: ignore[arg-type]
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    assert found.parsed is not None and found.parsed.requires_python == ">=3.7"


@pytest.mark.parametrize("small", [True, False])
def test_corrupt_files_are_hashed_without_metadata(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch, small: bool
) -> None:
    if not small:
        monkeypatch.setattr(distfile, "SMALL_FILE", 16)
    for filename, data in [
        ("my_pkg-1.0-py3-none-any.whl", b"PK\x03\x04 this is not a zip" * 10),
        ("my_pkg-1.0.tar.gz", b"\x1f\x8b\x08 truncated gzip" * 10),
        ("my_pkg-1.1-py3-none-any.whl", wheel_bytes("my-pkg", "1.1")[1][:-200]),
    ]:
        obj = _upload(s3, f"my-pkg/{filename}", data)
        found = distfile.inspect(storage, obj, parse_filename(filename, "my-pkg"))  # type: ignore[arg-type]
        assert found.sha256 == hashlib.sha256(data).hexdigest()
        assert found.metadata is None
        assert found.problem


def test_range_file_serves_reads_from_the_tail_without_fetching() -> None:
    data = bytes(range(256)) * 40
    fetched: list[tuple[int, int]] = []

    def fetch(start: int, end: int) -> bytes:
        fetched.append((start, end))
        return data[start : end + 1]

    tail = (len(data) - 1000, data[-1000:])
    source = distfile.RangeFile(fetch, len(data), tail=tail)
    source.seek(-500, io.SEEK_END)
    assert source.read(100) == data[-500:-400]
    assert fetched == []
    source.seek(10)
    assert source.read(20) == data[10:30]
    assert len(fetched) == 1


def test_range_file_works_as_a_zip_source() -> None:
    _, data = wheel_bytes("my-pkg", "1.0")
    source = distfile.RangeFile(lambda start, end: data[start : end + 1], len(data))
    with zipfile.ZipFile(io.BufferedReader(source)) as archive:
        assert any(name.endswith("METADATA") for name in archive.namelist())


def _zeros_then_pkg_info(size: int) -> bytes:
    """An sdist whose PKG-INFO comes after ``size`` bytes of zeros."""
    chunks = gzip_chunks(
        [tar_header("my_pkg-1.0/zeros", size), Zeros(size), PKG_INFO_MEMBER, bytes(1024)]
    )
    return b"".join(chunks)


@pytest.mark.parametrize("small", [True, False])
def test_over_budget_sdist_is_hashed_with_a_problem(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch, small: bool
) -> None:
    if not small:
        monkeypatch.setattr(distfile, "SMALL_FILE", 1024)
    data = _zeros_then_pkg_info(8 * 1024 * 1024)
    obj = _upload(s3, "my-pkg/my_pkg-1.0.tar.gz", data)
    dist = parse_filename("my_pkg-1.0.tar.gz", "my-pkg")
    assert dist is not None
    found = distfile.inspect(storage, obj, dist, Limits(unpacked=1024 * 1024))
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    assert (found.metadata, found.parsed) == (None, None)
    assert found.problem == "over the 1 MiB unpacked-size budget"
    # Within the default budget the same file is read to its PKG-INFO.
    found = distfile.inspect(storage, obj, dist)
    assert found.parsed is not None and found.parsed.name == "evil"


def test_over_budget_zip_with_s3_checksum_keeps_the_checksum(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distfile, "SMALL_FILE", 64 * 1024)
    filename, data = _big_wheel(100 * 1024)
    obj = _upload(s3, f"my-pkg/{filename}", data, ChecksumAlgorithm="SHA256")
    dist = parse_filename(filename, "my-pkg")
    assert dist is not None
    found = distfile.inspect(storage, obj, dist, Limits(members=2))
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    assert found.problem == "zip of 5 entries (limit 2)"


def test_too_large_to_hash_without_a_checksum_is_not_read(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distfile, "SMALL_FILE", 1024)
    monkeypatch.setattr(distfile, "MAX_HASHED_SIZE", 4096)
    filename, data = _big_wheel(8 * 1024)
    for key, kwargs in [("plain", {}), ("checksum", {"ChecksumAlgorithm": "SHA256"})]:
        obj = _upload(s3, f"my-pkg/{key}/{filename}", data, **kwargs)
        counting = CountingStorage(storage)
        found = distfile.inspect(counting, obj, parse_filename(filename, "my-pkg"))  # type: ignore[arg-type]
        if key == "plain":
            assert counting.calls == ["head"]
            assert found.sha256 is None and found.parsed is None
            assert found.problem == distfile.TOO_LARGE_TO_HASH
            assert "in one PUT" in found.problem
        else:
            assert "open" not in counting.calls
            assert found.sha256 == hashlib.sha256(data).hexdigest()
            assert found.parsed is not None and found.problem is None


def test_a_multipart_sha256_is_never_taken_for_the_file_s(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`aws s3 cp --checksum-algorithm SHA256` sends files over 8 MB in parts; S3's
    SHA-256 of such an object is a checksum of the parts' checksums (moto 5.2.1
    returns that value with no "-N" and no ChecksumType: the ETag tells)."""
    from boto3.s3.transfer import TransferConfig

    monkeypatch.setattr(distfile, "SMALL_FILE", 64 * 1024)
    filename, data = _big_wheel(12 * 1024 * 1024)
    key = f"my-pkg/{filename}"
    parts = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_fileobj(
        io.BytesIO(data), BUCKET, key, ExtraArgs={"ChecksumAlgorithm": "SHA256"}, Config=parts
    )
    head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-3"') and "ChecksumSHA256" in head
    obj = ObjectInfo(key, head["ETag"], head["ContentLength"], head["LastModified"])
    counting = CountingStorage(storage)
    found = distfile.inspect(counting, obj, parse_filename(filename, "my-pkg"))  # type: ignore[arg-type]
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    assert "open" in counting.calls  # read whole: S3's value was not the file's hash


_SHA = base64.b64encode(hashlib.sha256(b"x").digest()).decode()


@pytest.mark.parametrize(
    ("head", "trusted"),
    [
        # What AWS answers for one PUT with a SHA-256 checksum.
        (
            {
                "ETag": '"9dd4e461268c8034f5c8564e155c67a6"',
                "ChecksumSHA256": _SHA,
                "ChecksumType": "FULL_OBJECT",
            },
            True,
        ),
        # moto 5.2.1 and S3 before ChecksumType existed: no type, a single-part ETag.
        ({"ETag": '"9dd4e461268c8034f5c8564e155c67a6"', "ChecksumSHA256": _SHA}, True),
        # AWS, a multipart upload: the value, the ETag and the type all say so.
        (
            {"ETag": '"0b1f0c3a-2"', "ChecksumSHA256": _SHA + "-2", "ChecksumType": "COMPOSITE"},
            False,
        ),
        # Each sign alone is enough.
        ({"ETag": '"9dd4e461268c8034f5c8564e155c67a6-2"', "ChecksumSHA256": _SHA}, False),
        ({"ETag": '"9dd4e461268c8034f5c8564e155c67a6"', "ChecksumSHA256": _SHA + "-2"}, False),
        (
            {
                "ETag": '"9dd4e461268c8034f5c8564e155c67a6"',
                "ChecksumSHA256": _SHA,
                "ChecksumType": "COMPOSITE",
            },
            False,
        ),
        # Not a SHA-256 at all.
        ({"ETag": '"9dd4e461268c8034f5c8564e155c67a6"', "ChecksumSHA256": "AAAA"}, False),
        ({"ETag": '"9dd4e461268c8034f5c8564e155c67a6"', "ChecksumSHA256": "not base64!"}, False),
        ({"ETag": '"9dd4e461268c8034f5c8564e155c67a6"'}, False),
    ],
)
def test_only_a_whole_object_sha256_is_trusted(head: dict[str, str], trusted: bool) -> None:
    expected = hashlib.sha256(b"x").hexdigest() if trusted else None
    assert distfile.full_object_sha256(head) == expected


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("my_pkg-1.0.tar.gz", b"\x1f\x8b" + bytes(range(256)) * 4),
        ("my_pkg-1.0-py3-none-any.whl", b"PK\x05\x06" + b"\xff" * 18),
        ("my_pkg-1.0.zip", b"\n\x00\x1b" * 100),
    ],
)
def test_problems_from_garbage_are_printable(
    s3: Any, storage: Storage, filename: str, data: bytes
) -> None:
    obj = _upload(s3, f"my-pkg/{filename}", data)
    found = distfile.inspect(storage, obj, parse_filename(filename, "my-pkg"))  # type: ignore[arg-type]
    assert found.problem and found.problem.isascii() and found.problem.isprintable()
    assert len(found.problem) <= 200
