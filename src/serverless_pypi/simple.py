"""The two renderings of the index (PEP 503 HTML, PEP 691 JSON), as pure functions.

The reindexer renders a project's pages with redirect links when it writes its
manifest (``manifest.py``), and stores them with it; the api renders them
itself only for presigned links or a manifest stored without them. Both
renderings draw from one view of each file (``manifest.file_view``, the PEP 691
shape): the JSON page serialises it, the HTML page renders its values as
attributes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from html import escape
from urllib.parse import quote

from .manifest import (
    HASHES,
    FileView,
    LinkFor,
    Manifest,
    MetadataMode,
    Status,
    file_view,
    metadata_mode,
    offered,
    project_status,
    relative_url,
)

API_VERSION = "1.1"
# The version a project page with a status marker (PEP 792) announces: the markers
# came with API 1.4. Other pages keep 1.1: they use nothing newer (PEP 700).
STATUS_API_VERSION = "1.4"
# Part of every page ETag and of the pages stored with a manifest: bump it when
# a rendering changes, and the api renders per request until the reindexer has
# stored the new pages.
RENDER_VERSION = "3"  # 2: yank reasons cleaned (manifest.yank_reason); 3: PEP 792 status


_UNSAFE = re.compile("[&<>\"']")


def _escape(value: str) -> str:
    """``html.escape``, skipped for the usual value that has nothing to escape."""
    return escape(value) if _UNSAFE.search(value) else value


def _head(title: str, status: Status | None = None) -> str:
    version, markers = API_VERSION, ""
    if status is not None:
        version = STATUS_API_VERSION
        markers = f'<meta name="pypi:project-status" content="{_escape(status["status"])}">\n'
        if "reason" in status:
            markers += (
                f'<meta name="pypi:project-status-reason" content="{_escape(status["reason"])}">\n'
            )
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta name="pypi:repository-version" content="{version}">\n{markers}'
        f"<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n"
    )


_TAIL = "</body>\n</html>\n"


def project_html(manifest: Manifest, link: LinkFor, metadata: MetadataMode = HASHES) -> str:
    """The PEP 503 page of one project (with PEP 592, 658, 714 attributes, and
    PEP 792's status markers; a quarantined project's page lists no file)."""
    name = _escape(manifest["name"])
    parts = [_head(f"Links for {name}", project_status(manifest.get("status")))]
    append = parts.append
    requires: dict[str, str] = {}  # the same few values come again and again
    for entry in offered(manifest):
        append(_anchor(file_view(entry, link, metadata), requires))
    append(_TAIL)
    return "".join(parts)


def _anchor(view: FileView, requires: dict[str, str]) -> str:
    attributes = ""
    requires_python = view.get("requires-python")
    if requires_python:
        attribute = requires.get(requires_python)
        if attribute is None:
            attribute = f' data-requires-python="{escape(requires_python)}"'
            requires[requires_python] = attribute
        attributes = attribute
    core_metadata = view.get("core-metadata")
    if core_metadata:
        value = f"sha256={core_metadata['sha256']}" if isinstance(core_metadata, dict) else "true"
        attributes += f' data-dist-info-metadata="{value}" data-core-metadata="{value}"'
    yanked = view.get("yanked")
    if yanked:
        reason = yanked if isinstance(yanked, str) else ""
        attributes += f' data-yanked="{_escape(reason)}"'
    digest = view["hashes"].get("sha256")
    fragment = f"#sha256={digest}" if digest else ""
    href = _escape(view["url"])
    return f'<a href="{href}{fragment}"{attributes}>{_escape(view["filename"])}</a><br>\n'


def project_json(manifest: Manifest, link: LinkFor, metadata: MetadataMode = HASHES) -> str:
    """The PEP 691 page of one project (with PEP 592, 700, 714 keys, and PEP 792's
    ``project-status``; a quarantined project's page lists no file). Only the PEP 714
    name ``core-metadata``: ``dist-info-metadata`` in JSON makes pip 22.3 to 23.1 fail."""
    status = project_status(manifest.get("status"))
    files = offered(manifest)
    page: dict[str, object] = {
        "meta": {"api-version": STATUS_API_VERSION if status else API_VERSION},
        "name": manifest["name"],
    }
    if status is not None:
        page["project-status"] = status
    page["versions"] = list(dict.fromkeys(entry["version"] for entry in files))
    page["files"] = [file_view(entry, link, metadata) for entry in files]
    return json.dumps(page, separators=(",", ":"), ensure_ascii=False)


def redirect_pages(manifest: Manifest) -> tuple[str, str]:
    """The project's HTML and JSON pages with redirect links (relative to the page),
    announcing metadata as the manifest says: what the reindexer stores."""
    link = functools.partial(relative_url, manifest["name"])
    mode = metadata_mode(manifest, presigned=False)
    return project_html(manifest, link, mode), project_json(manifest, link, mode)


def versions(manifest: Manifest) -> list[str]:
    """The distinct versions of the files, in the order the files come in."""
    return list(dict.fromkeys(entry["version"] for entry in manifest["files"]))


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
