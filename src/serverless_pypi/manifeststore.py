"""The stored manifest: reading it, telling whether a project has one, and
writing it with its pages under the conditional rules every writer follows.

``manifest.py`` is the contract (the shape, its encoding, the stored object's
layout), pure; this module is its I/O, as ``rootwriter.py`` is ``rootindex.py``'s.
Every reader and writer goes through it, except the api's page path, which reads
the object with a conditional GET of its own and passes a stored page through.

A stored manifest records in its metadata when the listing behind it began
(``LISTED``): an event's incremental add trusts a manifest listed within
RELIST_SECONDS, and a project is listed again after that.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from . import details as projectdetails
from . import manifest as manifests
from . import simple
from .changeevents import IndexChange, derived
from .layout import manifest_key, metadata_key, status_key
from .logs import get_logger
from .manifest import Manifest, Pages, Status
from .objects import Blob
from .payload import fits, gzipped
from .storage import Storage

logger = get_logger(__name__)

# A project is listed again, whatever its events say, when its last listing is
# older than this: an event lost for good (after Lambda's retries) is made up for
# by the project's next event after that.
RELIST_SECONDS = 3600
LISTED = "listed"  # the stored object's metadata: when its last listing began (Unix seconds)
LARGE_PROJECT = 20_000  # below this many files every page fits a Lambda response


@dataclass(frozen=True, slots=True)
class Stored:
    """A project's stored manifest object (None: there is none) and the manifest
    it holds (None: none, or unreadable)."""

    blob: Blob | None
    manifest: Manifest | None


def load(blob: Blob | None) -> Manifest | None:
    """The manifest a stored object holds; None (and a warning) when it holds none."""
    if blob is None:
        return None
    manifest = manifests.decode(blob.body)
    if manifest is None:
        logger.warning("unreadable or malformed manifest (etag %s): rebuilding it", blob.etag)
    return manifest


def read(storage: Storage, project: str) -> Stored:
    """The project's stored manifest: one GET."""
    fetched = storage.get(manifest_key(project))
    blob = fetched if isinstance(fetched, Blob) else None
    return Stored(blob, load(blob))


def exists(storage: Storage, project: str) -> bool:
    """Whether the project has a manifest (the name is this index's): one HEAD."""
    return storage.head(manifest_key(project)) is not None


def has_files(storage: Storage, project: str) -> bool:
    """Whether the project's manifest lists any file (its metadata says so) and
    the root index lists it (it is not quarantined): one HEAD."""
    head = storage.head(manifest_key(project))
    if head is None:
        return False
    metadata = head.get("Metadata", {})
    if manifests.stored_status(metadata) == manifests.QUARANTINED:
        return False
    return str(metadata.get(manifests.FILES, "0")) not in ("", "0")


def status_of(storage: Storage, project: str) -> str:
    """The project's status, from its manifest object's metadata: one HEAD."""
    head = storage.head(manifest_key(project))
    return manifests.stored_status(head.get("Metadata", {})) if head else manifests.ACTIVE


def read_status(storage: Storage, project: str) -> Status | None:
    """The status the command line last set for the project (its status object):
    one GET; None when active or never set."""
    fetched = storage.get(status_key(project))
    if not isinstance(fetched, Blob):
        return None
    try:
        return manifests.project_status(json.loads(fetched.body))
    except (ValueError, RecursionError):
        logger.warning("%s: unreadable status object, taken as active", project)
        return None


def write_status(storage: Storage, project: str, status: Status | None) -> None:
    """Store the project's status object (delete it when the project is active)."""
    if status is None:
        storage.delete(status_key(project))
        return
    body = json.dumps(status, separators=(",", ":"), ensure_ascii=False).encode()
    storage.put(status_key(project), body, "application/json")


def delete(storage: Storage, project: str) -> None:
    """Delete the project's manifest, and its pages with it."""
    storage.delete(manifest_key(project))


def listed_at(blob: Blob | None) -> float | None:
    """When the listing behind a stored manifest began (None: not known)."""
    try:
        return float(blob.metadata[LISTED]) if blob else None
    except (KeyError, ValueError):
        return None


def recently_listed(blob: Blob | None, now: float) -> bool:
    listed = listed_at(blob)
    return listed is not None and 0 <= now - listed < RELIST_SECONDS


def fit_pages(manifest: Manifest) -> Pages | None:
    """The project's pages as the api sends them (None without files), made to fit
    a Lambda response.

    Two SHA-256 digests per file do not compress: past about 45,000 files
    the gzipped page outgrows Lambda's 6 MB response. Such a project's
    pages announce core metadata without its hash (PEP 658 allows it).
    """
    manifest.pop("metadata-hashes", None)
    if not manifest["files"] and manifests.project_status(manifest.get("status")) is None:
        return None  # a page with a status marker and no file still tells its status
    pages = _pages(manifest)
    if len(manifest["files"]) >= LARGE_PROJECT and not (fits(pages.html) and fits(pages.json)):
        manifest["metadata-hashes"] = False
        pages = _pages(manifest)
    return pages


def _pages(manifest: Manifest) -> Pages:
    html, json = simple.redirect_pages(manifest)
    return Pages(gzipped(html.encode()), gzipped(json.encode()))


def stored_object(manifest: Manifest, listed: float | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and metadata of ``manifest``'s stored object, its pages with it,
    as the writer stores it after a listing that began at ``listed``."""
    return _packed(manifest, fit_pages(manifest), listed)


def _packed(
    manifest: Manifest, pages: Pages | None, listed: float | None, stamp: int = 0
) -> tuple[bytes, dict[str, str]]:
    body, metadata = manifests.pack(manifest, pages, simple.RENDER_VERSION, stamp)
    metadata[manifests.FILES] = str(len(manifest["files"]))
    status = manifests.status_of(manifest)
    if status != manifests.ACTIVE:
        metadata[manifests.STATUS] = status
    if listed is not None:
        metadata[LISTED] = str(int(listed))
    return body, metadata


class Writer:
    """Writes one project's manifest and its pages, each time only if nobody else
    did first (If-Match the ETag it read or last wrote; If-None-Match when there
    was none).

    ``listed`` is when the listing behind the manifests it writes began; None for
    an incremental add, which keeps what the stored manifest says. ``recorded``
    gets the changes each write makes visible (``changeevents.derived``);
    ``metadata`` the metadata files the caller read (``attach_details``).
    """

    def __init__(
        self,
        storage: Storage,
        stored: Stored,
        listed: float | None,
        recorded: list[IndexChange] | None = None,
        metadata: Mapping[tuple[str, str], bytes] | None = None,
    ) -> None:
        self.storage = storage
        self.recorded = recorded
        # Metadata files just read, by (key, ETag) of their distribution: the
        # details are taken from them rather than read back.
        self.metadata = metadata if metadata is not None else {}
        current = stored.blob
        self.etag = current.etag if current else None
        self.last = stored.manifest
        # An unchanged manifest is not written again if the stored object is this
        # release's (its pages rendered the way the api expects them) and, after a
        # listing, tells of a recent one.
        self.up_to_date = (
            current is not None
            and manifests.stored_render(current.metadata) == simple.RENDER_VERSION
            and (listed is None or recently_listed(current, listed))
        )
        self.listed = listed if listed is not None else listed_at(current)
        self.wrote_at = time.monotonic()

    def write(self, manifest: Manifest, touch: bool = False) -> bool:
        """Write ``manifest`` unless it is what is there (``touch``: write it anyway,
        as other bytes); PreconditionFailed on a lost race."""
        attach_details(self.storage, manifest, self.last, self.metadata)
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
        body, metadata = _packed(manifest, pages, self.listed, stamp)
        self.etag = self.storage.put(
            manifest_key(manifest["name"]),
            body,
            "application/json",
            content_encoding="gzip",
            if_match=self.etag,
            if_absent=self.etag is None,
            metadata=metadata,
        )
        if self.recorded is not None:
            self.recorded.extend(derived(self.last, manifest))
        self.last, self.up_to_date, self.wrote_at = manifest, True, time.monotonic()
        return True


def attach_details(
    storage: Storage,
    manifest: Manifest,
    last: Manifest | None,
    known: Mapping[tuple[str, str], bytes] | None = None,
) -> None:
    """Put the project's details (``details.py``) in ``manifest``: those of ``last``
    when they came from the same metadata, else from the metadata file of the file
    that describes the project: ``known`` (by the file's key and ETag) when the
    caller just read it, or one GET; none without such a file."""
    entry = projectdetails.source(manifest["files"])
    if entry is None:
        manifest.pop("details", None)
        return
    kept = projectdetails.valid(last.get("details")) if last else None
    same = entry["filename"], entry.get("core-metadata")
    if kept is not None and (kept["from"], kept.get("sha256")) == same:
        manifest["details"] = kept
        return
    data = (known or {}).get((entry["key"], entry["etag"]))
    if data is None:
        fetched = storage.get(metadata_key(manifest["name"], entry["filename"]))
        if not isinstance(fetched, Blob):
            manifest.pop("details", None)
            return
        data = fetched.body
    found = projectdetails.parse(data, entry["filename"], entry["version"])
    if entry.get("core-metadata"):
        found["sha256"] = entry["core-metadata"]
    manifest["details"] = found
