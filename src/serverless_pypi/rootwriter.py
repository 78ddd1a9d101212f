"""Writes the root index: index.json (the api's source, see ``rootindex.py``) first,
then index.html, the PEP 503 page the older module's layout keeps at the bucket root,
which records in its metadata the ETag of the index.json it was rendered from.
Every writer checks both after writing, so whoever writes last leaves them in step.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import manifeststore, retry, rootindex, simple
from .layout import ROOT_HTML, ROOT_JSON
from .logs import get_logger
from .objects import Blob, PreconditionFailed
from .storage import Storage

logger = get_logger(__name__)

CONFLICTS = retry.racing(64)  # the root index is one hot object: more rounds
_SOURCE = "source"  # index.html metadata: the ETag of the index.json it shows


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
    for _ in retry.conflicts(CONFLICTS, "root index"):
        fetched = storage.get(ROOT_JSON)
        current = fetched if isinstance(fetched, Blob) else None
        names = _root_names(current)
        present = {
            project: (manifeststore.has_files(storage, project) if verify else has)
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
    raise AssertionError("unreachable: retry.conflicts raises when the rounds run out")
