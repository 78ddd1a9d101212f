"""Writes the catalog (``catalog.py``): after the reindexer's manifest writes, the
cards of the projects they changed, with one conditional write; a lost race is
read again and retried, so that concurrent reindexes all land."""

from __future__ import annotations

from collections.abc import Mapping

from . import catalog, retry
from .catalog import CATALOG, Card
from .logs import get_logger
from .objects import Blob, PreconditionFailed
from .storage import Storage

logger = get_logger(__name__)

CONFLICTS = retry.racing(64)  # one hot object, as the root index is


def update_catalog(
    storage: Storage, changes: Mapping[str, Card | None], *, replace: bool = False
) -> bool:
    """Put the changed projects' cards in the catalog (None: take the project out);
    with ``replace``, the catalog is ``changes``' cards only (a rebuild's). Whether
    it was written."""
    for _ in retry.conflicts(CONFLICTS, "catalog"):
        fetched = storage.get(CATALOG)
        current = fetched if isinstance(fetched, Blob) else None
        cards = catalog.decode(current.body) if current else None
        if current is not None and cards is None:
            logger.warning("unreadable catalog: rewriting it")
        base = {} if replace or cards is None else cards
        new = catalog.updated(base, changes)
        if cards == new and current is not None:
            return False
        try:
            storage.put(
                CATALOG,
                catalog.encode(new),
                "application/json",
                if_match=current.etag if current else None,
                if_absent=current is None,
            )
        except PreconditionFailed:
            continue
        logger.info("catalog: %d projects", len(new))
        return True
    raise AssertionError("unreachable: retry.conflicts raises when the rounds run out")
