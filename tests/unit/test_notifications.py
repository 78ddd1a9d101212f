"""S3 notifications as SNS delivers them (fixtures under tests/events/)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from serverless_pypi.notifications import changes
from tests.conftest import BUCKET, EVENTS, s3_event


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def test_a_put_notification() -> None:
    [change] = changes(load("sns-s3-put.json"), BUCKET)
    assert (change.project, change.folder, change.event) == (
        "my-pkg",
        "my-pkg",
        "ObjectCreated:Put",
    )
    assert change.key == "my-pkg/my_pkg-1.0-py3-none-any.whl"


def test_a_delete_notification() -> None:
    [change] = changes(load("sns-s3-delete.json"), BUCKET)
    assert change.event == "ObjectRemoved:Delete"
    assert change.project == "my-pkg"


def test_several_records_with_encoded_keys(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        found = changes(load("sns-s3-multi.json"), BUCKET)
    assert [(c.project, c.folder, c.key) for c in found] == [
        ("other-pkg", "Other.Pkg", "Other.Pkg/other_pkg-2.0+local.1-py3-none-any.whl"),
        ("other-pkg", "other_pkg", "other_pkg/other pkg-1.0.tar.gz"),
        ("my-pkg", "my-pkg", "my-pkg/my_pkg-1.0-py3-none-any.whl.yanked"),
    ]


def test_moto_encodes_slashes_and_that_is_decoded() -> None:
    [change] = changes(load("moto-sns-s3-put.json"), "test-pypi-bucket")
    assert change.key == "My.Pkg/my_pkg-1.0+local-py3-none-any.whl"
    assert change.project == "my-pkg"


def test_the_s3_test_event_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert changes(load("sns-s3-test-event.json"), BUCKET) == []
    assert "test event" in caplog.text


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("index.html", "not a distribution in a project folder"),
        ("my_pkg-1.0.tar.gz", "not a distribution in a project folder"),
        (".serverless-pypi/projects/x.whl", "not a distribution in a project folder"),
        ("a/b/c-1.0.tar.gz", "not a distribution in a project folder"),
        ("my-pkg/notes.txt", "not a distribution in a project folder"),
        ("-bad-/bad-1.0.tar.gz", "is not a project name"),
    ],
)
def test_keys_outside_project_folders_are_skipped(
    caplog: pytest.LogCaptureFixture, key: str, reason: str
) -> None:
    event = s3_event(("ObjectCreated:Put", key), ("ObjectCreated:Put", "ok/ok-1.0.tar.gz"))
    with caplog.at_level(logging.WARNING):
        found = changes(event, BUCKET)
    assert [change.project for change in found] == ["ok"]
    assert reason in caplog.text


def test_records_for_another_bucket_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert (
            changes(s3_event(("ObjectCreated:Put", "a/a-1.0.tar.gz"), bucket="other"), BUCKET) == []
        )
    assert "not test-pypi-bucket" in caplog.text


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "text",
        {},
        {"Records": "nope"},
        {"Records": [None, 1, "x"]},
        {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "not json"}}]},
        {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "[1, 2]"}}]},
        {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]},
        {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": '{"Records": [1, {}]}'}}]},
        {"Records": [{"EventSource": "aws:sqs", "body": "{}"}]},
        {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "Sns": {
                        "Message": '{"Records": [{"s3": {"bucket": {}, "object": {"key": 5}}}]}'
                    },
                }
            ]
        },
    ],
)
def test_broken_events_yield_nothing(event: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert changes(event, BUCKET) == []
    assert "skipped" in caplog.text


def test_direct_s3_notifications_work_too() -> None:
    message = json.loads(load("sns-s3-put.json")["Records"][0]["Sns"]["Message"])
    [change] = changes(message, BUCKET)
    assert change.project == "my-pkg"
