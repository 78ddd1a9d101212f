"""The project manifest: what the reindexer writes and the api reads, in one place.

One manifest per project, stored gzipped at ``.serverless-pypi/projects/<name>.json``.
Everything about its shape is here: the typed entry, encoding, decoding with
validation, the schema version, and the one view of a file that both page
renderings draw from (warehouse's pattern: one per-file dict that the JSON
page serialises and the HTML page renders)::

    {"schema": 1, "name": "my-pkg", "folders": ["my-pkg"],
     "files": [{"filename": "my_pkg-1.0-py3-none-any.whl",
                "key": "my-pkg/my_pkg-1.0-py3-none-any.whl",
                "version": "1.0", "size": 1234, "etag": "\\"...\\"",
                "sha256": "<hex>",               # missing only when the file was too
                                                 # large to read within the budget
                "upload-time": "2026-01-02T03:04:05.000000Z",
                "requires-python": ">=3.9",      # when the metadata says so
                "core-metadata": "<hex>",        # sha256 of the .metadata file
                "href": "my_pkg-1.0-py3-none-any.whl",  # its link, relative to the page
                "yanked": "reason" | true,       # when a .yanked marker exists
                "marker-etag": "\\"...\\"",      # that marker's ETag
                "problem": "why no metadata",    # at most 200 characters
                "time-budget": 2.0}],            # the reading time of the invocation
                                                 # that ran out of it: a longer one
                                                 # reads the file again
     "skipped": 2,             # files in the folders that are not the project's
     "pending": 3,             # files still being read (a checkpoint)
     "metadata-hashes": false} # only when the pages could not carry them all

Files are kept sorted by version (PEP 440), then filename.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, NotRequired, TypedDict, cast
from urllib.parse import quote

from .names import VersionKey, version_key

SCHEMA = 1
_GZIP_MAGIC = b"\x1f\x8b"

Entry = TypedDict(
    "Entry",
    {
        "filename": str,
        "key": str,
        "version": str,
        "size": int,
        "etag": str,
        "sha256": NotRequired[str],
        "upload-time": NotRequired[str],
        "requires-python": NotRequired[str],
        "core-metadata": NotRequired[str],
        "href": NotRequired[str],
        "yanked": NotRequired[str | bool],
        "marker-etag": NotRequired[str],
        "problem": NotRequired[str],
        "time-budget": NotRequired[float],
    },
)

Manifest = TypedDict(
    "Manifest",
    {
        "schema": int,
        "name": str,
        "folders": list[str],
        "files": list[Entry],
        "skipped": NotRequired[int],
        "pending": NotRequired[int],
        "metadata-hashes": NotRequired[bool],
    },
)

# How a page announces core metadata (PEP 658/714): with its hash, as available
# without one (pages that would not fit a Lambda response with every hash), or
# not at all (presigned links: "<link>.metadata" cannot work).
MetadataMode = Literal["hashes", "flags", "none"]
HASHES: MetadataMode = "hashes"
FLAGS: MetadataMode = "flags"
NONE: MetadataMode = "none"

# Turns a file entry into the URL of its link (relative_url, or a presigned URL).
LinkFor = Callable[[Entry], str]

# The PEP 691 shape of one file, which both renderings draw from.
FileView = TypedDict(
    "FileView",
    {
        "filename": str,
        "url": str,
        "hashes": dict[str, str],
        "requires-python": NotRequired[str],
        "core-metadata": NotRequired[dict[str, str] | bool],
        "yanked": NotRequired[str | bool],
        "size": int,
        "upload-time": NotRequired[str],
    },
)


def new(
    name: str, folders: list[str], files: Iterable[Entry], *, skipped: int = 0, pending: int = 0
) -> Manifest:
    """The manifest of ``files``, which it keeps sorted by version, then filename."""
    manifest: Manifest = {
        "schema": SCHEMA,
        "name": name,
        "folders": folders,
        "files": sorted(files, key=_order),
    }
    if skipped:
        manifest["skipped"] = skipped
    if pending:
        manifest["pending"] = pending
    return manifest


def _order(entry: Entry) -> tuple[VersionKey, str]:
    return version_key(entry["version"]), entry["filename"]


def encode(manifest: Manifest) -> bytes:
    """A manifest as stored: compact JSON, gzipped (a third of the bytes to move)."""
    data = json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode()
    return gzip.compress(data, compresslevel=6, mtime=0)


def decode(body: bytes) -> Manifest | None:
    """The manifest stored in ``body`` (gzipped or not), None when it is not one."""
    try:
        value = json.loads(gzip.decompress(body) if body[:2] == _GZIP_MAGIC else body)
    except (ValueError, OSError, EOFError):
        return None
    return validate(value)


def validate(value: Any) -> Manifest | None:
    """``value`` as a manifest of this schema, None when it is not one."""
    if not isinstance(value, dict) or value.get("schema") != SCHEMA:
        return None
    if not isinstance(value.get("name"), str):
        return None
    files, folders = value.get("files"), value.get("folders")
    if not isinstance(files, list) or not isinstance(folders, list):
        return None
    if not all(_valid_entry(entry) for entry in files):
        return None
    return cast(Manifest, value)


def _valid_entry(entry: Any) -> bool:
    # Spelled out rather than looped over a table: the api checks every entry of a
    # page on each request, and this is a third of the loop's cost.
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("filename"), str)
        and isinstance(entry.get("key"), str)
        and isinstance(entry.get("version"), str)
        and isinstance(entry.get("size"), int)
        and isinstance(entry.get("etag"), str)
    )


def relative_url(project: str, entry: Mapping[str, Any]) -> str:
    """The link of a file, relative to its project page.

    A file in the folder named like the project is ``<filename>``; one in a
    folder spelled another way (``Other.Pkg/``) is ``<folder>/<filename>``.
    The indexer stores it with the entry (``href``); this derives it otherwise.
    """
    href = entry.get("href")
    if href:
        return str(href)
    key: str = entry["key"]
    prefix = project + "/"
    path = key[len(prefix) :] if key.startswith(prefix) else key
    return quote(path, safe="/")


def metadata_mode(manifest: Manifest, presigned: bool) -> MetadataMode:
    if presigned:
        return NONE
    return FLAGS if manifest.get("metadata-hashes") is False else HASHES


def file_view(entry: Entry, link: LinkFor, metadata: MetadataMode) -> FileView:
    """One file as PEP 691 shows it. Keys whose value would be false (no metadata,
    not yanked) are left out, as PEP 691 allows: it keeps large pages small."""
    digest = entry.get("sha256")
    # Built in the order PEP 691 lists the keys (pages are compared byte for byte).
    view: dict[str, Any] = {
        "filename": entry["filename"],
        "url": link(entry),
        "hashes": {"sha256": digest} if digest else {},
    }
    requires_python = entry.get("requires-python")
    if requires_python:
        view["requires-python"] = requires_python
    metadata_hash = entry.get("core-metadata")
    if metadata_hash and metadata != NONE:
        view["core-metadata"] = {"sha256": metadata_hash} if metadata == HASHES else True
    yanked = entry.get("yanked")
    if yanked:
        view["yanked"] = yanked
    view["size"] = entry["size"]
    upload_time = entry.get("upload-time")
    if upload_time:
        view["upload-time"] = upload_time
    return cast(FileView, view)
