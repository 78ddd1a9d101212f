"""The index's events on an EventBridge bus (moto): a rule to an SQS queue receives
exactly one documented event per change, whoever made it (the reindexer, or the
claim and release commands); PutEvents' failed entries are sent again."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import boto3
import pytest

from serverless_pypi import changeevents, cli
from serverless_pypi.catalog import CATALOG
from serverless_pypi.changeevents import IndexChange
from serverless_pypi.config import ReindexSettings
from serverless_pypi.eventbus import BUS_TAG, EventBus, bus_region, tagged_bus
from serverless_pypi.layout import manifest_key, metadata_key
from serverless_pypi.reindex import Reindexer
from serverless_pypi.retry import Backoff
from serverless_pypi.storage import Storage
from tests.builders import wheel_bytes
from tests.conftest import BUCKET, s3_event
from tests.moto_bucket import Requests, created, indexed_project, put

BUS = "index-events"


def watched_bus(s3: Any) -> tuple[str, Any, str]:
    """The bus (its ARN), named by the bucket's tags as the module names it, and a
    rule that copies the index's events to a queue: (ARN, SQS client, queue URL)."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    arn = events.create_event_bus(Name=BUS)["EventBusArn"]
    tags = s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"] + [{"Key": BUS_TAG, "Value": arn}]
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": tags})
    queue = sqs.create_queue(QueueName="index-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    events.put_rule(
        Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": ["serverless-pypi"]})
    )
    events.put_targets(
        Rule="all",
        EventBusName=BUS,
        Targets=[{"Id": "q", "Arn": queue_arn["Attributes"]["QueueArn"]}],
    )
    return arn, sqs, queue


def received(sqs: Any, queue: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


def command(*args: str) -> None:
    assert cli.main([*args, "--bucket", BUCKET]) == 0


def test_each_change_is_one_documented_event_on_the_bus(s3: Any, storage: Storage) -> None:
    arn, sqs, queue = watched_bus(s3)
    reindexer = Reindexer(
        ReindexSettings(BUCKET, arn), storage, EventBus(boto3.client("events"), arn, BUCKET)
    )
    name, data = wheel_bytes("my-pkg", "1.0")
    key, marker = f"my-pkg/{name}", f"my-pkg/{name}.yanked"

    def twice(event: dict[str, Any]) -> None:  # S3 may deliver a notification twice
        reindexer(event)
        reindexer(event)

    command("claim", "My.Pkg")
    put(s3, key, data)
    twice(created(s3, key))
    command("yank", "my-pkg==1.0", "--reason", "broken build")
    twice(s3_event(("ObjectCreated:Put", marker)))
    command("unyank", key)
    twice(s3_event(("ObjectRemoved:Delete", marker)))
    command("archive", "my-pkg", "--reason", "see my-pkg2")
    command("archive", "my-pkg", "--reason", "see my-pkg2")  # no change: no event
    command("activate", "my-pkg")
    command("remove", key, "--yes", "--permanent")
    twice(s3_event(("ObjectRemoved:Delete", key)))
    command("release", "my-pkg")

    events = received(sqs, queue)
    assert [event["detail-type"] for event in events] == [
        "Project Name Claimed",
        "Distribution Published",
        "Distribution Yanked",
        "Distribution Unyanked",
        "Project Status Changed",
        "Project Status Changed",
        "Distribution Removed",
        "Project Name Released",
    ]
    assert {event["source"] for event in events} == {"serverless-pypi"}
    details = [event["detail"] for event in events]
    for event, found in zip(events, details, strict=True):
        kind = next(k for k, v in changeevents.DETAIL_TYPES.items() if v == event["detail-type"])
        assert sorted(found) == sorted([*changeevents.COMMON, *changeevents.FIELDS[kind]])
        assert found["bucket"] == BUCKET and found["project"] == "my-pkg"
    published = details[1]
    assert published["filename"] == name and published["key"] == key
    assert published["version"] == "1.0" and published["size"] == len(data)
    assert published["sha256"] == hashlib.sha256(data).hexdigest()
    assert published["upload-time"].endswith("Z")
    assert details[2]["reason"] == "broken build"
    assert (details[4]["status"], details[4]["reason"]) == ("archived", "see my-pkg2")
    assert (details[5]["status"], details[5]["reason"]) == ("active", "")
    assert len({found["change-id"] for found in details}) == len(details)


def test_an_event_still_adds_its_file_with_six_s3_requests(s3: Any, storage: Storage) -> None:
    arn, sqs, queue = watched_bus(s3)
    indexed_project(s3, storage, "1.0")
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{name}", data)
    requests = Requests(storage)
    bus = EventBus(boto3.client("events"), arn, BUCKET)
    Reindexer(ReindexSettings(BUCKET, arn), storage, bus)(created(s3, f"my-pkg/{name}"))
    assert requests.take() == [
        f"GET {manifest_key('my-pkg')}",
        f"GET my-pkg/{name}",
        f"PUT {metadata_key('my-pkg', name)}",
        f"PUT {manifest_key('my-pkg')}",
        f"GET {CATALOG}",  # the list of projects for people
        f"PUT {CATALOG}",
    ]
    events = received(sqs, queue)
    assert [(event["detail-type"], event["detail"]["filename"]) for event in events] == [
        ("Distribution Published", name)
    ]


def test_the_claim_command_sends_nothing_without_the_buckets_tag(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    command("claim", "my-pkg")
    assert "event sent" not in capsys.readouterr().out
    assert tagged_bus(s3, BUCKET) is None


def test_without_a_bus_the_reindexer_sends_nothing(s3: Any, storage: Storage) -> None:
    _, sqs, queue = watched_bus(s3)
    name, data = wheel_bytes("my-pkg", "1.0")
    put(s3, f"my-pkg/{name}", data)
    Reindexer(ReindexSettings(BUCKET), storage)(created(s3, f"my-pkg/{name}"))
    assert received(sqs, queue) == []


class FlakyEvents:
    """PutEvents that fails the first entry of each call ``failures`` times."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[list[str]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append([json.loads(item["Detail"])["filename"] for item in Entries])
        answers: list[dict[str, Any]] = [{"EventId": "x"} for _ in Entries]
        if self.failures:
            self.failures -= 1
            answers[0] = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
        return {"FailedEntryCount": 1 if answers[0].get("ErrorCode") else 0, "Entries": answers}


def removals(count: int) -> list[IndexChange]:
    return [
        IndexChange("removed", "p", filename=f"p-{n}.tar.gz", key=f"p/p-{n}.tar.gz", etag='"e"')
        for n in range(count)
    ]


NO_WAIT = Backoff(attempts=3, base=0, cap=0, budget=0)


def test_failed_entries_are_sent_again_and_calls_hold_ten() -> None:
    client = FlakyEvents(failures=1)
    assert EventBus(client, BUS, BUCKET, NO_WAIT).emit(removals(12)) == []
    assert [len(call) for call in client.calls] == [10, 1, 2]
    assert client.calls[1] == ["p-0.tar.gz"]


def test_what_still_fails_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    client = FlakyEvents(failures=99)
    with caplog.at_level(logging.ERROR):
        failed = EventBus(client, BUS, BUCKET, NO_WAIT).emit(removals(1))
    assert [json.loads(item["Detail"])["filename"] for item in failed] == ["p-0.tar.gz"]
    assert len(client.calls) == 3
    assert "event not put on index-events: Distribution Removed" in caplog.text


def test_a_bus_arn_is_called_in_its_region_a_name_in_the_callers() -> None:
    assert bus_region("arn:aws:events:eu-west-1:123456789012:event-bus/x") == "eu-west-1"
    assert bus_region("default") is None
    assert bus_region("index-events") is None
