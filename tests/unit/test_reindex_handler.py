"""The reindex handler, fed SNS-wrapped S3 notifications."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError

from serverless_pypi import manifest, notifications, reindex
from serverless_pypi.layout import ROOT_HTML, ROOT_JSON, manifest_key
from serverless_pypi.manifest import decode
from serverless_pypi.storage import Storage
from tests.builders import sdist_bytes, wheel_bytes
from tests.conftest import BUCKET, EVENTS, s3_event
from tests.moto_bucket import Requests, created, reindexer


def put(s3: Any, key: str, data: bytes) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)


def indexed(s3: Any, project: str) -> list[str]:
    body = s3.get_object(Bucket=BUCKET, Key=manifest_key(project))["Body"].read()
    return [entry["filename"] for entry in _decoded(body)["files"]]


def root(s3: Any) -> list[str]:
    body = s3.get_object(Bucket=BUCKET, Key=ROOT_JSON)["Body"].read()
    return [item["name"] for item in json.loads(body)["projects"]]


def test_the_fixture_event_indexes_the_project(s3: Any) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    put(s3, f"my-pkg/{name}", data)
    event = json.loads((EVENTS / "sns-s3-put.json").read_text())
    event["Records"][0]["Sns"]["Message"] = event["Records"][0]["Sns"]["Message"].replace(
        "test-pypi-bucket", BUCKET
    )
    result = reindex.handler(event, None)
    assert result == {"projects": ["my-pkg"], "changed": ["my-pkg"], "files": 1}
    assert indexed(s3, "my-pkg") == [name]
    assert root(s3) == ["my-pkg"]


def test_several_records_several_projects(s3: Any) -> None:
    keys = []
    for project, version in [("alpha", "1.0"), ("alpha", "2.0"), ("beta", "1.0")]:
        name, data = sdist_bytes(project, version)
        keys.append(f"{project}/{name}")
        put(s3, keys[-1], data)
    result = reindex.handler(s3_event(*[("ObjectCreated:Put", key) for key in keys]), None)
    assert result["projects"] == ["alpha", "beta"]
    assert indexed(s3, "alpha") == ["alpha-1.0.tar.gz", "alpha-2.0.tar.gz"]
    assert root(s3) == ["alpha", "beta"]


def test_events_only_say_where_to_look(s3: Any) -> None:
    """A lost event heals on the next one that lists the project (here the first:
    there is no manifest yet); a repeated one changes nothing."""
    first, data1 = wheel_bytes("my-pkg", "1.0")
    second, data2 = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{first}", data1)
    put(s3, f"my-pkg/{second}", data2)  # its event is lost
    reindex.handler(s3_event(("ObjectCreated:Put", f"my-pkg/{first}")), None)
    assert indexed(s3, "my-pkg") == [first, second]
    again = reindex.handler(s3_event(("ObjectCreated:Put", f"my-pkg/{first}")), None)
    assert again["changed"] == []


def test_removal_events(s3: Any) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    put(s3, f"my-pkg/{name}", data)
    reindex.handler(s3_event(("ObjectCreated:Put", f"my-pkg/{name}")), None)
    s3.delete_object(Bucket=BUCKET, Key=f"my-pkg/{name}")
    reindex.handler(s3_event(("ObjectRemoved:Delete", f"my-pkg/{name}")), None)
    assert indexed(s3, "my-pkg") == []
    assert root(s3) == []


def test_the_test_event_does_nothing(s3: Any) -> None:
    event = json.loads((EVENTS / "sns-s3-test-event.json").read_text())
    assert reindex.handler(event, None) == {"projects": [], "changed": [], "files": 0}
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_an_object_deleted_before_the_event_is_handled(s3: Any) -> None:
    event = s3_event(("ObjectCreated:Put", "my-pkg/my_pkg-1.0-py3-none-any.whl"))
    assert reindex.handler(event, None)["files"] == 0
    with pytest.raises(ClientError):
        s3.head_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))


def test_a_failing_project_fails_the_invocation_after_the_rest_is_indexed(
    s3: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for project in ("good", "bad"):
        name, data = wheel_bytes(project, "1.0")
        put(s3, f"{project}/{name}", data)
    real_list = Storage.list

    def failing_list(self: Storage, prefix: str, start_after: str | None = None) -> Any:
        if prefix.startswith("bad/"):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListObjectsV2")
        return real_list(self, prefix, start_after)

    monkeypatch.setattr(Storage, "list", failing_list)
    event = s3_event(
        ("ObjectCreated:Put", "bad/bad-1.0-py3-none-any.whl"),
        ("ObjectCreated:Put", "good/good-1.0-py3-none-any.whl"),
    )
    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError, match="could not reindex bad"):
        reindex.handler(event, None)
    assert indexed(s3, "good") == ["good-1.0-py3-none-any.whl"]
    assert root(s3) == ["good"]
    assert "could not reindex bad" in caplog.text


def test_created_records_carry_the_etag_and_size_of_their_object() -> None:
    [change] = notifications.changes(json.loads((EVENTS / "sns-s3-put.json").read_text()), BUCKET)
    assert (change.etag, change.size, change.removal) == (
        '"d41d8cd98f00b204e9800998ecf8427e"',
        1024,
        False,
    )
    moto = json.loads((EVENTS / "moto-sns-s3-put.json").read_text())
    [change] = notifications.changes(moto, "test-pypi-bucket")
    assert (change.etag, change.size) == ('"9dd4e461268c8034f5c8564e155c67a6"', 1)
    [removal] = notifications.changes(
        json.loads((EVENTS / "sns-s3-delete.json").read_text()), BUCKET
    )
    assert (removal.etag, removal.size, removal.removal) == (None, None, True)


@pytest.mark.parametrize(
    ("etag", "size"),
    [("", 5), ("xyz", 5), ("0" * 31, 5), ("0" * 32, -1), ("0" * 32, True), ("0" * 32, "5"), (7, 5)],
)
def test_a_record_with_an_odd_etag_or_size_names_its_key_only(etag: Any, size: Any) -> None:
    event = s3_event(("ObjectCreated:Put", "my-pkg/my_pkg-1.0-py3-none-any.whl"))
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["Records"][0]["s3"]["object"].update(eTag=etag, size=size)
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    [change] = notifications.changes(event, BUCKET)
    assert (change.key, change.etag, change.size) == (
        "my-pkg/my_pkg-1.0-py3-none-any.whl",
        None,
        None,
    )


def test_an_added_file_leaves_the_root_index_alone(s3: Any, storage: Storage) -> None:
    """The project is listed already: the root index is neither read nor written."""
    first, data = wheel_bytes("my-pkg", "1.0")
    put(s3, f"my-pkg/{first}", data)
    reindexer(storage)(created(s3, f"my-pkg/{first}"))  # a new project: the root changes
    assert root(s3) == ["my-pkg"]
    second, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{second}", data)
    requests = Requests(storage)
    assert reindexer(storage)(created(s3, f"my-pkg/{second}"))["files"] == 2
    sent = requests.take()
    assert not [request for request in sent if ROOT_JSON in request or ROOT_HTML in request]
    assert indexed(s3, "my-pkg") == [first, second]


def _decoded(body: bytes) -> manifest.Manifest:
    found = decode(body)
    assert found is not None, body[:200]
    return found
