"""The index model and its two renderings (PEP 503 HTML, PEP 691 JSON).

The reindexer writes one *project manifest* per project; the api reads it
and renders the page the client negotiated. Everything here is pure.

A manifest (schema 1) is a JSON object, stored gzipped::

    {"schema": 1, "name": "my-pkg", "folders": ["my-pkg"],
     "files": [{"filename": "my_pkg-1.0-py3-none-any.whl",
                "key": "my-pkg/my_pkg-1.0-py3-none-any.whl",
                "version": "1.0", "size": 1234, "etag": "\\"...\\"",
                "sha256": "<hex>", "upload-time": "2026-01-02T03:04:05.000000Z",
                "requires-python": ">=3.9",      # when the metadata says so
                "core-metadata": "<hex>",        # sha256 of the .metadata file
                "href": "my_pkg-1.0-py3-none-any.whl",  # its link, relative to the page
                "yanked": "reason" | true,       # when a .yanked marker exists
                "marker-etag": "\\"...\\"",      # that marker's ETag
                "problem": "why no metadata"}],  # when it has none (at most 200 chars)
     "skipped": 2,               # files in the folders that are not the project's
     "pending": 3,               # files still being read (a checkpoint)
     "metadata-hashes": false}   # only when the page could not carry them all

"sha256" is missing only for a file too large to read within the reindexer's
budget (see distfile): its link then carries no hash.

Files are kept sorted by version (PEP 440), then filename.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

API_VERSION = "1.1"
SCHEMA = 1
_GZIP_MAGIC = b"\x1f\x8b"


def encode_manifest(manifest: Manifest) -> bytes:
    """A manifest as stored: compact JSON, gzipped (a third of the bytes to move)."""
    data = json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode()
    return gzip.compress(data, compresslevel=6, mtime=0)


def decode_manifest(body: bytes) -> Any:
    """The JSON value of a stored manifest, gzipped or not."""
    return json.loads(gzip.decompress(body) if body[:2] == _GZIP_MAGIC else body)


Manifest = dict[str, Any]
Entry = Mapping[str, Any]
# Turns a file entry into the URL of its link (relative_url, or a presigned URL).
LinkFor = Callable[[Entry], str]


def relative_url(project: str, entry: Entry) -> str:
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


_UNSAFE = re.compile("[&<>\"']")


def _escape(value: str) -> str:
    """``html.escape``, skipped for the usual value that has nothing to escape."""
    return escape(value) if _UNSAFE.search(value) else value


def _yanked_attribute(entry: Entry) -> str:
    yanked = entry.get("yanked")
    if yanked is None or yanked is False:
        return ""
    reason = yanked if isinstance(yanked, str) else ""
    return f' data-yanked="{_escape(reason)}"'


def _head(title: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n"
    )


_TAIL = "</body>\n</html>\n"

# How a page announces core metadata (PEP 658/714): with its hash, as
# available without one (pages that would not fit a Lambda response with
# every hash), or not at all (presigned links: "<link>.metadata" cannot work).
HASHES, FLAGS, NONE = "hashes", "flags", "none"


def metadata_mode(manifest: Manifest, presigned: bool) -> str:
    if presigned:
        return NONE
    return FLAGS if manifest.get("metadata-hashes") is False else HASHES


def project_html(manifest: Manifest, link: LinkFor, metadata: str = HASHES) -> str:
    """The PEP 503 page of one project (with PEP 592, 658, 714 attributes)."""
    name = _escape(manifest["name"])
    parts = [_head(f"Links for {name}")]
    append = parts.append
    requires: dict[str, str] = {}  # the same few values come again and again
    for entry in manifest["files"]:
        attributes = ""
        requires_python = entry.get("requires-python")
        if requires_python:
            attribute = requires.get(requires_python)
            if attribute is None:
                attribute = f' data-requires-python="{escape(requires_python)}"'
                requires[requires_python] = attribute
            attributes = attribute
        metadata_hash = entry.get("core-metadata")
        if metadata_hash and metadata != NONE:
            value = f"sha256={metadata_hash}" if metadata == HASHES else "true"
            attributes += f' data-dist-info-metadata="{value}" data-core-metadata="{value}"'
        if "yanked" in entry:
            attributes += _yanked_attribute(entry)
        href = _escape(link(entry))
        filename = _escape(entry["filename"])
        digest = entry.get("sha256")
        fragment = f"#sha256={digest}" if digest else ""
        append(f'<a href="{href}{fragment}"{attributes}>{filename}</a><br>\n')
    append(_TAIL)
    return "".join(parts)


def project_json(manifest: Manifest, link: LinkFor, metadata: str = HASHES) -> str:
    """The PEP 691 page of one project (with PEP 592, 700, 714 keys).

    Keys whose value would be false (no metadata, not yanked) are left out,
    as PEP 691 allows: it keeps large pages small.
    """
    files = []
    for entry in manifest["files"]:
        item: dict[str, Any] = {
            "filename": entry["filename"],
            "url": link(entry),
            "hashes": {"sha256": entry["sha256"]} if entry.get("sha256") else {},
        }
        requires_python = entry.get("requires-python")
        if requires_python:
            item["requires-python"] = requires_python
        metadata_hash = entry.get("core-metadata")
        if metadata_hash and metadata != NONE:
            # Only the PEP 714 name: "dist-info-metadata" in JSON makes pip
            # 22.3 to 23.1 fail hard (the reason PEP 714 renamed it).
            item["core-metadata"] = {"sha256": metadata_hash} if metadata == HASHES else True
        yanked = entry.get("yanked")
        if yanked:
            item["yanked"] = yanked
        item["size"] = entry["size"]
        if entry.get("upload-time"):
            item["upload-time"] = entry["upload-time"]
        files.append(item)
    page = {
        "meta": {"api-version": API_VERSION},
        "name": manifest["name"],
        "versions": versions(manifest["files"]),
        "files": files,
    }
    return json.dumps(page, separators=(",", ":"), ensure_ascii=False)


def versions(files: Iterable[Entry]) -> list[str]:
    """The distinct versions of the files, in the order the files come in."""
    return list(dict.fromkeys(entry["version"] for entry in files))


def root_html(projects: Sequence[str]) -> str:
    """The PEP 503 list of all projects (the names are normalized)."""
    parts = [_head("Simple index")]
    parts.extend(f'<a href="{quote(name)}/">{escape(name)}</a><br>\n' for name in projects)
    parts.append(_TAIL)
    return "".join(parts)


def root_json(projects: Sequence[str]) -> str:
    page = {
        "meta": {"api-version": API_VERSION},
        "projects": [{"name": name} for name in projects],
    }
    return json.dumps(page, separators=(",", ":"), ensure_ascii=False)
