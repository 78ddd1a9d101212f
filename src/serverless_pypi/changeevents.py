"""The index's changes as EventBridge events: what changed (``IndexChange``), the
changes one manifest write made (``derived``), and the PutEvents entries that tell
of them (``entry``, ``batches``), all pure; ``eventbus.py`` sends them.

docs/events.md is the schema: every event has the source ``serverless-pypi``, a
``detail-type`` from DETAIL_TYPES and a ``detail`` holding COMMON's fields and its
kind's (FIELDS). ``change-id`` is a digest of what the change is (its kind, the
bucket, the project, the file and its ETag, the yank marker's ETag): a change
derived or delivered twice carries the same id, so a consumer drops duplicates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .manifest import Entry, Manifest, status_of

SOURCE = "serverless-pypi"
Kind = Literal["published", "yanked", "unyanked", "removed", "claimed", "released", "status"]
DETAIL_TYPES: Mapping[Kind, str] = {
    "published": "Distribution Published",
    "yanked": "Distribution Yanked",
    "unyanked": "Distribution Unyanked",
    "removed": "Distribution Removed",
    "claimed": "Project Name Claimed",
    "released": "Project Name Released",
    "status": "Project Status Changed",
}
# The fields of every detail, then each kind's own (docs/events.md lists the same).
COMMON = ("change-id", "bucket", "project")
_FILE = ("filename", "version", "key", "etag")
FIELDS: Mapping[Kind, tuple[str, ...]] = {
    "published": (*_FILE, "size", "sha256", "upload-time", "uploaded-by"),
    "yanked": (*_FILE, "reason"),
    "unyanked": _FILE,
    "removed": _FILE,
    "claimed": (),
    "released": (),
    "status": ("status", "reason"),
}
MAX_ENTRIES = 10  # PutEvents: entries a call
MAX_CALL_BYTES = 256 * 1024  # PutEvents: bytes a call, as EventBridge counts them


@dataclass(frozen=True, slots=True)
class IndexChange:
    """One change of the index. ``etag`` is the file's (a name's changes: its
    manifest's, when known); ``marker`` the yank marker's ETag (yanked: the new
    marker, unyanked: the one removed); ``reason`` a yank's or a status's (PEP 792,
    ``status`` the new one: "active" when it was cleared)."""

    kind: Kind
    project: str
    filename: str = ""
    version: str = ""
    key: str = ""
    etag: str = ""
    size: int | None = None
    sha256: str | None = None
    upload_time: str | None = None
    uploaded_by: str | None = None
    marker: str = ""
    reason: str = ""
    status: str = ""


def _file_change(kind: Kind, project: str, entry: Entry, marker: str = "") -> IndexChange:
    reason = entry.get("yanked")
    return IndexChange(
        kind,
        project,
        filename=entry["filename"],
        version=entry["version"],
        key=entry["key"],
        etag=entry["etag"],
        size=entry["size"] if kind == "published" else None,
        sha256=entry.get("sha256") if kind == "published" else None,
        upload_time=entry.get("upload-time") if kind == "published" else None,
        uploaded_by=entry.get("uploaded-by") if kind == "published" else None,
        marker=marker,
        reason=reason if kind == "yanked" and isinstance(reason, str) else "",
    )


def derived(old: Manifest | None, new: Manifest) -> list[IndexChange]:
    """The changes a write of ``new`` over ``old`` (None: no manifest, or an
    unreadable one) makes visible: a file published (and yanked, when it comes
    with a marker), yanked (a new marker), unyanked, removed. A file whose ETag
    changed under the same key was removed, and another one published."""
    project = new["name"]
    before = {entry["key"]: entry for entry in old["files"]} if old else {}
    after = {entry["key"]: entry for entry in new["files"]}
    changes: list[IndexChange] = []
    for key, entry in before.items():
        now = after.get(key)
        if now is None or now["etag"] != entry["etag"]:
            changes.append(_file_change("removed", project, entry))
    for key, entry in after.items():
        prior = before.get(key)
        marker = entry.get("marker-etag", "") if "yanked" in entry else ""
        if prior is None or prior["etag"] != entry["etag"]:
            changes.append(_file_change("published", project, entry))
            if "yanked" in entry:
                changes.append(_file_change("yanked", project, entry, marker))
            continue
        was = prior.get("marker-etag", "") if "yanked" in prior else ""
        if "yanked" in entry and ("yanked" not in prior or was != marker):
            changes.append(_file_change("yanked", project, entry, marker))
        elif "yanked" in prior and "yanked" not in entry:
            changes.append(_file_change("unyanked", project, entry, was))
    status = new.get("status")
    if old is not None and old.get("status") != status:
        reason = status.get("reason", "") if status else ""
        changes.append(IndexChange("status", project, status=status_of(new), reason=reason))
    return changes


def change_id(change: IndexChange, bucket: str) -> str:
    """The change's stable id: the same change (of the same file, ETag and marker)
    has the same one, however often it is derived or delivered."""
    parts = [change.kind, bucket, change.project, change.key, change.etag, change.marker]
    if change.kind == "status":
        parts += [change.status, change.reason]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def detail(change: IndexChange, bucket: str) -> dict[str, Any]:
    """The event's ``detail``: COMMON's fields and FIELDS[kind], each always there
    (None where unknown: ``sha256`` of a file too large to read in time)."""
    every: dict[str, Any] = {
        "change-id": change_id(change, bucket),
        "bucket": bucket,
        "project": change.project,
        "filename": change.filename,
        "version": change.version,
        "key": change.key,
        "etag": change.etag,
        "size": change.size,
        "sha256": change.sha256,
        "upload-time": change.upload_time,
        "uploaded-by": change.uploaded_by,
        "reason": change.reason,
        "status": change.status,
    }
    return {name: every[name] for name in (*COMMON, *FIELDS[change.kind])}


def entry(change: IndexChange, bucket: str, bus: str) -> dict[str, Any]:
    """The PutEvents entry of ``change`` on ``bus`` (a name or an ARN)."""
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPES[change.kind],
        "Detail": json.dumps(detail(change, bucket), separators=(",", ":"), sort_keys=True),
        "EventBusName": bus,
    }


def entries(changes: Iterable[IndexChange], bucket: str, bus: str) -> list[dict[str, Any]]:
    return [entry(change, bucket, bus) for change in changes]


def entry_size(item: Mapping[str, Any]) -> int:
    """An entry's size as EventBridge counts it toward a call's 256 KB: its source,
    detail-type, detail and resources, in UTF-8 bytes."""
    texts = [item.get("Source", ""), item.get("DetailType", ""), item.get("Detail", "")]
    texts += list(item.get("Resources", ()))
    return sum(len(str(text).encode()) for text in texts)


def batches(items: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """``items`` in order, in calls of at most MAX_ENTRIES entries and MAX_CALL_BYTES."""
    batch: list[dict[str, Any]] = []
    size = 0
    for item in items:
        grows = entry_size(item)
        if batch and (len(batch) == MAX_ENTRIES or size + grows > MAX_CALL_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += grows
    if batch:
        yield batch
