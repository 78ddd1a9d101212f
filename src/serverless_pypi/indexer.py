"""Derive a project's manifest (with its pages) and metadata files from the bucket.

The bucket is the truth. Two paths write a project's manifest, each with one
conditional write (If-Match / If-None-Match) that commits the manifest and its
pre-rendered pages together:

- the full path, here, re-derives the project from a listing of its folders (a
  removal, an event that does not match the manifest, a new folder, a checkpoint,
  no manifest yet, ``serverless-pypi reindex``);
- the incremental path (``incremental.py``) adds the new files an event names to
  the manifest: the file is read with a GET conditional on the ETag the event gave,
  so a stale or repeated event never adds, drops or shadows a file; anything that
  does not add up takes the full path.

Incremental writes only ever add, and a full write keeps every file its listing
(taken after its read of the manifest) shows: when writers race, the loser of
the conditional write re-reads and re-applies, so no file ever drops out of the
index. docs/performance.md has the whole argument. ``batch.py`` runs either path
for many projects at once, ``rootwriter.py`` writes the root index after them, and
``deadline.py`` keeps an invocation within its time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import catalog, distfile, manifeststore, retry
from . import manifest as manifests
from .archives import Limits
from .changeevents import IndexChange
from .deadline import Deadline, OutOfTime
from .layout import YANK_SUFFIX, metadata_key
from .logs import get_logger, printable
from .manifest import Entry, Manifest, Status
from .manifeststore import Stored, Writer
from .names import DISTRIBUTION_SUFFIXES, parse_filename
from .objects import ObjectInfo, ObjectMissing, PreconditionFailed
from .storage import Storage

logger = get_logger(__name__)

CONFLICTS = retry.racing(12)  # rounds of one project's reindex, each lost to another writer
MAX_YANK_REASON = 1024  # bytes of a .yanked marker read (a ranged GET): the reason's cap
MAX_PROBLEM = 200  # characters of the reason a file has no metadata
# Progress is written at least this often while files are being read, so that a
# timeout or a kill never loses what was already inspected.
CHECKPOINT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ProjectResult:
    project: str
    files: int
    changed: bool
    inspected: int = 0
    skipped: tuple[str, ...] = ()
    # Whether the root index may have to change: False after an incremental add to
    # a project that already had files (it is listed, and still is).
    root: bool = True
    quarantined: bool = False  # its files are not offered: the root index leaves it off
    card: catalog.Card | None = None  # its line in the catalog (None: not listed)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a full rebuild's bulk listings show of a project that has no manifest."""

    objects: tuple[ObjectInfo, ...]
    listed: float  # when the listing began (Unix seconds)
    status_stored: bool = False  # whether it has a status object (a listing showed it)


@dataclass(slots=True)
class _Plan:
    """One listing of a project, sorted out: what stays, what must be read."""

    kept: dict[str, Entry] = field(default_factory=dict)  # key -> entry
    to_read: list[ObjectInfo] = field(default_factory=list)
    markers: dict[str, ObjectInfo] = field(default_factory=dict)  # file key -> marker
    folders: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)
    status: Status | None = None  # the project's status (PEP 792), carried over


@dataclass(slots=True)
class Memory:
    """What one project's reindex keeps across its rounds (lost races)."""

    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)  # filename -> ETag of its metadata
    # The metadata files written, by (key, ETag): rewritten when their entry is used
    # again in a later round, since a racing writer that read an older version of the
    # file may have written over them meanwhile.
    metadata: dict[tuple[str, str], bytes] = field(default_factory=dict)
    inspected: int = 0


def _read_project(
    storage: Storage, project: str, hinted: set[str]
) -> tuple[Stored, list[ObjectInfo]]:
    """The project's manifest, then a listing of its folders.

    The manifest is read *before* the listing: a listing taken after the
    read sees every file that any writer of that manifest saw.
    """
    stored = manifeststore.read(storage, project)
    known = set(stored.manifest.get("folders", [])) if stored.manifest else set()
    objects = [obj for folder in sorted(known | hinted) for obj in storage.folder_objects(folder)]
    return stored, objects


def reindex_project(
    storage: Storage,
    project: str,
    folders: Iterable[str] = (),
    snapshot: Snapshot | None = None,
    deadline: Deadline | None = None,
    touch: bool = False,
    recorded: list[IndexChange] | None = None,
) -> ProjectResult:
    """Re-derive one project's manifest from the bucket and write it if it changed.

    Files are read one at a time, each within its budget (``archives.Limits``);
    progress is written every CHECKPOINT_SECONDS and before the ``deadline``, so
    a file read once is not read again, whatever happens to the invocation.

    ``touch`` (after a removal) writes the manifest even when it did not change:
    an incremental add that verified its file before the removal then loses its
    conditional write, and verifies again. ``recorded`` gets the changes each
    write made visible, checkpoints included.
    """
    hinted = set(folders)
    memory = Memory()
    deadline = deadline or Deadline()
    changed = False
    for attempt in retry.conflicts(CONFLICTS, project):
        # A rebuild knows the whole bucket from its listing: it claims no name first
        # (the api's folder check covers it), which saves a write per project.
        bulk = snapshot if attempt == 0 else None
        listed = bulk.listed if bulk is not None else time.time()
        if bulk is not None:
            stored, objects = Stored(None, None), list(bulk.objects)
        else:
            stored, objects = _read_project(storage, project, hinted)
        writer = Writer(storage, stored, listed, recorded, memory.metadata)
        try:
            plan = _plan(project, objects, stored.manifest, memory, deadline)
            if stored.manifest is not None:
                plan.status = manifests.project_status(stored.manifest.get("status"))
            elif bulk is None or bulk.status_stored:
                # No manifest to carry the status over from (a first index, a rebuild
                # of a project whose manifest is gone, an unreadable one): the status
                # the command line stored beside it (a rebuild reads only those its
                # listing of the status objects showed).
                plan.status = manifeststore.read_status(storage, project)
            entries, pending = _read_files(
                storage, project, plan, memory, writer, deadline, claim=bulk is None
            )
            manifest = _manifest(project, plan, entries, pending)
            if stored.blob is not None or plan.folders:
                # A project with any distribution keeps a manifest, even when no file of
                # it could be indexed: its name must never reach the fallback index.
                changed = writer.write(manifest, touch=touch) or changed
        except (PreconditionFailed, ObjectMissing) as error:
            logger.info(
                "%s: another reindex wrote first or a file changed (%s), starting over",
                project,
                error,
            )
            continue
        if pending:
            raise OutOfTime(
                f"{project}: {pending} files left to read when the invocation ran out of time"
            )
        result = ProjectResult(
            project,
            len(entries),
            changed,
            memory.inspected,
            tuple(plan.skipped),
            quarantined=manifests.status_of(manifest) == manifests.QUARANTINED,
            card=catalog.card_of(manifest),
        )
        if changed:
            logger.info(
                "indexed %s: %d files (%d read, %d skipped)",
                project,
                len(entries),
                memory.inspected,
                len(plan.skipped),
            )
        return result
    raise AssertionError("unreachable: retry.conflicts raises when the rounds run out")


def _plan(
    project: str,
    objects: list[ObjectInfo],
    old: Manifest | None,
    memory: Memory,
    deadline: Deadline,
) -> _Plan:
    plan = _Plan()
    previous = {entry["key"]: entry for entry in old["files"]} if old else {}
    candidates: dict[str, list[ObjectInfo]] = {}
    for obj in objects:
        folder, _, filename = obj.key.partition("/")
        if filename.endswith(YANK_SUFFIX):
            plan.markers[f"{folder}/{filename[: -len(YANK_SUFFIX)]}"] = obj
            continue
        if not filename.endswith(DISTRIBUTION_SUFFIXES):
            continue
        plan.folders.add(folder)
        if parse_filename(filename, project) is None:
            plan.skipped.append(obj.key)
            logger.warning("skipped %s: not a distribution of %s", obj.key, project)
            continue
        candidates.setdefault(filename, []).append(obj)
    for filename, found in candidates.items():
        # The same filename in two spellings of the folder: the first upload wins.
        found.sort(key=lambda obj: (obj.last_modified, obj.key))
        for duplicate in found[1:]:
            plan.skipped.append(duplicate.key)
            logger.warning("skipped %s: %s is already in %s", duplicate.key, filename, found[0].key)
        obj = found[0]
        prior = previous.get(obj.key)
        stale = filename in memory.written and memory.written[filename] != obj.etag
        if prior and _keeps(prior, obj, deadline) and not stale:
            plan.kept[obj.key] = prior.copy()
        else:
            plan.to_read.append(obj)
    plan.to_read.sort(key=lambda obj: (obj.size, obj.key))  # small files first
    return plan


def _keeps(prior: Entry, obj: ObjectInfo, deadline: Deadline) -> bool:
    """Whether the entry of an earlier reindex still describes ``obj``. A file an
    invocation ran out of time for is read again by a longer one (a raised
    timeout, or `serverless-pypi reindex`, which has no deadline)."""
    if prior["etag"] != obj.etag or prior["size"] != obj.size:
        return False
    budget = prior.get("time-budget")
    if budget is None:
        return True
    if isinstance(budget, bool) or not isinstance(budget, int | float):
        return False  # not written by this code: read the file again
    return not deadline.grants_more_than(budget)


def _read_files(
    storage: Storage,
    project: str,
    plan: _Plan,
    memory: Memory,
    writer: Writer,
    deadline: Deadline,
    *,
    claim: bool,
) -> tuple[dict[str, Entry], int]:
    """Every entry of the project by key, reading the files not yet indexed; and
    how many files were left for the next invocation."""
    entries = {
        key: _marked(storage, entry, plan.markers.get(key)) for key, entry in plan.kept.items()
    }
    if claim and writer.etag is None and plan.to_read:
        # Claim the name before the first read: the api then never falls back, even
        # for a folder spelled otherwise than the normalized name.
        writer.write(_manifest(project, plan, entries, len(plan.to_read)))
    deferred = 0
    for done, obj in enumerate(plan.to_read, start=1):
        cached = remembered(storage, project, obj.key, obj.etag, memory)
        if cached is None:
            if not deadline.ever_allows(obj):
                cached = _uninspected(project, obj, deadline)
            elif deadline.allows(obj):
                cached = inspect_file(storage, project, obj, memory, deadline)
            if cached is None:
                deferred += 1  # the next invocation reads it
                continue
            memory.entries[(obj.key, obj.etag)] = cached
        entries[obj.key] = _marked(storage, cached.copy(), plan.markers.get(obj.key))
        if time.monotonic() - writer.wrote_at >= CHECKPOINT_SECONDS:
            left = len(plan.to_read) - done + deferred
            writer.write(_manifest(project, plan, entries, left))
    return entries, deferred


def _manifest(
    project: str, plan: _Plan, entries: Mapping[str, Entry], pending: int = 0
) -> Manifest:
    return manifests.new(
        project,
        sorted(plan.folders),
        entries.values(),
        skipped=len(plan.skipped),
        pending=pending,
        status=plan.status,
    )


def _base_entry(project: str, obj: ObjectInfo) -> Entry:
    filename = obj.key.partition("/")[2]
    dist = parse_filename(filename, project)
    assert dist is not None
    return {
        "filename": filename,
        "key": obj.key,
        "version": dist.version,
        "size": obj.size,
        "etag": obj.etag,
        "upload-time": manifests.upload_time(obj.last_modified),
        "href": manifests.relative_url(project, {"key": obj.key}),
    }


def _uninspected(project: str, obj: ObjectInfo, deadline: Deadline) -> Entry:
    logger.warning(
        "indexed %s without hash or metadata: too large to read in one invocation", obj.key
    )
    entry = _base_entry(project, obj)
    entry["problem"] = (
        "too large to read within the reindex function's timeout: raise "
        f"lambda_reindex_timeout, or {distfile.ONE_PUT}"
    )
    if deadline.stamp is not None:
        entry["time-budget"] = deadline.stamp
    return entry


def remembered(storage: Storage, project: str, key: str, etag: str, memory: Memory) -> Entry | None:
    """The entry an earlier round made of the object, its metadata file written again."""
    entry = memory.entries.get((key, etag))
    metadata = memory.metadata.get((key, etag))
    if entry is not None and metadata is not None:
        _put_metadata(storage, project, entry["filename"], metadata)
    return entry


def _put_metadata(storage: Storage, project: str, filename: str, metadata: bytes) -> None:
    storage.put(metadata_key(project, filename), metadata, "text/plain; charset=utf-8")


def inspect_file(
    storage: Storage,
    project: str,
    obj: ObjectInfo,
    memory: Memory,
    deadline: Deadline,
    *,
    data: bytes | None = None,
    user_metadata: Mapping[str, str] | None = None,
    head: Mapping[str, Any] | None = None,
) -> Entry | None:
    """The file's entry, read within its limits (``data``, ``user_metadata`` and
    ``head``: what the caller already read, see ``distfile.inspect``); None when the
    deadline cut its reading short and a fresh invocation would give it more time."""
    entry = _base_entry(project, obj)
    dist = parse_filename(entry["filename"], project)
    assert dist is not None
    limits = deadline.limits(obj)
    found = distfile.inspect(
        storage, obj, dist, limits, data=data, user_metadata=user_metadata, head=head
    )
    memory.inspected += 1
    if found.over_time and deadline.cut_short(obj, limits):
        logger.info("%s: out of time in this invocation, read next time", obj.key)
        return None
    if found.over_time and limits.seconds < Limits().seconds and deadline.stamp is not None:
        entry["time-budget"] = deadline.stamp  # the deadline, not the file's budget, set it
    if found.sha256 is not None:
        entry["sha256"] = found.sha256
    uploader = manifests.uploader(found.uploaded_by)
    if uploader:
        entry["uploaded-by"] = uploader
    problem = found.problem
    if found.parsed is not None and found.parsed.requires_python:
        entry["requires-python"] = found.parsed.requires_python
    if found.parsed is not None and found.parsed.ignored:
        problem = "; ".join(found.parsed.ignored)
    if found.metadata is None or found.parsed is None:
        problem = problem or "no core metadata"
        logger.warning("indexed %s without metadata: %s", obj.key, problem)
        entry["problem"] = _stored_problem(problem)
        return entry
    if problem:
        entry["problem"] = _stored_problem(problem)
    if dist.kind == "sdist" and not found.parsed.reliable:
        # PEP 643: before metadata 2.2 (or with dynamic dependencies) an
        # sdist's PKG-INFO may not match what building it produces.
        logger.info("%s: PKG-INFO is not static metadata, not announced", obj.key)
        return entry
    _put_metadata(storage, project, dist.filename, found.metadata)
    memory.written[dist.filename] = obj.etag
    memory.metadata[(obj.key, obj.etag)] = found.metadata
    entry["core-metadata"] = hashlib.sha256(found.metadata).hexdigest()
    return entry


def _stored_problem(text: str) -> str:
    """A problem as the manifest keeps it: escaped once to printable ASCII, short.
    (Log lines get the text itself: the log filter escapes it there.)"""
    return printable(text, limit=len(text))[:MAX_PROBLEM]


def _marked(storage: Storage, entry: Entry, marker: ObjectInfo | None) -> Entry:
    """The entry with its yank state from ``marker`` (read only when it changed)."""
    if marker is None:
        entry.pop("yanked", None)
        entry.pop("marker-etag", None)
        return entry
    if entry.get("marker-etag") == marker.etag and "yanked" in entry:
        kept = entry["yanked"]
        if isinstance(kept, str):  # an earlier release kept the marker's text raw
            entry["yanked"] = manifests.yank_reason(kept) or True
        return entry
    # Only the first bytes: a marker of any size costs one small ranged read.
    reason = b""
    if marker.size:
        reason = storage.get_range(
            marker.key, 0, min(marker.size, MAX_YANK_REASON) - 1, marker.etag
        )
    # Anyone who may write the bucket writes markers: pip shows the reason to whoever
    # installs the file, so no control or format character is kept.
    text = manifests.yank_reason(reason.decode("utf-8", errors="replace"))
    entry["yanked"] = text or True
    entry["marker-etag"] = marker.etag
    return entry
