"""Derive the index from the bucket: project manifests, metadata files, root index.

The bucket is the truth. Each project is re-derived from a listing of its
folders; events only say which projects to look at, so lost, repeated or
reordered events heal on the next one. Writes are conditional (If-Match /
If-None-Match): when two reindexers race on one project, the loser re-reads
and re-derives, so no file ever drops out of the index.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import distfile, simple
from .http import fits_gzipped
from .layout import (
    DERIVED_PREFIX,
    MANIFEST_PREFIX,
    ROOT_HTML,
    ROOT_JSON,
    YANK_SUFFIX,
    manifest_key,
    metadata_key,
)
from .names import DISTRIBUTION_SUFFIXES, is_valid_name, normalize, parse_filename, version_key
from .objects import Blob, ObjectInfo, ObjectMissing, PreconditionFailed
from .storage import Storage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
LARGE_PROJECT = 20_000  # below this many files every page fits a Lambda response
_ENTRY_KEYS = {"filename", "key", "version", "size", "etag", "sha256"}
MAX_YANK_REASON = 1024
WORKERS = 16


class ConflictError(RuntimeError):
    """Other writers kept winning; the invocation fails so that it is retried."""


@dataclass(frozen=True, slots=True)
class ProjectResult:
    project: str
    files: int
    changed: bool
    inspected: int = 0
    skipped: tuple[str, ...] = ()


@dataclass(slots=True)
class _Derivation:
    files: list[dict[str, Any]] = field(default_factory=list)
    folders: set[str] = field(default_factory=set)
    inspected: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a full rebuild already knows about a project, from bulk listings."""

    manifest_absent: bool
    objects: tuple[ObjectInfo, ...]


def upload_time(when: datetime) -> str:
    """PEP 700's ``upload-time``: ``yyyy-mm-ddThh:mm:ss.ffffffZ`` in UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _load_manifest(blob: Blob | None) -> dict[str, Any] | None:
    if blob is None:
        return None
    try:
        manifest = simple.decode_manifest(blob.body)
    except (ValueError, OSError, EOFError):
        logger.warning("unreadable manifest (etag %s): rebuilding it", blob.etag)
        return None
    if not isinstance(manifest, dict) or manifest.get("schema") != simple.SCHEMA:
        return None
    entries = manifest.get("files")
    folders = manifest.get("folders")
    if not isinstance(entries, list) or not isinstance(folders, list):
        return None
    if not all(isinstance(entry, dict) and entry.keys() >= _ENTRY_KEYS for entry in entries):
        logger.warning("manifest %s has malformed entries: rebuilding it", blob.etag)
        return None
    return manifest


def _in_folder(objects: Iterable[ObjectInfo], folder: str) -> list[ObjectInfo]:
    prefix = folder + "/"
    return [obj for obj in objects if "/" not in obj.key[len(prefix) :]]


def fit_pages(manifest: dict[str, Any]) -> None:
    """Make sure the project's pages fit a Lambda response.

    Two SHA-256 digests per file do not compress: past about 45,000 files
    the gzipped page outgrows Lambda's 6 MB response. Such a project's
    pages announce core metadata without its hash (PEP 658 allows it).
    """
    manifest.pop("metadata-hashes", None)
    if len(manifest["files"]) < LARGE_PROJECT:
        return
    link = functools.partial(simple.relative_url, manifest["name"])
    if not all(
        fits_gzipped(render(manifest, link, simple.HASHES).encode())
        for render in (simple.project_html, simple.project_json)
    ):
        manifest["metadata-hashes"] = False


def _read_project(
    storage: Storage, project: str, hinted: set[str]
) -> tuple[Blob | None, dict[str, Any] | None, list[ObjectInfo]]:
    """The project's manifest, then a listing of its folders.

    The manifest is read *before* the listing: a listing taken after the
    read sees every file that any writer of that manifest saw.
    """
    fetched = storage.get(manifest_key(project))
    current = fetched if isinstance(fetched, Blob) else None
    old = _load_manifest(current)
    known = set(old.get("folders", [])) if old else set()
    objects = [
        obj
        for folder in sorted(known | hinted)
        for obj in _in_folder(storage.list(folder + "/"), folder)
    ]
    return current, old, objects


def reindex_project(
    storage: Storage,
    project: str,
    folders: Iterable[str] = (),
    snapshot: Snapshot | None = None,
) -> ProjectResult:
    """Re-derive one project's manifest from the bucket and write it if it changed."""
    hinted = set(folders)
    written: dict[str, str] = {}  # filename -> ETag its metadata file was written from
    for attempt in range(MAX_ATTEMPTS):
        if attempt == 0 and snapshot is not None and snapshot.manifest_absent:
            current, old, objects = None, None, list(snapshot.objects)
        else:
            current, old, objects = _read_project(storage, project, hinted)
        try:
            derived = _derive(storage, project, objects, old, written)
        except (PreconditionFailed, ObjectMissing) as error:
            logger.info("%s changed while being read (%s): starting over", project, error)
            continue
        manifest: dict[str, Any] = {
            "schema": simple.SCHEMA,
            "name": project,
            "folders": sorted(derived.folders),
            "files": derived.files,
        }
        fit_pages(manifest)
        result = ProjectResult(
            project, len(derived.files), False, derived.inspected, tuple(derived.skipped)
        )
        if manifest == old or (current is None and not derived.files):
            return result
        try:
            storage.put(
                manifest_key(project),
                simple.encode_manifest(manifest),
                "application/json",
                content_encoding="gzip",
                if_match=current.etag if current else None,
                if_absent=current is None,
                metadata={"files": str(len(derived.files))},
            )
        except PreconditionFailed:
            logger.info("%s: another reindex wrote first, starting over", project)
            continue
        logger.info(
            "indexed %s: %d files (%d read, %d skipped)",
            project,
            len(derived.files),
            derived.inspected,
            len(derived.skipped),
        )
        return ProjectResult(project, len(derived.files), True, derived.inspected, result.skipped)
    raise ConflictError(f"{project}: gave up after {MAX_ATTEMPTS} conflicting writes")


def _derive(
    storage: Storage,
    project: str,
    objects: list[ObjectInfo],
    old: Mapping[str, Any] | None,
    written: dict[str, str],
) -> _Derivation:
    derived = _Derivation()
    previous = {entry["key"]: entry for entry in (old or {}).get("files", [])}
    markers: dict[str, ObjectInfo] = {}
    candidates: dict[str, list[ObjectInfo]] = {}
    for obj in objects:
        folder, _, filename = obj.key.partition("/")
        if filename.endswith(YANK_SUFFIX):
            markers[f"{folder}/{filename[: -len(YANK_SUFFIX)]}"] = obj
            continue
        if not filename.endswith(DISTRIBUTION_SUFFIXES):
            continue
        derived.folders.add(folder)
        if parse_filename(filename, project) is None:
            derived.skipped.append(obj.key)
            logger.warning("skipped %s: not a distribution of %s", obj.key, project)
            continue
        candidates.setdefault(filename, []).append(obj)
    for filename, found in candidates.items():
        # The same filename in two spellings of the folder: the first upload wins.
        found.sort(key=lambda obj: (obj.last_modified, obj.key))
        for duplicate in found[1:]:
            derived.skipped.append(duplicate.key)
            logger.warning("skipped %s: %s is already in %s", duplicate.key, filename, found[0].key)
        obj = found[0]
        prior = previous.get(obj.key)
        stale = filename in written and written[filename] != obj.etag
        if prior and prior["etag"] == obj.etag and prior["size"] == obj.size and not stale:
            entry = dict(prior)
        else:
            entry = _inspect(storage, project, filename, obj, written)
            derived.inspected += 1
        _apply_marker(storage, entry, markers.get(obj.key), prior)
        entry["href"] = simple.relative_url(project, {"key": obj.key})
        derived.files.append(entry)
    derived.files.sort(key=lambda entry: (version_key(entry["version"]), entry["filename"]))
    return derived


def _inspect(
    storage: Storage, project: str, filename: str, obj: ObjectInfo, written: dict[str, str]
) -> dict[str, Any]:
    dist = parse_filename(filename, project)
    assert dist is not None
    found = distfile.inspect(storage, obj, dist)
    entry: dict[str, Any] = {
        "filename": filename,
        "key": obj.key,
        "version": dist.version,
        "size": obj.size,
        "etag": obj.etag,
        "sha256": found.sha256,
        "upload-time": upload_time(obj.last_modified),
    }
    if found.parsed is not None and found.parsed.requires_python:
        entry["requires-python"] = found.parsed.requires_python
    if found.metadata is None or found.parsed is None:
        logger.warning("indexed %s without metadata: %s", obj.key, found.problem)
        return entry
    if dist.kind == "sdist" and not found.parsed.reliable:
        # PEP 643: before metadata 2.2 (or with dynamic dependencies) an
        # sdist's PKG-INFO may not match what building it produces.
        logger.info("%s: PKG-INFO is not static metadata, not announced", obj.key)
        return entry
    storage.put(metadata_key(project, filename), found.metadata, "text/plain; charset=utf-8")
    written[filename] = obj.etag
    entry["core-metadata"] = hashlib.sha256(found.metadata).hexdigest()
    return entry


def _apply_marker(
    storage: Storage,
    entry: dict[str, Any],
    marker: ObjectInfo | None,
    prior: Mapping[str, Any] | None,
) -> None:
    if marker is None:
        entry.pop("yanked", None)
        entry.pop("marker-etag", None)
        return
    if prior and prior.get("marker-etag") == marker.etag and "yanked" in prior:
        entry["yanked"] = prior["yanked"]
        entry["marker-etag"] = marker.etag
        return
    fetched = storage.get(marker.key)
    if not isinstance(fetched, Blob):
        raise ObjectMissing(marker.key)
    reason = fetched.body[:MAX_YANK_REASON].decode("utf-8", errors="replace").strip()
    entry["yanked"] = " ".join(reason.split()) or True
    entry["marker-etag"] = fetched.etag


# -- the root index ---------------------------------------------------------


def _has_files(storage: Storage, project: str) -> bool:
    head = storage.head(manifest_key(project))
    if head is None:
        return False
    return str(head.get("Metadata", {}).get("files", "0")) not in ("", "0")


def _root_names(blob: Blob | None) -> set[str] | None:
    if blob is None:
        return None
    try:
        page = json.loads(blob.body)
        return {str(item["name"]) for item in page["projects"]}
    except (ValueError, KeyError, TypeError):
        logger.warning("unreadable root index: rewriting it")
        return None


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
    """
    for _ in range(MAX_ATTEMPTS):
        fetched = storage.get(ROOT_JSON)
        current = fetched if isinstance(fetched, Blob) else None
        html = storage.head(ROOT_HTML)
        names = _root_names(current)
        present = {
            project: (_has_files(storage, project) if verify else has)
            for project, has in changes.items()
        }
        updated = ((names or set()) - {p for p, has in present.items() if not has}) | {
            p for p, has in present.items() if has
        }
        if names == updated and html is not None and not force:
            return False
        ordered = sorted(updated)
        try:
            storage.put(
                ROOT_HTML,
                simple.root_html(ordered).encode(),
                "text/html; charset=utf-8",
                if_match=html["ETag"] if html else None,
                if_absent=html is None,
            )
            storage.put(
                ROOT_JSON,
                simple.root_json(ordered).encode(),
                "application/json",
                if_match=current.etag if current else None,
                if_absent=current is None,
            )
        except PreconditionFailed:
            continue
        logger.info("root index: %d projects", len(ordered))
        return True
    raise ConflictError(f"root index: gave up after {MAX_ATTEMPTS} conflicting writes")


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
) -> BatchResult:
    """Reindex several projects (in threads); a failing project does not stop the rest."""
    results: list[ProjectResult] = []
    failures: dict[str, BaseException] = {}

    def run(project: str) -> ProjectResult:
        snapshot = (snapshots or {}).get(project)
        return reindex_project(storage, project, projects[project], snapshot)

    with ThreadPoolExecutor(max_workers=min(WORKERS, max(1, len(projects)))) as pool:
        futures = {project: pool.submit(run, project) for project in sorted(projects)}
        for project, future in futures.items():
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - reported per project, re-raised by callers
                logger.error("could not reindex %s: %s", project, error)
                failures[project] = error
                continue
            results.append(result)
            if progress is not None:
                progress(len(results) + len(failures), len(projects), result)
    return BatchResult(tuple(results), failures)


def rebuild(storage: Storage, progress: Progress | None = None) -> BatchResult:
    """Re-derive every project in the bucket and the root index (for a bucket filled elsewhere)."""
    by_folder: dict[str, list[ObjectInfo]] = {}
    # Project names start with a letter or digit, all after "/": starting
    # there skips the derived area (".serverless-pypi/") in the listing.
    for obj in storage.list("", start_after="/"):
        folder, slash, rest = obj.key.partition("/")
        if slash and "/" not in rest and not obj.key.startswith(DERIVED_PREFIX):
            by_folder.setdefault(folder, []).append(obj)
    projects: dict[str, set[str]] = {}
    objects: dict[str, list[ObjectInfo]] = {}
    for folder, found in by_folder.items():
        if not is_valid_name(folder):
            logger.warning("skipped folder %r: not a project name", folder)
            continue
        project = normalize(folder)
        projects.setdefault(project, set()).add(folder)
        objects.setdefault(project, []).extend(found)
    indexed = {
        obj.key[len(MANIFEST_PREFIX) : -len(".json")]
        for obj in storage.list(MANIFEST_PREFIX)
        if obj.key.endswith(".json")
    }
    for project in indexed:
        projects.setdefault(project, set())  # gone from the bucket: its manifest empties
    snapshots = {
        project: Snapshot(manifest_absent=True, objects=tuple(objects.get(project, ())))
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
