"""Many projects at once: an event's projects (``apply_changes``, the reindex
function) and the whole bucket (``rebuild``, ``serverless-pypi reindex``), each
project in a thread; a failing project does not stop the rest."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import incremental
from .catalogwriter import update_catalog
from .changeevents import IndexChange
from .deadline import Deadline
from .indexer import ProjectResult, Snapshot, reindex_project
from .logs import get_logger
from .notifications import Change
from .rootwriter import update_root
from .storage import Storage

logger = get_logger(__name__)

WORKERS = 16

# Called after each project: (projects done, projects in all, the result).
Progress = Callable[[int, int, ProjectResult], None]


@dataclass(frozen=True, slots=True)
class BatchResult:
    results: tuple[ProjectResult, ...]
    failures: Mapping[str, BaseException]

    @property
    def files(self) -> int:
        return sum(result.files for result in self.results)


def apply_changes(
    storage: Storage,
    changes: Iterable[Change],
    deadline: Deadline | None = None,
    recorded: list[IndexChange] | None = None,
) -> BatchResult:
    """Bring the projects that ``changes`` (one event's) touch in step with the bucket:
    new files of an indexed project incrementally, anything else with a listing.
    ``recorded`` gets the changes each manifest write made visible."""
    by_project: dict[str, list[Change]] = {}
    for change in changes:
        by_project.setdefault(change.project, []).append(change)

    def run(project: str) -> ProjectResult:
        found = by_project[project]
        added = incremental.uploads(found)
        result = (
            incremental.add_files(storage, project, added, deadline, recorded) if added else None
        )
        if result is not None:
            return result
        folders = {change.folder for change in found}
        touch = any(change.removal for change in found)
        return reindex_project(
            storage, project, folders, deadline=deadline, touch=touch, recorded=recorded
        )

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


def rebuild(storage: Storage, progress: Progress | None = None) -> BatchResult:
    """Re-derive every project in the bucket and the root index (for a bucket filled elsewhere)."""
    listed = time.time()
    objects = storage.projects()
    projects = {
        project: {obj.key.partition("/")[0] for obj in found} for project, found in objects.items()
    }
    indexed = storage.indexed_projects()
    for project in indexed:
        projects.setdefault(project, set())  # gone from the bucket: its manifest empties
    statuses = storage.status_projects()
    snapshots = {
        project: Snapshot(tuple(objects.get(project, ())), listed, project in statuses)
        for project in projects
        if project not in indexed
    }

    def run(project: str) -> ProjectResult:
        return reindex_project(storage, project, projects[project], snapshots.get(project))

    batch = _each(projects, run, progress)
    update_root(
        storage,
        {result.project: result.files > 0 and not result.quarantined for result in batch.results},
        verify=False,
        force=True,
    )
    if not batch.failures:  # a project that failed would drop out of the list
        update_catalog(
            storage, {result.project: result.card for result in batch.results}, replace=True
        )
    else:
        update_catalog(storage, {result.project: result.card for result in batch.results})
    return batch
