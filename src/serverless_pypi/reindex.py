"""Lambda handler for S3 notifications delivered by SNS: keep the index in step."""

from __future__ import annotations

import functools
import logging
from typing import Any

from . import events, indexer
from .config import Settings, log_level
from .storage import Storage, make_client


@functools.cache
def _runtime() -> tuple[Settings, Storage]:
    """Settings and the S3 client, made once per container."""
    logging.getLogger("serverless_pypi").setLevel(log_level())
    settings = Settings.from_env()
    return settings, Storage(make_client(), settings.bucket)


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    settings, storage = _runtime()
    found = events.changes(event, settings.bucket)
    projects: dict[str, set[str]] = {}
    for change in found:
        projects.setdefault(change.project, set()).add(change.folder)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    deadline = indexer.Deadline.from_remaining(remaining()) if callable(remaining) else None
    batch = indexer.reindex_projects(storage, projects, deadline=deadline)
    if batch.results:
        indexer.update_root(storage, {result.project: result.files > 0 for result in batch.results})
    if batch.failures:
        # Fail the invocation: Lambda retries it, then hands it to the
        # on-failure destination. Reindexing is idempotent.
        failed = ", ".join(sorted(batch.failures))
        raise RuntimeError(f"could not reindex {failed}") from next(iter(batch.failures.values()))
    return {
        "projects": sorted(projects),
        "changed": sorted(result.project for result in batch.results if result.changed),
        "files": batch.files,
    }


def rebuild(storage: Storage | None = None) -> indexer.BatchResult:
    """Reindex every project of the configured bucket (for a bucket filled by another tool)."""
    if storage is None:
        storage = _runtime()[1]
    return indexer.rebuild(storage)
