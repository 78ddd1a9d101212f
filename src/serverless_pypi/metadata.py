"""Core metadata: finding it inside distributions and reading the fields we use."""

from __future__ import annotations

import re
import tarfile
import zipfile
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import IO

from .names import normalize

# A METADATA bigger than this is broken or hostile; the file is indexed without it.
MAX_METADATA_BYTES = 4 * 1024 * 1024
_MAX_TAR_MEMBERS = 10_000  # PKG-INFO comes early in an sdist; give up after this many

_DIST_INFO_METADATA = re.compile(r"^([^/]+)\.dist-info/METADATA$")
_PKG_INFO = re.compile(r"^[^/]+/PKG-INFO$")


class MetadataError(ValueError):
    """The distribution has no usable core metadata."""


def from_wheel(archive: zipfile.ZipFile, project: str) -> bytes:
    """The ``*.dist-info/METADATA`` of a wheel (PEP 427)."""
    candidates = [info for info in archive.infolist() if _DIST_INFO_METADATA.match(info.filename)]
    if len(candidates) > 1:
        # Some wheels carry a vendored project's dist-info: take the project's own.
        candidates = [
            info for info in candidates if normalize(info.filename.split("-", 1)[0]) == project
        ]
    if len(candidates) != 1:
        raise MetadataError("no single .dist-info/METADATA in the wheel")
    return _read_member(archive, candidates[0])


def from_sdist_zip(archive: zipfile.ZipFile) -> bytes:
    """The top-level ``PKG-INFO`` of a zip sdist."""
    for info in archive.infolist():
        if _PKG_INFO.match(info.filename):
            return _read_member(archive, info)
    raise MetadataError("no PKG-INFO in the sdist")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_METADATA_BYTES:
        raise MetadataError(f"{info.filename} is {info.file_size} bytes")
    with archive.open(info) as member:
        data = member.read(MAX_METADATA_BYTES + 1)
    if len(data) > MAX_METADATA_BYTES:
        raise MetadataError(f"{info.filename} is over {MAX_METADATA_BYTES} bytes")
    return data


def from_sdist_tar(stream: IO[bytes]) -> bytes:
    """The top-level ``PKG-INFO`` of a ``.tar.gz`` sdist, read as a stream."""
    with tarfile.open(fileobj=stream, mode="r|gz") as archive:
        for count, member in enumerate(archive):
            if count >= _MAX_TAR_MEMBERS:
                break
            if member.isfile() and _PKG_INFO.match(member.name):
                if member.size > MAX_METADATA_BYTES:
                    raise MetadataError(f"{member.name} is {member.size} bytes")
                extracted = archive.extractfile(member)
                if extracted is None:
                    break
                return extracted.read()
    raise MetadataError("no PKG-INFO in the sdist")


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    metadata_version: str
    name: str
    version: str
    requires_python: str | None
    dynamic: frozenset[str]

    @property
    def reliable(self) -> bool:
        """Whether an sdist's PKG-INFO says what its built wheels will (PEP 643).

        Before metadata 2.2 any field may change at build time; from 2.2 on,
        only the fields the file lists as Dynamic may.
        """
        try:
            major, minor = (int(part) for part in self.metadata_version.split(".")[:2])
        except ValueError:
            return False
        if (major, minor) < (2, 2):
            return False
        return not self.dynamic & {"requires-dist", "requires-python", "provides-extra"}


def parse(data: bytes) -> CoreMetadata:
    """The header fields of a METADATA / PKG-INFO file."""
    if not data.strip():
        raise MetadataError("the metadata file is empty")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MetadataError("the metadata is not UTF-8") from error
    message = BytesHeaderParser(policy=compat32).parsebytes(data)
    name = _field(message.get("Name"))
    version = _field(message.get("Version"))
    if not name or not version:
        raise MetadataError("the metadata has no Name or Version")
    requires_python = _field(message.get("Requires-Python"))
    return CoreMetadata(
        metadata_version=_field(message.get("Metadata-Version")) or "1.0",
        name=name,
        version=version,
        requires_python=requires_python or None,
        dynamic=frozenset(_field(value).lower() for value in message.get_all("Dynamic") or []),
    )


def _field(value: object) -> str:
    # Header values can be email.header.Header objects for odd encodings.
    return " ".join(str(value).split()) if value is not None else ""
