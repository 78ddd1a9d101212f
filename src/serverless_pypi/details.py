"""A project's details for people: what the core metadata of its latest file says
(summary, license, project URLs, classifiers, dependencies, long description).

The reindexer reads them from the ``.metadata`` file it wrote for the project's
newest file with one, when that file changes (``manifeststore.Writer``), and keeps
them in the manifest as ``details``, so that the project's page for people costs
the one GET of the manifest, whatever the number of files::

    "details": {"from": "acme-2.0-py3-none-any.whl", "version": "2.0",
                "summary": "...", "license": "MIT", "author": "...",
                "urls": [["Homepage", "https://..."]], "classifiers": [...],
                "requires-dist": [...], "description": "...",
                "description-type": "text/markdown"}

Every value is an uploader's text: bounded here, escaped where it is shown
(``webpage.py``). Pure functions; the I/O is the writer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.parser import BytesParser
from email.policy import compat32
from typing import Any, NotRequired, TypedDict, cast

from .names import is_prerelease, version_key

MAX_LINE = 300  # characters of a one-line field (summary, license, author, a URL's label)
MAX_URL = 2048
MAX_ITEMS = 100  # classifiers, dependencies, project URLs kept
MAX_DESCRIPTION = 64 * 1024  # characters of the long description kept (rendered per request)

Details = TypedDict(
    "Details",
    {
        "from": str,
        "version": str,
        "sha256": NotRequired[str],  # of the metadata file they were read from
        "summary": NotRequired[str],
        "license": NotRequired[str],
        "author": NotRequired[str],
        "urls": NotRequired[list[list[str]]],
        "classifiers": NotRequired[list[str]],
        "requires-dist": NotRequired[list[str]],
        "description": NotRequired[str],
        "description-type": NotRequired[str],
    },
)


def preferred(files: Sequence[Any]) -> list[Any]:
    """The files a project's latest version is chosen among (manifest entries): those
    not yanked, and of them the final releases; fewer only when there are none."""
    kept = [entry for entry in files if not entry.get("yanked")] or list(files)
    return [entry for entry in kept if not is_prerelease(entry["version"])] or kept


def newest(files: Sequence[Any]) -> Any | None:
    """The entry of the project's latest version (see ``preferred``), None without files."""
    kept = preferred(files)
    return max(kept, key=lambda entry: version_key(entry["version"])) if kept else None


def source(files: Sequence[Any]) -> Any | None:
    """The file whose metadata describes the project: of the latest version that has
    a file with core metadata (see ``preferred``), a wheel rather than an sdist.
    ``files`` are manifest entries."""
    kept = preferred([entry for entry in files if entry.get("core-metadata")])
    if not kept:
        return None
    return max(
        kept,
        key=lambda entry: (
            version_key(entry["version"]),
            entry["filename"].endswith(".whl"),
            entry["filename"],
        ),
    )


def _line(value: object, limit: int = MAX_LINE) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    return "".join(char for char in text if char.isprintable())[:limit]


def _description(message: Any) -> str:
    """The long description: the body (metadata 2.1 and later), else the
    ``Description`` field with its continuation lines' ``|`` (or 8 spaces) removed."""
    body = message.get_payload()
    if isinstance(body, str) and body.strip():
        return body.strip("\n")
    field = message.get("Description")
    if field is None:
        return ""
    lines = str(field).splitlines()
    cleaned = [lines[0]] if lines else []
    for line in lines[1:]:
        if line.startswith(("       |", "        ")):
            cleaned.append(line[8:])
        else:
            cleaned.append(line.lstrip())
    return "\n".join(cleaned).strip("\n")


def parse(data: bytes, filename: str, version: str) -> Details:
    """The details in a core metadata file (``filename``'s, of ``version``)."""
    text = data.decode("utf-8", errors="replace")
    message = BytesParser(policy=compat32).parsebytes(text.encode("utf-8"))
    details: Details = {"from": filename, "version": version}
    summary = _line(message.get("Summary"))
    if summary and summary.upper() != "UNKNOWN":
        details["summary"] = summary
    license_ = _line(message.get("License-Expression")) or _line(message.get("License"))
    if license_ and license_.upper() != "UNKNOWN":
        details["license"] = license_
    author = _line(message.get("Author")) or _line(message.get("Author-email"))
    if author and author.upper() != "UNKNOWN":
        details["author"] = author
    urls: list[list[str]] = []
    home = _line(message.get("Home-page"), MAX_URL)
    if home and home.upper() != "UNKNOWN":
        urls.append(["Homepage", home])
    for value in message.get_all("Project-URL") or []:
        label, comma, url = str(value).partition(",")
        if comma and _line(url, MAX_URL):
            urls.append([_line(label) or "URL", _line(url, MAX_URL)])
    if urls:
        details["urls"] = urls[:MAX_ITEMS]
    for key, field in (("classifiers", "Classifier"), ("requires-dist", "Requires-Dist")):
        values = [_line(value) for value in message.get_all(field) or []]
        if any(values):
            details[key] = [value for value in values if value][:MAX_ITEMS]  # type: ignore[literal-required]
    description = _description(message)
    if description and description.strip().upper() != "UNKNOWN":
        details["description"] = description[:MAX_DESCRIPTION]
        kind = _line(message.get("Description-Content-Type"))
        if kind:
            details["description-type"] = kind
    return details


def valid(value: Any) -> Details | None:
    """``value`` (a manifest's ``details``) if it has the shape, else None."""
    if not isinstance(value, dict):
        return None
    if not isinstance(value.get("from"), str) or not isinstance(value.get("version"), str):
        return None
    for key in ("sha256", "summary", "license", "author", "description", "description-type"):
        if key in value and not isinstance(value[key], str):
            return None
    for key in ("classifiers", "requires-dist"):
        if key in value and not (
            isinstance(value[key], list) and all(isinstance(item, str) for item in value[key])
        ):
            return None
    urls = value.get("urls", [])
    if not isinstance(urls, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
        for pair in urls
    ):
        return None
    return cast(Details, value)


def is_markdown(details: Details) -> bool:
    """Whether the long description is Markdown (its content type says so); any
    other (reStructuredText, or none said, which PyPI reads as such) is shown as
    plain text."""
    return details.get("description-type", "").lower().startswith("text/markdown")
