"""Derive the index from the bucket: project manifests (with their pages), metadata
files, root index.

The bucket is the truth. Two paths write a project's manifest, each with one
conditional write (If-Match / If-None-Match) that commits the manifest and its
pre-rendered pages together:

- the full path re-derives the project from a listing of its folders (a removal,
  an event that does not match the manifest, a new folder, a checkpoint, no
  manifest yet, ``serverless-pypi reindex``);
- the incremental path adds the new files an event names to the manifest: the
  file is read with a GET conditional on the ETag the event gave, so a stale or
  repeated event never adds, drops or shadows a file; anything that does not add
  up takes the full path.

Incremental writes only ever add, and a full write keeps every file its listing
(taken after its read of the manifest) shows: when writers race, the loser of
the conditional write re-reads and re-applies, so no file ever drops out of the
index. docs/performance.md has the whole argument.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import distfile, rootindex, simple
from . import manifest as manifests
from .archives import Limits
from .events import Change
from .layout import (
    DERIVED_PREFIX,
    MANIFEST_PREFIX,
    ROOT_HTML,
    ROOT_JSON,
    YANK_SUFFIX,
    manifest_key,
    metadata_key,
)
from .logs import get_logger, printable
from .manifest import Entry, Manifest, Pages
from .names import DISTRIBUTION_SUFFIXES, is_valid_name, normalize, parse_filename
from .objects import Blob, ObjectInfo, ObjectMissing, PreconditionFailed
from .payload import fits, gzipped
from .storage import Storage

logger = get_logger(__name__)

MAX_ATTEMPTS = 12  # rounds of one project's reindex before giving up (each loses to a writer)
ROOT_ATTEMPTS = 64  # the root index is one hot object: more rounds, each after a jittered wait
# Rounds of an incremental add: cheap ones (a GET and a PUT), and a busy project's
# uploads all race for its one object.
ADD_ATTEMPTS = 64
# A project is listed again, whatever its events say, when its last listing is
# older than this: an event lost for good (after Lambda's retries) is made up for
# by the project's next event after that.
RELIST_SECONDS = 3600
LISTED = "listed"  # manifest metadata: when its last listing began (Unix seconds)
LARGE_PROJECT = 20_000  # below this many files every page fits a Lambda response
MAX_YANK_REASON = 1024  # bytes of a .yanked marker read (a ranged GET): the reason's cap
MAX_PROBLEM = 200  # characters of the reason a file has no metadata
WORKERS = 16
# Progress is written at least this often while files are being read, so that a
# timeout or a kill never loses what was already inspected.
CHECKPOINT_SECONDS = 5.0
# What the deadline check assumes of moving a file's bytes (S3 to a Lambda
# function moves about 90 MB/s and more).
READ_RATE = 50 * 1024 * 1024
# Kept back from an invocation's end to write what was read (the manifest, the
# root index): a fifth of its time, at least 1 s and at most 15 s. A 3 s timeout
# (the older module's default) leaves 2 s to read files, a 300 s one 285 s.
FINISH_SHARE, FINISH_MIN, FINISH_MAX = 0.2, 1.0, 15.0
# The least time an extraction is started with; honest files take milliseconds.
MIN_EXTRACTION = 0.25


class ConflictError(RuntimeError):
    """Other writers kept winning; the invocation fails so that it is retried."""


class OutOfTime(RuntimeError):
    """The invocation is about to end with files left to read: what was read is
    written, and the invocation fails so that Lambda runs it again."""


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


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a full rebuild already knows about a project, from bulk listings."""

    manifest_absent: bool
    objects: tuple[ObjectInfo, ...]
    listed: float = 0.0  # when the listing began (Unix seconds)


@dataclass(frozen=True, slots=True)
class Deadline:
    """When an invocation must stop starting new inspections (``time.monotonic``
    seconds), and how long a whole invocation has for reading (a file that needs
    more is never read under this timeout: no retry could finish it).

    Each file's extraction gets the usual ``Limits.seconds`` or what is left
    before the deadline, whichever is less: a short timeout shortens the budget
    of a file instead of refusing every file.
    """

    at: float | None = None
    budget: float | None = None
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_remaining(
        cls, milliseconds: float, clock: Callable[[], float] = time.monotonic
    ) -> Deadline:
        total = milliseconds / 1000
        budget = total - finish_reserve(total)
        return cls(clock() + budget, budget, clock)

    def allows(self, obj: ObjectInfo) -> bool:
        """Whether ``obj`` can be moved, and its extraction started, before the deadline."""
        return self.at is None or self.clock() + _transfer(obj) + MIN_EXTRACTION <= self.at

    def ever_allows(self, obj: ObjectInfo) -> bool:
        """Whether a whole invocation could read ``obj``."""
        return self.budget is None or _transfer(obj) + MIN_EXTRACTION <= self.budget

    def limits(self, obj: ObjectInfo) -> Limits:
        """The limits of an inspection of ``obj`` that starts now."""
        if self.at is None:
            return Limits()
        return Limits().within(self.at - self.clock() - _transfer(obj), MIN_EXTRACTION)

    def grants_more_than(self, budget: float) -> bool:
        """Whether this invocation may read for longer than ``budget`` seconds (a
        file that one with ``budget`` could not read is worth reading again)."""
        return self.budget is None or self.budget > budget + 1.0


def finish_reserve(total: float) -> float:
    """Seconds kept back from an invocation of ``total`` seconds to write its results."""
    return min(FINISH_MAX, max(FINISH_MIN, total * FINISH_SHARE))


def _transfer(obj: ObjectInfo) -> float:
    return obj.size / READ_RATE


@dataclass(slots=True)
class _Plan:
    """One listing of a project, sorted out: what stays, what must be read."""

    kept: dict[str, Entry] = field(default_factory=dict)  # key -> entry
    to_read: list[ObjectInfo] = field(default_factory=list)
    markers: dict[str, ObjectInfo] = field(default_factory=dict)  # file key -> marker
    folders: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Memory:
    """What one project's reindex keeps across its rounds (lost races)."""

    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)  # filename -> ETag of its metadata
    # The metadata files written, by (key, ETag): rewritten when their entry is used
    # again in a later round, since a racing writer that read an older version of the
    # file may have written over them meanwhile.
    metadata: dict[tuple[str, str], bytes] = field(default_factory=dict)
    inspected: int = 0


def upload_time(when: datetime) -> str:
    """PEP 700's ``upload-time``: ``yyyy-mm-ddThh:mm:ss.ffffffZ`` in UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _load_manifest(blob: Blob | None) -> Manifest | None:
    if blob is None:
        return None
    manifest = manifests.decode(blob.body)
    if manifest is None:
        logger.warning("unreadable or malformed manifest (etag %s): rebuilding it", blob.etag)
    return manifest


def folder_objects(storage: Storage, folder: str) -> list[ObjectInfo]:
    """The objects one level deep in ``folder`` (deeper keys are never a project's)."""
    prefix = folder + "/"
    return [obj for obj in storage.list(prefix) if "/" not in obj.key[len(prefix) :]]


def fit_pages(manifest: Manifest) -> Pages | None:
    """The project's pages as the api sends them (None without files), made to fit
    a Lambda response.

    Two SHA-256 digests per file do not compress: past about 45,000 files
    the gzipped page outgrows Lambda's 6 MB response. Such a project's
    pages announce core metadata without its hash (PEP 658 allows it).
    """
    manifest.pop("metadata-hashes", None)
    if not manifest["files"]:
        return None
    pages = _pages(manifest)
    if len(manifest["files"]) >= LARGE_PROJECT and not (fits(pages.html) and fits(pages.json)):
        manifest["metadata-hashes"] = False
        pages = _pages(manifest)
    return pages


def _pages(manifest: Manifest) -> Pages:
    html, json = simple.redirect_pages(manifest)
    return Pages(gzipped(html.encode()), gzipped(json.encode()))


def _read_project(
    storage: Storage, project: str, hinted: set[str]
) -> tuple[Blob | None, Manifest | None, list[ObjectInfo]]:
    """The project's manifest, then a listing of its folders.

    The manifest is read *before* the listing: a listing taken after the
    read sees every file that any writer of that manifest saw.
    """
    fetched = storage.get(manifest_key(project))
    current = fetched if isinstance(fetched, Blob) else None
    old = _load_manifest(current)
    known = set(old.get("folders", [])) if old else set()
    objects = [obj for folder in sorted(known | hinted) for obj in folder_objects(storage, folder)]
    return current, old, objects


def _listed_at(blob: Blob | None) -> float | None:
    """When the listing behind a stored manifest began (None: not known)."""
    try:
        return float(blob.metadata[LISTED]) if blob else None
    except (KeyError, ValueError):
        return None


def _recently_listed(blob: Blob | None, now: float) -> bool:
    listed = _listed_at(blob)
    return listed is not None and 0 <= now - listed < RELIST_SECONDS


class _Writer:
    """Writes one project's manifest and its pages, each time only if nobody else
    did first.

    ``listed`` is when the listing behind the manifests it writes began; None for
    an incremental add, which keeps what the stored manifest says.
    """

    def __init__(
        self,
        storage: Storage,
        project: str,
        current: Blob | None,
        old: Manifest | None,
        listed: float | None,
    ) -> None:
        self.storage, self.project = storage, project
        self.etag = current.etag if current else None
        self.last = old
        # An unchanged manifest is not written again if the stored object is this
        # release's (its pages rendered the way the api expects them) and, after a
        # listing, tells of a recent one.
        self.up_to_date = (
            current is not None
            and manifests.stored_render(current.metadata) == simple.RENDER_VERSION
            and (listed is None or _recently_listed(current, listed))
        )
        self.listed = listed if listed is not None else _listed_at(current)
        self.wrote_at = time.monotonic()

    def write(self, manifest: Manifest, touch: bool = False) -> bool:
        """Write ``manifest`` unless it is what is there (``touch``: write it anyway,
        as other bytes); PreconditionFailed on a lost race."""
        # A large project's pages decide whether they announce metadata hashes, which
        # is part of the manifest: they are rendered before the comparison.
        large = len(manifest["files"]) >= LARGE_PROJECT
        pages = fit_pages(manifest) if large else None
        if not large:
            manifest.pop("metadata-hashes", None)
        if manifest == self.last and self.up_to_date and not touch:
            return False
        if not large:
            pages = fit_pages(manifest)
        # A touch changes the gzip header's time field: other bytes, another ETag.
        stamp = random.getrandbits(31) | 1 if touch else 0
        body, metadata = manifests.pack(manifest, pages, simple.RENDER_VERSION, stamp)
        if self.listed is not None:
            metadata[LISTED] = str(int(self.listed))
        self.etag = self.storage.put(
            manifest_key(self.project),
            body,
            "application/json",
            content_encoding="gzip",
            if_match=self.etag,
            if_absent=self.etag is None,
            metadata={"files": str(len(manifest["files"])), **metadata},
        )
        self.last, self.up_to_date, self.wrote_at = manifest, True, time.monotonic()
        return True


def reindex_project(
    storage: Storage,
    project: str,
    folders: Iterable[str] = (),
    snapshot: Snapshot | None = None,
    deadline: Deadline | None = None,
    touch: bool = False,
) -> ProjectResult:
    """Re-derive one project's manifest from the bucket and write it if it changed.

    Files are read one at a time, each within its budget (``archives.Limits``);
    progress is written every CHECKPOINT_SECONDS and before the ``deadline``, so
    a file read once is not read again, whatever happens to the invocation.

    ``touch`` (after a removal) writes the manifest even when it did not change:
    an incremental add that verified its file before the removal then loses its
    conditional write, and verifies again.
    """
    hinted = set(folders)
    memory = _Memory()
    deadline = deadline or Deadline()
    changed = False
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            _backoff(attempt)
        # A rebuild knows the whole bucket from its listing: it claims no name first
        # (the api's folder check covers it), which saves a write per project.
        bulk = snapshot if attempt == 0 and snapshot and snapshot.manifest_absent else None
        listed = bulk.listed if bulk is not None else time.time()
        if bulk is not None:
            current, old, objects = None, None, list(bulk.objects)
        else:
            current, old, objects = _read_project(storage, project, hinted)
        writer = _Writer(storage, project, current, old, listed)
        try:
            plan = _plan(project, objects, old, memory, deadline)
            entries, pending = _read_files(
                storage, project, plan, memory, writer, deadline, claim=bulk is None
            )
            manifest = _manifest(project, plan, entries, pending)
            if current is not None or plan.folders:
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
            project, len(entries), changed, memory.inspected, tuple(plan.skipped)
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
    raise ConflictError(f"{project}: gave up after {MAX_ATTEMPTS} conflicting writes")


def _plan(
    project: str,
    objects: list[ObjectInfo],
    old: Manifest | None,
    memory: _Memory,
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
    memory: _Memory,
    writer: _Writer,
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
        cached = _remembered(storage, project, obj.key, obj.etag, memory)
        if cached is None:
            if not deadline.ever_allows(obj):
                cached = _uninspected(project, obj, deadline)
            elif deadline.allows(obj):
                cached = _inspect(storage, project, obj, memory, deadline)
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
        project, sorted(plan.folders), entries.values(), skipped=len(plan.skipped), pending=pending
    )


def _backoff(attempt: int) -> None:
    """A full-jitter exponential wait before another round against other writers."""
    time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))


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
        "upload-time": upload_time(obj.last_modified),
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
    if deadline.budget is not None:
        entry["time-budget"] = round(deadline.budget, 1)
    return entry


def _remembered(
    storage: Storage, project: str, key: str, etag: str, memory: _Memory
) -> Entry | None:
    """The entry an earlier round made of the object, its metadata file written again."""
    entry = memory.entries.get((key, etag))
    metadata = memory.metadata.get((key, etag))
    if entry is not None and metadata is not None:
        _put_metadata(storage, project, entry["filename"], metadata)
    return entry


def _put_metadata(storage: Storage, project: str, filename: str, metadata: bytes) -> None:
    storage.put(metadata_key(project, filename), metadata, "text/plain; charset=utf-8")


def _inspect(
    storage: Storage,
    project: str,
    obj: ObjectInfo,
    memory: _Memory,
    deadline: Deadline,
    source: Storage | None = None,
) -> Entry | None:
    """The file's entry, read (from ``source``, by default ``storage``) within its
    limits; None when the deadline cut its reading short and a fresh invocation
    would give it more time."""
    entry = _base_entry(project, obj)
    dist = parse_filename(entry["filename"], project)
    assert dist is not None
    limits = deadline.limits(obj)
    found = distfile.inspect(source or storage, obj, dist, limits)
    memory.inspected += 1
    if found.over_time and limits.seconds < Limits().seconds:
        # The deadline, not the file's own budget, set this limit.
        assert deadline.budget is not None
        most = min(Limits().seconds, deadline.budget - _transfer(obj))
        if limits.seconds < 0.8 * most:
            logger.info("%s: out of time in this invocation, read next time", obj.key)
            return None
        entry["time-budget"] = round(deadline.budget, 1)
    if found.sha256 is not None:
        entry["sha256"] = found.sha256
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
        return entry
    # Only the first bytes: a marker of any size costs one small ranged read.
    reason = b""
    if marker.size:
        reason = storage.get_range(
            marker.key, 0, min(marker.size, MAX_YANK_REASON) - 1, marker.etag
        )
    text = " ".join(reason.decode("utf-8", errors="replace").split())
    entry["yanked"] = text or True
    entry["marker-etag"] = marker.etag
    return entry


# -- the incremental path: files an event names ---------------------------
#
# An event that names new distributions of a project that has a manifest adds
# them to it: one GET of the manifest, one GET of each file (conditional on the
# ETag the event gave), its metadata file, and one conditional write of the
# manifest with its pages. Whatever does not add up returns None, and the
# caller takes the full path.


@dataclass(frozen=True, slots=True)
class Upload:
    """A new object an event names, with the ETag (quoted) and size it gave."""

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
) -> ProjectResult | None:
    """Add the files an event names to the project's manifest, or None: the event
    does not match the bucket or the manifest, and only a listing can tell.

    A lost race is retried from a fresh read of the manifest: the file's entry is
    kept, the file itself is checked again (a removal may have come between).
    """
    deadline = deadline or Deadline()
    memory = _Memory()
    for attempt in range(ADD_ATTEMPTS):
        if attempt:
            _backoff(attempt)
        fetched = storage.get(manifest_key(project))
        current = fetched if isinstance(fetched, Blob) else None
        old = _load_manifest(current)
        if old is None or not _recently_listed(current, time.time()):
            return None  # no manifest, or its last listing is too old: list the project
        new = _unindexed(project, old, added)
        if new is None:
            return None
        try:
            entries = [
                _read_upload(storage, project, item, memory, deadline, again=attempt > 0)
                for item in new
            ]
        except (PreconditionFailed, ObjectMissing) as error:
            logger.info("%s: an event does not match the bucket (%s), listing it", project, error)
            return None
        if None in entries:
            return None  # out of time for a file: the full path checkpoints
        files = [*old["files"], *(entry for entry in entries if entry is not None)]
        manifest = manifests.new(
            project, list(old["folders"]), files, skipped=old.get("skipped", 0)
        )
        try:
            changed = _Writer(storage, project, current, old, None).write(manifest)
        except PreconditionFailed:
            logger.info("%s: another reindex wrote first, adding again", project)
            continue
        if changed:
            logger.info("indexed %s: %d files (%d added)", project, len(files), len(new))
        return ProjectResult(project, len(files), changed, memory.inspected, root=not old["files"])
    raise ConflictError(f"{project}: gave up after {ADD_ATTEMPTS} conflicting writes")


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
    memory: _Memory,
    deadline: Deadline,
    again: bool,
) -> Entry | None:
    """The entry of a new file, read once and checked against the event's ETag;
    on a later round (``again``) the file is checked to be still there. None when
    it cannot be read in this invocation."""
    if (item.key, item.etag) in memory.entries:
        if again:
            storage.info(item.key, item.etag)
        cached = _remembered(storage, project, item.key, item.etag, memory)
        return cached.copy() if cached is not None else None
    hinted = ObjectInfo(item.key, item.etag, item.size, datetime.now(UTC))
    if not (deadline.ever_allows(hinted) and deadline.allows(hinted)):
        return None
    if item.size <= distfile.SMALL_FILE:
        data, obj = storage.read(item.key, item.etag, item.size)
        source = storage.holding(obj, data)
    else:
        obj, source = storage.info(item.key, item.etag), storage
    entry = _inspect(storage, project, obj, memory, deadline, source)
    if entry is None:
        return None
    memory.entries[(obj.key, obj.etag)] = entry
    return entry.copy()


# -- the root index ---------------------------------------------------------
#
# index.json (the api's source, see ``rootindex.py``) is written first;
# index.html, the PEP 503 page the older module's layout keeps at the bucket
# root, records in its metadata the ETag of the index.json it was rendered
# from. Every writer checks both after writing, so whoever writes last leaves
# them in step.

_SOURCE = "source"  # index.html metadata: the ETag of the index.json it shows


def _has_files(storage: Storage, project: str) -> bool:
    head = storage.head(manifest_key(project))
    if head is None:
        return False
    return str(head.get("Metadata", {}).get("files", "0")) not in ("", "0")


def _root_names(blob: Blob | None) -> set[str] | None:
    if blob is None:
        return None
    index = rootindex.decode(blob.body)
    if index is None:
        logger.warning("unreadable root index: rewriting it")
        return None
    return set(rootindex.names(index))


def _html_source(storage: Storage) -> tuple[str | None, str | None]:
    """index.html's ETag and the index.json ETag it was rendered from."""
    head = storage.head(ROOT_HTML)
    if head is None:
        return None, None
    return head["ETag"], str(head.get("Metadata", {}).get(_SOURCE, "")).strip('"') or None


def update_root(
    storage: Storage,
    changes: Mapping[str, bool],
    *,
    verify: bool = True,
    force: bool = False,
) -> bool:
    """Add the projects that have files to the root index, drop those that have none.

    With ``verify`` the presence of each changed project is read back from
    its manifest after the root is read, so that racing writers converge.
    Lost races are retried after a jittered, growing wait.
    """
    wrote = False
    for attempt in range(ROOT_ATTEMPTS):
        if attempt:
            _backoff(attempt)
        fetched = storage.get(ROOT_JSON)
        current = fetched if isinstance(fetched, Blob) else None
        names = _root_names(current)
        present = {
            project: (_has_files(storage, project) if verify else has)
            for project, has in changes.items()
        }
        updated = ((names or set()) - {p for p, has in present.items() if not has}) | {
            p for p, has in present.items() if has
        }
        ordered = sorted(updated)
        try:
            if names != updated or current is None or force:
                etag = storage.put(
                    ROOT_JSON,
                    rootindex.encode(ordered),
                    "application/json",
                    if_match=current.etag if current else None,
                    if_absent=current is None,
                )
                wrote, force = True, False
            else:
                etag = current.etag
            html_etag, source = _html_source(storage)
            if source != etag.strip('"'):
                storage.put(
                    ROOT_HTML,
                    simple.root_html(ordered).encode(),
                    "text/html; charset=utf-8",
                    if_match=html_etag,
                    if_absent=html_etag is None,
                    metadata={_SOURCE: etag.strip('"')},
                )
                wrote = True
                after = storage.head(ROOT_JSON)
                if after is None or after.get("ETag") != etag:
                    continue  # index.json moved on while index.html was written
        except PreconditionFailed:
            continue
        if wrote:
            logger.info("root index: %d projects", len(ordered))
        return wrote
    raise ConflictError(f"root index: gave up after {ROOT_ATTEMPTS} conflicting writes")


# -- many projects at once --------------------------------------------------


# Called after each project: (projects done, projects in all, the result).
Progress = Callable[[int, int, ProjectResult], None]


@dataclass(frozen=True, slots=True)
class BatchResult:
    results: tuple[ProjectResult, ...]
    failures: Mapping[str, BaseException]

    @property
    def files(self) -> int:
        return sum(result.files for result in self.results)


def reindex_projects(
    storage: Storage,
    projects: Mapping[str, Iterable[str]],
    snapshots: Mapping[str, Snapshot] | None = None,
    progress: Progress | None = None,
    deadline: Deadline | None = None,
) -> BatchResult:
    """Reindex several projects (in threads); a failing project does not stop the rest."""

    def run(project: str) -> ProjectResult:
        snapshot = (snapshots or {}).get(project)
        return reindex_project(storage, project, projects[project], snapshot, deadline)

    return _each(projects, run, progress)


def apply_changes(
    storage: Storage, changes: Iterable[Change], deadline: Deadline | None = None
) -> BatchResult:
    """Bring the projects that ``changes`` (one event's) touch in step with the bucket:
    new files of an indexed project incrementally, anything else with a listing."""
    by_project: dict[str, list[Change]] = {}
    for change in changes:
        by_project.setdefault(change.project, []).append(change)

    def run(project: str) -> ProjectResult:
        found = by_project[project]
        added = uploads(found)
        result = add_files(storage, project, added, deadline) if added else None
        if result is not None:
            return result
        folders = {change.folder for change in found}
        touch = any(change.removal for change in found)
        return reindex_project(storage, project, folders, deadline=deadline, touch=touch)

    return _each(by_project, run)


def _each(
    projects: Iterable[str],
    run: Callable[[str], ProjectResult],
    progress: Progress | None = None,
) -> BatchResult:
    """``run`` for each project, in threads; a failing project does not stop the rest."""
    names = sorted(projects)
    results: list[ProjectResult] = []
    failures: dict[str, BaseException] = {}
    with ThreadPoolExecutor(max_workers=min(WORKERS, max(1, len(names)))) as pool:
        futures = {project: pool.submit(run, project) for project in names}
        for project, future in futures.items():
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - reported per project, re-raised by callers
                logger.error("could not reindex %s: %s", project, error)
                failures[project] = error
                continue
            results.append(result)
            if progress is not None:
                progress(len(results) + len(failures), len(names), result)
    return BatchResult(tuple(results), failures)


def bucket_projects(storage: Storage) -> dict[str, list[ObjectInfo]]:
    """Every object one level deep in a project's folder (any spelling), by normalized
    project: one listing of the whole bucket."""
    by_folder: dict[str, list[ObjectInfo]] = {}
    # Project names start with a letter or digit, all after "/": starting
    # there skips the derived area (".serverless-pypi/") in the listing.
    for obj in storage.list("", start_after="/"):
        folder, slash, rest = obj.key.partition("/")
        if slash and "/" not in rest and not obj.key.startswith(DERIVED_PREFIX):
            by_folder.setdefault(folder, []).append(obj)
    objects: dict[str, list[ObjectInfo]] = {}
    for folder, found in by_folder.items():
        if not is_valid_name(folder):
            logger.warning("skipped folder %r: not a project name", folder)
            continue
        objects.setdefault(normalize(folder), []).extend(found)
    return objects


def indexed_projects(storage: Storage) -> set[str]:
    """Every project with a manifest: one listing of the manifests."""
    return {
        obj.key[len(MANIFEST_PREFIX) : -len(".json")]
        for obj in storage.list(MANIFEST_PREFIX)
        if obj.key.endswith(".json")
    }


def rebuild(storage: Storage, progress: Progress | None = None) -> BatchResult:
    """Re-derive every project in the bucket and the root index (for a bucket filled elsewhere)."""
    listed = time.time()
    objects = bucket_projects(storage)
    projects = {
        project: {obj.key.partition("/")[0] for obj in found} for project, found in objects.items()
    }
    indexed = indexed_projects(storage)
    for project in indexed:
        projects.setdefault(project, set())  # gone from the bucket: its manifest empties
    snapshots = {
        project: Snapshot(True, tuple(objects.get(project, ())), listed)
        for project in projects
        if project not in indexed
    }
    batch = reindex_projects(storage, projects, snapshots, progress)
    update_root(
        storage,
        {result.project: result.files > 0 for result in batch.results},
        verify=False,
        force=True,
    )
    return batch
