"""Sending the index's changes to an EventBridge bus (``changeevents.py`` builds
the entries): PutEvents in calls of at most 10 entries and 256 KB, the entries
EventBridge failed retried with the project's retry policy, and what still
fails logged at ERROR (the reindex-errors alarm counts those lines).

A failure to send never fails the caller: the change is in the index already,
and a retried reindex would derive no change from a manifest it already wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import changeevents, retry
from .changeevents import IndexChange
from .logs import get_logger
from .objects import AwsError

logger = get_logger(__name__)

SENDING = retry.Backoff(attempts=4, base=0.1, cap=1.0, budget=3.0)
# The bucket's tag that names the bus (its ARN) when the module sends events: the
# command line's claim and release read it (one GetBucketTagging).
BUS_TAG = "serverless-pypi:event-bus"


def bus_region(bus: str) -> str | None:
    """The region of a bus ARN (``arn:aws:events:<region>:<account>:event-bus/<name>``);
    None for a name (the caller's region)."""
    parts = bus.split(":")
    if not bus.startswith("arn:") or len(parts) < 6:
        return None
    return parts[3] or None


def make_client(bus: str) -> Any:
    """A boto3 EventBridge client for ``bus``, in its ARN's region when it has one
    (botocore's standard retries, short timeouts: the reindexer's time is counted)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10
    )
    return boto3.client("events", region_name=bus_region(bus), config=config)


def tagged_bus(s3: Any, bucket: str) -> str | None:
    """The bus that ``bucket``'s tags name (BUS_TAG); None when they name none.
    AwsError when the tags cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        tag_set = s3.get_bucket_tagging(Bucket=bucket).get("TagSet", [])
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code == "NoSuchTagSet":
            return None
        raise AwsError(f"the tags of bucket {bucket} cannot be read ({code})") from None
    except BotoCoreError as error:
        raise AwsError(f"the tags of bucket {bucket} cannot be read ({error})") from None
    found = {str(tag["Key"]): str(tag["Value"]) for tag in tag_set}
    return found.get(BUS_TAG) or None


@dataclass(frozen=True, slots=True)
class EventBus:
    """One bucket's changes, put on one bus (a name or an ARN) with ``client``."""

    client: Any
    bus: str
    bucket: str
    backoff: retry.Backoff = field(default=SENDING)

    def emit(self, changes: Iterable[IndexChange]) -> list[dict[str, Any]]:
        """Put an event for each change; the entries that could not be put (logged)."""
        items = changeevents.entries(changes, self.bucket, self.bus)
        failed: list[dict[str, Any]] = []
        for batch in changeevents.batches(items):
            failed += self.send(batch)
        return failed

    def send(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One PutEvents call's entries, those EventBridge failed sent again; the
        entries that still failed after every attempt, each logged."""
        pending, errors = list(batch), [""] * len(batch)
        for _ in retry.attempts(self.backoff):
            try:
                answer = self.client.put_events(Entries=pending)
            except Exception as failure:  # noqa: BLE001 - botocore's errors, logged below
                errors = [f"{type(failure).__name__}: {failure}"] * len(pending)
                continue
            if not answer.get("FailedEntryCount"):
                return []
            results = answer.get("Entries", [])
            retried = [
                (item, f"{result.get('ErrorCode')}: {result.get('ErrorMessage')}")
                for item, result in zip(pending, results, strict=False)
                if result.get("ErrorCode")
            ]
            pending, errors = [item for item, _ in retried], [text for _, text in retried]
            if not pending:
                return []
        for item, text in zip(pending, errors, strict=True):
            logger.error(
                "event not put on %s: %s %s (%s)",
                self.bus,
                item["DetailType"],
                item["Detail"],
                text,
            )
        return pending
