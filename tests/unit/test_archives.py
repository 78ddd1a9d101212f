"""Reading archives within a budget: hostile shapes are refused early, normal ones read as before.

Every hostile file is written chunk by chunk by tests/builders.py (never a
committed blob, never a whole bomb in memory).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import struct
import subprocess
import sys
import tarfile
import textwrap
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serverless_pypi import archives, metadata
from serverless_pypi.archives import Budget, Limits, MetadataError, OverBudget
from tests.builders import (
    END,
    PKG_INFO,
    PKG_INFO_MEMBER,
    ZERO_UNIT,
    ChunkStream,
    MiB,
    Zeros,
    gzip_chunks,
    huge_header,
    metadata_text,
    pad,
    sdist_bytes,
    stream,
    tar_header,
    tar_member,
    wheel_bytes,
    zeros_first,
)

ROOT = Path(__file__).resolve().parents[2]


def is_pkg_info(name: str) -> bool:
    return name.count("/") == 1 and name.endswith("/PKG-INFO")


# -- writers ----------------------------------------------------------------


def pax_body(**records: str) -> bytes:
    """Pax records: each starts with its own length, digits included."""
    body = b""
    for key, value in records.items():
        record = f" {key}={value}\n".encode()
        length = len(record) + 1
        while len(str(length)) + len(record) != length:
            length = len(str(length)) + len(record)
        body += str(length).encode() + record
    return body


def gz(tar: bytes) -> bytes:
    return b"".join(gzip_chunks([tar]))


def read_tar(data: bytes, limits: Limits | None = None) -> bytes | None:
    return archives.read_tar_gz(
        io.BytesIO(data), is_pkg_info, metadata.MAX_METADATA_BYTES, Budget(limits)
    )


# -- the writers themselves -------------------------------------------------


def test_the_zero_unit_stands_alone() -> None:
    assert zlib.decompressobj(-15).decompress(ZERO_UNIT * 3) == bytes(3 * MiB)
    written = b"".join(gzip_chunks(zeros_first(3 * MiB + 7)))
    tar = b"".join(
        part if isinstance(part, bytes) else bytes(part.size) for part in zeros_first(3 * MiB + 7)
    )
    assert gzip_decompress(written) == tar
    assert len(written) < 8 * 1024


def gzip_decompress(data: bytes) -> bytes:
    return zlib.decompress(data, 31)


def test_tarfile_reads_the_hand_written_headers() -> None:
    data = tar_header("d/" + "x" * 98, 3, prefix="p" * 150) + b"abc" + pad(3)
    data += tar_header("d/big", 5, base256=True) + b"12345" + pad(5)
    data += tar_member("d/PKG-INFO", PKG_INFO) + END
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = [(member.name, member.size) for member in archive]
    assert names == [("p" * 150 + "/d/" + "x" * 98, 3), ("d/big", 5), ("d/PKG-INFO", len(PKG_INFO))]


# -- tar: normal archives ----------------------------------------------------


def _tarfile_pkg_info(data: bytes) -> bytes:
    """What tarfile (the reader this module replaces) finds: the reference."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|gz") as archive:
        for member in archive:
            if member.isfile() and is_pkg_info(member.name):
                extracted = archive.extractfile(member)
                assert extracted is not None
                return extracted.read()
    raise AssertionError("no PKG-INFO")


@pytest.mark.parametrize("requires_python", [None, ">=3.8"])
def test_builder_sdists_read_as_tarfile_reads_them(requires_python: str | None) -> None:
    _, data = sdist_bytes("my-pkg", "1.0", requires_python=requires_python)
    found = read_tar(data)
    assert found == _tarfile_pkg_info(data)
    assert metadata.parse(metadata.from_sdist_tar(io.BytesIO(data))).name == "my-pkg"


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_tarfile_archives_with_long_names(fmt: int) -> None:
    # USTAR can only split a long name at a slash: prefix + "/" + name.
    top = "my_pkg-1.0-" + "long" * (20 if fmt == tarfile.USTAR_FORMAT else 40)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=fmt) as archive:
        for name, data in [
            (f"{top}/{'deep/' * 30}file.py", b"print()\n" * 100),
            (f"{top}/{'deep/' * 30}PKG-INFO", b"not this one"),
            (f"{top}/PKG-INFO", PKG_INFO),
            (f"{top}/after.txt", b"x"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    assert read_tar(data) == _tarfile_pkg_info(data) == PKG_INFO


def test_pkg_info_first_last_and_not_nested() -> None:
    other = tar_member("pkg-1.0/setup.py", b"x" * 1000)
    nested = tar_member("pkg-1.0/sub/PKG-INFO", b"nested")
    first = tar_member("pkg-1.0/PKG-INFO", PKG_INFO)
    assert read_tar(gz(first + other + END)) == PKG_INFO
    assert read_tar(gz(nested + other + first + END)) == PKG_INFO
    assert read_tar(gz(nested + other + END)) is None


def test_ustar_prefix_makes_the_name() -> None:
    data = tar_header("PKG-INFO", len(PKG_INFO), prefix="pkg-1.0") + PKG_INFO + pad(len(PKG_INFO))
    assert read_tar(gz(data + END)) == PKG_INFO
    data = tar_header("PKG-INFO", len(PKG_INFO), prefix="a/b") + PKG_INFO + pad(len(PKG_INFO))
    assert read_tar(gz(data + END)) is None


def test_base256_sizes_are_skipped_correctly() -> None:
    big = tar_header("pkg-1.0/blob", 3000, base256=True) + bytes(3000) + pad(3000)
    assert read_tar(gz(big + PKG_INFO_MEMBER + END)) == PKG_INFO


def test_gnu_and_pax_headers_name_the_next_member() -> None:
    long_name = tar_member("././@LongLink", b"pkg-1.0/PKG-INFO\0", b"L")
    pax = tar_member("./PaxHeaders/x", pax_body(path="pkg-1.0/PKG-INFO"), b"x")
    link = tar_member("././@LongLink", b"target" * 30, b"K")
    global_pax = tar_member("pax_global_header", pax_body(comment="hello"), b"g")
    for prefix in (long_name, pax, global_pax + link + long_name):
        assert read_tar(gz(prefix + tar_member("short-name", PKG_INFO) + END)) == PKG_INFO
    # A pax size overrides the header's: the skip must use it.
    sized = tar_member("./PaxHeaders/y", pax_body(size="700"), b"x")
    skipped = tar_header("pkg-1.0/big", 0) + bytes(700) + pad(700)
    assert read_tar(gz(sized + skipped + PKG_INFO_MEMBER + END)) == PKG_INFO


def test_members_without_data_and_lone_zero_blocks() -> None:
    directory = tar_header("pkg-1.0/dir", 999, b"5")  # a size, but no data follows
    symlink = tar_header("pkg-1.0/link", 0, b"2")
    lone_zero = bytes(512)
    assert read_tar(gz(directory + symlink + lone_zero + PKG_INFO_MEMBER + END)) == PKG_INFO


def test_concatenated_gzip_members() -> None:
    first = gz(tar_member("pkg-1.0/a", b"a" * 5000))
    assert read_tar(first + gz(PKG_INFO_MEMBER) + gz(END)) == PKG_INFO


def test_archive_without_end_blocks_ends_cleanly() -> None:
    assert read_tar(gz(tar_member("pkg-1.0/a", b"a"))) is None
    assert read_tar(gz(PKG_INFO_MEMBER)) == PKG_INFO


# -- tar: hostile archives ---------------------------------------------------


@pytest.mark.parametrize("typeflag", [b"L", b"K", b"x", b"g"])
def test_huge_tar_headers_are_refused_before_reading(typeflag: bytes) -> None:
    source = ChunkStream(gzip_chunks(huge_header(typeflag, 300_000_000)))
    with pytest.raises(OverBudget, match=r"^tar header of 300000000 bytes \(limit 65536\)$"):
        archives.read_tar_gz(io.BufferedReader(source), is_pkg_info, 100, Budget())
    assert source.consumed < 256 * 1024


def test_header_at_the_limit_is_read() -> None:
    limits = Limits(header=1024)
    body = b"pkg-1.0/PKG-INFO".ljust(1024, b"\0")
    ok = tar_member("././@LongLink", body, b"L") + tar_member("x", PKG_INFO) + END
    assert read_tar(gz(ok), limits) == PKG_INFO
    over = tar_member("././@LongLink", body + b"\0", b"L") + tar_member("x", PKG_INFO) + END
    with pytest.raises(OverBudget, match="tar header of 1025 bytes"):
        read_tar(gz(over), limits)


def test_zeros_before_pkg_info_stop_at_the_unpacked_budget() -> None:
    limits = Limits(unpacked=4 * MiB)
    source = ChunkStream(gzip_chunks(zeros_first(64 * MiB)))
    with pytest.raises(OverBudget, match=r"^over the 4 MiB unpacked-size budget$"):
        archives.read_tar_gz(io.BufferedReader(source), is_pkg_info, 100, Budget(limits))
    assert read_tar(b"".join(gzip_chunks(zeros_first(3 * MiB))), limits) == PKG_INFO


def test_too_many_members() -> None:
    members = b"".join(tar_member(f"pkg-1.0/f{index}", b"") for index in range(50))
    with pytest.raises(OverBudget, match="archive-member budget"):
        read_tar(gz(members + PKG_INFO_MEMBER + END), Limits(members=20))


def test_oversized_pkg_info_is_refused_unread() -> None:
    header = tar_header("pkg-1.0/PKG-INFO", metadata.MAX_METADATA_BYTES + 1)
    with pytest.raises(MetadataError, match=r"is 4194305 bytes") as raised:
        metadata.from_sdist_tar(stream(gzip_chunks([header, Zeros(8 * MiB)])))
    assert not isinstance(raised.value, OverBudget)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += 1.0


def test_the_deadline_stops_a_slow_archive_midway() -> None:
    clock = FakeClock()
    noise = random.Random(0).randbytes(4 * MiB)  # incompressible: many reads
    chunks = gzip_chunks([tar_member("pkg-1.0/noise", noise), PKG_INFO_MEMBER, END])
    source = ChunkStream(chunks, on_read=clock.tick)  # one second per read
    budget = Budget(Limits(seconds=5), clock=clock)
    with pytest.raises(OverBudget, match=r"^over the 5 s inspection budget$"):
        archives.read_tar_gz(io.BufferedReader(source), is_pkg_info, 100, budget)
    assert 0 < source.consumed < len(noise) // 2
    # Without the clock moving, the same archive is read to the end.
    assert read_tar(b"".join(gzip_chunks([tar_member("pkg-1.0/noise", noise), PKG_INFO_MEMBER])))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"\x1f\x8b\x08\x00garbage",
        gz(b"x" * 512),  # a header with a bad checksum
        gz(bytes(100)),  # a short block
        gz(tar_header("pkg-1.0/PKG-INFO", 100) + b"short"),
        gz(tar_member("pkg-1.0/a", b"a"))[:-12],  # gzip cut short
        gz(tar_member("./PaxHeaders/x", b"99 path=x\n", b"x") + PKG_INFO_MEMBER),
        gz(tar_member("./PaxHeaders/x", pax_body(size="-1"), b"x") + PKG_INFO_MEMBER),
        gz(tar_header("pkg-1.0/a", 1) + b"a"),  # data without its padding
    ],
)
def test_broken_tar_archives_are_metadata_errors(data: bytes) -> None:
    with pytest.raises(MetadataError):
        read_tar(data)


def test_huge_numbers_in_pax_records() -> None:
    long_length = tar_member("./PaxHeaders/x", b"9" * 5000 + b" path=x\n", b"x")
    assert read_tar(gz(long_length + PKG_INFO_MEMBER + END)) == PKG_INFO  # not a record: ignored
    long_size = tar_member("./PaxHeaders/x", pax_body(size="9" * 5000), b"x")
    with pytest.raises(MetadataError, match="invalid pax size"):
        read_tar(gz(long_size + PKG_INFO_MEMBER + END))


def test_every_truncation_is_a_metadata_error_or_the_right_bytes() -> None:
    _, data = sdist_bytes("my-pkg", "1.0")
    expected = read_tar(data)
    for cut in range(len(data)):
        try:
            found = read_tar(data[:cut])
        except MetadataError:
            continue
        assert found in (expected, None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_garbage_gzip_is_a_metadata_error(data: bytes) -> None:
    with contextlib.suppress(MetadataError):
        assert read_tar(data) is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_tar_is_a_metadata_error_or_bytes(changes: list[tuple[int, int]]) -> None:
    tar = bytearray(gzip_decompress(sdist_bytes("my-pkg", "1.0")[1]))
    for at, value in changes:
        tar[at % len(tar)] = value
    try:
        found = read_tar(gz(bytes(tar)), Limits(unpacked=4 * MiB))
    except MetadataError:
        return
    assert found is None or len(found) <= metadata.MAX_METADATA_BYTES


# -- zip writers -------------------------------------------------------------


def central_entry(
    name: bytes,
    *,
    method: int = 0,
    crc: int = 0,
    compressed: int = 0,
    size: int = 0,
    offset: int = 0,
    flags: int = 0,
    extra: bytes = b"",
) -> bytes:
    fixed = struct.pack(
        "<4s6H3I5HII",
        *(b"PK\x01\x02", 20, 20, flags, method, 0, 0x21),
        *(crc, compressed, size, len(name), len(extra), 0, 0, 0, 0, offset),
    )
    return fixed + name + extra


def local_header(name: bytes, *, method: int, crc: int, compressed: int, size: int) -> bytes:
    fields = (b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, compressed, size, len(name), 0)
    return struct.pack("<4s5H3I2H", *fields) + name


def end_records(count: int, size: int, offset: int, *, zip64: bool, at: int) -> bytes:
    """The end of central directory record, after a zip64 one and its locator if asked."""
    if not zip64:
        return struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, size, offset, 0)
    record = struct.pack("<4sQ2H2I4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, at, 1)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return record + locator + end


def zip_bytes(
    members: list[tuple[str, bytes]],
    *,
    zip64: bool = False,
    deflate: bool = True,
    lie: Callable[[dict[str, int]], None] = lambda fields: None,
) -> bytes:
    """A zip written by hand; ``lie`` may change an entry's directory fields."""
    body = b""
    directory = b""
    for name, data in members:
        method = 8 if deflate else 0
        stored = zlib.compress(data, 9)[2:-4] if deflate else data
        fields = {"crc": zlib.crc32(data), "compressed": len(stored), "size": len(data)}
        local = local_header(name.encode(), method=method, **fields)
        fields.update(offset=len(body), method=method, flags=0)
        body += local + stored
        lie(fields)
        extra = b""
        if zip64:
            extra = struct.pack(
                "<2H3Q", 1, 24, fields["size"], fields["compressed"], fields["offset"]
            )
            fields = {**fields, "compressed": 0xFFFFFFFF, "size": 0xFFFFFFFF, "offset": 0xFFFFFFFF}
        directory += central_entry(name.encode(), extra=extra, **fields)
    ends = end_records(
        len(members), len(directory), len(body), zip64=zip64, at=len(body) + len(directory)
    )
    return body + directory + ends


class RepeatedDirectory(io.RawIOBase):
    """A zip whose central directory is one entry ``count`` times, made up on each read."""

    def __init__(self, count: int, *, declared: int | None = None) -> None:
        self._entry = central_entry(b"pkg/a.py")
        self._directory_size = len(self._entry) * count
        self._end = end_records(
            count if declared is None else declared,
            self._directory_size,
            0,
            zip64=True,
            at=self._directory_size,
        )
        self._size = self._directory_size + len(self._end)
        self._position = 0
        self.reads = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = base + offset
        return self._position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.reads += 1
        start = self._position
        length = min(len(buffer), self._size - start)
        data = b""
        if start < self._directory_size:
            skip = start % len(self._entry)
            repeats = (skip + length) // len(self._entry) + 1
            data = (self._entry * repeats)[skip : skip + length]
            data = data[: self._directory_size - start]
        data += self._end[max(0, start + len(data) - self._directory_size) :][: length - len(data)]
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def open_zip(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


# -- zip: normal archives ----------------------------------------------------


def test_builder_wheels_read_as_zipfile_reads_them() -> None:
    _, data = wheel_bytes("My.Pkg", "1.0", requires_python=">=3.9", requires=["dep>=1"])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        expected = archive.read("my_pkg-1.0.dist-info/METADATA")
    assert metadata.from_wheel(open_zip(data), "my-pkg") == expected


def test_wheel_choice_among_several_dist_infos() -> None:
    vendored = {"vendored-2.0.dist-info/METADATA": metadata_text("vendored", "2.0").encode()}
    _, data = wheel_bytes("my-pkg", "1.0", extra_files=vendored)
    assert metadata.parse(metadata.from_wheel(open_zip(data), "my-pkg")).name == "my-pkg"
    # A single dist-info is taken whatever its name.
    _, single = wheel_bytes("other", "1.0")
    assert metadata.parse(metadata.from_wheel(open_zip(single), "my-pkg")).name == "other"
    # Two of the project's own: ambiguous.
    twice = {"my_pkg-2.0.dist-info/METADATA": metadata_text("my-pkg", "2.0").encode()}
    _, ambiguous = wheel_bytes("my-pkg", "1.0", extra_files=twice)
    with pytest.raises(MetadataError, match="no single"):
        metadata.from_wheel(open_zip(ambiguous), "my-pkg")


def test_zip_sdist_takes_the_first_top_level_pkg_info() -> None:
    _, data = sdist_bytes("my-pkg", "1.0", fmt="zip", requires_python=">=3.8")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        expected = archive.read("my_pkg-1.0/PKG-INFO")
    assert metadata.from_sdist_zip(open_zip(data)) == expected
    nested = zip_bytes([("a/b/PKG-INFO", b"no"), ("a/PKG-INFO", PKG_INFO), ("b/PKG-INFO", b"x")])
    assert metadata.from_sdist_zip(open_zip(nested)) == PKG_INFO


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_other_compression_methods(compression: int) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("pkg-1.0/setup.py", "x" * 10_000)
        archive.writestr("pkg-1.0/PKG-INFO", PKG_INFO)
    assert metadata.from_sdist_zip(open_zip(buffer.getvalue())) == PKG_INFO


def test_lzma_dictionary_is_not_allocated_as_declared() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_LZMA) as archive:
        archive.writestr("pkg-1.0/PKG-INFO", PKG_INFO)
    data = bytearray(buffer.getvalue())
    at = data.index(b"pkg-1.0/PKG-INFO") + len(b"pkg-1.0/PKG-INFO") + 4  # zip's lzma header
    data[at + 1 : at + 5] = struct.pack("<I", 0xFFFFFFFF)  # a 4 GiB dictionary
    assert metadata.from_sdist_zip(open_zip(bytes(data))) == PKG_INFO


def test_zip64_archive() -> None:
    data = zip_bytes([("pkg-1.0/setup.py", b"x" * 100), ("pkg-1.0/PKG-INFO", PKG_INFO)], zip64=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # the hand-written zip64 is a real one
        assert archive.read("pkg-1.0/PKG-INFO") == PKG_INFO
    assert metadata.from_sdist_zip(open_zip(data)) == PKG_INFO


def test_zip_with_data_before_it() -> None:
    _, wheel = wheel_bytes("my-pkg", "1.0")
    data = b"#!/bin/sh\nexit 0\n" * 100 + wheel
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        expected = archive.read("my_pkg-1.0.dist-info/METADATA")
    assert metadata.from_wheel(open_zip(data), "my-pkg") == expected


def test_zip_with_a_comment() -> None:
    _, wheel = wheel_bytes("my-pkg", "1.0")
    buffer = io.BytesIO(wheel)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.comment = b"PK\x05\x06 not an end record" * 100
    assert metadata.parse(metadata.from_wheel(open_zip(buffer.getvalue()), "my-pkg"))


# -- zip: hostile archives ---------------------------------------------------


def test_two_million_entries_are_refused_unread() -> None:
    source = RepeatedDirectory(2_000_000)
    with pytest.raises(OverBudget, match=r"zip central directory of \d+ bytes \(limit 67108864\)"):
        metadata.from_wheel(io.BufferedReader(source), "my-pkg")
    assert source.reads <= 3
    source = RepeatedDirectory(2_000_000)
    budget = Budget(Limits(central_directory=1 << 30))
    with pytest.raises(OverBudget, match=r"^zip of 2000000 entries \(limit 100000\)$"):
        metadata.from_wheel(io.BufferedReader(source), "my-pkg", budget)
    assert source.reads <= 3


def test_a_directory_that_understates_its_entries_stops_at_the_member_budget() -> None:
    source = RepeatedDirectory(1_200_000, declared=1)
    with pytest.raises(OverBudget, match="over the 100000 archive-member budget"):
        metadata.from_wheel(io.BufferedReader(source), "my-pkg")


def test_the_deadline_stops_a_slow_directory_scan() -> None:
    clock = FakeClock()

    class Slow(RepeatedDirectory):
        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            clock.tick()
            return super().readinto(buffer)

    source = Slow(1_000_000, declared=1)
    budget = Budget(Limits(seconds=3, members=10**9), clock=clock)
    with pytest.raises(OverBudget, match=r"^over the 3 s inspection budget$"):
        metadata.from_wheel(io.BufferedReader(source), "my-pkg", budget)
    assert source.reads < 10


def test_member_that_claims_small_but_inflates_big() -> None:
    big = bytes(64 * MiB)

    def claim_small(fields: dict[str, int]) -> None:
        fields["size"] = 100

    data = zip_bytes([("pkg-1.0/PKG-INFO", big)], lie=claim_small)
    with pytest.raises(MetadataError, match="inflates over its declared size"):
        metadata.from_sdist_zip(open_zip(data))


def test_member_declared_over_the_limit_is_refused_unread() -> None:
    def claim_huge(fields: dict[str, int]) -> None:
        fields["size"] = metadata.MAX_METADATA_BYTES + 1

    data = zip_bytes([("pkg-1.0/PKG-INFO", PKG_INFO)], lie=claim_huge)
    with pytest.raises(MetadataError, match="4194305 bytes"):
        metadata.from_sdist_zip(open_zip(data))
    huge = metadata_text("my-pkg", "1.0") + "x" * (metadata.MAX_METADATA_BYTES + 1)
    _, wheel = wheel_bytes("my-pkg", "1.0", metadata=huge)
    with pytest.raises(MetadataError, match="bytes"):
        metadata.from_wheel(open_zip(wheel), "my-pkg")


@pytest.mark.parametrize(
    "lie",
    [
        {"flags": 1},  # encrypted
        {"method": 99},
        {"offset": 1 << 30},
        {"offset": 5},
        {"crc": 1},
        {"compressed": 3},
        {"size": 3},
        {"compressed": 0xFFFFFFF0},
    ],
)
def test_lying_directory_entries(lie: dict[str, int]) -> None:
    def apply(fields: dict[str, int]) -> None:
        fields.update(lie)

    data = zip_bytes([("pkg-1.0/PKG-INFO", PKG_INFO)], lie=apply)
    with pytest.raises(MetadataError):
        metadata.from_sdist_zip(open_zip(data))


def test_local_header_naming_another_file() -> None:
    data = zip_bytes([("pkg-1.0/PKG-INFO", PKG_INFO)])
    tampered = data.replace(b"pkg-1.0/PKG-INFO", b"pkg-1.0/OTHER-XX", 1)  # the local header
    with pytest.raises(MetadataError, match="names another file"):
        metadata.from_sdist_zip(open_zip(tampered))


@pytest.mark.parametrize("zip64", [False, True])
def test_every_truncation_of_a_zip_is_a_metadata_error(zip64: bool) -> None:
    data = zip_bytes([("pkg-1.0/a.py", b"a" * 300), ("pkg-1.0/PKG-INFO", PKG_INFO)], zip64=zip64)
    assert metadata.from_sdist_zip(open_zip(data)) == PKG_INFO
    for cut in range(len(data)):
        with pytest.raises(MetadataError):
            metadata.from_sdist_zip(open_zip(data[:cut]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_garbage_zip_is_a_metadata_error(data: bytes) -> None:
    with pytest.raises(MetadataError):
        metadata.from_sdist_zip(open_zip(data + b"PK\x05\x06" + data[:18]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.booleans(),
    st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_mutated_zip_is_a_metadata_error_or_bytes(
    zip64: bool, changes: list[tuple[int, int]]
) -> None:
    data = bytearray(
        zip_bytes([("pkg-1.0/a.py", b"a" * 300), ("pkg-1.0/PKG-INFO", PKG_INFO)], zip64=zip64)
    )
    for at, value in changes:
        data[at % len(data)] = value
    try:
        found = metadata.from_sdist_zip(open_zip(bytes(data)), Budget(Limits(unpacked=MiB)))
    except MetadataError:
        return
    assert len(found) <= metadata.MAX_METADATA_BYTES


# -- the real shapes, with the default limits, under a memory cap -------------

_CHILD = textwrap.dedent(
    """
    import io, json, resource, sys, time
    from serverless_pypi import archives, metadata
    from tests import builders as t

    def vm_size():
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmSize")

    cap = vm_size() + 256 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    results = {}
    for case, chunks in [
        ("long-name", t.huge_header(b"L", 300_000_000)),
        ("pax", t.huge_header(b"x", 300_000_000)),
        ("zeros", t.zeros_first(2 << 30)),
    ]:
        started = time.monotonic()
        try:
            metadata.from_sdist_tar(t.stream(t.gzip_chunks(chunks)))
            outcome = "read"
        except archives.OverBudget as error:
            outcome = str(error)
        results[case] = {"outcome": outcome, "seconds": round(time.monotonic() - started, 2)}
    results["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(results))
    """
)


def test_real_bombs_with_default_limits_under_a_memory_cap() -> None:
    """300 MB headers and 2 GiB of zeros, as uploaded: refused within 256 MiB of address space."""
    child = subprocess.run(
        [sys.executable, "-c", _CHILD],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    results = json.loads(child.stdout)
    assert results["long-name"]["outcome"] == "tar header of 300000000 bytes (limit 65536)"
    assert results["pax"]["outcome"] == "tar header of 300000000 bytes (limit 65536)"
    assert results["zeros"]["outcome"] == "over the 1 GiB unpacked-size budget"
