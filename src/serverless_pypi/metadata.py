"""Core metadata: finding it inside distributions and reading the fields we use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import IO

from .archives import Budget, MetadataError, read_tar_gz, read_zip_member, zip_entries
from .names import SDIST_SUFFIXES, WHEEL_SUFFIX, normalize

__all__ = [
    "MAX_FIELD_LENGTH",
    "MAX_METADATA_BYTES",
    "CoreMetadata",
    "MetadataError",
    "from_distribution",
    "from_sdist_tar",
    "from_sdist_zip",
    "from_wheel",
    "parse",
    "project_of",
]

# A METADATA bigger than this is broken or hostile; the file is indexed without it.
MAX_METADATA_BYTES = 4 * 1024 * 1024
# Longest Name, Version or Requires-Python: they end up in every page of the index.
MAX_FIELD_LENGTH = 1024

_DIST_INFO_METADATA = re.compile(r"^([^/]+)\.dist-info/METADATA\Z")
_PKG_INFO = re.compile(r"^[^/]+/PKG-INFO\Z")
# What a PEP 440 version specifier set can be made of.
_SPECIFIER_CHARACTERS = re.compile(r"[A-Za-z0-9 .*,!=<>~+_-]*")


def from_wheel(file: IO[bytes], project: str, budget: Budget | None = None) -> bytes:
    """The ``*.dist-info/METADATA`` of a wheel (PEP 427), from a seekable file.

    Some wheels carry a vendored project's dist-info: when there are several,
    the one named for ``project`` is taken. Only the first candidate and the
    project's own are kept, so a hostile directory costs no memory.
    """
    budget = budget or Budget()
    first = None
    count = 0
    own = []
    for entry in zip_entries(file, lambda name: bool(_DIST_INFO_METADATA.match(name)), budget):
        count += 1
        first = first or entry
        if normalize(entry.name.split("-", 1)[0]) == project:
            own.append(entry)
            if len(own) > 1:
                break
    chosen = first if count == 1 else own[0] if len(own) == 1 else None
    if chosen is None:
        raise MetadataError("no single .dist-info/METADATA in the wheel")
    return read_zip_member(file, chosen, MAX_METADATA_BYTES, budget)


def from_sdist_zip(file: IO[bytes], budget: Budget | None = None) -> bytes:
    """The top-level ``PKG-INFO`` of a zip sdist, from a seekable file."""
    budget = budget or Budget()
    for entry in zip_entries(file, lambda name: bool(_PKG_INFO.match(name)), budget):
        return read_zip_member(file, entry, MAX_METADATA_BYTES, budget)
    raise MetadataError("no PKG-INFO in the sdist")


def from_sdist_tar(stream: IO[bytes], budget: Budget | None = None) -> bytes:
    """The top-level ``PKG-INFO`` of a ``.tar.gz`` sdist, read as a forward-only stream."""
    budget = budget or Budget()
    found = read_tar_gz(
        stream, lambda name: bool(_PKG_INFO.match(name)), MAX_METADATA_BYTES, budget
    )
    if found is None:
        raise MetadataError("no PKG-INFO in the sdist")
    return found


def from_distribution(
    file: IO[bytes], filename: str, project: str, budget: Budget | None = None
) -> bytes:
    """The core metadata file of the distribution ``filename``, picked by its suffix.

    A wheel (``.whl``) gives its ``.dist-info/METADATA`` (``from_wheel``, which
    uses the normalized ``project`` to choose among vendored dist-infos); a
    ``.tar.gz`` sdist its ``PKG-INFO`` (``from_sdist_tar``: ``file`` is read
    forward only); a ``.zip`` sdist its ``PKG-INFO`` (``from_sdist_zip``). A
    wheel or a zip must be seekable. Raises MetadataError when there is no
    single metadata file, the archive is broken or ``budget`` runs out, and for
    any other suffix.
    """
    if filename.endswith(WHEEL_SUFFIX):
        return from_wheel(file, project, budget)
    if filename.endswith(".tar.gz"):
        return from_sdist_tar(file, budget)
    if filename.endswith(".zip"):
        return from_sdist_zip(file, budget)
    raise MetadataError("not a wheel or an sdist (.whl, .tar.gz or .zip)")


def project_of(path: Path) -> str | None:
    """The normalized project a distribution file on disk belongs to, None when
    it cannot tell: a wheel's from its filename, an sdist's from its
    ``PKG-INFO``, or from its filename (``legacy-name-1.0.tar.gz``) when that
    cannot be read."""
    name = path.name
    if name.endswith(WHEEL_SUFFIX):
        return normalize(name.split("-", 1)[0])
    if name.endswith(SDIST_SUFFIXES):
        try:
            with path.open("rb") as stream:
                # An sdist: no project is needed to pick its metadata.
                return normalize(parse(from_distribution(stream, name, "")).name)
        except Exception:  # noqa: BLE001 - an unreadable archive falls back to its name
            pass
    stem = name.removesuffix(".tar.gz").removesuffix(".zip")
    project, _, version = stem.rpartition("-")
    return normalize(project) if project and version[:1].isdigit() else None


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    metadata_version: str
    name: str
    version: str
    requires_python: str | None
    dynamic: frozenset[str]
    ignored: tuple[str, ...] = ()  # why a field was dropped: fixed texts, no uploaded bytes

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
    """The header fields of a METADATA / PKG-INFO file.

    Fields that go into every page of the index are bounded: an oversized
    Name or Version is an error, an unusable Requires-Python is dropped.
    """
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
    if len(name) > MAX_FIELD_LENGTH or len(version) > MAX_FIELD_LENGTH:
        raise MetadataError(f"the Name or Version is over {MAX_FIELD_LENGTH} characters")
    requires_python, ignored = _requires_python(_field(message.get("Requires-Python")))
    return CoreMetadata(
        metadata_version=_field(message.get("Metadata-Version")) or "1.0",
        name=name,
        version=version,
        requires_python=requires_python,
        dynamic=frozenset(_field(value).lower() for value in message.get_all("Dynamic") or []),
        ignored=ignored,
    )


def _requires_python(value: str) -> tuple[str | None, tuple[str, ...]]:
    """The Requires-Python to publish, or None and why it was dropped."""
    if not value:
        return None, ()
    if len(value) > MAX_FIELD_LENGTH:
        return None, (f"Requires-Python is over {MAX_FIELD_LENGTH} characters",)
    if not _SPECIFIER_CHARACTERS.fullmatch(value):
        return None, ("Requires-Python has characters no version specifier uses",)
    return value, ()


def _field(value: object) -> str:
    # Header values can be email.header.Header objects for odd encodings.
    return " ".join(str(value).split()) if value is not None else ""
