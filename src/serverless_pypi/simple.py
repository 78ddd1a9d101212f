"""The index model and its two renderings (PEP 503 HTML, PEP 691 JSON).

The reindexer writes one *project manifest* per project; the api reads it
and renders the page the client negotiated. Everything here is pure.

A manifest (schema 1) is a JSON object::

    {"schema": 1, "name": "my-pkg", "folders": ["my-pkg"],
     "files": [{"filename": "my_pkg-1.0-py3-none-any.whl",
                "key": "my-pkg/my_pkg-1.0-py3-none-any.whl",
                "version": "1.0", "size": 1234, "etag": "\\"...\\"",
                "sha256": "<hex>", "upload-time": "2026-01-02T03:04:05.000000Z",
                "requires-python": ">=3.9",      # when the metadata says so
                "core-metadata": "<hex>",        # sha256 of the .metadata file
                "yanked": "reason" | true,       # when a .yanked marker exists
                "marker-etag": "\\"...\\""}]}      # that marker's ETag

Files are kept sorted by version (PEP 440), then filename.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

API_VERSION = "1.1"
SCHEMA = 1


Manifest = dict[str, Any]
Entry = Mapping[str, Any]
# Turns a file entry into the URL of its link (relative_url, or a presigned URL).
LinkFor = Callable[[Entry], str]


def relative_url(project: str, entry: Entry) -> str:
    """The link of a file, relative to its project page.

    A file in the folder named like the project is ``<filename>``; one in a
    folder spelled another way (``Other.Pkg/``) is ``<folder>/<filename>``.
    """
    key: str = entry["key"]
    prefix = project + "/"
    path = key[len(prefix) :] if key.startswith(prefix) else key
    return quote(path, safe="/")


def _yanked_attribute(entry: Entry) -> str:
    yanked = entry.get("yanked")
    if yanked is None or yanked is False:
        return ""
    reason = yanked if isinstance(yanked, str) else ""
    return f' data-yanked="{escape(reason)}"'


def _head(title: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n"
    )


_TAIL = "</body>\n</html>\n"


def project_html(manifest: Manifest, link: LinkFor, with_metadata: bool) -> str:
    """The PEP 503 page of one project (with PEP 592, 658, 714 attributes)."""
    name = escape(manifest["name"])
    parts = [_head(f"Links for {name}")]
    append = parts.append
    for entry in manifest["files"]:
        attributes = ""
        requires_python = entry.get("requires-python")
        if requires_python:
            attributes += f' data-requires-python="{escape(requires_python)}"'
        metadata_hash = entry.get("core-metadata")
        if with_metadata and metadata_hash:
            value = f"sha256={metadata_hash}"
            attributes += f' data-dist-info-metadata="{value}" data-core-metadata="{value}"'
        attributes += _yanked_attribute(entry)
        href = escape(f"{link(entry)}#sha256={entry['sha256']}")
        append(f'<a href="{href}"{attributes}>{escape(entry["filename"])}</a><br>\n')
    append(_TAIL)
    return "".join(parts)


def project_json(manifest: Manifest, link: LinkFor, with_metadata: bool) -> str:
    """The PEP 691 page of one project (with PEP 592, 700, 714 keys).

    Keys whose value would be false (no metadata, not yanked) are left out,
    as PEP 691 allows: it keeps large pages small.
    """
    files = []
    for entry in manifest["files"]:
        item: dict[str, Any] = {
            "filename": entry["filename"],
            "url": link(entry),
            "hashes": {"sha256": entry["sha256"]},
        }
        requires_python = entry.get("requires-python")
        if requires_python:
            item["requires-python"] = requires_python
        metadata_hash = entry.get("core-metadata")
        if with_metadata and metadata_hash:
            item["core-metadata"] = item["dist-info-metadata"] = {"sha256": metadata_hash}
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
