"""Real distributions for the tests and the bench: wheels (PEP 427) and sdists
(PEP 517/643), and hostile archives written as streams.

The sdists carry an in-tree build backend with no requirements, so pip and
uv can build them with no index and no network. The hostile archives are
written chunk by chunk (never a committed blob, never a whole bomb in memory).
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import struct
import tarfile
import textwrap
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

_EPOCH = (2020, 1, 1, 0, 0, 0)


def _escape(name: str) -> str:
    """The name as it appears in distribution filenames."""
    return re.sub(r"[-_.]+", "_", name).lower()


def metadata_text(
    name: str,
    version: str,
    *,
    requires_python: str | None = None,
    requires: Iterable[str] = (),
    metadata_version: str = "2.3",
    dynamic: Iterable[str] = (),
    summary: str = "A test package",
) -> str:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    lines.append(f"Summary: {summary}")
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines.extend(f"Requires-Dist: {requirement}" for requirement in requires)
    lines.extend(f"Dynamic: {field}" for field in dynamic)
    return "\n".join(lines) + "\n\nA long description.\n"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _module(name: str, version: str) -> str:
    return f'"""{name}"""\n\n__version__ = "{version}"\n'


def wheel_bytes(
    name: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    metadata: str | None = None,
    extra_files: dict[str, bytes] | None = None,
    **metadata_options: object,
) -> tuple[str, bytes]:
    """``(filename, bytes)`` of an installable wheel."""
    escaped = _escape(name)
    dist_info = f"{escaped}-{version}.dist-info"
    text = metadata if metadata is not None else metadata_text(name, version, **metadata_options)  # type: ignore[arg-type]
    files: dict[str, bytes] = {
        f"{escaped}/__init__.py": _module(name, version).encode(),
        **(extra_files or {}),
        f"{dist_info}/METADATA": text.encode(),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ).encode(),
    }
    record = [_record_line(path, data) for path, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, _EPOCH), data)
    return f"{escaped}-{version}-{tag}.whl", buffer.getvalue()


_BACKEND = textwrap.dedent(
    '''
    """A PEP 517 backend with no requirements: it packs the module into a wheel."""
    import base64, hashlib, os, zipfile

    def _metadata():
        with open("PKG-INFO", encoding="utf-8") as f:
            return f.read()

    def _field(text, name):
        for line in text.splitlines():
            if line.startswith(name + ": "):
                return line[len(name) + 2:]
        raise KeyError(name)

    def _names():
        text = _metadata()
        name = _field(text, "Name").replace("-", "_").replace(".", "_").lower()
        return text, name, _field(text, "Version")

    def get_requires_for_build_wheel(config_settings=None):
        return []

    def prepare_metadata_for_build_wheel(directory, config_settings=None):
        text, name, version = _names()
        dist_info = f"{name}-{version}.dist-info"
        os.makedirs(os.path.join(directory, dist_info), exist_ok=True)
        with open(os.path.join(directory, dist_info, "METADATA"), "w", encoding="utf-8") as f:
            f.write(text)
        return dist_info

    def _line(path, data):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return f"{path},sha256={digest},{len(data)}"

    def build_wheel(directory, config_settings=None, metadata_directory=None):
        text, name, version = _names()
        dist_info = f"{name}-{version}.dist-info"
        files = {}
        for root, _, found in os.walk(name):
            for filename in found:
                path = os.path.join(root, filename)
                with open(path, "rb") as f:
                    files[path.replace(os.sep, "/")] = f.read()
        files[f"{dist_info}/METADATA"] = text.encode()
        files[f"{dist_info}/WHEEL"] = (
            b"Wheel-Version: 1.0\\nGenerator: tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        )
        record = [_line(path, data) for path, data in files.items()] + [f"{dist_info}/RECORD,,"]
        files[f"{dist_info}/RECORD"] = ("\\n".join(record) + "\\n").encode()
        filename = f"{name}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(os.path.join(directory, filename), "w") as archive:
            for path, data in files.items():
                archive.writestr(path, data)
        return filename
    '''
).lstrip()


def sdist_bytes(
    name: str,
    version: str,
    *,
    metadata: str | None = None,
    fmt: str = "tar.gz",
    with_pkg_info: bool = True,
    **metadata_options: object,
) -> tuple[str, bytes]:
    """``(filename, bytes)`` of an sdist that pip and uv can build offline."""
    escaped = _escape(name)
    top = f"{escaped}-{version}"
    text = metadata if metadata is not None else metadata_text(name, version, **metadata_options)  # type: ignore[arg-type]
    files: dict[str, bytes] = {
        f"{top}/pyproject.toml": (
            b'[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        ),
        f"{top}/backend.py": _BACKEND.encode(),
        f"{top}/{escaped}/__init__.py": _module(name, version).encode(),
    }
    if with_pkg_info:
        files[f"{top}/PKG-INFO"] = text.encode()
    buffer = io.BytesIO()
    if fmt == "zip":
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, data in files.items():
                archive.writestr(zipfile.ZipInfo(path, _EPOCH), data)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
            for path, data in files.items():
                info = tarfile.TarInfo(path)
                info.size = len(data)
                info.mtime = 1577836800
                archive.addfile(info, io.BytesIO(data))
    return f"{top}.{fmt}", buffer.getvalue()


def write(directory: Path, built: tuple[str, bytes]) -> Path:
    path = directory / built[0]
    path.write_bytes(built[1])
    return path


# -- hostile archives, as streams ------------------------------------------------

MiB = 1 << 20


@dataclass(frozen=True)
class Zeros:
    """``size`` zero bytes, compressed without ever being held in memory."""

    size: int


def _zero_unit() -> bytes:
    """Raw deflate of one MiB of zeros that stands alone: repeatable anywhere after a full flush."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressor.compress(bytes(MiB))
    compressor.flush(zlib.Z_FULL_FLUSH)
    return compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)


ZERO_UNIT = _zero_unit()
_ZERO_MIB = bytes(MiB)


def gzip_chunks(parts: Iterable[bytes | Zeros]) -> Iterator[bytes]:
    """A gzip stream (about 1 KiB per MiB of zeros), as it is written."""
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc = size = 0
    for part in parts:
        data = part
        if isinstance(part, Zeros):
            yield compressor.flush(zlib.Z_FULL_FLUSH)
            whole, rest = divmod(part.size, MiB)
            for _ in range(whole):
                crc = zlib.crc32(_ZERO_MIB, crc)
                yield ZERO_UNIT
            size += whole * MiB
            data = bytes(rest)
        assert isinstance(data, bytes)
        crc = zlib.crc32(data, crc)
        size += len(data)
        yield compressor.compress(data)
    yield compressor.flush()
    yield struct.pack("<II", crc, size & 0xFFFFFFFF)


class ChunkStream(io.RawIOBase):
    """A forward-only stream over chunks, like a network body; ``on_read`` sees every read."""

    def __init__(self, chunks: Iterable[bytes], on_read: Callable[[], None] = lambda: None) -> None:
        self._chunks = iter(chunks)
        self._left = b""
        self._on_read = on_read
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self._on_read()
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = chunk
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        self.consumed += size
        return size


def stream(
    chunks: Iterable[bytes], on_read: Callable[[], None] = lambda: None
) -> io.BufferedReader:
    return io.BufferedReader(ChunkStream(chunks, on_read))


def tar_header(
    name: str,
    size: int,
    typeflag: bytes = b"0",
    *,
    prefix: str = "",
    base256: bool = False,
) -> bytes:
    """A ustar header block, with the ustar prefix field or a GNU base-256 size if asked."""
    block = bytearray(512)
    raw = name.encode()
    block[0 : len(raw)] = raw
    block[100:108] = b"0000644\0"
    block[108:124] = b"0000000\0" * 2
    block[124:136] = b"\x80" + size.to_bytes(11, "big") if base256 else b"%011o\0" % size
    block[136:148] = b"00000000000\0"
    block[148:156] = b" " * 8
    block[156:157] = typeflag
    block[257:265] = b"ustar\x0000"
    block[345 : 345 + len(prefix)] = prefix.encode()
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def pad(size: int) -> bytes:
    return bytes(-size % 512)


def tar_member(name: str, data: bytes, typeflag: bytes = b"0") -> bytes:
    return tar_header(name, len(data), typeflag) + data + pad(len(data))


END = bytes(1024)
PKG_INFO = metadata_text("evil", "1.0").encode()
PKG_INFO_MEMBER = tar_member("evil-1.0/PKG-INFO", PKG_INFO)


def huge_header(typeflag: bytes, size: int) -> Iterator[bytes | Zeros]:
    """A long-name or pax header of ``size`` bytes, then a PKG-INFO nobody should reach."""
    yield tar_header("././@LongLink", size, typeflag)
    yield Zeros(size)
    yield pad(size)
    yield PKG_INFO_MEMBER + END


def zeros_first(size: int) -> Iterator[bytes | Zeros]:
    """A normal member of ``size`` zeros before the PKG-INFO: a time bomb for a stream reader."""
    yield tar_header("evil-1.0/zeros.bin", size)
    yield Zeros(size)
    yield pad(size)
    yield PKG_INFO_MEMBER + END


class Clock:
    """A clock the tests move on (``clock.now += 301``), for the code that takes one."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now
