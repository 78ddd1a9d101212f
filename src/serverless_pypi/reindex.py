"""Lambda handler for S3 notifications delivered by SNS: keep the index in step."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from . import batch as batches
from . import notifications
from .catalogwriter import update_catalog
from .changeevents import IndexChange
from .config import ReindexSettings, log_level
from .deadline import Deadline
from .eventbus import EventBus
from .eventbus import make_client as make_events_client
from .rootwriter import update_root
from .storage import Storage, make_client


@dataclass(frozen=True, slots=True)
class Reindexer:
    """The reindex handler, made from its settings and a Storage (nothing here
    reads the environment): Lambda, ``serverless-pypi serve`` and the tests
    build one. With a ``bus``, each change its manifest writes make visible is
    put on it as an event (docs/events.md), once the writes are done."""

    settings: ReindexSettings
    storage: Storage
    bus: EventBus | None = None

    @classmethod
    def from_env(cls) -> Reindexer:
        settings = ReindexSettings.from_env()
        storage = Storage(make_client(), settings.bucket)
        if settings.event_bus is None:
            return cls(settings, storage)
        bus = EventBus(make_events_client(settings.event_bus), settings.event_bus, settings.bucket)
        return cls(settings, storage, bus)

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        found = notifications.changes(event, self.settings.bucket)
        projects = {change.project for change in found}
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        deadline = Deadline.from_remaining(remaining()) if callable(remaining) else None
        recorded: list[IndexChange] | None = [] if self.bus is not None else None
        try:
            batch = batches.apply_changes(self.storage, found, deadline, recorded)
            present = {result.project: result.files > 0 for result in batch.results if result.root}
            if present:
                update_root(self.storage, present)
            cards = {result.project: result.card for result in batch.results if result.changed}
            if cards and self.settings.catalog:
                update_catalog(self.storage, cards)
        finally:
            # Whatever fails after them, the writes that were made are told of: a
            # retried event derives no change from a manifest already written.
            if self.bus is not None and recorded:
                self.bus.emit(recorded)
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
