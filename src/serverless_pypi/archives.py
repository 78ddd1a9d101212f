"""Read one member out of an uploaded archive within a fixed budget.

Uploads are hostile input: a tar header can claim hundreds of megabytes, a
small gzip can inflate to gigabytes and a zip can list millions of entries.
``tarfile`` and ``zipfile`` trust those numbers, so these readers parse the
formats by hand and check every size against :class:`Limits` before acting
on it. Memory stays at a few buffers whatever the bytes; time is bounded by
the unpacked-size and wall-clock budgets, checked at every chunk.
"""

from __future__ import annotations

import io
import itertools
import re
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import IO, Protocol


class MetadataError(ValueError):
    """The distribution has no usable core metadata."""


class OverBudget(MetadataError):
    """Reading the archive would take more memory or time than allowed."""


class OverTime(OverBudget):
    """Reading the archive took longer than its ``Limits.seconds``."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What one file's inspection may spend."""

    seconds: float = 10.0  # wall time for the extraction of one file
    unpacked: int = 1 << 30  # bytes decompressed before giving up
    header: int = 64 * 1024  # largest tar long-name / pax header body
    members: int = 100_000  # tar headers or zip central-directory entries scanned
    central_directory: int = 64 << 20  # largest zip central directory, in bytes

    def within(self, seconds: float, least: float) -> Limits:
        """These limits with at most ``seconds`` (and at least ``least``) of extraction:
        what an invocation with that much time left can give a file."""
        return replace(self, seconds=max(least, min(self.seconds, seconds)))


class Budget:
    """The running account of one extraction against its :class:`Limits`.

    The clock is injectable so the time limit can be tested without sleeping.
    """

    def __init__(
        self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._deadline = clock() + self.limits.seconds
        self.unpacked = 0
        self.members = 0

    def check(self) -> None:
        """Give up once the deadline has passed."""
        if self._clock() > self._deadline:
            raise OverTime(f"over the {self.limits.seconds:.3g} s inspection budget")

    def unpack(self, size: int) -> None:
        """Account for ``size`` more decompressed bytes."""
        self.unpacked += size
        if self.unpacked > self.limits.unpacked:
            raise OverBudget(f"over the {_amount(self.limits.unpacked)} unpacked-size budget")
        self.check()

    def member(self) -> None:
        """Account for one more archive member (tar header or zip entry)."""
        self.members += 1
        if self.members > self.limits.members:
            raise OverBudget(f"over the {self.limits.members} archive-member budget")


def _amount(size: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} bytes"


# -- decompression ----------------------------------------------------------

_INPUT = 64 * 1024  # compressed bytes read at a time
_OUTPUT = 256 * 1024  # most decompressed bytes produced by one call
# Decompressed ahead of a read: enough for a run of headers and a small member,
# little enough that a PKG-INFO at the start costs no more than tarfile's reading.
_READ_AHEAD = 16 * 1024


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class _Inflate:
    """zlib with the interface of bz2/lzma: unconsumed input is kept inside."""

    def __init__(self, wbits: int) -> None:
        self._zlib = zlib.decompressobj(wbits)

    @property
    def eof(self) -> bool:
        return self._zlib.eof

    @property
    def needs_input(self) -> bool:
        return not self._zlib.unconsumed_tail

    @property
    def unused_data(self) -> bytes:
        return self._zlib.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if max_length < 1:  # zlib reads 0 as "no limit"
            raise ValueError("a positive max_length is required")
        tail = self._zlib.unconsumed_tail
        try:
            return self._zlib.decompress(tail + data if tail else data, max_length)
        except zlib.error as error:
            raise MetadataError("corrupt deflate data") from error


class _Gunzip:
    """The decompressed bytes of a (multi-member) gzip stream, read in order."""

    def __init__(self, stream: IO[bytes], budget: Budget) -> None:
        self._stream = stream
        self._budget = budget
        self._inflate = _Inflate(31)
        self._input = b""  # compressed bytes not yet given to the decompressor
        self._out = b""
        self._at = 0

    def _fill(self, most: int) -> bool:
        """Replace the buffer with up to ``most`` new bytes; False at the end of the stream."""
        while True:
            self._budget.check()
            if self._inflate.eof:
                rest = self._inflate.unused_data or self._input or self._stream.read(_INPUT)
                if not rest:
                    return False
                self._inflate = _Inflate(31)  # the next member of a concatenated gzip
                self._input = rest
                continue
            if self._inflate.needs_input:
                data = self._input or self._stream.read(_INPUT)
                self._input = b""
            else:
                data = b""
            out = self._inflate.decompress(data, most)
            if out:
                self._budget.unpack(len(out))
                self._out, self._at = out, 0
                return True
            if not data and self._inflate.needs_input and not self._inflate.eof:
                raise MetadataError("truncated gzip stream")

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; fewer only at the end of the stream."""
        parts = []
        while size:
            if self._at == len(self._out) and not self._fill(max(size, _READ_AHEAD)):
                break
            part = self._out[self._at : self._at + size]
            self._at += len(part)
            size -= len(part)
            parts.append(part)
        return b"".join(parts)

    def skip(self, size: int) -> None:
        """Decompress and discard ``size`` bytes."""
        buffered = min(size, len(self._out) - self._at)
        self._at += buffered
        size -= buffered
        while size:
            if not self._fill(min(size, _OUTPUT)):
                raise MetadataError("truncated tar archive")
            size -= len(self._out)
            self._at = len(self._out)


# -- tar --------------------------------------------------------------------

_BLOCK = 512
_ZERO_BLOCK = bytes(_BLOCK)
_REGULAR = (b"0", b"\0", b"7")
_NO_DATA = (b"1", b"2", b"3", b"4", b"5", b"6")  # links, devices, directories, fifos
_GNU_TYPES = (b"L", b"K", b"S")
_PAX_RECORD = re.compile(rb"(\d{1,18}) ([^=]+)=")  # a record is never 1 EB long
_CHECKSUMS = (struct.Struct("148B8x356B"), struct.Struct("148b8x356b"))


@dataclass(frozen=True, slots=True)
class _TarHeader:
    name: str
    size: int
    typeflag: bytes


def read_tar_gz(
    stream: IO[bytes], wanted: Callable[[str], bool], most: int, budget: Budget
) -> bytes | None:
    """The first regular file of a ``.tar.gz`` whose name is ``wanted``, or None.

    ``stream`` is read once, forward only, so it can be a network stream
    that is hashed as it goes. A wanted member over ``most`` bytes is an error.
    """
    source = _Gunzip(stream, budget)
    long_name: str | None = None
    pax: dict[str, str] = {}
    zero_blocks = 0
    while True:
        block = source.read(_BLOCK)
        if not block:
            return None  # tarfile accepts an archive that lacks its end blocks
        if len(block) < _BLOCK:
            raise MetadataError("truncated tar archive")
        budget.member()
        if block == _ZERO_BLOCK:
            zero_blocks += 1
            if zero_blocks == 2:
                return None
            continue
        zero_blocks = 0
        header = _tar_header(block)
        size = header.size
        if header.typeflag == b"L":
            long_name = _decode(_nts(_header_body(source, size, budget)))
            continue
        if header.typeflag in (b"x", b"X"):
            pax.update(_pax_records(_header_body(source, size, budget)))
            continue
        if header.typeflag in (b"K", b"g"):
            _header_body(source, size, budget)
            continue
        name = pax.get("path") or long_name or header.name
        if "size" in pax:
            size = _pax_size(pax["size"])
        long_name, pax = None, {}
        if header.typeflag == b"S" and block[482]:
            _skip_sparse_extensions(source, budget)
        if header.typeflag in _NO_DATA or (header.typeflag == b"\0" and name.endswith("/")):
            continue
        if header.typeflag in _REGULAR and wanted(name):
            if size > most:
                raise MetadataError(f"the metadata file is {size} bytes (limit {most})")
            data = source.read(size)
            if len(data) < size:
                raise MetadataError("truncated tar archive")
            return data
        source.skip(_padded(size))


def _tar_header(block: bytes) -> _TarHeader:
    """The fields we use from a 512-byte ustar, GNU or v7 header."""
    stored = _number(block[148:156])
    if stored not in (256 + sum(layout.unpack(block)) for layout in _CHECKSUMS):
        raise MetadataError("bad tar header checksum")
    typeflag = block[156:157]
    name = _decode(_nts(block[0:100]))
    prefix = _decode(_nts(block[345:500]))
    if prefix and typeflag not in _GNU_TYPES:  # as tarfile: the ustar prefix field
        name = f"{prefix}/{name}"
    size = _number(block[124:136])
    if size < 0:
        raise MetadataError("negative tar member size")
    return _TarHeader(name, size, typeflag)


def _number(field: bytes) -> int:
    """An octal number field, or GNU base-256 when the first byte says so."""
    if field[0] in (0o200, 0o377):
        value = int.from_bytes(field[1:], "big")
        return value - (256 ** (len(field) - 1)) if field[0] == 0o377 else value
    digits = _nts(field).strip(b" ")
    try:
        return int(digits or b"0", 8)
    except ValueError as error:
        raise MetadataError("invalid tar header") from error


def _nts(field: bytes) -> bytes:
    end = field.find(b"\0")
    return field if end < 0 else field[:end]


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _padded(size: int) -> int:
    return size + (-size % _BLOCK)


def _header_body(source: _Gunzip, size: int, budget: Budget) -> bytes:
    """The body of a long-name or pax header, refused before reading when too big."""
    if size > budget.limits.header:
        raise OverBudget(f"tar header of {size} bytes (limit {budget.limits.header})")
    body = source.read(_padded(size))
    if len(body) < _padded(size):
        raise MetadataError("truncated tar archive")
    return body[:size]


def _pax_records(body: bytes) -> dict[str, str]:
    """The ``path`` and ``size`` records of a pax extended header."""
    records: dict[str, str] = {}
    at = 0
    while match := _PAX_RECORD.match(body, at):
        length = int(match.group(1))
        end = match.start(1) + length
        if length == 0 or end <= match.end() or end > len(body) or body[end - 1] != 0x0A:
            raise MetadataError("invalid pax header")
        keyword = match.group(2)
        if keyword in (b"path", b"size"):
            records[keyword.decode("ascii")] = _decode(body[match.end() : end - 1])
        at = end
    return records


def _pax_size(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 20:
        raise MetadataError("invalid pax size")
    return int(value)


def _skip_sparse_extensions(source: _Gunzip, budget: Budget) -> None:
    """Old GNU sparse members may be followed by extension headers."""
    while True:
        budget.member()
        block = source.read(_BLOCK)
        if len(block) < _BLOCK:
            raise MetadataError("truncated tar archive")
        if not block[504]:
            return


# -- zip --------------------------------------------------------------------

_EOCD = struct.Struct("<4s4H2IH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQ2H2I4Q")
_CENTRAL = struct.Struct("<4s6H3I5HII")
_LOCAL = struct.Struct("<4s5H3I2H")
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_WINDOW = 1024 * 1024  # central directory bytes read at a time
_MAX_COMMENT = 0xFFFF
_UTF8_FLAG = 0x800


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """A central-directory entry, with its local header offset made absolute."""

    name: str
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    offset: int


@dataclass(frozen=True, slots=True)
class _Directory:
    start: int
    size: int
    base: int  # bytes prepended to the archive (self-extractors): added to every offset


def zip_entries(
    file: IO[bytes], wanted: Callable[[str], bool], budget: Budget
) -> Iterator[ZipEntry]:
    """The central-directory entries whose name is ``wanted``, in order.

    The directory is read in windows and only wanted entries become objects,
    so a directory of millions of entries costs a window of memory.
    """
    directory = _find_directory(file, budget)
    end = directory.start + directory.size
    position = directory.start  # where the next read starts
    buffer = b""
    at = 0
    while at < len(buffer) or position < end:
        if len(buffer) - at < _CENTRAL.size or not _has_entry(buffer, at):
            if position >= end:
                raise MetadataError("truncated zip central directory")
            budget.check()
            window = min(_WINDOW, end - position)
            buffer = buffer[at:] + _read_at(file, position, window)
            at = 0
            position += window
            continue
        budget.member()
        fields = _CENTRAL.unpack_from(buffer, at)
        name_length, extra_length, comment_length = fields[10:13]
        name_start = at + _CENTRAL.size
        raw_name = buffer[name_start : name_start + name_length]
        name = _zip_name(raw_name, fields[3])
        if wanted(name):
            extra = buffer[name_start + name_length : name_start + name_length + extra_length]
            yield _entry(name, fields, extra, directory.base)
        at = name_start + name_length + extra_length + comment_length


def _has_entry(buffer: bytes, at: int) -> bool:
    """Whether a whole central-directory entry starts at ``at``."""
    if buffer[at : at + 4] != _CENTRAL_SIGNATURE:
        raise MetadataError("bad zip central directory entry")
    lengths: tuple[int, int, int] = struct.unpack_from("<3H", buffer, at + 28)
    return at + _CENTRAL.size + sum(lengths) <= len(buffer)


def _zip_name(raw: bytes, flags: int) -> str:
    raw = _nts(raw)  # as zipfile: a name stops at its first NUL
    return raw.decode("utf-8", "surrogateescape") if flags & _UTF8_FLAG else raw.decode("cp437")


def _entry(name: str, fields: tuple[int, ...], extra: bytes, base: int) -> ZipEntry:
    flags, method, _, _, crc, compressed, size = fields[3:10]
    offset = fields[16]
    if 0xFFFFFFFF in (compressed, size, offset):
        size, compressed, offset = _zip64_extra(extra, size, compressed, offset)
    return ZipEntry(name, flags, method, crc, compressed, size, base + offset)


def _zip64_extra(extra: bytes, size: int, compressed: int, offset: int) -> tuple[int, int, int]:
    """The sizes and offset an entry keeps in its zip64 extra field."""
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, at)
        body = extra[at + 4 : at + 4 + length]
        at += 4 + length
        if kind != 1:
            continue
        values = [value for (value,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
        fields = [size, compressed, offset]
        for index, field in enumerate(fields):
            if field == 0xFFFFFFFF:
                if not values:
                    raise MetadataError("short zip64 extra field")
                fields[index] = values.pop(0)
        return fields[0], fields[1], fields[2]
    raise MetadataError("missing zip64 extra field")


def _find_directory(file: IO[bytes], budget: Budget) -> _Directory:
    """Locate the central directory from the (zip64) end record, checking its size."""
    file_size = file.seek(0, io.SEEK_END)
    tail_start = max(0, file_size - _EOCD.size - _MAX_COMMENT)
    tail = _read_at(file, tail_start, file_size - tail_start)
    found = _end_record(tail)
    eocd_at = tail_start + found
    _, _, _, _, count, size, offset, _ = _EOCD.unpack_from(tail, found)
    record_at = eocd_at  # the record that follows the central directory
    locator_at = found - _ZIP64_LOCATOR.size
    if locator_at >= 0 and tail[locator_at : locator_at + 4] == b"PK\x06\x07":
        record_at = eocd_at - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
        if record_at < 0:
            raise MetadataError("bad zip64 end record")
        record = _read_at(file, record_at, _ZIP64_EOCD.size)
        signature, *_, count, size, offset = _ZIP64_EOCD.unpack(record)
        if signature != b"PK\x06\x06":
            raise MetadataError("bad zip64 end record")
    if size > budget.limits.central_directory:
        raise OverBudget(
            f"zip central directory of {size} bytes (limit {budget.limits.central_directory})"
        )
    if count > budget.limits.members:
        raise OverBudget(f"zip of {count} entries (limit {budget.limits.members})")
    base = record_at - size - offset  # as zipfile: data prepended to the archive
    if base < 0:
        raise MetadataError("bad zip central directory offset")
    return _Directory(base + offset, size, base)


def _end_record(tail: bytes) -> int:
    """Where the end record starts: the last one whose comment ends the file, else the last one.

    A comment may itself hold the record's signature; zipfile takes the last.
    """
    last = found = tail.rfind(b"PK\x05\x06")
    while found >= 0:
        comment_at = found + _EOCD.size
        if comment_at <= len(tail) and comment_at + _comment_length(tail, found) == len(tail):
            return found
        found = tail.rfind(b"PK\x05\x06", 0, found)
    if last < 0 or last + _EOCD.size > len(tail):
        raise MetadataError("not a zip file")
    return last


def _comment_length(tail: bytes, found: int) -> int:
    (length,) = struct.unpack_from("<H", tail, found + _EOCD.size - 2)
    return int(length)


def _read_at(file: IO[bytes], offset: int, size: int) -> bytes:
    """Exactly ``size`` bytes at ``offset``."""
    try:
        file.seek(offset)
    except OverflowError as error:  # a zip64 offset past any real file
        raise MetadataError("bad zip offset") from error
    parts = []
    while size:
        part = file.read(size)
        if not part:
            raise MetadataError("truncated zip file")
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def read_zip_member(file: IO[bytes], entry: ZipEntry, most: int, budget: Budget) -> bytes:
    """The bytes of one member, refused when it is or inflates over ``most`` bytes."""
    if entry.flags & 1:
        raise MetadataError("the metadata file is encrypted")
    if entry.size > most:
        raise MetadataError(f"the metadata file is {entry.size} bytes (limit {most})")
    if entry.compressed_size > 2 * most + _INPUT:  # no method expands data that much
        raise MetadataError(f"the metadata file is {entry.compressed_size} bytes compressed")
    local = _read_at(file, entry.offset, _LOCAL.size)
    signature, *_, name_length, extra_length = _LOCAL.unpack(local)
    if signature != b"PK\x03\x04":
        raise MetadataError("bad zip local file header")
    name = _read_at(file, entry.offset + _LOCAL.size, name_length)
    if _zip_name(name, entry.flags) != entry.name:
        raise MetadataError("zip local file header names another file")
    start = entry.offset + _LOCAL.size + name_length + extra_length
    chunks = _chunks(file, start, entry.compressed_size, budget)
    if entry.method == 0:
        if entry.compressed_size != entry.size:
            raise MetadataError("stored zip member sizes differ")
        data = b"".join(chunks)
        budget.unpack(len(data))
    else:
        decompressor, chunks = _decompressor(entry.method, chunks, entry.size)
        data = _decompress(chunks, decompressor, entry.size, budget)
    if len(data) != entry.size or zlib.crc32(data) != entry.crc:
        raise MetadataError("zip member does not match its directory entry")
    return data


def _chunks(file: IO[bytes], start: int, size: int, budget: Budget) -> Iterator[bytes]:
    """The member's compressed bytes, a chunk at a time, read only as needed."""
    position, end = start, start + size
    while position < end:
        budget.check()
        chunk = _read_at(file, position, min(_INPUT, end - position))
        position += len(chunk)
        yield chunk


def _decompressor(
    method: int, chunks: Iterator[bytes], size: int
) -> tuple[_Decompressor, Iterator[bytes]]:
    """The decompressor for a zip method, and the compressed bytes it is to be fed."""
    if method == 8:
        return _Inflate(-15), chunks
    if method == 12:
        import bz2

        return _Guarded(bz2.BZ2Decompressor(), (OSError, EOFError, ValueError)), chunks
    if method == 14:
        return _lzma(chunks, size)
    raise MetadataError(f"unsupported zip compression method {method}")


def _lzma(chunks: Iterator[bytes], size: int) -> tuple[_Decompressor, Iterator[bytes]]:
    """Zip's LZMA: a small header with the LZMA1 properties, then a raw stream.

    The declared dictionary is allocated up front, so it is cut to the member's
    size: no back-reference can reach further than what was decompressed.
    """
    import lzma

    first = next(chunks, b"")
    (properties_size,) = struct.unpack_from("<H", first.ljust(4, b"\0"), 2)
    properties = first[4 : 4 + properties_size]
    if properties_size != 5 or len(properties) != 5 or properties[0] >= 9 * 5 * 5:
        raise MetadataError("bad lzma zip member header")
    lc_lp_pb, dict_size = properties[0], int.from_bytes(properties[1:], "little")
    lzma1 = {
        "id": lzma.FILTER_LZMA1,
        "lc": lc_lp_pb % 9,
        "lp": lc_lp_pb // 9 % 5,
        "pb": lc_lp_pb // 45,
        "dict_size": max(4096, min(dict_size, size)),
    }
    try:
        decompressor = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[lzma1])
    except (lzma.LZMAError, ValueError) as error:
        raise MetadataError("bad lzma zip member header") from error
    errors = (lzma.LZMAError, EOFError, ValueError)
    return _Guarded(decompressor, errors), itertools.chain([first[4 + properties_size :]], chunks)


class _Guarded:
    """A bz2 or lzma decompressor whose errors on corrupt data are MetadataErrors."""

    def __init__(self, inner: _Decompressor, errors: tuple[type[Exception], ...]) -> None:
        self._inner = inner
        self._errors = errors

    @property
    def eof(self) -> bool:
        return self._inner.eof

    @property
    def needs_input(self) -> bool:
        return self._inner.needs_input

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        try:
            return self._inner.decompress(data, max_length)
        except self._errors as error:
            raise MetadataError("corrupt compressed zip member") from error


def _decompress(
    chunks: Iterator[bytes], decompressor: _Decompressor, size: int, budget: Budget
) -> bytes:
    """Decompress to the end of the stream, never producing more than ``size + 1`` bytes."""
    out = bytearray()
    # The final b"" drains what the decompressor still holds once the input is all in.
    for chunk in itertools.chain(chunks, [b""]):
        data = chunk
        while True:
            piece = decompressor.decompress(data, size + 1 - len(out))
            out += piece
            budget.unpack(len(piece))
            if len(out) > size:
                raise MetadataError("zip member inflates over its declared size")
            if decompressor.eof:
                return bytes(out)
            if decompressor.needs_input and (data or not piece):
                break
            data = b""
    raise MetadataError("truncated compressed zip member")
