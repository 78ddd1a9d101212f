"""The project manifest: what the reindexer writes and the api reads, in one place.

One manifest per project, stored gzipped at ``.serverless-pypi/projects/<name>.json``.
Everything about its shape is here: the typed entry, encoding, decoding with
validation, the schema version, the object it is stored in (with the project's
pages, below), and the one view of a file that both page renderings draw from
(warehouse's pattern: one per-file dict that the JSON page serialises and the
HTML page renders)::

    {"schema": 1, "name": "my-pkg", "folders": ["my-pkg"],
     "files": [{"filename": "my_pkg-1.0-py3-none-any.whl",
                "key": "my-pkg/my_pkg-1.0-py3-none-any.whl",
                "version": "1.0", "size": 1234, "etag": "\\"...\\"",
                "sha256": "<hex>",               # missing only when the file was too
                                                 # large to read within the budget
                "upload-time": "2026-01-02T03:04:05.000000Z",
                "requires-python": ">=3.9",      # when the metadata says so
                "core-metadata": "<hex>",        # sha256 of the .metadata file
                "uploaded-by": "alice",          # the upload route's record of who
                                                 # sent it (x-amz-meta-uploaded-by),
                                                 # printable, at most 1024 characters
                "href": "my_pkg-1.0-py3-none-any.whl",  # its link, relative to the page
                "yanked": "reason" | true,       # when a .yanked marker exists (the
                                                 # reason as yank_reason keeps it)
                "marker-etag": "\\"...\\"",      # that marker's ETag
                "problem": "why no metadata",    # at most 200 characters
                "time-budget": 2.0}],            # the reading time of the invocation
                                                 # that ran out of it: a longer one
                                                 # reads the file again
     "skipped": 2,             # files in the folders that are not the project's
     "pending": 3,             # files still being read (a checkpoint)
     "metadata-hashes": false, # only when the pages could not carry them all
     "status": {"status": "archived", "reason": "..."},  # PEP 792; absent: active
     "details": {...}}         # the newest file's core metadata, for people (details.py)

A project's status (PEP 792) is set by the command line (``serverless-pypi
archive``, ``deprecate``, ``quarantine``, ``activate``) and carried over by every
writer of the manifest; a quarantined project's pages list no file, and its
stored object says so in its metadata (``x-amz-meta-status``), which the root
index, the file routes and the upload route read.

Files are kept sorted by version (PEP 440), then filename.

**The stored object.** The object holds up to three gzip members, one after the
other: the manifest, then the project's PEP 503 page and its PEP 691 page, each
gzipped exactly as the api sends it in redirect mode. Its metadata says where
they are (``x-amz-meta-pages: <render version> <manifest bytes> <html bytes>
<json bytes>``; a project without files has no pages). One conditional write
commits the manifest and its pages together: a page can never disagree with its
manifest, and deleting the manifest (to release a name) deletes its pages. The
api answers a page with one GET of this object and passes its page through; an
object without pages of its render version (written by an older release, or by
hand) is rendered per request, as are pages with presigned links.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NotRequired, TypedDict, cast
from urllib.parse import quote

from .details import Details
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
        "uploaded-by": NotRequired[str],
        "href": NotRequired[str],
        "yanked": NotRequired[str | bool],
        "marker-etag": NotRequired[str],
        "problem": NotRequired[str],
        "time-budget": NotRequired[float],
    },
)


# A project's status as PEP 792 shows it; ``reason`` only when one was given.
class Status(TypedDict):
    status: str
    reason: NotRequired[str]


ACTIVE, ARCHIVED, DEPRECATED, QUARANTINED = "active", "archived", "deprecated", "quarantined"
STATUSES = (ACTIVE, ARCHIVED, DEPRECATED, QUARANTINED)
MAX_STATUS_REASON = 500  # characters of a status reason kept

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
        "status": NotRequired[Status],
        # What the newest file's core metadata says, for the page for people
        # (``details.py``); the writer keeps it (``manifeststore.Writer``).
        "details": NotRequired[Details],
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
    name: str,
    folders: list[str],
    files: Iterable[Entry],
    *,
    skipped: int = 0,
    pending: int = 0,
    status: Status | None = None,
) -> Manifest:
    """The manifest of ``files``, which it keeps sorted by version, then filename;
    ``status`` (PEP 792) is kept unless it is none or active."""
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
    status = project_status(status)
    if status is not None:
        manifest["status"] = status
    return manifest


def status_reason(text: str) -> str:
    """A status reason as the index keeps and shows it: cleaned as a yank reason
    is (one line of printable text), at most MAX_STATUS_REASON characters."""
    return yank_reason(text)[:MAX_STATUS_REASON].rstrip()


def project_status(value: Any) -> Status | None:
    """``value`` (a manifest's ``status``, or what a status object holds) as the
    index serves it: a known status other than active, its reason cleaned and
    bounded; None for active, none or anything malformed."""
    if not isinstance(value, dict) or value.get("status") not in STATUSES:
        return None
    if value["status"] == ACTIVE:
        return None
    status: Status = {"status": value["status"]}
    reason = value.get("reason")
    if isinstance(reason, str) and status_reason(reason):
        status["reason"] = status_reason(reason)
    return status


def status_of(manifest: Manifest | None) -> str:
    """The project's status: ``active`` unless its manifest says otherwise."""
    found = project_status(manifest.get("status")) if manifest else None
    return found["status"] if found else ACTIVE


def offered(manifest: Manifest) -> list[Entry]:
    """The files a project's pages list: none when it is quarantined."""
    return [] if status_of(manifest) == QUARANTINED else manifest["files"]


def yank_reason(text: str) -> str:
    """A yank reason as the index keeps and shows it: one line of printable text.

    pip prints the reason to whoever installs the file: whitespace of any kind
    (tab, CR, LF, U+2028) becomes one space, and every other character that
    ``str.isprintable`` refuses is dropped:
    C0 controls (ESC, BEL, NUL), DEL, C1 controls (U+009B CSI), format characters
    (the bidi overrides and isolates U+202A-U+202E and U+2066-U+2069, zero-width
    characters), surrogates, private-use and unassigned code points. Letters of
    any script, symbols and U+FFFD (what undecodable bytes read as) stay.
    """
    line = " ".join(text.split())
    if line.isprintable():
        return line
    return " ".join("".join(char for char in line if char.isprintable()).split())


# Characters of an uploader kept: a trusted publisher's identity (issuer, repository,
# workflow, ref, commit) is a few hundred; S3 allows 2 KB of user metadata an object.
MAX_UPLOADER = 1024


def uploader(recorded: str | None) -> str | None:
    """Who uploaded a file as the index keeps it, from the object's metadata
    (``layout.UPLOADED_BY``): one printable line of at most MAX_UPLOADER
    characters (anyone who may write the bucket can set it), None when absent."""
    if recorded is None:
        return None
    return yank_reason(recorded)[:MAX_UPLOADER] or None


def upload_time(when: datetime) -> str:
    """PEP 700's ``upload-time``: ``yyyy-mm-ddThh:mm:ss.ffffffZ`` in UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _order(entry: Entry) -> tuple[VersionKey, str]:
    return version_key(entry["version"]), entry["filename"]


def encode(manifest: Manifest, stamp: int = 0) -> bytes:
    """A manifest as stored: compact JSON, gzipped (a third of the bytes to move).

    ``stamp`` goes into the gzip header's time field: the same manifest with
    another stamp is other bytes, so another ETag (a write that must be seen).
    """
    data = json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode()
    return gzip.compress(data, compresslevel=6, mtime=stamp)


def decode(body: bytes) -> Manifest | None:
    """The manifest stored in ``body`` (gzipped or not; of a stored object with
    pages, its first gzip member), None when it is not one."""
    try:
        value = json.loads(_first_member(body) if body[:2] == _GZIP_MAGIC else body)
    except (ValueError, OSError, EOFError, zlib.error):
        return None
    return validate(value)


def _first_member(body: bytes) -> bytes:
    """The data of the first gzip member of ``body``; what follows it is not read."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    data = inflater.decompress(body)
    if not inflater.eof:
        raise EOFError("the gzip member is truncated")
    return data


# -- the stored object: the manifest and its pages ---------------------------

PAGES = "pages"  # the stored object's metadata: where its pages are
FILES = "files"  # the stored object's metadata: how many files it lists (the root index's check)
STATUS = "status"  # the stored object's metadata: the project's status, when not active
Variant = Literal["html", "json"]


@dataclass(frozen=True, slots=True)
class Pages:
    """A project's two pages as the api sends them in redirect mode, each one gzip member."""

    html: bytes
    json: bytes


def pack(
    manifest: Manifest, pages: Pages | None, render: str, stamp: int = 0
) -> tuple[bytes, dict[str, str]]:
    """The stored object of ``manifest`` and its ``pages`` (rendered by ``render``,
    ``simple.RENDER_VERSION``; None for a project without files): body and metadata."""
    head = encode(manifest, stamp)
    html, json_ = (pages.html, pages.json) if pages else (b"", b"")
    return head + html + json_, {PAGES: f"{render} {len(head)} {len(html)} {len(json_)}"}


def stored_render(metadata: Mapping[str, str]) -> str | None:
    """The render version a stored object was written with (None: an older release)."""
    layout = _layout(metadata)
    return layout[0] if layout else None


def stored_status(metadata: Mapping[str, Any]) -> str:
    """The status a stored object's metadata tells (active when none)."""
    found = str(metadata.get(STATUS, ACTIVE))
    return found if found in STATUSES else ACTIVE


def stored_page(
    body: bytes, metadata: Mapping[str, str], variant: Variant, render: str
) -> bytes | None:
    """The gzipped ``variant`` page in a stored object, if it holds one of ``render``.

    Anything that does not add up (no or other layout, another render version,
    lengths that are not the body's, a slice that is not gzip) is None: the
    caller renders the page from the manifest instead.
    """
    layout = _layout(metadata)
    if layout is None or layout[0] != render:
        return None
    _, head, html, json_ = layout
    if head + html + json_ != len(body):
        return None
    start, length = (head, html) if variant == "html" else (head + html, json_)
    page = body[start : start + length]
    return page if length and page[:2] == _GZIP_MAGIC else None


def _layout(metadata: Mapping[str, str]) -> tuple[str, int, int, int] | None:
    """``(render version, manifest bytes, html bytes, json bytes)`` of a stored object."""
    fields = str(metadata.get(PAGES, "")).split()
    if len(fields) != 4 or not all(f.isascii() and f.isdigit() for f in fields[1:]):
        return None
    return fields[0], int(fields[1]), int(fields[2]), int(fields[3])


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
        # Cleaned here too: a manifest stored by an earlier release may hold a raw reason.
        view["yanked"] = (yank_reason(yanked) or True) if isinstance(yanked, str) else yanked
    view["size"] = entry["size"]
    upload_time = entry.get("upload-time")
    if upload_time:
        view["upload-time"] = upload_time
    return cast(FileView, view)
