"""The incremental path: the files an event names, added to their project's manifest.

An event that names new distributions of a project that has a manifest adds
them to it: one GET of the manifest, one GET of each file (conditional on the
ETag the event gave), its metadata file, and one conditional write of the
manifest with its pages. Whatever does not add up returns None, and the caller
takes the full path (``indexer.reindex_project``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import catalog, distfile, manifeststore, retry
from . import manifest as manifests
from .changeevents import IndexChange
from .deadline import Deadline
from .indexer import Memory, ProjectResult, inspect_file, remembered
from .logs import get_logger
from .manifest import Entry, Manifest
from .manifeststore import Writer
from .names import DISTRIBUTION_SUFFIXES, parse_filename
from .notifications import Change
from .objects import ObjectInfo, ObjectMissing, PreconditionFailed
from .storage import Storage

logger = get_logger(__name__)

# Rounds of an incremental add: cheap ones (a GET and a PUT), and a busy project's
# uploads all race for its one object.
CONFLICTS = retry.racing(64)


@dataclass(frozen=True, slots=True)
class Upload:
    """A new object an event names, with the ETag (quoted) and size it gave: hints,
    which a forged or replayed record can get wrong. An object is read only as far
    as its size allows, and one that is not the size its event gave is listed."""

    key: str
    etag: str
    size: int


def uploads(changes: Sequence[Change]) -> list[Upload] | None:
    """What ``changes`` add, if each of them adds a distribution with a known ETag
    and size; None when any of them needs the full path (a removal, a marker)."""
    found = []
    for change in changes:
        if change.removal or change.etag is None or change.size is None:
            return None
        if not change.key.endswith(DISTRIBUTION_SUFFIXES):
            return None
        found.append(Upload(change.key, change.etag, change.size))
    return found


def add_files(
    storage: Storage,
    project: str,
    added: Sequence[Upload],
    deadline: Deadline | None = None,
    recorded: list[IndexChange] | None = None,
) -> ProjectResult | None:
    """Add the files an event names to the project's manifest, or None: the event
    does not match the bucket or the manifest, and only a listing can tell.

    A lost race is retried from a fresh read of the manifest: the file's entry is
    kept, the file itself is checked again (a removal may have come between).
    ``recorded`` gets the changes the write made visible.
    """
    deadline = deadline or Deadline()
    memory = Memory()
    for _ in retry.conflicts(CONFLICTS, project):
        stored = manifeststore.read(storage, project)
        old = stored.manifest
        if old is None or not manifeststore.recently_listed(stored.blob, time.time()):
            return None  # no manifest, or its last listing is too old: list the project
        new = _unindexed(project, old, added)
        if new is None:
            return None
        try:
            entries = [_read_upload(storage, project, item, memory, deadline) for item in new]
        except (PreconditionFailed, ObjectMissing) as error:
            logger.info("%s: an event does not match the bucket (%s), listing it", project, error)
            return None
        if None in entries:
            return None  # out of time for a file: the full path checkpoints
        files = [*old["files"], *(entry for entry in entries if entry is not None)]
        manifest = manifests.new(
            project,
            list(old["folders"]),
            files,
            skipped=old.get("skipped", 0),
            status=old.get("status"),
        )
        try:
            changed = Writer(storage, stored, None, recorded, memory.metadata).write(manifest)
        except PreconditionFailed:
            logger.info("%s: another reindex wrote first, adding again", project)
            continue
        if changed:
            logger.info("indexed %s: %d files (%d added)", project, len(files), len(new))
        return ProjectResult(
            project,
            len(files),
            changed,
            memory.inspected,
            root=not old["files"],
            card=catalog.card_of(manifest),
        )
    raise AssertionError("unreachable: retry.conflicts raises when the rounds run out")


def _unindexed(project: str, old: Manifest, added: Sequence[Upload]) -> list[Upload] | None:
    """Which of ``added`` the manifest does not hold yet; None when one of them
    does not add up: a folder the manifest does not know, a file that is not the
    project's, a key indexed with another ETag (replaced, or the event is stale),
    a filename indexed from another folder, a checkpoint with files left to read."""
    if old.get("pending"):
        return None
    by_key = {entry["key"]: entry for entry in old["files"]}
    names = {entry["filename"] for entry in old["files"]}
    folders = set(old["folders"])
    new: list[Upload] = []
    for item in added:
        folder, _, filename = item.key.partition("/")
        if folder not in folders or parse_filename(filename, project) is None:
            return None
        entry = by_key.get(item.key)
        if entry is not None:
            if (entry["etag"], entry["size"]) != (item.etag, item.size):
                return None
            continue  # a repeated event
        if filename in names:
            return None
        names.add(filename)
        new.append(item)
    return new


def _read_upload(
    storage: Storage,
    project: str,
    item: Upload,
    memory: Memory,
    deadline: Deadline,
) -> Entry | None:
    """The entry of a new file, read once and checked against the event's ETag and
    size (PreconditionFailed when the object is not that size: the deadline was
    weighed on it); on a later round (an entry made in an earlier one) the file is
    checked to be still there. None when it cannot be read in this invocation."""
    if (item.key, item.etag) in memory.entries:
        storage.info(item.key, item.etag)  # read in an earlier round: still there?
        cached = remembered(storage, project, item.key, item.etag, memory)
        assert cached is not None
        return cached.copy()
    hinted = ObjectInfo(item.key, item.etag, item.size, datetime.now(UTC))
    if not (deadline.ever_allows(hinted) and deadline.allows(hinted)):
        return None
    data: bytes | None = None
    user_metadata: Mapping[str, str] | None = None
    head: Mapping[str, Any] | None = None
    if item.size <= distfile.SMALL_FILE:
        data, obj, user_metadata = storage.read(item.key, item.etag, item.size)
    else:
        obj, head = storage.info(item.key, item.etag)
        if obj.size != item.size:
            raise PreconditionFailed(f"{item.key}: {obj.size} bytes, the event said {item.size}")
    entry = inspect_file(
        storage, project, obj, memory, deadline, data=data, user_metadata=user_metadata, head=head
    )
    if entry is None:
        return None
    memory.entries[(obj.key, obj.etag)] = entry
    return entry.copy()
