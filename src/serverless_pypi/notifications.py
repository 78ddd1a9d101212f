"""S3 notifications, as SNS delivers them, turned into the folders to reindex."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from .layout import NOTIFY_SUFFIXES, split_key
from .logs import get_logger
from .names import is_valid_name, normalize

logger = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Change:
    project: str  # normalized
    folder: str  # as spelled in the bucket
    key: str
    event: str
    # What S3 said of a created object: its ETag (quoted, as S3 returns ETags) and
    # size. Only hints: the reindexer checks them against the bucket before use.
    etag: str | None = None
    size: int | None = None

    @property
    def removal(self) -> bool:
        return self.event.startswith("ObjectRemoved")


def _s3_records(event: Any) -> Iterator[Mapping[str, Any]]:
    """The S3 records inside an SNS-wrapped (or direct) notification."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        logger.warning("skipped an event without Records")
        return
    for record in records:
        if not isinstance(record, Mapping):
            logger.warning("skipped a record that is not an object")
            continue
        sns = record.get("Sns")
        if isinstance(sns, Mapping):
            yield from _sns_message(sns.get("Message"))
        elif record.get("eventSource") == "aws:s3":
            yield record
        else:
            logger.warning("skipped a record from %r", record.get("EventSource"))


def _sns_message(message: Any) -> Iterator[Mapping[str, Any]]:
    try:
        body = json.loads(message) if isinstance(message, str) else None
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        logger.warning("skipped an SNS message that is not a JSON object")
        return
    if body.get("Event") == "s3:TestEvent":
        logger.info("received the S3 test event for bucket %s", body.get("Bucket"))
        return
    records = body.get("Records")
    if not isinstance(records, list):
        logger.warning("skipped an SNS message without S3 records")
        return
    for record in records:
        if isinstance(record, Mapping):
            yield record
        else:
            logger.warning("skipped an S3 record that is not an object")


def changes(event: Any, bucket: str) -> list[Change]:
    """The distribution (and yank marker) changes in ``bucket`` that ``event`` reports."""
    found: list[Change] = []
    for record in _s3_records(event):
        change = _change(record, bucket)
        if change is not None:
            found.append(change)
    return found


def _change(record: Mapping[str, Any], bucket: str) -> Change | None:
    s3 = record.get("s3")
    name = event_name = key = None
    object_info: Mapping[str, Any] = {}
    if isinstance(s3, Mapping):
        bucket_info, found = s3.get("bucket"), s3.get("object")
        object_info = found if isinstance(found, Mapping) else {}
        name = bucket_info.get("name") if isinstance(bucket_info, Mapping) else None
        raw_key = object_info.get("key")
        key = unquote_plus(raw_key) if isinstance(raw_key, str) else None
        event_name = record.get("eventName")
    if not isinstance(name, str) or key is None:
        logger.warning("skipped an S3 record without bucket or key")
        return None
    if name != bucket:
        logger.warning("skipped %s: it is in bucket %s, not %s", key, name, bucket)
        return None
    place = split_key(key)
    if place is None or not key.endswith(NOTIFY_SUFFIXES):
        logger.warning("skipped %s: not a distribution in a project folder", key)
        return None
    folder, _ = place
    if not is_valid_name(folder):
        logger.warning("skipped %s: %r is not a project name", key, folder)
        return None
    etag, size = _created(object_info)
    return Change(normalize(folder), folder, key, str(event_name or ""), etag, size)


_ETAG = re.compile(r"[0-9a-f]{32}(?:-[0-9]{1,5})?", re.ASCII)


def _created(object_info: Mapping[str, Any]) -> tuple[str | None, int | None]:
    """The ETag (quoted) and size an S3 record gives its object, when well formed.

    S3 puts them in ``s3.object.eTag`` and ``s3.object.size`` of ObjectCreated
    records (the eTag without quotes); removals have neither."""
    etag, size = object_info.get("eTag"), object_info.get("size")
    if not isinstance(etag, str) or not _ETAG.fullmatch(etag.strip('"')):
        return None, None
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return None, None
    return f'"{etag.strip(chr(34))}"', size
