"""Lambda handler for S3 notifications delivered by SNS: keep the index in step."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from . import batch as batches
from . import notifications
from .config import ReindexSettings, log_level
from .deadline import Deadline
from .rootwriter import update_root
from .storage import Storage, make_client


@dataclass(frozen=True, slots=True)
class Reindexer:
    """The reindex handler, made from its settings and a Storage (nothing here
    reads the environment): Lambda, ``serverless-pypi serve`` and the tests
    build one."""

    settings: ReindexSettings
    storage: Storage

    @classmethod
    def from_env(cls) -> Reindexer:
        settings = ReindexSettings.from_env()
        return cls(settings, Storage(make_client(), settings.bucket))

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        found = notifications.changes(event, self.settings.bucket)
        projects = {change.project for change in found}
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        deadline = Deadline.from_remaining(remaining()) if callable(remaining) else None
        batch = batches.apply_changes(self.storage, found, deadline)
        present = {result.project: result.files > 0 for result in batch.results if result.root}
        if present:
            update_root(self.storage, present)
        if batch.failures:
            # Fail the invocation: Lambda retries it, then hands it to the
            # on-failure destination. Reindexing is idempotent.
            failed = ", ".join(sorted(batch.failures))
            error = next(iter(batch.failures.values()))
            raise RuntimeError(f"could not reindex {failed}") from error
        return {
            "projects": sorted(projects),
            "changed": sorted(result.project for result in batch.results if result.changed),
            "files": batch.files,
        }


@functools.cache
def default_reindexer() -> Reindexer:
    """The Reindexer of this container, made once from Lambda's environment."""
    logging.getLogger("serverless_pypi").setLevel(log_level())
    return Reindexer.from_env()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """The Lambda entry point."""
    return default_reindexer()(event, context)
